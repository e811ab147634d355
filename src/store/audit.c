/*
 * audit.c - the audit log (audit.h).  Writing: one O_APPEND write per line,
 * so concurrent workers never split or interleave lines; rotation by
 * renames under a lock held only while it runs.  Reading: blocks from the
 * end of the newest file backwards, so a page of N lines reads about N
 * lines.  Flood control: a token bucket per identity in the shared mapping
 * (metrics.c), through which only refusals can be held back.
 */
#include "berth.h"
#include "store/audit.h"
#include "lib/cfg.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "edge/req.h"
#include "store/state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define AU_LOG      "audit.log"
#define AU_STR_MAX  256 /* bytes of one string in a line */
#define AU_LIST_MAX 64  /* items of one list in a line */
#define AU_DEPTH    4   /* nesting kept in a line */
#define AU_BLOCK    16384
#define AU_LINE_MAX (1 << 20) /* a longer line (none berth writes) is skipped */
#define AU_SLACK    2         /* s: lines are in time order but for workers' same-second races */
#define AU_MAXFILES 101       /* audit.log and at most 100 rotated files */
#define AU_HOLD_AGE 60        /* s: a flood gets a summary line at least this often */
#define AU_QUIET    2         /* s: a flood that paused this long gets its summary */

static unsigned long long bytes_read;

/* Every audit file is opened here: st_open, relative to the state directory, no link. */
static int
au_open(const char *rel, int flags)
{
	return st_open(rel, flags, 0640);
}

/*
 * Renames FROM to TO in the state directory; a missing FROM is not an error.
 * rename(2) never follows a link in either name, and st_init made sure no
 * one else can write in the directory.
 */
static void
au_rename(const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	snprintf(a, sizeof(a), "%s/%s", st_dir(), from);
	snprintf(b, sizeof(b), "%s/%s", st_dir(), to);
	if (rename(a, b) != 0 && errno != ENOENT)
		log_error("audit_rotate from=%s error=\"%s\"", from, strerror(errno));
}

/* audit.log for I = 0, else its I-th rotated file. */
static void
file_name(int i, char *buf, size_t n)
{
	if (i == 0)
		snprintf(buf, n, AU_LOG);
	else
		snprintf(buf, n, AU_LOG ".%d", i);
}

/* ---- writing ----------------------------------------------------------- */

/* S cut to AU_STR_MAX bytes on a character boundary, marked with an ellipsis. */
static json_object *
cut_string(const char *s)
{
	size_t n = AU_STR_MAX;
	char buf[AU_STR_MAX + 4];

	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(buf, s, n);
	memcpy(buf + n, "\xe2\x80\xa6", 3);
	return json_object_new_string_len(buf, (int)(n + 3));
}

/* A replacement for V when V could make a line long, else NULL (V is shortened in place). */
static json_object *
shorten(json_object *v, int depth)
{
	size_t n;

	switch (json_object_get_type(v)) {
	case json_type_string:
		if (json_object_get_string_len(v) <= AU_STR_MAX)
			return NULL;
		return cut_string(json_object_get_string(v));
	case json_type_array:
		if (depth >= AU_DEPTH)
			return json_object_new_string("(nested too deep)");
		n = json_object_array_length(v);
		if (n > AU_LIST_MAX) {
			char more[48];
			json_object_array_del_idx(v, AU_LIST_MAX, n - AU_LIST_MAX);
			snprintf(more, sizeof(more), "(+%zu more)", n - AU_LIST_MAX);
			json_object_array_add(v, json_object_new_string(more));
		}
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *r = shorten(json_object_array_get_idx(v, i), depth + 1);
			if (r)
				json_object_array_put_idx(v, i, r);
		}
		return NULL;
	case json_type_object:
		if (depth >= AU_DEPTH)
			return json_object_new_string("(nested too deep)");
		json_object_object_foreach(v, key, val)
		{
			json_object *r = shorten(val, depth + 1);
			if (r)
				json_object_object_add(v, key, r); /* replaces val in place */
		}
		return NULL;
	default:
		return NULL;
	}
}

/* 1 when ADD more bytes would take the file at FD past audit.max_size. */
static int
over(int fd, size_t add)
{
	struct stat sb;

	return g_cfg->audit.max_size > 0 && fstat(fd, &sb) == 0 && sb.st_size > 0 &&
	       (int64_t)sb.st_size + (int64_t)add > g_cfg->audit.max_size;
}

/* 1 when the file at FD is gone from the directory (rotated out of keep). */
static int
dropped(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 && sb.st_nlink == 0;
}

/*
 * Shifts audit.log.N to .N+1 (the one at keep is dropped), audit.log to .1,
 * and points *FD at a new audit.log.  Under the lock, a worker that finds
 * the log already replaced (another one rotated while it waited) only
 * switches to the new file: two workers never both rotate.
 */
static void
rotate(int *fd)
{
	int lk = st_lock("audit"), cur;
	struct stat a, b;
	char from[32], to[32];

	if (lk < 0)
		return;
	cur = au_open(AU_LOG, O_WRONLY | O_CREAT | O_APPEND);
	if (cur < 0)
		goto out;
	if (fstat(*fd, &a) != 0 || fstat(cur, &b) != 0 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev) {
		close(*fd);
		*fd = cur;
		goto out;
	}
	for (int i = g_cfg->audit.keep - 1; i >= 1; i--) {
		file_name(i, from, sizeof(from));
		file_name(i + 1, to, sizeof(to));
		au_rename(from, to);
	}
	au_rename(AU_LOG, AU_LOG ".1");
	close(cur);
	close(*fd);
	*fd = au_open(AU_LOG, O_WRONLY | O_CREAT | O_APPEND);
out:
	st_unlock(lk);
}

void
au_write(json_object *line)
{
	const char *text;
	size_t len;
	char *buf;
	int fd;

	shorten(line, 0);
	text = jx_text(line);
	len = strlen(text);
	buf = malloc(len + 1);
	if (buf == NULL)
		return;
	memcpy(buf, text, len);
	buf[len] = '\n';
	fd = au_open(AU_LOG, O_WRONLY | O_CREAT | O_APPEND);
	if (fd >= 0 && over(fd, len + 1))
		rotate(&fd);
	for (int tries = 0; fd >= 0 && tries < 3; tries++) {
		/* One write per line: O_APPEND keeps concurrent workers' lines whole. */
		if (write(fd, buf, len + 1) != (ssize_t)(len + 1)) {
			log_error("audit_write error=\"%s\"", strerror(errno));
			break;
		}
		if (!dropped(fd))
			break;
		/* Rotations dropped the file between open and write: write to the current one. */
		close(fd);
		fd = au_open(AU_LOG, O_WRONLY | O_CREAT | O_APPEND);
	}
	if (fd < 0)
		log_error("audit_open error=\"%s\"", strerror(errno));
	else
		close(fd);
	free(buf);
}

/* ---- flood control ----------------------------------------------------- */

/*
 * The bucket key of a caller: "u:<user>", or for anonymous callers
 * "a:<address>", IPv6 by its /64, since one host holds a whole /64 and a
 * bucket per address would be a bucket per request.
 */
static void
identity(const char *user, const char *addr, char *key, size_t n)
{
	struct in6_addr a6;
	char buf[INET6_ADDRSTRLEN];

	if (user) {
		snprintf(key, n, "u:%s", user);
		return;
	}
	if (addr && inet_pton(AF_INET6, addr, &a6) == 1 && !IN6_IS_ADDR_V4MAPPED(&a6)) {
		memset(a6.s6_addr + 8, 0, 8);
		if (inet_ntop(AF_INET6, &a6, buf, sizeof(buf))) {
			snprintf(key, n, "a:%s/64", buf);
			return;
		}
	}
	snprintf(key, n, "a:%s", addr && *addr ? addr : "-");
}

static void
utc(long long t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The line that stands for N refusals of H's identity that were not written. */
static void
write_summary(const struct mt_held *h, unsigned long n, long long now)
{
	json_object *a = json_object_new_object();
	const char *who = h->name + 2;
	char t1[32], t2[32], msg[300];

	utc(h->first, t1, sizeof(t1));
	utc(h->last, t2, sizeof(t2));
	jx_add_int(a, "time", now);
	if (strncmp(h->name, "u:", 2) == 0) {
		jx_add_str(a, "user", who);
		snprintf(msg, sizeof(msg), "user %s", who);
	} else {
		jx_add_str(a, "user", NULL);
		if (strncmp(h->name, "a:", 2) == 0) {
			jx_add_str(a, "address", who);
			snprintf(msg, sizeof(msg), "anonymous callers from %s", who);
		} else {
			snprintf(msg, sizeof(msg), "other callers");
		}
	}
	snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
	         ": %lu refused requests suppressed between %s and %s", n, t1, t2);
	jx_add_str(a, "action", "audit suppressed");
	jx_add_str(a, "result", "suppressed");
	jx_add_int(a, "suppressed", (int64_t)n);
	jx_add_int(a, "from", h->first);
	jx_add_int(a, "to", h->last);
	jx_add_str(a, "message", msg);
	au_write(a);
	json_object_put(a);
}

static void
summarise(struct mt_bucket *b, long long now, int all)
{
	struct mt_held h;
	unsigned long n = mt_bucket_due(b, now, all ? 0 : AU_HOLD_AGE, all ? 0 : AU_QUIET, &h);

	if (n > 0)
		write_summary(&h, n, now);
}

void
au_submit(json_object *line, const char *user, const char *addr, int refused)
{
	char key[512];
	struct mt_bucket *b = NULL;
	long long now = (long long)time(NULL);

	if (g_cfg->audit.rate > 0) {
		identity(user, addr, key, sizeof(key));
		b = mt_bucket_get(key);
	}
	if (b == NULL) {
		au_write(line);
		return;
	}
	summarise(b, now, 0); /* what was held back goes out before what follows it */
	if (mt_bucket_take(b, (unsigned)g_cfg->audit.rate, (unsigned)g_cfg->audit.burst, !refused))
		au_write(line);
	else
		mt_bucket_hold(b, now);
}

static void
flush_one(struct mt_bucket *b, void *arg)
{
	summarise(b, (long long)time(NULL), *(int *)arg);
}

void
au_flush(int all)
{
	mt_bucket_each(flush_one, &all);
}

int
au_sweep(void)
{
	au_flush(0);
	return 0;
}

/* ---- reading ----------------------------------------------------------- */

struct logset {
	int fd[AU_MAXFILES];
	unsigned long long ino[AU_MAXFILES];
	long long size[AU_MAXFILES];
	int n;
};

/*
 * Opens audit.log and the rotated files, newest first.  A rotation while
 * this runs moves files to higher numbers as this walks up them, so a file
 * may be met twice (skipped by inode) but none is missed.
 */
static void
open_set(struct logset *ls)
{
	char name[32];

	ls->n = 0;
	for (int i = 0; i <= g_cfg->audit.keep && ls->n < AU_MAXFILES; i++) {
		struct stat sb;
		int fd, seen = 0;

		file_name(i, name, sizeof(name));
		fd = au_open(name, O_RDONLY);
		if (fd < 0)
			continue;
		if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
			for (int k = 0; k < ls->n; k++)
				seen |= ls->ino[k] == (unsigned long long)sb.st_ino;
		if (seen || !S_ISREG(sb.st_mode)) {
			close(fd);
			continue;
		}
		ls->fd[ls->n] = fd;
		ls->ino[ls->n] = (unsigned long long)sb.st_ino;
		ls->size[ls->n] = (long long)sb.st_size;
		ls->n++;
	}
}

struct scan {
	json_object *out; /* newest first */
	long long since;
	int limit;
	int more;               /* stopped at LIMIT: older lines may follow */
	unsigned long long ino; /* where the oldest line taken starts, for the cursor */
	long long off;
	char *line; /* the line being put together from its end */
	size_t len, cap;
	int skip; /* it is longer than AU_LINE_MAX */
};

/* One line (LEN bytes at P, from file offset OFF): 1 when the scan is over. */
static int
take(struct scan *s, const char *p, size_t len, unsigned long long ino, long long off)
{
	char err[64];
	json_object *o = len ? jx_parse(p, len, err, sizeof(err)) : NULL;
	long long t;

	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return 0;
	}
	t = jx_int(o, "time", 0);
	if (t < s->since) {
		json_object_put(o);
		return t < s->since - AU_SLACK;
	}
	json_object_array_add(s->out, o);
	if ((int)json_object_array_length(s->out) < s->limit)
		return 0;
	s->more = 1;
	s->ino = ino;
	s->off = off;
	return 1;
}

/* Puts N bytes at P in front of the line being put together. */
static void
prepend(struct scan *s, const char *p, size_t n)
{
	if (s->skip || n == 0)
		return;
	if (s->len + n > AU_LINE_MAX) {
		s->skip = 1;
		s->len = 0;
		return;
	}
	if (s->len + n > s->cap) {
		size_t cap = s->cap * 2 > s->len + n ? s->cap * 2 : s->len + n;
		char *nb = realloc(s->line, cap);
		if (nb == NULL) {
			s->skip = 1;
			s->len = 0;
			return;
		}
		s->line = nb;
		s->cap = cap;
	}
	memmove(s->line + n, s->line, s->len);
	memcpy(s->line, p, n);
	s->len += n;
}

/* The line that starts at OFF with the N bytes at P: 1 when the scan is over. */
static int
line_start(struct scan *s, const char *p, size_t n, unsigned long long ino, long long off)
{
	int stop = 0;

	if (s->len == 0 && !s->skip) {
		stop = take(s, p, n, ino, off);
	} else {
		prepend(s, p, n);
		if (!s->skip)
			stop = take(s, s->line, s->len, ino, off);
	}
	s->len = 0;
	s->skip = 0;
	return stop;
}

/* Reads N bytes at OFF; 0 or -1. */
static int
read_at(int fd, char *buf, size_t n, long long off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(fd, buf + got, n - got, (off_t)(off + (long long)got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	bytes_read += n;
	return 0;
}

/* Scans FD backwards from END, line by line: 1 when the scan is over. */
static int
scan_file(struct scan *s, int fd, unsigned long long ino, long long end)
{
	char *blk = malloc(AU_BLOCK);
	long long pos = end;
	int stop = 0;

	s->len = 0;
	s->skip = 0;
	while (blk && !stop && pos > 0) {
		size_t n = pos > AU_BLOCK ? AU_BLOCK : (size_t)pos, hi = n;
		pos -= (long long)n;
		if (read_at(fd, blk, n, pos) != 0)
			break;
		for (size_t i = n; !stop && i-- > 0;) {
			if (blk[i] != '\n')
				continue;
			stop = line_start(s, blk + i + 1, hi - i - 1, ino, pos + (long long)i + 1);
			hi = i;
		}
		if (!stop)
			prepend(s, blk, hi);
	}
	if (blk && !stop && pos == 0)
		stop = line_start(s, "", 0, ino, 0); /* the file's first line */
	free(blk);
	return stop;
}

/* "<inode>-<offset>" in hex, both parts 1..16 digits; 0, or -1 when malformed. */
static int
parse_cursor(const char *c, unsigned long long *ino, long long *off)
{
	const char *dash = strchr(c, '-');
	unsigned long long v[2] = {0, 0};
	const char *part[2] = {c, dash ? dash + 1 : NULL};

	if (dash == NULL)
		return -1;
	for (int k = 0; k < 2; k++) {
		const char *p = part[k], *stop = k == 0 ? dash : p + strlen(p);
		if (stop - p < 1 || stop - p > 16)
			return -1;
		for (; p < stop; p++) {
			const char *hex = "0123456789abcdef", *d = strchr(hex, *p);
			if (*p == '\0' || d == NULL)
				return -1;
			v[k] = v[k] << 4 | (unsigned long long)(d - hex);
		}
	}
	if (v[1] > (unsigned long long)1 << 62)
		return -1;
	*ino = v[0];
	*off = (long long)v[1];
	return 0;
}

/* Where the scan starts: the file of cursor BEFORE (NULL: the newest) and its end. */
static int
start_at(const struct logset *ls, const char *before, int *first, long long *end)
{
	unsigned long long ino;
	long long off;

	*first = 0;
	*end = ls->n ? ls->size[0] : 0;
	if (before == NULL)
		return 0;
	if (parse_cursor(before, &ino, &off) != 0)
		return -1;
	*first = ls->n; /* a file rotated away: nothing older is left */
	for (int i = 0; i < ls->n; i++)
		if (ls->ino[i] == ino && off <= ls->size[i]) {
			*first = i;
			*end = off;
		}
	return 0;
}

json_object *
au_read(long long since, const char *before, int limit, char *next, size_t nextlen)
{
	struct scan s = {.since = since, .limit = limit > 0 ? limit : 1};
	struct logset ls;
	json_object *all = NULL;
	long long end;
	int first;

	next[0] = '\0';
	open_set(&ls);
	if (start_at(&ls, before, &first, &end) != 0)
		goto out;
	s.out = json_object_new_array();
	for (int i = first; i < ls.n; i++)
		if (scan_file(&s, ls.fd[i], ls.ino[i], i == first ? end : ls.size[i]))
			break;
	if (s.more)
		snprintf(next, nextlen, "%llx-%llx", s.ino, (unsigned long long)s.off);
	all = json_object_new_array();
	for (size_t i = json_object_array_length(s.out); i-- > 0;)
		json_object_array_add(all, json_object_get(json_object_array_get_idx(s.out, i)));
	json_object_put(s.out);
out:
	for (int i = 0; i < ls.n; i++)
		close(ls.fd[i]);
	free(s.line);
	return all;
}

unsigned long long
au_bytes_read(void)
{
	return bytes_read;
}

/* ---- what handlers add ------------------------------------------------- */

static json_object *
extra(struct op *o)
{
	if (o->audit_extra == NULL)
		o->audit_extra = json_object_new_object();
	return o->audit_extra;
}

void
au_add(struct op *o, const char *key, json_object *v)
{
	json_object_object_add(extra(o), key, v);
}

void
au_str(struct op *o, const char *key, const char *s)
{
	au_add(o, key, s ? json_object_new_string(s) : NULL);
}

void
au_push(struct op *o, const char *key, const char *s)
{
	json_object *list = jx_arr(extra(o), key);

	if (list == NULL) {
		list = json_object_new_array();
		au_add(o, key, list);
	}
	json_object_array_add(list, json_object_new_string(s ? s : ""));
}

void
au_fail(struct op *o, const char *result, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	au_str(o, "result", result);
	au_str(o, "message", msg);
}

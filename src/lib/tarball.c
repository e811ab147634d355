/*
 * tarball.c - libarchive writes a pax tar into a growing memory buffer.
 * Directory contexts are read with archive_read_disk, which keeps symlinks as
 * links (no escaping the context through them) and stays on one filesystem.
 *
 * libarchive is opened with dlopen, and only in the child process tb_make
 * forks for each build, instead of being linked: it brings libxml2, ICU and
 * libstdc++ with it (eleven libraries; libstdc++ allocates a 71 kB exception
 * pool at load), which every worker would otherwise carry for the rare
 * request that builds: 0.3 MiB of RSS per process when linked, 3.5 MiB more
 * in a worker that opened it itself (docs/benchmarks.md).  The fork costs
 * about a millisecond against a build's seconds.
 */
#include "berth.h"
#include "store/state.h"
#include "lib/cov.h"
#include "lib/tarball.h"

#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef LIBARCHIVE_SONAME
#define LIBARCHIVE_SONAME "libarchive.so.13"
#endif

/* Every libarchive function used here; the table below is filled from it. */
#define LA_FUNCS(X)                                                                                \
	X(archive_entry_copy_pathname)                                                             \
	X(archive_entry_filetype)                                                                  \
	X(archive_entry_free)                                                                      \
	X(archive_entry_new)                                                                       \
	X(archive_entry_pathname)                                                                  \
	X(archive_entry_set_filetype)                                                              \
	X(archive_entry_set_mtime)                                                                 \
	X(archive_entry_set_perm)                                                                  \
	X(archive_entry_set_size)                                                                  \
	X(archive_error_string)                                                                    \
	X(archive_read_close)                                                                      \
	X(archive_read_data)                                                                       \
	X(archive_read_disk_descend)                                                               \
	X(archive_read_disk_new)                                                                   \
	X(archive_read_disk_open)                                                                  \
	X(archive_read_disk_set_behavior)                                                          \
	X(archive_read_disk_set_standard_lookup)                                                   \
	X(archive_read_free)                                                                       \
	X(archive_read_next_header2)                                                               \
	X(archive_read_new)                                                                        \
	X(archive_read_open_fd)                                                                    \
	X(archive_read_support_filter_all)                                                         \
	X(archive_read_support_format_tar)                                                         \
	X(archive_entry_size)                                                                      \
	X(archive_write_close)                                                                     \
	X(archive_write_data)                                                                      \
	X(archive_write_free)                                                                      \
	X(archive_write_header)                                                                    \
	X(archive_write_new)                                                                       \
	X(archive_write_open2)                                                                     \
	X(archive_write_open_fd)                                                                   \
	X(archive_write_set_bytes_in_last_block)                                                   \
	X(archive_write_set_format_pax_restricted)

#define LA_PTR(f) __typeof__(f) *f;
static struct {
	LA_FUNCS(LA_PTR)
} la;
#undef LA_PTR

static int la_loaded;
static char la_err[300];

/* Opens libarchive once per process; a failure is retried on the next build. */
static int
la_load(void)
{
	void *h;

	if (la_loaded)
		return 0;
	h = dlopen(LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(la_err, sizeof(la_err), "cannot load %s: %s", LIBARCHIVE_SONAME,
		         dlerror());
		return -1;
	}
#define LA_SYM(f)                                                                                  \
	if ((*(void **)&la.f = dlsym(h, #f)) == NULL) {                                            \
		snprintf(la_err, sizeof(la_err), "%s has no %s", LIBARCHIVE_SONAME, #f);           \
		dlclose(h);                                                                        \
		return -1;                                                                         \
	}
	LA_FUNCS(LA_SYM)
#undef LA_SYM
	la_loaded = 1;
	return 0;
}

struct tarball {
	struct archive *a;
	char *p;
	size_t len, cap;
	int overflow;
	char err[256];
};

static la_ssize_t
tb_write(struct archive *a, void *ud, const void *buf, size_t n)
{
	struct tarball *t = ud;

	(void)a;
	if (t->len + n > TB_MAX) {
		t->overflow = 1;
		return -1;
	}
	if (t->len + n > t->cap) {
		size_t cap = t->cap ? t->cap : 65536;
		char *np;
		while (cap < t->len + n)
			cap *= 2;
		np = realloc(t->p, cap);
		if (np == NULL)
			return -1;
		t->p = np;
		t->cap = cap;
	}
	memcpy(t->p + t->len, buf, n);
	t->len += n;
	return (la_ssize_t)n;
}

static void
fail(struct tarball *t, const char *what)
{
	snprintf(t->err, sizeof(t->err), "%s: %s", what,
	         t->overflow                     ? "build context too large"
	         : la.archive_error_string(t->a) ? la.archive_error_string(t->a)
	                                         : "archive error");
}

struct tarball *
tb_new(void)
{
	struct tarball *t;

	if (la_load() != 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		snprintf(la_err, sizeof(la_err), "out of memory");
		return NULL;
	}
	t->a = la.archive_write_new();
	if (t->a == NULL || la.archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    la.archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
	    la.archive_write_open2(t->a, t, NULL, tb_write, NULL, NULL) != ARCHIVE_OK) {
		tb_free(t);
		return NULL;
	}
	return t;
}

int
tb_add(struct tarball *t, const char *name, const void *data, size_t len, int mode)
{
	struct archive_entry *e = la.archive_entry_new();
	int rc = -1;

	if (e == NULL)
		return -1;
	la.archive_entry_copy_pathname(e, name);
	la.archive_entry_set_size(e, (la_int64_t)len);
	la.archive_entry_set_filetype(e, AE_IFREG);
	la.archive_entry_set_perm(e, (mode_t)(mode & 07777));
	/* Same bytes for the same content: a stable build cache. */
	la.archive_entry_set_mtime(e, 0, 0);
	if (la.archive_write_header(t->a, e) != ARCHIVE_OK ||
	    (len && la.archive_write_data(t->a, data, len) != (la_ssize_t)len)) {
		fail(t, name);
		goto out;
	}
	rc = 0;
out:
	la.archive_entry_free(e);
	return rc;
}

int
tb_add_dir(struct tarball *t, const char *dir)
{
	struct archive *disk = la.archive_read_disk_new();
	struct archive_entry *e = NULL;
	size_t dlen = strlen(dir);
	int rc = -1, r;
	char buf[65536];

	if (disk == NULL)
		return -1;
	la.archive_read_disk_set_standard_lookup(disk);
	la.archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	if (la.archive_read_disk_open(disk, dir) != ARCHIVE_OK) {
		snprintf(t->err, sizeof(t->err), "context %s: %s", dir,
		         la.archive_error_string(disk));
		goto out;
	}
	for (;;) {
		const char *path;
		e = la.archive_entry_new();
		r = la.archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			snprintf(t->err, sizeof(t->err), "context %s: %s", dir,
			         la.archive_error_string(disk));
			goto out;
		}
		la.archive_read_disk_descend(disk);
		path = la.archive_entry_pathname(e);
		/* Paths inside the tar are relative to the context root. */
		if (strncmp(path, dir, dlen) == 0) {
			const char *rel = path + dlen;
			while (*rel == '/')
				rel++;
			if (*rel == '\0') {
				la.archive_entry_free(e);
				continue;
			}
			la.archive_entry_copy_pathname(e, rel);
		}
		if (la.archive_write_header(t->a, e) != ARCHIVE_OK) {
			fail(t, la.archive_entry_pathname(e));
			goto out;
		}
		if (la.archive_entry_filetype(e) == AE_IFREG) {
			la_ssize_t n;
			while ((n = la.archive_read_data(disk, buf, sizeof(buf))) > 0)
				if (la.archive_write_data(t->a, buf, (size_t)n) != n) {
					fail(t, la.archive_entry_pathname(e));
					goto out;
				}
		}
		la.archive_entry_free(e);
	}
	rc = 0;
out:
	la.archive_entry_free(e);
	la.archive_read_close(disk);
	la.archive_read_free(disk);
	return rc;
}

int
tb_finish(struct tarball *t, const char **data, size_t *len)
{
	if (la.archive_write_close(t->a) != ARCHIVE_OK) {
		fail(t, "closing the context");
		return -1;
	}
	*data = t->p;
	*len = t->len;
	return 0;
}

const char *
tb_error(struct tarball *t)
{
	if (t == NULL)
		return la_err[0] ? la_err : "cannot make the build context";
	return t->err[0] ? t->err : "cannot make the build context";
}

void
tb_free(struct tarball *t)
{
	if (t == NULL)
		return;
	if (t->a)
		la.archive_write_free(t->a);
	free(t->p);
	free(t);
}

/* ---- tb_make: the context is made in a child ------------------------------ */

struct make_job {
	tb_fill_fn fill;
	void *arg;
};

/* The child: one status byte, then the tar ('0') or the reason ('1'). */
static void
make_child(int fd, void *job)
{
	tb_fill_fn fill = ((struct make_job *)job)->fill;
	void *arg = ((struct make_job *)job)->arg;
	struct tarball *t = tb_new();
	char err[300] = "";
	const char *data;
	size_t len;
	int ok;

	if (t == NULL)
		snprintf(err, sizeof(err), "%s", tb_error(NULL));
	else if (fill(t, arg, err, sizeof(err)) != 0)
		;
	else if (tb_finish(t, &data, &len) != 0)
		snprintf(err, sizeof(err), "%s", tb_error(t));
	ok = t && !err[0];
	if (ok)
		ok = st_write_all(fd, "0", 1) == 0 && st_write_all(fd, data, len) == 0;
	else
		(void)(st_write_all(fd, "1", 1) == 0 && st_write_all(fd, err, strlen(err)) == 0);
	tb_free(t);
	close(fd);
	/* _exit: no atexit handlers, nothing of the parent's (curl, FastCGI) is touched. */
	cov_exit(ok ? 0 : 1);
}

/* Reads the child's whole answer into *BUF; 0, or -1 with errno set. */
static int
read_answer(int fd, char **buf, size_t *len)
{
	size_t cap = 65536;
	ssize_t r;

	*len = 0;
	*buf = malloc(cap);
	if (*buf == NULL)
		return -1;
	for (;;) {
		if (*len == cap) {
			char *nb;
			if (cap > TB_MAX) {
				errno = EFBIG; /* the child bounds the tar; more is not ours */
				return -1;
			}
			nb = realloc(*buf, cap * 2);
			if (nb == NULL)
				return -1;
			*buf = nb;
			cap *= 2;
		}
		r = read(fd, *buf + *len, cap - *len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		*len += (size_t)r;
	}
}

/*
 * Runs JOB(fd, ARG) in a child that answers on FD: one status byte, then
 * its payload.  *STATUS gets the byte ('1': the payload is a reason, put
 * in ERR), *DATA and *LEN the payload (malloc'd).  0, or -1 with ERR.
 */
static int
run_child(void (*job)(int, void *), void *arg, int *st, char **data, size_t *len, char *err,
          size_t n)
{
	int p[2], status = 0, rc = -1, rd, rerr;
	char *buf = NULL;
	size_t got = 0;
	pid_t pid;

	*data = NULL;
	*len = 0;
	if (pipe(p) != 0) {
		snprintf(err, n, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, n, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		cov_child_start();
		close(p[0]);
		job(p[1], arg);
	}
	close(p[1]);
	rd = read_answer(p[0], &buf, &got);
	rerr = errno;
	close(p[0]); /* a child still writing gets EPIPE and ends */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rd != 0) {
		snprintf(err, n, "cannot read the build context: %s", strerror(rerr));
		goto out;
	}
	if (got == 0 || buf[0] < '0' || buf[0] > '2') {
		snprintf(err, n, "the build context process ended without an answer (%s %d)",
		         WIFSIGNALED(status) ? "signal" : "exit status",
		         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		goto out;
	}
	*st = buf[0];
	if (buf[0] == '1') {
		snprintf(err, n, "%.*s", (int)(got - 1), buf + 1);
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, n, "the build context process failed after answering");
		goto out;
	}
	memmove(buf, buf + 1, got - 1);
	buf[got - 1] = '\0'; /* read_answer leaves room: the status byte */
	*data = buf;
	*len = got - 1;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	return rc;
}

int
tb_make(tb_fill_fn fill, void *arg, char **data, size_t *len, char *err, size_t n)
{
	struct make_job job = {fill, arg};
	int st = 0;

	return run_child(make_child, &job, &st, data, len, err, n);
}

/* ---- tb_member: one file of an uploaded context, read in a child --------- */

#define TB_MAX_LINKS 4096 /* symlinks a context may hold before it is refused */

/* PATH as dockerd's extraction cleans it, into OUT: "./a//b/../c" is "a/c"; -1 if it leaves. */
static int
clean_path(const char *path, char *out, size_t n)
{
	size_t k = 0;
	const char *p = path;

	out[0] = '\0';
	while (*p) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == 0 || (l == 1 && p[0] == '.')) {
			/* nothing */
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			if (k == 0)
				return -1;
			while (k > 0 && out[k - 1] != '/')
				k--;
			if (k > 0)
				k--;
			out[k] = '\0';
		} else {
			if (k + l + 2 > n)
				return -1;
			if (k)
				out[k++] = '/';
			memcpy(out + k, p, l);
			k += l;
			out[k] = '\0';
		}
		p += l + (e != NULL);
	}
	return 0;
}

struct member_job {
	int fd;
	const char *name;
	size_t max;
};

/* 1 when LINK (a symlink's cleaned path) is a directory NAME goes through, or NAME itself. */
static int
through(const char *link, const char *name)
{
	size_t l = strlen(link);

	return strncmp(name, link, l) == 0 && (name[l] == '/' || name[l] == '\0');
}

static void
member_child(int fd, void *arg)
{
	struct member_job *j = arg;
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	char want[1024], path[1024], err[300] = "", *data = NULL, **links = NULL;
	size_t len = 0, nlinks = 0;
	int found = 0, r;

	if (la_load() != 0) {
		snprintf(err, sizeof(err), "%s", la_err);
		goto answer;
	}
	if (clean_path(j->name, want, sizeof(want)) != 0 || !want[0]) {
		snprintf(err, sizeof(err), "%s is not a path inside the context", j->name);
		goto answer;
	}
	a = la.archive_read_new();
	e = la.archive_entry_new();
	links = calloc(TB_MAX_LINKS, sizeof(*links));
	if (!a || !e || !links || la.archive_read_support_filter_all(a) != ARCHIVE_OK ||
	    la.archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    la.archive_read_open_fd(a, j->fd, 65536) != ARCHIVE_OK) {
		snprintf(err, sizeof(err), "the build context is not a tar archive: %s",
		         a ? la.archive_error_string(a) : "out of memory");
		goto answer;
	}
	while ((r = la.archive_read_next_header2(a, e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *pn = la.archive_entry_pathname(e);
		unsigned type = la.archive_entry_filetype(e);

		if (pn == NULL || clean_path(pn, path, sizeof(path)) != 0)
			continue; /* dockerd refuses those entries itself */
		if (type == AE_IFLNK) {
			if (nlinks == TB_MAX_LINKS) {
				snprintf(err, sizeof(err),
				         "the build context holds over %d symlinks", TB_MAX_LINKS);
				goto answer;
			}
			links[nlinks++] = strdup(path);
		}
		if (strcmp(path, want) != 0)
			continue;
		free(data);
		data = NULL;
		len = 0;
		found = 1;
		if (type != AE_IFREG) {
			found = -1; /* a link or a directory: not what it seems */
			continue;
		}
		if ((size_t)la.archive_entry_size(e) > j->max) {
			snprintf(err, sizeof(err), "%s is over %zu bytes", j->name, j->max);
			goto answer;
		}
		len = (size_t)la.archive_entry_size(e);
		data = malloc(len + 1);
		if (data == NULL || la.archive_read_data(a, data, len) != (la_ssize_t)len) {
			snprintf(err, sizeof(err), "cannot read %s from the build context",
			         j->name);
			goto answer;
		}
	}
	if (r != ARCHIVE_EOF) {
		snprintf(err, sizeof(err), "the build context is not a whole tar archive: %s",
		         la.archive_error_string(a));
		goto answer;
	}
	for (size_t i = 0; i < nlinks; i++)
		if (links[i] && through(links[i], want)) {
			snprintf(err, sizeof(err),
			         "%s is reached through a symlink in the build "
			         "context; make it a file",
			         j->name);
			goto answer;
		}
	if (found < 0)
		snprintf(err, sizeof(err), "%s in the build context is not a regular file",
		         j->name);
answer:
	if (err[0])
		(void)(st_write_all(fd, "1", 1) == 0 && st_write_all(fd, err, strlen(err)) == 0);
	else if (!found)
		(void)st_write_all(fd, "2", 1);
	else
		(void)(st_write_all(fd, "0", 1) == 0 && st_write_all(fd, data, len) == 0);
	close(fd);
	cov_exit(err[0] ? 1 : 0);
}

int
tb_member(int fd, const char *name, size_t max, char **data, size_t *len, char *err, size_t n)
{
	struct member_job job = {fd, name, max};
	int st = 0;

	if (run_child(member_child, &job, &st, data, len, err, n) != 0)
		return -1;
	if (st == '2') {
		free(*data);
		*data = NULL;
		*len = 0;
		return 1;
	}
	return 0;
}

/* ---- tb_replace: the context again, one file changed --------------------- */

struct replace_job {
	int in, out;
	const char *name;
	const char *data;
	size_t len;
};

/* Copies the entry just read from A to W, its data in pieces; 0 or -1. */
static int
copy_entry(struct archive *a, struct archive *w, struct archive_entry *e)
{
	char buf[65536];
	la_ssize_t r;

	if (la.archive_write_header(w, e) != ARCHIVE_OK)
		return -1;
	while ((r = la.archive_read_data(a, buf, sizeof(buf))) > 0)
		if (la.archive_write_data(w, buf, (size_t)r) != r)
			return -1;
	return r < 0 ? -1 : 0;
}

static void
replace_child(int fd, void *arg)
{
	struct replace_job *j = arg;
	struct archive *a = NULL, *w = NULL;
	struct archive_entry *e = NULL;
	char want[1024], path[1024], err[300] = "";
	int r;

	if (la_load() != 0) {
		snprintf(err, sizeof(err), "%s", la_err);
		goto answer;
	}
	a = la.archive_read_new();
	w = la.archive_write_new();
	e = la.archive_entry_new();
	if (clean_path(j->name, want, sizeof(want)) != 0 || !a || !w || !e ||
	    la.archive_read_support_filter_all(a) != ARCHIVE_OK ||
	    la.archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    la.archive_read_open_fd(a, j->in, 65536) != ARCHIVE_OK ||
	    la.archive_write_set_format_pax_restricted(w) != ARCHIVE_OK ||
	    la.archive_write_open_fd(w, j->out) != ARCHIVE_OK) {
		snprintf(err, sizeof(err), "cannot rewrite the build context: %s",
		         a ? la.archive_error_string(a) : "out of memory");
		goto answer;
	}
	while ((r = la.archive_read_next_header2(a, e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *pn = la.archive_entry_pathname(e);
		/* Every entry of that path goes; the new one is written last (last wins). */
		if (pn && clean_path(pn, path, sizeof(path)) == 0 && strcmp(path, want) == 0)
			continue;
		if (copy_entry(a, w, e) != 0) {
			snprintf(err, sizeof(err), "cannot copy %.200s: %s", pn ? pn : "an entry",
			         la.archive_error_string(w));
			goto answer;
		}
	}
	if (r != ARCHIVE_EOF) {
		snprintf(err, sizeof(err), "the build context is not a whole tar archive");
		goto answer;
	}
	la.archive_entry_free(e);
	e = la.archive_entry_new();
	la.archive_entry_copy_pathname(e, want);
	la.archive_entry_set_size(e, (la_int64_t)j->len);
	la.archive_entry_set_filetype(e, AE_IFREG);
	la.archive_entry_set_perm(e, 0644);
	la.archive_entry_set_mtime(e, 0, 0);
	if (la.archive_write_header(w, e) != ARCHIVE_OK ||
	    (j->len && la.archive_write_data(w, j->data, j->len) != (la_ssize_t)j->len) ||
	    la.archive_write_close(w) != ARCHIVE_OK)
		snprintf(err, sizeof(err), "cannot write the build context: %s",
		         la.archive_error_string(w));
answer:
	if (err[0])
		(void)(st_write_all(fd, "1", 1) == 0 && st_write_all(fd, err, strlen(err)) == 0);
	else
		(void)st_write_all(fd, "0", 1);
	close(fd);
	cov_exit(err[0] ? 1 : 0);
}

int
tb_replace(int in, int out, const char *name, const char *data, size_t len, char *err, size_t n)
{
	struct replace_job job = {in, out, name, data, len};
	char *answer = NULL;
	size_t alen = 0;
	int st = 0, rc = run_child(replace_child, &job, &st, &answer, &alen, err, n);

	free(answer);
	return rc;
}

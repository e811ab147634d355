/*
 * state.c - flat-file state.  Writers never leave a partial file behind: a
 * reader sees the old record or the new one, even across kill -9 or power loss.
 */
#include "berth.h"
#include "lib/json.h"
#include "lib/log.h"
#include "store/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char root[2048]; /* short enough that every path built from it fits PATH_MAX */
/*
 * The state directory, opened once (O_NOFOLLOW) and checked: every file is
 * opened relative to it, never through a link, so whoever could plant one in
 * the tree cannot aim berth's writes (as root, under berth-up) elsewhere.
 */
static int root_fd = -1;
static uid_t trusted_uid; /* the user berth drops to; root is trusted too */
static char why[512];     /* why st_init refused, for st_why */

static int
mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -1;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

void
st_trust_uid(uid_t uid)
{
	trusted_uid = uid;
}

const char *
st_why(void)
{
	return why;
}

/* Sets why (and errno = EPERM) and returns -1. */
static int
refuse(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	errno = EPERM;
	return -1;
}

/*
 * A directory berth keeps state in must be berth's own: owned by root or by
 * the user berth runs as, and writable by nobody else (anyone who can add
 * entries can plant links and hard links for root to follow).
 */
static int
check_dir(int fd, const char *what)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0)
		return refuse("%s: %s", what, strerror(errno));
	if (sb.st_uid != 0 && sb.st_uid != geteuid() && sb.st_uid != trusted_uid)
		return refuse("%s is owned by uid %d, not by root or the user berth runs as "
		              "(run berth as that user, or give --user)",
		              what, (int)sb.st_uid);
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		return refuse("%s is writable by group or others (mode %04o): chmod go-w it", what,
		              (unsigned)(sb.st_mode & 07777));
	return 0;
}

/* Opens the directory NAME under DFD, never through a link; -1 and errno otherwise. */
static int
open_dir_at(int dfd, const char *name)
{
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Logs a refused file (DIR/NAME under the state directory) and sets errno = EPERM. */
static void
refused(const char *dir, const char *name, const char *what)
{
	log_error("state_refused path=\"%s/%s%s%s\" error=\"%s\"", root, dir, dir[0] ? "/" : "",
	          name, what);
	errno = EPERM;
}

/* Only a real, singly linked file: a planted symlink or hard link is refused. */
static int
leaf_open(int dfd, const char *dir, const char *name, int flags, mode_t mode)
{
	int fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	struct stat sb;

	if (fd < 0) {
		if (errno == ELOOP)
			refused(dir, name, "a symbolic link");
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_nlink != 1) {
		close(fd);
		refused(dir, name, "not a singly linked regular file");
		return -1;
	}
	return fd;
}

/* Record names reach here validated, but the file layer refuses path tricks on its own. */
static int
safe_name(const char *s)
{
	return s && s[0] && s[0] != '.' && !strchr(s, '/') && strlen(s) < 128;
}

/* The directory KIND under the state directory (a descriptor to close), or -1. */
static int
kind_dir(const char *kind)
{
	if (root_fd < 0 || !safe_name(kind)) {
		errno = root_fd < 0 ? EBADF : EINVAL;
		return -1;
	}
	return open_dir_at(root_fd, kind);
}

int
st_open(const char *relpath, int flags, mode_t mode)
{
	const char *slash = strchr(relpath, '/'), *leaf = slash ? slash + 1 : relpath;
	char dir[128] = "";
	int dfd = root_fd, fd = -1, err;

	if (slash) {
		if ((size_t)(slash - relpath) >= sizeof(dir)) {
			errno = EINVAL;
			return -1;
		}
		memcpy(dir, relpath, (size_t)(slash - relpath));
		dir[slash - relpath] = '\0';
		dfd = kind_dir(dir);
	}
	if (dfd < 0) {
		errno = root_fd < 0 ? EBADF : errno;
		return -1;
	}
	if (!leaf[0] || strchr(leaf, '/') || strcmp(leaf, ".") == 0 || strcmp(leaf, "..") == 0)
		errno = EINVAL;
	else
		fd = leaf_open(dfd, dir, leaf, flags, mode);
	err = errno;
	if (dfd != root_fd)
		close(dfd);
	errno = err;
	return fd;
}

/* Files berth keeps at the top of the tree: one planted as a link stops start-up. */
static int
check_files(int fd, const char *dir)
{
	static const char *const files[] = {"audit.log", "metrics.shm", NULL};
	struct stat sb;

	for (const char *const *f = files; *f; f++) {
		if (fstatat(fd, *f, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (!S_ISREG(sb.st_mode) || sb.st_nlink != 1)
			return refuse("%s/%s is %s; berth will not write through it (remove it)",
			              dir, *f,
			              S_ISLNK(sb.st_mode) ? "a symbolic link" : "not a plain file");
	}
	return 0;
}

/* "is not a directory (a link?)" or the error, for a directory that did not open. */
static const char *
dir_error(int err)
{
	return err == ELOOP || err == ENOTDIR ? "not a directory (a symbolic link?)"
	                                      : strerror(err);
}

/* The record folders the modules keep (st_add_kind), then locks/. */
#define ST_MAX_KINDS 16
static const char *kinds[ST_MAX_KINDS + 3] = {"locks", ST_SPOOL};

int
st_add_kind(const char *kind)
{
	size_t n = 0;

	for (; kinds[n]; n++)
		if (strcmp(kinds[n], kind) == 0)
			return 0;
	if (n >= ST_MAX_KINDS || !safe_name(kind))
		return -1;
	kinds[n] = kind;
	return 0;
}

/* Makes and checks the subdirectories under FD; 0 or -1 with why set. */
static int
init_subs(int fd, const char *dir)
{
	char what[PATH_MAX];

	for (const char *const *s = kinds; *s; s++) {
		int sfd, rc;

		snprintf(what, sizeof(what), "%s/%s", dir, *s);
		if (mkdirat(fd, *s, 0750) != 0 && errno != EEXIST)
			return refuse("cannot make %s: %s", what, strerror(errno));
		sfd = open_dir_at(fd, *s);
		if (sfd < 0)
			return refuse("%s is %s", what, dir_error(errno));
		rc = check_dir(sfd, what);
		close(sfd);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static void spool_sweep(void);

int
st_init(const char *dir)
{
	char path[sizeof(root)];
	int fd;

	why[0] = '\0';
	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return refuse("%s: path too long", dir);
	if (mkdir_p(path, 0750) != 0)
		return refuse("cannot make %s: %s", path, strerror(errno));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return refuse("%s is %s", path, dir_error(errno));
	if (check_dir(fd, path) != 0 || init_subs(fd, path) != 0 || check_files(fd, path) != 0) {
		close(fd);
		return -1;
	}
	/* A reload or a reconcile opens it afresh: the directory may have been replaced. */
	if (root_fd >= 0)
		close(root_fd);
	root_fd = fd;
	memcpy(root, path, sizeof(root));
	spool_sweep();
	return 0;
}

int
st_give(uid_t uid, gid_t gid)
{
	static const char *const files[] = {"", "audit.log", "metrics.shm", NULL};
	const char *const *lists[] = {files, kinds};
	struct stat sb;
	int rc = 0;

	if (root_fd < 0)
		return -1;
	for (size_t l = 0; l < 2; l++)
		for (const char *const *s = lists[l]; *s; s++) {
			int flags = (*s)[0] ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH;
			/* Never through a link: whoever could write here must not aim root's chown
			 * elsewhere. */
			if (fstatat(root_fd, *s, &sb, flags) != 0 || S_ISLNK(sb.st_mode) ||
			    (S_ISREG(sb.st_mode) && sb.st_nlink != 1))
				continue;
			if (fchownat(root_fd, *s, uid, gid, flags) != 0)
				rc = -1;
		}
	return rc;
}

const char *
st_dir(void)
{
	return root;
}

int
st_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads all of the regular file open on FD (closed here), at most MAX bytes. */
static int
read_fd(int fd, size_t max, char **data, size_t *len)
{
	struct stat sb;
	size_t got = 0;
	int err = 0;

	*data = NULL;
	*len = 0;
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0)
		err = errno;
	else if (!S_ISREG(sb.st_mode))
		err = EINVAL;
	else if ((size_t)sb.st_size > max)
		err = EFBIG;
	else if ((*data = malloc((size_t)sb.st_size + 1)) == NULL)
		err = ENOMEM;
	while (!err && got < (size_t)sb.st_size) {
		ssize_t r = read(fd, *data + got, (size_t)sb.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			err = r < 0 ? errno : EIO; /* shrank while read */
		else
			got += (size_t)r;
	}
	close(fd);
	if (err) {
		free(*data);
		*data = NULL;
		errno = err;
		return -1;
	}
	(*data)[got] = '\0';
	*len = got;
	return 0;
}

int
st_read_file(const char *path, size_t max, char **data, size_t *len)
{
	return read_fd(open(path, O_RDONLY | O_CLOEXEC), max, data, len);
}

enum berr
st_put(const char *kind, const char *name, json_object *o)
{
	char file[160], tmp[192];
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	size_t len = strlen(text);
	int dfd, fd = -1, err;

	if (!safe_name(name))
		return B_BAD_REQUEST;
	snprintf(file, sizeof(file), "%s.json", name);
	snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", name, (int)getpid());
	dfd = kind_dir(kind);
	if (dfd < 0)
		goto fail;
	/* A fresh file (O_EXCL): whatever a killed writer left under this name goes first. */
	unlinkat(dfd, tmp, 0);
	fd = leaf_open(dfd, kind, tmp, O_WRONLY | O_CREAT | O_EXCL, 0640);
	if (fd < 0)
		goto fail;
	if (st_write_all(fd, text, len) != 0 || st_write_all(fd, "\n", 1) != 0 || fsync(fd) != 0)
		goto fail;
	err = close(fd);
	fd = -1;
	if (err != 0 || renameat(dfd, tmp, dfd, file) != 0)
		goto fail;
	(void)fsync(dfd);
	close(dfd);
	return B_OK;
fail:
	err = errno;
	log_error("state_write path=\"%s/%s/%s\" error=\"%s\"", root, kind, file, strerror(err));
	if (fd >= 0)
		close(fd);
	if (dfd >= 0) {
		unlinkat(dfd, tmp, 0);
		close(dfd);
	}
	return B_INTERNAL;
}

/* Reads record NAME from the open kind directory DFD, as st_get. */
static enum berr
get_at(int dfd, const char *kind, const char *name, json_object **out)
{
	char file[160], err[128], *buf = NULL;
	size_t n;

	*out = NULL;
	if (!safe_name(name))
		return B_NOT_FOUND;
	snprintf(file, sizeof(file), "%s.json", name);
	if (read_fd(leaf_open(dfd, kind, file, O_RDONLY, 0), 1 << 22, &buf, &n) != 0)
		return errno == ENOENT ? B_NOT_FOUND : B_INTERNAL;
	*out = jx_parse(buf, n, err, sizeof(err));
	free(buf);
	if (*out == NULL || !json_object_is_type(*out, json_type_object)) {
		log_error("state_read path=\"%s/%s/%s\" error=\"%s\"", root, kind, file,
		          *out ? "not an object" : err);
		json_object_put(*out);
		*out = NULL;
		return B_INTERNAL;
	}
	return B_OK;
}

enum berr
st_get(const char *kind, const char *name, json_object **out)
{
	int dfd;
	enum berr e;

	*out = NULL;
	if (!safe_name(name))
		return B_NOT_FOUND;
	dfd = kind_dir(kind);
	if (dfd < 0)
		return errno == ENOENT ? B_NOT_FOUND : B_INTERNAL;
	e = get_at(dfd, kind, name, out);
	close(dfd);
	return e;
}

enum berr
st_del(const char *kind, const char *name)
{
	char file[160];
	enum berr e = B_OK;
	int dfd;

	if (!safe_name(name))
		return B_OK;
	snprintf(file, sizeof(file), "%s.json", name);
	dfd = kind_dir(kind);
	if (dfd < 0)
		return errno == ENOENT ? B_OK : B_INTERNAL;
	if (unlinkat(dfd, file, 0) != 0 && errno != ENOENT)
		e = B_INTERNAL;
	else
		(void)fsync(dfd);
	close(dfd);
	return e;
}

enum berr
st_each(const char *kind, int (*fn)(const char *name, json_object *o, void *arg), void *arg)
{
	char name[256];
	struct dirent *de;
	int dfd = kind_dir(kind);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;

	if (d == NULL) {
		int err = errno;
		if (dfd >= 0)
			close(dfd);
		return err == ENOENT ? B_OK : B_INTERNAL;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		json_object *o;
		int stop;

		if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".json") != 0 ||
		    n - 5 >= sizeof(name))
			continue;
		memcpy(name, de->d_name, n - 5);
		name[n - 5] = '\0';
		if (get_at(dirfd(d), kind, name, &o) != B_OK)
			continue;
		stop = fn(name, o, arg);
		json_object_put(o);
		if (stop)
			break;
	}
	closedir(d);
	return B_OK;
}

struct drop_except {
	const char *kind;
	json_object *keep;
	int dropped;
};

static int
drop_unkept(const char *name, json_object *rec, void *arg)
{
	struct drop_except *d = arg;

	(void)rec;
	if (!json_object_object_get_ex(d->keep, name, NULL) && st_del(d->kind, name) == B_OK)
		d->dropped++;
	return 0;
}

int
st_drop_except(const char *kind, json_object *keep)
{
	struct drop_except d = {kind, keep, 0};

	return st_each(kind, drop_unkept, &d) == B_OK ? d.dropped : -1;
}

/*
 * Opens the lock file NAME under locks/ and flocks it with HOW (LOCK_EX, or
 * LOCK_EX | LOCK_NB); a descriptor, or -1 with errno (EWOULDBLOCK: held).
 */
static int
lock_take(const char *name, int how)
{
	char rel[160];
	int fd, err;

	if (!safe_name(name)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(rel, sizeof(rel), "locks/%s.lock", name);
	fd = st_open(rel, O_RDWR | O_CREAT, 0640);
	if (fd < 0)
		return -1;
	while (flock(fd, how) != 0) {
		if (errno != EINTR) {
			err = errno;
			close(fd);
			errno = err; /* EWOULDBLOCK tells "held" from a failure */
			return -1;
		}
	}
	return fd;
}

int
st_lock(const char *name)
{
	return lock_take(name, LOCK_EX);
}

int
st_trylock(const char *name)
{
	return lock_take(name, LOCK_EX | LOCK_NB);
}

void
st_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing releases the flock */
}

/* ---- spool: private files handed from a worker to the relay ---------------- */

int
st_spool_create(char *name, size_t n)
{
	static unsigned seq;
	unsigned char raw[8] = {0};
	char tmp[96];

	/* Unique across processes (pid, count) and unguessable (random), so no one can aim at it.
	 */
	(void)!getrandom(raw, sizeof(raw), GRND_NONBLOCK);
	if (snprintf(name, n, "%d-%u-%02x%02x%02x%02x%02x%02x%02x%02x", (int)getpid(), seq++,
	             raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7]) >= (int)n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(tmp, sizeof(tmp), ST_SPOOL "/.%s.tmp", name);
	return st_open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
}

int
st_spool_finish(int fd, const char *name, int keep)
{
	char tmp[96], rel[96];
	int err = 0;

	snprintf(tmp, sizeof(tmp), ST_SPOOL "/.%s.tmp", name);
	snprintf(rel, sizeof(rel), ST_SPOOL "/%s", name);
	if (close(fd) != 0)
		err = errno;
	/* Whole or absent under its real name: a reader never sees half a file. */
	if (keep && !err && renameat(root_fd, tmp, root_fd, rel) != 0)
		err = errno;
	if (err || !keep) {
		unlinkat(root_fd, tmp, 0);
		errno = err;
		return keep ? -1 : 0;
	}
	return 0;
}

int
st_spool_put(const void *data, size_t len, char *name, size_t n)
{
	int fd = st_spool_create(name, n), err = 0;

	if (fd < 0)
		return -1;
	if (st_write_all(fd, data, len) != 0)
		err = errno;
	if (err) {
		st_spool_finish(fd, name, 0);
		errno = err;
		return -1;
	}
	return st_spool_finish(fd, name, 1);
}

/* A spool name as st_spool_put makes them: digits, '-' and hex, nothing else. */
static int
spool_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 64)
		return 0;
	return strspn(name, "0123456789abcdef-") == n;
}

int
st_spool_take(const char *name, size_t *len)
{
	char rel[96];
	struct stat sb;
	int fd;

	if (!spool_name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(rel, sizeof(rel), ST_SPOOL "/%s", name);
	fd = st_open(rel, O_RDONLY, 0);
	if (fd < 0)
		return -1;
	unlinkat(root_fd, rel, 0); /* the descriptor keeps the data; nothing is left behind */
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return -1;
	}
	*len = (size_t)sb.st_size;
	return fd;
}

int
st_spool_open(const char *name)
{
	char rel[96];

	if (!spool_name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(rel, sizeof(rel), ST_SPOOL "/%s", name);
	return st_open(rel, O_RDONLY, 0);
}

/*
 * Spool files live seconds (a ticket is void after TK_TTL_MS): one older
 * than a minute was left by a worker killed between writing it and handing
 * it off, or by a relay that died holding it.
 */
#define SPOOL_MAX_AGE 60

static void
spool_sweep(void)
{
	int dfd = kind_dir(ST_SPOOL);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *e;
	struct stat sb;
	time_t now = time(NULL);

	if (d == NULL) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(sb.st_mode) && now - sb.st_mtime > SPOOL_MAX_AGE)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

void
st_spool_del(const char *name)
{
	char rel[96];

	if (!spool_name_ok(name) || root_fd < 0)
		return;
	snprintf(rel, sizeof(rel), ST_SPOOL "/%s", name);
	unlinkat(root_fd, rel, 0);
}

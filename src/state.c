/*
 * state.c - flat-file state.  Writers never leave a partial file behind: a
 * reader sees the old record or the new one, even across kill -9 or power loss.
 */
#include "berth.h"
#include "json.h"
#include "log.h"
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[2048]; /* short enough that every path built from it fits PATH_MAX */

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

int
st_init(const char *dir)
{
	static const char *const subs[] = {ST_CONTAINERS, ST_SERVICES, ST_JOBS, "builds",
	                                   "leases",      "locks",     NULL};
	char p[PATH_MAX];

	if (snprintf(root, sizeof(root), "%s", dir) >= (int)sizeof(root))
		return -1;
	if (mkdir_p(root, 0750) != 0)
		return -1;
	for (const char *const *s = subs; *s; s++) {
		snprintf(p, sizeof(p), "%s/%s", root, *s);
		if (mkdir_p(p, 0750) != 0)
			return -1;
	}
	return 0;
}

int
st_give(uid_t uid, gid_t gid)
{
	static const char *const parts[] = {
	    "",       ST_CONTAINERS, ST_SERVICES, ST_JOBS,       "builds",
	    "leases", "locks",       "audit.log", "metrics.shm", NULL};
	char p[PATH_MAX];
	struct stat sb;
	int rc = 0;

	for (const char *const *s = parts; *s; s++) {
		snprintf(p, sizeof(p), "%s/%s", root, *s);
		/* Never through a link: whoever could write here must not aim root's chown
		 * elsewhere. */
		if (lstat(p, &sb) != 0 || S_ISLNK(sb.st_mode) ||
		    (S_ISREG(sb.st_mode) && sb.st_nlink != 1))
			continue;
		if (fchownat(AT_FDCWD, p, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
			rc = -1;
	}
	return rc;
}

const char *
st_dir(void)
{
	return root;
}

/* Record names reach here validated, but the file layer refuses path tricks on its own. */
static int
safe_name(const char *s)
{
	return s && s[0] && s[0] != '.' && !strchr(s, '/') && strlen(s) < 128;
}

static void
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
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

int
st_read_file(const char *path, size_t max, char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	struct stat sb;
	size_t got = 0;

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

enum berr
st_put(const char *kind, const char *name, json_object *o)
{
	char dir[2304], path[PATH_MAX], tmp[PATH_MAX];
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	size_t len = strlen(text);
	int fd;

	if (!safe_name(name))
		return B_BAD_REQUEST;
	snprintf(dir, sizeof(dir), "%s/%s", root, kind);
	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", dir, name, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		goto fail;
	if (st_write_all(fd, text, len) != 0 || st_write_all(fd, "\n", 1) != 0 || fsync(fd) != 0)
		goto fail_close;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) != 0)
		goto fail;
	fsync_dir(dir);
	return B_OK;
fail_close:
	close(fd);
fail:
	log_error("state_write path=\"%s\" error=\"%s\"", path, strerror(errno));
	unlink(tmp);
	return B_INTERNAL;
}

enum berr
st_get(const char *kind, const char *name, json_object **out)
{
	char path[PATH_MAX], err[128], *buf = NULL;
	enum berr e = B_INTERNAL;
	size_t n;

	*out = NULL;
	if (!safe_name(name))
		return B_NOT_FOUND;
	snprintf(path, sizeof(path), "%s/%s/%s.json", root, kind, name);
	if (st_read_file(path, 1 << 22, &buf, &n) != 0)
		return errno == ENOENT ? B_NOT_FOUND : B_INTERNAL;
	*out = jx_parse(buf, n, err, sizeof(err));
	if (*out == NULL || !json_object_is_type(*out, json_type_object)) {
		log_error("state_read path=\"%s\" error=\"%s\"", path,
		          *out ? "not an object" : err);
		json_object_put(*out);
		*out = NULL;
		goto out;
	}
	e = B_OK;
out:
	free(buf);
	return e;
}

enum berr
st_del(const char *kind, const char *name)
{
	char path[PATH_MAX], dir[2304];

	if (!safe_name(name))
		return B_OK;
	snprintf(dir, sizeof(dir), "%s/%s", root, kind);
	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	if (unlink(path) != 0 && errno != ENOENT)
		return B_INTERNAL;
	fsync_dir(dir);
	return B_OK;
}

enum berr
st_each(const char *kind, int (*fn)(const char *name, json_object *o, void *arg), void *arg)
{
	char dir[PATH_MAX], name[256];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", root, kind);
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? B_OK : B_INTERNAL;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		json_object *o;
		int stop;

		if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".json") != 0 ||
		    n - 5 >= sizeof(name))
			continue;
		memcpy(name, de->d_name, n - 5);
		name[n - 5] = '\0';
		if (st_get(kind, name, &o) != B_OK)
			continue;
		stop = fn(name, o, arg);
		json_object_put(o);
		if (stop)
			break;
	}
	closedir(d);
	return B_OK;
}

int
st_lock(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (!safe_name(name))
		return -1;
	snprintf(path, sizeof(path), "%s/locks/%s.lock", root, name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

void
st_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing releases the flock */
}

void
st_audit(json_object *line)
{
	char path[PATH_MAX];
	const char *text = jx_text(line);
	size_t len = strlen(text);
	char *buf = malloc(len + 2);
	int fd;

	if (buf == NULL)
		return;
	memcpy(buf, text, len);
	buf[len] = '\n';
	snprintf(path, sizeof(path), "%s/audit.log", root);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd >= 0) {
		/* One write per line: O_APPEND keeps concurrent workers' lines whole. */
		if (write(fd, buf, len + 1) != (ssize_t)(len + 1))
			log_error("audit_write error=\"%s\"", strerror(errno));
		close(fd);
	}
	free(buf);
}

json_object *
st_audit_read(long long since, int limit)
{
	char path[PATH_MAX], *line = NULL, err[64];
	size_t cap = 0;
	ssize_t n;
	json_object *all = json_object_new_array();
	FILE *f;

	snprintf(path, sizeof(path), "%s/audit.log", root);
	f = fopen(path, "re");
	if (f == NULL)
		return all;
	while ((n = getline(&line, &cap, f)) > 0) {
		json_object *o = jx_parse(line, (size_t)n, err, sizeof(err));
		if (o == NULL)
			continue;
		if (jx_int(o, "time", 0) < since) {
			json_object_put(o);
			continue;
		}
		json_object_array_add(all, o);
	}
	free(line);
	fclose(f);
	/* Keep only the newest LIMIT lines. */
	if (limit > 0 && json_object_array_length(all) > (size_t)limit) {
		size_t drop = json_object_array_length(all) - (size_t)limit;
		json_object_array_del_idx(all, 0, drop);
	}
	return all;
}

int
st_trylock(const char *name)
{
	char path[PATH_MAX];
	int fd, err;

	if (!safe_name(name)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/locks/%s.lock", root, name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EINTR) {
			err = errno;
			close(fd);
			errno = err; /* EWOULDBLOCK tells "held" from a failure */
			return -1;
		}
	}
	return fd;
}

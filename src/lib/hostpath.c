/*
 * hostpath.c - canonical host paths and a resolver that follows no link.
 *
 * The resolver walks one component at a time with openat(O_PATH|O_NOFOLLOW)
 * relative to the directory it already holds, rather than asking openat2
 * for the whole path with RESOLVE_NO_SYMLINKS: it has to fstat every
 * directory on the way anyway (who owns it, who may write it), and a single
 * name opened with O_NOFOLLOW cannot be followed - the kernel hands back the
 * link itself, which fstat shows as S_IFLNK - so openat2 would add a second
 * code path (and an ENOSYS fallback) and no protection.  Holding each
 * directory by descriptor means a rename behind the walk cannot send it
 * elsewhere; the ownership rule is what keeps dockerd's later lookup of the
 * same string on the same objects.
 */
#include "berth.h"
#include "lib/hostpath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HP_NAME_MAX 255

const char *
hp_canonical(const char *p, size_t len)
{
	size_t start = 1;

	if (len == 0)
		return "is empty";
	if (p[0] != '/')
		return "is not an absolute path";
	if (len >= HP_MAX)
		return "is too long";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\0')
			return "contains a NUL byte";
		if (c < 0x20 || c == 0x7f)
			return "contains a control character";
	}
	if (len == 1)
		return NULL;
	if (p[len - 1] == '/')
		return "ends with /";
	/* Each component runs from START to the next / (or the end). */
	for (size_t i = 1; i <= len; i++) {
		size_t l;
		if (i < len && p[i] != '/')
			continue;
		l = i - start;
		if (l == 0)
			return "has an empty component (//)";
		if (l == 1 && p[start] == '.')
			return "has a . component";
		if (l == 2 && p[start] == '.' && p[start + 1] == '.')
			return "has a .. component";
		if (l > HP_NAME_MAX)
			return "has a component longer than 255 bytes";
		start = i + 1;
	}
	return NULL;
}

int
hp_within(const char *entry, const char *path)
{
	size_t l = strlen(entry);

	if (strcmp(entry, "/") == 0)
		return path[0] == '/';
	return strncmp(path, entry, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

static int
trusted(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/*
 * Why someone other than root or berth could replace the entry CHILD of
 * directory DIR (or re-point the path through DIR itself); NULL when nobody can.
 */
static const char *
changeable(const struct stat *dir, const struct stat *child)
{
	if (!trusted(dir->st_uid))
		return "is owned by a user other than root or berth";
	if ((dir->st_mode & (S_IWGRP | S_IWOTH)) == 0)
		return NULL;
	if ((dir->st_mode & S_ISVTX) == 0)
		return "is writable by group or others";
	if (!trusted(child->st_uid))
		return "is writable by others and the entry in it is not owned by root or berth";
	return NULL;
}

static const char *
wrong_type(const struct stat *st, enum hp_want want)
{
	if (want == HP_DIRECTORY)
		return S_ISDIR(st->st_mode) ? NULL : "is not a directory";
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		return NULL;
	return S_ISDIR(st->st_mode) ? "is a directory, not a device node"
	                            : "is not a character or block device";
}

/* One step: opens component NAME of directory DFD (stat DS) into *FD, stat *ST. */
static enum hp_result
step(int dfd, const struct stat *ds, const char *name, int *fd, struct stat *st, const char **msg)
{
	if (!S_ISDIR(ds->st_mode)) {
		*msg = "is not a directory";
		return HP_ABSENT;
	}
	*fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0) {
		int e = errno;
		*msg = e == ENOENT ? "does not exist" : strerror(e);
		return e == ENOENT || e == ENOTDIR ? HP_ABSENT : HP_UNSAFE;
	}
	if (fstat(*fd, st) != 0) {
		*msg = strerror(errno);
		return HP_UNSAFE;
	}
	if (S_ISLNK(st->st_mode)) {
		*msg = "is a symbolic link";
		return HP_UNSAFE;
	}
	return HP_FOUND;
}

enum hp_result
hp_resolve(const char *path, enum hp_want want, char *why, size_t n)
{
	enum hp_result res = HP_UNSAFE;
	const char *msg;
	struct stat ds, st;
	char name[HP_NAME_MAX + 1];
	size_t at = 0;
	int dfd = -1, fd = -1;

	msg = hp_canonical(path, strlen(path));
	if (msg) {
		snprintf(why, n, "%s", msg);
		return HP_UNSAFE;
	}
	dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &ds) != 0) {
		snprintf(why, n, "/: %s", strerror(errno));
		goto out;
	}
	while (path[at] == '/' && path[at + 1] != '\0') {
		size_t l = strcspn(path + at + 1, "/"), plen = at ? at : 1;
		memcpy(name, path + at + 1, l);
		name[l] = '\0';
		at += 1 + l;
		res = step(dfd, &ds, name, &fd, &st, &msg);
		if (res != HP_FOUND) {
			/* Names the parent when it is no directory, else this component. */
			snprintf(why, n, "%.*s %s", (int)(S_ISDIR(ds.st_mode) ? at : plen), path,
			         msg);
			goto out;
		}
		msg = changeable(&ds, &st);
		if (msg) {
			res = HP_UNSAFE;
			snprintf(why, n, "%.*s %s (owner uid %u, mode %04o)", (int)plen, path, msg,
			         (unsigned)ds.st_uid, (unsigned)(ds.st_mode & 07777));
			goto out;
		}
		close(dfd);
		dfd = fd;
		fd = -1;
		ds = st;
	}
	msg = wrong_type(&ds, want);
	if (msg) {
		res = HP_UNSAFE;
		snprintf(why, n, "%s %s", path, msg);
		goto out;
	}
	res = HP_FOUND;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return res;
}

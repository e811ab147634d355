/*
 * tarball.h - build contexts for dockerd's /build, made in memory with
 * libarchive: inline files from the catalog and whole host directories.
 * Workers call tb_make; the tb_new..tb_free calls run inside its child.
 */
#ifndef BERTH_TARBALL_H
#define BERTH_TARBALL_H

#include <stddef.h>

#define TB_MAX (256u << 20) /* a context larger than this is refused */

struct tarball;

struct tarball *tb_new(void);
/* Adds a regular file NAME (relative path) with DATA and MODE; 0 or -1. */
int tb_add(struct tarball *t, const char *name, const void *data, size_t len, int mode);
/* Adds the contents of host directory DIR at the root of the tar; 0 or -1. */
int tb_add_dir(struct tarball *t, const char *dir);
/* Ends the archive; the returned DATA and LEN stay owned by T. 0 or -1. */
int tb_finish(struct tarball *t, const char **data, size_t *len);
/* Why the last call failed (T NULL: why tb_new failed, e.g. libarchive missing). */
const char *tb_error(struct tarball *t);
void tb_free(struct tarball *t);

/* Fills a fresh context T from ARG; 0, or -1 with a reason in ERR. */
typedef int (*tb_fill_fn)(struct tarball *t, void *arg, char *err, size_t n);
/*
 * Makes a whole build context in a short-lived child process, the only one
 * that ever opens libarchive, and hands the tar back over a pipe: *DATA
 * (malloc'd, the caller frees it) and *LEN.  0, or -1 with a reason in ERR.
 */
int tb_make(tb_fill_fn fill, void *arg, char **data, size_t *len, char *err, size_t n);

/*
 * Reads member NAME (a relative path, "Dockerfile") of the tar archive on
 * descriptor FD (plain or compressed, as dockerd takes a context) in a
 * child, as dockerd's extraction would leave it: the last entry of that
 * path wins, "./" and ".." taken as dockerd cleans them.  0 with *DATA
 * (malloc'd, NUL-terminated) and *LEN; 1 when there is no such member; -1
 * with a reason in ERR: over MAX bytes, not a regular file, reached through
 * a symlink in the archive (dockerd would read another file), or not a tar.
 */
int tb_member(int fd, const char *name, size_t max, char **data, size_t *len, char *err, size_t n);

/*
 * Writes the tar archive on descriptor IN (plain or compressed) to OUT as a
 * plain tar with every entry of path NAME left out and one regular file
 * NAME holding the LEN bytes at DATA added last, in a child.  0, or -1
 * with a reason in ERR.
 */
int tb_replace(int in, int out, const char *name, const char *data, size_t len, char *err,
               size_t n);

#endif

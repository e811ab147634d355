/*
 * tarball.h - build contexts for dockerd's /build, made in memory with
 * libarchive: inline files from the catalog and whole host directories.
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
/* Why the last call failed. */
const char *tb_error(struct tarball *t);
void tb_free(struct tarball *t);

#endif

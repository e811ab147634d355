/*
 * tarball.c - libarchive writes a pax tar into a growing memory buffer.
 * Directory contexts are read with archive_read_disk, which keeps symlinks as
 * links (no escaping the context through them) and stays on one filesystem.
 */
#include "berth.h"
#include "tarball.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	         t->overflow                  ? "build context too large"
	         : archive_error_string(t->a) ? archive_error_string(t->a)
	                                      : "archive error");
}

struct tarball *
tb_new(void)
{
	struct tarball *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->a = archive_write_new();
	if (t->a == NULL || archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
	    archive_write_open2(t->a, t, NULL, tb_write, NULL, NULL) != ARCHIVE_OK) {
		tb_free(t);
		return NULL;
	}
	return t;
}

int
tb_add(struct tarball *t, const char *name, const void *data, size_t len, int mode)
{
	struct archive_entry *e = archive_entry_new();
	int rc = -1;

	if (e == NULL)
		return -1;
	archive_entry_copy_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, (mode_t)(mode & 07777));
	archive_entry_set_mtime(e, 0, 0); /* same bytes for the same content: stable build cache */
	if (archive_write_header(t->a, e) != ARCHIVE_OK ||
	    (len && archive_write_data(t->a, data, len) != (la_ssize_t)len)) {
		fail(t, name);
		goto out;
	}
	rc = 0;
out:
	archive_entry_free(e);
	return rc;
}

int
tb_add_dir(struct tarball *t, const char *dir)
{
	struct archive *disk = archive_read_disk_new();
	struct archive_entry *e = NULL;
	size_t dlen = strlen(dir);
	int rc = -1, r;
	char buf[65536];

	if (disk == NULL)
		return -1;
	archive_read_disk_set_standard_lookup(disk);
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	if (archive_read_disk_open(disk, dir) != ARCHIVE_OK) {
		snprintf(t->err, sizeof(t->err), "context %s: %s", dir, archive_error_string(disk));
		goto out;
	}
	for (;;) {
		const char *path;
		e = archive_entry_new();
		r = archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			snprintf(t->err, sizeof(t->err), "context %s: %s", dir,
			         archive_error_string(disk));
			goto out;
		}
		archive_read_disk_descend(disk);
		path = archive_entry_pathname(e);
		/* Paths inside the tar are relative to the context root. */
		if (strncmp(path, dir, dlen) == 0) {
			const char *rel = path + dlen;
			while (*rel == '/')
				rel++;
			if (*rel == '\0') {
				archive_entry_free(e);
				continue;
			}
			archive_entry_copy_pathname(e, rel);
		}
		if (archive_write_header(t->a, e) != ARCHIVE_OK) {
			fail(t, archive_entry_pathname(e));
			goto out;
		}
		if (archive_entry_filetype(e) == AE_IFREG) {
			la_ssize_t n;
			while ((n = archive_read_data(disk, buf, sizeof(buf))) > 0)
				if (archive_write_data(t->a, buf, (size_t)n) != n) {
					fail(t, archive_entry_pathname(e));
					goto out;
				}
		}
		archive_entry_free(e);
	}
	rc = 0;
out:
	archive_entry_free(e);
	archive_read_close(disk);
	archive_read_free(disk);
	return rc;
}

int
tb_finish(struct tarball *t, const char **data, size_t *len)
{
	if (archive_write_close(t->a) != ARCHIVE_OK) {
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
	return t->err[0] ? t->err : "cannot make the build context";
}

void
tb_free(struct tarball *t)
{
	if (t == NULL)
		return;
	if (t->a)
		archive_write_free(t->a);
	free(t->p);
	free(t);
}

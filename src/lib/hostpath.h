/*
 * hostpath.h - host paths that bind mounts and devices name.  dockerd cleans
 * and follows whatever path it is given, so berth only hands it paths that
 * mean exactly what they say: canonical (a pure check, shared by the config
 * loader, the policy check and the fuzzer) and resolved on the real
 * filesystem without following a single symbolic link, through directories
 * nobody but root (or berth) can change between berth's check and dockerd's
 * mount.  See docs/security.md, "Bind mounts and devices".
 */
#ifndef BERTH_HOSTPATH_H
#define BERTH_HOSTPATH_H

#include <stddef.h>

/* Longest path accepted, with its NUL (PATH_MAX). */
#define HP_MAX 4096

/*
 * NULL when the LEN bytes at P are a canonical absolute path: a leading /,
 * no empty, "." or ".." component, no trailing / (except "/" itself), no NUL
 * or control byte, under HP_MAX bytes with components of at most 255.
 * Otherwise a static phrase saying what is wrong ("has a .. component"),
 * meant to follow the path in a message.
 */
const char *hp_canonical(const char *p, size_t len);

/* 1 when canonical PATH is canonical ENTRY or lies beneath it; "/" holds everything. */
int hp_within(const char *entry, const char *path);

/* What the last component must be. */
enum hp_want {
	HP_DIRECTORY, /* a directory (bind sources) */
	HP_DEVICE     /* a character or block device node (devices) */
};

enum hp_result {
	HP_FOUND,  /* it is there, reached through no link and no unsafe directory */
	HP_ABSENT, /* a component does not exist (or is not a directory) */
	HP_UNSAFE  /* a link, a directory others can change, the wrong type, unreadable */
};

/*
 * Walks canonical PATH from / one component at a time without following
 * links (O_PATH|O_NOFOLLOW, each step relative to the directory already
 * held), and checks that every directory on the way is owned by root or by
 * berth's own uid and writable by nobody else (or sticky, with the entry in
 * it owned by root or berth), so the path cannot be re-pointed after the
 * check.  The last component must be what WANT says.  On anything but
 * HP_FOUND writes why (naming the component) into WHY (N bytes).  Opens
 * nothing but O_PATH descriptors, all closed before it returns.
 */
enum hp_result hp_resolve(const char *path, enum hp_want want, char *why, size_t n);

#endif

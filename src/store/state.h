/*
 * state.h - the state directory.  One small JSON file per object under
 * <dir>/<kind>/<name>.json, written atomically (temp file, fsync, rename,
 * fsync of the directory); flock-based locks under <dir>/locks.  Every file
 * anyone opens there (audit.log by audit.c, metrics.shm by metrics.c, the
 * seed routes' shutdown file) is opened through st_open, relative to the
 * directory descriptor and never through a link.  Its whole-file read and
 * full write are shared with the modules that need them.
 */
#ifndef BERTH_STATE_H
#define BERTH_STATE_H

#include "berth.h"

#include <json-c/json.h>
#include <sys/types.h>

/* Writes all N bytes at P to FD (short writes and EINTR retried); 0 or -1 with errno. */
int st_write_all(int fd, const void *p, size_t n);
/*
 * Reads the whole regular file PATH, at most MAX bytes, into *DATA (malloc'd,
 * NUL-terminated; the caller frees it) and *LEN.  0, or -1 with errno (EFBIG
 * when larger than MAX, EINVAL when not a regular file).
 */
int st_read_file(const char *path, size_t max, char **data, size_t *len);

/*
 * Adds KIND (a module's record folder, st_init makes it) to the state tree;
 * modules register theirs once at start-up (edge/module.c).  0, or -1 when
 * the name is not a plain name or there are too many.
 */
int st_add_kind(const char *kind);

/*
 * Creates the directory tree if needed and opens DIR once, never through a
 * link; every later file operation is relative to that descriptor.  DIR and
 * its subdirectories must be owned by root, by the effective user or by the
 * one given to st_trust_uid, and writable by no group or other; audit.log and
 * metrics.shm, when present, must be plain files.  0, or -1 with errno and
 * the reason in st_why().  Called again (reload, reconcile), it reopens DIR.
 */
int st_init(const char *dir);
/* Also trusts UID as the state directory's owner (the user root drops to). */
void st_trust_uid(uid_t uid);
/* Why the last st_init failed, in words naming the path ("" when it did not). */
const char *st_why(void);
const char *st_dir(void);
/*
 * Opens RELPATH ("audit.log", "locks/x.lock": a file directly under the
 * state directory or one of its subdirectories) relative to the directory
 * st_init opened, with O_NOFOLLOW | O_CLOEXEC added to FLAGS.  A symbolic
 * link, or anything but a singly linked regular file, is refused (logged,
 * errno EPERM).  Returns a descriptor the caller closes, or -1 with errno.
 */
int st_open(const char *relpath, int flags, mode_t mode);
/*
 * Hands the directory tree st_init made (and the audit log and metrics file)
 * to UID:GID, for a process about to drop root.  Links are never followed.
 * 0, or -1 when something could not be changed.
 */
int st_give(uid_t uid, gid_t gid);

/* Atomically replaces <kind>/<name>.json with O. */
enum berr st_put(const char *kind, const char *name, json_object *o);
/* Reads <kind>/<name>.json into *OUT (new reference); B_NOT_FOUND when absent. */
enum berr st_get(const char *kind, const char *name, json_object **out);
/* Removes <kind>/<name>.json; absent is not an error. */
enum berr st_del(const char *kind, const char *name);
/* Calls FN(name, record) for each record of KIND; FN returns nonzero to stop. */
enum berr st_each(const char *kind, int (*fn)(const char *name, json_object *o, void *arg),
                  void *arg);
/*
 * Removes every record of KIND whose name is not a member of KEEP (what
 * dockerd still has, for a reconcile); how many it removed, or -1.
 */
int st_drop_except(const char *kind, json_object *keep);

/*
 * Takes an exclusive lock named NAME (blocking); returns a descriptor to
 * pass to st_unlock, or -1.  Locks die with the process, so a killed worker
 * never leaves one held.
 */
int st_lock(const char *name);
/*
 * The same lock without waiting: a descriptor for st_unlock, or -1 with
 * errno EWOULDBLOCK when another process holds it (other errno: failure).
 */
int st_trylock(const char *name);
void st_unlock(int fd);

/*
 * The spool (<dir>/spool): private files (mode 0600) a worker leaves for the
 * relay, such as a build context too large for a ticket.  st_spool_put
 * writes LEN bytes at DATA under a new unique, unguessable name (into NAME,
 * N bytes; 40 are enough), complete before the name exists; 0 or -1 with
 * errno.  st_spool_take opens NAME for reading and removes the name at once
 * (the descriptor keeps the data), setting *LEN to its size: a descriptor
 * the caller closes, or -1 with errno (EINVAL: not a spool name).
 * st_spool_del removes NAME (a spool file nobody will take).  st_init
 * removes spool files older than a minute (their taker is gone).
 */
#define ST_SPOOL "spool"
int st_spool_put(const void *data, size_t len, char *name, size_t n);
/*
 * The same written piece by piece (a build context read from the client):
 * st_spool_create names it (NAME, N) and opens it for writing, hidden;
 * st_spool_finish closes FD and with KEEP gives it its name (0 or -1 with
 * errno), without removes it.
 */
int st_spool_create(char *name, size_t n);
int st_spool_finish(int fd, const char *name, int keep);
int st_spool_take(const char *name, size_t *len);
/* NAME opened for reading, left where it is (a worker reading what it spooled); or -1. */
int st_spool_open(const char *name);
void st_spool_del(const char *name);

#endif

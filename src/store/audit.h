/*
 * audit.h - the audit log: who did what, when, with what result, as JSON
 * lines in <state_dir>/audit.log.  Lines are appended with one O_APPEND
 * write each, the file is rotated by size (audit.log.1 .. .<keep>), and it
 * is read from its end, so a read costs what the lines asked for cost, not
 * the file.  What one identity can make berth write is bounded: refusals
 * beyond its rate are counted and summed up in one line instead.
 */
#ifndef BERTH_AUDIT_H
#define BERTH_AUDIT_H

#include <json-c/json.h>
#include <stddef.h>

struct op;

/*
 * Appends LINE (takes no reference) to the log, rotating first when the
 * line would take audit.log past audit.max_size.  Strings are cut to 256
 * bytes and lists to 64 items in place, so no input can inflate a line.
 */
void au_write(json_object *line);

/*
 * Writes LINE for a request of USER (NULL: anonymous, then keyed by ADDR,
 * nginx's REMOTE_ADDR) through that identity's token bucket.  A REFUSED
 * request's line (4xx) beyond the rate is not written but counted, and the
 * count goes out as one summary line once the flood has paused (or a
 * minute after it began); every other line is always written.
 */
void au_submit(json_object *line, const char *user, const char *addr, int refused);

/*
 * Writes the summary lines that are due (ALL: every pending one, as a
 * supervisor does on its way out).  au_sweep is the periodic work's form.
 */
void au_flush(int all);
int au_sweep(void);

/*
 * At most LIMIT lines with "time" >= SINCE, newest first from the end of
 * audit.log and on into the rotated files, answered oldest first (a new
 * array).  BEFORE (NULL: the end) is a cursor from an earlier answer: only
 * lines older than it.  NEXT (NEXTLEN bytes) gets the cursor for the page
 * before the oldest line returned, or "" when there is no older line.
 * Returns NULL when BEFORE is not a cursor.
 */
json_object *au_read(long long since, const char *before, int limit, char *next, size_t nextlen);
/* Bytes this process has read from audit files (tests check what a read costs). */
unsigned long long au_bytes_read(void);

/*
 * What a handler adds to its request's audit line (merged over the
 * standard members by the dispatcher, so "result" and "message" can be
 * set too).  au_add takes V's reference; au_push appends S to the list KEY.
 */
void au_add(struct op *o, const char *key, json_object *v);
void au_str(struct op *o, const char *key, const char *s);
void au_push(struct op *o, const char *key, const char *s);
/* A request answered 2xx that failed all the same (a stream already begun). */
void au_fail(struct op *o, const char *result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

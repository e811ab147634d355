/*
 * events.h - GET /api/v1/events as the relay serves it: dockerd's event
 * lines, kept to what the ticket's caller may see, as Server-Sent Events
 * (docs/events.md).  The worker (res/events.c) puts who the caller is into
 * the ticket; everything that decides visibility is here, in pure
 * functions the fuzzer drives (tests/fuzz/fuzz-events.c).
 */
#ifndef BERTH_RELAY_EVENTS_H
#define BERTH_RELAY_EVENTS_H

#include <json-c/json.h>
#include <stddef.h>

struct stream;
struct dkc;

/* The kinds of event a caller may ask for (?types=), as bits. */
enum {
	EV_CONTAINER = 1 << 0,
	EV_SERVICE = 1 << 1,
	EV_JOB = 1 << 2,
	EV_BUILD = 1 << 3,
	EV_VOLUME = 1 << 4,
	EV_NETWORK = 1 << 5,
	EV_ALL = (1 << 6) - 1,
};

#define EV_LINE_MAX (64 * 1024) /* one dockerd event line; longer ones are dropped */
#define EV_OWNERS   34          /* the caller and its groups (OWN_NS_MAX), and one spare */

/* The kind bit named NAME ("container"), or 0. */
unsigned ev_type_bit(const char *name, size_t n);
/* The name of the one kind bit BIT. */
const char *ev_type_name(unsigned bit);

/* Who a stream is for, read from its ticket (pointers into it). */
struct ev_view {
	int admin;
	const char *instance;
	const char *owner[EV_OWNERS]; /* the caller, then its groups ("@devs") */
	const char *ns[EV_OWNERS];    /* each one's Docker name suffix (".alice.1a2b3c4d") */
	size_t nowners;
	unsigned types;       /* EV_* bits wanted */
	long long after;      /* ids (timeNano) up to this one were seen already */
	int docker;           /* the Docker door's /events: dockerd's own lines, renamed (format) */
	json_object *actions; /* Docker door: only these actions (its event filter); NULL: all */
};

/*
 * Fills V from ticket TK (members instance, owners, ns, types, after:
 * res/events.c; format "docker" and actions: doors/docker.c).
 */
void ev_view_of(struct ev_view *v, json_object *tk);

/*
 * One dockerd event line (JSON, without its newline) as SSE text for V's
 * caller (V->docker: as dockerd's own line, with the caller's names and no
 * berth labels, ended by a newline), NUL-ended in OUT: its length, 0 when
 * V may not see it (or it is not an event), or -1 when it does not fit CAP.
 */
int ev_sse(const struct ev_view *v, const char *line, size_t n, char *out, size_t cap);

/* Bytes split at newlines, whatever the reads were; a line past EV_LINE_MAX is dropped. */
struct ev_lines {
	char *buf;
	size_t len, cap;
	int skip; /* inside a line that was too long: drop up to its newline */
};
typedef int (*ev_line_fn)(const char *line, size_t n, void *arg);
/* Calls FN for each whole line in what came so far; non-zero from FN stops (returned). */
int ev_lines_feed(struct ev_lines *l, const char *buf, size_t n, ev_line_fn fn, void *arg);
void ev_lines_free(struct ev_lines *l);

/* The relay's hooks for TK_EVENTS (relay/modes.c). */
int ev_start(struct stream *s);
int ev_begin(struct stream *s, struct dkc *d);
int ev_feed(const char *buf, size_t n, void *arg);
void ev_end(struct dkc *d, int ok);
void ev_free(struct stream *s);

#endif

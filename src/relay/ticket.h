/*
 * ticket.h - how a worker hands a long answer to the relay.  The worker
 * checks everything (identity, role, ownership, the request), then mints a
 * ticket: a JSON object naming exactly the Docker request allowed and how
 * its answer is shaped.  The ticket goes to the relay as one datagram over
 * a socketpair the supervisor made (so only berth's own processes can mint
 * one), and the worker answers nginx with X-Accel-Redirect to
 * /.berth-relay/<id>, an internal location proxied to the relay.  The
 * relay takes each ticket once, within TK_TTL_MS, and the worker is free
 * again at once: a held stream costs a relay connection, not a worker.
 *
 * Members: id (32 hex), user ("" anonymous), admin, rid (request id), t
 * (wall ms), door (the listener's door: "docker"), held (the redirect goes to
 * TK_HELD: see there), mode
 * (logs|raw|exec|events|tty|wait|sleep|build), method, path (Docker API path with query, without
 * the version), body, ctype, body_file (the body is that spool file, store/state.h, sent with its
 * length and removed once taken); raw: strip (taken out of every line); logs: tty; exec: exec,
 * timeout, target; tty: exec, target, command, cols, rows (1..TK_TTY_MAX); events: see
 * relay/events.c; wait and sleep (no Docker request: method and path name the route that waits):
 * see relay/wait.c; build: see relay/build.c.
 */
#ifndef BERTH_RELAY_TICKET_H
#define BERTH_RELAY_TICKET_H

#include "berth.h"

#include <json-c/json.h>
#include <stddef.h>

#define TK_TTL_MS   10000 /* a ticket not taken by then is void */
#define TK_MAX_SIZE 60000 /* one datagram */
#define TK_PREFIX   "/.berth-relay/"
/*
 * A held stream's location: the docker CLI half-closes an attach or exec
 * without stdin at once, and nginx ends an upgraded connection on that
 * EOF, before any output.  Such a stream is answered 200 with Connection:
 * close (the CLI reads it raw, as from dockerd before 1.24), and this
 * location of the door's server ignores the client's half-close
 * (nginx/berth-docker.conf.in).
 */
#define TK_HELD    TK_PREFIX "held/"
#define TK_TTY_MAX 1000 /* columns or rows of a console */

enum tk_mode {
	TK_LOGS,
	TK_RAW,
	TK_EXEC,
	TK_EVENTS,
	TK_TTY,
	TK_WAIT,
	TK_SLEEP,
	TK_BUILD,
	TK__COUNT
};

struct req;

/* The datagram socket workers send tickets on (-1: no relay in this process tree). */
extern int tk_fd;

/*
 * Mints TK (taking its reference) for request R and answers R with the
 * redirect; B_DOCKER_DOWN-like errors on R's op when there is no relay.
 */
enum berr tk_hand_off(struct req *r, json_object *tk);

/* A new ticket of MODE (wait, sleep: no Docker request) naming the route METHOD PATH. */
json_object *tk_new(const char *mode, const char *method, const char *path);

/*
 * The relay's check of one datagram: 0 and *OUT (the caller's reference)
 * when it is a ticket, else -1 with why in ERR.
 */
int tk_parse(const char *buf, size_t n, json_object **out, char *err, size_t errlen);
enum tk_mode tk_mode(json_object *tk);

#endif

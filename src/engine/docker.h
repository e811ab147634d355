/*
 * docker.h - the only code that speaks to dockerd.  One reused libcurl easy
 * handle per worker over the unix socket; every path gets the API version
 * prefix; replies are capped; transport failures become berth errors
 * (unreachable -> B_DOCKER_DOWN, timeout -> B_DOCKER_TIMEOUT, garbage -> B_DOCKER).
 */
#ifndef BERTH_DOCKER_H
#define BERTH_DOCKER_H

#include "berth.h"

#include <json-c/json.h>
#include <stddef.h>

struct req;

#define DK_MAX_REPLY (64u << 20)

struct dk_resp {
	long status; /* HTTP status from dockerd */
	char *body;  /* NUL-terminated reply body (owned) */
	size_t len;
	json_object *json; /* parsed body when it was JSON (owned), else NULL */
	char errtext[256]; /* what went wrong in transport, for logs */
};

/* Called with each chunk of a streamed reply; return nonzero to stop. */
typedef int (*dk_sink)(const char *buf, size_t len, void *arg);
/* Polled about once a second during a stream; return 0 to abort it. */
typedef int (*dk_alive)(void *arg);

int dk_init(void);
void dk_cleanup(void);

/*
 * One plain call: METHOD PATH (without the version prefix; PATH must already
 * be escaped) with an optional body of CTYPE.  On B_OK, OUT holds dockerd's
 * answer whatever its status; the caller frees it with dk_resp_free().
 */
enum berr dk_call(const char *method, const char *path, const char *ctype, const void *body,
                  size_t len, struct dk_resp *out);
/* dk_call with a JSON body (may be NULL). */
enum berr dk_json(const char *method, const char *path, json_object *body, struct dk_resp *out);
/*
 * A streamed call without a total timeout: SINK gets the reply body as it
 * arrives, ALIVE is polled so a departed client ends the stream.  *STATUS is
 * dockerd's status (the body of a non-2xx answer is collected into OUT).
 */
enum berr dk_stream(const char *method, const char *path, const char *ctype, const void *body,
                    size_t len, dk_sink sink, dk_alive alive, void *arg, struct dk_resp *out);
void dk_resp_free(struct dk_resp *r);

/*
 * 1 when this process still holds an open, idle connection to dockerd from
 * an earlier call: the kernel closes it when dockerd exits, so this says
 * dockerd's process is there without sending it anything (one poll(2)).
 */
int dk_connected(void);

/* Docker's {"message"} text of a failed call, or a generic phrase. */
const char *dk_message(const struct dk_resp *r);

/*
 * Turns a non-2xx dockerd answer into a request error: 404 -> not_found,
 * 409 -> conflict, 400 -> invalid, others -> docker_error.  WHAT names the
 * object ("container web").  Returns the error for `return dk_fail(...)`.
 */
enum berr dk_fail(struct req *r, const struct dk_resp *d, const char *what);
/*
 * GET on a dockerd PATH that answers JSON: on B_OK *OUT is the parsed reply
 * (new reference); a non-2xx answer becomes a request error naming WHAT.
 */
enum berr dk_get_json(struct req *r, const char *path, const char *what, json_object **out);
/* Sets a request error for a transport failure E. */
enum berr dk_transport_fail(struct req *r, enum berr e);

#endif

/*
 * transport.h - how the engine layer reaches dockerd: one reused libcurl
 * easy handle per worker over the unix socket; every path gets the API
 * version prefix; replies are capped; transport failures become berth
 * errors (unreachable -> B_DOCKER_DOWN, timeout -> B_DOCKER_TIMEOUT,
 * garbage -> B_DOCKER).  Only src/engine/ includes this; everything else
 * calls the typed functions of engine.h.
 */
#ifndef BERTH_TRANSPORT_H
#define BERTH_TRANSPORT_H

#include "berth.h"

#include <json-c/json.h>
#include <stddef.h>

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
/*
 * dk_call for a GET answered with an array of objects: OUT (body and json)
 * leaves out the members named in DROP (NULL-terminated) of every object,
 * which are then neither parsed nor checked (jx_drop_members).
 */
enum berr dk_get_lean(const char *path, const char *const *drop, struct dk_resp *out);
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
 * One more header line (a pull's X-Registry-Auth) for the next call only;
 * LINE is borrowed until that call returns, and never logged.
 */
void dk_header_once(const char *line);

/*
 * 1 when this process still holds an open, idle connection to dockerd from
 * an earlier call: the kernel closes it when dockerd exits, so this says
 * dockerd's process is there without sending it anything (one poll(2)).
 */
int dk_connected(void);

#endif

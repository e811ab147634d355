/*
 * call.h - how the engine layer describes one Engine API operation as
 * data, and the one runner that carries it out.  Only src/engine/ uses it.
 *
 * A row names the method, the path (with %s for each argument, escaped by
 * the runner), what it is about (for messages), and how each status
 * dockerd may answer maps onto berth's errors.  Statuses a row does not
 * list get the common meaning: 404 not_found, 409 conflict, 400 invalid,
 * anything else docker_error (logged).
 */
#ifndef BERTH_ENGINE_CALL_H
#define BERTH_ENGINE_CALL_H

#include "berth.h"
#include "engine/transport.h"
#include "lib/op.h"

#include <json-c/json.h>

/* One status of one call: B_OK for success, or the error (and reason) it means. */
struct eng_status {
	short status;
	enum berr err;
	enum reason why;
	const char *match; /* only when dockerd's message contains this (its words, not ours) */
	const char *msg;   /* message: %s is the argument, then dockerd's message; NULL: default */
	const char *field; /* the request field the error names, or NULL */
};

struct eng_call {
	const char *method;
	const char *path;            /* "/containers/%s/start": each %s one escaped argument */
	const char *what;            /* "container", for messages */
	const char *ctype;           /* body type when not JSON */
	const struct eng_status *st; /* ended by a row with status 0 */
};

/* Query strings built safely: each value is percent-encoded. */
struct eng_query {
	char buf[3072];
	size_t len;
	int overflow;
};
void eq_str(struct eng_query *q, const char *key, const char *val);
void eq_int(struct eng_query *q, const char *key, long long val);
/* KEY=<JSON text of V, encoded> (Docker's filters). */
void eq_json(struct eng_query *q, const char *key, json_object *v);

/* The arguments and payload of one run. */
struct eng_req {
	const char *arg[3];        /* path arguments, in order */
	const struct eng_query *q; /* query string, or NULL */
	json_object *body;         /* JSON body, or NULL */
	const void *raw;           /* or a raw body of call->ctype */
	size_t rawlen;
	dk_sink sink; /* streamed: the reply body of a success goes here */
	dk_alive alive;
	void *arg_sink;
	const char *const *drop; /* a GET's array of objects: members nobody reads (dk_get_lean) */
};

/*
 * Runs CALL: builds the path, sends it, and maps the status through the
 * call's rows.  On success *OUT (when not NULL) is dockerd's JSON answer
 * (new reference; asked for and not JSON is docker_error) and *STATUS (when
 * not NULL) its status.  Failures are set on O.
 */
enum berr eng_run(struct op *o, const struct eng_call *call, const struct eng_req *rq,
                  json_object **out, long *status);

/*
 * CALL as a stream ticket's Docker request (method, path, body, ctype into
 * TK, relay/ticket.h): the relay sends it, so berth still builds every
 * request dockerd gets.
 */
enum berr eng_ticket(struct op *o, const struct eng_call *c, const struct eng_req *rq,
                     json_object *tk);

/*
 * eng_run for a GET whose answer must be a JSON array (*OUT, new reference);
 * DROP (may be NULL) as in struct eng_req.
 */
enum berr eng_get_array(struct op *o, const struct eng_call *call, const struct eng_query *q,
                        const char *const *drop, json_object **out);

/*
 * What dockerd answering STATUS with REPLY (its JSON, NULL for none) means
 * for CALL: B_OK, or the error the call's rows (else the common meaning)
 * give, set on O.  eng_run's last step; the fuzzer feeds it directly.
 */
enum berr eng_status_of(struct op *o, const struct eng_call *c, const struct eng_req *rq,
                        long status, json_object *reply);

#endif

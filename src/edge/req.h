/*
 * req.h - one FastCGI request: its validated inputs (identity, path
 * arguments, query, JSON body) and the ways to answer it.  Everything a
 * request owns is freed by rq_cleanup() in one place.
 */
#ifndef BERTH_REQ_H
#define BERTH_REQ_H

#include "berth.h"
#include "lib/op.h"

#include <fcgiapp.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <time.h>

#define RQ_MAXPATH  2048 /* longer paths are refused with 400 */
#define RQ_MAXARGS  4
#define RQ_MAXQUERY 32

struct rt_route;
struct bmod;

/* A query parameter or path argument after its route's check (edge/route.h). */
struct rq_val {
	int set;       /* the request gave it */
	long long i;   /* P_INT, P_BOOL */
	const char *s; /* the text as given (owned by the request) */
};

struct rq_kv {
	char *key;
	char *val;
};

struct req {
	FCGX_Request *fx;
	struct op op; /* who asks, with what role, the error so far, the audit line */
	const char *method;
	char *path;             /* the path nginx routed (decoded), or the raw one; no query */
	int path_decoded;       /* path came decoded (DOCUMENT_URI): args are taken as they are */
	char *args[RQ_MAXARGS]; /* decoded {name} segments of the route */
	size_t nargs;
	struct rq_kv query[RQ_MAXQUERY];
	size_t nquery;
	const char *clen;  /* CONTENT_LENGTH, NULL when unset */
	const char *ctype; /* CONTENT_TYPE, NULL when unset */
	char *body;
	size_t body_len;
	json_object *json; /* parsed body (owned), NULL when there was none */
	const struct rt_route *route;
	const struct bmod *mod; /* the module the route is its */
	const char *door_name;  /* BERTH_DOOR from nginx: the listener's door, NULL for berth's */
	const struct rt_door *door;    /* that door, once rt_find looked it up */
	int api_minor;                 /* Docker door: the NN of a /v1.NN/ prefix, 0 without one */
	struct rq_val qv[RQ_MAXQUERY]; /* route->query[i], checked and typed */
	char id[17];                   /* request id, also sent as X-Request-Id */
	int status;                    /* status sent, for the log */
	int sent;                      /* headers already written */
	struct timespec t0;
};

/* FastCGI param (CGI variable), NULL when unset. */
const char *rq_param(struct req *r, const char *name);
/*
 * The typed value of the route's query parameter NAME, checked before the
 * handler ran: its default when the request did not give it (rq_str: NULL).
 */
long long rq_int(struct req *r, const char *name);
int rq_bool(struct req *r, const char *name);
const char *rq_str(struct req *r, const char *name);

/* Answers: each writes the status line, headers and body; they take O's reference. */
void rq_json(struct req *r, int status, json_object *o);
void rq_text(struct req *r, int status, const char *ctype, const char *text);
void rq_empty(struct req *r, int status);
void rq_error(struct req *r); /* writes r->op's error as the JSON error body */

/* An internal redirect: nginx serves URI (a location of its own) instead of this answer. */
void rq_redirect(struct req *r, const char *uri);
/* Streaming: headers now (no buffering in nginx), then chunks; -1 once the client is gone. */
void rq_stream_begin(struct req *r, int status, const char *ctype);
int rq_write(struct req *r, const void *buf, size_t len);
/* 1 while the client (nginx) still holds the connection open. */
int rq_alive(struct req *r);
/*
 * Sends what the answer still holds and ends it (FastCGI END_REQUEST), so
 * nginx has it before the worker's bookkeeping; the connection is closed
 * later by FCGX_Finish_r.  Nothing may be written after.
 */
void rq_end(struct req *r);

/* Reads the request: path, query, identity; body when the route takes one. */
enum berr rq_init(struct req *r, FCGX_Request *fx);
enum berr rq_read_body(struct req *r, size_t max);
void rq_cleanup(struct req *r);

/* 1 when CT is application/json (with or without parameters). */
int rq_is_json(const char *ct);

/* Percent-decodes N bytes of S into a new string; NULL on a bad escape or a NUL byte. */
char *rq_decode(const char *s, size_t n, int plus_is_space);

#endif

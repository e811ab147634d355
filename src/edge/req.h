/*
 * req.h - one FastCGI request: its validated inputs (identity, path
 * arguments, query, JSON body) and the ways to answer it.  Everything a
 * request owns is freed by rq_cleanup() in one place.
 */
#ifndef BERTH_REQ_H
#define BERTH_REQ_H

#include "berth.h"

#include <fcgiapp.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <time.h>

#define RQ_MAXPATH  2048 /* longer paths are refused with 400 */
#define RQ_MAXARGS  4
#define RQ_MAXQUERY 32

struct rt_route;

struct rq_kv {
	char *key;
	char *val;
};

struct req {
	FCGX_Request *fx;
	const char *method;
	char *path;             /* the path nginx routed (decoded), or the raw one; no query */
	int path_decoded;       /* path came decoded (DOCUMENT_URI): args are taken as they are */
	char *args[RQ_MAXARGS]; /* decoded {name} segments of the route */
	size_t nargs;
	struct rq_kv query[RQ_MAXQUERY];
	size_t nquery;
	const char *user;  /* REMOTE_USER from nginx, NULL when anonymous */
	const char *clen;  /* CONTENT_LENGTH, NULL when unset */
	const char *ctype; /* CONTENT_TYPE, NULL when unset */
	enum role role;
	char *body;
	size_t body_len;
	json_object *json; /* parsed body (owned), NULL when there was none */
	const struct rt_route *route;
	char id[17]; /* request id, also sent as X-Request-Id */
	int status;  /* status sent, for the log */
	int sent;    /* headers already written */
	enum berr err;
	char errmsg[384];
	char errfield[128];
	json_object *errextra; /* extra members for the error object (owned) */
	struct timespec t0;
	const char *audit_action; /* set by handlers that mutate */
	char audit_target[160];
	json_object *audit_extra; /* members handlers add to the audit line (owned; audit.h) */
};

/* Records an error for the dispatcher to send; returns E so handlers can `return rq_fail(...)`. */
enum berr rq_fail(struct req *r, enum berr e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Forgets the error so far: a failure the caller expected and handled. */
void rq_clear(struct req *r);

/* The error so far, kept aside while clean-up work (which may fail too) runs. */
struct rq_errsave {
	enum berr err;
	char msg[384];
	char field[128];
	json_object *extra;
};
/* Moves R's error into S and clears R. */
void rq_err_save(struct req *r, struct rq_errsave *s);
/* Puts S's error back on R, dropping whatever error came meanwhile. */
void rq_err_restore(struct req *r, struct rq_errsave *s);

/* FastCGI param (CGI variable), NULL when unset. */
const char *rq_param(struct req *r, const char *name);
/* Decoded query value or NULL; the last occurrence wins. */
const char *rq_query(struct req *r, const char *key);
/*
 * Query integer in [min,max]; absent -> dflt.  Out of range or not a number
 * sets a 400 naming the parameter and returns -1 (else 0).
 */
int rq_query_int(struct req *r, const char *key, long long min, long long max, long long dflt,
                 long long *out);
/* Query flag: "1", "true", "yes" -> 1; "0", "false", "no", "" -> 0; absent -> dflt; else 400. */
int rq_query_bool(struct req *r, const char *key, int dflt, int *out);

/* Answers: each writes the status line, headers and body; they take O's reference. */
void rq_json(struct req *r, int status, json_object *o);
void rq_text(struct req *r, int status, const char *ctype, const char *text);
void rq_empty(struct req *r, int status);
void rq_error(struct req *r); /* writes r->err as the JSON error body */

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

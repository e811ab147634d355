/*
 * call.c - the engine layer's runner: every Engine API request berth makes
 * goes through eng_run, which builds the path from a row's pattern (escaping
 * each argument), sends it, and turns dockerd's status into berth's error
 * the way the row says.  No other code builds a Docker path.
 */
#include "engine/call.h"
#include "lib/json.h"
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hexd[] = "0123456789ABCDEF";

/* Percent-encodes S onto B (N bytes room, used U); KEEP lists bytes left as they are. */
static int
enc(char *b, size_t n, size_t *u, const char *s, const char *keep)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		            c == '~' || (keep && strchr(keep, c));
		if (*u + 4 >= n)
			return -1;
		if (plain) {
			b[(*u)++] = (char)c;
		} else {
			b[(*u)++] = '%';
			b[(*u)++] = hexd[c >> 4];
			b[(*u)++] = hexd[c & 15];
		}
	}
	b[*u] = '\0';
	return 0;
}

static void
eq_key(struct eng_query *q, const char *key)
{
	if (q->len + strlen(key) + 3 >= sizeof(q->buf)) {
		q->overflow = 1;
		return;
	}
	q->buf[q->len] = q->len ? '&' : '?';
	q->len++;
	memcpy(q->buf + q->len, key, strlen(key));
	q->len += strlen(key);
	q->buf[q->len++] = '=';
	q->buf[q->len] = '\0';
}

void
eq_str(struct eng_query *q, const char *key, const char *val)
{
	eq_key(q, key);
	if (!q->overflow && enc(q->buf, sizeof(q->buf), &q->len, val ? val : "", NULL) != 0)
		q->overflow = 1;
}

void
eq_int(struct eng_query *q, const char *key, long long val)
{
	char num[24];

	snprintf(num, sizeof(num), "%lld", val);
	eq_str(q, key, num);
}

void
eq_json(struct eng_query *q, const char *key, json_object *v)
{
	eq_str(q, key, jx_text(v));
}

/*
 * The request path: %s takes the next argument escaped as one path segment,
 * %r an image reference (its '/', ':' and '@' kept, as dockerd's router
 * wants them).  -1 when an argument is missing or the path would not fit.
 */
static int
build_path(const struct eng_call *c, const struct eng_req *rq, char *out, size_t n)
{
	size_t u = 0, k = 0;

	for (const char *p = c->path; *p; p++) {
		if (p[0] == '%' && (p[1] == 's' || p[1] == 'r')) {
			const char *a = k < 3 ? rq->arg[k++] : NULL;
			if (a == NULL || *a == '\0' ||
			    enc(out, n, &u, a, p[1] == 'r' ? "/:@" : NULL) != 0)
				return -1;
			p++;
			continue;
		}
		if (u + 2 >= n)
			return -1;
		out[u++] = *p;
	}
	out[u] = '\0';
	if (rq->q && rq->q->overflow)
		return -1;
	if (rq->q && u + rq->q->len + 1 >= n)
		return -1;
	if (rq->q)
		memcpy(out + u, rq->q->buf, rq->q->len + 1);
	return 0;
}

/* A transport failure as the caller's error. */
static enum berr
transport_fail(struct op *o, enum berr e)
{
	switch (e) {
	case B_DOCKER_DOWN:
		return op_fail(o, e, NULL, "dockerd is not answering on its socket");
	case B_DOCKER_TIMEOUT:
		return op_fail(o, e, NULL, "dockerd did not answer in time");
	case B_DOCKER:
		return op_fail(o, e, NULL, "dockerd sent a broken or oversized reply");
	default:
		return op_fail(o, e, NULL, "internal error talking to dockerd");
	}
}

/* The row for STATUS (and dockerd's message), or NULL. */
static const struct eng_status *
row_for(const struct eng_call *c, long status, const char *dmsg)
{
	for (const struct eng_status *s = c->st; s && s->status; s++)
		if (s->status == status && (s->match == NULL || strstr(dmsg, s->match)))
			return s;
	return NULL;
}

enum berr
eng_status_of(struct op *o, const struct eng_call *c, const struct eng_req *rq, long status,
              json_object *reply)
{
	const char *dmsg = jx_str(reply, "message"), *what = rq->arg[0] ? rq->arg[0] : c->what;
	const struct eng_status *s;
	char msg[OP_MSGLEN];

	if (dmsg == NULL)
		dmsg = "dockerd gave an unexpected answer";
	s = row_for(c, status, dmsg);
	if ((s && s->err == B_OK) || (s == NULL && status >= 200 && status < 300))
		return B_OK;

	if (s && s->msg) {
		snprintf(msg, sizeof(msg), s->msg, what, dmsg);
		return op_fail_why(o, s->err, s->why, s->field, "%s", msg);
	}
	if (s)
		return op_fail_why(o, s->err, s->why, s->field, "%s %s: %s", c->what, what, dmsg);
	switch (status) {
	case 404:
		return op_fail_why(o, B_NOT_FOUND, R_GONE, NULL, "no such %s: %.64s", c->what,
		                   what);
	case 409:
		return op_fail(o, B_CONFLICT, NULL, "%s %.64s: %s", c->what, what, dmsg);
	case 400:
		return op_fail(o, B_INVALID, NULL, "%s %.64s: %s", c->what, what, dmsg);
	default:
		log_warn("docker_status call=\"%s %s\" status=%ld message=\"%s\"", c->method,
		         c->path, status, dmsg);
		return op_fail(o, B_DOCKER, NULL, "dockerd answered %ld for %s %.64s: %s", status,
		               c->what, what, dmsg);
	}
}

enum berr
eng_get_array(struct op *o, const struct eng_call *c, const struct eng_query *q,
              const char *const *drop, json_object **out)
{
	struct eng_req rq = {.q = q, .drop = drop};
	enum berr e = eng_run(o, c, &rq, out, NULL);

	if (e == B_OK && !json_object_is_type(*out, json_type_array)) {
		json_object_put(*out);
		*out = NULL;
		e = op_fail(o, B_DOCKER, NULL, "dockerd's %s answer is not a list", c->what);
	}
	return e;
}

enum berr
eng_ticket(struct op *o, const struct eng_call *c, const struct eng_req *rq, json_object *tk)
{
	char path[4096];

	if (build_path(c, rq, path, sizeof(path)) != 0)
		return op_fail(o, B_BAD_REQUEST, NULL, "%s: argument missing or too long", c->what);
	jx_add_str(tk, "method", c->method);
	jx_add_str(tk, "path", path);
	if (rq->body) {
		jx_add_str(tk, "body", jx_text(rq->body));
		jx_add_str(tk, "ctype", "application/json");
	}
	return B_OK;
}

enum berr
eng_run(struct op *o, const struct eng_call *c, const struct eng_req *rq, json_object **out,
        long *status)
{
	char path[4096];
	struct dk_resp d;
	enum berr e;

	if (out)
		*out = NULL;
	if (build_path(c, rq, path, sizeof(path)) != 0)
		return op_fail(o, B_BAD_REQUEST, NULL, "%s: argument missing or too long", c->what);
	if (rq->sink)
		e = dk_stream(c->method, path,
		              rq->raw ? c->ctype : (rq->body ? "application/json" : NULL),
		              rq->raw ? rq->raw : (rq->body ? jx_text(rq->body) : NULL),
		              rq->raw ? rq->rawlen : (rq->body ? strlen(jx_text(rq->body)) : 0),
		              rq->sink, rq->alive, rq->arg_sink, &d);
	else if (rq->raw)
		e = dk_call(c->method, path, c->ctype, rq->raw, rq->rawlen, &d);
	else if (rq->drop)
		e = dk_get_lean(path, rq->drop, &d);
	else
		e = dk_json(c->method, path, rq->body, &d);
	if (e != B_OK) {
		dk_resp_free(&d);
		return transport_fail(o, e);
	}
	if (status)
		*status = d.status;
	e = eng_status_of(o, c, rq, d.status, d.json);
	/* A caller that wants the answer wants JSON: a cut-off or HTML body is a broken reply. */
	if (e == B_OK && out && d.json == NULL && !rq->sink)
		e = op_fail(o, B_DOCKER, NULL, "dockerd sent no JSON for %s", c->what);
	if (e == B_OK && out && d.json)
		*out = json_object_get(d.json);
	dk_resp_free(&d);
	return e;
}

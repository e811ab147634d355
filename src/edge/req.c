/*
 * req.c - reading one FastCGI request into a struct req and writing the
 * answer.  Nothing here trusts the client: the path is decoded per segment,
 * NUL bytes and bad escapes are refused, numbers are parsed with bounds.
 */
#include "berth.h"
#include "lib/json.h"
#include "lib/log.h"
#include "edge/req.h"
#include "edge/route.h"
#include "lib/sbuf.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const char *
rq_param(struct req *r, const char *name)
{
	return FCGX_GetParam(name, r->fx->envp);
}

char *
rq_decode(const char *s, size_t n, int plus_is_space)
{
	char *out = malloc(n + 1), *p = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= n) {
				free(out);
				return NULL;
			}
			hi = b_hexval(s[i + 1]);
			lo = b_hexval(s[i + 2]);
			if (hi < 0 || lo < 0) {
				free(out);
				return NULL;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (c == '\0') {
			free(out);
			return NULL;
		}
		*p++ = c;
	}
	*p = '\0';
	return out;
}

static enum berr
parse_query(struct req *r, const char *q)
{
	while (q && *q) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		size_t klen = eq ? (size_t)(eq - q) : len;

		/*
		 * dockerode repeats a POST's body fields in its query (Image=..&Cmd=..);
		 * dockerd reads only its lower-case parameters, and so does the door.
		 */
		if (len > 0 && r->door_name && q[0] >= 'A' && q[0] <= 'Z') {
			q = amp ? amp + 1 : NULL;
			continue;
		}
		if (len > 0) {
			if (r->nquery == RQ_MAXQUERY)
				return op_fail(&r->op, B_BAD_REQUEST, NULL,
				               "too many query parameters");
			r->query[r->nquery].key = rq_decode(q, klen, 1);
			r->query[r->nquery].val =
			    eq ? rq_decode(eq + 1, len - klen - 1, 1) : strdup("");
			if (!r->query[r->nquery].key || !r->query[r->nquery].val) {
				free(r->query[r->nquery].key);
				free(r->query[r->nquery].val);
				return op_fail(&r->op, B_BAD_REQUEST, NULL,
				               "malformed query string (bad escape or NUL byte)");
			}
			r->nquery++;
		}
		q = amp ? amp + 1 : NULL;
	}
	return B_OK;
}

/* The route's declaration of query parameter NAME and its index, or NULL (a handler's mistake). */
static const struct rt_param *
qparam(struct req *r, const char *name, size_t *idx)
{
	const struct rt_param *d = r->route ? r->route->query : NULL;

	for (size_t i = 0; d && d[i].name; i++) {
		if (strcmp(d[i].name, name) == 0) {
			*idx = i;
			return &d[i];
		}
	}
	log_error("query_undeclared route=%s name=%s", r->route ? r->route->pattern : "-", name);
	return NULL;
}

long long
rq_int(struct req *r, const char *name)
{
	size_t i;
	const struct rt_param *d = qparam(r, name, &i);

	if (d == NULL)
		return 0;
	return r->qv[i].set ? r->qv[i].i : d->dflt;
}

int
rq_bool(struct req *r, const char *name)
{
	return rq_int(r, name) != 0;
}

const char *
rq_str(struct req *r, const char *name)
{
	size_t i;
	const struct rt_param *d = qparam(r, name, &i);

	return d && r->qv[i].set ? r->qv[i].s : NULL;
}

/*
 * The response head, built without printf: libfcgi's FCGX_FPrintF was an
 * eighth of a health request.
 */
static void
headers(struct req *r, int status, const char *ctype, const char *extra)
{
	char head[640];
	struct sbuf h = SB_INIT(head);

	if (r->sent)
		return;
	r->sent = 1;
	r->status = status;
	sb_lit(&h, "Status: ");
	sb_num(&h, status, 1);
	sb_lit(&h, " ");
	sb_str(&h, berr_reason(status));
	sb_lit(&h, "\r\nX-Request-Id: ");
	sb_str(&h, r->id);
	sb_lit(&h, "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
	if (ctype) {
		sb_lit(&h, "Content-Type: ");
		sb_str(&h, ctype);
		sb_lit(&h, "\r\n");
	}
	if (extra)
		sb_str(&h, extra);
	sb_lit(&h, "\r\n");
	FCGX_PutStr(head, (int)sb_end(&h, '\0'), r->fx->out);
}

void
rq_json(struct req *r, int status, json_object *o)
{
	const char *s = jx_text(o);

	headers(r, status, "application/json", NULL);
	FCGX_PutStr(s, (int)strlen(s), r->fx->out);
	FCGX_PutS("\n", r->fx->out);
	json_object_put(o);
}

void
rq_text(struct req *r, int status, const char *ctype, const char *text)
{
	headers(r, status, ctype, NULL);
	FCGX_PutStr(text, (int)strlen(text), r->fx->out);
}

void
rq_empty(struct req *r, int status)
{
	headers(r, status, NULL, NULL);
}

void
rq_error(struct req *r)
{
	json_object *root, *e;
	char allow[160] = "";

	if (r->sent)
		return;
	root = json_object_new_object();
	e = json_object_new_object();
	jx_add_str(e, "code", berr_code(r->op.err));
	jx_add_str(e, "message", r->op.msg[0] ? r->op.msg : berr_code(r->op.err));
	if (r->op.field[0])
		jx_add_str(e, "field", r->op.field);
	if (r->op.extra) {
		json_object_object_foreach(r->op.extra, k, v)
		{
			if (strcmp(k, "Allow") == 0)
				snprintf(allow, sizeof(allow), "Allow: %s\r\n",
				         json_object_get_string(v));
			else
				jx_add_ref(e, k, v);
		}
	}
	jx_add_str(e, "request_id", r->id);
	json_object_object_add(root, "error", e);
	headers(r, berr_status(r->op.err), "application/json", allow[0] ? allow : NULL);
	FCGX_PutS(jx_text(root), r->fx->out);
	FCGX_PutS("\n", r->fx->out);
	json_object_put(root);
}

void
rq_redirect(struct req *r, const char *uri)
{
	char extra[320];

	/* Headers only: nginx drops this answer and serves URI in its place. */
	snprintf(extra, sizeof(extra), "X-Accel-Redirect: %s\r\n", uri);
	headers(r, 200, NULL, extra);
}

void
rq_stream_begin(struct req *r, int status, const char *ctype)
{
	headers(r, status, ctype, "X-Accel-Buffering: no\r\n");
	FCGX_FFlush(r->fx->out);
}

int
rq_alive(struct req *r)
{
	struct pollfd p = {.fd = r->fx->ipcFd, .events = POLLIN | POLLRDHUP};

	if (r->fx->ipcFd < 0)
		return 0;
	/* nginx sends nothing after the body; readable or hung up means it left. */
	if (poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)))
		return 0;
	return 1;
}

void
rq_end(struct req *r)
{
	/* err first: libfcgi writes END_REQUEST when the last writer closes. */
	FCGX_FClose(r->fx->err);
	FCGX_FClose(r->fx->out);
}

int
rq_write(struct req *r, const void *buf, size_t len)
{
	if (len && FCGX_PutStr(buf, (int)len, r->fx->out) < 0)
		return -1;
	if (FCGX_FFlush(r->fx->out) < 0 || FCGX_GetError(r->fx->out) != 0)
		return -1;
	return 0;
}

static void
make_id(struct req *r)
{
	static const char hex[] = "0123456789abcdef";
	static unsigned long long counter;
	static unsigned long long pid; /* only workers make ids, each after its fork */
	unsigned long long v;

	if (pid == 0)
		pid = (unsigned long long)getpid();
	v = ((unsigned long long)r->t0.tv_nsec << 20) ^ (pid << 40) ^
	    (++counter * 0x9e3779b97f4a7c15ULL);
	for (int i = 15; i >= 0; i--, v >>= 4)
		r->id[i] = hex[v & 15];
	r->id[16] = '\0';
}

/* VAL when KV is "NAME=VAL" (NAME of length N), else NULL. */
static const char *
param_value(const char *kv, const char *name, size_t n)
{
	return strncmp(kv, name, n) == 0 && kv[n] == '=' ? kv + n + 1 : NULL;
}

#define TAKE(dst, kv, lit)                                                                         \
	((dst) == NULL && ((dst) = param_value((kv), lit, sizeof(lit) - 1)) != NULL)

/*
 * The params every request reads, in one pass over nginx's list (first one
 * wins, as with FCGX_GetParam, which walks the whole list for each name).
 */
static void
scan_params(struct req *r, const char **uri, const char **script, const char **doc)
{
	for (char **p = r->fx->envp; p && *p; p++) {
		const char *kv = *p;
		switch (kv[0]) {
		case 'R':
			(void)(TAKE(r->method, kv, "REQUEST_METHOD") ||
			       TAKE(*uri, kv, "REQUEST_URI") ||
			       TAKE(r->op.user, kv, "REMOTE_USER"));
			break;
		case 'C':
			(void)(TAKE(r->clen, kv, "CONTENT_LENGTH") ||
			       TAKE(r->ctype, kv, "CONTENT_TYPE"));
			break;
		case 'S':
			(void)TAKE(*script, kv, "SCRIPT_NAME");
			break;
		case 'D':
			(void)TAKE(*doc, kv, "DOCUMENT_URI");
			break;
		case 'B':
			(void)TAKE(r->door_name, kv, "BERTH_DOOR");
			break;
		}
	}
}

/* A path nginx normalised still must not hold bytes no route or name ever has. */
static int
path_clean(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

enum berr
rq_init(struct req *r, FCGX_Request *fx)
{
	const char *uri = NULL, *script = NULL, *doc = NULL, *q;
	size_t plen;

	memset(r, 0, sizeof(*r));
	r->fx = fx;
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	make_id(r);
	scan_params(r, &uri, &script, &doc);
	if (r->method == NULL)
		r->method = "GET";
	/* Identity comes from nginx's own auth only (REMOTE_USER); no header is ever consulted. */
	if (r->op.user && r->op.user[0] == '\0')
		r->op.user = NULL;
	if (uri == NULL)
		uri = script;
	if (uri == NULL)
		uri = "/";
	q = strchr(uri, '?');
	/*
	 * Route on the path nginx routed on (DOCUMENT_URI: decoded, dot segments
	 * resolved), or a request nginx sent through an auth-free location such as
	 * /metrics could reach another route here by its raw REQUEST_URI
	 * (/api/v1/containers/..%2f..%2fmetrics).  Without it (spawn-fcgi, tests)
	 * the raw path is split and decoded segment by segment.
	 */
	plen = q ? (size_t)(q - uri) : strlen(uri);
	if (plen > RQ_MAXPATH || (doc && strlen(doc) > RQ_MAXPATH))
		return op_fail(&r->op, B_BAD_REQUEST, NULL, "path too long");
	if (doc && doc[0] == '/' && path_clean(doc)) {
		r->path = strdup(doc);
		r->path_decoded = 1;
	} else {
		/* The raw path, for the log line of a refusal too (the log escapes it). */
		r->path = strndup(uri, plen);
		if (doc && doc[0] == '/' && r->path)
			return op_fail(&r->op, B_BAD_REQUEST, NULL,
			               "control character in the path");
	}
	if (r->path == NULL)
		return op_fail(&r->op, B_INTERNAL, NULL, "out of memory");
	/* A door's nginx bounds its request line itself (dockerode's mirrored bodies are long). */
	if (q && strlen(q) > (r->door_name ? 65536u : 8192u))
		return op_fail(&r->op, B_BAD_REQUEST, NULL, "query string too long");
	return parse_query(r, q ? q + 1 : NULL);
}

int
rq_is_json(const char *ct)
{
	size_t n = strlen("application/json");

	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

enum berr
rq_read_body(struct req *r, size_t max)
{
	const char *cl = r->clen, *ct = r->ctype;
	char *end, perr[160];
	unsigned long long n = 0;
	int got;

	if (cl && *cl) {
		errno = 0;
		n = strtoull(cl, &end, 10);
		if (*end || errno)
			return op_fail(&r->op, B_BAD_REQUEST, NULL, "bad Content-Length");
	}
	if (n == 0)
		return B_OK;
	if (n > max)
		return op_fail(&r->op, B_TOO_LARGE, NULL, "request body over %zu bytes", max);
	if (!rq_is_json(ct))
		return op_fail(&r->op, B_MEDIA, NULL,
		               "request bodies must be Content-Type: application/json");
	r->body = malloc((size_t)n + 1);
	if (r->body == NULL)
		return op_fail(&r->op, B_INTERNAL, NULL, "out of memory");
	got = FCGX_GetStr(r->body, (int)n, r->fx->in);
	if (got < 0 || (unsigned long long)got != n)
		return op_fail(&r->op, B_BAD_REQUEST, NULL,
		               "request body shorter than Content-Length");
	r->body[n] = '\0';
	r->body_len = (size_t)n;
	r->json = jx_parse(r->body, r->body_len, perr, sizeof(perr));
	if (r->json == NULL)
		return op_fail(&r->op, B_BAD_REQUEST, NULL, "%s", perr);
	return B_OK;
}

void
rq_cleanup(struct req *r)
{
	for (size_t i = 0; i < r->nargs; i++)
		free(r->args[i]);
	for (size_t i = 0; i < r->nquery; i++) {
		free(r->query[i].key);
		free(r->query[i].val);
	}
	free(r->path);
	free(r->body);
	json_object_put(r->json);
	op_done(&r->op);
	memset(r, 0, sizeof(*r));
}

/*
 * route.c - dispatch driven by the route tables.  Everything a handler may
 * assume is established here, in order: the path matches a row, the method is
 * allowed (else 405 + Allow), the caller has an identity and a role that
 * suffices, a mutation is not cross-site, the body is JSON that fits the
 * row's schema.  Every non-GET request leaves an audit line, refused or not.
 */
#include "berth.h"
#include "store/audit.h"
#include "lib/cfg.h"
#include "lib/json.h"
#include "edge/log.h"
#include "edge/metrics.h"
#include "edge/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct rt_route *const tables[] = {sys_routes,     ct_routes,     cat_routes,
                                                seed000_routes, svc_routes,    svc_seed_routes,
                                                job_routes,     seed001_routes};

#define MAXSEG 12

void
rt_each(void (*fn)(const struct rt_route *rt, void *arg), void *arg)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct rt_route *rt = tables[t]; rt->method; rt++)
			fn(rt, arg);
}

/* Splits PATH at '/' into at most MAXSEG segments (pointers into PATH, which is modified). */
static int
split(char *path, char **seg, size_t *lens)
{
	int n = 0;
	char *p = path;

	if (*p == '/')
		p++;
	while (*p) {
		char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (n == MAXSEG)
			return -1;
		if (len == 0 && slash == NULL)
			break; /* one trailing slash is tolerated */
		seg[n] = p;
		lens[n] = len;
		n++;
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	return n;
}

/*
 * 1 when the N segments match PATTERN; the {args} are decoded into R.  The
 * pattern is walked in place: copying and splitting it for every row was
 * the largest part of routing a request.
 */
static int
match(const char *pattern, char **seg, size_t *lens, int n, struct req *r, int take)
{
	const char *p = pattern + (*pattern == '/');
	int args[MAXSEG], nargs = 0;

	for (int i = 0; i < n; i++) {
		const char *end = strchr(p, '/');
		size_t plen = end ? (size_t)(end - p) : strlen(p);

		if (plen == 0)
			return 0; /* the pattern has fewer segments */
		if (p[0] == '{') {
			if (lens[i] == 0)
				return 0;
			args[nargs++] = i;
		} else if (plen != lens[i] || memcmp(p, seg[i], plen) != 0) {
			return 0;
		}
		p += plen + (end != NULL);
	}
	if (*p)
		return 0; /* the pattern has more segments */
	for (int k = 0; take && k < nargs && r->nargs < RQ_MAXARGS; k++) {
		char *a = r->path_decoded ? strndup(seg[args[k]], lens[args[k]])
		                          : rq_decode(seg[args[k]], lens[args[k]], 0);
		/* An encoded slash would make one argument of what nginx saw as two segments. */
		if (a == NULL || strchr(a, '/')) {
			free(a);
			return -1;
		}
		r->args[r->nargs++] = a;
	}
	return 1;
}

struct found {
	struct req *r;
	char **seg;
	size_t *lens;
	int n;
	const struct rt_route *hit;
	char allow[128];
};

/* 1 when RT answers the request: its path matched and so does the method. */
static int
find_one(const struct rt_route *rt, struct found *f)
{
	if (!match(rt->pattern, f->seg, f->lens, f->n, f->r, 0))
		return 0;
	/* HEAD is GET without the body, so never for a GET that changes something (/shutdown). */
	if (strcmp(rt->method, f->r->method) == 0 ||
	    (strcmp(f->r->method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0 &&
	     !(rt->flags & RT_MUT))) {
		f->hit = rt;
		return 1;
	}
	if (!strstr(f->allow, rt->method)) {
		size_t used = strlen(f->allow);
		snprintf(f->allow + used, sizeof(f->allow) - used, "%s%s", used ? ", " : "",
		         rt->method);
	}
	return 0;
}

enum berr
rt_find(struct req *r)
{
	char copy[RQ_MAXPATH + 1], *seg[MAXSEG];
	size_t lens[MAXSEG], plen = strlen(r->path);
	struct found f = {.r = r, .seg = seg, .lens = lens};
	enum berr e = B_OK;

	/* rq_init refuses longer paths; the copy is split in place. */
	if (plen > RQ_MAXPATH)
		return rq_fail(r, B_NOT_FOUND, NULL, "no such endpoint");
	memcpy(copy, r->path, plen + 1);
	f.n = split(copy, seg, lens);
	if (f.n < 0)
		return rq_fail(r, B_NOT_FOUND, NULL, "no such endpoint");
	/* The first row that answers wins; the rest are only walked for a 405's Allow. */
	for (size_t t = 0; !f.hit && t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct rt_route *rt = tables[t]; rt->method && !find_one(rt, &f); rt++)
			;
	if (f.hit) {
		r->route = f.hit;
		if (match(f.hit->pattern, seg, lens, f.n, r, 1) < 0)
			e = rq_fail(r, B_BAD_REQUEST, NULL,
			            "bad percent-escape, NUL byte or encoded slash in the path");
	} else if (f.allow[0]) {
		e = rq_fail(r, B_METHOD, NULL, "%s is not allowed here; use %s", r->method,
		            f.allow);
		r->errextra = json_object_new_object();
		jx_add_str(r->errextra, "Allow", f.allow);
	} else {
		e = rq_fail(r, B_NOT_FOUND, NULL, "no such endpoint; GET /api/v1 lists them");
	}
	return e;
}

/* Browsers say where a request came from; refuse what another site's page sent. */
static int
cross_site(struct req *r)
{
	const char *sfs = rq_param(r, "HTTP_SEC_FETCH_SITE");
	const char *origin = rq_param(r, "HTTP_ORIGIN");
	const char *host = rq_param(r, "HTTP_HOST");
	const char *p;

	if (sfs && strcmp(sfs, "same-origin") != 0 && strcmp(sfs, "none") != 0)
		return 1;
	if (origin == NULL)
		return 0;
	p = strstr(origin, "://");
	if (p == NULL || host == NULL)
		return 1;
	return strcmp(p + 3, host) != 0;
}

static enum berr
admit(struct req *r)
{
	const struct rt_route *rt = r->route;
	struct sc_error se;
	const char *ct, *cl;
	enum berr e;

	if (rt->role > ROLE_NONE && r->role == ROLE_NONE) {
		if (r->user == NULL)
			return rq_fail(r, B_UNAUTHENTICATED, NULL,
			               "authentication required (nginx set no REMOTE_USER)");
		return rq_fail(r, B_FORBIDDEN, NULL, "user %s has no role in berth.conf", r->user);
	}
	if (r->role < rt->role)
		return rq_fail(r, B_FORBIDDEN, NULL, "this needs the %s role; %s has %s",
		               role_name(rt->role), r->user ? r->user : "anonymous",
		               role_name(r->role));
	if ((rt->flags & RT_MUT) && cross_site(r))
		return rq_fail(r, B_FORBIDDEN, NULL, "cross-site request refused");
	/* A form post always names its own type, even with no body: refuse it outright. */
	ct = (rt->flags & RT_MUT) ? r->ctype : NULL;
	if (ct && *ct && !rq_is_json(ct))
		return rq_fail(r, (rt->flags & RT_RAWERR) ? B_BAD_REQUEST : B_MEDIA, NULL,
		               "changes must be sent as Content-Type: application/json");
	/* nginx sends an empty CONTENT_LENGTH with every bodiless request. */
	cl = r->clen;
	if ((rt->flags & (RT_BODY | RT_MUT)) || (cl && *cl)) {
		e = rq_read_body(r, g_cfg->max_body);
		/* Seed routes answer every malformed body with 400, as their clients expect. */
		if (e == B_MEDIA && (rt->flags & RT_RAWERR))
			r->err = e = B_BAD_REQUEST;
		if (e != B_OK)
			return e;
	}
	if ((rt->flags & RT_BODY) && rt->schema && sc_validate(rt->schema, r->json, &se) != 0) {
		if (rt->flags & RT_RAWERR)
			se.code = B_BAD_REQUEST;
		return rq_fail(r, se.code, se.field[0] ? se.field : NULL, "%s", se.msg);
	}
	return B_OK;
}

static void
audit(struct req *r, enum berr e)
{
	json_object *a = json_object_new_object();
	int status = r->status ? r->status : berr_status(e);

	jx_add_int(a, "time", (int64_t)time(NULL));
	jx_add_str(a, "user", r->user);
	jx_add_str(a, "role", role_name(r->role));
	if (r->audit_action) {
		jx_add_str(a, "action", r->audit_action);
	} else {
		char act[160];
		snprintf(act, sizeof(act), "%s %s", r->method,
		         r->route ? r->route->pattern : "(no route)");
		jx_add_str(a, "action", act);
	}
	jx_add_str(a, "target", r->audit_target[0] ? r->audit_target : r->path);
	jx_add_str(a, "result", e == B_OK ? "ok" : berr_code(e));
	jx_add_int(a, "status", status);
	if (e != B_OK)
		jx_add_str(a, "message", r->errmsg);
	jx_add_str(a, "request_id", r->id);
	/* What the handler says it did, over the defaults ("result" of a failed stream). */
	if (r->audit_extra) {
		json_object_object_foreach(r->audit_extra, k, v) jx_add_ref(a, k, v);
	}
	au_submit(a, r->user, rq_param(r, "REMOTE_ADDR"), status >= 400 && status < 500);
	json_object_put(a);
}

void
rt_dispatch(struct req *r)
{
	enum berr e = r->err; /* rq_init may already have refused the request */
	enum log_level lv;
	struct timespec t1;
	struct log_req q;
	double ms;
	int is_read;

	/* The role is known before routing, so refusals are logged and audited with it. */
	r->role = cfg_role(g_cfg, r->user);
	if (e == B_OK)
		e = rt_find(r);
	if (e == B_OK)
		e = admit(r);
	if (e == B_OK)
		e = r->route->fn(r);
	if (e != B_OK) {
		if (r->err == B_OK)
			rq_fail(r, e, NULL, "%s", berr_code(e));
		if (!r->sent)
			rq_error(r);
	}
	is_read = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	if (!is_read || (r->route && (r->route->flags & RT_MUT)))
		audit(r, e); /* before the answer leaves: a change is never unaudited */
	/* The answer goes to nginx now; counting and logging it need not delay it. */
	rq_end(r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - r->t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e6;
	mt_request(r->route ? r->route->pattern : "(none)", r->status, ms);
	/*
	 * One line per request (issue: operations need it); built with integer
	 * formatting only, since this runs on every request.
	 */
	lv = e == B_OK || berr_status(e) < 500 ? LOG_INFO_ : LOG_ERROR_;
	q.id = r->id;
	q.method = r->method;
	q.path = r->path ? r->path : "";
	q.route = r->route ? r->route->pattern : "-";
	q.user = r->user ? r->user : "-";
	q.role = role_name(r->role);
	q.status = r->status;
	q.us = (long)(ms * 1000.0);
	q.error = e != B_OK ? r->errmsg : NULL;
	log_request(lv, &q);
}

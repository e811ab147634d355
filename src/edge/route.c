/*
 * route.c - dispatch driven by the route tables the module descriptors bring.
 * Everything a handler may assume is established here, in order: the path
 * matches a row, the method is allowed (else 405 + Allow), each path
 * argument passes its module's check, the caller has an identity and a role
 * that suffices, a mutation is not cross-site, every query parameter is one
 * the row declares and fits its type and bounds, the body is JSON that fits
 * the row's schema.  Every non-GET request leaves an audit line, refused or
 * not, and the error is answered the way the route's front door says.
 */
#include "berth.h"
#include "store/audit.h"
#include "lib/cfg.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "edge/module.h"
#include "edge/route.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAXSEG 12

void
rt_each(void (*fn)(const struct rt_route *rt, const struct rt_param *args, void *arg), void *arg)
{
	for (const struct bmod *const *m = berth_modules; *m; m++)
		for (const struct rt_route *rt = (*m)->routes; rt && rt->method; rt++)
			if (!(rt->flags & RT_INTERNAL))
				fn(rt, (*m)->args, arg);
}

struct role_of {
	const char *method, *pattern;
	int role;
};

static void
role_one(const struct rt_route *rt, const struct rt_param *args, void *arg)
{
	struct role_of *w = arg;

	(void)args;
	if (w->role < 0 && strcmp(rt->method, w->method) == 0 &&
	    strcmp(rt->pattern, w->pattern) == 0)
		w->role = (int)rt->role;
}

int
rt_role_of(const char *method, const char *pattern)
{
	struct role_of w = {method, pattern, -1};

	rt_each(role_one, &w);
	return w.role;
}

int
rt_allows(enum role role, const char *method, const char *pattern)
{
	int need = rt_role_of(method, pattern);

	/* As admit(): the row's role or above (every role is above ROLE_NONE's rows). */
	return need >= 0 && (int)role >= need;
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
	const struct bmod *mod;
	char allow[128];
};

/* "1", "true", "yes" -> 1; "0", "false", "no", "" -> 0; else -1. */
static int
parse_bool(const char *v)
{
	if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"))
		return 1;
	if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !*v)
		return 0;
	return -1;
}

/* 1 when V is an integer written the one plain way: -?(0|[1-9][0-9]*). */
static int
canonical_int(const char *v)
{
	if (*v == '-')
		v++;
	if (v[0] == '0')
		return v[1] == '\0';
	if (v[0] < '1' || v[0] > '9')
		return 0;
	return strspn(v, "0123456789") == strlen(v);
}

/* 0 when V fits D, its typed value in *OUT; else -1 and what it must be in WHY. */
static int
check_value(const struct rt_param *d, const char *v, struct rq_val *out, char *why, size_t n)
{
	char *end;
	size_t len = strlen(v);

	out->set = 1;
	out->s = v;
	switch (d->type) {
	case P_BOOL:
		out->i = parse_bool(v);
		if (out->i < 0)
			snprintf(why, n, "1 or 0");
		return out->i < 0 ? -1 : 0;
	case P_INT:
		if (d->any && strcmp(v, d->any) == 0) {
			out->i = -1;
			return 0;
		}
		errno = 0;
		out->i = strtoll(v, &end, 10);
		/* Plain decimal only: no sign but '-', no spaces, no leading zeros ("007"). */
		if (!canonical_int(v) || *end != '\0' || errno || out->i < d->min ||
		    out->i > d->max) {
			snprintf(why, n, "an integer from %lld to %lld%s%s%s", d->min, d->max,
			         d->any ? " or \"" : "", d->any ? d->any : "", d->any ? "\"" : "");
			return -1;
		}
		return 0;
	case P_STR:
		if ((d->max && (len < (size_t)d->min || len > (size_t)d->max)) ||
		    (d->valid && !d->valid(v))) {
			snprintf(why, n, "%s", d->rule ? d->rule : "a valid value");
			return -1;
		}
		for (const char *const *e = d->enums; e && *e; e++)
			if (strcmp(*e, v) == 0)
				return 0;
		if (d->enums) {
			snprintf(why, n, "one of the documented values");
			return -1;
		}
		return 0;
	}
	return -1;
}

/* The module's declaration of the path argument named by the LEN bytes at NAME. */
static const struct rt_param *
arg_param(const struct rt_param *args, const char *name, size_t len)
{
	for (const struct rt_param *d = args; d && d->name; d++)
		if (strlen(d->name) == len && memcmp(d->name, name, len) == 0)
			return d;
	return NULL;
}

/*
 * Each {name} of the route, checked as its module declares it: a name that
 * can name no object is a 404 (whether or not one exists), a malformed
 * number a 400 naming it.
 */
static enum berr
check_args(struct req *r)
{
	size_t k = 0;
	char why[128];
	struct rq_val v;

	for (const char *b = strchr(r->route->pattern, '{'); b; b = strchr(b + 1, '{'), k++) {
		const char *end = strchr(b, '}');
		const struct rt_param *d = arg_param(r->mod->args, b + 1, (size_t)(end - b - 1));
		if (d == NULL || k >= r->nargs)
			return op_fail(&r->op, B_INTERNAL, NULL,
			               "route %s declares no argument %.*s", r->route->pattern,
			               (int)(end - b - 1), b + 1);
		if (check_value(d, r->args[k], &v, why, sizeof(why)) == 0)
			continue;
		if (d->type == P_STR)
			return op_fail(&r->op, B_NOT_FOUND, NULL, "no such %s: %.64s",
			               d->desc ? d->desc : d->name, r->args[k]);
		return op_fail(&r->op, B_BAD_REQUEST, d->name, "%s must be %s", d->name, why);
	}
	return B_OK;
}

enum berr
rt_check_query(struct req *r)
{
	const struct rt_param *decl = r->route->query;
	int lax = r->door && (r->door->flags & DOOR_LAX_QUERY);
	char why[128];

	for (size_t i = 0; i < r->nquery; i++) {
		const char *key = r->query[i].key;
		size_t k = 0;
		while (decl && decl[k].name && strcmp(decl[k].name, key) != 0)
			k++;
		if ((decl == NULL || decl[k].name == NULL) && lax)
			continue;
		if (decl == NULL || decl[k].name == NULL)
			return op_fail(
			    &r->op, B_BAD_REQUEST, NULL,
			    "unknown query parameter %.40s (GET /api/v1/openapi.json lists "
			    "each route's)",
			    key);
		if (k >= RQ_MAXQUERY ||
		    check_value(&decl[k], r->query[i].val, &r->qv[k], why, sizeof(why)) != 0)
			return op_fail(&r->op, B_BAD_REQUEST, key, "query parameter %s must be %s",
			               key, why);
	}
	return B_OK;
}

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
rt_find_door(struct req *r)
{
	if (r->door_name == NULL || r->door)
		return B_OK;
	for (const struct rt_door *const *d = berth_doors; *d; d++)
		if (strcmp((*d)->name, r->door_name) == 0) {
			r->door = *d;
			return B_OK;
		}
	return op_fail(&r->op, B_INTERNAL, NULL, "nginx names a door berth does not have: %.40s",
	               r->door_name);
}

enum berr
rt_find(struct req *r)
{
	char copy[RQ_MAXPATH + 1], *seg[MAXSEG];
	size_t lens[MAXSEG], plen;
	struct found f = {.r = r, .seg = seg, .lens = lens};
	const struct bmod *const *mods = berth_modules;
	enum berr e = rt_find_door(r);

	if (e != B_OK)
		return e;
	if (r->door && r->door->modules)
		mods = r->door->modules;
	if (r->door && r->door->prepare && (e = r->door->prepare(r)) != B_OK)
		return e;
	plen = strlen(r->path);
	/* rq_init refuses longer paths; the copy is split in place. */
	if (plen > RQ_MAXPATH)
		return op_fail(&r->op, B_NOT_FOUND, NULL, "no such endpoint");
	memcpy(copy, r->path, plen + 1);
	f.n = split(copy, seg, lens);
	if (f.n < 0)
		return op_fail(&r->op, B_NOT_FOUND, NULL, "no such endpoint");
	/* The first row that answers wins; the rest are only walked for a 405's Allow. */
	for (const struct bmod *const *m = mods; !f.hit && *m; m++)
		for (const struct rt_route *rt = (*m)->routes; rt && rt->method; rt++)
			if (find_one(rt, &f)) {
				f.mod = *m;
				break;
			}
	if (f.hit) {
		r->route = f.hit;
		r->mod = f.mod;
		if (match(f.hit->pattern, seg, lens, f.n, r, 1) < 0)
			e = op_fail(&r->op, B_BAD_REQUEST, NULL,
			            "bad percent-escape, NUL byte or encoded slash in the path");
		else
			e = check_args(r);
	} else if (f.allow[0]) {
		e = op_fail(&r->op, B_METHOD, NULL, "%s is not allowed here; use %s", r->method,
		            f.allow);
		r->op.extra = json_object_new_object();
		jx_add_str(r->op.extra, "Allow", f.allow);
	} else {
		e = op_fail(&r->op, B_NOT_FOUND, NULL, "%s",
		            r->door ? "page not found"
		                    : "no such endpoint; GET /api/v1 lists them");
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

	if (rt->role > ROLE_NONE && r->op.role == ROLE_NONE) {
		if (r->op.user == NULL)
			return op_fail(&r->op, B_UNAUTHENTICATED, NULL,
			               "authentication required (nginx set no REMOTE_USER)");
		return op_fail(&r->op, B_FORBIDDEN, NULL, "user %s has no role in berth.conf",
		               r->op.user);
	}
	if (r->op.role < rt->role)
		return op_fail(&r->op, B_FORBIDDEN, NULL, "this needs the %s role; %s has %s",
		               role_name(rt->role), r->op.user ? r->op.user : "anonymous",
		               role_name(r->op.role));
	if ((rt->flags & RT_MUT) && cross_site(r))
		return op_fail(&r->op, B_FORBIDDEN, NULL, "cross-site request refused");
	if ((e = rt_check_query(r)) != B_OK)
		return e;
	/* A form post always names its own type, even with no body: refuse it outright. */
	ct = (rt->flags & RT_MUT) ? r->ctype : NULL;
	/* The docker CLI names text/plain on its bodiless POSTs (start, wait). */
	if (r->door && (r->door->flags & DOOR_ANY_CTYPE) &&
	    (!r->clen || !*r->clen || !strcmp(r->clen, "0")))
		ct = NULL;
	if (rt->flags & RT_RAW)
		ct = NULL;
	if (ct && *ct && !rq_is_json(ct))
		return op_fail(&r->op, B_MEDIA, NULL,
		               "changes must be sent as Content-Type: application/json");
	/* nginx sends an empty CONTENT_LENGTH with every bodiless request. */
	cl = r->clen;
	if (!(rt->flags & RT_RAW) && ((rt->flags & (RT_BODY | RT_MUT)) || (cl && *cl))) {
		e = rq_read_body(r, g_cfg->max_body);
		if (e != B_OK)
			return e;
	}
	if ((rt->flags & RT_BODY) && rt->schema && sc_validate(rt->schema, r->json, &se) != 0)
		return op_fail(&r->op, se.code, se.field[0] ? se.field : NULL, "%s", se.msg);
	return B_OK;
}

static void
audit(struct req *r, enum berr e)
{
	json_object *a = json_object_new_object();
	int status = r->status ? r->status : berr_status(e);

	jx_add_int(a, "time", (int64_t)time(NULL));
	jx_add_str(a, "user", r->op.user);
	jx_add_str(a, "role", role_name(r->op.role));
	if (r->op.audit_action) {
		jx_add_str(a, "action", r->op.audit_action);
	} else {
		char act[160];
		snprintf(act, sizeof(act), "%s %s", r->method,
		         r->route ? r->route->pattern : "(no route)");
		jx_add_str(a, "action", act);
	}
	jx_add_str(a, "target", r->op.audit_target[0] ? r->op.audit_target : r->path);
	jx_add_str(a, "result", e == B_OK ? "ok" : berr_code(e));
	jx_add_int(a, "status", status);
	if (e != B_OK)
		jx_add_str(a, "message", r->op.msg);
	jx_add_str(a, "request_id", r->id);
	/* What the handler says it did, over the defaults ("result" of a failed stream). */
	if (r->op.audit_extra) {
		json_object_object_foreach(r->op.audit_extra, k, v) jx_add_ref(a, k, v);
	}
	au_submit(a, r->op.user, rq_param(r, "REMOTE_ADDR"), status >= 400 && status < 500);
	json_object_put(a);
}

void
rt_dispatch(struct req *r)
{
	enum berr e = r->op.err; /* rq_init may already have refused the request */
	enum log_level lv;
	struct timespec t1;
	struct log_req q;
	double ms;
	int is_read;

	/* The role is known before routing, so refusals are logged and audited with it. */
	r->op.role = cfg_role(g_cfg, r->op.user);
	if (rt_find_door(r) != B_OK && e == B_OK)
		e = r->op.err;
	if (e == B_OK)
		e = rt_find(r);
	if (e == B_OK)
		e = admit(r);
	if (e == B_OK)
		e = r->route->fn(r);
	if (e != B_OK) {
		if (r->op.err == B_OK)
			op_fail(&r->op, e, NULL, "%s", berr_code(e));
		/* Each front door answers errors its own way (the seeds: bad bodies are 400). */
		const struct rt_door *door = r->door ? r->door : r->mod ? r->mod->door : NULL;
		if (door && door->map)
			e = r->op.err = door->map(e);
		if (!r->sent && door && door->error)
			door->error(r);
		else if (!r->sent)
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
	q.user = r->op.user ? r->op.user : "-";
	q.role = role_name(r->op.role);
	q.status = r->status;
	q.us = (long)(ms * 1000.0);
	q.error = e != B_OK ? r->op.msg : NULL;
	log_request(lv, &q);
}

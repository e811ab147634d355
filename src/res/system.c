/*
 * system.c - endpoints about berth itself: the index and OpenAPI document
 * (both produced from the route table), versions, health, identity, the
 * published schemas, metrics and the audit log.
 */
#include "berth.h"
#include "store/audit.h"
#include "lib/cfg.h"
#include "res/containers.h"
#include "res/jobs.h"
#include "engine/engine.h"
#include "lib/json.h"
#include "lib/metrics.h"
#include "edge/module.h"
#include "edge/route.h"
#include "res/owner.h"
#include "res/registries.h"
#include "res/system.h"
#include "store/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
index_one(const struct rt_route *rt, const struct rt_param *args, void *arg)
{
	char key[192];

	(void)args;
	snprintf(key, sizeof(key), "%s %s", rt->method, rt->pattern);
	jx_add_str(arg, key, rt->summary);
}

static enum berr
h_index(struct req *r)
{
	json_object *o = json_object_new_object();

	rt_each(index_one, o);
	rq_json(r, 200, o);
	return B_OK;
}

static enum berr
h_version(struct req *r)
{
	json_object *o, *dk, *v;
	enum berr e = eng_version(&r->op, &v);

	if (e != B_OK)
		return e;
	o = json_object_new_object();
	jx_add_str(o, "berth", BERTH_VERSION);
	dk = json_object_new_object();
	jx_add_str(dk, "version", jx_str(v, "Version"));
	jx_add_str(dk, "api_version", jx_str(v, "ApiVersion"));
	jx_add_str(dk, "os", jx_str(v, "Os"));
	jx_add_str(dk, "arch", jx_str(v, "Arch"));
	jx_add_str(dk, "api_used", g_cfg->docker_api);
	json_object_object_add(o, "docker", dk);
	json_object_put(v);
	rq_json(r, 200, o);
	return B_OK;
}

/* How long one dockerd ping answers for every worker's health checks. */
#define HEALTH_TTL_MS 1000

/*
 * Liveness without a dockerd round trip per request: some worker's ping
 * succeeded less than HEALTH_TTL_MS ago (the shared state in metrics.c) and
 * this worker's own connection to dockerd is still open, so a dockerd that
 * exits is noticed at once and a hung one within the TTL.  Otherwise, or
 * with ?live=1, ping dockerd now and share the result.
 */
static enum berr
h_health(struct req *r)
{
	enum berr e;
	int live = rq_bool(r, "live");

	if (live || mt_docker_get(HEALTH_TTL_MS) != 1 || !eng_connected()) {
		e = eng_ping(&r->op);
		mt_docker_set(e == B_OK);
		if (e != B_OK)
			return e;
	}
	/* A constant answer: building it with json-c was a fifth of the request. */
	rq_text(r, 200, "application/json",
	        "{\"status\":\"ok\",\"docker\":\"ok\",\"version\":\"" BERTH_VERSION "\"}\n");
	return B_OK;
}

/*
 * whoami's `can`: what the caller's role lets them do, for the dashboard to
 * offer, each flag true when the role may call every row that does it (a
 * row's role is the one place that decides).  What the caller may do to one
 * object is that object's own `can`.
 */
static const struct {
	const char *flag;
	struct {
		const char *method, *pattern;
	} rows[6]; /* ended by an empty one */
} role_can[] = {
    {"create_containers", {{"POST", "/api/v1/containers"}}},
    {"manage_containers",
     {{"POST", "/api/v1/containers/{ref}/start"},
      {"POST", "/api/v1/containers/{ref}/stop"},
      {"POST", "/api/v1/containers/{ref}/restart"},
      {"PATCH", "/api/v1/containers/{ref}"},
      {"DELETE", "/api/v1/containers/{ref}"}}},
    {"build", {{"POST", "/api/v1/catalog/{name}/build"}}},
    {"pull", {{"POST", "/api/v1/images/pull"}}},
    {"define_services", {{"POST", "/api/v1/services"}}},
    {"scale_services", {{"POST", "/api/v1/services/{name}/scale"}}},
    {"submit_jobs", {{"POST", "/api/v1/jobs"}}},
    {"audit", {{"GET", "/api/v1/audit"}}},
    {"manage_volumes",
     {{"POST", "/api/v1/volumes"},
      {"DELETE", "/api/v1/volumes/{name}"},
      {"POST", "/api/v1/volumes/prune"}}},
    {"manage_networks", {{"POST", "/api/v1/networks"}, {"DELETE", "/api/v1/networks/{name}"}}},
    {"manage_stacks",
     {{"POST", "/api/v1/stacks"},
      {"PUT", "/api/v1/stacks/{name}"},
      {"DELETE", "/api/v1/stacks/{name}"}}},
};

/* whoami's `can` for ROLE (new reference). */
static json_object *
role_can_view(enum role role)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; i < sizeof(role_can) / sizeof(role_can[0]); i++) {
		int yes = 1;
		for (size_t k = 0; yes && role_can[i].rows[k].method; k++)
			yes = rt_allows(role, role_can[i].rows[k].method,
			                role_can[i].rows[k].pattern);
		jx_add_bool(o, role_can[i].flag, yes);
	}
	/* Operators may reach the pull route; their policy says whether they may pull. */
	if (!reg_may_pull(role))
		jx_add_bool(o, "pull", 0);
	return o;
}

/* A limit or default as JSON: null for 0, berth.conf's "none". */
static json_object *
int_or_null(int64_t v)
{
	return v > 0 ? json_object_new_int64(v) : NULL;
}

static json_object *
num_or_null(double v)
{
	return v > 0 ? json_object_new_double(v) : NULL;
}

/*
 * The caller role's policy, as much as a create form needs to check a spec
 * before sending it: the answer a refusal would give, without the round trip.
 * Sizes are bytes; null means no limit (or, for ports, no explicit host port).
 */
static json_object *
policy_view(const struct policy *p)
{
	json_object *o = json_object_new_object(), *ports = NULL;

	jx_add_ref(o, "images", p->images);
	if (p->port_min > 0) {
		ports = json_object_new_array();
		json_object_array_add(ports, json_object_new_int(p->port_min));
		json_object_array_add(ports, json_object_new_int(p->port_max));
	}
	json_object_object_add(o, "ports", ports);
	json_object_object_add(o, "memory_max", int_or_null(p->memory_max));
	json_object_object_add(o, "memory_default", int_or_null(p->memory_default));
	json_object_object_add(o, "cpus_max", num_or_null(p->cpus_max));
	json_object_object_add(o, "cpus_default", num_or_null(p->cpus_default));
	json_object_object_add(o, "pids_max", int_or_null(p->pids_max));
	json_object_object_add(o, "pids_default", int_or_null(p->pids_default));
	/* quota < 0 is unlimited; 0 is a real limit (no containers at all). */
	json_object_object_add(
	    o, "quota", p->quota.containers < 0 ? NULL : json_object_new_int(p->quota.containers));
	jx_add_bool(o, "privileged", p->privileged);
	jx_add_bool(o, "host_network", p->host_network);
	jx_add_bool(o, "bind_mounts", p->bind_mounts);
	jx_add_bool(o, "volumes", p->volumes);
	jx_add_bool(o, "cap_add", p->cap_add);
	jx_add_bool(o, "devices", p->devices);
	jx_add_bool(o, "exec_user", p->exec_user);
	return o;
}

/* {"used": N, "limit": L}; a negative limit is none (null). */
static void
add_use(json_object *v, const char *key, double used, double limit)
{
	json_object *u = json_object_new_object();

	if (used == (double)(int64_t)used)
		jx_add_int(u, "used", (int64_t)used);
	else
		json_object_object_add(u, "used", json_object_new_double(used));
	if (limit < 0)
		json_object_object_add(u, "limit", NULL);
	else if (limit == (double)(int64_t)limit)
		jx_add_int(u, "limit", (int64_t)limit);
	else
		json_object_object_add(u, "limit", json_object_new_double(limit));
	json_object_object_add(v, key, u);
}

/* What OWNER holds against each of its quotas (memory in bytes, cpus in cores). */
static enum berr
usage_view(struct op *o, const char *owner, json_object **out)
{
	const struct quota *q = own_quota(owner, o->role);
	struct usage u;
	enum berr e = own_usage(o, owner, NULL, NULL, &u);

	*out = NULL;
	if (e != B_OK)
		return e;
	*out = json_object_new_object();
	jx_add_str(*out, "owner", owner);
	add_use(*out, "containers", u.containers, q->containers);
	add_use(*out, "replicas", u.replicas, q->replicas);
	add_use(*out, "jobs", u.jobs, q->jobs);
	add_use(*out, "volumes", u.volumes, q->volumes);
	add_use(*out, "networks", u.networks, q->networks);
	add_use(*out, "memory", (double)u.memory, (double)q->memory);
	add_use(*out, "cpus", (double)u.nano_cpus / 1e9, q->cpus);
	return B_OK;
}

/*
 * The caller, their role and policy, and what they (and each of their
 * groups) hold against the quotas, so a form can check before sending.
 */
static enum berr
h_whoami(struct req *r)
{
	json_object *o = json_object_new_object(), *groups = json_object_new_array(), *u;
	const char *ns[OWN_NS_MAX];
	size_t k = own_namespaces(&r->op, ns, OWN_NS_MAX);
	enum berr e = usage_view(&r->op, ns[0], &u);

	jx_add_str(o, "user", r->op.user);
	jx_add_str(o, "role", role_name(r->op.role));
	json_object_object_add(o, "can", role_can_view(r->op.role));
	json_object_object_add(o, "policy", policy_view(&g_cfg->policy[r->op.role]));
	json_object_object_add(o, "usage", u);
	for (size_t i = 1; e == B_OK && i < k; i++) {
		const struct cfg_group *g = cfg_group(g_cfg, ns[i] + 1);
		json_object *gv = json_object_new_object();
		jx_add_str(gv, "name", ns[i]);
		jx_add_str(gv, "role", g->role == ROLE_NONE ? NULL : role_name(g->role));
		e = usage_view(&r->op, ns[i], &u);
		json_object_object_add(gv, "usage", u);
		json_object_array_add(groups, gv);
	}
	json_object_object_add(o, "groups", groups);
	if (e != B_OK) {
		json_object_put(o);
		return e;
	}
	rq_json(r, 200, o);
	return B_OK;
}

static void
schema_link(const struct sc_schema *s, void *arg)
{
	char url[96];

	if (!s->published)
		return;
	snprintf(url, sizeof(url), "/api/v1/schemas/%s", s->kind);
	jx_add_str(arg, s->kind, url);
}

static enum berr
h_schemas(struct req *r)
{
	json_object *o = json_object_new_object();

	mod_each_schema(schema_link, o);
	rq_json(r, 200, o);
	return B_OK;
}

static enum berr
h_schema(struct req *r)
{
	const struct sc_schema *s = mod_schema(r->args[0]);
	json_object *o;

	if (s == NULL || !s->published)
		return op_fail(&r->op, B_NOT_FOUND, NULL,
		               "no schema named %.64s; GET /api/v1/schemas lists them", r->args[0]);
	o = sc_json_schema(s);
	rq_text(r, 200, "application/schema+json", jx_text(o));
	json_object_put(o);
	return B_OK;
}

struct oa {
	json_object *paths;
	json_object *schemas;
};

static const char *
op_id(const struct rt_route *rt, char *buf, size_t n)
{
	size_t used = (size_t)snprintf(buf, n, "%s", rt->method);

	for (const char *p = rt->pattern; *p && used + 1 < n; p++) {
		char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			buf[used++] = c;
		else if (c == '/' || c == '_' || c == '.')
			buf[used++] = '_';
	}
	buf[used] = '\0';
	return buf;
}

/* One path argument or query parameter as OpenAPI says it. */
static json_object *
oa_param(const struct rt_param *d, const char *in)
{
	json_object *p = json_object_new_object(), *sch = json_object_new_object();

	jx_add_str(p, "name", d->name);
	jx_add_str(p, "in", in);
	if (strcmp(in, "path") == 0)
		jx_add_bool(p, "required", 1);
	if (d->desc && d->rule) {
		char text[256];
		snprintf(text, sizeof(text), "%s (%s)", d->desc, d->rule);
		jx_add_str(p, "description", text);
	} else if (d->desc || d->rule) {
		jx_add_str(p, "description", d->desc ? d->desc : d->rule);
	}
	if (d->type == P_INT && d->any == NULL) {
		jx_add_str(sch, "type", "integer");
		jx_add_int(sch, "minimum", d->min);
		jx_add_int(sch, "maximum", d->max);
	} else if (d->type == P_BOOL) {
		jx_add_str(sch, "type", "string");
		json_object_object_add(
		    sch, "enum",
		    json_tokener_parse("[\"1\",\"0\",\"true\",\"false\",\"yes\",\"no\"]"));
	} else {
		jx_add_str(sch, "type", "string");
		if (d->type == P_STR && d->max)
			jx_add_int(sch, "maxLength", d->max);
	}
	if (d->enums) {
		json_object *e = json_object_new_array();
		for (const char *const *v = d->enums; *v; v++)
			json_object_array_add(e, json_object_new_string(*v));
		json_object_object_add(sch, "enum", e);
	}
	if (strcmp(in, "query") == 0 && d->type != P_STR)
		jx_add_int(sch, "default", d->dflt);
	json_object_object_add(p, "schema", sch);
	return p;
}

/* A path argument's declaration among ARGS by the LEN bytes at NAME. */
static const struct rt_param *
oa_arg(const struct rt_param *args, const char *name, size_t len)
{
	for (const struct rt_param *d = args; d && d->name; d++)
		if (strlen(d->name) == len && memcmp(d->name, name, len) == 0)
			return d;
	return NULL;
}

static void
oa_one(const struct rt_route *rt, const struct rt_param *args, void *arg)
{
	struct oa *oa = arg;
	json_object *path = jx_obj(oa->paths, rt->pattern), *op, *params, *resp;
	char method[8], id[160], ref[96];
	size_t i;

	if (path == NULL) {
		path = json_object_new_object();
		json_object_object_add(oa->paths, rt->pattern, path);
	}
	for (i = 0; rt->method[i] && i < sizeof(method) - 1; i++)
		method[i] = (char)(rt->method[i] | 0x20);
	method[i] = '\0';
	op = json_object_new_object();
	jx_add_str(op, "summary", rt->summary);
	jx_add_str(op, "operationId", op_id(rt, id, sizeof(id)));
	params = json_object_new_array();
	for (const char *p = strchr(rt->pattern, '{'); p; p = strchr(p + 1, '{')) {
		const char *end = strchr(p, '}');
		const struct rt_param *d = oa_arg(args, p + 1, (size_t)(end - p - 1));
		if (d)
			json_object_array_add(params, oa_param(d, "path"));
	}
	for (const struct rt_param *d = rt->query; d && d->name; d++)
		json_object_array_add(params, oa_param(d, "query"));
	if (json_object_array_length(params))
		json_object_object_add(op, "parameters", params);
	else
		json_object_put(params);
	if (rt->schema) {
		json_object *rb = json_object_new_object(), *ct = json_object_new_object(),
		            *mt = json_object_new_object(), *sref = json_object_new_object();
		snprintf(ref, sizeof(ref), "#/components/schemas/%s", rt->schema->kind);
		jx_add_str(sref, "$ref", ref);
		json_object_object_add(mt, "schema", sref);
		json_object_object_add(ct, "application/json", mt);
		json_object_object_add(rb, "content", ct);
		jx_add_bool(rb, "required", 1);
		json_object_object_add(op, "requestBody", rb);
		if (!jx_get(oa->schemas, rt->schema->kind)) {
			json_object *s = sc_json_schema(rt->schema);
			json_object_object_del(s, "$schema");
			json_object_object_del(s, "$id");
			json_object_object_add(oa->schemas, rt->schema->kind, s);
		}
	}
	resp = json_tokener_parse(
	    "{\"2XX\":{\"description\":\"success\"},\"default\":{\"description\":\"error\","
	    "\"content\":{\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/"
	    "Error\"}}}}}");
	json_object_object_add(op, "responses", resp);
	if (rt->role > ROLE_NONE) {
		char role[64];
		snprintf(role, sizeof(role), "%s", role_name(rt->role));
		jx_add_str(op, "x-berth-role", role);
	}
	json_object_object_add(path, method, op);
}

/* The OpenAPI 3.1 document, built from the same rows that dispatch requests. */
json_object *
sys_openapi(void)
{
	struct oa oa = {json_object_new_object(), json_object_new_object()};
	json_object *o = json_object_new_object(), *info = json_object_new_object(),
	            *comp = json_object_new_object();

	jx_add_str(o, "openapi", "3.1.0");
	jx_add_str(info, "title", "berth");
	jx_add_str(info, "version", BERTH_VERSION);
	jx_add_str(info, "description",
	           "Container manager behind nginx: identity from nginx, roles, ownership and "
	           "policy enforced by berth, dockerd reached only through berth.");
	json_object_object_add(o, "info", info);
	json_object_object_add(
	    oa.schemas, "Error",
	    json_tokener_parse(
	        "{\"type\":\"object\",\"required\":[\"error\"],\"properties\":{\"error\":{"
	        "\"type\":\"object\",\"required\":[\"code\",\"message\"],\"properties\":{"
	        "\"code\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"},\"field\":{"
	        "\"type\":\"string\"},\"request_id\":{\"type\":\"string\"}}}}}"));
	rt_each(oa_one, &oa);
	json_object_object_add(o, "paths", oa.paths);
	json_object_object_add(comp, "schemas", oa.schemas);
	json_object_object_add(o, "components", comp);
	return o;
}

static enum berr
h_openapi(struct req *r)
{
	rq_json(r, 200, sys_openapi());
	return B_OK;
}

static void container_gauges(struct req *r, FILE *f);
static void job_gauges(struct req *r, FILE *f);

/* Live gauges appended to the counters, one function per source. */
static void (*const gauge_sources[])(struct req *r, FILE *f) = {container_gauges, job_gauges,
                                                                reg_gauges};

static int
count_status(const char *name, json_object *rec, void *arg)
{
	const char *st = jx_str(rec, "status");

	(void)name;
	if (st)
		jx_add_int(arg, st, jx_int(arg, st, 0) + 1);
	return 0;
}

/* Jobs by the status their records hold (the sweeper keeps them current). */
static void
job_gauges(struct req *r, FILE *f)
{
	json_object *counts = json_object_new_object();

	(void)r;
	st_each(ST_JOBS, count_status, counts);
	fprintf(f, "# HELP berth_jobs Jobs by status.\n# TYPE berth_jobs gauge\n");
	json_object_object_foreach(counts, k, v)
	    fprintf(f, "berth_jobs{status=\"%s\"} %lld\n", k, (long long)json_object_get_int64(v));
	json_object_put(counts);
}

/* Gauges read live from dockerd: containers of this instance by state. */
static void
container_gauges(struct req *r, FILE *f)
{
	json_object *list, *counts;

	if (ct_list(&r->op, CT_ALL, NULL, 0, &list) != B_OK) {
		r->op.err = B_OK; /* metrics still answer when dockerd does not */
		fprintf(f, "# dockerd did not answer: container gauges omitted\n");
		return;
	}
	counts = json_object_new_object();
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		const char *st = jx_str(json_object_array_get_idx(list, i), "State");
		if (st)
			jx_add_int(counts, st, jx_int(counts, st, 0) + 1);
	}
	fprintf(f, "# HELP berth_containers Managed containers of this instance, by state.\n"
	           "# TYPE berth_containers gauge\n");
	json_object_object_foreach(counts, k, v) fprintf(f, "berth_containers{state=\"%s\"} %lld\n",
	                                                 k, (long long)json_object_get_int64(v));
	json_object_put(counts);
	json_object_put(list);
}

static enum berr
h_metrics(struct req *r)
{
	char *text = mt_render(), *gauges = NULL;
	size_t glen = 0;
	FILE *f = open_memstream(&gauges, &glen);

	if (f) {
		fputs(text ? text : "", f);
		for (size_t i = 0; i < sizeof(gauge_sources) / sizeof(gauge_sources[0]); i++)
			gauge_sources[i](r, f);
		fclose(f);
	}
	rq_text(r, 200, "text/plain; version=0.0.4", gauges ? gauges : (text ? text : ""));
	free(text);
	free(gauges);
	return B_OK;
}

static enum berr
h_audit(struct req *r)
{
	json_object *o, *entries;
	char next[48];

	entries = au_read(rq_int(r, "since"), rq_str(r, "before"), (int)rq_int(r, "limit"), next,
	                  sizeof(next));
	if (entries == NULL)
		return op_fail(&r->op, B_BAD_REQUEST, "before",
		               "before must be a cursor from an earlier answer's next");
	o = json_object_new_object();
	json_object_object_add(o, "entries", entries);
	jx_add_str(o, "next", next[0] ? next : NULL);
	rq_json(r, 200, o);
	return B_OK;
}

static enum berr
h_seed_version(struct req *r)
{
	rq_text(r, 200, "text/plain; charset=utf-8", "berth " BERTH_VERSION "\n");
	return B_OK;
}

static const struct rt_param health_query[] = {
    {.name = "live", .type = P_BOOL, .desc = "Ping dockerd now, not the last second's answer."},
    {0}};
static const struct rt_param audit_query[] = {
    {.name = "since",
     .type = P_INT,
     .desc = "Only lines from this UNIX time on.",
     .min = 0,
     .max = 1LL << 40},
    {.name = "limit",
     .type = P_INT,
     .desc = "The newest N lines.",
     .min = 1,
     .max = 10000,
     .dflt = 200},
    {.name = "before",
     .type = P_STR,
     .desc = "Page back: the next cursor of an earlier answer.",
     .min = 1,
     .max = 64},
    {0}};

static const struct rt_route sys_routes[] = {
    {"GET", "/api/v1", h_index, ROLE_NONE, 0, NULL, "The endpoint index: one line per endpoint.",
     NULL},
    {"GET", "/api/v1/version", h_version, ROLE_NONE, 0, NULL, "berth and dockerd versions.", NULL},
    {"GET", "/api/v1/health", h_health, ROLE_NONE, 0, NULL,
     "Liveness: ok when dockerd answers (pinged at most once a second; ?live=1: now), else 503.",
     health_query},
    {"GET", "/api/v1/whoami", h_whoami, ROLE_VIEWER, 0, NULL,
     "The caller, their role and that role's policy (images, ports, memory and cpus limits "
     "and defaults, quota, which risky options are allowed), so forms can check before sending, "
     "what they and each of their groups hold against every quota (usage), and what the role "
     "may do (can).",
     NULL},
    {"GET", "/api/v1/schemas", h_schemas, ROLE_NONE, 0, NULL,
     "The published JSON Schemas of request bodies.", NULL},
    {"GET", "/api/v1/schemas/{kind}", h_schema, ROLE_NONE, 0, NULL,
     "JSON Schema of one request body (container, service, scale, job).", NULL},
    {"GET", "/api/v1/openapi.json", h_openapi, ROLE_NONE, 0, NULL,
     "The whole API as OpenAPI 3.1, produced from the route table.", NULL},
    {"GET", "/api/v1/audit", h_audit, ROLE_ADMIN, 0, NULL,
     "Who did what, when, with what result, oldest first: the newest ?limit=N (200) since "
     "?since=epoch; ?before=<next> pages back.",
     audit_query},
    {"GET", "/metrics", h_metrics, ROLE_NONE, RT_TEXT, NULL,
     "Prometheus metrics (nginx allows it from loopback only).", NULL},
    {"GET", "/version", h_seed_version, ROLE_NONE, RT_TEXT, NULL,
     "Seed 000: \"berth X.Y.Z\" as text.", NULL},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

static const struct rt_param sys_args[] = {
    {.name = "kind", .type = P_STR, .desc = "schema", .valid = name_valid, .rule = "a name"}, {0}};

const struct bmod mod_system = {
    .name = "system",
    .routes = sys_routes,
    .args = sys_args,
    .periodic = au_sweep,
};

/*
 * docker.c - the Docker door itself: its listener's rules (API version
 * prefix, Docker's error shape, the status Docker clients expect) and the
 * system routes: /_ping, /version, /info.  The rest of the Engine API is in
 * the dk*.c modules.  docs/docker-api.md says what each route does.
 */
#include "berth.h"
#include "doors/docker.h"
#include "engine/engine.h"
#include "lib/cfg.h"
#include "lib/json.h"
#include "relay/events.h"
#include "relay/ticket.h"
#include "res/containers.h"
#include "res/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Docker clients read the status only to tell "not found" and "conflict"
 * from the rest; berth's 422 (a field berth will not take) is Docker's 400.
 */
static enum berr
dd_map(enum berr e)
{
	return e == B_INVALID || e == B_MEDIA ? B_BAD_REQUEST : e;
}

void
dd_error(struct req *r)
{
	json_object *o = json_object_new_object();
	char msg[OP_MSGLEN + OP_FIELDLEN + 8];

	/* The CLI prints "Error response from daemon: " and this, so it names the field itself. */
	if (r->op.field[0] && !strstr(r->op.msg, r->op.field))
		snprintf(msg, sizeof(msg), "%s: %s", r->op.field, r->op.msg);
	else
		snprintf(msg, sizeof(msg), "%s", r->op.msg[0] ? r->op.msg : berr_code(r->op.err));
	jx_add_str(o, "message", msg);
	rq_json(r, berr_status(r->op.err), o);
}

void
dd_answer(struct req *r, int status, json_object *o)
{
	rq_json(r, status, o);
}

enum berr
dd_no_such(struct op *o, enum berr e, const char *what, const char *ref)
{
	if (e != B_NOT_FOUND)
		return e;
	return op_fail(o, B_NOT_FOUND, NULL, "No such %s: %.64s", what, ref ? ref : "");
}

int
dd_takes_held(struct req *r)
{
	const char *ua = rq_param(r, "HTTP_USER_AGENT");
	static const char cli[] = "Docker-Client/";
	char *end;
	long major;

	if (ua == NULL || strncmp(ua, cli, sizeof(cli) - 1) != 0)
		return 0;
	major = strtol(ua + sizeof(cli) - 1, &end, 10);
	return end != ua + sizeof(cli) - 1 && *end == '.' && major > 0 && major < 25;
}

void
dd_slash_name(const char *name, char *out, size_t n)
{
	snprintf(out, n, "/%s", name ? name : "");
}

/* ---- filters -------------------------------------------------------------- */

#define DD_FILTER_VALUE_MAX 1024

/* Adds V (a string value of filter KEY) to LIST; 400 when it is too long or too many. */
static enum berr
filter_add(struct op *o, json_object *list, const char *key, const char *v, size_t *count)
{
	if (v == NULL || strlen(v) > DD_FILTER_VALUE_MAX)
		return op_fail(o, B_BAD_REQUEST, "filters",
		               "filters: the values of %.40s must be strings of at most %d bytes",
		               key, DD_FILTER_VALUE_MAX);
	if (++*count > DD_FILTERS_MAX)
		return op_fail(o, B_BAD_REQUEST, "filters", "filters: more than %d values",
		               DD_FILTERS_MAX);
	json_object_array_add(list, json_object_new_string(v));
	return B_OK;
}

/* One filter's values, list form ["v"] or map form {"v": true}, into LIST. */
static enum berr
filter_values(struct op *o, const char *key, json_object *vals, json_object *list, size_t *count)
{
	enum berr e = B_OK;

	if (json_object_is_type(vals, json_type_array)) {
		for (size_t i = 0; e == B_OK && i < json_object_array_length(vals); i++) {
			json_object *v = json_object_array_get_idx(vals, i);
			e = filter_add(o, list, key,
			               json_object_is_type(v, json_type_string)
			                   ? json_object_get_string(v)
			                   : NULL,
			               count);
		}
		return e;
	}
	if (!json_object_is_type(vals, json_type_object))
		return op_fail(o, B_BAD_REQUEST, "filters",
		               "filters: %.40s must be a list of strings or an object of them",
		               key);
	json_object_object_foreach(vals, k, b)
	{
		if (e == B_OK && !json_object_is_type(b, json_type_boolean))
			e = op_fail(o, B_BAD_REQUEST, "filters",
			            "filters: %.40s: each value maps to true", key);
		if (e == B_OK)
			e = filter_add(o, list, key, k, count);
	}
	return e;
}

static int
key_known(const char *const *keys, const char *k)
{
	for (; keys && *keys; keys++)
		if (strcmp(*keys, k) == 0)
			return 1;
	return 0;
}

enum berr
dd_filters_parse(struct op *o, const char *text, const char *const *keys, json_object **out)
{
	json_object *in, *f;
	char perr[96];
	size_t count = 0;
	enum berr e = B_OK;

	*out = NULL;
	if (text == NULL || *text == '\0') {
		*out = json_object_new_object();
		return B_OK;
	}
	in = jx_parse(text, strlen(text), perr, sizeof(perr));
	if (in == NULL || !json_object_is_type(in, json_type_object)) {
		json_object_put(in);
		return op_fail(o, B_BAD_REQUEST, "filters", "filters must be a JSON object");
	}
	f = json_object_new_object();
	json_object_object_foreach(in, k, vals)
	{
		json_object *list;
		if (!key_known(keys, k)) {
			e = op_fail(o, B_BAD_REQUEST, "filters", "invalid filter '%.40s'", k);
			break;
		}
		list = json_object_new_array();
		json_object_object_add(f, k, list);
		if ((e = filter_values(o, k, vals, list, &count)) != B_OK)
			break;
	}
	json_object_put(in);
	if (e != B_OK) {
		json_object_put(f);
		return e;
	}
	*out = f;
	return B_OK;
}

json_object *
dd_filter(json_object *f, const char *key)
{
	json_object *v = jx_arr(f, key);

	return v && json_object_array_length(v) > 0 ? v : NULL;
}

int
dd_filter_labels(json_object *f, json_object *labels)
{
	json_object *want = dd_filter(f, "label");

	for (size_t i = 0; want && i < json_object_array_length(want); i++) {
		const char *w = json_object_get_string(json_object_array_get_idx(want, i));
		const char *eq = strchr(w, '=');
		char key[256];
		const char *have;

		snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - w) : (int)strlen(w), w);
		have = jx_str(labels, key);
		if (have == NULL || (eq && strcmp(have, eq + 1) != 0))
			return 0;
	}
	return 1;
}

int
dd_filter_is(json_object *f, const char *key, const char *value)
{
	json_object *want = dd_filter(f, key);

	for (size_t i = 0; want && i < json_object_array_length(want); i++)
		if (value &&
		    strcmp(json_object_get_string(json_object_array_get_idx(want, i)), value) == 0)
			return 1;
	return want == NULL;
}

/*
 * Every route is served bare and under /v1.NN/ (NN up to DD_API_MAX), as
 * dockerd does; a newer client is told which version to ask for.
 */
static enum berr
dd_prepare(struct req *r)
{
	const char *p = r->path;
	char *end;
	long minor;

	if (strncmp(p, "/v1.", 4) != 0)
		return B_OK;
	minor = strtol(p + 4, &end, 10);
	if (end == p + 4 || (*end != '/' && *end != '\0'))
		return op_fail(&r->op, B_NOT_FOUND, NULL, "page not found");
	if (minor > DD_API_MAX)
		return op_fail(&r->op, B_BAD_REQUEST, NULL,
		               "client version 1.%ld is too new. Maximum supported API version is "
		               "1.%d",
		               minor, DD_API_MAX);
	if (minor < DD_API_MIN)
		return op_fail(&r->op, B_BAD_REQUEST, NULL,
		               "client version 1.%ld is too old. Minimum supported API version is "
		               "1.%d, please upgrade your client to a newer version",
		               minor, DD_API_MIN);
	r->api_minor = (int)minor;
	memmove(r->path, end, strlen(end) + 1);
	if (r->path[0] == '\0')
		strcpy(r->path, "/");
	return B_OK;
}

const struct rt_door door_docker = {
    .name = "docker",
    .map = dd_map,
    .modules = docker_modules,
    .prepare = dd_prepare,
    .error = dd_error,
    .flags = DOOR_ANY_CTYPE | DOOR_LAX_QUERY,
};

static enum berr
h_ping(struct req *r)
{
	rq_text(r, 200, "text/plain; charset=utf-8", "OK");
	return B_OK;
}

/* dockerd's /version, speaking the door's API version and naming berth. */
static enum berr
h_version(struct req *r)
{
	json_object *v, *out, *plat, *comps, *eng, *det;
	char api[16], name[96];
	enum berr e = eng_version(&r->op, &v);

	if (e != B_OK)
		return e;
	out = json_object_new_object();
	plat = json_object_new_object();
	snprintf(name, sizeof(name), "berth %s (Docker Engine %s)", BERTH_VERSION,
	         jx_str(v, "Version") ? jx_str(v, "Version") : "?");
	jx_add_str(plat, "Name", name);
	json_object_object_add(out, "Platform", plat);
	snprintf(api, sizeof(api), "1.%d", DD_API_MAX);
	/* dockerd may speak a newer API than the door: the door's tables decide. */
	if (jx_str(v, "ApiVersion") && strcmp(jx_str(v, "ApiVersion"), api) < 0 &&
	    strlen(jx_str(v, "ApiVersion")) == strlen(api))
		snprintf(api, sizeof(api), "%s", jx_str(v, "ApiVersion"));
	jx_add_str(out, "ApiVersion", api);
	snprintf(api, sizeof(api), "1.%d", DD_API_MIN);
	jx_add_str(out, "MinAPIVersion", api);
	static const char *const keep[] = {"Version", "GitCommit",     "GoVersion", "Os",
	                                   "Arch",    "KernelVersion", "BuildTime", NULL};
	for (const char *const *k = keep; *k; k++)
		jx_add_ref(out, *k, jx_get(v, *k));
	/* The CLI prints the engine's lines from its component's details. */
	comps = json_object_new_array();
	eng = json_object_new_object();
	det = json_object_new_object();
	jx_add_str(eng, "Name", "Engine");
	jx_add_str(eng, "Version", jx_str(v, "Version"));
	json_object_object_foreach(out, k, val)
	{
		if (strcmp(k, "Platform") != 0 && strcmp(k, "Version") != 0)
			jx_add_ref(det, k, val);
	}
	jx_add_str(det, "Experimental", "false");
	json_object_object_add(eng, "Details", det);
	json_object_array_add(comps, eng);
	json_object_object_add(out, "Components", comps);
	json_object_put(v);
	dd_answer(r, 200, out);
	return B_OK;
}

/* The caller's containers by state, as /info counts them. */
static enum berr
count_containers(struct req *r, json_object *out)
{
	json_object *list;
	int running = 0, paused = 0, stopped = 0;
	size_t n;
	enum berr e = ct_list_visible(&r->op, CT_ALL, NULL, &list);

	if (e != B_OK)
		return e;
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		const char *st = jx_str(json_object_array_get_idx(list, i), "State");
		if (st && strcmp(st, "running") == 0)
			running++;
		else if (st && strcmp(st, "paused") == 0)
			paused++;
		else
			stopped++;
	}
	json_object_put(list);
	jx_add_int(out, "Containers", (int64_t)n);
	jx_add_int(out, "ContainersRunning", running);
	jx_add_int(out, "ContainersPaused", paused);
	jx_add_int(out, "ContainersStopped", stopped);
	return B_OK;
}

/*
 * /info for the caller: their own containers counted, the host described
 * only as far as a client needs (OS, architecture, CPUs, memory, storage
 * driver, versions); nothing of the daemon's paths, plugins, registries,
 * proxies, labels or swarm membership, nor of anyone else's objects.
 */
static enum berr
h_info(struct req *r)
{
	static const char *const keep[] = {"Driver",
	                                   "MemoryLimit",
	                                   "SwapLimit",
	                                   "KernelMemory",
	                                   "CpuCfsPeriod",
	                                   "CpuCfsQuota",
	                                   "CPUShares",
	                                   "CPUSet",
	                                   "PidsLimit",
	                                   "IPv4Forwarding",
	                                   "OomKillDisable",
	                                   "CgroupDriver",
	                                   "CgroupVersion",
	                                   "KernelVersion",
	                                   "OperatingSystem",
	                                   "OSVersion",
	                                   "OSType",
	                                   "Architecture",
	                                   "NCPU",
	                                   "MemTotal",
	                                   "ServerVersion",
	                                   "DefaultRuntime",
	                                   "SecurityOptions",
	                                   "IndexServerAddress",
	                                   "Isolation",
	                                   "LiveRestoreEnabled",
	                                   NULL};
	json_object *v, *out, *sw;
	enum berr e = eng_info(&r->op, &v);

	if (e != B_OK)
		return e;
	out = json_object_new_object();
	e = count_containers(r, out);
	if (e != B_OK)
		goto out;
	for (const char *const *k = keep; *k; k++)
		jx_add_ref(out, *k, jx_get(v, *k));
	jx_add_str(out, "ID", "");
	jx_add_str(out, "Name", "berth");
	jx_add_str(out, "DockerRootDir", "");
	jx_add_bool(out, "Debug", 0);
	jx_add_bool(out, "ExperimentalBuild", 0);
	json_object_object_add(out, "Labels", json_object_new_array());
	json_object_object_add(out, "Warnings", json_object_new_array());
	sw = json_object_new_object();
	jx_add_str(sw, "LocalNodeState", "inactive");
	json_object_object_add(out, "Swarm", sw);
	dd_answer(r, 200, out);
	out = NULL;
out:
	json_object_put(out);
	json_object_put(v);
	return e;
}

/* BuildKit opens a gRPC session berth cannot inspect: the classic builder is the door's. */
static enum berr
h_session(struct req *r)
{
	return op_fail(&r->op, B_INVALID, NULL,
	               "berth does not take BuildKit sessions: build with the classic builder "
	               "(export DOCKER_BUILDKIT=0; docker-compose: COMPOSE_DOCKER_CLI_BUILD=0)");
}

/* ---- events ----------------------------------------------------------------- */

/* Docker's since/until: unix seconds, with up to nine decimals; -1 when it is none. */
static long long
docker_time(const char *s)
{
	long long sec = 0, ns = 0;
	int digits = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return 0;
	for (; *p >= '0' && *p <= '9' && p - s < 12; p++)
		sec = sec * 10 + (*p - '0');
	if (p == s)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
			ns = ns * 10 + (*p - '0');
	if (*p != '\0')
		return -1;
	for (; digits < 9; digits++)
		ns *= 10;
	return sec * 1000000000LL + ns;
}

/* The relay's kind bits for Docker's type= values; image, daemon, plugin events are not shown. */
static unsigned
event_bits(json_object *types)
{
	unsigned bits = 0;

	if (types == NULL)
		return EV_CONTAINER | EV_SERVICE | EV_JOB | EV_VOLUME | EV_NETWORK;
	for (size_t i = 0; i < json_object_array_length(types); i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(types, i));
		if (strcmp(t, "container") == 0)
			bits |= EV_CONTAINER | EV_SERVICE | EV_JOB;
		else if (strcmp(t, "volume") == 0)
			bits |= EV_VOLUME;
		else if (strcmp(t, "network") == 0)
			bits |= EV_NETWORK;
	}
	return bits;
}

/*
 * GET /events: dockerd's own event stream, held by the relay (events mode,
 * format docker), kept to the caller's containers (by berth's owner and
 * instance labels), volumes and networks (by their namespaced Docker
 * names, since dockerd gives those events no labels), with the caller's
 * names and without berth's labels.  Image, daemon and plugin events are
 * the host's and never shown.  ?until= ends it.
 */
static enum berr
h_events(struct req *r)
{
	static const char *const keys[] = {"type", "event", NULL};
	static const char *const all[] = {"container", "volume", "network", NULL};
	long long since = docker_time(rq_str(r, "since")), until = docker_time(rq_str(r, "until"));
	json_object *f = NULL, *tk;
	enum berr e = dd_filters_parse(&r->op, rq_str(r, "filters"), keys, &f);
	unsigned bits = event_bits(dd_filter(f, "type"));
	char label[160];

	if (e == B_OK && (since < 0 || until < 0))
		e = op_fail(&r->op, B_BAD_REQUEST, since < 0 ? "since" : "until",
		            "%s must be a unix timestamp (seconds[.nanoseconds])",
		            since < 0 ? "since" : "until");
	if (e != B_OK) {
		json_object_put(f);
		return e;
	}
	tk = json_object_new_object();
	jx_add_str(tk, "mode", "events");
	jx_add_str(tk, "format", "docker");
	jx_add_str(tk, "instance", g_cfg->instance);
	jx_add_int(tk, "types", bits);
	jx_add_int(tk, "after", since > 0 ? since - 1 : 0); /* Docker's since includes it */
	jx_add_ref(tk, "actions", dd_filter(f, "event"));
	ev_add_owners(&r->op, tk);
	/* Only container events carry labels: the instance's alone can go to dockerd. */
	snprintf(label, sizeof(label), LBL_INSTANCE "=%s", g_cfg->instance);
	e = eng_events_ticket(&r->op, all,
	                      bits == (EV_CONTAINER | EV_SERVICE | EV_JOB) ? label : NULL, since,
	                      until, tk);
	json_object_put(f);
	if (e != B_OK) {
		json_object_put(tk);
		return e;
	}
	return tk_hand_off(r, tk);
}

static const struct rt_param q_events[] = {
    {.name = "since",
     .type = P_STR,
     .desc = "From this unix time (dockerd's short buffer).",
     .max = 32},
    {.name = "until", .type = P_STR, .desc = "Up to this unix time: the stream ends.", .max = 32},
    {.name = "filters",
     .type = P_STR,
     .desc = "Docker's filters (JSON): type (container, volume, network), event.",
     .max = 8192},
    {0}};

static const struct rt_route dd_sys_routes[] = {
    {"GET", "/_ping", h_ping, ROLE_NONE, 0, NULL, "OK, with the API version in the headers.", NULL},
    {"GET", "/version", h_version, ROLE_VIEWER, 0, NULL, "Versions (the door's API version).",
     NULL},
    {"GET", "/info", h_info, ROLE_VIEWER, 0, NULL,
     "The caller's container counts and what a client needs of the host.", NULL},
    {"GET", "/events", h_events, ROLE_VIEWER, RT_STREAM, NULL,
     "Events of the caller's containers, volumes and networks, dockerd's lines with their names "
     "(?since, ?until, filters type and event).",
     q_events},
    {"POST", "/session", h_session, ROLE_VIEWER, 0, NULL, "Refused: BuildKit sessions.", NULL},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

const struct rt_param dd_args[] = {{.name = "id",
                                    .type = P_STR,
                                    .desc = "object",
                                    .valid = ref_valid,
                                    .rule = "a name, id or unique id prefix"},
                                   {.name = "name",
                                    .type = P_STR,
                                    .desc = "object",
                                    .min = 1,
                                    .max = 255,
                                    .rule = "1 to 255 characters"},
                                   {0}};

const struct bmod mod_dd_system = {
    .name = "docker-system",
    .routes = dd_sys_routes,
    .args = dd_args,
};

const struct bmod *const docker_modules[] = {
    &mod_dd_system,  &mod_dd_containers, &mod_dd_exec, &mod_dd_images,
    &mod_dd_volumes, &mod_dd_networks,   NULL,
};

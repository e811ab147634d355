/*
 * cfg.c - loading and validating berth.conf.  Everything is checked here, at
 * start-up or reload, so the request path never meets a half-valid config.
 */
#include "berth.h"
#include "lib/cfg.h"
#include "lib/hostpath.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cfg *g_cfg;
struct cfg_over cfg_over;

/* Who checks each section of named entries (the modules register at start-up). */
static struct {
	const char *section;
	cfg_check_fn fn;
} checks[8];

void
cfg_register_check(const char *section, cfg_check_fn fn)
{
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (checks[i].section == NULL || strcmp(checks[i].section, section) == 0) {
			checks[i].section = section;
			checks[i].fn = fn;
			return;
		}
	}
}

static cfg_check_fn
checker(const char *section)
{
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]) && checks[i].section; i++)
		if (strcmp(checks[i].section, section) == 0)
			return checks[i].fn;
	return NULL;
}

/*
 * ERR collects every error of the file, one "file:line: what" per line, so a
 * bad berth.conf is fixed in one round trip; FAILED counts them.
 */
struct ctx {
	struct cfg *c;
	char *err;
	size_t errlen;
	int failed;
};

#define CFG_MAX_ERRORS 20

static void
fail(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	const char *file = x->c->path ? x->c->path : "berth.conf";
	int line = s ? (int)config_setting_source_line(s) : 0;
	size_t used = x->failed ? strlen(x->err) : 0;
	const char *sep = x->failed ? "\n" : "";

	if (++x->failed > CFG_MAX_ERRORS + 1)
		return;
	if (x->failed == CFG_MAX_ERRORS + 1) {
		if (used + 32 < x->errlen)
			snprintf(x->err + used, x->errlen - used, "\n(more errors not shown)");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s && config_setting_source_file(s))
		file = config_setting_source_file(s);
	/* Only whole lines: one that does not fit is left out rather than cut. */
	if ((size_t)snprintf(NULL, 0, "%s%s:%d: %s", sep, file, line, msg) < x->errlen - used)
		snprintf(x->err + used, x->errlen - used, "%s%s:%d: %s", sep, file, line, msg);
}

int64_t
cfg_parse_size(const char *s)
{
	char *end;
	long long v;
	int64_t mul = 1;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v < 0)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case '\0':
		break;
	case 'k':
		mul = 1024;
		end++;
		break;
	case 'm':
		mul = 1024 * 1024;
		end++;
		break;
	case 'g':
		mul = 1024LL * 1024 * 1024;
		end++;
		break;
	default:
		return -1;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0' || v > INT64_MAX / mul)
		return -1;
	return (int64_t)v * mul;
}

/* Converts any libconfig setting into the equivalent json-c value. */
static json_object *
to_json(const config_setting_t *s)
{
	json_object *o;
	int n;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		return json_object_new_int64(config_setting_get_int(s));
	case CONFIG_TYPE_INT64:
		return json_object_new_int64(config_setting_get_int64(s));
	case CONFIG_TYPE_FLOAT:
		return json_object_new_double(config_setting_get_float(s));
	case CONFIG_TYPE_STRING:
		return json_object_new_string(config_setting_get_string(s));
	case CONFIG_TYPE_BOOL:
		return json_object_new_boolean(config_setting_get_bool(s));
	case CONFIG_TYPE_GROUP:
		o = json_object_new_object();
		n = config_setting_length(s);
		for (int i = 0; i < n; i++) {
			config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			json_object_object_add(o, config_setting_name(e), to_json(e));
		}
		return o;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		o = json_object_new_array();
		n = config_setting_length(s);
		for (int i = 0; i < n; i++)
			json_object_array_add(o, to_json(config_setting_get_elem(s, (unsigned)i)));
		return o;
	default:
		return NULL;
	}
}

/* Refuses any member of group S not in KEYS, so a misspelt option fails loudly. */
static void
check_keys(struct ctx *x, const config_setting_t *s, const char *const *keys)
{
	int n = config_setting_length(s);

	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(e);
		int ok = 0;
		for (const char *const *k = keys; *k; k++)
			if (strcmp(*k, name) == 0)
				ok = 1;
		if (!ok)
			fail(x, e, "unknown setting \"%s\"", name);
	}
}

static const char *
get_str(struct ctx *x, const config_setting_t *g, const char *key, const char *dflt)
{
	config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;

	if (s == NULL)
		return dflt;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		fail(x, s, "%s must be a string", key);
		return dflt;
	}
	return config_setting_get_string(s);
}

static long long
get_int(struct ctx *x, const config_setting_t *g, const char *key, long long dflt, long long min,
        long long max)
{
	config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;
	long long v;

	if (s == NULL)
		return dflt;
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else {
		fail(x, s, "%s must be an integer", key);
		return dflt;
	}
	if (v < min || v > max) {
		fail(x, s, "%s must be between %lld and %lld", key, min, max);
		return dflt;
	}
	return v;
}

static int
get_bool(struct ctx *x, const config_setting_t *g, const char *key, int dflt)
{
	config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;

	if (s == NULL)
		return dflt;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		fail(x, s, "%s must be true or false", key);
		return dflt;
	}
	return config_setting_get_bool(s);
}

/*
 * A resource limit: a size (or, with CPUS, a number of cores, or with a plain
 * count a positive integer), or "unlimited" (returned as 0).  Built-in
 * defaults are never unlimited: only the file can say so, per role.
 */
enum limit_kind { LIM_SIZE, LIM_COUNT };

static int64_t
get_limit(struct ctx *x, const config_setting_t *g, const char *key, int64_t dflt,
          enum limit_kind kind, int64_t floor)
{
	config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;
	int64_t v = -1;

	if (s == NULL)
		return dflt;
	if (config_setting_type(s) == CONFIG_TYPE_STRING &&
	    strcmp(config_setting_get_string(s), "unlimited") == 0)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_STRING && kind == LIM_SIZE)
		v = cfg_parse_size(config_setting_get_string(s));
	else if (config_setting_type(s) == CONFIG_TYPE_INT ||
	         config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	if (v < floor) {
		fail(x, s, "%s must be %s of at least %lld, or \"unlimited\"", key,
		     kind == LIM_SIZE ? "a size such as 512m (bytes)" : "a number",
		     (long long)floor);
		return dflt;
	}
	return v;
}

static double
get_float(struct ctx *x, const config_setting_t *g, const char *key, double dflt)
{
	config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;
	double v;

	if (s == NULL)
		return dflt;
	if (config_setting_type(s) == CONFIG_TYPE_STRING &&
	    strcmp(config_setting_get_string(s), "unlimited") == 0)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else {
		fail(x, s, "%s must be a number, or \"unlimited\"", key);
		return dflt;
	}
	/* Below 0.01 cores dockerd truncates NanoCpus to 0, which is no limit at all. */
	if (v < POL_CPUS_MIN || v > 1024) {
		fail(x, s, "%s must be between %g and 1024, or \"unlimited\"", key, POL_CPUS_MIN);
		return dflt;
	}
	return v;
}

/* A list of strings, as a json array (an empty one when absent). */
static json_object *
get_strlist(struct ctx *x, const config_setting_t *g, const char *key)
{
	config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;
	json_object *a = json_object_new_array();
	int n;

	if (s == NULL)
		return a;
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s)) {
		fail(x, s, "%s must be a list of strings", key);
		return a;
	}
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			fail(x, e, "%s must be a list of strings", key);
			break;
		}
		json_object_array_add(a, json_object_new_string(config_setting_get_string(e)));
	}
	return a;
}

static enum role
get_role(struct ctx *x, const config_setting_t *g, const char *key, enum role dflt)
{
	config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;
	enum role r = dflt;

	if (s == NULL)
		return dflt;
	if (config_setting_type(s) != CONFIG_TYPE_STRING ||
	    role_parse(config_setting_get_string(s), &r) != 0)
		fail(x, s, "%s must be one of none, viewer, operator, admin", key);
	return r;
}

/*
 * Built-in quotas: enough for a team's test runs, never unbounded (only
 * berth.conf says "unlimited").  The sums allow the container count at the
 * default limits several times over.
 */
static void
quota_defaults(struct quota *q, enum role r)
{
	int admin = r == ROLE_ADMIN;

	q->containers = admin ? 100 : 20;
	q->volumes = admin ? 100 : 20;
	q->networks = admin ? 50 : 10;
	q->replicas = admin ? 200 : 50;
	q->jobs = admin ? 50 : 10;
	q->memory = (admin ? 64LL : 16LL) << 30;
	q->cpus = admin ? 64 : 16;
	q->volume_size = (admin ? 100LL : 20LL) << 30;
}

static void
policy_defaults(struct policy *p, enum role r)
{
	memset(p, 0, sizeof(*p));
	p->images = json_object_new_array();
	p->networks = json_object_new_array();
	p->capabilities = json_object_new_array();
	p->device_paths = json_object_new_array();
	p->bind_sources = json_object_new_array();
	quota_defaults(&p->quota, r);
	/* Nothing runs unbounded unless berth.conf says "unlimited" (docs/configuration.md). */
	p->memory_default = 256LL << 20;
	p->memory_max = 2LL << 30;
	p->cpus_default = 1;
	p->cpus_max = 2;
	p->pids_default = 256;
	p->pids_max = 4096;
	p->log_size = 10LL << 20;
	p->log_files = 3;
	p->pull = r == ROLE_ADMIN;
}

static void
policy_free(struct policy *p)
{
	json_object_put(p->images);
	json_object_put(p->networks);
	json_object_put(p->capabilities);
	json_object_put(p->device_paths);
	json_object_put(p->bind_sources);
}

/* A default above its maximum (or unlimited under a bounded maximum) could never apply. */
static void
check_limit_pair(struct ctx *x, const config_setting_t *g, const char *key, double dflt, double max)
{
	config_setting_t *s = config_setting_get_member(g, key);

	if (max > 0 && (dflt == 0 || dflt > max))
		fail(x, s ? s : g, "%s (%s) is above %s_max", key,
		     dflt == 0 ? "unlimited" : "default", key);
}

static void
check_limits(struct ctx *x, const config_setting_t *g, const struct policy *p)
{
	check_limit_pair(x, g, "memory", (double)p->memory_default, (double)p->memory_max);
	check_limit_pair(x, g, "cpus", p->cpus_default, p->cpus_max);
	check_limit_pair(x, g, "pids", (double)p->pids_default, (double)p->pids_max);
}

/*
 * bind_sources and device_paths entries are canonical absolute paths (or
 * "*"), so the request check compares strings exactly; "/" is refused so
 * that handing out the whole host is spelt "*" and cannot happen by accident.
 */
static void
check_path_list(struct ctx *x, const config_setting_t *g, const char *key, int devices)
{
	config_setting_t *s = config_setting_get_member(g, key);
	int n = s && config_setting_is_aggregate(s) ? config_setting_length(s) : 0;

	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e), *why;

		if (v == NULL || strcmp(v, "*") == 0)
			continue;
		why = hp_canonical(v, strlen(v));
		if (why == NULL && strcmp(v, "/") == 0)
			why = "is the host's root; write \"*\" to allow any path (host-root "
			      "equivalent)";
		if (why == NULL && devices && !hp_within("/dev", v))
			why = "is not under /dev (a device can only be given as /dev/...)";
		if (why) {
			fail(x, e, "policy.%s.%s[%d]: %s %s", config_setting_name(g), key, i, v,
			     why);
			return;
		}
	}
}

/* One bind_sources or device_paths entry, with where berth.conf has it. */
struct path_entry {
	const char *path, *role, *key;
	config_setting_t *s;
	int idx;
};

/* Fills OUT (room for MAX) with every role's entries of KEY but "*"; returns how many there are. */
static size_t
path_entries(const config_setting_t *pol, const char *key, struct path_entry *out, size_t max)
{
	int nr = config_setting_length(pol);
	size_t k = 0;

	for (int r = 0; r < nr; r++) {
		config_setting_t *g = config_setting_get_elem(pol, (unsigned)r);
		config_setting_t *l = config_setting_get_member(g, key);
		int n = l ? config_setting_length(l) : 0;
		for (int i = 0; i < n; i++) {
			config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
			const char *v = config_setting_get_string(e);
			if (v == NULL || strcmp(v, "*") == 0)
				continue;
			if (k < max)
				out[k] = (struct path_entry){v, config_setting_name(g), key, e, i};
			k++;
		}
	}
	return k;
}

/* 1 when canonical paths A and B are the same or one holds the other. */
static int
paths_overlap(const char *a, const char *b)
{
	return hp_within(a, b) || hp_within(b, a);
}

/* Fails at E, which clashes with the earlier entry O because of WHY. */
static void
clash(struct ctx *x, const struct path_entry *e, const struct path_entry *o, const char *why)
{
	fail(x, e->s, "policy.%s.%s[%d]: %s %s %s (policy.%s.%s[%d]): %s", e->role, e->key, e->idx,
	     e->path, strcmp(e->key, o->key) ? "overlaps bind source" : "and", o->path, o->role,
	     o->key, o->idx, why);
}

/*
 * Across every role: no bind source may hold another (a container given the
 * outer one could replace the inner one with a link between berth's check
 * and dockerd's mount), and no device path may overlap a bind source (a
 * container could make device nodes there).
 */
static void
check_path_overlap(struct ctx *x, const config_setting_t *pol)
{
	size_t nb = path_entries(pol, "bind_sources", NULL, 0);
	size_t nd = path_entries(pol, "device_paths", NULL, 0);
	struct path_entry *b = calloc(nb + nd + 1, sizeof(*b)), *d;

	if (b == NULL) {
		fail(x, pol, "out of memory");
		return;
	}
	d = b + nb;
	path_entries(pol, "bind_sources", b, nb);
	path_entries(pol, "device_paths", d, nd);
	for (size_t i = 0; i < nb; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(b[i].path, b[j].path) && paths_overlap(b[i].path, b[j].path))
				clash(x, &b[i], &b[j],
				      "bind sources may not nest (a container given the outer one "
				      "could replace the inner one with a link)");
	for (size_t i = 0; i < nd; i++)
		for (size_t j = 0; j < nb; j++)
			if (paths_overlap(d[i].path, b[j].path))
				clash(x, &d[i], &b[j],
				      "a container it is bound into could make device nodes there");
	free(b);
}

/* One quota value: a count (or size, or cores) of at least 0, or "unlimited" (-1). */
static double
quota_value(struct ctx *x, const config_setting_t *s, const char *key, int size, double dflt)
{
	double v = -2;

	if (s == NULL)
		return dflt;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *str = config_setting_get_string(s);
		if (strcmp(str, "unlimited") == 0)
			return -1;
		if (size)
			v = (double)cfg_parse_size(str);
	} else if (config_setting_type(s) == CONFIG_TYPE_INT ||
	           config_setting_type(s) == CONFIG_TYPE_INT64) {
		v = (double)config_setting_get_int64(s);
	} else if (config_setting_type(s) == CONFIG_TYPE_FLOAT && strcmp(key, "cpus") == 0) {
		v = config_setting_get_float(s);
	}
	if (v < 0 || v > 1e15) {
		fail(x, s, "quota.%s must be %s, or \"unlimited\"", key,
		     size ? "a size such as 8g (bytes)" : "a number of at least 0");
		return dflt;
	}
	return v;
}

/*
 * quota = 20 (containers only, as before) or quota = { containers = 20;
 * volumes = 10; networks = 5; replicas = 50; jobs = 10; memory = "16g";
 * cpus = 16; volume_size = "20g"; }; what is not named keeps DFLT's value.
 */
static void
load_quota(struct ctx *x, const config_setting_t *s, struct quota *q)
{
	static const char *const keys[] = {"containers", "volumes",     "networks",
	                                   "replicas",   "jobs",        "memory",
	                                   "cpus",       "volume_size", NULL};
	config_setting_t *m;

	if (s == NULL)
		return;
	if (config_setting_type(s) == CONFIG_TYPE_INT) {
		q->containers = config_setting_get_int(s);
		if (q->containers < -1 || q->containers > 100000)
			fail(x, s, "quota must be between -1 and 100000, or a group");
		return;
	}
	if (!config_setting_is_group(s)) {
		fail(x, s, "quota must be a number of containers, or a group of quotas");
		return;
	}
	check_keys(x, s, keys);
#define QV(k, size) quota_value(x, config_setting_get_member(s, #k), #k, size, (double)q->k)
	q->containers = (int)QV(containers, 0);
	q->volumes = (int)QV(volumes, 0);
	q->networks = (int)QV(networks, 0);
	q->replicas = (int)QV(replicas, 0);
	q->jobs = (int)QV(jobs, 0);
	q->memory = (int64_t)QV(memory, 1);
	q->cpus = QV(cpus, 0);
	q->volume_size = (int64_t)QV(volume_size, 1);
#undef QV
	m = config_setting_get_member(s, "containers");
	if (m && q->containers > 100000)
		fail(x, m, "quota.containers must be at most 100000");
}

static void
load_policy(struct ctx *x, const config_setting_t *g, struct policy *p)
{
	static const char *const keys[] = {
	    "images",       "privileged",  "host_network", "host_pid",
	    "host_ipc",     "bind_mounts", "volumes",      "cap_add",
	    "devices",      "networks",    "capabilities", "device_paths",
	    "bind_sources", "ports",       "quota",        "memory",
	    "memory_max",   "cpus",        "cpus_max",     "pids",
	    "pids_max",     "log_size",    "log_files",    "exec_user",
	    "pull",         NULL};
	config_setting_t *ports;

	if (!config_setting_is_group(g)) {
		fail(x, g, "policy.%s must be a group", config_setting_name(g));
		return;
	}
	check_keys(x, g, keys);
	json_object_put(p->images);
	p->images = get_strlist(x, g, "images");
	json_object_put(p->networks);
	p->networks = get_strlist(x, g, "networks");
	json_object_put(p->capabilities);
	p->capabilities = get_strlist(x, g, "capabilities");
	json_object_put(p->device_paths);
	p->device_paths = get_strlist(x, g, "device_paths");
	check_path_list(x, g, "device_paths", 1);
	json_object_put(p->bind_sources);
	p->bind_sources = get_strlist(x, g, "bind_sources");
	check_path_list(x, g, "bind_sources", 0);
	p->privileged = get_bool(x, g, "privileged", 0);
	p->host_network = get_bool(x, g, "host_network", 0);
	p->host_pid = get_bool(x, g, "host_pid", 0);
	p->host_ipc = get_bool(x, g, "host_ipc", 0);
	p->bind_mounts = get_bool(x, g, "bind_mounts", 0);
	p->volumes = get_bool(x, g, "volumes", 0);
	p->cap_add = get_bool(x, g, "cap_add", 0);
	p->devices = get_bool(x, g, "devices", 0);
	load_quota(x, config_setting_get_member(g, "quota"), &p->quota);
	p->exec_user = get_bool(x, g, "exec_user", 0);
	p->pull = get_bool(x, g, "pull", p->pull);
	p->memory_default = get_limit(x, g, "memory", p->memory_default, LIM_SIZE, POL_MEMORY_MIN);
	p->memory_max = get_limit(x, g, "memory_max", p->memory_max, LIM_SIZE, POL_MEMORY_MIN);
	p->cpus_default = get_float(x, g, "cpus", p->cpus_default);
	p->cpus_max = get_float(x, g, "cpus_max", p->cpus_max);
	p->pids_default = get_limit(x, g, "pids", p->pids_default, LIM_COUNT, POL_PIDS_MIN);
	p->pids_max = get_limit(x, g, "pids_max", p->pids_max, LIM_COUNT, POL_PIDS_MIN);
	p->log_size = get_limit(x, g, "log_size", p->log_size, LIM_SIZE, POL_LOG_SIZE_MIN);
	p->log_files = (int)get_int(x, g, "log_files", p->log_files, 1, 100);
	check_limits(x, g, p);
	ports = config_setting_get_member(g, "ports");
	if (ports) {
		if (config_setting_length(ports) != 2 ||
		    config_setting_type(config_setting_get_elem(ports, 0)) != CONFIG_TYPE_INT ||
		    config_setting_type(config_setting_get_elem(ports, 1)) != CONFIG_TYPE_INT) {
			fail(x, ports, "ports must be [low, high]");
			return;
		}
		p->port_min = config_setting_get_int_elem(ports, 0);
		p->port_max = config_setting_get_int_elem(ports, 1);
		if (p->port_min < 1 || p->port_max > 65535 || p->port_min > p->port_max)
			fail(x, ports, "ports must be a range within 1..65535");
	}
}

static void
load_users(struct ctx *x, const config_setting_t *g)
{
	int n;

	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		fail(x, g, "users must be a group of name = \"role\"");
		return;
	}
	n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
		enum role r;
		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    role_parse(config_setting_get_string(e), &r) != 0) {
			fail(x, e, "users.%s must be one of none, viewer, operator, admin",
			     config_setting_name(e));
			continue;
		}
		json_object_object_add(x->c->users, config_setting_name(e),
		                       json_object_new_string(config_setting_get_string(e)));
	}
}

/* A group's members: user names, none starting with '@' (that is how groups are written). */
static json_object *
load_members(struct ctx *x, const config_setting_t *s, const char *group)
{
	json_object *out = json_object_new_array();
	int n;

	if (s == NULL || (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	                  config_setting_type(s) != CONFIG_TYPE_LIST)) {
		fail(x, s, "groups.%s: members must be a list of user names", group);
		return out;
	}
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *u = config_setting_type(e) == CONFIG_TYPE_STRING
		                    ? config_setting_get_string(e)
		                    : NULL;
		if (u == NULL || u[0] == '\0' || u[0] == '@' || strlen(u) > 128) {
			fail(x, e,
			     "groups.%s[%d] must be a user name (1-128 characters, not starting "
			     "with @)",
			     group, i);
			continue;
		}
		json_object_array_add(out, json_object_new_string(u));
	}
	return out;
}

/*
 * groups = { devs = ["alice", "bob"]; ops = { members = [...]; role =
 * "operator"; quota = {...}; }; }: owners "@devs" and "@ops".
 */
static void
load_groups(struct ctx *x, const config_setting_t *g)
{
	static const char *const keys[] = {"members", "role", "quota", NULL};
	struct cfg *c = x->c;
	int n;

	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		fail(x, g, "groups must be a group of name = [members] entries");
		return;
	}
	n = config_setting_length(g);
	c->groups = calloc((size_t)n + 1, sizeof(*c->groups));
	if (c->groups == NULL) {
		fail(x, g, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
		struct cfg_group *gr = &c->groups[c->ngroups];
		const char *name = config_setting_name(e), *role;

		if (!name_valid(name) || strlen(name) > 32) {
			fail(x, e, "groups.%s: group names match [a-zA-Z0-9][a-zA-Z0-9_.-]{0,31}",
			     name);
			continue;
		}
		gr->name = name;
		snprintf(gr->owner, sizeof(gr->owner), "@%s", name);
		gr->role = ROLE_NONE;
		gr->quota = c->policy[ROLE_OPERATOR].quota;
		c->ngroups++;
		if (!config_setting_is_group(e)) {
			gr->members = load_members(x, e, name);
			continue;
		}
		check_keys(x, e, keys);
		gr->members = load_members(x, config_setting_get_member(e, "members"), name);
		role = get_str(x, e, "role", NULL);
		if (role && (role_parse(role, &gr->role) != 0 || gr->role == ROLE_NONE))
			fail(x, config_setting_get_member(e, "role"),
			     "groups.%s.role must be one of viewer, operator, admin", name);
		if (gr->role != ROLE_NONE)
			gr->quota = c->policy[gr->role].quota;
		if (config_setting_get_member(e, "quota")) {
			gr->has_quota = 1;
			load_quota(x, config_setting_get_member(e, "quota"), &gr->quota);
		}
	}
}

/* "10.213.0.0/16" into a host-order base and prefix; -1 when it is not an IPv4 subnet. */
static int
parse_cidr(const char *s, uint32_t *base, int *prefix)
{
	unsigned a, b, c, d, p;
	char tail;

	if (sscanf(s, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &p, &tail) != 5 || a > 255 || b > 255 ||
	    c > 255 || d > 255 || p > 30 || p < 8)
		return -1;
	*base = (a << 24) | (b << 16) | (c << 8) | d;
	*prefix = (int)p;
	if (p < 32 && (*base & ((1u << (32 - p)) - 1)) != 0)
		return -1;
	return 0;
}

/* network_pool = { subnet = "10.213.0.0/16"; size = 24; }: where owners' networks come from. */
static void
load_net_pool(struct ctx *x, const config_setting_t *g)
{
	static const char *const keys[] = {"subnet", "size", NULL};
	const char *sub;

	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		fail(x, g,
		     "network_pool must be a group: { subnet = \"10.213.0.0/16\"; size = 24; }");
		return;
	}
	check_keys(x, g, keys);
	sub = get_str(x, g, "subnet", NULL);
	if (sub == NULL || parse_cidr(sub, &x->c->net_pool.base, &x->c->net_pool.prefix) != 0) {
		fail(x,
		     config_setting_get_member(g, "subnet") ? config_setting_get_member(g, "subnet")
		                                            : g,
		     "network_pool.subnet must be an IPv4 subnet such as \"10.213.0.0/16\" (/8 to "
		     "/30, no host bits set)");
		return;
	}
	x->c->net_pool.size = (int)get_int(x, g, "size", 24, x->c->net_pool.prefix, 30);
}

/* Catalog entries and services become JSON and are checked by their schemas. */
static json_object *
load_named(struct ctx *x, const config_setting_t *g, const char *what,
           int (*check)(const char *name, json_object *def, char *err, size_t errlen))
{
	json_object *all = json_object_new_object();
	char msg[384];
	int n;

	if (g == NULL)
		return all;
	if (!config_setting_is_group(g)) {
		fail(x, g, "%s must be a group of named entries", what);
		return all;
	}
	n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(e);
		json_object *def;

		if (!name_valid(name) || !config_setting_is_group(e)) {
			fail(x, e, "%s.%s: entries must be groups named [a-zA-Z0-9][a-zA-Z0-9_.-]*",
			     what, name);
			continue;
		}
		def = to_json(e);
		if (check && check(name, def, msg, sizeof(msg)) != 0) {
			fail(x, e, "%s.%s: %s", what, name, msg);
			json_object_put(def);
			continue;
		}
		json_object_object_add(all, name, def);
	}
	return all;
}

/* streams = { socket; per_user; total; }: the relay's socket and caps. */
static void
load_streams(struct ctx *x, const config_setting_t *g)
{
	static const char *const keys[] = {"socket", "per_user", "total", NULL};
	struct cfg *c = x->c;

	if (g && !config_setting_is_group(g)) {
		fail(x, g, "streams must be a group");
		return;
	}
	if (g)
		check_keys(x, g, keys);
	c->streams.socket = get_str(x, g, "socket", NULL);
	if (c->streams.socket && c->streams.socket[0] != '/')
		fail(x, config_setting_get_member(g, "socket"),
		     "streams.socket must be an absolute path");
	c->streams.per_user = (int)get_int(x, g, "per_user", 32, 1, 100000);
	c->streams.total = (int)get_int(x, g, "total", 4096, 1, 1000000);
}

/*
 * docker_door = { session_idle; }: how long a Testcontainers session may stay
 * quiet before the reaper removes its containers (docs/docker-api.md).
 */
static void
load_docker_door(struct ctx *x, const config_setting_t *g)
{
	static const char *const keys[] = {"session_idle", NULL};
	struct cfg *c = x->c;

	if (g && !config_setting_is_group(g)) {
		fail(x, g, "docker_door must be a group");
		return;
	}
	if (g)
		check_keys(x, g, keys);
	c->door.session_idle = (int)get_int(x, g, "session_idle", 600, 1, 30 * 86400);
}

/* audit = { max_size; keep; rate; burst; }: rotation and the per-identity line budget. */
static void
load_audit(struct ctx *x, const config_setting_t *g)
{
	static const char *const keys[] = {"max_size", "keep", "rate", "burst", NULL};
	struct cfg *c = x->c;

	if (g && !config_setting_is_group(g)) {
		fail(x, g, "audit must be a group");
		return;
	}
	if (g)
		check_keys(x, g, keys);
	/* "unlimited" (0) leaves rotation to an outside tool such as logrotate. */
	c->audit.max_size = get_limit(x, g, "max_size", 10 << 20, LIM_SIZE, 64 << 10);
	c->audit.keep = (int)get_int(x, g, "keep", 5, 1, 100);
	c->audit.rate = (int)get_int(x, g, "rate", 20, 0, 100000);
	c->audit.burst = (int)get_int(x, g, "burst", 200, 1, 1000000);
}

static void
load_root(struct ctx *x)
{
	static const char *const keys[] = {"docker",
	                                   "state_dir",
	                                   "listen",
	                                   "user",
	                                   "group",
	                                   "anonymous",
	                                   "default_role",
	                                   "users",
	                                   "protected",
	                                   "policy",
	                                   "max_body",
	                                   "mode",
	                                   "jobs",
	                                   "catalog",
	                                   "services",
	                                   "log_level",
	                                   "audit",
	                                   "instance",
	                                   "groups",
	                                   "network_pool",
	                                   "streams",
	                                   "docker_door",
	                                   "max_build_context",
	                                   "registries",
	                                   "update_check",
	                                   NULL};
	static const char *const dkeys[] = {"socket", "api", "connect_timeout_ms", "timeout_ms",
	                                    NULL};
	static const char *const lkeys[] = {"group", NULL};
	static const char *const jkeys[] = {"sweep_interval", "retention", "default_timeout", NULL};
	struct cfg *c = x->c;
	config_setting_t *root = config_root_setting(&c->lc), *s, *pol;
	const char *lv;

	check_keys(x, root, keys);
	s = config_setting_get_member(root, "docker");
	if (s)
		check_keys(x, s, dkeys);
	c->docker_socket = get_str(x, s, "socket", "/var/run/docker.sock");
	c->docker_api = get_str(x, s, "api", "v1.41");
	c->connect_timeout_ms = (long)get_int(x, s, "connect_timeout_ms", 2000, 10, 600000);
	c->timeout_ms = (long)get_int(x, s, "timeout_ms", 60000, 100, 3600000);

	c->state_dir = get_str(x, root, "state_dir", "/var/lib/berth");
	s = config_setting_get_member(root, "listen");
	if (s)
		check_keys(x, s, lkeys);
	c->socket_group = get_str(x, s, "group", NULL);
	c->run_user = get_str(x, root, "user", NULL);
	c->run_group = get_str(x, root, "group", NULL);
	c->anonymous = get_role(x, root, "anonymous", ROLE_NONE);
	c->default_role = get_role(x, root, "default_role", ROLE_NONE);
	load_users(x, config_setting_get_member(root, "users"));
	json_object_put(c->protected_names);
	c->protected_names = get_strlist(x, root, "protected");
	c->max_body = (size_t)get_int(x, root, "max_body", 1 << 20, 1024, 64 << 20);
	/* The Docker door's build contexts: nginx's client_max_body_size (256m) caps them too. */
	c->max_build_context = get_limit(x, root, "max_build_context", 256LL << 20, LIM_SIZE, 1024);
	c->mode = get_str(x, root, "mode", "engine");
	if (strcmp(c->mode, "engine") && strcmp(c->mode, "swarm") && strcmp(c->mode, "auto"))
		fail(x, config_setting_get_member(root, "mode"),
		     "mode must be \"engine\", \"swarm\" or \"auto\"");
	s = config_setting_get_member(root, "jobs");
	if (s)
		check_keys(x, s, jkeys);
	c->sweep_interval = (int)get_int(x, s, "sweep_interval", 5, 1, 86400);
	c->job_retention = (int)get_int(x, s, "retention", 3600, 0, 365 * 86400);
	c->default_job_timeout = (int)get_int(x, s, "default_timeout", 3600, 1, 7 * 86400);
	c->instance = get_str(x, root, "instance", "default");
	if (!name_valid(c->instance))
		fail(x, config_setting_get_member(root, "instance"),
		     "instance must match [a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}");
	if (cfg_over.state_dir)
		c->state_dir = cfg_over.state_dir;
	if (cfg_over.instance)
		c->instance = cfg_over.instance;
	lv = get_str(x, root, "log_level", "info");
	c->log_debug = strcmp(lv, "debug") == 0;
	load_audit(x, config_setting_get_member(root, "audit"));
	load_streams(x, config_setting_get_member(root, "streams"));
	load_docker_door(x, config_setting_get_member(root, "docker_door"));

	pol = config_setting_get_member(root, "policy");
	if (pol) {
		int n = config_setting_length(pol);
		for (int i = 0; i < n; i++) {
			config_setting_t *e = config_setting_get_elem(pol, (unsigned)i);
			enum role r;
			if (role_parse(config_setting_name(e), &r) != 0 || r == ROLE_NONE) {
				fail(x, e, "policy.%s: not a role (viewer, operator, admin)",
				     config_setting_name(e));
				continue;
			}
			load_policy(x, e, &c->policy[r]);
		}
		if (!x->failed)
			check_path_overlap(x, pol);
	}
	/* After the policy: a group without a quota of its own takes its role's. */
	load_groups(x, config_setting_get_member(root, "groups"));
	load_net_pool(x, config_setting_get_member(root, "network_pool"));
	json_object_put(c->catalog);
	c->catalog = load_named(x, config_setting_get_member(root, "catalog"), "catalog",
	                        checker("catalog"));
	json_object_put(c->services);
	c->services = load_named(x, config_setting_get_member(root, "services"), "services",
	                         checker("services"));
	json_object_put(c->registries);
	c->registries = load_named(x, config_setting_get_member(root, "registries"), "registries",
	                           checker("registries"));
	c->update_check = (int)get_int(x, root, "update_check", 300, 1, 7 * 86400);
}

static struct cfg *
cfg_new(void)
{
	struct cfg *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	config_init(&c->lc);
	c->users = json_object_new_object();
	for (int r = 0; r < ROLE__COUNT; r++)
		policy_defaults(&c->policy[r], (enum role)r);
	return c;
}

struct cfg *
cfg_load(const char *path, char *err, size_t errlen)
{
	struct cfg *c = cfg_new();
	struct ctx x = {c, err, errlen, 0};

	if (errlen)
		err[0] = '\0';
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (path) {
		c->path = strdup(path);
		if (!config_read_file(&c->lc, path)) {
			if (config_error_type(&c->lc) == CONFIG_ERR_FILE_IO)
				snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
			else
				snprintf(err, errlen, "%s:%d: %s",
				         config_error_file(&c->lc) ? config_error_file(&c->lc)
				                                   : path,
				         config_error_line(&c->lc),
				         config_error_text(&c->lc) ? config_error_text(&c->lc)
				                                   : "syntax error");
			cfg_free(c);
			return NULL;
		}
	}
	load_root(&x);
	if (x.failed) {
		cfg_free(c);
		return NULL;
	}
	return c;
}

void
cfg_free(struct cfg *c)
{
	if (c == NULL)
		return;
	for (int r = 0; r < ROLE__COUNT; r++)
		policy_free(&c->policy[r]);
	json_object_put(c->users);
	for (size_t i = 0; i < c->ngroups; i++)
		json_object_put(c->groups[i].members);
	free(c->groups);
	json_object_put(c->protected_names);
	json_object_put(c->catalog);
	json_object_put(c->services);
	json_object_put(c->registries);
	config_destroy(&c->lc);
	free(c->path);
	free(c);
}

enum role
cfg_role(const struct cfg *c, const char *user)
{
	json_object *v;
	enum role r;

	if (user == NULL || user[0] == '\0')
		return c->anonymous;
	/* "@name" is how groups are written as owners: no identity may look like one. */
	if (user[0] == '@')
		return ROLE_NONE;
	if (json_object_object_get_ex(c->users, user, &v) &&
	    role_parse(json_object_get_string(v), &r) == 0)
		return r;
	return c->default_role;
}

int
cfg_is_protected(const struct cfg *c, const char *name)
{
	size_t n = json_object_array_length(c->protected_names);

	for (size_t i = 0; i < n && name; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(c->protected_names, i)),
		           name) == 0)
			return 1;
	return 0;
}

const struct cfg_group *
cfg_group(const struct cfg *c, const char *name)
{
	for (size_t i = 0; name && i < c->ngroups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return &c->groups[i];
	return NULL;
}

int
cfg_in_group(const struct cfg_group *g, const char *user)
{
	size_t n = g && g->members ? json_object_array_length(g->members) : 0;

	for (size_t i = 0; user && i < n; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(g->members, i)),
		           user) == 0)
			return 1;
	return 0;
}

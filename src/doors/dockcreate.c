/*
 * dockcreate.c - the Docker create-body classifier (dockcreate.h).  One rule
 * per Docker field, in tables per object (Config, HostConfig, a Mount, an
 * endpoint, ...); a field with no rule is refused by name.  Zero values are
 * what clients send for everything they do not use (the docker CLI marshals
 * all 70 HostConfig fields), so "absent", null, "", 0, false, [] and {} all
 * mean "not asked for", except where the empty value itself is the danger
 * (MaskedPaths: [] unmasks /proc).  Fields that need each other
 * (PortBindings and ExposedPorts, Binds and Volumes, NetworkMode and
 * EndpointsConfig, NanoCpus and CpuQuota) are kept aside while walking and
 * joined at the end.  The research behind each rule:
 * ../shared/research/docker-api-hostconfig.md; the table: docs/docker-api.md.
 */
#include "doors/dockcreate.h"
#include "lib/hostpath.h"
#include "lib/json.h"
#include "lib/schema.h"
#include "res/policy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_MAX 128

struct ctx {
	struct op *o;
	json_object *spec, *pending, *origin;
	json_object *mounts; /* berth mounts being built (spec "mounts") */
	json_object *item;   /* the berth mount or device being built from one Docker object */
	/* Kept aside while walking; joined in finish(). */
	json_object *exposed, *bindings, *volumes, *endpoints;
	const char *netmode;
	int net_disabled;
	int64_t nano_cpus, cpu_quota, cpu_period;
};

/* What a field's rule does with its value. */
enum how {
	MAP,     /* fn puts it into the spec (or keeps it aside) */
	IGNORE,  /* no effect on the container: client-side, or attach hints */
	PENDING, /* safe, berth's spec cannot say it yet: non-default values go to pending */
	ZERO,    /* only the default value (null, "", 0, false, [], {}) is accepted */
	NULLONLY /* only absent or null: even an empty value changes something */
};

struct rule {
	const char *name;
	enum how how;
	unsigned types;   /* SC_* JSON types accepted besides null */
	enum berr refuse; /* ZERO/NULLONLY: the status of a refusal */
	const char *why;  /* ZERO/NULLONLY: the reason; MAP: an argument of fn */
	enum berr (*fn)(struct ctx *c, const struct rule *r, json_object *v, const char *field);
};

static enum berr walk(struct ctx *c, const struct rule *rules, json_object *obj,
                      const char *prefix);

/* ------------------------------------------------------------------ values */

static int
is_zero(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return 1;
	case json_type_boolean:
		return !json_object_get_boolean(v);
	case json_type_int:
		return json_object_get_int64(v) == 0;
	case json_type_double:
		return json_object_get_double(v) == 0;
	case json_type_string:
		return json_object_get_string_len(v) == 0;
	case json_type_array:
		return json_object_array_length(v) == 0;
	case json_type_object:
		return json_object_object_length(v) == 0;
	}
	return 0;
}

static int
type_ok(json_object *v, unsigned types)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return 1;
	case json_type_boolean:
		return (types & SC_BOOL) != 0;
	case json_type_int:
		return (types & (SC_INT | SC_NUMBER)) != 0;
	case json_type_double:
		return (types & SC_NUMBER) != 0;
	case json_type_string:
		return (types & SC_STRING) != 0;
	case json_type_array:
		return (types & SC_ARRAY) != 0;
	case json_type_object:
		return (types & SC_OBJECT) != 0;
	}
	return 0;
}

static const char *
type_name(unsigned types)
{
	if (types & SC_OBJECT)
		return "an object";
	if (types & SC_ARRAY)
		return types & SC_STRING ? "a list or a string" : "a list";
	if (types & SC_STRING)
		return "a string";
	if (types & SC_BOOL)
		return "true or false";
	return "a number";
}

static enum berr
bad(struct ctx *c, const char *field, const char *what)
{
	return op_fail(c->o, B_BAD_REQUEST, field, "%s %s", field, what);
}

static enum berr
refused(struct ctx *c, enum berr e, const char *field, const char *why)
{
	return op_fail(c->o, e, field, "%s is refused through berth: %s", field, why);
}

/* A berth spec member named TO, with the Docker FIELD it came from. */
static void
put(struct ctx *c, const char *to, json_object *v, const char *field)
{
	json_object_object_add(c->spec, to, v);
	jx_add_str(c->origin, to, field);
}

static void
pend(struct ctx *c, const char *field, json_object *v)
{
	jx_add_ref(c->pending, field, v);
}

/* FIELD[I] or FIELD["KEY"] into BUF; a name too long for BUF is cut (it still names the field). */
static const char *
sub_idx(char *buf, size_t n, const char *field, size_t i)
{
	if (snprintf(buf, n, "%s[%zu]", field, i) >= (int)n)
		buf[n - 1] = '\0';
	return buf;
}

static const char *
sub_key(char *buf, size_t n, const char *field, const char *key)
{
	if (snprintf(buf, n, "%s[\"%.48s\"]", field, key) >= (int)n)
		buf[n - 1] = '\0';
	return buf;
}

/* Each item of the list V must be a string. */
static enum berr
strings_only(struct ctx *c, json_object *v, const char *field)
{
	char f[FIELD_MAX];

	for (size_t i = 0; i < json_object_array_length(v); i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
			return bad(c, sub_idx(f, sizeof(f), field, i), "must be a string");
	return B_OK;
}

/* The mount or device list of the spec, made on first use. */
static json_object *
spec_list(struct ctx *c, const char *key)
{
	json_object *l = jx_arr(c->spec, key);

	if (l == NULL) {
		l = json_object_new_array();
		json_object_object_add(c->spec, key, l);
	}
	return l;
}

/* Appends V to the spec list KEY; its origin is "KEY[i]" -> FIELD. */
static void
put_item(struct ctx *c, const char *key, json_object *v, const char *field)
{
	json_object *l = spec_list(c, key);
	char k[48];

	snprintf(k, sizeof(k), "%s[%zu]", key, json_object_array_length(l));
	json_object_array_add(l, v);
	jx_add_str(c->origin, k, field);
}

/* -------------------------------------------------------------- Config */

static enum berr
m_image(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	(void)r;
	if (is_zero(v))
		return bad(c, field, "is required: the image to run, name:tag");
	put(c, "image", json_object_get(v), field);
	return B_OK;
}

/* A Docker string slice: a list, or one string that is one argument (no shell splitting). */
static enum berr
m_argv(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	json_object *argv;
	enum berr e;

	if (is_zero(v))
		return B_OK; /* the image's own */
	if (json_object_is_type(v, json_type_string)) {
		argv = json_object_new_array();
		json_object_array_add(argv, json_object_get(v));
	} else {
		if ((e = strings_only(c, v, field)) != B_OK)
			return e;
		argv = json_object_get(v);
	}
	put(c, r->why, argv, field);
	return B_OK;
}

static enum berr
m_env(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	char f[FIELD_MAX];
	enum berr e;

	(void)r;
	if (is_zero(v))
		return B_OK;
	if ((e = strings_only(c, v, field)) != B_OK)
		return e;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		const char *kv = json_object_get_string(json_object_array_get_idx(v, i));
		/* Docker's "KEY" alone unsets KEY: berth's spec has no way to say it. */
		if (strchr(kv, '=') == NULL || kv[0] == '=')
			return op_fail(c->o, B_INVALID, sub_idx(f, sizeof(f), field, i),
			               "%s must be KEY=value", f);
	}
	put(c, "env", json_object_get(v), field);
	return B_OK;
}

/* A string member copied as is to the spec member R->why; "" means the image's own. */
static enum berr
m_copy(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	if (!is_zero(v))
		put(c, r->why, json_object_get(v), field);
	return B_OK;
}

static enum berr
m_labels(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	char f[FIELD_MAX];

	(void)r;
	json_object_object_foreach(v, k, val)
	{
		if (!json_object_is_type(val, json_type_string))
			return bad(c, sub_key(f, sizeof(f), field, k), "must be a string");
	}
	if (!is_zero(v))
		put(c, "labels", json_object_get(v), field);
	return B_OK;
}

/* Kept aside: ExposedPorts, Volumes, PortBindings, EndpointsConfig (R->why says which). */
static enum berr
m_aside(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	json_object **slot = strcmp(r->why, "exposed") == 0    ? &c->exposed
	                     : strcmp(r->why, "volumes") == 0  ? &c->volumes
	                     : strcmp(r->why, "bindings") == 0 ? &c->bindings
	                                                       : &c->endpoints;
	char f[FIELD_MAX];

	if (strcmp(r->why, "endpoints") != 0) {
		json_object_object_foreach(v, k, val)
		{
			/* PortBindings values are lists; the others Docker's empty struct {}. */
			unsigned want = strcmp(r->why, "bindings") == 0 ? SC_ARRAY : SC_OBJECT;
			if (!type_ok(val, want))
				return bad(c, sub_key(f, sizeof(f), field, k),
				           want == SC_ARRAY ? "must be a list"
				                            : "must be an object");
		}
	}
	*slot = v;
	return B_OK;
}

static enum berr
m_netdisabled(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	(void)r, (void)field;
	c->net_disabled = json_object_get_boolean(v);
	return B_OK;
}

/* true becomes the spec's boolean R->why; false is the default. */
static enum berr
m_flag(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	if (json_object_get_boolean(v))
		put(c, r->why, json_object_new_boolean(1), field);
	return B_OK;
}

/* V, 0 to MAX (UNIT says what it counts), into *N; a 400 naming FIELD otherwise. */
static enum berr
bounded(struct ctx *c, json_object *v, const char *field, int64_t max, const char *unit, int64_t *n)
{
	char why[64];

	*n = json_object_get_int64(v);
	if (*n >= 0 && *n <= max)
		return B_OK;
	snprintf(why, sizeof(why), "must be 0 to %lld%s", (long long)max, unit);
	return bad(c, field, why);
}

/* A number of seconds into the spec's R->why; 0 means the default (nothing). */
static enum berr
m_seconds(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	int64_t n;
	enum berr e = bounded(c, v, field, 3600, " seconds", &n);

	if (e == B_OK && n > 0)
		put(c, r->why, json_object_new_int64(n), field);
	return e;
}

/* Docker's nanoseconds (Healthcheck's durations) as the spec's seconds. */
static enum berr
m_health_ns(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	int64_t n;
	enum berr e = bounded(c, v, field, (int64_t)86400 * 1000000000, " nanoseconds (a day)", &n);

	if (e == B_OK && n > 0)
		json_object_object_add(c->item, r->why, json_object_new_double((double)n / 1e9));
	return e;
}

static enum berr
m_health_int(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	int64_t n;
	enum berr e = bounded(c, v, field, 100, "", &n);

	if (e == B_OK && n > 0)
		jx_add_int(c->item, r->why, n);
	return e;
}

static enum berr
m_health_test(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	enum berr e;

	(void)r;
	if (is_zero(v))
		return B_OK; /* the image's test */
	if (json_object_is_type(v, json_type_string))
		return bad(c, field,
		           "must be a list: [\"CMD\", ...], [\"CMD-SHELL\", ...] or [\"NONE\"]");
	if ((e = strings_only(c, v, field)) != B_OK)
		return e;
	jx_add_ref(c->item, "test", v);
	return B_OK;
}

static const struct rule health_rules[] = {
    {"Test", MAP, SC_ARRAY | SC_STRING, 0, NULL, m_health_test},
    {"Interval", MAP, SC_INT, 0, "interval", m_health_ns},
    {"Timeout", MAP, SC_INT, 0, "timeout", m_health_ns},
    {"StartPeriod", MAP, SC_INT, 0, "start_period", m_health_ns},
    {"Retries", MAP, SC_INT, 0, "retries", m_health_int},
    {"StartInterval", ZERO, SC_INT, B_INVALID, "not supported through berth yet", NULL},
    {NULL, 0, 0, 0, NULL, NULL}};

/* Healthcheck into the spec's healthcheck (seconds); its timings without a test are the image's. */
static enum berr
m_health(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	enum berr e;

	(void)r;
	c->item = json_object_new_object();
	e = walk(c, health_rules, v, field);
	if (e == B_OK && json_object_object_length(c->item) && !jx_get(c->item, "test"))
		e = op_fail(c->o, B_INVALID, field,
		            "%s: timings without a Test (the image's) are not supported through "
		            "berth yet; give the Test too",
		            field);
	if (e == B_OK && json_object_object_length(c->item))
		put(c, "healthcheck", c->item, field);
	else
		json_object_put(c->item);
	c->item = NULL;
	return e;
}

static enum berr m_hostconfig(struct ctx *c, const struct rule *r, json_object *v,
                              const char *field);
static enum berr m_netconfig(struct ctx *c, const struct rule *r, json_object *v,
                             const char *field);

#define BUILD_WHY "image build metadata berth does not keep; only docker commit reads it"

static const struct rule config_rules[] = {
    {"Image", MAP, SC_STRING, 0, NULL, m_image},
    {"Cmd", MAP, SC_ARRAY | SC_STRING, 0, "command", m_argv},
    {"Env", MAP, SC_ARRAY, 0, NULL, m_env},
    {"User", MAP, SC_STRING, 0, "user", m_copy},
    {"WorkingDir", MAP, SC_STRING, 0, "workdir", m_copy},
    {"Labels", MAP, SC_OBJECT, 0, NULL, m_labels},
    {"ExposedPorts", MAP, SC_OBJECT, 0, "exposed", m_aside},
    {"Volumes", MAP, SC_OBJECT, 0, "volumes", m_aside},
    {"NetworkDisabled", MAP, SC_BOOL, 0, NULL, m_netdisabled},
    {"HostConfig", MAP, SC_OBJECT, 0, NULL, m_hostconfig},
    {"NetworkingConfig", MAP, SC_OBJECT, 0, NULL, m_netconfig},
    {"AttachStdout", IGNORE, SC_BOOL, 0, NULL, NULL},
    {"AttachStderr", IGNORE, SC_BOOL, 0, NULL, NULL},
    {"AttachStdin", MAP, SC_BOOL, 0, "stdin", m_flag},
    {"OpenStdin", MAP, SC_BOOL, 0, "stdin", m_flag},
    {"StdinOnce", MAP, SC_BOOL, 0, "stdin", m_flag},
    {"Tty", MAP, SC_BOOL, 0, "tty", m_flag},
    {"Hostname", MAP, SC_STRING, 0, "hostname", m_copy},
    {"Domainname", PENDING, SC_STRING, 0, NULL, NULL},
    {"Entrypoint", MAP, SC_ARRAY | SC_STRING, 0, "entrypoint", m_argv},
    {"Healthcheck", MAP, SC_OBJECT, 0, NULL, m_health},
    {"StopSignal", MAP, SC_STRING, 0, "stop_signal", m_copy},
    {"StopTimeout", MAP, SC_INT, 0, "stop_timeout", m_seconds},
    {"MacAddress", ZERO, SC_STRING, B_FORBIDDEN,
     "a chosen MAC address can impersonate another host on the network", NULL},
    {"OnBuild", ZERO, SC_ARRAY, B_INVALID, BUILD_WHY, NULL},
    {"Shell", ZERO, SC_ARRAY, B_INVALID, BUILD_WHY, NULL},
    {"ArgsEscaped", ZERO, SC_BOOL, B_INVALID, "Windows only", NULL},
    {NULL, 0, 0, 0, NULL, NULL}};

/* ------------------------------------------------------------ HostConfig */

static enum berr
m_memory(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	int64_t n = json_object_get_int64(v);

	(void)r;
	if (n < 0)
		return bad(c, field, "must be 0 (berth's default) or a number of bytes");
	if (n > 0)
		put(c, "memory", json_object_new_int64(n), field);
	return B_OK;
}

/* NanoCpus, CpuQuota, CpuPeriod: joined into cpus at the end. */
static enum berr
m_cpu(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	int64_t n = json_object_get_int64(v);

	if (n < 0 && strcmp(r->name, "CpuQuota") != 0)
		return bad(c, field, "must not be negative");
	if (strcmp(r->name, "NanoCpus") == 0)
		c->nano_cpus = n;
	else if (strcmp(r->name, "CpuQuota") == 0)
		c->cpu_quota = n;
	else
		c->cpu_period = n;
	return B_OK;
}

static enum berr
m_pids(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	int64_t n = json_object_get_int64(v);

	(void)r;
	if (n < 0)
		return refused(c, B_FORBIDDEN, field,
		               "an unlimited process count could exhaust the host's; give a limit "
		               "or leave it out for the role's default");
	if (n > 0)
		put(c, "pids", json_object_new_int64(n), field);
	return B_OK;
}

static enum berr
m_swap(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	int64_t n = json_object_get_int64(v);

	(void)r;
	if (n == -1)
		return refused(c, B_FORBIDDEN, field, "unlimited swap escapes the memory limit");
	if (n < 0)
		return bad(c, field, "must be 0 (default) or a number of bytes");
	if (n > 0)
		pend(c, field, v);
	return B_OK;
}

static enum berr
m_swappiness(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	int64_t n = json_object_get_int64(v);

	(void)r;
	if (n < -1 || n > 100)
		return bad(c, field, "must be -1 (default) or 0 to 100");
	if (n >= 0)
		pend(c, field, v);
	return B_OK;
}

static enum berr
m_oomscore(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	int64_t n = json_object_get_int64(v);

	(void)r;
	if (n < 0)
		return refused(c, B_FORBIDDEN, field,
		               "a negative score makes the kernel kill other processes first");
	if (n > 1000)
		return bad(c, field, "must be 0 to 1000");
	if (n > 0)
		pend(c, field, v);
	return B_OK;
}

/*
 * "/" and the Docker socket, or a directory holding it, are refused whatever
 * bind_sources say: each is root on the host.
 */
static enum berr
check_bind_source(struct ctx *c, const char *src, const char *field)
{
	static const char *const socks[] = {"/run/docker.sock", "/var/run/docker.sock", NULL};

	if (strspn(src, "/") == strlen(src))
		return refused(c, B_FORBIDDEN, field, "binding the host's root directory");
	if (strstr(src, "docker.sock"))
		return refused(c, B_FORBIDDEN, field, "the Docker socket is root on the host");
	for (const char *const *s = socks; *s; s++)
		if (hp_canonical(src, strlen(src)) == NULL && hp_within(src, *s))
			return refused(c, B_FORBIDDEN, field,
			               "it holds the Docker socket, which is root on the host");
	return B_OK;
}

/* A new berth mount of TYPE at TARGET from SRC (NULL: none); becomes c->item. */
static json_object *
new_mount(const char *type, const char *src, const char *target)
{
	json_object *m = json_object_new_object();

	jx_add_str(m, "type", type);
	if (src && src[0])
		jx_add_str(m, "source", src);
	jx_add_str(m, "target", target);
	return m;
}

/* One option of a Binds entry; propagation and relabelling reach the host. */
static enum berr
bind_option(struct ctx *c, json_object *m, const char *opt, size_t len, const char *field)
{
	static const char *const noop[] = {"rw",     "private",   "rprivate", "consistent",
	                                   "cached", "delegated", NULL};
	static const char *const prop[] = {"shared", "rshared", "slave", "rslave", NULL};
	char o[16];

	if (len == 0 || len >= sizeof(o))
		return bad(c, field, "has an empty or unknown option");
	memcpy(o, opt, len);
	o[len] = '\0';
	if (strcmp(o, "ro") == 0) {
		jx_add_bool(m, "read_only", 1);
		return B_OK;
	}
	for (const char *const *p = noop; *p; p++)
		if (strcmp(o, *p) == 0)
			return B_OK;
	for (const char *const *p = prop; *p; p++)
		if (strcmp(o, *p) == 0)
			return refused(
			    c, B_FORBIDDEN, field,
			    "shared or slave mount propagation reaches the host's mounts");
	if (strcmp(o, "z") == 0 || strcmp(o, "Z") == 0)
		return refused(c, B_FORBIDDEN, field, "z/Z relabels the host's files (SELinux)");
	if (strcmp(o, "nocopy") == 0)
		return op_fail(c->o, B_INVALID, field,
		               "%s: nocopy is not supported through berth yet", field);
	return op_fail(c->o, B_BAD_REQUEST, field, "%s: unknown option %s", field, o);
}

/* "SOURCE:TARGET[:OPTIONS]": a volume by name, or a host directory (policy: bind_sources). */
static enum berr
one_bind(struct ctx *c, const char *s, const char *field)
{
	const char *t = strchr(s, ':'), *opts;
	char src[1024], target[1024];
	json_object *m;
	size_t sl, tl;
	enum berr e;

	if (t == NULL || t == s)
		return bad(c, field, "must be SOURCE:TARGET[:OPTIONS]");
	sl = (size_t)(t - s);
	opts = strchr(t + 1, ':');
	tl = opts ? (size_t)(opts - t - 1) : strlen(t + 1);
	if (sl >= sizeof(src) || tl == 0 || tl >= sizeof(target) || t[1] != '/')
		return bad(c, field, "must be SOURCE:TARGET[:OPTIONS] with an absolute TARGET");
	memcpy(src, s, sl);
	src[sl] = '\0';
	memcpy(target, t + 1, tl);
	target[tl] = '\0';
	if (src[0] == '/' && (e = check_bind_source(c, src, field)) != B_OK)
		return e;
	m = new_mount(src[0] == '/' ? "bind" : "volume", src, target);
	for (const char *p = opts ? opts + 1 : NULL; p;
	     p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if ((e = bind_option(c, m, p, strcspn(p, ","), field)) != B_OK) {
			json_object_put(m);
			return e;
		}
	put_item(c, "mounts", m, field);
	return B_OK;
}

static enum berr
m_binds(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	char f[FIELD_MAX];
	enum berr e;

	(void)r;
	if ((e = strings_only(c, v, field)) != B_OK)
		return e;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		e = one_bind(c, json_object_get_string(json_object_array_get_idx(v, i)),
		             sub_idx(f, sizeof(f), field, i));
		if (e != B_OK)
			return e;
	}
	return B_OK;
}

/* Mount members: copied into c->item (the berth mount being built). */
static enum berr
m_mount_member(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	(void)field;
	if (json_object_is_type(v, json_type_boolean))
		jx_add_bool(c->item, r->why, json_object_get_boolean(v));
	else if (!is_zero(v))
		jx_add_ref(c->item, r->why, v);
	return B_OK;
}

static enum berr
m_propagation(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	const char *s = json_object_get_string(v);

	(void)r;
	if (is_zero(v) || strcmp(s, "private") == 0 || strcmp(s, "rprivate") == 0)
		return B_OK;
	return refused(c, B_FORBIDDEN, field,
	               "shared or slave mount propagation reaches the host's mounts");
}

static enum berr
m_consistency(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	static const char *const ok[] = {"default", "consistent", "cached", "delegated", NULL};

	(void)r;
	if (is_zero(v))
		return B_OK;
	for (const char *const *p = ok; *p; p++)
		if (strcmp(json_object_get_string(v), *p) == 0)
			return B_OK;
	return bad(c, field, "must be default, consistent, cached or delegated");
}

static enum berr
m_sub(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	return walk(c, (const struct rule *)r->why, v, field);
}

#define SUB(name, rules)                                                                           \
	{                                                                                          \
		name, MAP, SC_OBJECT, 0, (const char *)(rules), m_sub                              \
	}

static const struct rule bindopt_rules[] = {
    {"Propagation", MAP, SC_STRING, 0, NULL, m_propagation},
    {"NonRecursive", ZERO, SC_BOOL, B_INVALID, "not supported through berth yet", NULL},
    {"CreateMountpoint", ZERO, SC_BOOL, B_FORBIDDEN, "it would create directories on the host",
     NULL},
    {"ReadOnlyNonRecursive", ZERO, SC_BOOL, B_INVALID, "not supported through berth yet", NULL},
    {"ReadOnlyForceRecursive", ZERO, SC_BOOL, B_INVALID, "not supported through berth yet", NULL},
    {NULL, 0, 0, 0, NULL, NULL}};

static const struct rule volopt_rules[] = {
    {"NoCopy", ZERO, SC_BOOL, B_INVALID, "not supported through berth yet", NULL},
    {"Labels", ZERO, SC_OBJECT, B_INVALID,
     "berth labels the volumes it makes; set labels with docker volume create", NULL},
    {"DriverConfig", NULLONLY, SC_OBJECT, B_FORBIDDEN,
     "volume driver options can mount host paths (type=none,o=bind) or network shares", NULL},
    {"Subpath", ZERO, SC_STRING, B_INVALID, "not supported through berth yet", NULL},
    {NULL, 0, 0, 0, NULL, NULL}};

static const struct rule tmpfsopt_rules[] = {
    {"SizeBytes", MAP, SC_INT, 0, "size", m_mount_member},
    {"Mode", PENDING, SC_INT, 0, NULL, NULL},
    {"Options", ZERO, SC_ARRAY, B_INVALID, "not supported through berth yet", NULL},
    {NULL, 0, 0, 0, NULL, NULL}};

static const struct rule mount_rules[] = {
    {"Type", MAP, SC_STRING, 0, "type", m_mount_member},
    {"Source", MAP, SC_STRING, 0, "source", m_mount_member},
    {"Target", MAP, SC_STRING, 0, "target", m_mount_member},
    {"ReadOnly", MAP, SC_BOOL, 0, "read_only", m_mount_member},
    {"Consistency", MAP, SC_STRING, 0, NULL, m_consistency},
    SUB("BindOptions", bindopt_rules),
    SUB("VolumeOptions", volopt_rules),
    SUB("TmpfsOptions", tmpfsopt_rules),
    {"ClusterOptions", ZERO, SC_OBJECT, B_INVALID, "Swarm cluster volumes are not supported", NULL},
    {NULL, 0, 0, 0, NULL, NULL}};

/* One Docker Mount: walked into a berth mount, then checked as a whole. */
static enum berr
one_mount(struct ctx *c, json_object *v, const char *field)
{
	const char *type, *src;
	enum berr e;

	c->item = json_object_new_object();
	e = walk(c, mount_rules, v, field);
	type = jx_str(c->item, "type");
	src = jx_str(c->item, "source");
	if (e != B_OK)
		goto out;
	if (type == NULL ||
	    (strcmp(type, "bind") && strcmp(type, "volume") && strcmp(type, "tmpfs")))
		e = op_fail(c->o, type ? B_FORBIDDEN : B_BAD_REQUEST, field,
		            "%s.Type must be bind, volume or tmpfs", field);
	else if (jx_str(c->item, "target") == NULL)
		e = bad(c, field, "needs a Target");
	else if (strcmp(type, "bind") == 0 && (src == NULL || src[0] != '/'))
		e = op_fail(c->o, B_BAD_REQUEST, field,
		            "%s.Source must be an absolute host path for a bind mount", field);
	else if (strcmp(type, "bind") == 0)
		e = check_bind_source(c, src, field);
	else if (strcmp(type, "tmpfs") == 0 && src)
		e = bad(c, field, "is a tmpfs mount: it has no Source");
	if (e == B_OK && jx_get(c->item, "size") && strcmp(type, "tmpfs") != 0)
		e = bad(c, field, "has TmpfsOptions but is no tmpfs mount");
out:
	if (e == B_OK)
		put_item(c, "mounts", c->item, field);
	else
		json_object_put(c->item);
	c->item = NULL;
	return e;
}

/* A list whose every item is an object handled by ONE. */
static enum berr
each_object(struct ctx *c, json_object *v, const char *field,
            enum berr (*one)(struct ctx *c, json_object *it, const char *field))
{
	char f[FIELD_MAX];
	enum berr e;

	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *it = json_object_array_get_idx(v, i);
		sub_idx(f, sizeof(f), field, i);
		if (!json_object_is_type(it, json_type_object))
			return bad(c, f, "must be an object");
		if ((e = one(c, it, f)) != B_OK)
			return e;
	}
	return B_OK;
}

static enum berr
m_mounts(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	(void)r;
	return each_object(c, v, field, one_mount);
}

/* "/run": "rw,size=64m": a tmpfs mount; options other than size, rw and ro are pending. */
static enum berr
one_tmpfs(struct ctx *c, const char *target, const char *opts, const char *field)
{
	json_object *m;
	char rest[256] = "";
	size_t rl = 0;

	if (target[0] != '/')
		return bad(c, field, "must be keyed by an absolute path");
	m = new_mount("tmpfs", NULL, target);
	for (const char *p = opts; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		size_t len = strcspn(p, ",");
		if (len > 5 && strncmp(p, "size=", 5) == 0)
			json_object_object_add(m, "size",
			                       json_object_new_string_len(p + 5, (int)(len - 5)));
		else if (len == 2 && strncmp(p, "ro", 2) == 0)
			jx_add_bool(m, "read_only", 1);
		else if (len && !(len == 2 && strncmp(p, "rw", 2) == 0) &&
		         rl + len + 2 < sizeof(rest))
			rl += (size_t)snprintf(rest + rl, sizeof(rest) - rl, "%s%.*s",
			                       rl ? "," : "", (int)len, p);
		else if (len && !(len == 2 && strncmp(p, "rw", 2) == 0))
			rl = sizeof(rest); /* more than fits: refused below, never cut */
	}
	/* Pending is keyed by the field, so two paths it cannot tell apart are refused. */
	if (rl >= sizeof(rest) || (rl && jx_get(c->pending, field))) {
		json_object_put(m);
		return bad(c, field, "has too many options, or a path too long");
	}
	if (rl)
		jx_add_str(c->pending, field, rest);
	put_item(c, "mounts", m, field);
	return B_OK;
}

static enum berr
m_tmpfs(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	char f[FIELD_MAX];
	enum berr e;

	(void)r;
	json_object_object_foreach(v, k, val)
	{
		sub_key(f, sizeof(f), field, k);
		if (!json_object_is_type(val, json_type_string))
			return bad(c, f, "must be a string of mount options");
		if ((e = one_tmpfs(c, k, json_object_get_string(val), f)) != B_OK)
			return e;
	}
	return B_OK;
}

static enum berr
m_caps(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	char f[FIELD_MAX], cap[64];
	enum berr e;

	if ((e = strings_only(c, v, field)) != B_OK)
		return e;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(v, i));
		size_t n = 0;
		sub_idx(f, sizeof(f), field, i);
		/* Docker takes "net_admin" and "CAP_NET_ADMIN" alike. */
		if (strncasecmp(s, "CAP_", 4) == 0)
			s += 4;
		for (; s[n] && n + 1 < sizeof(cap); n++)
			cap[n] = (char)toupper((unsigned char)s[n]);
		cap[n] = '\0';
		/* Dropping every capability is the safe end; adding them all is root. */
		if (strcmp(cap, "ALL") == 0 && strcmp(r->why, "cap_add") == 0)
			return refused(c, B_FORBIDDEN, f, "ALL adds every capability");
		if (n == 0 || s[n] || strspn(cap, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != n)
			return bad(c, f, "must name a capability, e.g. NET_ADMIN");
		json_object_array_add(spec_list(c, r->why), json_object_new_string(cap));
	}
	if (jx_arr(c->spec, r->why))
		jx_add_str(c->origin, r->why, field);
	return B_OK;
}

/* Device members, into the three parts of berth's "HOST:CONTAINER:PERMS". */
static enum berr
m_dev_member(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	const char *s = json_object_get_string(v);

	if (strcmp(r->why, "perms") == 0 && !is_zero(v) &&
	    (strlen(s) > 3 || strspn(s, "rwm") != strlen(s)))
		return bad(c, field, "must be made of r, w and m");
	if (strcmp(r->why, "host") != 0 && !is_zero(v) && strchr(s, ':'))
		return bad(c, field, "must not contain ':'");
	if (!is_zero(v))
		jx_add_str(c->item, r->why, s);
	return B_OK;
}

static const struct rule device_rules[] = {
    {"PathOnHost", MAP, SC_STRING, 0, "host", m_dev_member},
    {"PathInContainer", MAP, SC_STRING, 0, "container", m_dev_member},
    {"CgroupPermissions", MAP, SC_STRING, 0, "perms", m_dev_member},
    {NULL, 0, 0, 0, NULL, NULL}};

static enum berr
one_device(struct ctx *c, json_object *v, const char *field)
{
	const char *host, *ctr, *perms;
	char buf[1100];
	enum berr e;

	c->item = json_object_new_object();
	e = walk(c, device_rules, v, field);
	host = jx_str(c->item, "host");
	ctr = jx_str(c->item, "container");
	perms = jx_str(c->item, "perms");
	if (e == B_OK && (host == NULL || strchr(host, ':')))
		e = bad(c, field, "needs a PathOnHost without ':'");
	if (e == B_OK) {
		snprintf(buf, sizeof(buf), "%.512s:%.512s:%s", host, ctr ? ctr : host,
		         perms ? perms : "rwm");
		put_item(c, "devices", json_object_new_string(buf), field);
	}
	json_object_put(c->item);
	c->item = NULL;
	return e;
}

static enum berr
m_devices(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	(void)r;
	return each_object(c, v, field, one_device);
}

static enum berr
m_logtype(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	const char *s = json_object_get_string(v);

	(void)r;
	/* berth writes json-file with the role's size cap; local differs only on disk. */
	if (is_zero(v) || strcmp(s, "json-file") == 0 || strcmp(s, "local") == 0)
		return B_OK;
	return refused(c, B_FORBIDDEN, field,
	               "berth keeps logs in json-file (capped by the role's policy); other drivers "
	               "ship them from the host or lose them");
}

static enum berr
m_logopts(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	char f[FIELD_MAX];

	(void)r;
	json_object_object_foreach(v, k, val)
	{
		sub_key(f, sizeof(f), field, k);
		if (strcmp(k, "max-size") != 0 && strcmp(k, "max-file") != 0)
			return refused(c, B_FORBIDDEN, f,
			               "only max-size and max-file are accepted");
		if (!json_object_is_type(val, json_type_string))
			return bad(c, f, "must be a string");
	}
	if (!is_zero(v))
		pend(c, field, v);
	return B_OK;
}

static const struct rule log_rules[] = {{"Type", MAP, SC_STRING, 0, NULL, m_logtype},
                                        {"Config", MAP, SC_OBJECT, 0, NULL, m_logopts},
                                        {NULL, 0, 0, 0, NULL, NULL}};

static enum berr
m_restart_name(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	static const char *const names[] = {"no", "always", "unless-stopped", "on-failure", NULL};

	(void)r;
	if (is_zero(v))
		return B_OK;
	for (const char *const *p = names; *p; p++)
		if (strcmp(json_object_get_string(v), *p) == 0) {
			put(c, "restart", json_object_get(v), field);
			return B_OK;
		}
	return bad(c, field, "must be no, always, unless-stopped or on-failure");
}

static enum berr
m_retries(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	(void)r;
	if (json_object_get_int64(v) < 0)
		return bad(c, field, "must not be negative");
	if (!is_zero(v))
		pend(c, field, v);
	return B_OK;
}

static const struct rule restart_rules[] = {{"Name", MAP, SC_STRING, 0, NULL, m_restart_name},
                                            {"MaximumRetryCount", MAP, SC_INT, 0, NULL, m_retries},
                                            {NULL, 0, 0, 0, NULL, NULL}};

static enum berr
m_netmode(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	(void)r, (void)field;
	c->netmode = json_object_get_string(v);
	return B_OK;
}

/*
 * PidMode, IpcMode, UTSMode, UsernsMode, CgroupnsMode, Cgroup: "" is the
 * container's own namespace; R->why lists other values that keep it so
 * (pending: berth's spec has no field); host and container:<id> are refused.
 */
static enum berr
m_ns(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	const char *s = json_object_get_string(v);
	size_t n = strlen(s);
	const char *p = r->why;

	if (n == 0)
		return B_OK;
	if (strcmp(s, "host") == 0)
		return refused(c, B_FORBIDDEN, field,
		               "sharing the host's namespace gives up the container's isolation");
	if (strncmp(s, "container:", 10) == 0)
		return refused(c, B_FORBIDDEN, field,
		               "joining another container's namespace needs an ownership check "
		               "berth's spec cannot express yet");
	for (; p && *p; p += strcspn(p, "|"), p += *p == '|')
		if (strncmp(p, s, n) == 0 && (p[n] == '|' || p[n] == '\0')) {
			pend(c, field, v);
			return B_OK;
		}
	return bad(c, field, "names a mode berth does not know");
}

static enum berr
m_isolation(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	(void)r;
	if (is_zero(v) || strcmp(json_object_get_string(v), "default") == 0)
		return B_OK;
	return op_fail(c->o, B_INVALID, field, "%s: Windows only", field);
}

static enum berr
m_runtime(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	(void)r;
	if (is_zero(v) || strcmp(json_object_get_string(v), "runc") == 0)
		return B_OK;
	return refused(c, B_FORBIDDEN, field,
	               "only dockerd's default runtime (runc); others need a berth policy");
}

/* SecurityOpt: the unconfined ones are refused for everybody; no-new-privileges is pending. */
static enum berr
one_secopt(struct ctx *c, const char *s, const char *field, json_object *item)
{
	static const char *const never[] = {"seccomp=unconfined",     "seccomp:unconfined",
	                                    "apparmor=unconfined",    "apparmor:unconfined",
	                                    "label=disable",          "label:disable",
	                                    "systempaths=unconfined", NULL};

	for (const char *const *p = never; *p; p++)
		if (strcmp(s, *p) == 0)
			return refused(c, B_FORBIDDEN, field,
			               "it turns off the container's confinement");
	if (strcmp(s, "no-new-privileges") == 0 || strcmp(s, "no-new-privileges:true") == 0 ||
	    strcmp(s, "no-new-privileges=true") == 0) {
		pend(c, field, item);
		return B_OK;
	}
	if (strcmp(s, "no-new-privileges:false") == 0 || strcmp(s, "no-new-privileges=false") == 0)
		return B_OK;
	if (strncmp(s, "seccomp", 7) == 0 || strncmp(s, "apparmor", 8) == 0 ||
	    strncmp(s, "label", 5) == 0 || strncmp(s, "systempaths", 11) == 0)
		return refused(c, B_FORBIDDEN, field,
		               "custom security profiles need a berth policy; only "
		               "no-new-privileges is accepted");
	return bad(c, field, "is not a security option berth knows");
}

static enum berr
m_secopt(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	char f[FIELD_MAX];
	enum berr e;

	(void)r;
	if ((e = strings_only(c, v, field)) != B_OK)
		return e;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *it = json_object_array_get_idx(v, i);
		e = one_secopt(c, json_object_get_string(it), sub_idx(f, sizeof(f), field, i), it);
		if (e != B_OK)
			return e;
	}
	return B_OK;
}

/* Network-namespaced sysctls without effect outside the container (Kubernetes' safe set). */
static const char *const safe_sysctls[] = {"kernel.shm_rmid_forced",
                                           "net.ipv4.ip_local_port_range",
                                           "net.ipv4.ip_local_reserved_ports",
                                           "net.ipv4.ip_unprivileged_port_start",
                                           "net.ipv4.ping_group_range",
                                           "net.ipv4.tcp_syncookies",
                                           "net.ipv4.tcp_keepalive_time",
                                           "net.ipv4.tcp_keepalive_intvl",
                                           "net.ipv4.tcp_keepalive_probes",
                                           "net.ipv4.tcp_fin_timeout",
                                           NULL};

static enum berr
m_sysctls(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	char f[FIELD_MAX];

	(void)r;
	json_object_object_foreach(v, k, val)
	{
		const char *const *p = safe_sysctls;
		sub_key(f, sizeof(f), field, k);
		if (!json_object_is_type(val, json_type_string))
			return bad(c, f, "must be a string");
		while (*p && strcmp(*p, k) != 0)
			p++;
		if (*p == NULL)
			return refused(c, B_FORBIDDEN, f,
			               "only namespaced sysctls on berth's safe list are accepted");
	}
	if (!is_zero(v))
		pend(c, field, v);
	return B_OK;
}

static enum berr
m_storage(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	char f[FIELD_MAX];

	(void)r;
	json_object_object_foreach(v, k, val)
	{
		(void)val;
		if (strcmp(k, "size") != 0)
			return refused(c, B_FORBIDDEN, sub_key(f, sizeof(f), field, k),
			               "only size is accepted");
	}
	if (!is_zero(v))
		pend(c, field, v);
	return B_OK;
}

#define HOSTDEV_WHY "it names the host's block devices; not available through berth"
#define WINDOWS_WHY "Windows only"
#define OWNED_WHY                                                                                  \
	"it reaches into other containers, which needs an ownership check berth's spec cannot "    \
	"express yet"

static const struct rule host_rules[] = {
    /* Mapped onto berth's spec, then gated by the role's policy. */
    {"Memory", MAP, SC_INT, 0, NULL, m_memory},
    {"NanoCpus", MAP, SC_INT, 0, NULL, m_cpu},
    {"CpuQuota", MAP, SC_INT, 0, NULL, m_cpu},
    {"CpuPeriod", MAP, SC_INT, 0, NULL, m_cpu},
    {"PidsLimit", MAP, SC_INT, 0, NULL, m_pids},
    {"Binds", MAP, SC_ARRAY, 0, NULL, m_binds},
    {"Mounts", MAP, SC_ARRAY, 0, NULL, m_mounts},
    {"Tmpfs", MAP, SC_OBJECT, 0, NULL, m_tmpfs},
    {"CapAdd", MAP, SC_ARRAY, 0, "cap_add", m_caps},
    {"Devices", MAP, SC_ARRAY, 0, NULL, m_devices},
    {"NetworkMode", MAP, SC_STRING, 0, NULL, m_netmode},
    {"PortBindings", MAP, SC_OBJECT, 0, "bindings", m_aside},
    SUB("RestartPolicy", restart_rules),
    SUB("LogConfig", log_rules),
    /* Checked here; some values pending. */
    {"MemorySwap", MAP, SC_INT, 0, NULL, m_swap},
    {"MemorySwappiness", MAP, SC_INT, 0, NULL, m_swappiness},
    {"OomScoreAdj", MAP, SC_INT, 0, NULL, m_oomscore},
    {"SecurityOpt", MAP, SC_ARRAY, 0, NULL, m_secopt},
    {"Sysctls", MAP, SC_OBJECT, 0, NULL, m_sysctls},
    {"StorageOpt", MAP, SC_OBJECT, 0, NULL, m_storage},
    {"Runtime", MAP, SC_STRING, 0, NULL, m_runtime},
    {"Isolation", MAP, SC_STRING, 0, NULL, m_isolation},
    {"PidMode", MAP, SC_STRING, 0, NULL, m_ns},
    {"IpcMode", MAP, SC_STRING, 0, "private|shareable|none", m_ns},
    {"UTSMode", MAP, SC_STRING, 0, NULL, m_ns},
    {"UsernsMode", MAP, SC_STRING, 0, NULL, m_ns},
    {"CgroupnsMode", MAP, SC_STRING, 0, "private", m_ns},
    {"Cgroup", MAP, SC_STRING, 0, NULL, m_ns},
    /* Harmless for the host; berth's spec cannot say them yet. */
    {"AutoRemove", MAP, SC_BOOL, 0, "auto_remove", m_flag},
    {"CapDrop", MAP, SC_ARRAY, 0, "cap_drop", m_caps},
    {"CpuShares", PENDING, SC_INT, 0, NULL, NULL},
    {"BlkioWeight", PENDING, SC_INT, 0, NULL, NULL},
    {"MemoryReservation", PENDING, SC_INT, 0, NULL, NULL},
    {"Init", MAP, SC_BOOL, 0, "init", m_flag},
    {"Ulimits", PENDING, SC_ARRAY, 0, NULL, NULL},
    {"Dns", PENDING, SC_ARRAY, 0, NULL, NULL},
    {"DnsOptions", PENDING, SC_ARRAY, 0, NULL, NULL},
    {"DnsSearch", PENDING, SC_ARRAY, 0, NULL, NULL},
    {"ExtraHosts", PENDING, SC_ARRAY, 0, NULL, NULL},
    {"GroupAdd", PENDING, SC_ARRAY, 0, NULL, NULL},
    {"PublishAllPorts", PENDING, SC_BOOL, 0, NULL, NULL},
    {"ReadonlyRootfs", MAP, SC_BOOL, 0, "read_only", m_flag},
    {"ShmSize", PENDING, SC_INT, 0, NULL, NULL},
    /* No effect on the container. */
    {"ContainerIDFile", IGNORE, SC_STRING, 0, NULL, NULL},
    {"ConsoleSize", IGNORE, SC_ARRAY, 0, NULL, NULL},
    /* Refused for every role. */
    {"Privileged", ZERO, SC_BOOL, B_FORBIDDEN, "a privileged container is root on the host", NULL},
    {"MaskedPaths", NULLONLY, SC_ARRAY, B_FORBIDDEN,
     "it replaces Docker's list of masked /proc paths ([] unmasks /proc/kcore and others)", NULL},
    {"ReadonlyPaths", NULLONLY, SC_ARRAY, B_FORBIDDEN,
     "it replaces Docker's read-only /proc paths ([] makes /proc/sys writable)", NULL},
    {"CgroupParent", ZERO, SC_STRING, B_FORBIDDEN,
     "another cgroup parent escapes berth's limits and quotas", NULL},
    {"VolumeDriver", ZERO, SC_STRING, B_FORBIDDEN,
     "volume drivers can mount host paths and network shares", NULL},
    {"CpuRealtimePeriod", ZERO, SC_INT, B_FORBIDDEN, "real-time scheduling can starve the host",
     NULL},
    {"CpuRealtimeRuntime", ZERO, SC_INT, B_FORBIDDEN, "real-time scheduling can starve the host",
     NULL},
    {"VolumesFrom", ZERO, SC_ARRAY, B_FORBIDDEN, OWNED_WHY, NULL},
    {"Links", ZERO, SC_ARRAY, B_FORBIDDEN, OWNED_WHY, NULL},
    {"CpusetCpus", ZERO, SC_STRING, B_FORBIDDEN,
     "pinning to host CPUs needs a berth policy it does not have yet", NULL},
    {"CpusetMems", ZERO, SC_STRING, B_FORBIDDEN,
     "pinning to host memory nodes needs a berth policy it does not have yet", NULL},
    {"BlkioWeightDevice", ZERO, SC_ARRAY, B_FORBIDDEN, HOSTDEV_WHY, NULL},
    {"BlkioDeviceReadBps", ZERO, SC_ARRAY, B_FORBIDDEN, HOSTDEV_WHY, NULL},
    {"BlkioDeviceWriteBps", ZERO, SC_ARRAY, B_FORBIDDEN, HOSTDEV_WHY, NULL},
    {"BlkioDeviceReadIOps", ZERO, SC_ARRAY, B_FORBIDDEN, HOSTDEV_WHY, NULL},
    {"BlkioDeviceWriteIOps", ZERO, SC_ARRAY, B_FORBIDDEN, HOSTDEV_WHY, NULL},
    {"DeviceCgroupRules", ZERO, SC_ARRAY, B_FORBIDDEN,
     "device cgroup rules open host devices past berth's devices policy", NULL},
    {"DeviceRequests", ZERO, SC_ARRAY, B_FORBIDDEN,
     "GPUs and other device requests need a berth policy it does not have yet", NULL},
    {"OomKillDisable", ZERO, SC_BOOL, B_FORBIDDEN,
     "a container the kernel may not kill at its limit needs a berth policy", NULL},
    {"Annotations", ZERO, SC_OBJECT, B_FORBIDDEN, "annotations steer the runtime", NULL},
    {"KernelMemory", ZERO, SC_INT, B_INVALID, "deprecated by Docker, not supported", NULL},
    {"KernelMemoryTCP", ZERO, SC_INT, B_INVALID, "deprecated by Docker, not supported", NULL},
    {"CpuCount", ZERO, SC_INT, B_INVALID, WINDOWS_WHY, NULL},
    {"CpuPercent", ZERO, SC_INT, B_INVALID, WINDOWS_WHY, NULL},
    {"IOMaximumIOps", ZERO, SC_INT, B_INVALID, WINDOWS_WHY, NULL},
    {"IOMaximumBandwidth", ZERO, SC_INT, B_INVALID, WINDOWS_WHY, NULL},
    {NULL, 0, 0, 0, NULL, NULL}};

static enum berr
m_hostconfig(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	(void)r;
	return walk(c, host_rules, v, field);
}

/* ------------------------------------------------------ NetworkingConfig */

#define DAEMON_WHY "reported by the daemon, not set by a client"
#define IPAM_WHY   "a chosen address needs a berth spec field and an owned network"

static const struct rule ipam_rules[] = {
    {"IPv4Address", ZERO, SC_STRING, B_FORBIDDEN, IPAM_WHY, NULL},
    {"IPv6Address", ZERO, SC_STRING, B_FORBIDDEN, IPAM_WHY, NULL},
    {"LinkLocalIPs", ZERO, SC_ARRAY, B_FORBIDDEN, IPAM_WHY, NULL},
    {NULL, 0, 0, 0, NULL, NULL}};

/* Names the container also answers to on its network (berth's name rule; its own network only). */
static enum berr
m_aliases(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	char f[FIELD_MAX];
	enum berr e;

	(void)r;
	if (is_zero(v))
		return B_OK;
	if ((e = strings_only(c, v, field)) != B_OK)
		return e;
	for (size_t i = 0; i < json_object_array_length(v); i++)
		if (!name_valid(json_object_get_string(json_object_array_get_idx(v, i))))
			return bad(c, sub_idx(f, sizeof(f), field, i),
			           "must be 1 to 64 of a-z A-Z 0-9 _ . - starting with a letter or "
			           "digit");
	put(c, "aliases", json_object_get(v), field);
	return B_OK;
}

static const struct rule endpoint_rules[] = {
    SUB("IPAMConfig", ipam_rules),
    {"Aliases", MAP, SC_ARRAY, 0, NULL, m_aliases},
    {"Links", ZERO, SC_ARRAY, B_FORBIDDEN, OWNED_WHY, NULL},
    {"DriverOpts", ZERO, SC_OBJECT, B_FORBIDDEN, "network driver options are refused", NULL},
    {"MacAddress", ZERO, SC_STRING, B_FORBIDDEN,
     "a chosen MAC address can impersonate another host on the network", NULL},
    {"GwPriority", ZERO, SC_INT, B_INVALID, "not supported through berth yet", NULL},
    {"NetworkID", ZERO, SC_STRING, B_BAD_REQUEST, DAEMON_WHY, NULL},
    {"EndpointID", ZERO, SC_STRING, B_BAD_REQUEST, DAEMON_WHY, NULL},
    {"Gateway", ZERO, SC_STRING, B_BAD_REQUEST, DAEMON_WHY, NULL},
    {"IPAddress", ZERO, SC_STRING, B_BAD_REQUEST, DAEMON_WHY, NULL},
    {"IPPrefixLen", ZERO, SC_INT, B_BAD_REQUEST, DAEMON_WHY, NULL},
    {"IPv6Gateway", ZERO, SC_STRING, B_BAD_REQUEST, DAEMON_WHY, NULL},
    {"GlobalIPv6Address", ZERO, SC_STRING, B_BAD_REQUEST, DAEMON_WHY, NULL},
    {"GlobalIPv6PrefixLen", ZERO, SC_INT, B_BAD_REQUEST, DAEMON_WHY, NULL},
    {"DNSNames", ZERO, SC_ARRAY, B_BAD_REQUEST, DAEMON_WHY, NULL},
    {NULL, 0, 0, 0, NULL, NULL}};

static const struct rule netconfig_rules[] = {
    {"EndpointsConfig", MAP, SC_OBJECT, 0, "endpoints", m_aside}, {NULL, 0, 0, 0, NULL, NULL}};

static enum berr
m_netconfig(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	(void)r;
	return walk(c, netconfig_rules, v, field);
}

/* ------------------------------------------------------------------ walk */

static const struct rule *
rule_of(const struct rule *rules, const char *key)
{
	for (const struct rule *r = rules; r->name; r++)
		if (strcmp(r->name, key) == 0)
			return r;
	return NULL;
}

static enum berr
apply(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	switch (r->how) {
	case MAP:
		return json_object_is_type(v, json_type_null) ? B_OK : r->fn(c, r, v, field);
	case IGNORE:
		return B_OK;
	case PENDING:
		if (!is_zero(v))
			pend(c, field, v);
		return B_OK;
	case ZERO:
		return is_zero(v) ? B_OK : refused(c, r->refuse, field, r->why);
	case NULLONLY:
		return json_object_is_type(v, json_type_null)
		           ? B_OK
		           : refused(c, r->refuse, field, r->why);
	}
	return B_OK;
}

/* Each member of OBJ by its rule; PREFIX names OBJ ("" for the body itself). */
static enum berr
walk(struct ctx *c, const struct rule *rules, json_object *obj, const char *prefix)
{
	char field[FIELD_MAX];
	enum berr e;

	json_object_object_foreach(obj, k, v)
	{
		const struct rule *r = rule_of(rules, k);
		snprintf(field, sizeof(field), "%s%s%.64s", prefix, prefix[0] ? "." : "", k);
		if (r == NULL)
			return op_fail(c->o, B_BAD_REQUEST, field,
			               "%s is not a field berth knows; it refuses what it cannot "
			               "check",
			               field);
		if (!type_ok(v, r->types))
			return op_fail(c->o, B_BAD_REQUEST, field, "%s must be %s", field,
			               type_name(r->types));
		if ((e = apply(c, r, v, field)) != B_OK)
			return e;
	}
	return B_OK;
}

/* ------------------------------------------------------------------ join */

#define KEYS_MAX 256 /* ports or volumes in one body: berth's spec takes 64 and 32 */

/* "80", "80/tcp", "53/udp" into PORT and PROTO; ranges are not berth's yet. */
static enum berr
port_key(struct ctx *c, const char *k, const char *field, int *port, const char **proto)
{
	char *end;
	long n = strtol(k, &end, 10);

	*proto = "tcp";
	if (end != k && *end == '-')
		return op_fail(c->o, B_INVALID, field, "%s: port ranges are not supported yet",
		               field);
	if (end == k || !isdigit((unsigned char)k[0]) || n < 1 || n > 65535)
		return bad(c, field, "must be keyed PORT or PORT/PROTOCOL (1 to 65535)");
	if (*end == '/') {
		*proto = end + 1;
		if (strcmp(*proto, "tcp") && strcmp(*proto, "udp") && strcmp(*proto, "sctp"))
			return bad(c, field, "has a protocol other than tcp, udp or sctp");
	} else if (*end) {
		return bad(c, field, "must be keyed PORT or PORT/PROTOCOL (1 to 65535)");
	}
	*port = (int)n;
	return B_OK;
}

static enum berr
m_hostport(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	const char *s = json_object_get_string(v);
	char *end;
	long n;

	(void)r;
	if (is_zero(v))
		return B_OK;
	n = strtol(s, &end, 10);
	if (end != s && *end == '-')
		return op_fail(c->o, B_INVALID, field, "%s: port ranges are not supported yet",
		               field);
	if (end == s || *end || !isdigit((unsigned char)s[0]) || n < 0 || n > 65535)
		return bad(c, field, "must be a port number, or \"\" for a free one");
	if (n > 0)
		jx_add_int(c->item, "host", n);
	return B_OK;
}

static enum berr
m_hostip(struct ctx *c, const struct rule *r, json_object *v, const char *field)
{
	(void)r, (void)field;
	if (!is_zero(v))
		jx_add_ref(c->item, "ip", v);
	return B_OK;
}

static const struct rule binding_rules[] = {{"HostIp", MAP, SC_STRING, 0, NULL, m_hostip},
                                            {"HostPort", MAP, SC_STRING, 0, NULL, m_hostport},
                                            {NULL, 0, 0, 0, NULL, NULL}};

static int
nkeys(json_object *o)
{
	return o ? json_object_object_length(o) : 0;
}

/* Is PORT/PROTO published by a non-empty PortBindings entry? */
static int
is_bound(struct ctx *c, int port, const char *proto)
{
	if (c->bindings == NULL)
		return 0;
	json_object_object_foreach(c->bindings, k, v)
	{
		int p;
		const char *pr;
		if (port_key(c, k, "", &p, &pr) == B_OK && p == port && strcmp(pr, proto) == 0 &&
		    !is_zero(v))
			return 1;
	}
	return 0;
}

static enum berr
one_binding(struct ctx *c, json_object *b, const char *field, int port, const char *proto)
{
	enum berr e;

	if (!json_object_is_type(b, json_type_object))
		return bad(c, field, "must be an object");
	c->item = json_object_new_object();
	jx_add_int(c->item, "container", port);
	if (strcmp(proto, "tcp") != 0)
		jx_add_str(c->item, "protocol", proto);
	e = walk(c, binding_rules, b, field);
	if (e == B_OK)
		put_item(c, "ports", c->item, field);
	else
		json_object_put(c->item);
	c->item = NULL;
	return e;
}

/* PortBindings into berth's ports; ExposedPorts nothing publishes into its expose. */
static enum berr
join_ports(struct ctx *c)
{
	json_object *unbound = json_object_new_array();
	char f[FIELD_MAX], g[FIELD_MAX];
	const char *proto;
	enum berr e = B_OK;
	int port;

	if (nkeys(c->bindings) > KEYS_MAX || nkeys(c->exposed) > KEYS_MAX) {
		e = bad(c, "HostConfig.PortBindings", "names too many ports");
		goto out;
	}
	if (c->bindings == NULL)
		goto exposed;
	json_object_object_foreach(c->bindings, k, v)
	{
		sub_key(f, sizeof(f), "HostConfig.PortBindings", k);
		if ((e = port_key(c, k, f, &port, &proto)) != B_OK)
			goto out;
		for (size_t j = 0; v && j < json_object_array_length(v); j++) {
			e = one_binding(c, json_object_array_get_idx(v, j),
			                sub_idx(g, sizeof(g), f, j), port, proto);
			if (e != B_OK)
				goto out;
		}
	}
exposed:
	if (c->exposed == NULL)
		goto out;
	json_object_object_foreach(c->exposed, x, xv)
	{
		(void)xv;
		if ((e = port_key(c, x, sub_key(f, sizeof(f), "ExposedPorts", x), &port, &proto)) !=
		    B_OK)
			goto out;
		if (!is_bound(c, port, proto))
			json_object_array_add(unbound, json_object_new_string(x));
	}
	if (json_object_array_length(unbound))
		put(c, "expose", json_object_get(unbound), "ExposedPorts");
out:
	json_object_put(unbound);
	return e;
}

/* Config.Volumes: an anonymous volume at each path no mount already covers. */
static enum berr
join_volumes(struct ctx *c)
{
	json_object *m = jx_arr(c->spec, "mounts");
	char f[FIELD_MAX];

	if (c->volumes == NULL)
		return B_OK;
	if (nkeys(c->volumes) > KEYS_MAX)
		return bad(c, "Volumes", "names too many paths");
	json_object_object_foreach(c->volumes, k, v)
	{
		int covered = 0;
		(void)v;
		sub_key(f, sizeof(f), "Volumes", k);
		if (k[0] != '/')
			return bad(c, f, "must be keyed by an absolute path");
		for (size_t i = 0; m && i < json_object_array_length(m); i++)
			covered |=
			    strcmp(jx_str(json_object_array_get_idx(m, i), "target"), k) == 0;
		if (!covered)
			put_item(c, "mounts", new_mount("volume", NULL, k), f);
		m = jx_arr(c->spec, "mounts");
	}
	return B_OK;
}

static enum berr
join_cpus(struct ctx *c)
{
	double cpus;

	if (c->nano_cpus > 0 && (c->cpu_quota > 0 || c->cpu_period > 0))
		return bad(c, "HostConfig.NanoCpus",
		           "and HostConfig.CpuQuota/CpuPeriod conflict: give one");
	/* A period alone limits nothing, but it is the container's CFS period: not dropped. */
	if (c->cpu_period > 0 && c->cpu_quota <= 0)
		jx_add_int(c->pending, "HostConfig.CpuPeriod", c->cpu_period);
	if (c->nano_cpus > 0) {
		cpus = (double)c->nano_cpus / 1e9;
		put(c, "cpus", json_object_new_double(cpus), "HostConfig.NanoCpus");
	} else if (c->cpu_quota > 0) {
		cpus = (double)c->cpu_quota / (double)(c->cpu_period > 0 ? c->cpu_period : 100000);
		put(c, "cpus", json_object_new_double(cpus), "HostConfig.CpuQuota");
	}
	return B_OK;
}

/* NetworkMode into berth's network; EndpointsConfig may only describe that one network. */
static enum berr
join_network(struct ctx *c)
{
	const char *m = c->netmode ? c->netmode : "", *fm = "HostConfig.NetworkMode";
	int dflt = m[0] == '\0' || strcmp(m, "default") == 0;
	char f[FIELD_MAX];

	if (strcmp(m, "host") == 0)
		return refused(c, B_FORBIDDEN, fm,
		               "the host network gives up the container's network isolation");
	if (strncmp(m, "container:", 10) == 0)
		return refused(c, B_FORBIDDEN, fm, OWNED_WHY);
	if (c->net_disabled && !dflt && strcmp(m, "none") != 0)
		return bad(c, "NetworkDisabled", "contradicts HostConfig.NetworkMode");
	if (c->net_disabled)
		put(c, "network", json_object_new_string("none"), "NetworkDisabled");
	else if (!dflt)
		put(c, "network", json_object_new_string(m), fm);
	if (c->endpoints == NULL)
		return B_OK;
	if (nkeys(c->endpoints) > 1)
		return op_fail(c->o, B_INVALID, "NetworkingConfig.EndpointsConfig",
		               "NetworkingConfig.EndpointsConfig: one network at create; connect "
		               "the others afterwards");
	json_object_object_foreach(c->endpoints, k, v)
	{
		sub_key(f, sizeof(f), "NetworkingConfig.EndpointsConfig", k);
		if (strcmp(k, m) != 0 && !(dflt && strcmp(k, "default") == 0))
			return bad(c, f, "must describe HostConfig.NetworkMode's network");
		if (!type_ok(v, SC_OBJECT))
			return bad(c, f, "must be an object");
		if (v && walk(c, endpoint_rules, v, f) != B_OK)
			return c->o->err;
	}
	return B_OK;
}

static enum berr
join_name(struct ctx *c, const char *name)
{
	if (name && name[0] == '/')
		name++;
	if (name == NULL || name[0] == '\0')
		return B_OK; /* dockerd picks one */
	if (!name_valid(name))
		return op_fail(c->o, B_BAD_REQUEST, "name",
		               "name %.80s must be 1 to %d of a-z A-Z 0-9 _ . - starting with a "
		               "letter or digit",
		               name, BERTH_NAME_MAX);
	put(c, "name", json_object_new_string(name), "name");
	return B_OK;
}

/* The spec must be one berth's own create takes; a refusal names the Docker field. */
static enum berr
check_spec(struct ctx *c)
{
	struct dc_create tmp = {.origin = c->origin};
	struct sc_error se;
	char f[FIELD_MAX];

	if (sc_validate(&pol_container_schema, c->spec, &se) == 0)
		return B_OK;
	dc_docker_field(&tmp, se.field, f, sizeof(f));
	return op_fail(c->o, se.code, f, "%s: %s", f, se.msg);
}

enum berr
dc_classify(struct op *o, json_object *body, const char *name, struct dc_create *out)
{
	struct ctx c = {.o = o};
	enum berr e;

	memset(out, 0, sizeof(*out));
	c.spec = json_object_new_object();
	c.pending = json_object_new_object();
	c.origin = json_object_new_object();
	if (!json_object_is_type(body, json_type_object)) {
		e = op_fail(o, B_BAD_REQUEST, "", "the body must be a JSON object");
		goto out;
	}
	if ((e = walk(&c, config_rules, body, "")) != B_OK)
		goto out;
	if (jx_str(c.spec, "image") == NULL) {
		e = bad(&c, "Image", "is required: the image to run, name:tag");
		goto out;
	}
	if ((e = join_ports(&c)) != B_OK || (e = join_volumes(&c)) != B_OK ||
	    (e = join_cpus(&c)) != B_OK || (e = join_network(&c)) != B_OK ||
	    (e = join_name(&c, name)) != B_OK)
		goto out;
	/* Docker's create never starts; the client sends start. */
	jx_add_bool(c.spec, "start", 0);
	e = check_spec(&c);
out:
	if (e == B_OK) {
		out->spec = c.spec;
		out->pending = c.pending;
		out->origin = c.origin;
	} else {
		json_object_put(c.spec);
		json_object_put(c.pending);
		json_object_put(c.origin);
	}
	return e;
}

void
dc_create_free(struct dc_create *c)
{
	json_object_put(c->spec);
	json_object_put(c->pending);
	json_object_put(c->origin);
	memset(c, 0, sizeof(*c));
}

const char *
dc_docker_field(const struct dc_create *c, const char *field, char *buf, size_t n)
{
	const char *best = NULL;
	size_t blen = 0;

	if (c->origin) {
		json_object_object_foreach(c->origin, k, v)
		{
			size_t kl = strlen(k);
			if (kl > blen && strncmp(field, k, kl) == 0 &&
			    (field[kl] == '\0' || field[kl] == '.' || field[kl] == '[')) {
				best = json_object_get_string(v);
				blen = kl;
			}
		}
	}
	snprintf(buf, n, "%s", best ? best : field);
	/* A whole list ("devices") named by its first item's Docker field, less the index. */
	if (best == NULL && c->origin) {
		char first[FIELD_MAX];
		const char *v, *br;
		snprintf(first, sizeof(first), "%s[0]", field);
		v = jx_str(c->origin, first);
		br = v ? strrchr(v, '[') : NULL;
		if (br)
			snprintf(buf, n, "%.*s", (int)(br - v), v);
	}
	return buf;
}

static int
honoured_by(const char *field, const char *const *honoured)
{
	for (const char *const *h = honoured; h && *h; h++) {
		size_t l = strlen(*h);
		if (strcmp(field, *h) == 0 ||
		    (l && (*h)[l - 1] == '*' && strncmp(field, *h, l - 1) == 0))
			return 1;
	}
	return 0;
}

enum berr
dc_refuse_pending(struct op *o, const struct dc_create *c, const char *const *honoured)
{
	if (c->pending == NULL)
		return B_OK;
	json_object_object_foreach(c->pending, k, v)
	{
		(void)v;
		if (!honoured_by(k, honoured))
			return op_fail(o, B_INVALID, k,
			               "%s is not supported through berth yet; leave it out", k);
	}
	return B_OK;
}

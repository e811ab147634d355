/*
 * compose.c - compose documents into stack plans (compose.h).  Each level
 * of the document has a table of the keys berth takes, and a key outside
 * it is a 422 at its path; what a key means is translated into the fields
 * of berth's container spec, so the policy check that guards POST
 * /api/v1/containers guards stacks too.
 */
#include "berth.h"
#include "lib/json.h"
#include "res/compose.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What goes wrong at PATH (printf-style); returns -1. */
static int __attribute__((format(printf, 3, 4)))
cp_fail(struct cp_error *e, const char *path, const char *fmt, ...)
{
	va_list ap;

	snprintf(e->field, sizeof(e->field), "%s", path);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* PATH.KEY (or PATH[I] when KEY is NULL) into OUT, which may be PATH itself; cut to fit. */
static void
sub(char *out, size_t n, const char *path, const char *key, size_t i)
{
	char t[320];
	int k;

	if (key)
		k = snprintf(t, sizeof(t), "%s%s%s", path, *path ? "." : "", key);
	else
		k = snprintf(t, sizeof(t), "%s[%zu]", path, i);
	if (k < 0)
		t[0] = '\0';
	t[n - 1 < sizeof(t) - 1 ? n - 1 : sizeof(t) - 1] = '\0';
	memcpy(out, t, strlen(t) + 1);
}

/* ---- interpolation ----------------------------------------------------- */

struct interp {
	json_object *vars, *warnings;
	struct cp_error *e;
};

static int
var_char(char c, int first)
{
	return c == '_' || isalpha((unsigned char)c) || (!first && isdigit((unsigned char)c));
}

/* The value of variable NAME (LEN bytes), or NULL when unset. */
static const char *
var_get(struct interp *in, const char *name, size_t len)
{
	char k[128];

	if (len >= sizeof(k))
		return NULL;
	memcpy(k, name, len);
	k[len] = '\0';
	return jx_str(in->vars, k);
}

static void
warn_unset(struct interp *in, const char *name, size_t len)
{
	char w[200];

	snprintf(w, sizeof(w), "variable %.*s is not set: an empty string was used", (int)len,
	         name);
	if (in->warnings && json_object_array_length(in->warnings) < 32)
		json_object_array_add(in->warnings, json_object_new_string(w));
}

/* Grows OUT (malloc'd, *CAP bytes, *N used) by LEN bytes at P. */
static int
put(char **out, size_t *n, size_t *cap, const char *p, size_t len)
{
	if (*n + len + 1 > *cap) {
		size_t c = (*n + len + 1) * 2;
		char *b = realloc(*out, c);
		if (b == NULL)
			return -1;
		*out = b;
		*cap = c;
	}
	memcpy(*out + *n, p, len);
	*n += len;
	(*out)[*n] = '\0';
	return 0;
}

/* One ${...} at S (after "${"), up to its "}"; appends its value; *END past the brace. */
static int
braced(struct interp *in, const char *path, const char *s, const char **end, char **out, size_t *n,
       size_t *cap)
{
	const char *close = strchr(s, '}'), *name = s, *v;
	size_t len = 0;

	if (close == NULL)
		return cp_fail(in->e, path, "a ${ has no closing }");
	while (name + len < close && var_char(name[len], len == 0))
		len++;
	if (len == 0)
		return cp_fail(in->e, path, "${...} needs a variable name");
	v = var_get(in, name, len);
	s = name + len;
	*end = close + 1;
	if (s == close) {
		if (v == NULL)
			warn_unset(in, name, len);
		return put(out, n, cap, v ? v : "", v ? strlen(v) : 0);
	}
	/* ${K:-d} and ${K-d}: the default when unset (":" also when empty); ":?" / "?" refuse. */
	{
		int colon = *s == ':';
		char op = s[colon];
		const char *arg = s + colon + 1;
		int missing = v == NULL || (colon && *v == '\0');
		if (op != '-' && op != '?' && op != '+')
			return cp_fail(in->e, path,
			               "${%.*s%c...}: only :-, -, :?, ?, :+ and + are known",
			               (int)len, name, *s);
		if (op == '?' && missing)
			return cp_fail(in->e, path, "variable %.*s must be set: %.*s", (int)len,
			               name, (int)(close - arg), arg);
		if (op == '-' && missing)
			return put(out, n, cap, arg, (size_t)(close - arg));
		if (op == '+')
			return missing ? 0 : put(out, n, cap, arg, (size_t)(close - arg));
		return put(out, n, cap, v, strlen(v));
	}
}

/* S with every $ form replaced (new string, or NULL with E set). */
static char *
interp_str(struct interp *in, const char *path, const char *s)
{
	size_t n = 0, cap = strlen(s) + 1;
	char *out = malloc(cap);
	int rc = 0;

	if (out == NULL)
		return NULL;
	out[0] = '\0';
	while (*s && rc == 0) {
		const char *d = strchr(s, '$');
		if (d == NULL) {
			rc = put(&out, &n, &cap, s, strlen(s));
			break;
		}
		rc = put(&out, &n, &cap, s, (size_t)(d - s));
		if (rc == 0 && d[1] == '$') {
			rc = put(&out, &n, &cap, "$", 1);
			s = d + 2;
		} else if (rc == 0 && d[1] == '{') {
			rc = braced(in, path, d + 2, &s, &out, &n, &cap);
		} else if (rc == 0 && var_char(d[1], 1)) {
			size_t len = 1;
			const char *v;
			while (var_char(d[1 + len], 0))
				len++;
			if ((v = var_get(in, d + 1, len)) == NULL)
				warn_unset(in, d + 1, len);
			rc = put(&out, &n, &cap, v ? v : "", v ? strlen(v) : 0);
			s = d + 1 + len;
		} else if (rc == 0) {
			rc = put(&out, &n, &cap, "$", 1);
			s = d + 1;
		}
	}
	if (rc != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Interpolates every string value under V in place (keys are left as they are). */
static int
interp_walk(struct interp *in, json_object *v, const char *path)
{
	char p[256];

	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, m)
		{
			sub(p, sizeof(p), path, k, 0);
			if (json_object_is_type(m, json_type_string)) {
				char *s = interp_str(in, p, json_object_get_string(m));
				if (s == NULL)
					return -1;
				json_object_object_add(v, k, json_object_new_string(s));
				free(s);
			} else if (interp_walk(in, m, p) != 0) {
				return -1;
			}
		}
	} else if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *m = json_object_array_get_idx(v, i);
			sub(p, sizeof(p), path, NULL, i);
			if (json_object_is_type(m, json_type_string)) {
				char *s = interp_str(in, p, json_object_get_string(m));
				if (s == NULL)
					return -1;
				json_object_array_put_idx(v, i, json_object_new_string(s));
				free(s);
			} else if (interp_walk(in, m, p) != 0) {
				return -1;
			}
		}
	}
	return 0;
}

/* ---- the keys of each level ------------------------------------------- */

static const char *const top_keys[] = {"services", "volumes", "networks", "version", "name", NULL};
static const char *const service_keys[] = {
    "image",     "command", "entrypoint",  "environment", "ports", "volumes",
    "networks",  "restart", "healthcheck", "labels",      "user",  "working_dir",
    "mem_limit", "cpus",    "deploy",      "depends_on",  NULL};
static const char *const deploy_keys[] = {"replicas", "resources", NULL};
static const char *const resources_keys[] = {"limits", NULL};
static const char *const limits_keys[] = {"memory", "cpus", NULL};
static const char *const health_keys[] = {"test",         "interval", "timeout", "retries",
                                          "start_period", "disable",  NULL};
static const char *const port_keys[] = {"target", "published", "protocol", "host_ip", NULL};
static const char *const mount_keys[] = {"type", "source", "target", "read_only", NULL};
static const char *const dep_keys[] = {"condition", NULL};
static const char *const decl_keys[] = {"external", "name", NULL};
static const char *const conditions[] = {"service_started", "service_healthy",
                                         "service_completed_successfully", NULL};

static int
listed(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/*
 * Refuses the first key of OBJ (at PATH) that KEYS does not list; EXT lets
 * "x-" extension keys through (compose's own rule: ignored by every tool).
 */
static int
only_keys(struct cp_error *e, json_object *obj, const char *path, const char *const *keys, int ext)
{
	char p[256];

	json_object_object_foreach(obj, k, v)
	{
		(void)v;
		if (listed(k, keys) || (ext && strncmp(k, "x-", 2) == 0))
			continue;
		sub(p, sizeof(p), path, k, 0);
		return cp_fail(e, p,
		               "%s is not in the compose subset berth's stacks accept "
		               "(docs/stacks.md)",
		               k);
	}
	return 0;
}

/* OBJ (at PATH) must be a mapping; null is an empty one when NULL_OK. */
static int
need_object(struct cp_error *e, json_object *v, const char *path, int null_ok)
{
	if (json_object_is_type(v, json_type_object) || (null_ok && v == NULL))
		return 0;
	return cp_fail(e, path, "must be a mapping");
}

/* A scalar (string, number, bool) as text into OUT; -1 for anything else. */
static int
scalar_text(json_object *v, char *out, size_t n)
{
	if (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_boolean)) {
		snprintf(out, n, "%s", json_object_get_string(v));
		return 0;
	}
	return -1;
}

/* ---- one service's parts ----------------------------------------------- */

/* The context one service is translated in. */
struct svc_ctx {
	const char *stack, *name;
	char path[96]; /* "services.NAME" */
	json_object *spec, *origin, *plan;
	struct cp_error *e;
};

static void
origin(struct svc_ctx *c, const char *field, const char *key)
{
	char p[160];

	sub(p, sizeof(p), c->path, key, 0);
	jx_add_str(c->origin, field, p);
}

/* command and entrypoint: a list of strings, or a string (berth splits it). */
static int
argv_field(struct svc_ctx *c, json_object *v, const char *key, const char *field)
{
	char p[160];

	sub(p, sizeof(p), c->path, key, 0);
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
				return cp_fail(c->e, p, "must be a list of strings");
	} else if (!json_object_is_type(v, json_type_string)) {
		return cp_fail(c->e, p, "must be a string or a list of strings");
	}
	jx_add_ref(c->spec, field, v);
	origin(c, field, key);
	return 0;
}

/* environment: a mapping (null values are left out) or a list of K=V / K. */
static int
environment(struct svc_ctx *c, json_object *v)
{
	json_object *env = json_object_new_object();
	char p[160], val[4096];

	sub(p, sizeof(p), c->path, "environment", 0);
	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, m)
		{
			if (m == NULL)
				continue; /* "KEY:" passes the host's value through: there is none
				           */
			if (scalar_text(m, val, sizeof(val)) != 0) {
				json_object_put(env);
				return cp_fail(c->e, p, "%s must be a string, number or bool", k);
			}
			jx_add_str(env, k, val);
		}
	} else if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			const char *s = json_object_get_string(json_object_array_get_idx(v, i));
			const char *eq = s ? strchr(s, '=') : NULL;
			char k[256];
			if (!json_object_is_type(json_object_array_get_idx(v, i),
			                         json_type_string)) {
				json_object_put(env);
				sub(p, sizeof(p), c->path, "environment", 0);
				return cp_fail(c->e, p, "items must be KEY=value strings");
			}
			if (eq == NULL || (size_t)(eq - s) >= sizeof(k))
				continue; /* "KEY" alone: the host's value, which berth never passes
				           */
			snprintf(k, sizeof(k), "%.*s", (int)(eq - s), s);
			jx_add_str(env, k, eq + 1);
		}
	} else {
		json_object_put(env);
		return cp_fail(c->e, p, "must be a mapping or a list");
	}
	json_object_object_add(c->spec, "env", env);
	origin(c, "env", "environment");
	return 0;
}

/* A port number from text: 1..65535, or -1. */
static long
port_num(const char *s)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)*s))
		return -1;
	n = strtol(s, &end, 10);
	return *end == '\0' && n >= 1 && n <= 65535 ? n : -1;
}

/* "[ip:][host:]container[/proto]" into a spec port item; -1 when it is not one. */
static int
short_port(const char *s, json_object *item)
{
	char buf[128], *parts[3], *proto;
	size_t k = 0;
	long ctr, host = 0;

	if (strlen(s) >= sizeof(buf) || strchr(s, '-') || strchr(s, '['))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	if ((proto = strchr(buf, '/')))
		*proto++ = '\0';
	/* strsep keeps empty fields: "127.0.0.1::80" has no host port */
	for (char *q = buf, *f; (f = strsep(&q, ":")) != NULL;) {
		if (k == 3)
			return -1;
		parts[k++] = f;
	}
	ctr = port_num(parts[k - 1]);
	if (ctr < 0)
		return -1;
	if (k >= 2 && *parts[k - 2] && (host = port_num(parts[k - 2])) < 0)
		return -1;
	jx_add_int(item, "container", ctr);
	if (host)
		jx_add_int(item, "host", host);
	if (k == 3)
		jx_add_str(item, "ip", parts[0]);
	if (proto)
		jx_add_str(item, "protocol", proto);
	return 0;
}

static int
long_port(struct svc_ctx *c, json_object *v, const char *p, json_object *item)
{
	json_object *t = jx_get(v, "target"), *pub = jx_get(v, "published");
	char text[32];

	if (only_keys(c->e, v, p, port_keys, 0) != 0)
		return -1;
	if (!json_object_is_type(t, json_type_int))
		return cp_fail(c->e, p, "target must be a port number");
	jx_add_ref(item, "container", t);
	if (pub && scalar_text(pub, text, sizeof(text)) == 0) {
		if (port_num(text) < 0)
			return cp_fail(c->e, p, "published must be one port number (no ranges)");
		jx_add_int(item, "host", port_num(text));
	}
	if (jx_get(v, "protocol"))
		jx_add_ref(item, "protocol", jx_get(v, "protocol"));
	if (jx_get(v, "host_ip"))
		jx_add_ref(item, "ip", jx_get(v, "host_ip"));
	return 0;
}

static int
ports(struct svc_ctx *c, json_object *v)
{
	json_object *out;
	char p[160], text[128];

	sub(p, sizeof(p), c->path, "ports", 0);
	if (!json_object_is_type(v, json_type_array))
		return cp_fail(c->e, p, "must be a list");
	out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *it = json_object_array_get_idx(v, i), *item = json_object_new_object();
		int rc;
		json_object_array_add(out, item);
		sub(p, sizeof(p), c->path, "ports", 0);
		sub(p, sizeof(p), p, NULL, i);
		if (json_object_is_type(it, json_type_object))
			rc = long_port(c, it, p, item);
		else if (scalar_text(it, text, sizeof(text)) == 0 && short_port(text, item) == 0)
			rc = 0;
		else
			rc = cp_fail(c->e, p,
			             "a port is \"[ip:][host:]container[/protocol]\" with single "
			             "port numbers, or a mapping with target");
		if (rc != 0) {
			json_object_put(out);
			return -1;
		}
	}
	json_object_object_add(c->spec, "ports", out);
	origin(c, "ports", "ports");
	return 0;
}

/* A volume source: a declared volume's berth name, a host path (bind), or a refusal. */
static int
mount_source(struct svc_ctx *c, const char *p, const char *src, json_object *m)
{
	json_object *decl = jx_obj(jx_obj(c->plan, "volumes"), src);

	if (src[0] == '/') {
		jx_add_str(m, "type", "bind");
		jx_add_str(m, "source", src);
		return 0;
	}
	if (src[0] == '.' || src[0] == '~')
		return cp_fail(c->e, p,
		               "%s is relative to a project directory, which a stack on a server "
		               "does not have: use a named volume",
		               src);
	if (decl == NULL)
		return cp_fail(c->e, p, "volume %s is not declared under the top-level volumes",
		               src);
	jx_add_str(m, "type", "volume");
	jx_add_str(m, "source", jx_str(decl, "name"));
	return 0;
}

/* "source:target[:ro|rw]" or "target" into a spec mount. */
static int
short_mount(struct svc_ctx *c, const char *p, const char *s, json_object *m)
{
	char buf[1200], *f[3];
	size_t k = 0;

	if (strlen(s) >= sizeof(buf))
		return cp_fail(c->e, p, "too long");
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *q = buf, *t; (t = strsep(&q, ":")) != NULL;) {
		if (k == 3)
			return cp_fail(c->e, p, "a volume is source:target[:ro]");
		f[k++] = t;
	}
	if (k == 1) {
		jx_add_str(m, "type", "volume"); /* anonymous: removed with the container */
		jx_add_str(m, "target", f[0]);
		return 0;
	}
	if (k == 3 && strcmp(f[2], "ro") && strcmp(f[2], "rw"))
		return cp_fail(c->e, p, "the mode %s is not ro or rw", f[2]);
	if (mount_source(c, p, f[0], m) != 0)
		return -1;
	jx_add_str(m, "target", f[1]);
	if (k == 3 && strcmp(f[2], "ro") == 0)
		jx_add_bool(m, "read_only", 1);
	return 0;
}

static int
long_mount(struct svc_ctx *c, const char *p, json_object *v, json_object *m)
{
	const char *type = jx_str(v, "type"), *src = jx_str(v, "source");

	if (only_keys(c->e, v, p, mount_keys, 0) != 0)
		return -1;
	if (type == NULL ||
	    (strcmp(type, "volume") && strcmp(type, "bind") && strcmp(type, "tmpfs")))
		return cp_fail(c->e, p, "type must be volume, bind or tmpfs");
	if (src && strcmp(type, "tmpfs") == 0)
		return cp_fail(c->e, p, "a tmpfs has no source");
	if (src && mount_source(c, p, src, m) != 0)
		return -1;
	if (src && strcmp(jx_str(m, "type"), type) != 0)
		return cp_fail(c->e, p, "source %s is not a %s", src, type);
	jx_add_str(m, "type", type);
	jx_add_ref(m, "target", jx_get(v, "target"));
	if (jx_get(v, "read_only"))
		jx_add_ref(m, "read_only", jx_get(v, "read_only"));
	return 0;
}

static int
volumes(struct svc_ctx *c, json_object *v)
{
	json_object *out;
	char p[160];

	sub(p, sizeof(p), c->path, "volumes", 0);
	if (!json_object_is_type(v, json_type_array))
		return cp_fail(c->e, p, "must be a list");
	out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *it = json_object_array_get_idx(v, i), *m = json_object_new_object();
		int rc;
		json_object_array_add(out, m);
		sub(p, sizeof(p), c->path, "volumes", 0);
		sub(p, sizeof(p), p, NULL, i);
		if (json_object_is_type(it, json_type_string))
			rc = short_mount(c, p, json_object_get_string(it), m);
		else if (json_object_is_type(it, json_type_object))
			rc = long_mount(c, p, it, m);
		else
			rc = cp_fail(c->e, p, "must be a string or a mapping");
		if (rc != 0) {
			json_object_put(out);
			return -1;
		}
	}
	json_object_object_add(c->spec, "mounts", out);
	origin(c, "mounts", "volumes");
	return 0;
}

/* networks: a list of names or a mapping of name -> null/{}; berth joins one. */
static int
networks(struct svc_ctx *c, json_object *v)
{
	const char *name = NULL;
	json_object *decl;
	char p[160];
	size_t n = 0;

	sub(p, sizeof(p), c->path, "networks", 0);
	if (json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		name = n ? json_object_get_string(json_object_array_get_idx(v, 0)) : NULL;
		if (n && !json_object_is_type(json_object_array_get_idx(v, 0), json_type_string))
			return cp_fail(c->e, p, "must be a list of network names");
	} else if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, m)
		{
			if (m && !(json_object_is_type(m, json_type_object) &&
			           json_object_object_length(m) == 0)) {
				char q[200];
				sub(q, sizeof(q), p, k, 0);
				return cp_fail(c->e, q,
				               "network options (aliases, addresses) are not "
				               "in berth's compose subset");
			}
			name = n++ ? name : k;
		}
	} else {
		return cp_fail(c->e, p, "must be a list or a mapping");
	}
	if (n > 1)
		return cp_fail(c->e, p, "berth joins a service to one network; this lists %zu", n);
	if (n == 0)
		return 0;
	decl = jx_obj(jx_obj(c->plan, "networks"), name);
	if (decl == NULL)
		return cp_fail(c->e, p, "network %s is not declared under the top-level networks",
		               name);
	jx_add_str(c->spec, "network", jx_str(decl, "name"));
	origin(c, "network", "networks");
	return 0;
}

/* Seconds in a compose duration ("1m30s", "500ms", "10s", 5): -1 when it is none. */
static double
duration(json_object *v)
{
	const char *s = json_object_get_string(v);
	double total = 0;

	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		return json_object_get_double(v) >= 0 ? json_object_get_double(v) : -1;
	if (!json_object_is_type(v, json_type_string) || *s == '\0')
		return -1;
	while (*s) {
		char *end;
		double n = strtod(s, &end);
		if (end == s || n < 0)
			return -1;
		s = end;
		if (strncmp(s, "ms", 2) == 0)
			total += n / 1000, s += 2;
		else if (*s == 'h')
			total += n * 3600, s++;
		else if (*s == 'm')
			total += n * 60, s++;
		else if (*s == 's')
			total += n, s++;
		else
			return -1;
	}
	return total <= 86400 ? total : -1;
}

static int
healthcheck(struct svc_ctx *c, json_object *v)
{
	static const char *const times[] = {"interval", "timeout", "start_period", NULL};
	json_object *h = json_object_new_object(), *t = jx_get(v, "test");
	char p[160];

	sub(p, sizeof(p), c->path, "healthcheck", 0);
	if (need_object(c->e, v, p, 0) != 0 || only_keys(c->e, v, p, health_keys, 0) != 0)
		goto fail;
	if (jx_bool(v, "disable", 0)) {
		json_object *none = json_object_new_array();
		json_object_array_add(none, json_object_new_string("NONE"));
		json_object_object_add(h, "test", none);
	} else if (json_object_is_type(t, json_type_string)) {
		/* A string is a shell command: Docker's CMD-SHELL form. */
		json_object *a = json_object_new_array();
		json_object_array_add(a, json_object_new_string("CMD-SHELL"));
		json_object_array_add(a, json_object_get(t));
		json_object_object_add(h, "test", a);
	} else if (json_object_is_type(t, json_type_array)) {
		/* [CMD, true] means the word "true", as a command line: scalars are text. */
		json_object *a = json_object_new_array();
		char w[4096];
		json_object_object_add(h, "test", a);
		for (size_t i = 0; i < json_object_array_length(t); i++) {
			if (scalar_text(json_object_array_get_idx(t, i), w, sizeof(w)) != 0) {
				cp_fail(c->e, p, "test must be a list of strings");
				goto fail;
			}
			json_object_array_add(a, json_object_new_string(w));
		}
	} else {
		cp_fail(c->e, p, "test must be a string or a list");
		goto fail;
	}
	for (const char *const *k = times; *k; k++) {
		json_object *d = jx_get(v, *k);
		if (d == NULL)
			continue;
		if (duration(d) < 0) {
			char q[200];
			sub(q, sizeof(q), p, *k, 0);
			cp_fail(c->e, q, "must be a duration such as 10s, 1m30s or 500ms");
			goto fail;
		}
		json_object_object_add(h, *k, json_object_new_double(duration(d)));
	}
	if (jx_get(v, "retries"))
		jx_add_ref(h, "retries", jx_get(v, "retries"));
	json_object_object_add(c->spec, "healthcheck", h);
	origin(c, "healthcheck", "healthcheck");
	return 0;
fail:
	json_object_put(h);
	return -1;
}

/* labels: a mapping or a list of k=v; compose's own labels are berth's to write. */
static int
labels(struct svc_ctx *c, json_object *v)
{
	json_object *l = json_object_new_object();
	char p[160], val[1100];

	sub(p, sizeof(p), c->path, "labels", 0);
	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, m)
		{
			if (scalar_text(m, val, sizeof(val)) != 0)
				goto bad;
			jx_add_str(l, k, val);
		}
	} else if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			const char *s = json_object_get_string(json_object_array_get_idx(v, i));
			const char *eq = s ? strchr(s, '=') : NULL;
			char k[256];
			if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
				goto bad;
			snprintf(k, sizeof(k), "%.*s", eq ? (int)(eq - s) : (int)strlen(s), s);
			jx_add_str(l, k, eq ? eq + 1 : "");
		}
	} else {
		goto bad;
	}
	{
		json_object_object_foreach(l, k, m)
		{
			(void)m;
			if (strncmp(k, "com.docker.compose.", 19) == 0 ||
			    strncmp(k, "berth.", 6) == 0) {
				/* K lives in L: the message is made before L goes. */
				int r = cp_fail(c->e, p, "label %s: berth writes those itself", k);
				json_object_put(l);
				return r;
			}
		}
	}
	json_object_object_add(c->spec, "labels", l);
	origin(c, "labels", "labels");
	return 0;
bad:
	json_object_put(l);
	return cp_fail(c->e, p, "must be a mapping of strings or a list of key=value");
}

/* A size or CPU value into the spec (memory: as given; cpus: a number). */
static int
limit(struct svc_ctx *c, json_object *v, const char *key, const char *field)
{
	char p[160];

	sub(p, sizeof(p), c->path, key, 0);
	if (strcmp(field, "cpus") == 0) {
		double d = json_object_is_type(v, json_type_string)
		               ? strtod(json_object_get_string(v), NULL)
		               : json_object_get_double(v);
		if (!(d > 0))
			return cp_fail(c->e, p, "must be a number of CPUs, such as 0.5");
		json_object_object_add(c->spec, field, json_object_new_double(d));
	} else if (json_object_is_type(v, json_type_string) ||
	           json_object_is_type(v, json_type_int)) {
		jx_add_ref(c->spec, field, v);
	} else {
		return cp_fail(c->e, p, "must be a size, such as 512m");
	}
	origin(c, field, key);
	return 0;
}

static int
deploy(struct svc_ctx *c, json_object *v, json_object *svc)
{
	json_object *res = jx_get(v, "resources"), *lim, *r = jx_get(v, "replicas");
	char p[160], q[200];

	sub(p, sizeof(p), c->path, "deploy", 0);
	if (need_object(c->e, v, p, 0) != 0 || only_keys(c->e, v, p, deploy_keys, 0) != 0)
		return -1;
	if (r && (!json_object_is_type(r, json_type_int) || json_object_get_int64(r) < 0 ||
	          json_object_get_int64(r) > CP_REPLICAS_MAX)) {
		sub(q, sizeof(q), p, "replicas", 0);
		return cp_fail(c->e, q, "must be a whole number from 0 to %d", CP_REPLICAS_MAX);
	}
	if (r)
		jx_add_int(svc, "replicas", json_object_get_int64(r));
	if (res == NULL)
		return 0;
	sub(q, sizeof(q), p, "resources", 0);
	if (need_object(c->e, res, q, 0) != 0 || only_keys(c->e, res, q, resources_keys, 0) != 0)
		return -1;
	lim = jx_get(res, "limits");
	sub(q, sizeof(q), p, "resources.limits", 0);
	if (lim == NULL)
		return 0;
	if (need_object(c->e, lim, q, 0) != 0 || only_keys(c->e, lim, q, limits_keys, 0) != 0)
		return -1;
	if (jx_get(lim, "memory") &&
	    limit(c, jx_get(lim, "memory"), "deploy.resources.limits.memory", "memory") != 0)
		return -1;
	if (jx_get(lim, "cpus") &&
	    limit(c, jx_get(lim, "cpus"), "deploy.resources.limits.cpus", "cpus") != 0)
		return -1;
	return 0;
}

/* depends_on: a list of services (started) or a mapping with conditions. */
static int
depends_on(struct svc_ctx *c, json_object *v, json_object *services, json_object *svc)
{
	json_object *deps = json_object_new_object();
	char p[160], q[200];

	sub(p, sizeof(p), c->path, "depends_on", 0);
	json_object_object_add(svc, "depends_on", deps);
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *it = json_object_array_get_idx(v, i);
			if (!json_object_is_type(it, json_type_string))
				return cp_fail(c->e, p, "must be a list of service names");
			jx_add_str(deps, json_object_get_string(it), "service_started");
		}
	} else if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, m)
		{
			const char *cond = jx_str(m, "condition");
			sub(q, sizeof(q), p, k, 0);
			if (need_object(c->e, m, q, 1) != 0 ||
			    (m && only_keys(c->e, m, q, dep_keys, 0)))
				return -1;
			if (cond && !listed(cond, conditions)) {
				sub(q, sizeof(q), q, "condition", 0);
				return cp_fail(c->e, q,
				               "must be service_started, service_healthy or "
				               "service_completed_successfully");
			}
			jx_add_str(deps, k, cond ? cond : "service_started");
		}
	} else {
		return cp_fail(c->e, p, "must be a list or a mapping");
	}
	json_object_object_foreach(deps, k, cond)
	{
		sub(q, sizeof(q), p, k, 0);
		if (jx_obj(services, k) == NULL || strcmp(k, c->name) == 0)
			return cp_fail(c->e, q, "%s is not another service of this file", k);
		if (strcmp(json_object_get_string(cond), "service_healthy") == 0 &&
		    jx_obj(jx_obj(services, k), "healthcheck") == NULL)
			return cp_fail(c->e, q,
			               "service_healthy needs a healthcheck on %s, and it has none",
			               k);
	}
	return 0;
}

/* The simple string fields: compose key -> spec field. */
static const struct {
	const char *key, *field;
} plain[] = {
    {"image", "image"}, {"user", "user"}, {"working_dir", "workdir"}, {"restart", "restart"}};

static int
plain_fields(struct svc_ctx *c, json_object *svc)
{
	char p[160];

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		json_object *v = jx_get(svc, plain[i].key);
		if (v == NULL)
			continue;
		sub(p, sizeof(p), c->path, plain[i].key, 0);
		if (!json_object_is_type(v, json_type_string))
			return cp_fail(c->e, p, "must be a string");
		jx_add_ref(c->spec, plain[i].field, v);
		origin(c, plain[i].field, plain[i].key);
	}
	if (jx_get(svc, "image") == NULL)
		return cp_fail(c->e, c->path, "image is required (berth does not build)");
	return 0;
}

/* The config hash: SHA-256 of the spec as berth will send it, as compose hashes its config. */
static void
spec_hash(json_object *spec, char *out)
{
	unsigned char d[32];
	unsigned int n = 0;
	const char *t = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN);

	EVP_Digest(t, strlen(t), d, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int
service(const char *stack, const char *name, json_object *def, json_object *plan,
        struct cp_error *e)
{
	json_object *services = jx_obj(plan, "doc_services");
	json_object *svc = json_object_new_object();
	struct svc_ctx c = {.stack = stack, .name = name, .plan = plan, .e = e};
	char hash[65] = "";
	int rc;

	c.spec = json_object_new_object();
	c.origin = json_object_new_object();
	snprintf(c.path, sizeof(c.path), "services.%s", name);
	json_object_object_add(svc, "spec", c.spec);
	json_object_object_add(svc, "origin", c.origin);
	json_object_object_add(svc, "depends_on", json_object_new_object());
	jx_add_int(svc, "replicas", 1);
	json_object_object_add(jx_obj(plan, "services"), name, svc);
	rc = need_object(e, def, c.path, 0);
	if (rc == 0)
		rc = only_keys(e, def, c.path, service_keys, 1);
	if (rc == 0)
		rc = plain_fields(&c, def);
	if (rc == 0 && jx_get(def, "command"))
		rc = argv_field(&c, jx_get(def, "command"), "command", "command");
	if (rc == 0 && jx_get(def, "entrypoint"))
		rc = argv_field(&c, jx_get(def, "entrypoint"), "entrypoint", "entrypoint");
	if (rc == 0 && jx_get(def, "environment"))
		rc = environment(&c, jx_get(def, "environment"));
	if (rc == 0 && jx_get(def, "ports"))
		rc = ports(&c, jx_get(def, "ports"));
	if (rc == 0 && jx_get(def, "volumes"))
		rc = volumes(&c, jx_get(def, "volumes"));
	if (rc == 0 && jx_get(def, "networks"))
		rc = networks(&c, jx_get(def, "networks"));
	/* Not on a network of its own: the stack's default one, as compose does. */
	if (rc == 0 && jx_get(c.spec, "network") == NULL)
		jx_add_str(c.spec, "network",
		           jx_str(jx_obj(jx_obj(plan, "networks"), "default"), "name"));
	if (rc == 0 && jx_get(def, "healthcheck"))
		rc = healthcheck(&c, jx_get(def, "healthcheck"));
	if (rc == 0 && jx_get(def, "labels"))
		rc = labels(&c, jx_get(def, "labels"));
	if (rc == 0 && jx_get(def, "mem_limit"))
		rc = limit(&c, jx_get(def, "mem_limit"), "mem_limit", "memory");
	if (rc == 0 && jx_get(def, "cpus"))
		rc = limit(&c, jx_get(def, "cpus"), "cpus", "cpus");
	if (rc == 0 && jx_get(def, "deploy"))
		rc = deploy(&c, jx_get(def, "deploy"), svc);
	if (rc == 0 && jx_get(def, "depends_on"))
		rc = depends_on(&c, jx_get(def, "depends_on"), services, svc);
	if (rc == 0) {
		spec_hash(c.spec, hash);
		jx_add_str(svc, "hash", hash);
	}
	return rc;
}

/* ---- top level --------------------------------------------------------- */

/* Top-level volumes or networks (WHAT): null or {external, name} each; names into the plan. */
static int
declared(const char *stack, json_object *doc, const char *what, json_object *plan,
         struct cp_error *e)
{
	json_object *decl = jx_get(doc, what), *out = json_object_new_object();
	char p[160], bname[128];

	json_object_object_add(plan, what, out);
	if (strcmp(what, "networks") == 0) {
		json_object *d = json_object_new_object();
		snprintf(bname, sizeof(bname), "%s_default", stack);
		jx_add_str(d, "name", bname);
		jx_add_bool(d, "external", 0);
		json_object_object_add(out, "default", d);
	}
	if (decl == NULL)
		return 0;
	if (need_object(e, decl, what, 0) != 0)
		return -1;
	json_object_object_foreach(decl, k, v)
	{
		json_object *d = json_object_new_object();
		int ext = jx_bool(v, "external", 0);
		sub(p, sizeof(p), what, k, 0);
		json_object_object_add(out, k, d);
		if (need_object(e, v, p, 1) != 0 || (v && only_keys(e, v, p, decl_keys, 0) != 0))
			return -1;
		if (jx_get(v, "name") && !jx_str(v, "name"))
			return cp_fail(e, p, "name must be a string");
		if (jx_get(v, "name") && !ext)
			return cp_fail(e, p,
			               "name only goes with external: true (berth names the "
			               "stack's own as <stack>_<key>)");
		if (ext)
			snprintf(bname, sizeof(bname), "%s",
			         jx_str(v, "name") ? jx_str(v, "name") : k);
		else
			snprintf(bname, sizeof(bname), "%s_%s", stack, k);
		if (!name_valid(bname))
			return cp_fail(e, p, "%s is not a usable name (letters, digits, _ . -)",
			               bname);
		jx_add_str(d, "name", bname);
		jx_add_bool(d, "external", ext);
	}
	return 0;
}

/* Depth-first over depends_on: ORDER gets each service after its dependencies. */
static int
visit(json_object *services, const char *name, json_object *state, json_object *order,
      struct cp_error *e)
{
	int64_t st = jx_int(state, name, 0);
	char p[160];

	if (st == 2)
		return 0;
	if (st == 1) {
		snprintf(p, sizeof(p), "services.%s.depends_on", name);
		return cp_fail(e, p, "the dependencies of %s go round in a circle", name);
	}
	jx_add_int(state, name, 1);
	json_object_object_foreach(jx_obj(jx_obj(services, name), "depends_on"), dep, cond)
	{
		(void)cond;
		if (visit(services, dep, state, order, e) != 0)
			return -1;
	}
	jx_add_int(state, name, 2);
	json_object_array_add(order, json_object_new_string(name));
	return 0;
}

static int
check_services(json_object *services, struct cp_error *e)
{
	char p[160];

	if (!json_object_is_type(services, json_type_object) ||
	    json_object_object_length(services) == 0)
		return cp_fail(e, "services", "a stack needs at least one service");
	if (json_object_object_length(services) > CP_SERVICES_MAX)
		return cp_fail(e, "services", "at most %d services", CP_SERVICES_MAX);
	json_object_object_foreach(services, k, v)
	{
		size_t n = strlen(k);
		(void)v;
		snprintf(p, sizeof(p), "services.%.140s", k);
		if (n == 0 || n > CP_SERVICE_MAX || !name_valid(k) || strchr(k, '.'))
			return cp_fail(e, p, "a service name is 1 to %d letters, digits, _ or -",
			               CP_SERVICE_MAX);
	}
	return 0;
}

static int
build(const char *stack, json_object *doc, json_object *plan, struct cp_error *e)
{
	json_object *services = jx_get(doc, "services"), *state, *order;
	const char *name = jx_str(doc, "name");
	int rc = 0;

	if (need_object(e, doc, "", 0) != 0)
		return cp_fail(e, "", "a compose file is a mapping with services");
	if (only_keys(e, doc, "", top_keys, 1) != 0)
		return -1;
	if (jx_get(doc, "name") && (name == NULL || strcmp(name, stack) != 0))
		return cp_fail(e, "name", "the file names project %s but the stack is %s",
		               name ? name : "?", stack);
	if (check_services(services, e) != 0)
		return -1;
	json_object_object_add(plan, "services", json_object_new_object());
	/* Borrowed, for depends_on's checks: removed before the plan is handed out. */
	json_object_object_add(plan, "doc_services", json_object_get(services));
	if (declared(stack, doc, "volumes", plan, e) != 0 ||
	    declared(stack, doc, "networks", plan, e) != 0)
		return -1;
	json_object_object_foreach(services, k, v)
	{
		if ((rc = service(stack, k, v, plan, e)) != 0)
			return -1;
	}
	state = json_object_new_object();
	order = json_object_new_array();
	json_object_object_add(plan, "order", order);
	{
		json_object *svcs = jx_obj(plan, "services");
		json_object_object_foreach(svcs, k2, v2)
		{
			(void)v2;
			if ((rc = visit(svcs, k2, state, order, e)) != 0)
				break;
		}
	}
	json_object_put(state);
	return rc;
}

int
cp_plan(const char *stack, json_object *doc, json_object *vars, json_object **plan,
        json_object **warnings, struct cp_error *e)
{
	json_object *d = NULL, *p = json_object_new_object();
	struct interp in = {.vars = vars, .e = e};

	memset(e, 0, sizeof(*e));
	*plan = NULL;
	if (warnings)
		*warnings = in.warnings = json_object_new_array();
	if (json_object_deep_copy(doc, &d, NULL) != 0 || interp_walk(&in, d, "") != 0 ||
	    build(stack, d, p, e) != 0) {
		if (e->msg[0] == '\0')
			cp_fail(e, "", "out of memory");
		json_object_put(d);
		json_object_put(p);
		return -1;
	}
	json_object_object_del(p, "doc_services");
	json_object_put(d);
	*plan = p;
	return 0;
}

void
cp_origin(json_object *origin, const char *service, const char *field, char *out, size_t n)
{
	size_t k = strcspn(field, ".[");
	char head[64];
	const char *o;

	snprintf(head, sizeof(head), "%.*s", (int)(k < 63 ? k : 63), field);
	o = jx_str(origin, head);
	if (o == NULL) {
		snprintf(out, n, "services.%s", service);
		return;
	}
	/* Keep an item's index ("[1]"), which counts the same in both; drop what follows. */
	if (field[k] == '[')
		snprintf(out, n, "%s%.*s", o, (int)(strcspn(field + k, "]") + 1), field + k);
	else
		snprintf(out, n, "%s", o);
}

void
cp_replica_name(const char *stack, const char *service, int number, char *out, size_t n)
{
	snprintf(out, n, "%s-%s-%d", stack, service, number);
}

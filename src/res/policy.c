/*
 * policy.c - berth's container spec: its schema, the per-role policy checks
 * and the translation into a Docker create body.  Defaults refuse every risky
 * option for every role, admin included; berth.conf opens them per role.
 */
#include "berth.h"
#include "lib/cfg.h"
#include "lib/hostpath.h"
#include "lib/json.h"
#include "res/owner.h"
#include "res/policy.h"
#include "res/volumes.h"
#include "lib/op.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const restart_enum[] = {"no", "always", "unless-stopped", "on-failure", NULL};
static const char *const proto_enum[] = {"tcp", "udp", "sctp", NULL};
static const char *const mount_enum[] = {"volume", "bind", "tmpfs", NULL};
static const char *const host_enum[] = {"host", NULL};

static const struct sc_field str_item = {.types = SC_STRING, .max = 4096};
static const struct sc_field env_item = {
    .types = SC_STRING, .max = 32768, .pattern = SC_ENVITEM_RE};
static const struct sc_field env_value = {.types = SC_STRING, .max = 32768};
static const struct sc_field label_value = {.types = SC_STRING, .max = 1024};
static const struct sc_field cap_item = {
    .types = SC_STRING, .min = 1, .max = 64, .pattern = "^[A-Z_]{1,64}$"};

static const struct sc_field alias_item = {
    .types = SC_STRING, .min = 1, .max = 64, .pattern = SC_NAME_RE};
static const struct sc_field expose_item = {.types = SC_INT | SC_STRING,
                                            .min = 1,
                                            .max = 65535,
                                            .pattern = "^[0-9]{1,5}(/(tcp|udp|sctp))?$"};
static const char *const health_kind_enum[] = {"CMD", "CMD-SHELL", "NONE", NULL};
static const struct sc_field health_fields[] = {
    {.name = "test",
     .types = SC_ARRAY,
     .flags = SC_REQUIRED,
     .desc = "[\"CMD\", argv...], [\"CMD-SHELL\", \"command\"] or [\"NONE\"] (the image's off).",
     .min = 1,
     .max = 64,
     .items = &str_item},
    {.name = "interval",
     .types = SC_NUMBER,
     .desc = "Seconds between checks (default 30).",
     .min = 0,
     .max = 86400},
    {.name = "timeout",
     .types = SC_NUMBER,
     .desc = "Seconds one check may take (default 30).",
     .min = 0,
     .max = 86400},
    {.name = "start_period",
     .types = SC_NUMBER,
     .desc = "Seconds of start-up whose failures do not count.",
     .min = 0,
     .max = 86400},
    {.name = "retries",
     .types = SC_INT,
     .desc = "Failures in a row that make it unhealthy (default 3).",
     .min = 0,
     .max = 100},
    {0}};

static const struct sc_field port_fields[] = {
    {.name = "container",
     .types = SC_INT | SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "Port inside the container: 80 or \"80/tcp\".",
     .min = 1,
     .max = 65535,
     .pattern = "^[0-9]{1,5}(/(tcp|udp|sctp))?$"},
    {.name = "host",
     .types = SC_INT,
     .desc = "Host port; 0 or absent picks a free one.",
     .min = 0,
     .max = 65535},
    {.name = "protocol",
     .types = SC_STRING,
     .desc = "tcp (default), udp or sctp.",
     .enums = proto_enum},
    {.name = "ip",
     .types = SC_STRING,
     .desc = "Host address to bind (default all).",
     .max = 45,
     .pattern = "^[0-9a-fA-F.:]{1,45}$"},
    {0}};
static const struct sc_field port_item = {.types = SC_OBJECT, .props = port_fields};

static const struct sc_field mount_fields[] = {
    {.name = "type",
     .types = SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "volume, bind or tmpfs.",
     .enums = mount_enum},
    {.name = "source",
     .types = SC_STRING,
     .desc = "The name of one of the owner's volumes (made on first use; absent: an anonymous "
             "volume removed with the container), or for a bind a canonical host path that is "
             "one of the role's bind_sources as a whole; none for tmpfs.",
     .min = 1,
     .max = 1024,
     .pattern = "^[a-zA-Z0-9/][a-zA-Z0-9_./-]*$"},
    {.name = "target",
     .types = SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "Absolute path in the container.",
     .min = 1,
     .max = 1024,
     .pattern = "^/[a-zA-Z0-9_./-]*$"},
    {.name = "read_only", .types = SC_BOOL, .desc = "Mount read-only."},
    {.name = "size",
     .types = SC_INT | SC_STRING,
     .desc = "tmpfs only: its size, bytes or \"64m\" (default and most: the memory limit).",
     .pattern = SC_SIZE_RE},
    {0}};
static const struct sc_field mount_item = {.types = SC_OBJECT, .props = mount_fields};

static const struct sc_field device_item = {
    .types = SC_STRING,
    .min = 6,
    .max = 512,
    .desc = "Host device node (a device_paths entry or beneath one), optionally "
            "\":/container/path[:rwm]\".",
    .pattern = "^/dev/[a-zA-Z0-9_./-]+(:/[a-zA-Z0-9_./-]+)?(:[rwm]{1,3})?$"};

/* A health check: what compose's healthcheck says, in seconds rather than durations. */

#define SPEC_FIELDS                                                                                \
	{.name = "name",                                                                           \
	 .types = SC_STRING,                                                                       \
	 .desc = "Container name, unique on the host.",                                            \
	 .min = 1,                                                                                 \
	 .max = 64,                                                                                \
	 .pattern = SC_NAME_RE,                                                                    \
	 .example = "\"web\""},                                                                    \
	    SC_IMAGE_FIELD,                                                                        \
	    {.name = "command",                                                                    \
	     .types = SC_STRING | SC_ARRAY,                                                        \
	     .desc = "Command: a list of arguments, or a string split like a shell would.",        \
	     .max = 4096,                                                                          \
	     .items = &str_item},                                                                  \
	    {.name = "env",                                                                        \
	     .types = SC_OBJECT | SC_ARRAY,                                                        \
	     .desc = "Environment: {\"KEY\": \"value\"} (or [\"KEY=value\"]).",                    \
	     .max = 256,                                                                           \
	     .values = &env_value,                                                                 \
	     .keys = SC_ENVKEY_RE,                                                                 \
	     .items = &env_item},                                                                  \
	    {.name = "ports",                                                                      \
	     .types = SC_ARRAY,                                                                    \
	     .desc = "Published ports.",                                                           \
	     .max = 64,                                                                            \
	     .items = &port_item},                                                                 \
	    {.name = "labels",                                                                     \
	     .types = SC_OBJECT,                                                                   \
	     .desc = "Extra labels (names starting with berth. are reserved).",                    \
	     .max = 64,                                                                            \
	     .values = &label_value,                                                               \
	     .keys = SC_LABEL_RE},                                                                 \
	    {.name = "restart",                                                                    \
	     .types = SC_STRING,                                                                   \
	     .desc = "Restart policy.",                                                            \
	     .enums = restart_enum},                                                               \
	    {.name = "memory",                                                                     \
	     .types = SC_INT | SC_STRING,                                                          \
	     .desc = "Memory limit: bytes or \"512m\", \"2g\" (at least 6m).",                     \
	     .pattern = SC_SIZE_RE},                                                               \
	    {.name = "cpus",                                                                       \
	     .types = SC_NUMBER,                                                                   \
	     .desc = "CPU limit in cores (0.5 = half; at least 0.01; default: the role's)."},      \
	    {.name = "pids",                                                                       \
	     .types = SC_INT,                                                                      \
	     .desc = "Most processes at once (at least 8; default: the role's).",                  \
	     .min = 1,                                                                             \
	     .max = 4194304},                                                                      \
	    {.name = "workdir",                                                                    \
	     .types = SC_STRING,                                                                   \
	     .desc = "Working directory.",                                                         \
	     .max = 1024,                                                                          \
	     .pattern = "^/[a-zA-Z0-9_./-]*$"},                                                    \
	    {.name = "user",                                                                       \
	     .types = SC_STRING,                                                                   \
	     .desc = "User[:group] to run as.",                                                    \
	     .max = 64,                                                                            \
	     .pattern = "^[a-zA-Z0-9_][a-zA-Z0-9_.:-]*$"},                                         \
	    {.name = "privileged",                                                                 \
	     .types = SC_BOOL,                                                                     \
	     .desc = "Privileged mode (refused unless the role's policy allows it)."},             \
	    {.name = "network",                                                                    \
	     .types = SC_STRING,                                                                   \
	     .desc = "One of the owner's networks by name (default: its own \"default\"), a "      \
	             "shared one (policy networks), none, host or bridge (policy).",               \
	     .max = 64,                                                                            \
	     .pattern = SC_NAME_RE},                                                               \
	    {.name = "pid",                                                                        \
	     .types = SC_STRING,                                                                   \
	     .desc = "\"host\" shares the host PID space.",                                        \
	     .enums = host_enum},                                                                  \
	    {.name = "ipc",                                                                        \
	     .types = SC_STRING,                                                                   \
	     .desc = "\"host\" shares the host IPC space.",                                        \
	     .enums = host_enum},                                                                  \
	    {.name = "mounts",                                                                     \
	     .types = SC_ARRAY,                                                                    \
	     .desc = "Volumes, bind mounts (policy) and tmpfs mounts.",                            \
	     .max = 32,                                                                            \
	     .items = &mount_item},                                                                \
	    {.name = "cap_add",                                                                    \
	     .types = SC_ARRAY,                                                                    \
	     .desc = "Added capabilities (policy).",                                               \
	     .max = 32,                                                                            \
	     .items = &cap_item},                                                                  \
	    {.name = "devices",                                                                    \
	     .types = SC_ARRAY,                                                                    \
	     .desc = "Host devices (policy).",                                                     \
	     .max = 32,                                                                            \
	     .items = &device_item},                                                               \
	    {.name = "cap_drop",                                                                   \
	     .types = SC_ARRAY,                                                                    \
	     .desc = "Capabilities dropped (ALL: every one).",                                     \
	     .max = 64,                                                                            \
	     .items = &cap_item},                                                                  \
	    {.name = "entrypoint",                                                                 \
	     .types = SC_STRING | SC_ARRAY,                                                        \
	     .desc = "Entrypoint instead of the image's: a list, or a string split like a shell "  \
	             "would.",                                                                     \
	     .max = 4096,                                                                          \
	     .items = &str_item},                                                                  \
	    {.name = "tty", .types = SC_BOOL, .desc = "Give it a terminal (its logs are raw)."},   \
	    {.name = "stdin",                                                                      \
	     .types = SC_BOOL,                                                                     \
	     .desc = "Keep its stdin open for an attach to write to (docker run -i)."},            \
	    {.name = "hostname",                                                                   \
	     .types = SC_STRING,                                                                   \
	     .desc = "Its host name (default: the id's first 12 digits).",                         \
	     .min = 1,                                                                             \
	     .max = 63,                                                                            \
	     .pattern = "^[a-zA-Z0-9][a-zA-Z0-9.-]*$"},                                            \
	    {.name = "auto_remove",                                                                \
	     .types = SC_BOOL,                                                                     \
	     .desc = "Removed by dockerd once it exits (docker run --rm); no restart policy."},    \
	    {.name = "aliases",                                                                    \
	     .types = SC_ARRAY,                                                                    \
	     .desc = "More names it answers to on its owner's own network (not on shared ones).",  \
	     .max = 16,                                                                            \
	     .items = &alias_item},                                                                \
	    {.name = "expose",                                                                     \
	     .types = SC_ARRAY,                                                                    \
	     .desc = "Ports it listens on without publishing them: 80 or \"53/udp\".",             \
	     .max = 64,                                                                            \
	     .items = &expose_item},                                                               \
	    {.name = "stop_signal",                                                                \
	     .types = SC_STRING,                                                                   \
	     .desc = "The signal stop sends first (default the image's, else SIGTERM).",           \
	     .min = 1,                                                                             \
	     .max = 16,                                                                            \
	     .pattern = "^[A-Z0-9][A-Z0-9+]*$"},                                                   \
	    {.name = "stop_timeout",                                                               \
	     .types = SC_INT,                                                                      \
	     .desc = "Seconds stop waits before SIGKILL (default 10).",                            \
	     .min = 0,                                                                             \
	     .max = 3600},                                                                         \
	    {.name = "healthcheck",                                                                \
	     .types = SC_OBJECT,                                                                   \
	     .desc = "How dockerd checks it is healthy (instead of the image's).",                 \
	     .props = health_fields},                                                              \
	    {.name = "init",                                                                       \
	     .types = SC_BOOL,                                                                     \
	     .desc = "Run an init as PID 1 that reaps zombies and forwards signals."},             \
	    {.name = "read_only", .types = SC_BOOL, .desc = "A read-only root file system."},      \
	{                                                                                          \
		.name = "protected", .types = SC_BOOL,                                             \
		.desc = "Refuse stop/kill/remove through the API (admin only)."                    \
	}

const struct sc_field pol_spec_fields[] = {SPEC_FIELDS, {0}};

static const struct sc_field create_fields[] = {
    SPEC_FIELDS,
    {.name = "start", .types = SC_BOOL, .desc = "Start it after creating (default true)."},
    OWN_FIELD,
    {0}};

const struct sc_schema pol_container_schema = {
    "container", "berth container spec", create_fields,
    "{\"name\":\"web\",\"image\":\"berth-test/busybox:1\",\"command\":[\"httpd\",\"-f\","
    "\"-p\",\"8080\"],\"env\":{\"GREETING\":\"hello\"},\"ports\":[{\"container\":8080}],"
    "\"restart\":\"unless-stopped\",\"memory\":\"64m\"}",
    1};

static const struct sc_field patch_fields[] = {
    {.name = "command",
     .types = SC_STRING | SC_ARRAY,
     .desc = "New command.",
     .max = 4096,
     .items = &str_item},
    {.name = "env",
     .types = SC_OBJECT | SC_ARRAY,
     .desc = "New environment (replaces).",
     .max = 256,
     .values = &env_value,
     .keys = SC_ENVKEY_RE,
     .items = &env_item},
    {.name = "ports",
     .types = SC_ARRAY,
     .desc = "New published ports (replaces).",
     .max = 64,
     .items = &port_item},
    {.name = "restart", .types = SC_STRING, .desc = "New restart policy.", .enums = restart_enum},
    {0}};

const struct sc_schema pol_patch_schema = {
    "container_patch", "change a container's arguments", patch_fields,
    "{\"command\":[\"httpd\",\"-f\",\"-p\",\"9090\"],\"env\":{\"MODE\":\"debug\"}}", 1};

int
pol_has_tag(const char *ref)
{
	const char *slash = strrchr(ref, '/');
	const char *last = slash ? slash + 1 : ref;
	const char *colon = strchr(last, ':');

	if (strstr(ref, "@sha256:"))
		return 1;
	return colon != NULL && colon[1] != '\0';
}

static int
listed(json_object *list, const char *s)
{
	size_t n = json_object_array_length(list);

	for (size_t i = 0; i < n; i++) {
		const char *p = json_object_get_string(json_object_array_get_idx(list, i));
		if (strcmp(p, "*") == 0 || fnmatch(p, s, 0) == 0)
			return 1;
	}
	return 0;
}

int
pol_network_shared(enum role role, const char *name)
{
	return listed(g_cfg->policy[role].networks, name);
}

int
pol_image_allowed(enum role role, const char *image)
{
	return listed(g_cfg->policy[role].images, image);
}

static enum berr
deny(struct op *o, const char *field, const char *what, enum role role)
{
	return op_fail(o, B_FORBIDDEN, field,
	               "%s is not allowed for the %s role (berth.conf policy)", what,
	               role_name(role));
}

/* A size member of OBJ (bytes, or "512m"); 0 when absent, -1 when no size. */
static int64_t
size_of(json_object *obj, const char *key)
{
	json_object *m = jx_get(obj, key);

	if (m == NULL)
		return 0;
	if (json_object_is_type(m, json_type_int))
		return json_object_get_int64(m);
	return cfg_parse_size(json_object_get_string(m));
}

static enum berr
check_ports(struct op *o, const struct policy *p, enum role role, json_object *spec)
{
	json_object *ports = jx_arr(spec, "ports");
	size_t n = ports ? json_object_array_length(ports) : 0;
	char field[48];

	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(ports, i);
		int64_t host = jx_int(it, "host", 0);
		snprintf(field, sizeof(field), "ports[%zu].host", i);
		if (host == 0)
			continue;
		if (p->port_min == 0 || host < p->port_min || host > p->port_max) {
			if (p->port_min == 0)
				return op_fail(
				    o, B_FORBIDDEN, field,
				    "explicit host ports are not allowed for the %s role; "
				    "omit host (or 0) to get a free one",
				    role_name(role));
			return op_fail(o, B_FORBIDDEN, field,
			               "host port %lld is outside the %s role's range %d-%d",
			               (long long)host, role_name(role), p->port_min, p->port_max);
		}
	}
	return B_OK;
}

/* How a canonical host path stands against a bind_sources or device_paths list. */
enum path_match { PM_NONE, PM_ANY, PM_EXACT, PM_BENEATH };

/* The closest match of PATH in LIST; *ENTRY is the entry it is beneath, for messages. */
static enum path_match
path_listed(json_object *list, const char *path, const char **entry)
{
	size_t n = json_object_array_length(list);
	enum path_match m = PM_NONE;

	for (size_t i = 0; i < n; i++) {
		const char *p = json_object_get_string(json_object_array_get_idx(list, i));
		if (strcmp(p, "*") == 0)
			return PM_ANY;
		if (strcmp(p, path) == 0)
			m = PM_EXACT;
		else if (m == PM_NONE && hp_within(p, path)) {
			m = PM_BENEATH;
			*entry = p;
		}
	}
	return m;
}

/* Walks PATH on the host: 422 when it is not there, 403 when it is not safe to hand over. */
static enum berr
check_on_host(struct op *o, const char *field, const char *what, const char *path,
              enum hp_want want)
{
	char why[320];

	switch (hp_resolve(path, want, why, sizeof(why))) {
	case HP_FOUND:
		return B_OK;
	case HP_ABSENT:
		return op_fail(o, B_INVALID, field, "%s %s: %s", what, path, why);
	default:
		return op_fail(o, B_FORBIDDEN, field, "%s %s refused: %s", what, path, why);
	}
}

/*
 * A bind source must be exactly one bind_sources directory: a sub-path could
 * be a link made by whoever can write that directory (any container it is
 * bound into), and dockerd follows links.
 */
static enum berr
check_bind(struct op *o, const struct policy *p, enum role role, const char *field,
           json_object *source)
{
	const char *src = json_object_get_string(source), *why, *entry = NULL;

	why = hp_canonical(src, (size_t)json_object_get_string_len(source));
	if (why)
		return op_fail(o, B_INVALID, field,
		               "bind source %s %s; give a canonical absolute path", src, why);
	switch (path_listed(p->bind_sources, src, &entry)) {
	case PM_ANY:
		return B_OK;
	case PM_NONE:
		return op_fail(o, B_FORBIDDEN, field,
		               "bind source %s is outside the %s role's bind_sources", src,
		               role_name(role));
	case PM_BENEATH:
		return op_fail(o, B_FORBIDDEN, field,
		               "bind source %s is inside %s: only a bind_sources directory as a "
		               "whole may be bound, sub-paths are not allowed",
		               src, entry);
	case PM_EXACT:
		break;
	}
	return check_on_host(o, field, "bind source", src, HP_DIRECTORY);
}

/* A device (the host part of "HOST[:CONTAINER[:PERMS]]") is one node, never a directory. */
static enum berr
check_device(struct op *o, const struct policy *p, enum role role, const char *field,
             const char *dev)
{
	size_t len = strcspn(dev, ":");
	const char *why, *entry = NULL;
	char path[HP_MAX];

	why = hp_canonical(dev, len);
	if (why)
		return op_fail(o, B_INVALID, field,
		               "device %.*s %s; give a canonical absolute path", (int)len, dev,
		               why);
	memcpy(path, dev, len);
	path[len] = '\0';
	switch (path_listed(p->device_paths, path, &entry)) {
	case PM_ANY:
		return B_OK;
	case PM_NONE:
		return deny(o, field, "this device", role);
	default:
		return check_on_host(o, field, "device", path, HP_DEVICE);
	}
}

static enum berr
check_mounts(struct op *o, const struct policy *p, enum role role, json_object *spec)
{
	json_object *m = jx_arr(spec, "mounts");
	size_t n = m ? json_object_array_length(m) : 0;
	char field[48];

	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(m, i);
		const char *type = jx_str(it, "type"), *src = jx_str(it, "source");
		char sfield[64];
		enum berr e;
		snprintf(field, sizeof(field), "mounts[%zu]", i);
		if (jx_get(it, "size") && strcmp(type, "tmpfs") != 0) {
			snprintf(sfield, sizeof(sfield), "mounts[%zu].size", i);
			return op_fail(o, B_INVALID, sfield, "only a tmpfs mount takes a size");
		}
		snprintf(sfield, sizeof(sfield), "mounts[%zu].source", i);
		if (strcmp(type, "bind") == 0) {
			if (!p->bind_mounts)
				return deny(o, field, "a bind mount", role);
			if (src == NULL)
				return op_fail(o, B_INVALID, sfield,
				               "a bind mount needs a source: its host directory");
			e = check_bind(o, p, role, field, jx_get(it, "source"));
			if (e != B_OK)
				return e;
		} else if (strcmp(type, "tmpfs") == 0) {
			if (src)
				return op_fail(o, B_INVALID, sfield, "a tmpfs mount has no source");
		} else {
			if (!p->volumes)
				return deny(o, field, "a volume", role);
			if (src && !vol_name_valid(src))
				return op_fail(
				    o, B_INVALID, sfield,
				    "volume source %.64s is not a volume name: give the name "
				    "of one of your volumes (" VOL_NAME_RULE "), not a path",
				    src);
		}
	}
	return B_OK;
}

/*
 * A tmpfs lives in the container's memory and is charged to it: each one,
 * and all of them together, fit in the memory limit LIM gave.
 */
static enum berr
check_tmpfs(struct op *o, json_object *spec, const struct pol_limits *lim)
{
	json_object *m = jx_arr(spec, "mounts");
	size_t n = m ? json_object_array_length(m) : 0;
	int64_t total = 0;
	char field[48];

	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(m, i);
		int64_t size = jx_get(it, "size") ? size_of(it, "size") : lim->memory;
		if (strcmp(jx_str(it, "type"), "tmpfs") != 0)
			continue;
		snprintf(field, sizeof(field), "mounts[%zu].size", i);
		if (size <= 0)
			return op_fail(o, B_INVALID, field,
			               jx_get(it, "size") ? "a tmpfs size is a size such as 64m"
			                                  : "a tmpfs mount needs a size when the "
			                                    "container has no memory limit");
		total += size;
		if (lim->memory > 0 && total > lim->memory)
			return op_fail(o, B_INVALID, field,
			               "tmpfs mounts live in the container's memory: together at "
			               "most its memory limit of %lld bytes, and these add up to "
			               "%lld or more",
			               (long long)lim->memory, (long long)total);
	}
	return B_OK;
}

/*
 * What the schema cannot say of the run-time fields: a healthcheck's test
 * kind, and that a container dockerd removes when it exits is never
 * restarted (Docker refuses the pair too).
 */
static enum berr
check_lifecycle(struct op *o, json_object *spec)
{
	json_object *test = jx_arr(jx_obj(spec, "healthcheck"), "test");
	const char *kind = test ? json_object_get_string(json_object_array_get_idx(test, 0)) : NULL;
	const char *restart = jx_str(spec, "restart");
	int ok = 0;

	for (const char *const *k = health_kind_enum; kind && *k; k++)
		ok |= strcmp(*k, kind) == 0;
	if (test && !ok)
		return op_fail(o, B_INVALID, "healthcheck.test[0]",
		               "healthcheck.test starts with CMD, CMD-SHELL or NONE");
	if (jx_bool(spec, "auto_remove", 0) && restart && strcmp(restart, "no") != 0)
		return op_fail(
		    o, B_INVALID, "auto_remove",
		    "auto_remove and a restart policy conflict: a removed container cannot "
		    "restart");
	return B_OK;
}

static enum berr
check_caps_devices(struct op *o, const struct policy *p, enum role role, json_object *spec)
{
	json_object *caps = jx_arr(spec, "cap_add"), *dev = jx_arr(spec, "devices");
	size_t n;
	char field[48];

	n = caps ? json_object_array_length(caps) : 0;
	for (size_t i = 0; i < n; i++) {
		snprintf(field, sizeof(field), "cap_add[%zu]", i);
		if (!p->cap_add)
			return deny(o, "cap_add", "adding capabilities", role);
		if (!listed(p->capabilities,
		            json_object_get_string(json_object_array_get_idx(caps, i))))
			return deny(o, field, "this capability", role);
	}
	n = dev ? json_object_array_length(dev) : 0;
	for (size_t i = 0; i < n; i++) {
		enum berr e;
		snprintf(field, sizeof(field), "devices[%zu]", i);
		if (!p->devices)
			return deny(o, "devices", "a host device", role);
		e = check_device(o, p, role, field,
		                 json_object_get_string(json_object_array_get_idx(dev, i)));
		if (e != B_OK)
			return e;
	}
	return B_OK;
}

static enum berr
too_much(struct op *o, const char *field, enum role role, const char *limit)
{
	return op_fail(o, B_FORBIDDEN, field, "%s above the %s role's limit of %s", field,
	               role_name(role), limit);
}

enum berr
pol_resources(struct op *o, enum role role, json_object *spec, struct pol_limits *lim)
{
	const struct policy *p = &g_cfg->policy[role];
	int64_t mem = size_of(spec, "memory"), pids = jx_int(spec, "pids", 0);
	json_object *cpus = jx_get(spec, "cpus");
	double c = cpus ? json_object_get_double(cpus) : 0;
	char buf[32];

	if (jx_get(spec, "memory") && mem <= 0)
		return op_fail(o, B_INVALID, "memory", "memory must be a size such as 512m or 2g");
	if (mem > 0 && mem < POL_MEMORY_MIN)
		return op_fail(o, B_INVALID, "memory", "memory must be at least 6m");
	if (p->memory_max && mem > p->memory_max) {
		snprintf(buf, sizeof(buf), "%lld bytes", (long long)p->memory_max);
		return too_much(o, "memory", role, buf);
	}
	/* 1e-10 cores would become NanoCpus 0: no limit at all. */
	if (cpus && (c < POL_CPUS_MIN || c > 1024))
		return op_fail(o, B_INVALID, "cpus", "cpus must be from %g to 1024", POL_CPUS_MIN);
	if (p->cpus_max > 0 && c > p->cpus_max) {
		snprintf(buf, sizeof(buf), "%g", p->cpus_max);
		return too_much(o, "cpus", role, buf);
	}
	if (jx_get(spec, "pids") && pids < POL_PIDS_MIN)
		return op_fail(o, B_INVALID, "pids", "pids must be at least %d", POL_PIDS_MIN);
	if (p->pids_max && pids > p->pids_max) {
		snprintf(buf, sizeof(buf), "%lld", (long long)p->pids_max);
		return too_much(o, "pids", role, buf);
	}
	lim->memory = mem > 0 ? mem : p->memory_default;
	lim->nano_cpus = (int64_t)((cpus ? c : p->cpus_default) * 1e9 + 0.5);
	lim->pids = pids > 0 ? pids : p->pids_default;
	lim->log_size = p->log_size;
	lim->log_files = p->log_files;
	return B_OK;
}

enum berr
pol_check_labels(struct op *o, json_object *labels)
{
	if (labels) {
		json_object_object_foreach(labels, k, v)
		{
			(void)v;
			if (strncmp(k, "berth.", 6) == 0)
				return op_fail(o, B_INVALID, "labels",
				               "label %s: names starting with berth. are reserved",
				               k);
		}
	}
	return B_OK;
}

enum berr
pol_check(struct op *o, enum role role, json_object *spec, int catalog_image,
          struct pol_limits *lim)
{
	const struct policy *p = &g_cfg->policy[role];
	const char *image = jx_str(spec, "image"), *net = jx_str(spec, "network");
	json_object *labels = jx_obj(spec, "labels");
	enum berr e;

	if (!pol_has_tag(image))
		return op_fail(o, B_FORBIDDEN, "image",
		               "image %s has no explicit tag; name one, e.g. %s:1.0", image, image);
	if (!catalog_image && !pol_image_allowed(role, image))
		return op_fail(o, B_FORBIDDEN, "image",
		               "image %s is not in the %s role's allow-list (berth.conf policy)",
		               image, role_name(role));
	if (jx_bool(spec, "privileged", 0) && !p->privileged)
		return deny(o, "privileged", "privileged mode", role);
	if (net && strcmp(net, "host") == 0 && !p->host_network)
		return deny(o, "network", "the host network", role);
	/* Docker's default bridge joins every tenant's containers (docs/networks.md). */
	if (net && strcmp(net, "bridge") == 0 && role != ROLE_ADMIN && !listed(p->networks, net))
		return deny(o, "network", "Docker's default bridge network", role);
	/* Any other name is one of the owner's networks or a shared one: net_place decides. */
	if (jx_str(spec, "pid") && !p->host_pid)
		return deny(o, "pid", "the host PID namespace", role);
	if (jx_str(spec, "ipc") && !p->host_ipc)
		return deny(o, "ipc", "the host IPC namespace", role);
	if (jx_bool(spec, "protected", 0) && role != ROLE_ADMIN)
		return op_fail(o, B_FORBIDDEN, "protected", "only admins may protect a container");
	if ((e = pol_check_labels(o, labels)) != B_OK)
		return e;
	if ((e = check_ports(o, p, role, spec)) != B_OK ||
	    (e = check_mounts(o, p, role, spec)) != B_OK ||
	    (e = check_caps_devices(o, p, role, spec)) != B_OK)
		return e;
	if ((e = check_lifecycle(o, spec)) != B_OK)
		return e;
	e = pol_resources(o, role, spec, lim);
	if (e == B_OK)
		e = check_tmpfs(o, spec, lim);
	return e;
}

json_object *
pol_split_command(const char *s)
{
	json_object *argv = json_object_new_array();
	size_t n = strlen(s);
	char *word = malloc(n + 1);
	size_t w = 0;
	int in_word = 0;
	char quote = 0;

	if (word == NULL)
		return argv;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '\0' || (!quote && (c == ' ' || c == '\t' || c == '\n'))) {
			if (in_word) {
				word[w] = '\0';
				json_object_array_add(argv, json_object_new_string(word));
			}
			w = 0;
			in_word = 0;
			continue;
		}
		in_word = 1;
		if (quote) {
			if (c == quote)
				quote = 0;
			else if (c == '\\' && quote == '"' && s[i + 1])
				word[w++] = s[++i];
			else
				word[w++] = c;
		} else if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == '\\' && s[i + 1]) {
			word[w++] = s[++i];
		} else {
			word[w++] = c;
		}
	}
	free(word);
	return argv;
}

json_object *
pol_env_list(json_object *env)
{
	json_object *out = json_object_new_array();

	if (json_object_is_type(env, json_type_array)) {
		size_t n = json_object_array_length(env);
		for (size_t i = 0; i < n; i++)
			json_object_array_add(out,
			                      json_object_get(json_object_array_get_idx(env, i)));
	} else if (env) {
		json_object_object_foreach(env, k, v)
		{
			char *kv;
			if (asprintf(&kv, "%s=%s", k, json_object_get_string(v)) < 0)
				continue;
			json_object_array_add(out, json_object_new_string(kv));
			free(kv);
		}
	}
	return out;
}

void
pol_port_key(json_object *it, char *buf, size_t n)
{
	json_object *c = jx_get(it, "container");
	const char *proto = jx_str(it, "protocol");

	if (json_object_is_type(c, json_type_int)) {
		snprintf(buf, n, "%d/%s", json_object_get_int(c), proto ? proto : "tcp");
	} else if (strchr(json_object_get_string(c), '/')) {
		snprintf(buf, n, "%s", json_object_get_string(c));
	} else {
		snprintf(buf, n, "%s/%s", json_object_get_string(c), proto ? proto : "tcp");
	}
}

static void
add_ports(json_object *spec, json_object *body, json_object *hc)
{
	json_object *ports = jx_arr(spec, "ports"), *exposed, *bindings;
	size_t n = ports ? json_object_array_length(ports) : 0;

	if (n == 0)
		return;
	exposed = json_object_new_object();
	bindings = json_object_new_object();
	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(ports, i), *b, *list;
		char key[32], hp[8];
		pol_port_key(it, key, sizeof(key));
		json_object_object_add(exposed, key, json_object_new_object());
		snprintf(hp, sizeof(hp), "%lld", (long long)jx_int(it, "host", 0));
		b = json_object_new_object();
		jx_add_str(b, "HostIp", jx_str(it, "ip") ? jx_str(it, "ip") : "");
		jx_add_str(b, "HostPort", strcmp(hp, "0") ? hp : "");
		list = jx_arr(bindings, key);
		if (list == NULL) {
			list = json_object_new_array();
			json_object_object_add(bindings, key, list);
		}
		json_object_array_add(list, b);
	}
	json_object_object_add(body, "ExposedPorts", exposed);
	json_object_object_add(hc, "PortBindings", bindings);
}

/* One mount of Docker's HostConfig.Mounts; tmpfs sized as check_tmpfs allowed. */
static json_object *
docker_mount(json_object *it, const struct pol_limits *lim)
{
	json_object *o = json_object_new_object(), *t;
	const char *type = jx_str(it, "type");

	jx_add_str(o, "Type", type);
	if (jx_str(it, "source"))
		jx_add_str(o, "Source", jx_str(it, "source"));
	jx_add_str(o, "Target", jx_str(it, "target"));
	jx_add_bool(o, "ReadOnly", jx_bool(it, "read_only", 0));
	if (strcmp(type, "tmpfs") == 0) {
		t = json_object_new_object();
		jx_add_int(t, "SizeBytes", jx_get(it, "size") ? size_of(it, "size") : lim->memory);
		json_object_object_add(o, "TmpfsOptions", t);
	}
	return o;
}

static void
add_mounts_devices(json_object *spec, json_object *hc, const struct pol_limits *lim)
{
	json_object *m = jx_arr(spec, "mounts"), *d = jx_arr(spec, "devices");
	size_t n = m ? json_object_array_length(m) : 0;

	if (n) {
		json_object *out = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(out,
			                      docker_mount(json_object_array_get_idx(m, i), lim));
		json_object_object_add(hc, "Mounts", out);
	}
	n = d ? json_object_array_length(d) : 0;
	if (n) {
		json_object *out = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			char buf[512], *a, *b;
			json_object *o = json_object_new_object();
			snprintf(buf, sizeof(buf), "%s",
			         json_object_get_string(json_object_array_get_idx(d, i)));
			a = strchr(buf, ':');
			b = a ? strchr(a + 1, ':') : NULL;
			if (a)
				*a++ = '\0';
			if (b)
				*b++ = '\0';
			jx_add_str(o, "PathOnHost", buf);
			jx_add_str(o, "PathInContainer", a ? a : buf);
			jx_add_str(o, "CgroupPermissions", b ? b : "rwm");
			json_object_array_add(out, o);
		}
		json_object_object_add(hc, "Devices", out);
	}
}

/* A spec's argv (a list, or a string split like a shell would) as Docker's list; new reference. */
static json_object *
argv_of(json_object *v)
{
	if (json_object_is_type(v, json_type_string))
		return pol_split_command(json_object_get_string(v));
	return json_object_get(v);
}

/* Seconds (a spec's number) as Docker's nanoseconds. */
static void
add_ns(json_object *o, const char *key, json_object *secs)
{
	if (secs)
		jx_add_int(o, key, (int64_t)(json_object_get_double(secs) * 1e9));
}

static void
add_healthcheck(json_object *body, json_object *h)
{
	json_object *o;

	if (h == NULL)
		return;
	o = json_object_new_object();
	jx_add_ref(o, "Test", jx_get(h, "test"));
	add_ns(o, "Interval", jx_get(h, "interval"));
	add_ns(o, "Timeout", jx_get(h, "timeout"));
	add_ns(o, "StartPeriod", jx_get(h, "start_period"));
	if (jx_get(h, "retries"))
		jx_add_int(o, "Retries", jx_int(h, "retries", 0));
	json_object_object_add(body, "Healthcheck", o);
}

/* How it runs and stops, inside what it already has (nothing here is the policy's to open). */
static void
add_runtime(json_object *spec, json_object *body, json_object *hc)
{
	json_object *v, *exposed;
	const char *s;
	char key[32];

	if ((v = jx_get(spec, "entrypoint")))
		json_object_object_add(body, "Entrypoint", argv_of(v));
	if (jx_bool(spec, "tty", 0))
		jx_add_bool(body, "Tty", 1);
	/* As docker run -i: open, attached, and closed for good at the first attach's end. */
	if (jx_bool(spec, "stdin", 0)) {
		jx_add_bool(body, "OpenStdin", 1);
		jx_add_bool(body, "AttachStdin", 1);
		jx_add_bool(body, "StdinOnce", 1);
	}
	if ((s = jx_str(spec, "hostname")))
		jx_add_str(body, "Hostname", s);
	if ((s = jx_str(spec, "stop_signal")))
		jx_add_str(body, "StopSignal", s);
	if (jx_get(spec, "stop_timeout"))
		jx_add_int(body, "StopTimeout", jx_int(spec, "stop_timeout", 10));
	add_healthcheck(body, jx_obj(spec, "healthcheck"));
	if ((v = jx_arr(spec, "expose"))) {
		exposed = jx_obj(body, "ExposedPorts");
		if (exposed == NULL) {
			exposed = json_object_new_object();
			json_object_object_add(body, "ExposedPorts", exposed);
		}
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *it = json_object_new_object();
			jx_add_ref(it, "container", json_object_array_get_idx(v, i));
			pol_port_key(it, key, sizeof(key));
			json_object_put(it);
			json_object_object_add(exposed, key, json_object_new_object());
		}
	}
	if (jx_bool(spec, "auto_remove", 0))
		jx_add_bool(hc, "AutoRemove", 1);
	if (jx_bool(spec, "init", 0))
		jx_add_bool(hc, "Init", 1);
	if (jx_bool(spec, "read_only", 0))
		jx_add_bool(hc, "ReadonlyRootfs", 1);
	if ((v = jx_arr(spec, "cap_drop")))
		jx_add_ref(hc, "CapDrop", v);
}

/* The limits every container gets (docs/security.md: resource floor). */
static void
add_limits(json_object *hc, const struct pol_limits *lim)
{
	json_object *log = json_object_new_object(), *opts = json_object_new_object();
	char buf[32];

	if (lim->memory > 0)
		jx_add_int(hc, "Memory", lim->memory);
	if (lim->nano_cpus > 0)
		jx_add_int(hc, "NanoCpus", lim->nano_cpus);
	if (lim->pids > 0)
		jx_add_int(hc, "PidsLimit", lim->pids);
	/* json-file is what /logs reads; its size cap keeps a chatty container off the disk. */
	jx_add_str(log, "Type", "json-file");
	if (lim->log_size > 0) {
		snprintf(buf, sizeof(buf), "%lld", (long long)lim->log_size);
		jx_add_str(opts, "max-size", buf);
		snprintf(buf, sizeof(buf), "%d", lim->log_files);
		jx_add_str(opts, "max-file", buf);
	}
	json_object_object_add(log, "Config", opts);
	json_object_object_add(hc, "LogConfig", log);
}

json_object *
pol_docker_body(json_object *spec, json_object *labels, const struct pol_limits *lim)
{
	json_object *body = json_object_new_object(), *hc = json_object_new_object(), *v;
	json_object *lab = json_object_new_object();
	const char *s;

	jx_add_str(body, "Image", jx_str(spec, "image"));
	if ((v = jx_get(spec, "command")))
		json_object_object_add(body, "Cmd", argv_of(v));
	if (jx_get(spec, "env"))
		json_object_object_add(body, "Env", pol_env_list(jx_get(spec, "env")));
	if ((s = jx_str(spec, "workdir")))
		jx_add_str(body, "WorkingDir", s);
	if ((s = jx_str(spec, "user")))
		jx_add_str(body, "User", s);
	if ((v = jx_obj(spec, "labels"))) {
		json_object_object_foreach(v, k, val) jx_add_ref(lab, k, val);
	}
	if (labels) {
		json_object_object_foreach(labels, k, val) jx_add_ref(lab, k, val);
	}
	json_object_object_add(body, "Labels", lab);
	add_ports(spec, body, hc);
	if ((s = jx_str(spec, "restart"))) {
		json_object *rp = json_object_new_object();
		jx_add_str(rp, "Name", strcmp(s, "no") ? s : "");
		json_object_object_add(hc, "RestartPolicy", rp);
	}
	add_limits(hc, lim);
	jx_add_bool(hc, "Privileged", jx_bool(spec, "privileged", 0));
	if ((s = jx_str(spec, "network")))
		jx_add_str(hc, "NetworkMode", s);
	if ((s = jx_str(spec, "pid")))
		jx_add_str(hc, "PidMode", s);
	if ((s = jx_str(spec, "ipc")))
		jx_add_str(hc, "IpcMode", s);
	if ((v = jx_arr(spec, "cap_add")))
		jx_add_ref(hc, "CapAdd", v);
	add_mounts_devices(spec, hc, lim);
	add_runtime(spec, body, hc);
	json_object_object_add(body, "HostConfig", hc);
	return body;
}

/*
 * services.c - service definitions (seed 004) and engine mode.  A definition
 * (image with a tag, command, environment, ports, labels, limits) lives in
 * services/<name>.json, or in berth.conf (read-only, managed by admins).
 * Scaling makes exactly N replicas run: in engine mode containers named
 * <service>-<n> made through ct_create, in swarm mode one Swarm service
 * (swarm.c).  Replicas are found by their berth.service label only, never by
 * image, so a container someone else started from the same image is never
 * counted or removed.  Every change to one service runs under the lock
 * svc-<name>, so concurrent scale requests converge on the last one.
 */
#include "berth.h"
#include "store/audit.h"
#include "lib/cfg.h"
#include "res/containers.h"
#include "lib/json.h"
#include "res/owner.h"
#include "res/policy.h"
#include "edge/req.h"
#include "edge/module.h"
#include "edge/route.h"
#include "engine/engine.h"
#include "res/registries.h"
#include "res/services.h"
#include "store/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SVC_MAX_REPLICAS 1000
#define SVC_NAME_RE      SC_NAME_RE

/* ---- schemas ---------------------------------------------------------- */

static const struct sc_field cmd_item = {.types = SC_STRING, .max = 4096};
static const struct sc_field env_value = {.types = SC_STRING, .max = 32768};
static const struct sc_field label_value = {.types = SC_STRING, .max = 1024};
static const struct sc_field port_item = {
    .types = SC_STRING | SC_INT,
    .desc = "Container port to publish on a free host port: \"8080\", 8080 or \"53/udp\".",
    .min = 1,
    .max = 65535,
    .pattern = "^[0-9]{1,5}(/(tcp|udp|sctp))?$"};

/* Everything of a definition but its name; the order is the stored order. */
#define SVC_DEF_FIELDS                                                                             \
	SC_IMAGE_FIELD,                                                                            \
	    {.name = "command",                                                                    \
	     .types = SC_STRING | SC_ARRAY | SC_NULL,                                              \
	     .desc = "Command: a string split like a shell would, or a list of arguments.",        \
	     .max = 4096,                                                                          \
	     .items = &cmd_item},                                                                  \
	    {.name = "environment",                                                                \
	     .types = SC_OBJECT | SC_NULL,                                                         \
	     .desc = "Environment variables: {\"KEY\": \"value\"}.",                               \
	     .max = 256,                                                                           \
	     .values = &env_value,                                                                 \
	     .keys = SC_ENVKEY_RE},                                                                \
	    {.name = "ports",                                                                      \
	     .types = SC_ARRAY | SC_NULL,                                                          \
	     .desc = "Container ports, each published on a free host port.",                       \
	     .max = 64,                                                                            \
	     .items = &port_item},                                                                 \
	    {.name = "labels",                                                                     \
	     .types = SC_OBJECT | SC_NULL,                                                         \
	     .desc = "Extra labels (names starting with berth. are reserved).",                    \
	     .max = 64,                                                                            \
	     .values = &label_value,                                                               \
	     .keys = SC_LABEL_RE},                                                                 \
	    {.name = "memory",                                                                     \
	     .types = SC_INT | SC_STRING | SC_NULL,                                                \
	     .desc = "Memory limit per replica: bytes or \"512m\", \"2g\".",                       \
	     .pattern = SC_SIZE_RE},                                                               \
	{                                                                                          \
		.name = "cpus", .types = SC_NUMBER | SC_NULL,                                      \
		.desc = "CPU limit per replica in cores (0.5 = half)."                             \
	}

static const struct sc_field create_fields[] = {
    {.name = "name",
     .types = SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "Service name; replicas are named <name>-<n>.",
     .min = 1,
     .max = SVC_NAME_MAX,
     .pattern = SVC_NAME_RE,
     .example = "\"helloworld\""},
    SVC_DEF_FIELDS,
    OWN_FIELD,
    {0}};

static const struct sc_field update_fields[] = {
    {.name = "name",
     .types = SC_STRING,
     .desc = "Optional; must be the service's own name.",
     .min = 1,
     .max = SVC_NAME_MAX,
     .pattern = SVC_NAME_RE},
    SVC_DEF_FIELDS,
    {0}};

static const struct sc_field scale_fields[] = {
    {.name = "number",
     .types = SC_INT | SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "Replicas that must run (0 stops them all); a number or a string of digits.",
     .min = 0,
     .max = SVC_MAX_REPLICAS,
     .pattern = "^[0-9]{1,4}$",
     .example = "3"},
    {0}};

const struct sc_schema svc_schema = {
    "service", "berth service definition (seed 004)", create_fields,
    "{\"name\":\"helloworld\",\"image\":\"berth-test/busybox:1\",\"command\":\"httpd -f -p "
    "8080\",\"environment\":{\"VAR_A\":\"value\"},\"ports\":[\"8080\"]}",
    1};

const struct sc_schema svc_update_schema = {
    "service_update", "replace a service definition", update_fields,
    "{\"image\":\"berth-test/busybox:2\",\"command\":\"httpd -f -p 8080\",\"ports\":[\"8080\"]}",
    1};

const struct sc_schema svc_scale_schema = {"scale", "ensure N replicas run", scale_fields,
                                           "{\"number\":3}", 1};

/* ---- definitions ------------------------------------------------------ */

static const char *const def_keys[] = {"name",   "image",  "command", "environment", "ports",
                                       "labels", "memory", "cpus",    NULL};

/* Checks the schema cannot express (environment names it does); 0, or -1 with the field and
 * message. */
static int
def_problem(json_object *def, char *field, size_t fl, char *msg, size_t ml)
{
	json_object *ports = jx_arr(def, "ports");
	size_t n = ports ? json_object_array_length(ports) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(ports, i);
		long v = json_object_is_type(p, json_type_int) ? (long)json_object_get_int64(p)
		                                               : atol(json_object_get_string(p));
		if (v < 1 || v > 65535) {
			snprintf(field, fl, "ports[%zu]", i);
			snprintf(msg, ml, "ports[%zu] must be a port from 1 to 65535", i);
			return -1;
		}
	}
	return 0;
}

/* The definition fields of BODY in their fixed order, null ones left out. New reference. */
static json_object *
def_norm(json_object *body, const char *name)
{
	json_object *d = json_object_new_object();

	jx_add_str(d, "name", name);
	for (const char *const *k = def_keys + 1; *k; k++)
		if (jx_get(body, *k))
			jx_add_ref(d, *k, jx_get(body, *k));
	return d;
}

/* A short hash of the definition, stamped on replicas so PUT knows which are current. */
static void
def_rev(json_object *rec, char *buf, size_t n)
{
	json_object *d = def_norm(rec, jx_str(rec, "name"));
	unsigned long long h = 1469598103934665603ull;

	for (const char *p = jx_text(d); *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	snprintf(buf, n, "%016llx", h);
	json_object_put(d);
}

int
svc_check_conf(const char *name, json_object *def, char *err, size_t errlen)
{
	struct sc_error se;
	char field[64];
	const char *dn = jx_str(def, "name");

	if (strlen(name) > SVC_NAME_MAX) {
		snprintf(err, errlen, "service names are at most %d characters", SVC_NAME_MAX);
		return -1;
	}
	if (sc_validate(&svc_update_schema, def, &se) != 0) {
		snprintf(err, errlen, "%s", se.msg);
		return -1;
	}
	if (dn && strcmp(dn, name) != 0) {
		snprintf(err, errlen, "name \"%s\" differs from the entry's name", dn);
		return -1;
	}
	if (!pol_has_tag(jx_str(def, "image"))) {
		snprintf(err, errlen,
		         "image %s has no explicit tag (seed 004: the tag must be given)",
		         jx_str(def, "image"));
		return -1;
	}
	return def_problem(def, field, sizeof(field), err, errlen);
}

json_object *
svc_container_spec(json_object *def)
{
	json_object *spec = json_object_new_object(), *ports = jx_arr(def, "ports");
	size_t n = ports ? json_object_array_length(ports) : 0;

	jx_add_str(spec, "image", jx_str(def, "image"));
	if (jx_get(def, "command"))
		jx_add_ref(spec, "command", jx_get(def, "command"));
	if (jx_obj(def, "environment"))
		jx_add_ref(spec, "env", jx_obj(def, "environment"));
	if (n) {
		json_object *out = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			json_object *p = json_object_array_get_idx(ports, i),
			            *o = json_object_new_object();
			if (json_object_is_type(p, json_type_int) ||
			    strchr(json_object_get_string(p), '/') == NULL)
				jx_add_int(o, "container", json_object_get_int64(p));
			else
				jx_add_str(o, "container", json_object_get_string(p));
			json_object_array_add(out, o);
		}
		json_object_object_add(spec, "ports", out);
	}
	for (const char *const *k = (const char *const[]){"labels", "memory", "cpus", NULL}; *k;
	     k++)
		if (jx_get(def, *k))
			jx_add_ref(spec, *k, jx_get(def, *k));
	return spec;
}

static int
from_config(json_object *rec)
{
	const char *s = jx_str(rec, "source");

	return s && strcmp(s, "config") == 0;
}

/* The record of a berth.conf service: its definition plus the desired count kept in state. */
static json_object *
config_record(const char *name, json_object *cdef)
{
	json_object *rec = def_norm(cdef, name), *st = NULL;

	jx_add_str(rec, "owner", SVC_CONFIG_OWNER);
	jx_add_str(rec, "source", "config");
	if (st_get(ST_SERVICES, name, &st) == B_OK && from_config(st)) {
		jx_add_int(rec, "desired", jx_int(st, "desired", 0));
		jx_add_int(rec, "seq", jx_int(st, "seq", 0));
		jx_add_int(rec, "updated", jx_int(st, "updated", 0));
	} else {
		jx_add_int(rec, "desired", 0);
	}
	json_object_put(st);
	return rec;
}

/* Config services are visible to every role; others to their owner and admins. */
static int
visible(struct op *o, json_object *rec)
{
	const char *owner = jx_str(rec, "owner");

	return from_config(rec) || own_visible(o, owner);
}

/* The record name of OWNER's service NAME: its derived name (berth.conf's keep theirs). */
static void
rec_key(const char *owner, const char *name, char *out, size_t n)
{
	own_dname(owner, name, out, n);
}

/* The key REC is stored under (records from before namespaces: their name). */
static const char *
key_of(json_object *rec)
{
	return jx_str(rec, "key") ? jx_str(rec, "key") : jx_str(rec, "name");
}

static enum berr
no_service(struct op *o, const char *name)
{
	return op_fail(o, B_NOT_FOUND, NULL, "no such service: %.64s", name);
}

/* The record stored as KEY when it is an API service the caller may see; *REC or NULL. */
static void
load_key(struct op *o, const char *key, json_object **rec)
{
	*rec = NULL;
	if (st_get(ST_SERVICES, key, rec) == B_OK && !from_config(*rec) && visible(o, *rec) &&
	    strcmp(key_of(*rec), key) == 0)
		return;
	json_object_put(*rec);
	*rec = NULL;
}

struct any_owner {
	const char *name;
	json_object *found;
	size_t n;
};

static int
match_name(const char *key, json_object *rec, void *arg)
{
	struct any_owner *a = arg;

	(void)key;
	if (from_config(rec) || strcmp(jx_str(rec, "name") ? jx_str(rec, "name") : "", a->name))
		return 0;
	if (a->n++ == 0)
		a->found = json_object_get(rec);
	return 0;
}

/*
 * An admin naming a service none of their namespaces hold: the one service of
 * that name whoever owns it; when several owners have one, 409 asks for its key.
 */
static enum berr
by_any_owner(struct op *o, const char *name, json_object **rec)
{
	struct any_owner a = {.name = name};

	if (st_each(ST_SERVICES, match_name, &a) != B_OK)
		return op_fail(o, B_INTERNAL, NULL, "cannot read the service records");
	if (a.n == 1) {
		*rec = a.found;
		return B_OK;
	}
	json_object_put(a.found);
	if (a.n > 1)
		return op_fail(o, B_CONFLICT, NULL,
		               "%zu owners have a service named %s; give its key", a.n, name);
	return no_service(o, name);
}

/*
 * Finds REF as O's caller may see it: a berth.conf service, a name in the
 * caller's namespace (then their groups'), or a record name as lists show
 * another owner's service.  *REC is a new reference.
 */
static enum berr
load(struct op *o, const char *ref, json_object **rec)
{
	json_object *cdef = jx_obj(g_cfg->services, ref);
	const char *ns[OWN_NS_MAX];
	size_t k = own_namespaces(o, ns, OWN_NS_MAX);
	char key[OWN_DNAME_MAX];

	*rec = NULL;
	if (!ref_valid(ref))
		return no_service(o, ref);
	if (cdef) {
		*rec = config_record(ref, cdef);
		return B_OK;
	}
	for (size_t i = 0; name_valid(ref) && i < k && *rec == NULL; i++) {
		rec_key(ns[i], ref, key, sizeof(key));
		load_key(o, key, rec);
	}
	if (*rec == NULL)
		load_key(o, ref, rec);
	if (*rec == NULL && o->role == ROLE_ADMIN && name_valid(ref))
		return by_any_owner(o, ref, rec);
	return *rec ? B_OK : no_service(o, ref);
}

/* A service's lock: named by its record key, which may be longer than a lock name. */
static int
lock_service(const char *key)
{
	char lock[48];

	snprintf(lock, sizeof(lock), "svc-%08x", b_hash32(key));
	return st_lock(lock);
}

/* Finds REF, takes its lock, and loads it again; on B_OK the caller unlocks *FD. */
static enum berr
open_locked(struct op *o, const char *ref, json_object **rec, int *fd)
{
	char key[OWN_DNAME_MAX];
	enum berr e;

	*fd = -1;
	e = load(o, ref, rec);
	if (e != B_OK)
		return e;
	snprintf(key, sizeof(key), "%s", key_of(*rec));
	json_object_put(*rec);
	*rec = NULL;
	*fd = lock_service(key);
	if (*fd < 0)
		return op_fail(o, B_INTERNAL, NULL, "cannot lock the state directory");
	/* What was found may have gone (or, for berth.conf's, changed) before the lock. */
	e = load(o, ref, rec);
	if (e == B_OK && strcmp(key_of(*rec), key) != 0) {
		json_object_put(*rec);
		*rec = NULL;
		e = no_service(o, ref);
	}
	if (e != B_OK) {
		st_unlock(*fd);
		*fd = -1;
	}
	return e;
}

/* Writes REC back; config services keep only their desired count in state. */
static enum berr
save(struct op *o, json_object *rec)
{
	json_object *out;
	enum berr e;

	jx_add_int(rec, "updated", (int64_t)time(NULL));
	if (!from_config(rec)) {
		out = json_object_get(rec);
	} else {
		out = json_object_new_object();
		jx_add_str(out, "name", jx_str(rec, "name"));
		jx_add_str(out, "source", "config");
		jx_add_int(out, "desired", jx_int(rec, "desired", 0));
		jx_add_int(out, "seq", jx_int(rec, "seq", 0));
		jx_add_int(out, "updated", jx_int(rec, "updated", 0));
	}
	e = st_put(ST_SERVICES, key_of(rec), out);
	json_object_put(out);
	if (e != B_OK)
		return op_fail(o, B_INTERNAL, NULL, "cannot write the service record");
	return B_OK;
}

/* berth's view of a record: the definition, its owner, where it came from, its counts. */
static json_object *
view(json_object *rec)
{
	json_object *v = json_object_new_object();

	for (const char *const *k = def_keys; *k; k++)
		jx_add_ref(v, *k, jx_get(rec, *k));
	jx_add_str(v, "owner", jx_str(rec, "owner"));
	jx_add_str(v, "key", key_of(rec));
	jx_add_str(v, "source", from_config(rec) ? "config" : "api");
	jx_add_bool(v, "read_only", from_config(rec));
	jx_add_int(v, "desired", jx_int(rec, "desired", 0));
	if (jx_get(rec, "created"))
		jx_add_int(v, "created", jx_int(rec, "created", 0));
	if (jx_get(rec, "updated"))
		jx_add_int(v, "updated", jx_int(rec, "updated", 0));
	reg_mark_service(v);
	return v;
}

/*
 * The replica spec for REC, checked against the caller's policy, and the
 * limits each replica gets.  berth.conf's own services are trusted but not
 * unbounded: they get the admin role's resource defaults and maxima.
 */
static enum berr
checked_spec(struct op *o, json_object *rec, json_object **spec, struct pol_limits *lim)
{
	enum berr e;

	*spec = svc_container_spec(rec);
	if (from_config(rec))
		e = pol_resources(o, ROLE_ADMIN, *spec, lim);
	else
		e = pol_check(o, own_policy_role(jx_str(rec, "owner"), o->role), *spec, 0, lim);
	if (e != B_OK) {
		json_object_put(*spec);
		*spec = NULL;
	}
	return e;
}

/* ---- engine mode: replicas are containers ----------------------------- */

/* The order replicas were made in: their sequence label (Created has only seconds). */
static long long
age_key(json_object *item)
{
	const char *seq = ct_label(item, LBL_SERVICE_SEQ);

	return seq ? atoll(seq) : jx_int(item, "Created", 0);
}

static int
by_age(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
	long long cx = age_key(x), cy = age_key(y);

	if (cx != cy)
		return cx < cy ? -1 : 1;
	return strcmp(jx_str(x, "Id") ? jx_str(x, "Id") : "",
	              jx_str(y, "Id") ? jx_str(y, "Id") : "");
}

/* This service's replica containers in any state (dockerd's list items), oldest first. */
static enum berr
replicas(struct op *o, json_object *rec, json_object **out)
{
	char lbl[128], own[256];
	const char *labels[2] = {lbl, own};
	json_object *list, *mine;
	enum berr e;

	*out = NULL;
	/* The owner too: a replica is the service owner's container, whatever else claims it. */
	snprintf(lbl, sizeof(lbl), LBL_SERVICE "=%s", jx_str(rec, "name"));
	snprintf(own, sizeof(own), LBL_OWNER "=%s", jx_str(rec, "owner"));
	e = ct_list(o, CT_ALL, labels, 2, &list);
	if (e != B_OK)
		return e;
	mine = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i);
		/* Containers of a Swarm task belong to swarm mode, not to engine replicas. */
		if (jx_str(jx_obj(it, "Labels"), "com.docker.swarm.task.id") == NULL)
			json_object_array_add(mine, json_object_get(it));
	}
	json_object_put(list);
	json_object_array_sort(mine, by_age);
	*out = mine;
	return B_OK;
}

static int
is_running(json_object *item)
{
	const char *s = jx_str(item, "State");

	return s && strcmp(s, "running") == 0;
}

/*
 * Creates one replica of REC under the lowest free <name>-<n>; USED holds
 * the names taken (a new name is added).  A name held by a container that is
 * not this service's is skipped.
 */
static enum berr
add_replica(struct op *o, json_object *rec, json_object *spec, const struct pol_limits *lim,
            json_object *used)
{
	const char *name = jx_str(rec, "name");
	json_object *labels = json_object_new_object(), *s = NULL, *in = NULL;
	char rname[BERTH_NAME_MAX + 8], rev[24], seq[24];
	struct ct_new n = {
	    .owner = jx_str(rec, "owner"), .labels = labels, .start = 1, .lim = *lim};
	int created, clashes = 0;
	enum berr e = B_INTERNAL;

	def_rev(rec, rev, sizeof(rev));
	/* The record (saved under the service lock) counts replicas made, for newest-first. */
	jx_add_int(rec, "seq", jx_int(rec, "seq", 0) + 1);
	snprintf(seq, sizeof(seq), "%lld", (long long)jx_int(rec, "seq", 0));
	jx_add_str(labels, LBL_SERVICE, name);
	jx_add_str(labels, LBL_SERVICE_REV, rev);
	jx_add_str(labels, LBL_SERVICE_SEQ, seq);
	for (int k = 1; k <= SVC_MAX_REPLICAS * 2 && clashes < 32; k++) {
		snprintf(rname, sizeof(rname), "%s-%d", name, k);
		if (jx_get(used, rname))
			continue;
		json_object_deep_copy(spec, &s, NULL);
		jx_add_str(s, "name", rname);
		n.spec = s;
		e = ct_create(o, &n, &in, &created);
		json_object_put(s);
		s = NULL;
		json_object_put(in);
		in = NULL;
		if (e == B_CONFLICT && strcmp(o->field, "name") == 0) {
			/* Someone else's container holds this name: take the next one. */
			op_clear(o);
			jx_add_bool(used, rname, 1);
			clashes++;
			e = B_INTERNAL;
			continue;
		}
		if (e == B_OK) {
			jx_add_bool(used, rname, 1);
			au_push(o, "created", rname);
		}
		break;
	}
	json_object_put(labels);
	if (e == B_INTERNAL && o->err == B_OK)
		e = op_fail(o, B_CONFLICT, NULL, "no free replica name for service %s", name);
	return e;
}

static json_object *
names_of(json_object *list)
{
	json_object *used = json_object_new_object();

	for (size_t i = 0; i < json_object_array_length(list); i++)
		jx_add_bool(used, ct_item_name(json_object_array_get_idx(list, i)), 1);
	return used;
}

/* Removes replicas that are not running: a failed replica is replaced, not counted. */
static enum berr
drop_dead(struct op *o, json_object *list, json_object **running)
{
	*running = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i);
		if (is_running(it)) {
			json_object_array_add(*running, json_object_get(it));
			continue;
		}
		enum berr e = ct_remove(o, jx_str(it, "Id"), -1);
		if (e != B_OK)
			return e;
		au_push(o, "removed", ct_item_name(it));
	}
	return B_OK;
}

static enum berr
engine_scale(struct op *o, json_object *rec, json_object *spec, const struct pol_limits *lim,
             int want, int timeout)
{
	json_object *list = NULL, *run = NULL, *used = NULL;
	size_t have;
	enum berr e = replicas(o, rec, &list);

	if (e != B_OK)
		return e;
	used = names_of(list);
	e = drop_dead(o, list, &run);
	have = json_object_array_length(run);
	/* Scale down: the newest go first. */
	while (e == B_OK && have > (size_t)want) {
		have--;
		e = ct_remove(o, jx_str(json_object_array_get_idx(run, have), "Id"), timeout);
		if (e == B_OK)
			au_push(o, "removed", ct_item_name(json_object_array_get_idx(run, have)));
	}
	while (e == B_OK && have < (size_t)want) {
		e = add_replica(o, rec, spec, lim, used);
		have++;
	}
	json_object_put(list);
	json_object_put(run);
	json_object_put(used);
	return e;
}

/*
 * Replaces the running replicas not made from REC one at a time: the new
 * one is started before the old one goes, so a service never drops below
 * its count (only a quota at its limit forces remove-then-create).
 * *REPLACED counts the replicas already swapped.
 */
static enum berr
engine_roll(struct op *o, json_object *rec, json_object *spec, const struct pol_limits *lim,
            int timeout, int *replaced, const char *image_id)
{
	json_object *list = NULL, *run = NULL, *used = NULL;
	char rev[24];
	enum berr e = replicas(o, rec, &list);

	*replaced = 0;
	if (e != B_OK)
		return e;
	def_rev(rec, rev, sizeof(rev));
	used = names_of(list);
	e = drop_dead(o, list, &run);
	for (size_t i = 0; e == B_OK && i < json_object_array_length(run); i++) {
		json_object *old = json_object_array_get_idx(run, i);
		const char *orev = ct_label(old, LBL_SERVICE_REV);
		/* IMAGE_ID: an update of the image alone also replaces those on another image. */
		if (orev && strcmp(orev, rev) == 0 &&
		    (!image_id ||
		     !strcmp(jx_str(old, "ImageID") ? jx_str(old, "ImageID") : "", image_id)))
			continue;
		e = add_replica(o, rec, spec, lim, used);
		if (e == B_FORBIDDEN) {
			/* At the quota: make room first. */
			op_clear(o);
			e = ct_remove(o, jx_str(old, "Id"), timeout);
			if (e == B_OK)
				e = add_replica(o, rec, spec, lim, used);
		} else if (e == B_OK) {
			e = ct_remove(o, jx_str(old, "Id"), timeout);
		}
		if (e == B_OK) {
			(*replaced)++;
			au_push(o, "removed", ct_item_name(old));
		}
	}
	json_object_put(list);
	json_object_put(run);
	json_object_put(used);
	return e;
}

static enum berr
engine_status(struct op *o, json_object *rec, int *running, json_object **views)
{
	json_object *list;
	enum berr e = replicas(o, rec, &list);

	*running = 0;
	*views = NULL;
	if (e != B_OK)
		return e;
	*views = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i);
		*running += is_running(it);
		json_object_array_add(*views, ct_view_item(it));
	}
	json_object_put(list);
	return B_OK;
}

static enum berr
engine_remove(struct op *o, json_object *rec, int timeout)
{
	json_object *list;
	enum berr e = replicas(o, rec, &list);

	for (size_t i = 0; e == B_OK && i < json_object_array_length(list); i++)
		e = ct_remove(o, jx_str(json_object_array_get_idx(list, i), "Id"), timeout);
	json_object_put(list);
	return e;
}

/* ---- shared steps of the handlers ------------------------------------ */

/*
 * Quota: what WANT replicas add to the owner's holdings must fit the owner's
 * quota (containers, replicas, memory and CPUs).  The replicas running now
 * are counted once: in engine mode they are among the owner's containers, in
 * swarm mode Swarm services are counted by what they are set to run (tasks
 * start after scale returns), this one's left out.
 */
static enum berr
check_quota(struct op *o, json_object *rec, const struct pol_limits *lim, int want, int swarm)
{
	const char *owner = jx_str(rec, "owner"), *name = jx_str(rec, "name");
	struct usage add = {0};
	int mine = swarm ? 0 : -1;
	json_object *list = NULL;
	enum berr e = B_OK;

	if (want == 0)
		return B_OK;
	if (swarm) {
		/* What runs now of this service is what Swarm is set to run. */
		json_object *tasks = NULL;
		int desired = 0;
		e = sw_status(o, name, owner, &mine, &desired, &tasks);
		json_object_put(tasks);
		mine = desired;
	} else {
		e = replicas(o, rec, &list);
		mine = 0;
		for (size_t i = 0; e == B_OK && i < json_object_array_length(list); i++)
			mine += ct_holds_quota(json_object_array_get_idx(list, i));
		json_object_put(list);
	}
	if (e != B_OK)
		return e;
	/* Scaling down (or staying) is always allowed, even over a since-lowered quota. */
	if (want <= mine)
		return B_OK;
	/* Swarm: this service is left out of what is held and counted whole here. */
	if (swarm)
		mine = 0;
	add.replicas = want - mine;
	add.containers = want - mine; /* a Swarm task is a container too */
	add.memory = (int64_t)(want - mine) * lim->memory;
	add.nano_cpus = (int64_t)(want - mine) * lim->nano_cpus;
	e = own_admit(o, owner, swarm ? name : NULL, &add);
	if (e == B_FORBIDDEN)
		snprintf(o->field, sizeof(o->field), "number");
	return e;
}

/* Only admins change berth.conf services; operators their own (load hid the rest). */
static enum berr
check_manage(struct op *o, json_object *rec, const char *what)
{
	if (from_config(rec) && o->role != ROLE_ADMIN)
		return op_fail(o, B_FORBIDDEN, NULL,
		               "service %s is defined in berth.conf: only admins may %s it",
		               jx_str(rec, "name"), what);
	return B_OK;
}

static enum berr
check_writable(struct op *o, json_object *rec)
{
	if (from_config(rec))
		return op_fail(o, B_CONFLICT, NULL,
		               "service %s is defined in berth.conf and is read-only here; change "
		               "it in the config file",
		               jx_str(rec, "name"));
	return B_OK;
}

static enum berr
status_of(struct op *o, json_object *rec, int *running, int *desired, json_object **views)
{
	int swarm;
	enum berr e = sw_active(o, &swarm);

	*desired = (int)jx_int(rec, "desired", 0);
	if (e != B_OK)
		return e;
	if (swarm)
		return sw_status(o, jx_str(rec, "name"), jx_str(rec, "owner"), running, desired,
		                 views);
	return engine_status(o, rec, running, views);
}

/* The status answer: seed 004's {"running_resources": N}, or with desired and containers. */
static enum berr
answer_status(struct req *r, const struct svc_shape *sh, json_object *rec, int code)
{
	json_object *views = NULL;
	int running = 0, desired = 0;
	enum berr e = status_of(&r->op, rec, &running, &desired, &views);

	if (e == B_OK)
		rq_json(r, code, sh->status(rec, running, desired, views));
	json_object_put(views);
	return e;
}

/* berth's own status answer: the running count, what is wanted and each replica. */
static json_object *
api_status(json_object *rec, int running, int desired, json_object *views)
{
	json_object *o = json_object_new_object();

	jx_add_int(o, "running_resources", running);
	jx_add_str(o, "name", jx_str(rec, "name"));
	jx_add_int(o, "desired", desired);
	jx_add_ref(o, "containers", views);
	return o;
}

/* check_manage for a scale, as svc_scale asks it. */
static enum berr
check_scale(struct op *o, json_object *rec)
{
	return check_manage(o, rec, "scale");
}

/*
 * `can` of service REC for O's caller: each change its route's role
 * allows and its handler's own check does not refuse (berth.conf's
 * services are scaled by admins alone and changed by nobody).  New
 * reference.
 */
static json_object *
api_can(struct op *o, json_object *rec)
{
	static const struct {
		const char *flag, *method, *pattern;
		enum berr (*check)(struct op *o, json_object *rec);
	} rules[] = {
	    {"scale", "POST", "/api/v1/services/{name}/scale", check_scale},
	    {"edit", "PUT", "/api/v1/services/{name}", check_writable},
	    {"remove", "DELETE", "/api/v1/services/{name}", check_writable},
	};
	json_object *can = json_object_new_object();
	struct op t;

	op_init(&t, o->user, o->role);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		jx_add_bool(can, rules[i].flag,
		            rt_allows(o->role, rules[i].method, rules[i].pattern) &&
		                rules[i].check(&t, rec) == B_OK);
		op_clear(&t);
	}
	op_done(&t);
	return can;
}

static const struct svc_shape api_shape = {view, api_status, api_can};

/* REC in SH's shape, with what O's caller may do to it when the shape tells it. */
static json_object *
shaped(struct op *o, const struct svc_shape *sh, json_object *rec)
{
	json_object *v = sh->def(rec);

	if (sh->can)
		json_object_object_add(v, "can", sh->can(o, rec));
	return v;
}

const struct rt_param svc_timeout_query[] = {
    {.name = "timeout",
     .type = P_INT,
     .desc = "Seconds each replica removed may take to stop.",
     .min = 0,
     .max = 600,
     .dflt = 10},
    {0}};

/* ---- handlers (API and seed 004 routes) ------------------------------- */

struct list_ctx {
	struct req *r;
	json_object *out;
	const struct svc_shape *sh;
};

/*
 * The map is keyed by the names the caller uses: their own services' names;
 * another owner's (a group's, or anyone's for admins) by record name, which
 * the service routes take too.  Two owners' "api" never share a key.
 */
static int
list_one(const char *key, json_object *rec, void *arg)
{
	struct list_ctx *c = arg;
	const char *owner = jx_str(rec, "owner"), *name = jx_str(rec, "name");

	if (from_config(rec) || jx_get(g_cfg->services, key) || !visible(&c->r->op, rec) ||
	    strcmp(key_of(rec), key) != 0)
		return 0;
	if (owner && name && strcmp(owner, op_owner(&c->r->op)) == 0 && !jx_get(c->out, name))
		key = name;
	json_object_object_add(c->out, key, shaped(&c->r->op, c->sh, rec));
	return 0;
}

enum berr
svc_list(struct req *r, const struct svc_shape *sh)
{
	struct list_ctx c = {r, json_object_new_object(), sh};

	json_object_object_foreach(g_cfg->services, name, cdef)
	{
		json_object *rec = config_record(name, cdef);
		json_object_object_add(c.out, name, shaped(&r->op, sh, rec));
		json_object_put(rec);
	}
	if (st_each(ST_SERVICES, list_one, &c) != B_OK) {
		json_object_put(c.out);
		return op_fail(&r->op, B_INTERNAL, NULL, "cannot read the service records");
	}
	rq_json(r, 200, c.out);
	return B_OK;
}

enum berr
svc_create(struct req *r, const struct svc_shape *sh)
{
	const char *name = jx_str(r->json, "name");
	json_object *rec = NULL, *old = NULL, *spec = NULL;
	struct pol_limits lim = {0};
	char field[64], msg[256], owner[OWN_MAX], key[OWN_DNAME_MAX];
	enum berr e;
	int fd;

	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s", name);
	if (def_problem(r->json, field, sizeof(field), msg, sizeof(msg)) != 0)
		return op_fail(&r->op, B_INVALID, field, "%s", msg);
	if (jx_get(g_cfg->services, name))
		return op_fail(&r->op, B_CONFLICT, "name", "service %s is defined in berth.conf",
		               name);
	e = own_for_create(&r->op, jx_str(r->json, "owner"), "owner", owner, sizeof(owner));
	if (e != B_OK)
		return e;
	rec_key(owner, name, key, sizeof(key));
	fd = lock_service(key);
	if (fd < 0)
		return op_fail(&r->op, B_INTERNAL, NULL, "cannot lock the state directory");
	/* The owner's own service of that name (one made before namespaces counts too). */
	load_key(&r->op, key, &old);
	if (old == NULL && strcmp(owner, op_owner(&r->op)) == 0)
		load_key(&r->op, name, &old);
	if (old && strcmp(jx_str(old, "owner") ? jx_str(old, "owner") : "", owner) == 0) {
		e = op_fail(&r->op, B_CONFLICT, "name", "service %s exists already", name);
		goto out;
	}
	rec = def_norm(r->json, name);
	jx_add_str(rec, "owner", owner);
	e = checked_spec(&r->op, rec, &spec, &lim);
	if (e != B_OK)
		goto out;
	jx_add_str(rec, "key", key);
	jx_add_int(rec, "desired", 0);
	jx_add_int(rec, "created", (int64_t)time(NULL));
	e = save(&r->op, rec);
	if (e == B_OK)
		rq_json(r, 201, shaped(&r->op, sh, rec));
out:
	st_unlock(fd);
	json_object_put(old);
	json_object_put(rec);
	json_object_put(spec);
	return e;
}

enum berr
svc_get(struct req *r, const struct svc_shape *sh)
{
	json_object *rec;
	enum berr e = load(&r->op, r->args[0], &rec);

	if (e != B_OK)
		return e;
	rq_json(r, 200, shaped(&r->op, sh, rec));
	json_object_put(rec);
	return B_OK;
}

/* Applies REC's new definition to what runs; a partly rolled engine service keeps REC. */
static enum berr
roll_out(struct op *o, json_object *rec, json_object *spec, const struct pol_limits *lim,
         int timeout)
{
	int swarm, replaced = 0;
	enum berr e = sw_active(o, &swarm);

	if (e != B_OK)
		return e;
	if (swarm)
		e = sw_update(o, jx_str(rec, "name"), jx_str(rec, "owner"), spec, lim);
	else
		e = engine_roll(o, rec, spec, lim, timeout, &replaced, NULL);
	if (e != B_OK && replaced > 0) {
		/* Some replicas run the new definition already: keep it so a retry finishes. */
		enum berr keep = o->err;
		save(o, rec);
		o->err = keep;
	}
	return e;
}

enum berr
svc_put(struct req *r, const struct svc_shape *sh)
{
	const char *name, *bname = jx_str(r->json, "name");
	struct pol_limits lim = {0};
	json_object *old = NULL, *rec = NULL, *spec = NULL;
	char field[64], msg[256];
	int fd = -1, timeout = (int)rq_int(r, "timeout");
	enum berr e;

	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s", r->args[0]);
	if (def_problem(r->json, field, sizeof(field), msg, sizeof(msg)) != 0)
		return op_fail(&r->op, B_INVALID, field, "%s", msg);
	e = open_locked(&r->op, r->args[0], &old, &fd);
	if (e != B_OK)
		return e;
	/* The path may name it by record name; the definition keeps the name it was given. */
	name = jx_str(old, "name");
	if (bname && strcmp(bname, name) != 0) {
		e = op_fail(&r->op, B_INVALID, "name",
		            "name %s differs from the service in the path (%s)", bname, name);
		goto out;
	}
	if ((e = check_writable(&r->op, old)) != B_OK)
		goto out;
	rec = def_norm(r->json, name);
	for (const char *const *k =
	         (const char *const[]){"owner", "key", "desired", "created", "seq", NULL};
	     *k; k++)
		jx_add_ref(rec, *k, jx_get(old, *k));
	e = checked_spec(&r->op, rec, &spec, &lim);
	if (e == B_OK)
		e = roll_out(&r->op, rec, spec, &lim, timeout);
	if (e == B_OK)
		e = save(&r->op, rec);
	if (e == B_OK)
		rq_json(r, 200, shaped(&r->op, sh, rec));
out:
	st_unlock(fd);
	json_object_put(old);
	json_object_put(rec);
	json_object_put(spec);
	return e;
}

static enum berr
h_delete(struct req *r)
{
	json_object *rec = NULL;
	int fd = -1, timeout = (int)rq_int(r, "timeout"), swarm;
	enum berr e;

	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s", r->args[0]);
	e = open_locked(&r->op, r->args[0], &rec, &fd);
	if (e != B_OK)
		return e;
	if ((e = check_writable(&r->op, rec)) != B_OK || (e = sw_active(&r->op, &swarm)) != B_OK)
		goto out;
	if (swarm)
		e = sw_remove(&r->op, jx_str(rec, "name"), jx_str(rec, "owner"));
	if (e == B_OK)
		e = engine_remove(&r->op, rec, timeout);
	if (e == B_OK && st_del(ST_SERVICES, key_of(rec)) != B_OK)
		e = op_fail(&r->op, B_INTERNAL, NULL, "cannot remove the service record");
	if (e == B_OK)
		rq_empty(r, 204);
out:
	st_unlock(fd);
	json_object_put(rec);
	return e;
}

/* The scale body's number, as an integer or a string of digits (httpie sends number=3 as "3"). */
static int
scale_number(struct req *r, int *n)
{
	json_object *v = jx_get(r->json, "number");
	long long x = json_object_is_type(v, json_type_int) ? json_object_get_int64(v)
	                                                    : atoll(json_object_get_string(v));

	if (x < 0 || x > SVC_MAX_REPLICAS) {
		op_fail(&r->op, B_INVALID, "number", "number must be from 0 to %d",
		        SVC_MAX_REPLICAS);
		return -1;
	}
	*n = (int)x;
	return 0;
}

enum berr
svc_scale(struct req *r, const struct svc_shape *sh)
{
	struct pol_limits lim = {0};
	json_object *rec = NULL, *spec = NULL;
	int fd = -1, ofd = -1, n, timeout = (int)rq_int(r, "timeout"), swarm;
	enum berr e;

	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s", r->args[0]);
	if (scale_number(r, &n))
		return r->op.err;
	e = open_locked(&r->op, r->args[0], &rec, &fd);
	if (e != B_OK)
		return e;
	if ((e = check_manage(&r->op, rec, "scale")) != B_OK ||
	    (e = sw_active(&r->op, &swarm)) != B_OK)
		goto out;
	/* Scaling to 0 needs no spec, so a tightened policy never blocks stopping a service. */
	if (n > 0 && (e = checked_spec(&r->op, rec, &spec, &lim)) != B_OK)
		goto out;
	/*
	 * Engine replicas are each created under the owner's lock; a Swarm scale
	 * is one update, so the count and the update share that lock here, or two
	 * services of one owner could both take the last replicas.
	 */
	if (swarm && n > 0 && (ofd = own_lock(jx_str(rec, "owner"))) < 0) {
		e = op_fail(&r->op, B_INTERNAL, NULL, "cannot lock the state directory");
		goto out;
	}
	if ((e = check_quota(&r->op, rec, &lim, n, swarm)) != B_OK)
		goto out;
	if (swarm)
		e = sw_scale(&r->op, jx_str(rec, "name"), jx_str(rec, "owner"), spec, &lim, n);
	else
		e = engine_scale(&r->op, rec, spec, &lim, n, timeout);
	/* The desired count is recorded even after a partial failure: it is what was asked. */
	jx_add_int(rec, "desired", n);
	if (e == B_OK)
		e = save(&r->op, rec);
	else
		save(&r->op, rec);
	if (e == B_OK)
		e = answer_status(r, sh, rec, 200);
out:
	st_unlock(ofd);
	st_unlock(fd);
	json_object_put(rec);
	json_object_put(spec);
	return e;
}

enum berr
svc_status(struct req *r, const struct svc_shape *sh)
{
	json_object *rec;
	enum berr e = load(&r->op, r->args[0], &rec);

	if (e != B_OK)
		return e;
	e = answer_status(r, sh, rec, 200);
	json_object_put(rec);
	return e;
}

static enum berr
h_list(struct req *r)
{
	return svc_list(r, &api_shape);
}

static enum berr
h_create(struct req *r)
{
	return svc_create(r, &api_shape);
}

static enum berr
h_get(struct req *r)
{
	return svc_get(r, &api_shape);
}

static enum berr
h_put(struct req *r)
{
	return svc_put(r, &api_shape);
}

static enum berr
h_scale(struct req *r)
{
	return svc_scale(r, &api_shape);
}

static enum berr
h_status(struct req *r)
{
	return svc_status(r, &api_shape);
}

static const struct rt_route svc_routes[] = {
    {"GET", "/api/v1/services", h_list, ROLE_VIEWER, 0, NULL,
     "Service definitions visible to the caller: a map name -> definition, with what the caller "
     "may do to it (can).",
     NULL},
    {"POST", "/api/v1/services", h_create, ROLE_OPERATOR, RT_BODY | RT_MUT, &svc_schema,
     "Define a service (name, image with a tag, command, environment, ports...).", NULL},
    {"GET", "/api/v1/services/{name}", h_get, ROLE_VIEWER, 0, NULL,
     "One service definition with its owner and desired count, and what the caller may do to "
     "it (can).",
     NULL},
    {"PUT", "/api/v1/services/{name}", h_put, ROLE_OPERATOR, RT_BODY | RT_MUT, &svc_update_schema,
     "Replace the definition; running replicas are replaced one at a time (?timeout=).",
     svc_timeout_query},
    {"DELETE", "/api/v1/services/{name}", h_delete, ROLE_OPERATOR, RT_MUT, NULL,
     "Remove the definition and its replicas (?timeout=seconds to stop them).", svc_timeout_query},
    {"POST", "/api/v1/services/{name}/scale", h_scale, ROLE_OPERATOR, RT_BODY | RT_MUT,
     &svc_scale_schema,
     "Ensure exactly N replicas run ({\"number\": N}); scaling down removes the newest.",
     svc_timeout_query},
    {"GET", "/api/v1/services/{name}/status", h_status, ROLE_VIEWER, 0, NULL,
     "{\"running_resources\": R, \"desired\": N, \"containers\": [...]}.", NULL},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

const struct rt_param svc_args[] = {{.name = "name",
                                     .type = P_STR,
                                     .desc = "service",
                                     .max = OWN_DNAME_MAX,
                                     .min = 1,
                                     .valid = ref_valid,
                                     .rule = "a service name (or record name)"},
                                    {0}};

static const struct sc_schema *const svc_schemas[] = {&svc_schema, &svc_update_schema,
                                                      &svc_scale_schema, NULL};
static const char *const svc_kinds[] = {ST_SERVICES, NULL};

const struct bmod mod_services = {
    .name = "services",
    .routes = svc_routes,
    .args = svc_args,
    .schemas = svc_schemas,
    .state_kinds = svc_kinds,
    .cleanup = sw_cleanup_instance,
    .cfg_section = "services",
    .cfg_check = svc_check_conf,
};

/* ---- for registries.c: hooks and image updates ------------------------------ */

enum berr
svc_lookup_view(struct op *o, const char *ref, json_object **v)
{
	json_object *rec;
	enum berr e = load(o, ref, &rec);

	*v = NULL;
	if (e != B_OK)
		return e;
	*v = view(rec);
	json_object_put(rec);
	return B_OK;
}

/*
 * Pulls the service's image when its registry has a newer digest, then
 * replaces the replicas not on that image one at a time, each new one
 * started before its old one goes (engine_roll).
 */
enum berr
svc_refresh(struct req *r)
{
	json_object *rec = NULL, *spec = NULL, *in = NULL;
	struct pol_limits lim = {0};
	int fd = -1, swarm = 0, replaced = 0;
	enum berr e = open_locked(&r->op, r->args[0], &rec, &fd);

	if (e != B_OK)
		return e;
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "service %s", jx_str(rec, "name"));
	if ((e = check_writable(&r->op, rec)) != B_OK || (e = sw_active(&r->op, &swarm)) != B_OK)
		goto out;
	if (swarm) {
		e = op_fail(&r->op, B_CONFLICT, NULL,
		            "image updates of Swarm services are not supported yet");
		goto out;
	}
	e = checked_spec(&r->op, rec, &spec, &lim);
	if (e == B_OK)
		e = reg_refresh(&r->op, jx_str(spec, "image"));
	if (e == B_OK)
		e = eng_img_inspect(&r->op, jx_str(spec, "image"), &in);
	if (e == B_OK)
		e = engine_roll(&r->op, rec, spec, &lim, 10, &replaced, jx_str(in, "Id"));
	if (replaced > 0) {
		struct op_err sv;
		op_save(&r->op, &sv);
		save(&r->op, rec); /* its replica count moved on */
		op_restore(&r->op, &sv);
	}
	au_add(&r->op, "replaced", json_object_new_int(replaced));
	if (e == B_OK)
		rq_json(r, 200, shaped(&r->op, &api_shape, rec));
out:
	st_unlock(fd);
	json_object_put(rec);
	json_object_put(spec);
	json_object_put(in);
	return e;
}

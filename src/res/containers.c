/*
 * containers.c - containers with ownership.  Ownership lives in two places:
 * Docker labels (berth.managed, berth.owner, berth.instance - immutable, set
 * at create) and a record containers/<id>.json in the state directory.  The
 * labels are the truth for who may see what, so a lost record never opens or
 * closes access; records hold the spec for recreates and are rebuilt from
 * labels by reconcile.
 */
#include "berth.h"
#include "store/audit.h"
#include "lib/cfg.h"
#include "res/catalog.h"
#include "res/containers.h"
#include "res/registries.h"
#include "res/sessions.h"
#include "engine/engine.h"
#include "lib/json.h"
#include "lib/log.h"
#include "res/policy.h"
#include "res/networks.h"
#include "res/owner.h"
#include "res/volumes.h"
#include "edge/req.h"
#include "edge/module.h"
#include "edge/route.h"
#include "store/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* KEY's value in a Labels object; berth's empty placeholders count as absent. */
static const char *
label_of(json_object *labels, const char *key)
{
	const char *v = jx_str(labels, key);

	return v && *v ? v : NULL;
}

const char *
ct_label(json_object *obj, const char *key)
{
	json_object *cfg = jx_obj(obj, "Config");

	return label_of(jx_obj(cfg ? cfg : obj, "Labels"), key);
}

/*
 * Every berth label readers act on.  All of them are set on every container
 * berth creates, empty when they do not apply: dockerd merges the image's
 * labels under the container's, so an image built with
 * LABEL berth.protected=true berth.service=... would otherwise be believed.
 */
static const char *const berth_labels[] = {
    LBL_MANAGED,  LBL_OWNER, LBL_INSTANCE, LBL_PROTECT,     LBL_SERVICE,     LBL_JOB,
    LBL_CATALOG,  LBL_SEED,  LBL_SPEC,     LBL_SERVICE_REV, LBL_SERVICE_SEQ, LBL_JOB_TIMEOUT,
    LBL_JOB_NAME, LBL_NAME,  LBL_MEMORY,   LBL_CPUS,        LBL_CREATOR,     NULL};

/* Hashed lock name for KIND and a string that may hold any characters. */
static int
lock_hashed(const char *kind, const char *s)
{
	char name[48];

	snprintf(name, sizeof(name), "%s-%08x", kind, b_hash32(s));
	return st_lock(name);
}

const char *
ct_item_dname(json_object *item)
{
	json_object *names = jx_arr(item, "Names");
	const char *n = names ? json_object_get_string(json_object_array_get_idx(names, 0)) : NULL;

	if (n == NULL)
		return "";
	return n[0] == '/' ? n + 1 : n;
}

const char *
ct_item_name(json_object *item)
{
	return own_shown(ct_label(item, LBL_NAME), ct_item_dname(item));
}

const char *
ct_dname(json_object *in)
{
	const char *n = jx_str(in, "Name");

	if (n == NULL)
		return "";
	return n[0] == '/' ? n + 1 : n;
}

const char *
ct_name(json_object *in)
{
	return own_shown(ct_label(in, LBL_NAME), ct_dname(in));
}

int
ct_managed(json_object *obj)
{
	const char *m = ct_label(obj, LBL_MANAGED), *inst = ct_label(obj, LBL_INSTANCE);

	return m && strcmp(m, "1") == 0 && inst && strcmp(inst, g_cfg->instance) == 0;
}

/*
 * Whoever creates, reuses or recreates under a container name holds this
 * lock, so a recreate that moves the old container aside keeps the name for
 * its owner until the new one has it.  Taken after the owner's lock.
 */
static int
lock_name(const char *name)
{
	return lock_hashed("name", name);
}

json_object *
ct_ports(json_object *inspect)
{
	json_object *out = json_object_new_object();
	json_object *ports = jx_obj(jx_obj(inspect, "NetworkSettings"), "Ports");

	/* A stopped container publishes nothing: show what it is configured to publish. */
	if (ports == NULL || json_object_object_length(ports) == 0)
		ports = jx_obj(jx_obj(inspect, "HostConfig"), "PortBindings");
	if (ports == NULL)
		return out;
	json_object_object_foreach(ports, key, binds)
	{
		const char *hp = NULL;
		if (json_object_is_type(binds, json_type_array) && json_object_array_length(binds))
			hp = jx_str(json_object_array_get_idx(binds, 0), "HostPort");
		if (hp && *hp)
			jx_add_int(out, key, atoll(hp));
		else
			json_object_object_add(out, key, NULL);
	}
	return out;
}

/* Protected by its label, or by berth.conf's list naming it (as given, or its Docker name). */
static int
is_protected(json_object *labels, const char *name, const char *dname)
{
	const char *p = label_of(labels, LBL_PROTECT);

	return (p && strcmp(p, "true") == 0) || cfg_is_protected(g_cfg, name) ||
	       cfg_is_protected(g_cfg, dname);
}

static void
add_common(json_object *v, json_object *labels, const char *name, const char *dname)
{
	static const char *const belongs[][2] = {
	    {LBL_SERVICE, "service"}, {LBL_JOB, "job"}, {LBL_CATALOG, "catalog"}};

	jx_add_str(v, "owner", label_of(labels, LBL_OWNER));
	jx_add_bool(v, "managed", label_of(labels, LBL_MANAGED) != NULL);
	jx_add_str(v, "docker_name", dname);
	jx_add_bool(v, "protected", is_protected(labels, name, dname));
	for (size_t i = 0; i < sizeof(belongs) / sizeof(belongs[0]); i++)
		if (label_of(labels, belongs[i][0]))
			jx_add_str(v, belongs[i][1], label_of(labels, belongs[i][0]));
}

json_object *
ct_user_labels(json_object *labels)
{
	json_object *o = json_object_new_object();

	if (labels) {
		json_object_object_foreach(labels, k, v)
		{
			if (strncmp(k, "berth.", 6) != 0)
				jx_add_ref(o, k, v);
		}
	}
	return o;
}

static json_object *
mounts_view(json_object *mounts)
{
	json_object *out = json_object_new_array();
	size_t n = mounts ? json_object_array_length(mounts) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(mounts, i),
		            *o = json_object_new_object();
		jx_add_str(o, "type", jx_str(m, "Type"));
		jx_add_str(o, "source",
		           jx_str(m, "Type") && !strcmp(jx_str(m, "Type"), "volume")
		               ? jx_str(m, "Name")
		               : jx_str(m, "Source"));
		jx_add_str(o, "target", jx_str(m, "Destination"));
		jx_add_bool(o, "read_only", !jx_bool(m, "RW", 1));
		json_object_array_add(out, o);
	}
	return out;
}

static json_object *
devices_view(json_object *devs)
{
	json_object *out = json_object_new_array();
	size_t n = devs ? json_object_array_length(devs) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(devs, i), *o = json_object_new_object();
		jx_add_str(o, "host", jx_str(d, "PathOnHost"));
		jx_add_str(o, "container", jx_str(d, "PathInContainer"));
		jx_add_str(o, "permissions", jx_str(d, "CgroupPermissions"));
		json_object_array_add(out, o);
	}
	return out;
}

/* The length of the KEY= part of "KEY=VALUE" (the whole string when there is no '='). */
static size_t
env_key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? (size_t)(eq - kv) + 1 : strlen(kv);
}

static int
env_has_key(json_object *list, const char *kv)
{
	size_t n = env_key_len(kv);

	for (size_t i = 0; i < json_object_array_length(list); i++) {
		const char *o = json_object_get_string(json_object_array_get_idx(list, i));
		if (o && env_key_len(o) == n && strncmp(o, kv, n) == 0)
			return 1;
	}
	return 0;
}

/*
 * env: the container's own variables (its recorded spec); image_env: what
 * dockerd's Config.Env adds from the image.  An edit form then never pins
 * the image's PATH as the container's own.  Without a spec (a container
 * berth did not make) env is all of Config.Env.
 */
static void
add_env(json_object *v, json_object *in)
{
	json_object *all = jx_arr(jx_obj(in, "Config"), "Env"), *spec = ct_spec_of(in), *own, *img;

	if (spec == NULL) {
		jx_add_ref(v, "env", all);
		return;
	}
	own = pol_env_list(jx_get(spec, "env"));
	img = json_object_new_array();
	for (size_t i = 0; all && i < json_object_array_length(all); i++) {
		json_object *kv = json_object_array_get_idx(all, i);
		if (!env_has_key(own, json_object_get_string(kv)))
			json_object_array_add(img, json_object_get(kv));
	}
	json_object_object_add(v, "env", own);
	json_object_object_add(v, "image_env", img);
	json_object_put(spec);
}

static void
add_details(json_object *v, json_object *in)
{
	json_object *cfg = jx_obj(in, "Config"), *hc = jx_obj(in, "HostConfig");
	json_object *rp = jx_obj(hc, "RestartPolicy");
	const char *rname = jx_str(rp, "Name");

	jx_add_ref(v, "command", jx_get(cfg, "Cmd"));
	jx_add_ref(v, "entrypoint", jx_get(cfg, "Entrypoint"));
	add_env(v, in);
	jx_add_str(v, "workdir", jx_str(cfg, "WorkingDir"));
	jx_add_str(v, "user", jx_str(cfg, "User"));
	json_object_object_add(v, "labels", ct_user_labels(jx_obj(cfg, "Labels")));
	json_object_object_add(v, "mounts", mounts_view(jx_arr(in, "Mounts")));
	json_object_object_add(v, "devices", devices_view(jx_arr(hc, "Devices")));
	jx_add_bool(v, "privileged", jx_bool(hc, "Privileged", 0));
	jx_add_ref(v, "cap_add", jx_get(hc, "CapAdd"));
	jx_add_str(v, "restart", rname && *rname ? rname : "no");
	jx_add_int(v, "restart_max_retries", jx_int(rp, "MaximumRetryCount", 0));
	jx_add_str(v, "network", jx_str(hc, "NetworkMode"));
	jx_add_str(v, "pid", jx_str(hc, "PidMode"));
	jx_add_str(v, "ipc", jx_str(hc, "IpcMode"));
	jx_add_int(v, "memory", jx_int(hc, "Memory", 0));
	json_object_object_add(v, "cpus",
	                       json_object_new_double((double)jx_int(hc, "NanoCpus", 0) / 1e9));
	jx_add_int(v, "pids", jx_int(hc, "PidsLimit", 0));
	jx_add_ref(v, "log", jx_obj(jx_obj(hc, "LogConfig"), "Config"));
	jx_add_bool(v, "tty", jx_bool(cfg, "Tty", 0));
	jx_add_bool(v, "stdin", jx_bool(cfg, "OpenStdin", 0));
}

json_object *
ct_view(json_object *in, int details)
{
	json_object *v = json_object_new_object(), *st = jx_obj(in, "State");
	json_object *labels = jx_obj(jx_obj(in, "Config"), "Labels");
	const char *name = ct_name(in);

	jx_add_str(v, "id", jx_str(in, "Id"));
	jx_add_str(v, "name", name);
	jx_add_str(v, "image", jx_str(jx_obj(in, "Config"), "Image"));
	jx_add_str(v, "image_id", jx_str(in, "Image"));
	jx_add_str(v, "state", jx_str(st, "Status"));
	jx_add_bool(v, "running", jx_bool(st, "Running", 0));
	jx_add_int(v, "exit_code", jx_int(st, "ExitCode", 0));
	jx_add_str(v, "created", jx_str(in, "Created"));
	jx_add_str(v, "started_at", jx_str(st, "StartedAt"));
	jx_add_str(v, "finished_at", jx_str(st, "FinishedAt"));
	json_object_object_add(v, "ports", ct_ports(in));
	add_common(v, labels, name, ct_dname(in));
	reg_mark(v, jx_str(in, "Id"));
	if (details)
		add_details(v, in);
	return v;
}

json_object *
ct_view_item(json_object *it)
{
	json_object *v = json_object_new_object(), *ports = jx_arr(it, "Ports"), *pm;
	json_object *labels = jx_obj(it, "Labels"), *spec;
	const char *name = ct_item_name(it), *spec_label;
	size_t n = ports ? json_object_array_length(ports) : 0;
	char perr[64];

	jx_add_str(v, "id", jx_str(it, "Id"));
	jx_add_str(v, "name", name);
	/* dockerd shows the image id once the tag moved on; the spec keeps the name asked for. */
	spec_label = jx_str(labels, LBL_SPEC);
	spec = spec_label ? jx_parse(spec_label, strlen(spec_label), perr, sizeof(perr)) : NULL;
	jx_add_str(v, "image", jx_str(spec, "image") ? jx_str(spec, "image") : jx_str(it, "Image"));
	/*
	 * dockerd lists the image as the reference it was made from while that
	 * still names the same image, and as the image id once the tag moved on
	 * (or went): outdated without asking dockerd about images at all.
	 */
	jx_add_bool(v, "outdated",
	            jx_str(spec, "image") && jx_str(it, "Image") &&
	                strcmp(jx_str(it, "Image"), jx_str(spec, "image")) != 0);
	json_object_put(spec);
	jx_add_str(v, "image_id", jx_str(it, "ImageID"));
	jx_add_str(v, "state", jx_str(it, "State"));
	jx_add_bool(v, "running", jx_str(it, "State") && !strcmp(jx_str(it, "State"), "running"));
	jx_add_str(v, "status", jx_str(it, "Status"));
	jx_add_int(v, "created", jx_int(it, "Created", 0));
	pm = json_object_new_object();
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(ports, i);
		char key[32];
		snprintf(key, sizeof(key), "%lld/%s", (long long)jx_int(p, "PrivatePort", 0),
		         jx_str(p, "Type") ? jx_str(p, "Type") : "tcp");
		/*
		 * dockerd lists 0.0.0.0 and :: bindings apart, and their host ports
		 * can differ: the IPv4 one is the one 127.0.0.1 answers on.
		 */
		if (jx_get(p, "PublicPort") &&
		    (!jx_get(pm, key) || !jx_str(p, "IP") || !strchr(jx_str(p, "IP"), ':')))
			jx_add_int(pm, key, jx_int(p, "PublicPort", 0));
		else if (!jx_get(pm, key))
			json_object_object_add(pm, key, NULL);
	}
	json_object_object_add(v, "ports", pm);
	add_common(v, labels, name, ct_item_dname(it));
	reg_mark(v, jx_str(it, "Id"));
	return v;
}

/* ---- what the caller may do to one container: can --------------------- */

/* Besides its route's role, a change is refused by a container that is... */
enum {
	BY_UNMANAGED = 1, /* ...not this berth's (ct_lookup's mutate) */
	BY_JOB = 2,       /* ...a job's (ct_check_plain) */
	BY_PROTECTED = 4, /* ...protected (ct_check_unprotected) */
	BY_GUARDED = 8,   /* ...protected, but for an admin's forced remove */
};

/*
 * Each change to one container as its handler refuses it: the row whose
 * role it needs and what else refuses it (open_for_change's GUARDED).  A
 * new refusal in a handler belongs here too; the containers suite checks
 * every flag against what the request then does.
 */
static const struct {
	const char *flag, *method, *pattern;
	int refused;
} can_rules[] = {
    {"start", "POST", "/api/v1/containers/{ref}/start", BY_UNMANAGED | BY_JOB},
    {"stop", "POST", "/api/v1/containers/{ref}/stop", BY_UNMANAGED | BY_JOB | BY_PROTECTED},
    {"restart", "POST", "/api/v1/containers/{ref}/restart", BY_UNMANAGED | BY_JOB | BY_PROTECTED},
    {"kill", "POST", "/api/v1/containers/{ref}/kill", BY_UNMANAGED | BY_JOB | BY_PROTECTED},
    /* With ?force=1, which a running container needs. */
    {"remove", "DELETE", "/api/v1/containers/{ref}", BY_UNMANAGED | BY_JOB | BY_GUARDED},
    {"edit", "PATCH", "/api/v1/containers/{ref}", BY_UNMANAGED | BY_JOB | BY_PROTECTED},
    {"update", "POST", "/api/v1/containers/{ref}/update", BY_UNMANAGED | BY_JOB | BY_PROTECTED},
    {"exec", "POST", "/api/v1/containers/{ref}/exec", BY_UNMANAGED},
    {"console", "GET", "/api/v1/containers/{ref}/console", BY_UNMANAGED},
    {"logs", "GET", "/api/v1/containers/{ref}/logs", 0},
};

/*
 * Adds `can` to V, the view of IN (an inspect or a list item): each change
 * O's caller may make to it.  Read from the view's own job and protected,
 * so the flags say what the view says.
 */
static void
add_can(struct op *o, json_object *in, json_object *v)
{
	json_object *can = json_object_new_object();
	int by = (ct_managed(in) ? 0 : BY_UNMANAGED) | (jx_str(v, "job") ? BY_JOB : 0);

	if (jx_bool(v, "protected", 0))
		by |= BY_PROTECTED | (o->role == ROLE_ADMIN ? 0 : BY_GUARDED);
	for (size_t i = 0; i < sizeof(can_rules) / sizeof(can_rules[0]); i++)
		jx_add_bool(can, can_rules[i].flag,
		            !(can_rules[i].refused & by) &&
		                rt_allows(o->role, can_rules[i].method, can_rules[i].pattern));
	json_object_object_add(v, "can", can);
}

/* ct_view with `can` for O's caller.  New reference. */
static json_object *
view_for(struct op *o, json_object *in, int details)
{
	json_object *v = ct_view(in, details);

	add_can(o, in, v);
	return v;
}

enum berr
ct_list(struct op *o, int flags, const char *const *labels, size_t n, json_object **out)
{
	json_object *f = json_object_new_object(), *arr = json_object_new_array();
	char inst[160];
	enum berr e;

	snprintf(inst, sizeof(inst), LBL_INSTANCE "=%s", g_cfg->instance);
	json_object_array_add(arr, json_object_new_string(LBL_MANAGED "=1"));
	json_object_array_add(arr, json_object_new_string(inst));
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(labels[i]));
	json_object_object_add(f, "label", arr);
	e = (flags & CT_FULL) ? eng_ct_list_full(o, flags & CT_ALL, f, out)
	                      : eng_ct_list(o, flags & CT_ALL, f, out);
	json_object_put(f);
	return e;
}

/* The caller may see IN: an admin anything, anyone else what this instance manages for them. */
static int
may_see(struct op *o, json_object *in)
{
	if (o->system || o->role == ROLE_ADMIN)
		return 1;
	return ct_managed(in) && own_visible(o, ct_label(in, LBL_OWNER));
}

int
ct_is_named(json_object *obj, const char *owner, const char *name)
{
	const char *o = ct_label(obj, LBL_OWNER), *n = ct_label(obj, LBL_NAME);

	return ct_managed(obj) && o && n && strcmp(o, owner) == 0 && strcmp(n, name) == 0;
}

/* 1..63 lowercase hex digits: short for an id, so only the caller's containers are searched. */
static int
is_id_prefix(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 64)
		return 0;
	return strspn(s, "0123456789abcdef") == n;
}

/*
 * REF as a unique id prefix among the containers the caller may see.  Asking
 * dockerd would resolve it among every container on the host, and its
 * answers (found, ambiguous) would tell the ids of other tenants'.
 */
static enum berr
by_prefix(struct op *o, const char *ref, json_object **inspect)
{
	const char *ns[OWN_NS_MAX];
	size_t k = own_namespaces(o, ns, OWN_NS_MAX), len = strlen(ref);
	char id[80] = "", lbl[OWN_MAX + 16];
	const char *labels[1] = {lbl};
	int hits = 0;
	enum berr e = B_OK;

	for (size_t i = 0; i < k && e == B_OK; i++) {
		json_object *list;
		snprintf(lbl, sizeof(lbl), LBL_OWNER "=%s", ns[i]);
		e = ct_list(o, CT_ALL, labels, 1, &list);
		for (size_t j = 0; e == B_OK && j < json_object_array_length(list); j++) {
			const char *cid = jx_str(json_object_array_get_idx(list, j), "Id");
			if (cid && strncmp(cid, ref, len) == 0 && strcmp(cid, id) != 0) {
				hits++;
				snprintf(id, sizeof(id), "%s", cid);
			}
		}
		json_object_put(list);
	}
	if (e != B_OK)
		return e;
	if (hits > 1)
		return op_fail(
		    o, B_NOT_FOUND, NULL,
		    "%s is the start of several of your containers' ids; give more of it", ref);
	if (hits == 0)
		return op_fail(o, B_NOT_FOUND, NULL, "no such container: %s", ref);
	return eng_ct_inspect(o, id, inspect);
}

/* NAME in each of the caller's namespaces; *INSPECT stays NULL when none holds it. */
static enum berr
by_name(struct op *o, const char *name, json_object **inspect)
{
	const char *ns[OWN_NS_MAX];
	size_t k = own_namespaces(o, ns, OWN_NS_MAX);
	char dn[OWN_DNAME_MAX];

	if (!name_valid(name))
		return B_OK;
	for (size_t i = 0; i < k; i++) {
		enum berr e;
		own_dname(ns[i], name, dn, sizeof(dn));
		e = eng_ct_inspect(o, dn, inspect);
		if (e == B_OK && ct_is_named(*inspect, ns[i], name))
			return B_OK;
		json_object_put(*inspect);
		*inspect = NULL;
		if (e != B_OK && e != B_NOT_FOUND)
			return e;
		op_clear(o);
	}
	return B_OK;
}

/*
 * An admin's bare name that is none of their own: the one container of any
 * owner given that name (several owners' are told apart by id or Docker name).
 */
static enum berr
by_any_owner(struct op *o, const char *name, json_object **inspect)
{
	char lbl[BERTH_NAME_MAX + 16];
	const char *labels[1] = {lbl};
	json_object *list;
	enum berr e;

	snprintf(lbl, sizeof(lbl), LBL_NAME "=%s", name);
	e = ct_list(o, CT_ALL, labels, 1, &list);
	if (e != B_OK)
		return e;
	e = own_pick_one(o, list, "container", name, "id or Docker name", "Id", eng_ct_inspect,
	                 inspect);
	json_object_put(list);
	if (e == B_OK && *inspect == NULL)
		e = op_fail(o, B_NOT_FOUND, NULL, "no such container: %s", name);
	return e;
}

enum berr
ct_lookup(struct op *o, const char *ref, int mutate, json_object **inspect)
{
	enum berr e;

	*inspect = NULL;
	if (!ref_valid(ref))
		return op_fail(o, B_NOT_FOUND, NULL, "no such container");
	/* The names the caller gave first, then a Docker name or id (and containers from before
	 * namespaces). */
	e = by_name(o, ref, inspect);
	if (e != B_OK || *inspect)
		goto found;
	if (o->role != ROLE_ADMIN && is_id_prefix(ref)) {
		e = by_prefix(o, ref, inspect);
	} else {
		e = eng_ct_inspect(o, ref, inspect);
		if (e == B_NOT_FOUND && o->role == ROLE_ADMIN && name_valid(ref)) {
			op_clear(o);
			e = by_any_owner(o, ref, inspect);
		}
	}
	if (e == B_OK && !may_see(o, *inspect)) {
		json_object_put(*inspect);
		*inspect = NULL;
		return op_fail(o, B_NOT_FOUND, NULL, "no such container: %s", ref);
	}
found:
	if (e != B_OK)
		return e;
	if (mutate && !ct_managed(*inspect)) {
		json_object_put(*inspect);
		*inspect = NULL;
		return op_fail(o, B_FORBIDDEN, NULL,
		               "berth does not manage container %s; admins may only read it", ref);
	}
	ses_touch(*inspect); /* a test session that asks about its containers is alive */
	return B_OK;
}

enum berr
ct_check_unprotected(struct op *o, json_object *in, const char *action)
{
	const char *name = ct_name(in);

	if (is_protected(jx_obj(jx_obj(in, "Config"), "Labels"), name, ct_dname(in)))
		return op_fail(o, B_FORBIDDEN, NULL,
		               "container %s is protected: it cannot be %s through berth", name,
		               action);
	return B_OK;
}

json_object *
ct_spec_of(json_object *in)
{
	json_object *rec = NULL, *spec = NULL;
	const char *id = jx_str(in, "Id"), *lbl;
	char err[64];

	if (id && st_get(ST_CONTAINERS, id, &rec) == B_OK && jx_obj(rec, "spec"))
		spec = json_object_get(jx_obj(rec, "spec"));
	json_object_put(rec);
	if (spec == NULL && (lbl = ct_label(in, LBL_SPEC)) != NULL)
		spec = jx_parse(lbl, strlen(lbl), err, sizeof(err));
	return spec;
}

static enum berr
write_record(json_object *in, json_object *spec)
{
	json_object *rec = json_object_new_object();
	enum berr e;

	jx_add_str(rec, "id", jx_str(in, "Id"));
	jx_add_str(rec, "name", ct_name(in));
	jx_add_str(rec, "docker_name", ct_dname(in));
	jx_add_str(rec, "owner", ct_label(in, LBL_OWNER));
	jx_add_str(rec, "instance", ct_label(in, LBL_INSTANCE));
	jx_add_str(rec, "created", jx_str(in, "Created"));
	jx_add_ref(rec, "spec", spec);
	for (const char *const *k =
	         (const char *const[]){LBL_SERVICE, LBL_JOB, LBL_CATALOG, LBL_SEED, NULL};
	     *k; k++)
		if (ct_label(in, *k))
			jx_add_str(rec, *k + 6, ct_label(in, *k));
	e = st_put(ST_CONTAINERS, jx_str(in, "Id"), rec);
	json_object_put(rec);
	return e;
}

enum berr
ct_remove(struct op *o, const char *id, int timeout)
{
	enum berr e = B_OK;
	/* Its anonymous volumes go with it: asked now, while it still names them. */
	json_object *anon = vol_anonymous_of(o, id);

	/* Gone meanwhile is what stop wanted too: the remove below says the same. */
	if (timeout >= 0 && (e = eng_ct_stop(o, id, timeout)) == B_NOT_FOUND) {
		op_clear(o);
		e = B_OK;
	}
	if (e == B_OK)
		e = eng_ct_remove(o, id);
	if (e == B_OK)
		st_del(ST_CONTAINERS, id);
	if (e == B_OK)
		vol_drop(o, anon);
	else
		json_object_put(anon);
	return e;
}

static json_object *
labels_for(struct op *o, const struct ct_new *n)
{
	json_object *l = json_object_new_object();
	char buf[32];

	for (const char *const *k = berth_labels; *k; k++)
		jx_add_str(l, *k, "");
	jx_add_str(l, LBL_MANAGED, "1");
	jx_add_str(l, LBL_OWNER, n->owner);
	jx_add_str(l, LBL_INSTANCE, g_cfg->instance);
	if (jx_str(n->spec, "name"))
		jx_add_str(l, LBL_NAME, jx_str(n->spec, "name"));
	if (own_is_group(n->owner))
		jx_add_str(l, LBL_CREATOR, op_owner(o));
	/* What the quota sums: the limits as applied, not as asked. */
	snprintf(buf, sizeof(buf), "%lld", (long long)n->lim.memory);
	jx_add_str(l, LBL_MEMORY, buf);
	snprintf(buf, sizeof(buf), "%lld", (long long)n->lim.nano_cpus);
	jx_add_str(l, LBL_CPUS, buf);
	jx_add_str(l, LBL_SPEC, jx_text(n->spec));
	if (jx_bool(n->spec, "protected", 0))
		jx_add_str(l, LBL_PROTECT, "true");
	if (n->labels) {
		json_object_object_foreach(n->labels, k, v) jx_add_ref(l, k, v);
	}
	return l;
}

/*
 * SPEC with each published port that names no host port given the one PIN
 * holds for it (a new reference; SPEC itself when there is nothing to pin).
 * Only the body sent to dockerd is pinned: the record keeps what was asked.
 */
static json_object *
pinned(json_object *spec, json_object *pin)
{
	json_object *out = NULL, *ports;
	char key[32];

	if (pin == NULL || jx_arr(spec, "ports") == NULL)
		return json_object_get(spec);
	json_object_deep_copy(spec, &out, NULL);
	ports = jx_arr(out, "ports");
	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		json_object *it = json_object_array_get_idx(ports, i);
		pol_port_key(it, key, sizeof(key));
		if (jx_int(it, "host", 0) == 0 && jx_int(pin, key, 0) > 0)
			jx_add_int(it, "host", jx_int(pin, key, 0));
	}
	return out;
}

/* The Docker name of what N creates, into DN ("" when dockerd is to pick one). */
static void
docker_name(const struct ct_new *n, char *dn, size_t len)
{
	const char *name = jx_str(n->spec, "name");

	dn[0] = '\0';
	if (name)
		own_dname(n->owner, name, dn, len);
}

static enum berr
create_new(struct op *o, const struct ct_new *n, json_object **inspect)
{
	const char *name = jx_str(n->spec, "name");
	json_object *labels = labels_for(o, n), *bspec = pinned(n->spec, n->pin_ports);
	json_object *body = pol_docker_body(bspec, labels, &n->lim);
	char id[80], dn[OWN_DNAME_MAX];
	enum berr e;

	json_object_put(labels);
	json_object_put(bspec);
	docker_name(n, dn, sizeof(dn));
	/* An image missing here from one of berth.conf's registries is pulled first. */
	e = reg_pull_missing(o, o->role, jx_str(n->spec, "image"));
	/* Where it lives: the owner's networks and volumes (made on first use). */
	if (e == B_OK)
		e = net_place(o, n->owner, n->spec, name, body);
	if (e == B_OK)
		e = vol_place(o, n->owner, n->spec, &n->lim, body);
	if (e == B_OK && (e = eng_ct_create(o, dn[0] ? dn : NULL, body, id, sizeof(id))) != B_OK)
		vol_unplace(o, body);
	json_object_put(body);
	if (e == B_INVALID && o->why == R_NO_IMAGE)
		return op_fail_why(o, e, R_NO_IMAGE, "image",
		                   "image %s is not on this host (build it from the catalog or "
		                   "ask an admin to pull it)",
		                   jx_str(n->spec, "image"));
	if (e == B_CONFLICT && o->why == R_NAME_TAKEN)
		return op_fail_why(o, e, R_NAME_TAKEN, "name",
		                   "a container named %s exists already", name ? name : "?");
	if (e != B_OK)
		return e;
	e = eng_ct_inspect(o, id, inspect);
	if (e == B_OK)
		e = write_record(*inspect, n->spec);
	if (e == B_OK && n->start) {
		e = eng_ct_start(o, id);
		if (e == B_OK) {
			json_object_put(*inspect);
			e = eng_ct_inspect(o, id, inspect);
		}
	}
	if (e != B_OK) {
		/* Nothing half-created: the failed container and its record go. */
		struct op_err sv;
		op_save(o, &sv);
		ct_remove(o, id, -1);
		op_restore(o, &sv);
		json_object_put(*inspect);
		*inspect = NULL;
	}
	return e;
}

int
ct_holds_quota(json_object *item)
{
	const char *st = jx_str(item, "State");
	int running = st && strcmp(st, "running") == 0;

	/* A finished job's container is kept for its logs; Swarm keeps ended tasks as history. */
	if (!running && (ct_label(item, LBL_JOB) || ct_label(item, "com.docker.swarm.task.id")))
		return 0;
	return 1;
}

/* What one more container of N adds to its owner's holdings. */
static enum berr
check_quota(struct op *o, const struct ct_new *n)
{
	struct usage add = {.containers = 1,
	                    .memory = n->lim.memory,
	                    .nano_cpus = n->lim.nano_cpus,
	                    .replicas = jx_str(n->labels, LBL_SERVICE) ? 1 : 0,
	                    .jobs = jx_str(n->labels, LBL_JOB) ? 1 : 0};

	return own_admit(o, n->owner, NULL, &add);
}

/* An existing container of that name: the same owner gets it back, others a 409. */
static enum berr
reuse_existing(struct op *o, const struct ct_new *n, json_object **inspect, int *found)
{
	const char *name = jx_str(n->spec, "name");
	char dn[OWN_DNAME_MAX];
	enum berr e;

	*found = 0;
	docker_name(n, dn, sizeof(dn));
	e = eng_ct_inspect(o, dn, inspect);
	if (e == B_NOT_FOUND) {
		op_clear(o);
		return B_OK;
	}
	if (e != B_OK)
		return e;
	if (!ct_is_named(*inspect, n->owner, name)) {
		json_object_put(*inspect);
		*inspect = NULL;
		return op_fail_why(o, B_CONFLICT, R_NAME_TAKEN, "name", "the name %s is taken",
		                   name);
	}
	*found = 1;
	if (n->start && !jx_bool(jx_obj(*inspect, "State"), "Running", 0)) {
		e = eng_ct_start(o, jx_str(*inspect, "Id"));
		if (e == B_OK) {
			json_object_put(*inspect);
			e = eng_ct_inspect(o, dn, inspect);
		}
	}
	return e;
}

/* How often a create that lost its name to a create outside berth looks again. */
#define CREATE_ATTEMPTS 3

enum berr
ct_create(struct op *o, const struct ct_new *n, json_object **inspect, int *created)
{
	const char *name = jx_str(n->spec, "name");
	char dn[OWN_DNAME_MAX];
	int ofd, nfd = -1, found = 0;
	enum berr e;

	*inspect = NULL;
	*created = 0;
	docker_name(n, dn, sizeof(dn));
	/* One owner's creates run one at a time: the quota count holds; the name lock too. */
	ofd = own_lock(n->owner);
	if (ofd >= 0 && name)
		nfd = lock_name(dn);
	if (ofd < 0 || (name && nfd < 0)) {
		e = op_fail(o, B_INTERNAL, NULL, "cannot lock the state directory");
		goto out;
	}
	/*
	 * Every berth create of NAME holds its lock, but one dockerd makes for
	 * someone else (docker run, a container being removed) can still come
	 * between the look and the create: look again rather than answer with
	 * nothing.
	 */
	for (int attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
		if (n->reuse && name) {
			e = reuse_existing(o, n, inspect, &found);
			if (e != B_OK || found)
				goto out;
		}
		e = check_quota(o, n);
		if (e == B_OK)
			e = create_new(o, n, inspect);
		if (e == B_OK)
			*created = 1;
		if (e != B_CONFLICT || !n->reuse || !name || o->why != R_NAME_TAKEN)
			goto out;
		op_clear(o);
	}
	e = op_fail_why(o, B_CONFLICT, R_NAME_TAKEN, "name", "the name %s is taken", name);
out:
	if (e == B_OK && *inspect)
		ses_touch(*inspect);
	st_unlock(nfd);
	st_unlock(ofd);
	return e;
}

/* ---- HTTP handlers ---------------------------------------------------- */

enum berr
ct_list_visible(struct op *o, int flags, const char *owner, json_object **out)
{
	const char *ns[OWN_NS_MAX];
	size_t k;
	char lbl[OWN_MAX + 16];
	const char *labels[1] = {lbl};
	enum berr e = B_OK;

	*out = NULL;
	if (owner && !own_visible(o, owner))
		return op_fail(o, B_FORBIDDEN, "owner",
		               "only admins may list other owners (and members their groups)");
	if (owner == NULL && (o->role == ROLE_ADMIN || o->system))
		return ct_list(o, flags, NULL, 0, out);
	k = owner ? 1 : own_namespaces(o, ns, OWN_NS_MAX);
	if (owner)
		ns[0] = owner;
	*out = json_object_new_array();
	/* Docker's label filters all have to match: one list per owner. */
	for (size_t i = 0; i < k && e == B_OK; i++) {
		json_object *list;
		snprintf(lbl, sizeof(lbl), LBL_OWNER "=%s", ns[i]);
		e = ct_list(o, flags, labels, 1, &list);
		for (size_t j = 0; e == B_OK && j < json_object_array_length(list); j++)
			json_object_array_add(*out,
			                      json_object_get(json_object_array_get_idx(list, j)));
		json_object_put(list);
	}
	if (e != B_OK) {
		json_object_put(*out);
		*out = NULL;
	}
	return e;
}

static enum berr
h_list(struct req *r)
{
	json_object *list, *out;
	enum berr e =
	    ct_list_visible(&r->op, rq_bool(r, "all") ? CT_ALL : 0, rq_str(r, "owner"), &list);

	if (e != B_OK)
		return e;
	out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i), *v;
		/* A job's container is the job's: /api/v1/jobs shows it. */
		if (ct_label(it, LBL_JOB))
			continue;
		v = ct_view_item(it);
		add_can(&r->op, it, v);
		json_object_array_add(out, v);
	}
	json_object_put(list);
	list = json_object_new_object();
	json_object_object_add(list, "containers", out);
	rq_json(r, 200, list);
	return B_OK;
}

/* Answers a create or reuse: the view plus just_created. */
static void
answer_created(struct req *r, json_object *in, int created)
{
	json_object *v = view_for(&r->op, in, 0);

	jx_add_bool(v, "outdated", 0); /* it was just made from what the tag names */
	jx_add_bool(v, "just_created", created);
	rq_json(r, created ? 201 : 200, v);
}

enum berr
ct_create_from(struct op *o, json_object *spec, const char *asked, int start, int reuse,
               json_object **in, int *created)
{
	json_object *labels = NULL;
	struct ct_new n = {.spec = spec, .start = start, .reuse = reuse};
	const char *catalog;
	char owner[OWN_MAX];
	enum berr e;

	*in = NULL;
	*created = 0;
	e = own_for_create(o, asked, "owner", owner, sizeof(owner));
	if (e != B_OK)
		return e;
	n.owner = owner;
	/* A protected name is one nobody could stop again: only admins give it. */
	if (o->role != ROLE_ADMIN && cfg_is_protected(g_cfg, jx_str(spec, "name")))
		return op_fail(o, B_FORBIDDEN, "name",
		               "the name %s is on berth.conf's protected list; only admins may use "
		               "it",
		               jx_str(spec, "name"));
	/* A catalog tag brings the entry's defaults, which the policy then checks too. */
	catalog = cat_apply_defaults(spec);
	/* The owner's own builds (the Docker door's namespaced tags) pass like catalog images. */
	e = pol_check(o, own_policy_role(owner, o->role), spec,
	              catalog != NULL || own_image_is(owner, jx_str(spec, "image")), &n.lim);
	if (e != B_OK)
		return e;
	if (catalog) {
		char id[96];
		e = cat_ensure(o, catalog, id, sizeof(id));
		if (e != B_OK)
			return e;
		labels = json_object_new_object();
		jx_add_str(labels, LBL_CATALOG, catalog);
		n.labels = labels;
	}
	snprintf(o->audit_target, sizeof(o->audit_target), "%s",
	         jx_str(spec, "name") ? jx_str(spec, "name") : jx_str(spec, "image"));
	e = ct_create(o, &n, in, created);
	if (e == B_OK)
		au_str(o, "outcome", *created ? "created" : "reused");
	json_object_put(labels);
	return e;
}

static enum berr
h_create(struct req *r)
{
	json_object *spec = json_object_get(r->json), *in = NULL;
	int start = jx_bool(spec, "start", 1), created;
	char asked[OWN_MAX];
	enum berr e;

	/* The spec keeps only container fields; owner and start steer this request. */
	snprintf(asked, sizeof(asked), "%s", jx_str(spec, "owner") ? jx_str(spec, "owner") : "");
	json_object_object_del(spec, "owner");
	json_object_object_del(spec, "start");
	e = ct_create_from(&r->op, spec, asked[0] ? asked : NULL, start, 1, &in, &created);
	if (e == B_OK)
		answer_created(r, in, created);
	json_object_put(in);
	json_object_put(spec);
	return e;
}

/*
 * The details view, with outdated: does its tag name another image now (or
 * none)?  One inspect of that one image, whatever else the host holds.
 */
static enum berr
answer_details(struct req *r, json_object *in, int status)
{
	json_object *v = view_for(&r->op, in, 1), *img = NULL;
	const char *tag = jx_str(jx_obj(in, "Config"), "Image"), *runs = jx_str(in, "Image");
	enum berr e = tag ? eng_img_inspect(&r->op, tag, &img) : B_OK;

	if (e == B_NOT_FOUND) {
		op_clear(&r->op);
		e = B_OK;
	}
	if (e != B_OK) {
		json_object_put(v);
		return e;
	}
	jx_add_bool(v, "outdated",
	            tag && runs &&
	                (img == NULL || !jx_str(img, "Id") || strcmp(jx_str(img, "Id"), runs)));
	json_object_put(img);
	rq_json(r, status, v);
	return B_OK;
}

static enum berr
h_get(struct req *r)
{
	json_object *in;
	enum berr e = ct_lookup(&r->op, r->args[0], 0, &in);

	if (e != B_OK)
		return e;
	e = answer_details(r, in, 200);
	json_object_put(in);
	return e;
}

enum berr
ct_check_plain(struct op *o, json_object *in)
{
	const char *job = ct_label(in, LBL_JOB);

	/* A job's timeout, status and cleanup hold only while its container is the job's alone. */
	if (job)
		return op_fail(o, B_CONFLICT, NULL,
		               "container %s belongs to job %s: manage it through /api/v1/jobs/%s",
		               ct_name(in), job, job);
	return B_OK;
}

enum berr
ct_open(struct op *o, const char *ref, int guarded, const char *action, json_object **in)
{
	enum berr e = ct_lookup(o, ref, 1, in);

	if (e != B_OK)
		return e;
	snprintf(o->audit_target, sizeof(o->audit_target), "%s", ct_name(*in));
	e = ct_check_plain(o, *in);
	if (e == B_OK && guarded)
		e = ct_check_unprotected(o, *in, action);
	if (e != B_OK) {
		json_object_put(*in);
		*in = NULL;
	}
	return e;
}

static enum berr
open_for_change(struct req *r, int guarded, const char *action, json_object **in)
{
	return ct_open(&r->op, r->args[0], guarded, action, in);
}

/*
 * Re-validates SPEC against the caller's policy as it is now (it may have
 * been tightened since the container was made) and recreates IN from it.
 */
static enum berr
recreate_checked(struct op *o, json_object *in, json_object *spec, json_object **out)
{
	struct pol_limits lim;
	enum role role = own_policy_role(ct_label(in, LBL_OWNER), o->role);
	enum berr e = pol_check(o, role, spec, ct_label(in, LBL_CATALOG) != NULL, &lim);

	if (e == B_OK)
		e = ct_recreate(o, in, spec, &lim, out);
	return e;
}

/*
 * Recreates a container on the image its tag names now (catalog entries
 * rebuilt first, images from berth.conf's registries pulled first when the
 * registry names a newer digest).
 */
enum berr
ct_update(struct req *r)
{
	json_object *in = NULL, *spec = NULL, *out = NULL;
	const char *catalog, *image;
	char cur[96], h[8];
	enum berr e = open_for_change(r, 1, "recreated", &in);

	if (e != B_OK)
		return e;
	catalog = ct_label(in, LBL_CATALOG);
	image = jx_str(jx_obj(in, "Config"), "Image");
	if (catalog && cat_entry(catalog) &&
	    (e = cat_ensure(&r->op, catalog, cur, sizeof(cur))) != B_OK)
		goto out;
	if (!catalog && (e = reg_refresh(&r->op, image)) != B_OK)
		goto out;
	if (!catalog && cat_image_of(image, cur, sizeof(cur), h, sizeof(h)) != 0) {
		e = op_fail(&r->op, B_CONFLICT, NULL, "image %s is no longer on this host", image);
		goto out;
	}
	if (jx_str(in, "Image") && strcmp(cur, jx_str(in, "Image")) == 0) {
		e = answer_details(r, in, 200);
		goto out;
	}
	spec = ct_spec_of(in);
	if (spec == NULL) {
		e = op_fail(&r->op, B_CONFLICT, NULL,
		            "berth has no spec recorded for this container");
		goto out;
	}
	e = recreate_checked(&r->op, in, spec, &out);
	if (e == B_OK)
		e = answer_details(r, out, 200);
out:
	json_object_put(in);
	json_object_put(spec);
	json_object_put(out);
	return e;
}

static enum berr
act(struct op *o, const char *id, const struct ct_action *a)
{
	switch (a->verb) {
	case ACT_START:
		return eng_ct_start(o, id);
	case ACT_STOP:
		return eng_ct_stop(o, id, a->timeout);
	case ACT_RESTART:
		return eng_ct_restart(o, id, a->timeout);
	case ACT_KILL:
		return eng_ct_kill(o, id, a->signal);
	case ACT_PAUSE:
		return eng_ct_pause(o, id, 1);
	case ACT_UNPAUSE:
		return eng_ct_pause(o, id, 0);
	}
	return op_fail(o, B_INTERNAL, NULL, "unknown lifecycle call");
}

enum berr
ct_act(struct op *o, const char *ref, const struct ct_action *a, char *id, size_t n)
{
	json_object *in;
	enum berr e = ct_open(o, ref, a->guarded, a->refused, &in);

	if (e != B_OK)
		return e;
	/* A copy: the caller inspects afresh. */
	snprintf(id, n, "%s", jx_str(in, "Id") ? jx_str(in, "Id") : "");
	json_object_put(in);
	return act(o, id, a);
}

/*
 * Runs one lifecycle call and answers with the container's state afterwards;
 * already in that state is success (the engine's rows say so).
 */
static enum berr
lifecycle(struct req *r, const struct ct_action *a)
{
	json_object *in = NULL;
	char id[80];
	enum berr e = ct_act(&r->op, r->args[0], a, id, sizeof(id));

	if (e == B_OK)
		e = eng_ct_inspect(&r->op, id, &in);
	if (e == B_OK)
		rq_json(r, 200, view_for(&r->op, in, 0));
	json_object_put(in);
	return e;
}

static enum berr
h_start(struct req *r)
{
	const struct ct_action a = {.verb = ACT_START, .refused = "started"};

	return lifecycle(r, &a);
}

static enum berr
h_stop(struct req *r)
{
	const struct ct_action a = {.verb = ACT_STOP,
	                            .timeout = (int)rq_int(r, "timeout"),
	                            .guarded = 1,
	                            .refused = "stopped"};

	return lifecycle(r, &a);
}

static enum berr
h_restart(struct req *r)
{
	const struct ct_action a = {.verb = ACT_RESTART,
	                            .timeout = (int)rq_int(r, "timeout"),
	                            .guarded = 1,
	                            .refused = "restarted"};

	return lifecycle(r, &a);
}

int
ct_signal_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 12)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

static enum berr
h_kill(struct req *r)
{
	const char *sig = rq_str(r, "signal");
	const struct ct_action a = {
	    .verb = ACT_KILL, .signal = sig ? sig : "SIGKILL", .guarded = 1, .refused = "killed"};

	return lifecycle(r, &a);
}

enum berr
ct_delete(struct op *o, const char *ref, int force)
{
	json_object *in;
	enum berr e;

	/*
	 * Protection keeps a container from being stopped by mistake; an admin's
	 * forced remove is never a mistake, so nothing is beyond every admin's reach.
	 */
	e = ct_open(o, ref, !(force && o->role == ROLE_ADMIN), "removed", &in);
	if (e != B_OK)
		return e;
	if (jx_bool(jx_obj(in, "State"), "Running", 0) && !force)
		e = op_fail(o, B_CONFLICT, NULL,
		            "container %s is running; stop it first or use ?force=1", ct_name(in));
	else
		e = ct_remove(o, jx_str(in, "Id"), force ? 10 : -1);
	json_object_put(in);
	return e;
}

static enum berr
h_delete(struct req *r)
{
	enum berr e = ct_delete(&r->op, r->args[0], rq_bool(r, "force"));

	if (e == B_OK)
		rq_empty(r, 204);
	return e;
}

/* The spec changed by PATCH: only command, env, ports and restart may differ. */
static json_object *
patched_spec(json_object *spec, json_object *patch)
{
	json_object *out = NULL;

	json_object_deep_copy(spec, &out, NULL);
	json_object_object_foreach(patch, k, v) jx_add_ref(out, k, v);
	return out;
}

struct recreate {
	json_object *old; /* inspect of the container being replaced */
	const char *old_id;
	char name[OWN_DNAME_MAX];         /* its Docker name, restored on failure */
	char tmpname[OWN_DNAME_MAX + 16]; /* where it waits meanwhile */
	int was_running;
};

/* Puts the old container back as it was after a failed recreate; R keeps its error. */
static void
roll_back(struct op *o, struct recreate *rc)
{
	struct op_err sv;

	op_save(o, &sv);
	if (eng_ct_rename(o, rc->old_id, rc->name) == B_OK && rc->was_running)
		eng_ct_start(o, rc->old_id);
	else if (o->err != B_OK)
		log_error("recreate_rollback id=%s name=%s error=\"%s\"", rc->old_id, rc->name,
		          o->msg);
	op_restore(o, &sv);
}

/* The host ports OLD publishes now ({"8080/tcp": 32768}), so a recreate keeps them. */
static json_object *
host_ports(json_object *old)
{
	json_object *all = ct_ports(old), *out = json_object_new_object();

	json_object_object_foreach(all, k, v)
	{
		if (v && json_object_get_int64(v) > 0)
			jx_add_ref(out, k, v);
	}
	json_object_put(all);
	return out;
}

/* Creates the replacement; ports the old one published are kept, or a free one if taken. */
static enum berr
create_replacement(struct op *o, struct ct_new *n, json_object **inspect)
{
	enum berr e = create_new(o, n, inspect);

	if (e == B_CONFLICT && n->pin_ports && json_object_object_length(n->pin_ports) > 0) {
		log_info("recreate_ports_moved name=%s", jx_str(n->spec, "name"));
		op_clear(o);
		n->pin_ports = NULL;
		e = create_new(o, n, inspect);
	}
	return e;
}

/*
 * Replaces a container with one made from SPEC, keeping name, owner, extra
 * labels and published host ports: the old one is renamed aside and
 * stopped, the new one created (and started if the old one ran), and only
 * then is the old one removed; any failure puts the old one back.  The name
 * stays locked throughout, so no create (by anyone, through berth) takes it
 * while it is free in dockerd.
 */
enum berr
ct_recreate(struct op *o, json_object *old, json_object *spec, const struct pol_limits *lim,
            json_object **inspect)
{
	struct recreate rc = {.old = old, .old_id = jx_str(old, "Id")};
	json_object *extra = json_object_new_object(), *pin = host_ports(old);
	struct ct_new n = {.spec = spec,
	                   .lim = *lim,
	                   .owner = ct_label(old, LBL_OWNER),
	                   .labels = extra,
	                   .pin_ports = pin};
	char dn[OWN_DNAME_MAX];
	enum berr e;
	int ofd = -1, nfd = -1;

	*inspect = NULL;
	snprintf(rc.name, sizeof(rc.name), "%s", ct_dname(old));
	snprintf(rc.tmpname, sizeof(rc.tmpname), "%s-old-%lx", rc.name, (long)time(NULL) & 0xffff);
	rc.was_running = jx_bool(jx_obj(old, "State"), "Running", 0);
	n.start = rc.was_running;
	for (const char *const *k =
	         (const char *const[]){LBL_SERVICE, LBL_SERVICE_REV, LBL_SERVICE_SEQ, LBL_JOB,
	                               LBL_CATALOG, LBL_SEED, NULL};
	     *k; k++)
		if (ct_label(old, *k))
			jx_add_str(extra, *k, ct_label(old, *k));
	/* The name it was given: one made before namespaces moves into its owner's now. */
	json_object_object_add(spec, "name", json_object_new_string(ct_name(old)));
	if (n.owner == NULL) {
		e = op_fail(o, B_CONFLICT, NULL, "container %s has no owner label", ct_name(old));
		goto out;
	}
	docker_name(&n, dn, sizeof(dn));
	ofd = own_lock(n.owner);
	if (ofd >= 0)
		nfd = lock_name(dn);
	if (ofd < 0 || nfd < 0) {
		e = op_fail(o, B_INTERNAL, NULL, "cannot lock the state directory");
		goto out;
	}
	e = eng_ct_rename(o, rc.old_id, rc.tmpname);
	if (e != B_OK)
		goto out;
	if (rc.was_running) {
		e = eng_ct_stop(o, rc.old_id, 10);
		if (e != B_OK) {
			roll_back(o, &rc);
			goto out;
		}
	}
	e = create_replacement(o, &n, inspect);
	if (e != B_OK) {
		roll_back(o, &rc);
		goto out;
	}
	/* The new one is up; an old one that will not go is reported, never hidden. */
	if (ct_remove(o, rc.old_id, -1) != B_OK) {
		log_error("recreate_leftover id=%s name=%s error=\"%s\"", rc.old_id, rc.tmpname,
		          o->msg);
		op_clear(o);
	}
out:
	st_unlock(nfd);
	st_unlock(ofd);
	json_object_put(extra);
	json_object_put(pin);
	return e;
}

static enum berr
h_patch(struct req *r)
{
	json_object *in = NULL, *spec = NULL, *merged = NULL, *out = NULL;
	enum berr e = open_for_change(r, 1, "recreated", &in);

	if (e != B_OK)
		return e;
	spec = ct_spec_of(in);
	if (spec == NULL) {
		e = op_fail(&r->op, B_CONFLICT, NULL,
		            "berth has no spec recorded for this container");
		goto out;
	}
	merged = patched_spec(spec, r->json);
	e = recreate_checked(&r->op, in, merged, &out);
	if (e == B_OK)
		rq_json(r, 200, view_for(&r->op, out, 1));
out:
	json_object_put(in);
	json_object_put(spec);
	json_object_put(merged);
	json_object_put(out);
	return e;
}

/* ---- maintenance ------------------------------------------------------ */

int
ct_cleanup_instance(void)
{
	struct op o;
	json_object *list;
	int failed = 0;

	op_system(&o);
	if (ct_list(&o, CT_ALL, NULL, 0, &list) != B_OK) {
		fprintf(stderr, "berth-fcgi: cannot list containers of instance %s: %s\n",
		        g_cfg->instance, o.msg);
		op_done(&o);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		const char *id = jx_str(json_object_array_get_idx(list, i), "Id");
		if (id && ct_remove(&o, id, -1) != B_OK)
			failed = 1;
	}
	json_object_put(list);
	op_done(&o);
	return failed ? -1 : 0;
}

int
ct_reconcile(int verbose)
{
	struct op o;
	json_object *keep = json_object_new_object(); /* what dockerd has */
	int dropped = 0;
	json_object *list, *rec;
	int restored = 0;
	size_t n;

	op_system(&o);
	/* The directory itself may be what was lost. */
	if (st_init(g_cfg->state_dir) != 0)
		log_error("reconcile_failed error=\"cannot recreate %s\"", g_cfg->state_dir);
	if (ct_list(&o, CT_ALL, NULL, 0, &list) != B_OK) {
		log_error("reconcile_failed error=\"%s\"", o.msg);
		json_object_put(keep);
		op_done(&o);
		return -1;
	}
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(list, i), *in;
		const char *id = jx_str(it, "Id");
		if (id == NULL || !name_valid(id))
			continue;
		jx_add_ref(keep, id, it);
		if (st_get(ST_CONTAINERS, id, &rec) == B_OK) {
			json_object_put(rec);
			continue;
		}
		if (eng_ct_inspect(&o, id, &in) == B_OK) {
			json_object *spec = ct_spec_of(in);
			if (write_record(in, spec) == B_OK)
				restored++;
			json_object_put(spec);
			json_object_put(in);
		}
	}
	dropped = st_drop_except(ST_CONTAINERS, keep);
	if (verbose)
		printf("reconcile: %zu containers, %d records restored, %d stale records dropped\n",
		       n, restored, dropped);
	if (restored || dropped)
		log_info("reconcile containers=%zu restored=%d dropped=%d", n, restored, dropped);
	json_object_put(list);
	json_object_put(keep);
	op_done(&o);
	return 0;
}

static const struct rt_param stop_query[] = {{.name = "timeout",
                                              .type = P_INT,
                                              .desc = "Seconds to wait before killing it.",
                                              .min = 0,
                                              .max = 3600,
                                              .dflt = 10},
                                             {0}};
static const struct rt_param list_query[] = {
    {.name = "all", .type = P_BOOL, .desc = "Stopped containers too."}, RT_P_OWNER, {0}};
static const struct rt_param delete_query[] = {
    {.name = "force", .type = P_BOOL, .desc = "Stop a running one first."}, {0}};
static const struct rt_param kill_query[] = {{.name = "signal",
                                              .type = P_STR,
                                              .desc = "The signal (default SIGKILL).",
                                              .valid = ct_signal_valid,
                                              .rule = "a name like SIGTERM or KILL, or a number"},
                                             {0}};

static const struct rt_route ct_routes[] = {
    {"GET", "/api/v1/containers", h_list, ROLE_VIEWER, 0, NULL,
     "The caller's containers (?all=1 adds stopped ones; admins: every managed one, ?owner=), "
     "each with what the caller may do to it (can).",
     list_query},
    {"POST", "/api/v1/containers", h_create, ROLE_OPERATOR, RT_BODY | RT_MUT, &pol_container_schema,
     "Create (and start) a container; idempotent by name.", NULL},
    {"GET", "/api/v1/containers/{ref}", h_get, ROLE_VIEWER, 0, NULL,
     "Details: state, ports, mounts, devices, privileges, restart policy, owner, protected, "
     "what the caller may do to it (can).",
     NULL},
    {"PATCH", "/api/v1/containers/{ref}", h_patch, ROLE_OPERATOR, RT_BODY | RT_MUT,
     &pol_patch_schema, "Change command/env/ports/restart: recreated with the same name and owner.",
     NULL},
    {"DELETE", "/api/v1/containers/{ref}", h_delete, ROLE_OPERATOR, RT_MUT, NULL,
     "Remove (?force=1 stops a running one first).", delete_query},
    {"POST", "/api/v1/containers/{ref}/start", h_start, ROLE_OPERATOR, RT_MUT, NULL,
     "Start; already running is success.", NULL},
    {"POST", "/api/v1/containers/{ref}/stop", h_stop, ROLE_OPERATOR, RT_MUT, NULL,
     "Stop (?timeout=seconds, default 10); already stopped is success.", stop_query},
    {"POST", "/api/v1/containers/{ref}/restart", h_restart, ROLE_OPERATOR, RT_MUT, NULL,
     "Restart (?timeout=seconds).", stop_query},
    {"POST", "/api/v1/containers/{ref}/kill", h_kill, ROLE_OPERATOR, RT_MUT, NULL,
     "Send a signal (?signal=SIGTERM; default SIGKILL); not running is success.", kill_query},
    {"POST", "/api/v1/containers/{ref}/update", ct_update, ROLE_OPERATOR, RT_MUT, NULL,
     "Recreate on the image its tag names now (same name, owner, spec).", NULL},
    {"GET", "/api/v1/containers/{ref}/logs", ct_h_logs, ROLE_VIEWER, RT_STREAM, NULL,
     "Logs as text (?tail=N&since=epoch&timestamps=1&stdout=1&stderr=1&follow=1).", ct_logs_query},
    {"GET", "/api/v1/containers/{ref}/stats", ct_h_stats, ROLE_VIEWER, 0, NULL,
     "One sample: CPU %, memory used/limit, network and block I/O totals.", NULL},
    {"POST", "/api/v1/containers/{ref}/exec", ct_h_exec, ROLE_OPERATOR, RT_BODY | RT_MUT,
     &ct_exec_schema, "Run a command non-interactively; exit code, stdout and stderr.", NULL},
    {"GET", "/api/v1/containers/{ref}/console", ct_h_console, ROLE_OPERATOR, RT_MUT | RT_STREAM,
     NULL,
     "An interactive terminal: open as a WebSocket (or Upgrade: tcp); binary frames are the "
     "terminal's bytes both ways, text frames JSON control (resize, exit); see docs/console.md.",
     ct_console_query},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

/* A container reference: a name, a full id or a unique id prefix. */
static const struct rt_param ct_args[] = {{.name = "ref",
                                           .type = P_STR,
                                           .desc = "container",
                                           .valid = ref_valid,
                                           .rule = "a container name, id or unique id prefix"},
                                          {0}};

static const struct sc_schema *const ct_schemas[] = {&pol_container_schema, &pol_patch_schema,
                                                     &ct_exec_schema, NULL};
static const char *const ct_kinds[] = {ST_CONTAINERS, NULL};

/* The supervisor's periodic reconcile says nothing unless it changed something. */
static int
reconcile_quiet(void)
{
	return ct_reconcile(0);
}

const struct bmod mod_containers = {
    .name = "containers",
    .routes = ct_routes,
    .args = ct_args,
    .schemas = ct_schemas,
    .state_kinds = ct_kinds,
    .periodic = reconcile_quiet,
    .cleanup = ct_cleanup_instance,
    .reconcile = ct_reconcile,
};

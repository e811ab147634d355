/*
 * dkvolumes.c - the Docker door's volumes routes (docs/docker-api.md).
 * Every volume is one of berth's owned volumes (res/volumes.c: ownership,
 * quota, the namespaced Docker name, the record): the door only speaks
 * Docker's shapes.  A volume shows its berth name, never its Docker name,
 * and only the caller's own labels; its Mountpoint (a host path naming the
 * Docker name) is left empty.  Lists filter the caller's own volumes here,
 * so no filter can reach another tenant's.
 */
#include "berth.h"
#include "doors/docker.h"
#include "lib/json.h"
#include "res/containers.h"
#include "res/owner.h"
#include "res/policy.h"
#include "res/volumes.h"
#include "store/audit.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* Docker's view of volume V. New reference. */
static json_object *
dk_volume(json_object *v)
{
	json_object *out = json_object_new_object();

	jx_add_str(out, "CreatedAt", jx_str(v, "CreatedAt"));
	jx_add_str(out, "Driver", jx_str(v, "Driver"));
	json_object_object_add(out, "Labels", ct_user_labels(jx_obj(v, "Labels")));
	jx_add_str(out, "Mountpoint", "");
	jx_add_str(out, "Name", own_shown(ct_label(v, LBL_NAME), jx_str(v, "Name")));
	json_object_object_add(out, "Options", NULL);
	jx_add_str(out, "Scope", "local");
	return out;
}

/* dangling=true|1: unused volumes only; false|0: used ones; -1 when F does not ask. */
static int
want_dangling(json_object *f)
{
	json_object *d = dd_filter(f, "dangling");
	const char *v = d ? json_object_get_string(json_object_array_get_idx(d, 0)) : NULL;

	if (v == NULL)
		return -1;
	return strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

/* 1 when volume V (Docker's object) passes filters F; USERS is vol_users' map. */
static int
passes(json_object *f, json_object *v, json_object *users)
{
	json_object *names = dd_filter(f, "name"), *labels = ct_user_labels(jx_obj(v, "Labels"));
	const char *shown = own_shown(ct_label(v, LBL_NAME), jx_str(v, "Name"));
	int dangling = want_dangling(f), ok = dd_filter_labels(f, labels);
	int used = jx_int(jx_obj(users, jx_str(v, "Name")), "count", 0) > 0;

	json_object_put(labels);
	/* dockerd matches names as patterns; a part of the name is what clients rely on. */
	if (ok && names) {
		int any = 0;
		for (size_t i = 0; i < json_object_array_length(names); i++)
			any |= strstr(shown, json_object_get_string(
			                         json_object_array_get_idx(names, i))) != NULL;
		ok = any;
	}
	if (ok && dangling >= 0)
		ok = dangling ? !used : used;
	return ok && dd_filter_is(f, "driver", jx_str(v, "Driver"));
}

static enum berr
h_list(struct req *r)
{
	static const char *const keys[] = {"name", "label", "dangling", "driver", NULL};
	json_object *f = NULL, *list = NULL, *users = NULL, *out, *vols;
	enum berr e = dd_filters_parse(&r->op, rq_str(r, "filters"), keys, &f);

	if (e == B_OK)
		e = vol_visible(&r->op, NULL, &list);
	if (e == B_OK && dd_filter(f, "dangling"))
		e = vol_users(&r->op, NULL, &users);
	if (e != B_OK)
		goto out;
	vols = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *v = json_object_array_get_idx(list, i);
		if (passes(f, v, users))
			json_object_array_add(vols, dk_volume(v));
	}
	out = json_object_new_object();
	json_object_object_add(out, "Volumes", vols);
	json_object_object_add(out, "Warnings", json_object_new_array());
	dd_answer(r, 200, out);
out:
	json_object_put(users);
	json_object_put(list);
	json_object_put(f);
	return e;
}

/* A name for a volume created without one, as dockerd makes them: 64 hex digits. */
static enum berr
random_name(struct op *o, char *out, size_t n)
{
	unsigned char raw[32];

	if (n < 65 || getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return op_fail(o, B_INTERNAL, NULL, "cannot make a volume name");
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return B_OK;
}

/* Labels: an object of strings, none of them berth's. */
static enum berr
check_labels(struct op *o, json_object *l)
{
	if (l == NULL)
		return B_OK;
	if (!json_object_is_type(l, json_type_object) || json_object_object_length(l) > 64)
		return op_fail(o, B_BAD_REQUEST, "Labels",
		               "Labels must be an object of at most 64 strings");
	json_object_object_foreach(l, k, v)
	{
		if (!json_object_is_type(v, json_type_string) || strlen(k) > 255 ||
		    json_object_get_string_len(v) > 1024)
			return op_fail(o, B_BAD_REQUEST, "Labels",
			               "Labels: %.40s must be a string of at most 1024 bytes", k);
	}
	return pol_check_labels(o, l);
}

/*
 * The create body, field by field: Name (optional), Driver local, no
 * DriverOpts (type=none,o=bind,device=/etc is a bind mount of any host
 * path, type=nfs a mount from the host's network), Labels.  Anything else
 * (ClusterVolumeSpec) is refused by name.
 */
static enum berr
check_create(struct op *o, json_object *b, char *name, size_t n)
{
	const char *drv = jx_str(b, "Driver"), *nm = jx_str(b, "Name");
	json_object *opts = jx_get(b, "DriverOpts");

	if (b == NULL)
		return random_name(o, name, n);
	if (!json_object_is_type(b, json_type_object))
		return op_fail(o, B_BAD_REQUEST, NULL, "the body must be a JSON object");
	json_object_object_foreach(b, k, v)
	{
		(void)v;
		if (strcmp(k, "Name") && strcmp(k, "Driver") && strcmp(k, "DriverOpts") &&
		    strcmp(k, "Labels"))
			return op_fail(o, B_BAD_REQUEST, k, "%.40s is not a field berth takes", k);
	}
	if (jx_get(b, "Name") && !json_object_is_type(jx_get(b, "Name"), json_type_string))
		return op_fail(o, B_BAD_REQUEST, "Name", "Name must be a string");
	if (nm && *nm && !vol_name_valid(nm))
		return op_fail(o, B_BAD_REQUEST, "Name", "a volume name is " VOL_NAME_RULE);
	if (drv && *drv && strcmp(drv, "local") != 0)
		return op_fail(
		    o, B_FORBIDDEN, "Driver",
		    "volume driver %.40s is refused: only the local driver, since another "
		    "keeps the data where berth's ownership does not reach",
		    drv);
	if (opts && !json_object_is_type(opts, json_type_null) &&
	    (!json_object_is_type(opts, json_type_object) || json_object_object_length(opts) > 0))
		return op_fail(
		    o, B_FORBIDDEN, "DriverOpts",
		    "volume driver options are refused: type=none,o=bind,device=PATH is a "
		    "bind mount of a host path, type=nfs or cifs mounts from the host's "
		    "network");
	if (nm && *nm) {
		snprintf(name, n, "%s", nm);
		return check_labels(o, jx_get(b, "Labels"));
	}
	if (random_name(o, name, n) != B_OK)
		return o->err;
	return check_labels(o, jx_get(b, "Labels"));
}

static enum berr
h_create(struct req *r)
{
	json_object *v = NULL;
	char name[72];
	int created;
	enum berr e = check_create(&r->op, r->json, name, sizeof(name));

	if (e != B_OK)
		return e;
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "volume %s", name);
	e = vol_create(&r->op, op_owner(&r->op), name, jx_obj(r->json, "Labels"), &v, &created);
	if (e == B_OK) {
		au_str(&r->op, "outcome", created ? "created" : "reused");
		dd_answer(r, 201, dk_volume(v));
	}
	json_object_put(v);
	return e;
}

static enum berr
h_get(struct req *r)
{
	json_object *v = NULL;
	enum berr e = vol_lookup(&r->op, r->args[0], &v);

	if (e == B_OK)
		dd_answer(r, 200, dk_volume(v));
	json_object_put(v);
	return e;
}

/*
 * Docker's force only forgives a volume that is gone; it never removes the
 * containers using one (berth's own ?force=1 does), so in use stays a 409.
 */
static enum berr
h_delete(struct req *r)
{
	json_object *v = NULL;
	enum berr e = vol_lookup(&r->op, r->args[0], &v);

	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "volume %s", r->args[0]);
	if (e == B_NOT_FOUND && rq_bool(r, "force")) {
		op_clear(&r->op);
		rq_empty(r, 204);
		return B_OK;
	}
	if (e == B_OK)
		e = vol_remove(&r->op, v, 0);
	if (e == B_OK)
		rq_empty(r, 204);
	json_object_put(v);
	return e;
}

static enum berr
h_prune(struct req *r)
{
	static const char *const keys[] = {"label", NULL};
	json_object *f = NULL, *removed, *out;
	int64_t reclaimed = 0;
	enum berr e = dd_filters_parse(&r->op, rq_str(r, "filters"), keys, &f);

	if (e == B_OK && json_object_object_length(f) > 0)
		e = op_fail(&r->op, B_BAD_REQUEST, "filters",
		            "berth prunes all of your unused volumes: filters are not taken here");
	json_object_put(f);
	if (e != B_OK)
		return e;
	removed = json_object_new_array();
	e = vol_prune(&r->op, removed, &reclaimed);
	if (e != B_OK) {
		json_object_put(removed);
		return e;
	}
	au_add(&r->op, "removed", json_object_get(removed));
	out = json_object_new_object();
	json_object_object_add(out, "VolumesDeleted", removed);
	jx_add_int(out, "SpaceReclaimed", reclaimed);
	dd_answer(r, 200, out);
	return B_OK;
}

static const struct rt_param q_filters[] = {
    {.name = "filters",
     .type = P_STR,
     .desc = "Docker's filters (JSON): name, label, dangling, driver.",
     .max = 8192},
    {0}};
static const struct rt_param q_delete[] = {
    {.name = "force", .type = P_BOOL, .desc = "A volume that is gone is no error."}, {0}};

static const struct rt_route routes[] = {
    {"GET", "/volumes", h_list, ROLE_VIEWER, 0, NULL,
     "The caller's volumes (and their groups'), filtered by name, label, dangling, driver.",
     q_filters},
    {"POST", "/volumes/create", h_create, ROLE_OPERATOR, RT_MUT, NULL,
     "Create a volume: local driver, no driver options, labels not berth's; under the quota.",
     NULL},
    {"POST", "/volumes/prune", h_prune, ROLE_OPERATOR, RT_MUT, NULL,
     "Remove the caller's own volumes no container uses.", q_filters},
    {"GET", "/volumes/{vol}", h_get, ROLE_VIEWER, 0, NULL, "One of the caller's volumes.", NULL},
    {"DELETE", "/volumes/{vol}", h_delete, ROLE_OPERATOR, RT_MUT, NULL,
     "Remove one of the caller's volumes (in use: 409).", q_delete},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

static const struct rt_param args[] = {{.name = "vol",
                                        .type = P_STR,
                                        .desc = "volume",
                                        .min = 1,
                                        .max = 128,
                                        .valid = ref_valid,
                                        .rule = "a volume name"},
                                       {0}};

const struct bmod mod_dd_volumes = {
    .name = "docker-volumes",
    .routes = routes,
    .args = args,
};

/*
 * volumes.c - volumes as owned resources (volumes.h): /api/v1/volumes, the
 * volume mounts of a new container (vol_place), anonymous volumes that go
 * with their container, the per-owner quota, records and reconcile.
 *
 * Like containers, the labels are the truth for who owns a volume; the
 * record volumes/<docker name>.json is rebuilt from them.  A volume name
 * lives in its owner's namespace (own_dname), so alice's "data" and bob's
 * "data" are two volumes and bob can never name hers.
 */
#include "berth.h"
#include "edge/module.h"
#include "edge/req.h"
#include "edge/route.h"
#include "engine/engine.h"
#include "lib/cfg.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/op.h"
#include "res/containers.h"
#include "res/owner.h"
#include "res/volumes.h"
#include "store/audit.h"
#include "store/state.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

int
vol_name_valid(const char *s)
{
	return name_valid(s) && strstr(s, "..") == NULL;
}

/* The volume named DN, or *V NULL when there is none. */
static enum berr
inspect_dn(struct op *o, const char *dn, json_object **v)
{
	enum berr e = eng_vol_inspect(o, dn, v);

	if (e == B_NOT_FOUND) {
		op_clear(o);
		*v = NULL;
		return B_OK;
	}
	return e;
}

/* ---- records ------------------------------------------------------------ */

static enum berr
write_record(json_object *v)
{
	json_object *rec = json_object_new_object();
	enum berr e;

	jx_add_str(rec, "name", own_shown(ct_label(v, LBL_NAME), jx_str(v, "Name")));
	jx_add_str(rec, "docker_name", jx_str(v, "Name"));
	jx_add_str(rec, "owner", ct_label(v, LBL_OWNER));
	jx_add_str(rec, "instance", ct_label(v, LBL_INSTANCE));
	jx_add_str(rec, "creator", ct_label(v, LBL_CREATOR));
	jx_add_str(rec, "created", jx_str(v, "CreatedAt"));
	jx_add_bool(rec, "anonymous", ct_label(v, LBL_ANONYMOUS) != NULL);
	jx_add_str(rec, "container", ct_label(v, LBL_FOR));
	e = st_put(ST_VOLUMES, jx_str(v, "Name"), rec);
	json_object_put(rec);
	return e;
}

/* ---- creating ----------------------------------------------------------- */

/*
 * Every berth label on a volume, empty when it does not apply, over USER's
 * own labels; FOR_CT non-NULL makes it an anonymous volume of that container.
 */
static json_object *
labels_for(struct op *o, const char *owner, const char *name, json_object *user, const char *for_ct)
{
	json_object *l = json_object_new_object();

	if (user) {
		json_object_object_foreach(user, k, v) jx_add_ref(l, k, v);
	}
	jx_add_str(l, LBL_MANAGED, "1");
	jx_add_str(l, LBL_OWNER, owner);
	jx_add_str(l, LBL_INSTANCE, g_cfg->instance);
	jx_add_str(l, LBL_NAME, name);
	jx_add_str(l, LBL_CREATOR, own_is_group(owner) ? op_owner(o) : "");
	jx_add_str(l, LBL_ANONYMOUS, for_ct ? "1" : "");
	jx_add_str(l, LBL_FOR, for_ct ? for_ct : "");
	return l;
}

/*
 * Creates OWNER's volume NAME (Docker name DN) with the local driver and no
 * options, and its record; *OUT (may be NULL) gets it.  dockerd answers a
 * create of an existing name with that volume: one not OWNER's NAME is a 409.
 */
static enum berr
create_one(struct op *o, const char *owner, const char *name, const char *dn, json_object *user,
           const char *for_ct, json_object **out)
{
	json_object *body = json_object_new_object(), *v = NULL;
	enum berr e;

	jx_add_str(body, "Name", dn);
	jx_add_str(body, "Driver", "local");
	json_object_object_add(body, "Labels", labels_for(o, owner, name, user, for_ct));
	e = eng_vol_create(o, body, &v);
	json_object_put(body);
	if (e == B_OK && !ct_is_named(v, owner, name))
		e = op_fail_why(o, B_CONFLICT, R_NAME_TAKEN, "name",
		                "a volume berth does not manage holds the name %s", name);
	else if (e == B_OK && (e = write_record(v)) != B_OK)
		eng_vol_remove(o, dn, 0);
	if (e == B_OK)
		log_info("volume_created name=%s owner=%s docker_name=%s", name, owner, dn);
	if (e == B_OK && out)
		*out = v;
	else
		json_object_put(v);
	return e;
}

/* df's volumes, by Docker name (new reference). */
static enum berr
df_volumes(struct op *o, json_object **out)
{
	json_object *df = NULL, *vols;
	enum berr e = eng_df(o, &df);

	*out = NULL;
	if (e != B_OK)
		return e;
	*out = json_object_new_object();
	vols = jx_arr(df, "Volumes");
	for (size_t i = 0; vols && i < json_object_array_length(vols); i++) {
		json_object *it = json_object_array_get_idx(vols, i);
		if (jx_str(it, "Name"))
			jx_add_ref(*out, jx_str(it, "Name"), it);
	}
	json_object_put(df);
	return B_OK;
}

/* The bytes a df item's volume uses; -1 where dockerd did not measure it. */
static int64_t
df_size(json_object *it)
{
	json_object *u = jx_obj(it, "UsageData");

	return u ? jx_int(u, "Size", -1) : -1;
}

/*
 * OWNER may have K more volumes: the count quota (own_admit), and the space
 * its volumes use where dockerd measures it.  Local volumes have no size
 * limit of their own, so the space quota refuses new volumes once the
 * owner's use it up; it cannot stop one from growing.  Run under own_lock.
 */
static enum berr
admit(struct op *o, const char *owner, int k)
{
	struct usage add = {.volumes = k};
	enum role role = strcmp(owner, op_owner(o)) == 0 ? o->role : cfg_role(g_cfg, owner);
	const struct quota *q = own_quota(owner, role);
	json_object *df;
	int64_t used = 0;
	enum berr e = own_admit(o, owner, NULL, &add);

	if (e != B_OK || q->volume_size < 0)
		return e;
	e = df_volumes(o, &df);
	if (e != B_OK)
		return e;
	json_object_object_foreach(df, dn, it)
	{
		const char *ow = ct_label(it, LBL_OWNER);
		(void)dn;
		if (ct_managed(it) && ow && strcmp(ow, owner) == 0 && df_size(it) > 0)
			used += df_size(it);
	}
	json_object_put(df);
	if (used >= q->volume_size)
		return op_fail_why(o, B_FORBIDDEN, R_QUOTA, NULL,
		                   "quota: %s's volumes use %.1fMiB and the volume_size quota is "
		                   "%.1fMiB; free some space before making more volumes",
		                   owner, (double)used / 1048576.0,
		                   (double)q->volume_size / 1048576.0);
	return B_OK;
}

/* One volume mount of a new container, as vol_place resolves it. */
struct placed {
	char name[BERTH_NAME_MAX + 1];
	char dn[OWN_DNAME_MAX];
	int make; /* not there yet: vol_place creates it */
	int anon;
};

/* A fresh name for an anonymous volume: "anon-" and 12 random hex digits. */
static enum berr
anon_name(struct op *o, char *out, size_t n)
{
	unsigned char b[6];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return op_fail(o, B_INTERNAL, NULL, "no randomness for a volume name");
	snprintf(out, n, "anon-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
	return B_OK;
}

/* Mount I of SPEC (a volume mount with SRC, or none): OWNER's volume it names, into P. */
static enum berr
resolve(struct op *o, const char *owner, size_t i, const char *src, struct placed *p)
{
	json_object *v = NULL;
	char field[48];
	enum berr e;

	snprintf(field, sizeof(field), "mounts[%zu].source", i);
	if (src == NULL) {
		p->anon = p->make = 1;
		e = anon_name(o, p->name, sizeof(p->name));
		if (e == B_OK)
			own_dname(owner, p->name, p->dn, sizeof(p->dn));
		return e;
	}
	/* pol_check said so already; this is where a name becomes a Docker name. */
	if (!vol_name_valid(src))
		return op_fail(o, B_INVALID, field,
		               "volume source %.64s is not a volume name (" VOL_NAME_RULE ")", src);
	snprintf(p->name, sizeof(p->name), "%s", src);
	own_dname(owner, src, p->dn, sizeof(p->dn));
	e = inspect_dn(o, p->dn, &v);
	if (e == B_OK && v && !ct_is_named(v, owner, src))
		e = op_fail_why(o, B_CONFLICT, R_NAME_TAKEN, field,
		                "a volume berth does not manage holds the name %s", src);
	p->make = v == NULL;
	json_object_put(v);
	return e;
}

/* Creates what P[0..N) lacks; on failure removes what it made, so nothing is left. */
static enum berr
make_placed(struct op *o, const char *owner, json_object *spec, struct placed *p, size_t n)
{
	char ct[OWN_DNAME_MAX] = "";
	enum berr e = B_OK;
	size_t i;

	if (jx_str(spec, "name"))
		own_dname(owner, jx_str(spec, "name"), ct, sizeof(ct));
	for (i = 0; i < n && e == B_OK; i++)
		if (p[i].make)
			e = create_one(o, owner, p[i].name, p[i].dn, NULL, p[i].anon ? ct : NULL,
			               NULL);
	if (e != B_OK) {
		json_object *made = json_object_new_array();
		for (size_t j = 0; j + 1 < i; j++)
			if (p[j].make)
				json_object_array_add(made, json_object_new_string(p[j].dn));
		vol_drop(o, made);
	}
	return e;
}

enum berr
vol_place(struct op *o, const char *owner, json_object *spec, const struct pol_limits *lim,
          json_object *body)
{
	json_object *mounts = jx_arr(spec, "mounts");
	json_object *dm = jx_arr(jx_obj(body, "HostConfig"), "Mounts");
	size_t n = mounts ? json_object_array_length(mounts) : 0;
	struct placed p[VOL_MOUNTS_MAX];
	int need = 0;
	enum berr e = B_OK;

	(void)lim; /* tmpfs sizes: pol_check bounds them by the memory limit */
	if (n == 0)
		return B_OK;
	if (n > VOL_MOUNTS_MAX || dm == NULL || json_object_array_length(dm) != n)
		return op_fail(o, B_INVALID, "mounts", "at most %d mounts", VOL_MOUNTS_MAX);
	memset(p, 0, sizeof(p));
	for (size_t i = 0; i < n && e == B_OK; i++) {
		json_object *it = json_object_array_get_idx(mounts, i);
		if (strcmp(jx_str(it, "type"), "volume") != 0)
			continue;
		e = resolve(o, owner, i, jx_str(it, "source"), &p[i]);
		/* The same volume twice (two targets) is made once. */
		for (size_t j = 0; e == B_OK && p[i].make && !p[i].anon && j < i; j++)
			if (strcmp(p[j].dn, p[i].dn) == 0)
				p[i].make = 0;
		need += p[i].make;
	}
	if (e == B_OK && need > 0)
		e = admit(o, owner, need);
	if (e == B_OK)
		e = make_placed(o, owner, spec, p, n);
	for (size_t i = 0; e == B_OK && i < n; i++)
		if (p[i].dn[0])
			jx_add_str(json_object_array_get_idx(dm, i), "Source", p[i].dn);
	return e;
}

/* ---- anonymous volumes go with their container ------------------------- */

/* This instance's anonymous volumes among MOUNTS, each named by KEY; NULL when none. */
static json_object *
anonymous_in(struct op *o, json_object *mounts, const char *key)
{
	json_object *out = NULL;
	struct op_err sv;

	op_save(o, &sv);
	for (size_t i = 0; mounts && i < json_object_array_length(mounts); i++) {
		json_object *m = json_object_array_get_idx(mounts, i), *v = NULL;
		const char *type = jx_str(m, "Type"), *name = jx_str(m, key);
		if (type == NULL || strcmp(type, "volume") != 0 || name == NULL)
			continue;
		if (inspect_dn(o, name, &v) == B_OK && v && ct_managed(v) &&
		    ct_label(v, LBL_ANONYMOUS)) {
			if (out == NULL)
				out = json_object_new_array();
			json_object_array_add(out, json_object_new_string(name));
		}
		json_object_put(v);
		op_clear(o);
	}
	op_restore(o, &sv);
	return out;
}

json_object *
vol_anonymous_of(struct op *o, const char *id)
{
	json_object *in = NULL, *out = NULL;
	struct op_err sv;

	op_save(o, &sv);
	if (eng_ct_inspect(o, id, &in) == B_OK)
		out = anonymous_in(o, jx_arr(in, "Mounts"), "Name");
	json_object_put(in);
	op_restore(o, &sv);
	return out;
}

void
vol_unplace(struct op *o, json_object *body)
{
	vol_drop(o, anonymous_in(o, jx_arr(jx_obj(body, "HostConfig"), "Mounts"), "Source"));
}

void
vol_drop(struct op *o, json_object *names)
{
	struct op_err sv;

	op_save(o, &sv);
	for (size_t i = 0; names && i < json_object_array_length(names); i++) {
		const char *dn = json_object_get_string(json_object_array_get_idx(names, i));
		if (eng_vol_remove(o, dn, 0) == B_OK)
			st_del(ST_VOLUMES, dn);
		else
			log_error("volume_left name=%s error=\"%s\"", dn, o->msg);
		op_clear(o);
	}
	op_restore(o, &sv);
	json_object_put(names);
}

/* ---- finding and showing ------------------------------------------------- */

/* An admin's NAME of any owner: the one managed volume given that name. */
static enum berr
by_any_owner(struct op *o, const char *name, json_object **v)
{
	json_object *f = own_name_filter(name), *list = NULL;
	enum berr e = eng_vol_list(o, f, &list);

	json_object_put(f);
	if (e == B_OK)
		e = own_pick_one(o, list, "volume", name, "Docker name", "Name", eng_vol_inspect,
		                 v);
	json_object_put(list);
	return e;
}

/*
 * REF as the caller may see it: a name in their namespace, then their
 * groups'; admins also any owner's by name or Docker name.  Only volumes
 * berth manages on this instance; 404 for anything else.
 */
enum berr
vol_lookup(struct op *o, const char *ref, json_object **v)
{
	const char *ns[OWN_NS_MAX];
	size_t k = own_namespaces(o, ns, OWN_NS_MAX);
	char dn[OWN_DNAME_MAX];
	enum berr e = B_OK;

	*v = NULL;
	for (size_t i = 0; vol_name_valid(ref) && i < k && e == B_OK; i++) {
		own_dname(ns[i], ref, dn, sizeof(dn));
		e = inspect_dn(o, dn, v);
		if (e == B_OK && *v && ct_is_named(*v, ns[i], ref))
			return B_OK;
		json_object_put(*v);
		*v = NULL;
	}
	if (e == B_OK && o->role == ROLE_ADMIN) {
		e = inspect_dn(o, ref, v);
		if (e == B_OK && *v && !ct_managed(*v)) {
			json_object_put(*v);
			*v = NULL;
		}
		if (e == B_OK && *v == NULL && vol_name_valid(ref))
			e = by_any_owner(o, ref, v);
	}
	if (e == B_OK && *v && ct_managed(*v))
		return B_OK;
	json_object_put(*v);
	*v = NULL;
	if (e != B_OK)
		return e;
	return op_fail(o, B_NOT_FOUND, NULL, "no such volume: %s", ref);
}

/* The caller may see container list item IT by name (anyone else's only counts). */
static int
may_see_ct(struct op *o, json_object *it)
{
	if (o->system || o->role == ROLE_ADMIN)
		return 1;
	return ct_managed(it) && own_visible(o, ct_label(it, LBL_OWNER));
}

enum berr
vol_users(struct op *o, json_object *filters, json_object **out)
{
	json_object *list = NULL;
	enum berr e = eng_ct_list_full(o, 1, filters, &list);

	*out = NULL;
	if (e != B_OK)
		return e;
	*out = json_object_new_object();
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i), *ms = jx_arr(it, "Mounts");
		for (size_t j = 0; ms && j < json_object_array_length(ms); j++) {
			json_object *m = json_object_array_get_idx(ms, j), *u, *c;
			const char *name = jx_str(m, "Name"), *type = jx_str(m, "Type");
			if (name == NULL || type == NULL || strcmp(type, "volume") != 0)
				continue;
			if ((u = jx_obj(*out, name)) == NULL) {
				u = json_object_new_object();
				json_object_object_add(u, "containers", json_object_new_array());
				json_object_object_add(*out, name, u);
			}
			jx_add_int(u, "count", jx_int(u, "count", 0) + 1);
			if (!may_see_ct(o, it))
				continue;
			c = json_object_new_object();
			jx_add_str(c, "id", jx_str(it, "Id"));
			jx_add_str(c, "name", ct_item_name(it));
			json_object_array_add(jx_arr(u, "containers"), c);
		}
	}
	json_object_put(list);
	return B_OK;
}

/* berth's view of volume V; USERS (vol_users's entry) and DF (df's item) may be NULL. */
static json_object *
vol_view(json_object *v, json_object *users, json_object *df)
{
	json_object *out = json_object_new_object(), *labels = json_object_new_object();
	json_object *lv = jx_obj(v, "Labels");
	int64_t size = df ? df_size(df) : -1;

	jx_add_str(out, "name", own_shown(ct_label(v, LBL_NAME), jx_str(v, "Name")));
	jx_add_str(out, "docker_name", jx_str(v, "Name"));
	jx_add_str(out, "owner", ct_label(v, LBL_OWNER));
	if (ct_label(v, LBL_CREATOR))
		jx_add_str(out, "creator", ct_label(v, LBL_CREATOR));
	jx_add_bool(out, "anonymous", ct_label(v, LBL_ANONYMOUS) != NULL);
	jx_add_str(out, "driver", jx_str(v, "Driver"));
	jx_add_str(out, "created", jx_str(v, "CreatedAt"));
	if (lv) {
		json_object_object_foreach(lv, k, val)
		{
			if (strncmp(k, "berth.", 6) != 0)
				jx_add_ref(labels, k, val);
		}
	}
	json_object_object_add(out, "labels", labels);
	if (size >= 0)
		jx_add_int(out, "size", size);
	else
		json_object_object_add(out, "size", NULL);
	if (users)
		jx_add_ref(out, "containers", jx_arr(users, "containers"));
	else
		json_object_object_add(out, "containers", json_object_new_array());
	jx_add_bool(out, "in_use", users && jx_int(users, "count", 0) > 0);
	return out;
}

enum berr
vol_visible(struct op *o, const char *owner, json_object **out)
{
	const char *ns[OWN_NS_MAX];
	size_t k;
	enum berr e = B_OK;

	*out = NULL;
	if (owner && !own_visible(o, owner))
		return op_fail(o, B_FORBIDDEN, "owner",
		               "only admins may list other owners (and members their groups)");
	if (owner == NULL && o->role == ROLE_ADMIN) {
		k = 1;
		ns[0] = NULL;
	} else if (owner) {
		k = 1;
		ns[0] = owner;
	} else {
		k = own_namespaces(o, ns, OWN_NS_MAX);
	}
	*out = json_object_new_array();
	for (size_t i = 0; i < k && e == B_OK; i++) {
		json_object *f = own_filter(ns[i]), *list = NULL;
		e = eng_vol_list(o, f, &list);
		for (size_t j = 0; e == B_OK && j < json_object_array_length(list); j++)
			json_object_array_add(*out,
			                      json_object_get(json_object_array_get_idx(list, j)));
		json_object_put(list);
		json_object_put(f);
	}
	if (e != B_OK) {
		json_object_put(*out);
		*out = NULL;
	}
	return e;
}

/* The views of LIST (volume objects) into *OUT, with sizes and the containers using each. */
static enum berr
views(struct op *o, json_object *list, json_object *users_filter, json_object **out)
{
	json_object *users = NULL, *df = NULL;
	enum berr e = vol_users(o, users_filter, &users);

	*out = NULL;
	/*
	 * Sizes are what dockerd measures when it can: it runs one disk-usage
	 * walk at a time and refuses the others, so a list made meanwhile shows
	 * sizes as unknown rather than failing.
	 */
	if (e == B_OK && df_volumes(o, &df) != B_OK) {
		op_clear(o);
		df = json_object_new_object();
	}
	if (e == B_OK) {
		*out = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			json_object *v = json_object_array_get_idx(list, i);
			const char *dn = jx_str(v, "Name");
			json_object_array_add(*out, vol_view(v, jx_obj(users, dn), jx_obj(df, dn)));
		}
	}
	json_object_put(users);
	json_object_put(df);
	return e;
}

/* The container filter for who mounts DN. New reference. */
static json_object *
mounting(const char *dn)
{
	json_object *f = json_object_new_object(), *a = json_object_new_array();

	json_object_array_add(a, json_object_new_string(dn));
	json_object_object_add(f, "volume", a);
	return f;
}

/* The view of the one volume V, who mounts it asked of dockerd directly. New reference. */
static enum berr
one_view(struct op *o, json_object *v, json_object **out)
{
	json_object *one = json_object_new_array(), *f = mounting(jx_str(v, "Name")), *all;
	enum berr e;

	json_object_array_add(one, json_object_get(v));
	e = views(o, one, f, &all);
	*out = e == B_OK ? json_object_get(json_object_array_get_idx(all, 0)) : NULL;
	json_object_put(all);
	json_object_put(f);
	json_object_put(one);
	return e;
}

/* ---- HTTP handlers ------------------------------------------------------ */

static enum berr
h_list(struct req *r)
{
	json_object *list, *out = NULL, *ans;
	enum berr e = vol_visible(&r->op, rq_str(r, "owner"), &list);

	if (e == B_OK)
		e = views(&r->op, list, NULL, &out);
	if (e == B_OK) {
		ans = json_object_new_object();
		json_object_object_add(ans, "volumes", out);
		rq_json(r, 200, ans);
	}
	json_object_put(list);
	return e;
}

static enum berr
h_get(struct req *r)
{
	json_object *v = NULL, *out;
	enum berr e = vol_lookup(&r->op, r->args[0], &v);

	if (e == B_OK)
		e = one_view(&r->op, v, &out);
	if (e == B_OK)
		rq_json(r, 200, out);
	json_object_put(v);
	return e;
}

/* What a create body may not ask for: another driver, any driver option. */
static enum berr
check_create(struct op *o, json_object *b)
{
	const char *driver = jx_str(b, "driver");
	json_object *opts = jx_obj(b, "driver_opts"), *labels = jx_obj(b, "labels");

	if (!vol_name_valid(jx_str(b, "name")))
		return op_fail(o, B_INVALID, "name", "a volume name is " VOL_NAME_RULE);
	if (driver && strcmp(driver, "local") != 0)
		return op_fail(o, B_FORBIDDEN, "driver",
		               "only the local driver: another driver keeps the data outside the "
		               "host's volume directory, where berth's ownership does not reach");
	if (opts && json_object_object_length(opts) > 0)
		return op_fail(
		    o, B_FORBIDDEN, "driver_opts",
		    "driver options are refused: type=none,o=bind,device=PATH is a bind "
		    "mount of any host path, type=nfs reaches the network from the host");
	return pol_check_labels(o, labels);
}

enum berr
vol_create(struct op *o, const char *owner, const char *name, json_object *labels, json_object **v,
           int *created)
{
	char dn[OWN_DNAME_MAX];
	int fd;
	enum berr e;

	*v = NULL;
	*created = 0;
	/* One owner's creates run one at a time: two cannot both take the last slot. */
	fd = own_lock(owner);
	if (fd < 0)
		return op_fail(o, B_INTERNAL, NULL, "cannot lock the state directory");
	own_dname(owner, name, dn, sizeof(dn));
	e = inspect_dn(o, dn, v);
	if (e == B_OK && *v && !ct_is_named(*v, owner, name))
		e = op_fail_why(o, B_CONFLICT, R_NAME_TAKEN, "name",
		                "a volume berth does not manage holds the name %s", name);
	if (e == B_OK && *v == NULL) {
		e = admit(o, owner, 1);
		if (e == B_OK)
			e = create_one(o, owner, name, dn, labels, NULL, v);
		*created = e == B_OK;
	}
	st_unlock(fd);
	if (e != B_OK) {
		json_object_put(*v);
		*v = NULL;
	}
	return e;
}

static enum berr
h_create(struct req *r)
{
	const char *name = jx_str(r->json, "name");
	json_object *v = NULL, *out = NULL;
	char owner[OWN_MAX];
	int created;
	enum berr e = check_create(&r->op, r->json);

	if (e == B_OK)
		e = own_for_create(&r->op, jx_str(r->json, "owner"), "owner", owner, sizeof(owner));
	if (e != B_OK)
		return e;
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s", name);
	e = vol_create(&r->op, owner, name, jx_obj(r->json, "labels"), &v, &created);
	if (e == B_OK)
		e = one_view(&r->op, v, &out);
	if (e == B_OK) {
		au_str(&r->op, "outcome", created ? "created" : "reused");
		jx_add_bool(out, "just_created", created);
		rq_json(r, created ? 201 : 200, out);
	}
	json_object_put(v);
	return e;
}

/*
 * Removes the containers mounting DN, for a forced remove: each must be one
 * the caller may change (managed, theirs or their group's, no job's, not
 * protected), else nothing is removed and the answer is 409.
 */
static enum berr
remove_users(struct op *o, const char *shown, json_object *list)
{
	size_t n = json_object_array_length(list);
	enum berr e = B_OK;

	for (size_t i = 0; i < n && e == B_OK; i++) {
		json_object *it = json_object_array_get_idx(list, i), *in = NULL;
		if (!may_see_ct(o, it) || !ct_managed(it))
			return op_fail(o, B_CONFLICT, NULL,
			               "volume %s is in use by a container you cannot remove",
			               shown);
		e = eng_ct_inspect(o, jx_str(it, "Id"), &in);
		if (e == B_OK)
			e = ct_check_plain(o, in);
		if (e == B_OK)
			e = ct_check_unprotected(o, in, "removed");
		json_object_put(in);
	}
	for (size_t i = 0; i < n && e == B_OK; i++)
		e = ct_remove(o, jx_str(json_object_array_get_idx(list, i), "Id"), 10);
	return e;
}

/* The names of LIST's containers the caller may see, for a 409: "a, b (and 2 more)". */
static void
users_text(struct op *o, json_object *list, char *out, size_t n)
{
	size_t k = 0, hidden = 0;

	out[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i);
		if (!may_see_ct(o, it)) {
			hidden++;
			continue;
		}
		k += (size_t)snprintf(out + k, k < n ? n - k : 0, "%s%s", k ? ", " : "",
		                      ct_item_name(it));
	}
	if (hidden && k < n)
		snprintf(out + k, n - k, "%s%zu other%s", k ? " and " : "", hidden,
		         hidden > 1 ? "s" : "");
}

/* Removes V (its owner's lock held): in use is a 409 unless FORCE removes its containers first. */
static enum berr
remove_locked(struct op *o, json_object *v, int force)
{
	const char *dn = jx_str(v, "Name"), *shown = own_shown(ct_label(v, LBL_NAME), dn);
	json_object *f = mounting(dn), *list = NULL;
	char who[256];
	enum berr e = eng_ct_list_full(o, 1, f, &list);

	json_object_put(f);
	if (e == B_OK && json_object_array_length(list) > 0) {
		if (force) {
			e = remove_users(o, shown, list);
		} else {
			users_text(o, list, who, sizeof(who));
			e = op_fail(o, B_CONFLICT, NULL,
			            "volume %s is in use by %s; remove them first or use ?force=1",
			            shown, who);
		}
	}
	/* A container made meanwhile outside berth: dockerd's 409 says it is in use. */
	if (e == B_OK && (e = eng_vol_remove(o, dn, 0)) == B_CONFLICT)
		e = op_fail(o, B_CONFLICT, NULL, "volume %s is in use", shown);
	if (e == B_OK) {
		st_del(ST_VOLUMES, dn);
		log_info("volume_removed name=%s owner=%s", shown, ct_label(v, LBL_OWNER));
	}
	json_object_put(list);
	return e;
}

enum berr
vol_remove(struct op *o, json_object *v, int force)
{
	/* Under the owner's lock: a container create cannot find it and then lose it. */
	int fd = own_lock(ct_label(v, LBL_OWNER) ? ct_label(v, LBL_OWNER) : "");
	enum berr e;

	if (fd < 0)
		return op_fail(o, B_INTERNAL, NULL, "cannot lock the state directory");
	e = remove_locked(o, v, force);
	st_unlock(fd);
	return e;
}

static enum berr
h_delete(struct req *r)
{
	json_object *v = NULL;
	enum berr e = vol_lookup(&r->op, r->args[0], &v);

	if (e != B_OK)
		return e;
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s", r->args[0]);
	e = vol_remove(&r->op, v, rq_bool(r, "force"));
	if (e == B_OK)
		rq_empty(r, 204);
	json_object_put(v);
	return e;
}

enum berr
vol_remove_owned(struct op *o, const char *owner, const char *name)
{
	char dn[OWN_DNAME_MAX];
	json_object *v = NULL;
	int fd;
	enum berr e;

	own_dname(owner, name, dn, sizeof(dn));
	fd = own_lock(owner);
	if (fd < 0)
		return op_fail(o, B_INTERNAL, NULL, "cannot lock the state directory");
	e = inspect_dn(o, dn, &v);
	if (e == B_OK && v && ct_is_named(v, owner, name))
		e = remove_locked(o, v, 0);
	st_unlock(fd);
	json_object_put(v);
	return e;
}

/* Removes the caller's own volumes no container uses (under their lock). */
static enum berr
prune_locked(struct op *o, json_object *removed, int64_t *reclaimed)
{
	json_object *f = own_filter(op_owner(o)), *list = NULL, *df = NULL;
	enum berr e = eng_vol_list(o, f, &list);

	json_object_put(f);
	if (e == B_OK)
		e = df_volumes(o, &df);
	for (size_t i = 0; e == B_OK && i < json_object_array_length(list); i++) {
		json_object *v = json_object_array_get_idx(list, i), *it;
		const char *dn = jx_str(v, "Name");
		it = jx_obj(df, dn);
		/* RefCount -1 (not counted) or missing: not known to be unused, so kept. */
		if (it == NULL || jx_int(jx_obj(it, "UsageData"), "RefCount", -1) != 0)
			continue;
		if (eng_vol_remove(o, dn, 0) != B_OK) {
			op_clear(o); /* in use meanwhile: kept */
			continue;
		}
		st_del(ST_VOLUMES, dn);
		json_object_array_add(removed,
		                      json_object_new_string(own_shown(ct_label(v, LBL_NAME), dn)));
		if (df_size(it) > 0)
			*reclaimed += df_size(it);
	}
	json_object_put(list);
	json_object_put(df);
	return e;
}

enum berr
vol_prune(struct op *o, json_object *removed, int64_t *reclaimed)
{
	int fd = own_lock(op_owner(o));
	enum berr e;

	if (fd < 0)
		return op_fail(o, B_INTERNAL, NULL, "cannot lock the state directory");
	e = prune_locked(o, removed, reclaimed);
	st_unlock(fd);
	return e;
}

static enum berr
h_prune(struct req *r)
{
	json_object *removed = json_object_new_array(), *out;
	int64_t reclaimed = 0;
	enum berr e = vol_prune(&r->op, removed, &reclaimed);

	if (e != B_OK) {
		json_object_put(removed);
		return e;
	}
	au_add(&r->op, "removed", json_object_get(removed));
	out = json_object_new_object();
	json_object_object_add(out, "removed", removed);
	jx_add_int(out, "space_reclaimed", reclaimed);
	rq_json(r, 200, out);
	return B_OK;
}

/* ---- maintenance -------------------------------------------------------- */

/* Removes every volume of this instance (after its containers: modules.c's order). */
static int
vol_cleanup(void)
{
	struct op o;
	json_object *f = own_filter(NULL), *list = NULL;
	int failed = 0;

	op_system(&o);
	if (eng_vol_list(&o, f, &list) != B_OK) {
		fprintf(stderr, "berth-fcgi: cannot list volumes of instance %s: %s\n",
		        g_cfg->instance, o.msg);
		failed = 1;
	}
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		const char *dn = jx_str(json_object_array_get_idx(list, i), "Name");
		if (eng_vol_remove(&o, dn, 0) == B_OK) {
			st_del(ST_VOLUMES, dn);
			continue;
		}
		fprintf(stderr, "berth-fcgi: cannot remove volume %s: %s\n", dn, o.msg);
		op_clear(&o);
		failed = 1;
	}
	json_object_put(list);
	json_object_put(f);
	op_done(&o);
	return failed ? -1 : 0;
}

/* Rebuilds missing records from the volumes' labels and drops records of volumes gone. */
static int
vol_reconcile(int verbose)
{
	struct op o;
	json_object *keep = json_object_new_object(); /* what dockerd has */
	int dropped = 0;
	json_object *f = own_filter(NULL), *list = NULL, *rec;
	int restored = 0;
	size_t n;

	op_system(&o);
	if (eng_vol_list(&o, f, &list) != B_OK) {
		log_error("reconcile_failed kind=volumes error=\"%s\"", o.msg);
		json_object_put(f);
		json_object_put(keep);
		op_done(&o);
		return -1;
	}
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(list, i);
		const char *dn = jx_str(v, "Name");
		if (dn == NULL || !ref_valid(dn))
			continue;
		jx_add_bool(keep, dn, 1);
		if (st_get(ST_VOLUMES, dn, &rec) == B_OK) {
			json_object_put(rec);
			continue;
		}
		if (write_record(v) == B_OK)
			restored++;
	}
	dropped = st_drop_except(ST_VOLUMES, keep);
	if (verbose)
		printf("reconcile: %zu volumes, %d records restored, %d stale records dropped\n", n,
		       restored, dropped);
	if (restored || dropped)
		log_info("reconcile volumes=%zu restored=%d dropped=%d", n, restored, dropped);
	json_object_put(list);
	json_object_put(f);
	json_object_put(keep);
	op_done(&o);
	return 0;
}

/*
 * Anonymous volumes no container uses any more, made over ANON_SWEEP_AGE
 * seconds ago: their container went without berth (dockerd's AutoRemove of
 * docker run --rm, a docker rm on the host).  The age leaves alone one made
 * for a create in progress: vol_place makes it right before dockerd's
 * create (any pull came before), milliseconds.
 */
#define ANON_SWEEP_AGE 30

static void
anon_sweep(void)
{
	json_object *f = own_filter(NULL), *dangling = json_object_new_array(), *list = NULL;
	time_t now = time(NULL);
	struct op o;
	int swept = 0;

	op_system(&o);
	json_object_array_add(dangling, json_object_new_string("true"));
	json_object_object_add(f, "dangling", dangling);
	if (eng_vol_list(&o, f, &list) == B_OK) {
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			json_object *v = json_object_array_get_idx(list, i);
			const char *dn = jx_str(v, "Name"), *at = jx_str(v, "CreatedAt");
			struct tm tm = {0};
			if (!dn || !ct_label(v, LBL_ANONYMOUS) || !at ||
			    !strptime(at, "%Y-%m-%dT%H:%M:%S", &tm) ||
			    now - timegm(&tm) < ANON_SWEEP_AGE)
				continue;
			if (eng_vol_remove(&o, dn, 0) == B_OK) {
				st_del(ST_VOLUMES, dn);
				swept++;
			}
			op_clear(&o);
		}
	}
	if (swept)
		log_info("anonymous_volumes_swept count=%d", swept);
	json_object_put(list);
	json_object_put(f);
	op_done(&o);
}

static int
reconcile_quiet(void)
{
	anon_sweep();
	return vol_reconcile(0);
}

/* ---- the module --------------------------------------------------------- */

static const struct sc_field label_value = {.types = SC_STRING, .max = 1024};
static const struct sc_field opt_value = {.types = SC_STRING, .max = 1024};

static const struct sc_field create_fields[] = {
    {.name = "name",
     .types = SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "Volume name, in the owner's namespace (never a path).",
     .min = 1,
     .max = BERTH_NAME_MAX,
     .pattern = SC_NAME_RE,
     .example = "\"data\""},
    {.name = "labels",
     .types = SC_OBJECT,
     .desc = "Extra labels (names starting with berth. are reserved).",
     .max = 64,
     .values = &label_value,
     .keys = SC_LABEL_RE},
    {.name = "driver",
     .types = SC_STRING,
     .desc = "Only \"local\" (the default); any other is refused.",
     .max = 64},
    {.name = "driver_opts",
     .types = SC_OBJECT,
     .desc = "Refused unless empty: driver options make bind mounts of host paths and "
             "network mounts.",
     .max = 64,
     .values = &opt_value},
    OWN_FIELD,
    {0}};

static const struct sc_schema vol_schema = {"volume", "berth volume", create_fields,
                                            "{\"name\":\"data\",\"labels\":{\"app\":\"web\"}}", 1};

static const struct rt_param list_query[] = {RT_P_OWNER, {0}};
static const struct rt_param delete_query[] = {
    {.name = "force", .type = P_BOOL, .desc = "Remove the caller's containers that use it first."},
    {0}};

static const struct rt_route vol_routes[] = {
    {"GET", "/api/v1/volumes", h_list, ROLE_VIEWER, 0, NULL,
     "The caller's volumes and their groups' (admins: every managed one, ?owner=), with size "
     "and the containers using each.",
     list_query},
    {"POST", "/api/v1/volumes", h_create, ROLE_OPERATOR, RT_BODY | RT_MUT, &vol_schema,
     "Create a volume (local driver, no options) under the owner's quota; idempotent by name.",
     NULL},
    {"POST", "/api/v1/volumes/prune", h_prune, ROLE_OPERATOR, RT_MUT, NULL,
     "Remove the caller's own volumes that no container uses.", NULL},
    {"GET", "/api/v1/volumes/{name}", h_get, ROLE_VIEWER, 0, NULL,
     "Details: owner, size where dockerd measures it, the containers using it.", NULL},
    {"DELETE", "/api/v1/volumes/{name}", h_delete, ROLE_OPERATOR, RT_MUT, NULL,
     "Remove (in use: 409, unless ?force=1 removes the containers using it first).", delete_query},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

static const struct rt_param vol_args[] = {{.name = "name",
                                            .type = P_STR,
                                            .desc = "volume",
                                            .valid = ref_valid,
                                            .rule = "a volume name or Docker name"},
                                           {0}};

static const struct sc_schema *const vol_schemas[] = {&vol_schema, NULL};
static const char *const vol_kinds[] = {ST_VOLUMES, NULL};

const struct bmod mod_volumes = {
    .name = "volumes",
    .routes = vol_routes,
    .args = vol_args,
    .schemas = vol_schemas,
    .state_kinds = vol_kinds,
    .periodic = reconcile_quiet,
    .cleanup = vol_cleanup,
    .reconcile = vol_reconcile,
};

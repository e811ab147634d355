/*
 * owner.c - tenancy: owners and groups, derived Docker names, and quotas
 * that add up over everything an owner holds (owner.h).
 */
#include "berth.h"
#include "engine/engine.h"
#include "lib/cfg.h"
#include "lib/json.h"
#include "lib/op.h"
#include "res/containers.h"
#include "res/owner.h"
#include "res/services.h"
#include "store/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
own_is_group(const char *owner)
{
	return owner && owner[0] == '@';
}

/* The group an owner string names ("@devs"), or NULL. */
static const struct cfg_group *
group_of(const char *owner)
{
	return own_is_group(owner) ? cfg_group(g_cfg, owner + 1) : NULL;
}

int
own_visible(const struct op *o, const char *owner)
{
	if (o->system || o->role == ROLE_ADMIN)
		return 1;
	if (owner == NULL || owner[0] == '\0')
		return 0;
	if (strcmp(owner, op_owner(o)) == 0)
		return 1;
	return o->user && cfg_in_group(group_of(owner), o->user);
}

enum berr
own_for_create(struct op *o, const char *asked, const char *field, char *out, size_t n)
{
	const struct cfg_group *g;

	if (asked == NULL || asked[0] == '\0' || strcmp(asked, op_owner(o)) == 0) {
		snprintf(out, n, "%s", op_owner(o));
		return B_OK;
	}
	if (own_is_group(asked)) {
		g = group_of(asked);
		if (g == NULL && o->role != ROLE_ADMIN)
			return op_fail(o, B_FORBIDDEN, field, "you are not a member of group %s",
			               asked);
		if (g == NULL)
			return op_fail(o, B_INVALID, field,
			               "there is no group %s in berth.conf's groups", asked);
		if (o->role != ROLE_ADMIN && !cfg_in_group(g, o->user))
			return op_fail(o, B_FORBIDDEN, field, "you are not a member of group %s",
			               asked);
	} else if (o->role != ROLE_ADMIN) {
		return op_fail(o, B_FORBIDDEN, field,
		               "only admins may create for another owner (or your groups, as "
		               "\"@group\")");
	}
	if (strlen(asked) >= n || strlen(asked) >= OWN_MAX)
		return op_fail(o, B_INVALID, field, "the owner name is too long");
	snprintf(out, n, "%s", asked);
	return B_OK;
}

size_t
own_namespaces(const struct op *o, const char **out, size_t max)
{
	size_t k = 0;

	if (max == 0)
		return 0;
	out[k++] = op_owner(o);
	for (size_t i = 0; o->user && i < g_cfg->ngroups && k < max; i++)
		if (cfg_in_group(&g_cfg->groups[i], o->user))
			out[k++] = g_cfg->groups[i].owner;
	return k;
}

enum role
own_policy_role(const char *owner, enum role role)
{
	const struct cfg_group *g = group_of(owner);

	return g && g->role != ROLE_NONE ? g->role : role;
}

const struct quota *
own_quota(const char *owner, enum role role)
{
	const struct cfg_group *g = group_of(owner);

	return g ? &g->quota : &g_cfg->policy[role].quota;
}

/* A readable part of OWNER for Docker names: [a-z0-9-], at most MAX, "g-" for a group. */
static void
slug(const char *owner, char *out, size_t max)
{
	size_t k = 0;
	int dash = 1; /* no leading '-' */

	if (own_is_group(owner)) {
		snprintf(out, max + 1, "g-");
		k = 2;
		owner++;
	}
	for (const char *p = owner; *p && k < max; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			out[k++] = c;
			dash = 0;
		} else if (!dash) {
			out[k++] = '-';
			dash = 1;
		}
	}
	while (k > 0 && out[k - 1] == '-')
		k--;
	if (k == 0)
		out[k++] = 'x';
	out[k] = '\0';
}

/* FNV-1a over the NULL-ended strings, each ended by a newline. */
static uint32_t
hash_parts(const char *const *parts)
{
	uint32_t h = 2166136261u;

	for (; *parts; parts++) {
		for (const char *p = *parts; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		h = (h ^ '\n') * 16777619u;
	}
	return h;
}

void
own_dname(const char *owner, const char *name, char *out, size_t n)
{
	char s[20];
	const char *parts[] = {g_cfg->instance, owner, NULL};

	slug(owner, s, 16);
	snprintf(out, n, "%s.%s.%08x", name, s, hash_parts(parts));
}

int
own_image_is(const char *owner, const char *image)
{
	char p[OWN_DNAME_MAX];
	size_t n;

	if (owner == NULL || image == NULL)
		return 0;
	own_dname(owner, "berth", p, sizeof(p));
	n = strlen(p);
	return strncmp(image, p, n) == 0 && image[n] == '/';
}

void
own_swarm_name(const char *owner, const char *name, char *out, size_t n)
{
	char s[16], base[44];
	const char *parts[] = {g_cfg->instance, owner, name, NULL};
	size_t k = 0;

	for (const char *p = name; *p && k < 40; p++)
		base[k++] = (*p == '.' || *p == '_') ? '-' : *p;
	base[k] = '\0';
	slug(owner, s, 12);
	snprintf(out, n, "%s-%s-%08x", base, s, hash_parts(parts));
}

const char *
own_shown(const char *label, const char *docker)
{
	return label && *label ? label : docker;
}

int
own_lock(const char *owner)
{
	char name[48];

	/* REMOTE_USER may hold any characters: the lock file is named by a hash. */
	snprintf(name, sizeof(name), "owner-%08x", b_hash32(owner));
	return st_lock(name);
}

/* ---- quotas ------------------------------------------------------------ */

json_object *
own_filter(const char *owner)
{
	json_object *f = json_object_new_object(), *arr = json_object_new_array();
	char buf[OWN_MAX + 64];

	json_object_array_add(arr, json_object_new_string(LBL_MANAGED "=1"));
	snprintf(buf, sizeof(buf), LBL_INSTANCE "=%s", g_cfg->instance);
	json_object_array_add(arr, json_object_new_string(buf));
	if (owner) {
		snprintf(buf, sizeof(buf), LBL_OWNER "=%s", owner);
		json_object_array_add(arr, json_object_new_string(buf));
	}
	json_object_object_add(f, "label", arr);
	return f;
}

json_object *
own_name_filter(const char *name)
{
	json_object *f = own_filter(NULL);
	char lbl[OWN_DNAME_MAX + 16];

	snprintf(lbl, sizeof(lbl), LBL_NAME "=%s", name);
	json_object_array_add(jx_arr(f, "label"), json_object_new_string(lbl));
	return f;
}

enum berr
own_pick_one(struct op *o, json_object *list, const char *what, const char *name, const char *hint,
             const char *idkey, own_inspect_fn inspect, json_object **out)
{
	size_t n = list ? json_object_array_length(list) : 0;

	*out = NULL;
	if (n == 1)
		return inspect(o, jx_str(json_object_array_get_idx(list, 0), idkey), out);
	if (n > 1)
		return op_fail(o, B_CONFLICT, NULL, "%zu owners have a %s named %s; give its %s", n,
		               what, name, hint);
	return B_OK;
}

/* Containers: slots, replicas and running jobs, and the limits berth gave them. */
static enum berr
count_containers(struct op *o, json_object *filter, struct usage *u)
{
	json_object *list;
	enum berr e = eng_ct_list(o, 1, filter, &list);

	if (e != B_OK)
		return e;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i);
		const char *mem = ct_label(it, LBL_MEMORY), *cpu = ct_label(it, LBL_CPUS);
		/* A Swarm task is its service's: the service's spec counts it. */
		if (!ct_holds_quota(it) || ct_label(it, "com.docker.swarm.task.id"))
			continue;
		u->containers++;
		if (ct_label(it, LBL_SERVICE))
			u->replicas++;
		if (ct_label(it, LBL_JOB))
			u->jobs++;
		u->memory += mem ? atoll(mem) : 0;
		u->nano_cpus += cpu ? atoll(cpu) : 0;
	}
	json_object_put(list);
	return B_OK;
}

static enum berr
count_list(struct op *o, enum berr (*lister)(struct op *, json_object *, json_object **),
           json_object *filter, int *n)
{
	json_object *list;
	enum berr e = lister(o, filter, &list);

	if (e == B_OK)
		*n += (int)json_object_array_length(list);
	json_object_put(list);
	return e;
}

enum berr
own_usage(struct op *o, const char *owner, const char *skip_service, const struct usage *need,
          struct usage *u)
{
	json_object *f = own_filter(owner);
	int cts = !need || need->containers || need->replicas || need->jobs || need->memory ||
	          need->nano_cpus;
	int swarm = 0;
	enum berr e = B_OK;

	memset(u, 0, sizeof(*u));
	if (cts)
		e = count_containers(o, f, u);
	if (e == B_OK && (!need || need->volumes))
		e = count_list(o, eng_vol_list, f, &u->volumes);
	if (e == B_OK && (!need || need->networks))
		e = count_list(o, eng_net_list, f, &u->networks);
	if (e == B_OK && cts)
		e = sw_active(o, &swarm);
	if (e == B_OK && swarm)
		e = sw_usage(o, owner, skip_service, u);
	json_object_put(f);
	return e;
}

/* One quota: 403 when HELD + ADD passes LIMIT (and ADD grows it). */
static enum berr
over(struct op *o, const char *owner, const char *what, double held, double add, double limit,
     const char *unit)
{
	if (add <= 0 || limit < 0 || held + add <= limit)
		return B_OK;
	return op_fail_why(o, B_FORBIDDEN, R_QUOTA, NULL,
	                   "quota: %s holds %g%s of %s and this would add %g%s; the quota is %g%s",
	                   owner, held, unit, what, add, unit, limit, unit);
}

enum berr
own_check(struct op *o, const char *owner, const struct quota *q, const struct usage *held,
          const struct usage *add)
{
	const double mib = 1024.0 * 1024.0;
	enum berr e = B_OK;

#define CHECK(what, h, a, l, unit)                                                                 \
	if (e == B_OK)                                                                             \
	e = over(o, owner, what, (double)(h), (double)(a), (double)(l), unit)
	CHECK("containers", held->containers, add->containers, q->containers, "");
	CHECK("service replicas", held->replicas, add->replicas, q->replicas, "");
	CHECK("running jobs", held->jobs, add->jobs, q->jobs, "");
	CHECK("volumes", held->volumes, add->volumes, q->volumes, "");
	CHECK("networks", held->networks, add->networks, q->networks, "");
	CHECK("memory", held->memory / mib, add->memory / mib, q->memory < 0 ? -1 : q->memory / mib,
	      "MiB");
	CHECK("CPUs", held->nano_cpus / 1e9, add->nano_cpus / 1e9, q->cpus, " cores");
	CHECK("volume space", held->volume_size / mib, add->volume_size / mib,
	      q->volume_size < 0 ? -1 : q->volume_size / mib, "MiB");
#undef CHECK
	return e;
}

enum berr
own_admit(struct op *o, const char *owner, const char *skip_service, const struct usage *add)
{
	enum role role = strcmp(owner, op_owner(o)) == 0 ? o->role : cfg_role(g_cfg, owner);
	const struct quota *q = own_quota(owner, role);
	struct usage held;
	enum berr e = own_usage(o, owner, skip_service, add, &held);

	if (e == B_OK)
		e = own_check(o, owner, q, &held, add);
	return e;
}

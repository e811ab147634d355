/*
 * stacks.c - compose files as owned applications: /api/v1/stacks.  A stack
 * is a record stacks/<docker name>.json (the file as deployed, its plan,
 * who owns it) and the containers, networks and volumes made for it, each
 * through the functions POST /api/v1/containers, networks.c and volumes.c
 * use (pol_check with the owner's policy, own_admit's quotas, namespaced
 * names), so a stack can do nothing its owner could not do one container at
 * a time.  What berth makes carries the labels docker compose writes
 * (com.docker.compose.project, .service, .container-number, .oneoff,
 * .config-hash), so compose through berth's Docker API door and berth's
 * stacks see one another; compose projects of the caller's that have no
 * record are listed as stacks too.
 *
 * The containers, not the record, say what runs: an update lists a
 * service's containers and recreates only those whose config hash differs
 * from the plan's, so a failed or interrupted update is finished by sending
 * it again.
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
#include "lib/schema.h"
#include "lib/yaml.h"
#include "res/compose.h"
#include "res/containers.h"
#include "res/networks.h"
#include "res/owner.h"
#include "res/policy.h"
#include "res/stacks.h"
#include "res/volumes.h"
#include "store/audit.h"
#include "store/state.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The stack a container, network or volume was made for (with compose's project label). */
#define LBL_STACK "berth.stack"
/* How long one request waits, in all, for dependencies to be healthy or done. */
#define STACK_WAIT_MS 75000
#define STACK_POLL_MS 250
/* The most log bytes a merged (non-follow) answer gathers. */
#define STACK_LOGS_MAX (4u << 20)

/* One operation on one stack. */
struct stk {
	struct op *o;
	char owner[OWN_MAX];
	const char *name;
	int timeout; /* seconds a removed container gets to stop */
	struct timespec deadline;
	json_object *done; /* {"created": [...], "removed": [...], "kept": [...]} */
};

/*
 * OBJ's member KEY when it is an object, else an empty object: json-c's
 * foreach cannot take NULL.  A new reference.
 */
static json_object *
members(json_object *obj, const char *key)
{
	json_object *m = jx_obj(obj, key);

	return m ? json_object_get(m) : json_object_new_object();
}

/* ---- records ------------------------------------------------------------ */

static void
record_key(const char *owner, const char *name, char *out, size_t n)
{
	own_dname(owner, name, out, n);
}

/* An admin's search of every owner's records for NAME. */
struct any_owner {
	const char *name;
	json_object *found; /* the records of that name */
};

static int
any_owner_one(const char *key, json_object *rec, void *arg)
{
	struct any_owner *a = arg;

	(void)key;
	if (jx_str(rec, "name") && strcmp(jx_str(rec, "name"), a->name) == 0)
		json_object_array_add(a->found, json_object_get(rec));
	return 0;
}

/*
 * The stack NAME as the caller sees it: its record and owner (the first of
 * the caller's namespaces that has one; for an admin, else the one owner's
 * of that name, several being a 409).
 */
static enum berr
find_record(struct op *o, const char *name, json_object **rec, char *owner, size_t n)
{
	const char *ns[OWN_NS_MAX];
	size_t k = own_namespaces(o, ns, OWN_NS_MAX);
	char key[OWN_DNAME_MAX];
	struct any_owner a = {.name = name};
	enum berr e = B_OK;

	*rec = NULL;
	for (size_t i = 0; i < k; i++) {
		record_key(ns[i], name, key, sizeof(key));
		if (st_get(ST_STACKS, key, rec) == B_OK) {
			snprintf(owner, n, "%s", ns[i]);
			return B_OK;
		}
	}
	if (o->role != ROLE_ADMIN && !o->system)
		return op_fail(o, B_NOT_FOUND, NULL, "no stack named %s", name);
	a.found = json_object_new_array();
	st_each(ST_STACKS, any_owner_one, &a);
	if (json_object_array_length(a.found) == 1) {
		*rec = json_object_get(json_object_array_get_idx(a.found, 0));
		snprintf(owner, n, "%s", jx_str(*rec, "owner") ? jx_str(*rec, "owner") : "");
	} else if (json_object_array_length(a.found) > 1) {
		e = op_fail(o, B_CONFLICT, NULL, "several owners have a stack named %s", name);
	} else {
		e = op_fail(o, B_NOT_FOUND, NULL, "no stack named %s", name);
	}
	json_object_put(a.found);
	return e;
}

static void
sha256_hex(const char *s, size_t len, char *out)
{
	unsigned char d[32];
	unsigned int n = 0;

	EVP_Digest(s, len, d, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ---- the document and its plan ----------------------------------------- */

/* The line of PATH or of the nearest key above it, from the YAML reader's map. */
static int
line_of(json_object *lines, const char *path)
{
	char p[256];

	snprintf(p, sizeof(p), "%s", path);
	while (p[0]) {
		char *cut;
		if (jx_int(lines, p, 0) > 0)
			return (int)jx_int(lines, p, 0);
		cut = strrchr(p, '.');
		if (strrchr(p, '[') > cut)
			cut = strrchr(p, '[');
		if (cut == NULL)
			break;
		*cut = '\0';
	}
	return 0;
}

/* Puts "line" on O's error (for the editor) when the failing key is in the file. */
static void
add_line(struct op *o, json_object *lines)
{
	int line;

	if (lines == NULL || o->field[0] == '\0')
		return;
	line = line_of(lines, o->field);
	if (line <= 0)
		return;
	if (o->extra == NULL)
		o->extra = json_object_new_object();
	jx_add_int(o->extra, "line", line);
}

/* The compose document of a body: its file (YAML or JSON text) or its compose object. */
static enum berr
read_doc(struct op *o, json_object *body, json_object **doc, json_object **lines)
{
	const char *file = jx_str(body, "file");
	struct yx_error ye;

	*doc = *lines = NULL;
	if (jx_get(body, "compose")) {
		if (file)
			return op_fail(o, B_INVALID, "compose", "send file or compose, not both");
		json_object_deep_copy(jx_get(body, "compose"), doc, NULL);
		return B_OK;
	}
	if (file == NULL)
		return op_fail(o, B_INVALID, "file",
		               "send the compose file (file) or its JSON (compose)");
	if (yx_parse(file, strlen(file), &yx_compose_limits, doc, lines, &ye) != 0) {
		op_fail(o, B_INVALID, "file", "line %d: %s", ye.line, ye.msg);
		if (ye.line > 0) {
			o->extra = json_object_new_object();
			jx_add_int(o->extra, "line", ye.line);
		}
		return B_INVALID;
	}
	return B_OK;
}

/* One replica's spec: the plan's with its name; a new reference. */
static json_object *
replica_spec(struct stk *s, const char *svc, json_object *def, int number)
{
	json_object *spec = NULL;
	char name[BERTH_NAME_MAX + 1];

	json_object_deep_copy(jx_obj(def, "spec"), &spec, NULL);
	cp_replica_name(s->name, svc, number, name, sizeof(name));
	jx_add_str(spec, "name", name);
	return spec;
}

/*
 * The spec of SVC as POST /api/v1/containers would check it: the schema,
 * then the owner's policy (into LIM).  A failure names the compose key.
 */
static enum berr
check_spec(struct stk *s, const char *svc, json_object *def, json_object *spec,
           struct pol_limits *lim)
{
	struct sc_error se;
	char path[OP_FIELDLEN];
	enum berr e = B_OK;

	if (sc_validate(&pol_container_schema, spec, &se) != 0)
		e = op_fail(s->o, B_INVALID, se.field, "%s", se.msg);
	if (e == B_OK)
		e = pol_check(s->o, own_policy_role(s->owner, s->o->role), spec, 0, lim);
	if (e != B_OK) {
		cp_origin(jx_obj(def, "origin"), svc, s->o->field, path, sizeof(path));
		snprintf(s->o->field, sizeof(s->o->field), "%s", path);
	}
	return e;
}

/* Every service checked before anything is made: a refusal leaves nothing behind. */
static enum berr
check_plan(struct stk *s, json_object *plan, struct usage *need)
{
	json_object *svcs = jx_obj(plan, "services");
	enum berr e = B_OK;

	memset(need, 0, sizeof(*need));
	json_object_object_foreach(svcs, k, def)
	{
		json_object *spec = replica_spec(s, k, def, 1);
		struct pol_limits lim;
		int n = (int)jx_int(def, "replicas", 1);
		e = check_spec(s, k, def, spec, &lim);
		json_object_put(spec);
		if (e != B_OK)
			return e;
		need->containers += n;
		need->memory += lim.memory * n;
		need->nano_cpus += lim.nano_cpus * n;
	}
	return e;
}

/* The document of BODY as a checked plan (new reference); errors name the key and line. */
static enum berr
plan_of(struct stk *s, json_object *body, json_object **plan, json_object **warnings,
        struct usage *need)
{
	json_object *doc, *lines;
	struct cp_error ce;
	enum berr e = read_doc(s->o, body, &doc, &lines);

	*plan = *warnings = NULL;
	if (e != B_OK)
		return e;
	if (cp_plan(s->name, doc, jx_obj(body, "variables"), plan, warnings, &ce) != 0)
		e = op_fail(s->o, B_INVALID, ce.field[0] ? ce.field : NULL, "%s%s%s", ce.field,
		            ce.field[0] ? ": " : "", ce.msg);
	if (e == B_OK)
		e = check_plan(s, *plan, need);
	if (e != B_OK) {
		add_line(s->o, lines);
		json_object_put(*plan);
		json_object_put(*warnings);
		*plan = *warnings = NULL;
	}
	json_object_put(doc);
	json_object_put(lines);
	return e;
}

/* ---- the stack's containers --------------------------------------------- */

/* OWNER's containers of stack NAME (SERVICE's alone when not NULL): raw list items. */
static enum berr
stack_containers(struct op *o, const char *owner, const char *name, const char *service,
                 json_object **out)
{
	char l1[OWN_MAX + 16], l2[96], l3[96];
	const char *labels[3] = {l1, l2, l3};

	snprintf(l1, sizeof(l1), LBL_OWNER "=%s", owner);
	snprintf(l2, sizeof(l2), LBL_COMPOSE_PROJECT "=%s", name);
	snprintf(l3, sizeof(l3), LBL_COMPOSE_SERVICE "=%s", service ? service : "");
	return ct_list(o, CT_ALL, labels, service ? 3 : 2, out);
}

static int
ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int)((deadline->tv_sec - now.tv_sec) * 1000 +
	             (deadline->tv_nsec - now.tv_nsec) / 1000000);
}

/* 1 when container IN meets COND, 0 not yet, -1 never will (with WHY). */
static int
condition_met(json_object *in, const char *cond, const char **why)
{
	json_object *st = jx_obj(in, "State");
	const char *status = jx_str(st, "Status");
	const char *health = jx_str(jx_obj(st, "Health"), "Status");

	if (strcmp(cond, "service_completed_successfully") == 0) {
		if (status && strcmp(status, "exited") == 0) {
			*why = "exited with a non-zero code";
			return jx_int(st, "ExitCode", -1) == 0 ? 1 : -1;
		}
		return 0;
	}
	if (status && (strcmp(status, "exited") == 0 || strcmp(status, "dead") == 0)) {
		*why = "is not running";
		return -1;
	}
	if (strcmp(cond, "service_started") == 0)
		return status && strcmp(status, "running") == 0;
	if (health && strcmp(health, "unhealthy") == 0) {
		*why = "is unhealthy";
		return -1;
	}
	return health && strcmp(health, "healthy") == 0;
}

/* Waits (within the request's deadline) until every container of DEP meets COND. */
static enum berr
wait_dep(struct stk *s, const char *svc, const char *dep, const char *cond)
{
	json_object *list = NULL;
	char field[OP_FIELDLEN];
	enum berr e = stack_containers(s->o, s->owner, s->name, dep, &list);

	snprintf(field, sizeof(field), "services.%s.depends_on.%s", svc, dep);
	for (size_t i = 0; e == B_OK && i < json_object_array_length(list); i++) {
		const char *id = jx_str(json_object_array_get_idx(list, i), "Id"), *why = "";
		int met = 0;
		while (e == B_OK && met == 0) {
			json_object *in = NULL;
			if ((e = eng_ct_inspect(s->o, id, &in)) != B_OK)
				break;
			met = condition_met(in, cond, &why);
			json_object_put(in);
			if (met < 0)
				e = op_fail(s->o, B_CONFLICT, field, "%s: %s %s", cond, dep, why);
			else if (met == 0 && ms_left(&s->deadline) <= 0)
				e = op_fail(s->o, B_CONFLICT, field,
				            "%s: gave up waiting for %s after %d s", cond, dep,
				            STACK_WAIT_MS / 1000);
			else if (met == 0)
				usleep(STACK_POLL_MS * 1000);
		}
	}
	json_object_put(list);
	return e;
}

static enum berr
wait_deps(struct stk *s, const char *svc, json_object *def)
{
	json_object *deps = members(def, "depends_on");
	enum berr e = B_OK;

	json_object_object_foreach(deps, dep, cond)
	{
		if ((e = wait_dep(s, svc, dep, json_object_get_string(cond))) != B_OK)
			break;
	}
	json_object_put(deps);
	return e;
}

static void
done(struct stk *s, const char *what, const char *name)
{
	json_object *a = jx_arr(s->done, what);

	if (a == NULL) {
		a = json_object_new_array();
		json_object_object_add(s->done, what, a);
	}
	json_object_array_add(a, json_object_new_string(name));
}

/* Creates replica NUMBER of SVC, labelled as compose labels its containers. */
static enum berr
create_replica(struct stk *s, const char *svc, json_object *def, int number)
{
	json_object *spec = replica_spec(s, svc, def, number), *labels = json_object_new_object();
	json_object *in = NULL;
	struct ct_new n = {.spec = spec, .owner = s->owner, .labels = labels, .start = 1};
	char num[16];
	int created;
	enum berr e = check_spec(s, svc, def, spec, &n.lim);

	snprintf(num, sizeof(num), "%d", number);
	jx_add_str(labels, LBL_STACK, s->name);
	jx_add_str(labels, LBL_COMPOSE_PROJECT, s->name);
	jx_add_str(labels, LBL_COMPOSE_SERVICE, svc);
	jx_add_str(labels, LBL_COMPOSE_NUMBER, num);
	jx_add_str(labels, LBL_COMPOSE_ONEOFF, "False");
	jx_add_str(labels, LBL_COMPOSE_HASH, jx_str(def, "hash"));
	if (e == B_OK)
		e = ct_create(s->o, &n, &in, &created);
	if (e == B_OK)
		done(s, "created", jx_str(spec, "name"));
	json_object_put(in);
	json_object_put(labels);
	json_object_put(spec);
	return e;
}

/* Brings SVC to its plan: containers of another hash or number go, missing ones come. */
static enum berr
converge(struct stk *s, const char *svc, json_object *def)
{
	int want = (int)jx_int(def, "replicas", 1);
	unsigned have = 0; /* bit i: replica i+1 is there and current */
	json_object *list = NULL;
	enum berr e = stack_containers(s->o, s->owner, s->name, svc, &list);

	for (size_t i = 0; e == B_OK && i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i);
		const char *h = ct_label(it, LBL_COMPOSE_HASH),
		           *num = ct_label(it, LBL_COMPOSE_NUMBER);
		int k = num ? atoi(num) : 0;
		if (k >= 1 && k <= want && k <= 32 && !(have & (1u << (k - 1))) && h &&
		    strcmp(h, jx_str(def, "hash")) == 0) {
			have |= 1u << (k - 1);
			done(s, "kept", ct_item_name(it));
			continue;
		}
		e = ct_remove(s->o, jx_str(it, "Id"), s->timeout);
		if (e == B_OK)
			done(s, "removed", ct_item_name(it));
	}
	json_object_put(list);
	for (int k = 1; e == B_OK && k <= want; k++)
		if (!(have & (1u << (k - 1))))
			e = create_replica(s, svc, def, k);
	return e;
}

/* Removes the stack's containers whose service PLAN lacks (every one when PLAN is NULL). */
static enum berr
remove_others(struct stk *s, json_object *plan)
{
	json_object *list = NULL, *svcs = jx_obj(plan, "services");
	enum berr e = stack_containers(s->o, s->owner, s->name, NULL, &list);

	for (size_t i = 0; e == B_OK && i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i);
		const char *svc = ct_label(it, LBL_COMPOSE_SERVICE);
		if (svc && jx_obj(svcs, svc))
			continue;
		e = ct_remove(s->o, jx_str(it, "Id"), s->timeout);
		if (e == B_OK)
			done(s, "removed", ct_item_name(it));
	}
	json_object_put(list);
	return e;
}

/* 1 when some service of PLAN joins the network berth names NAME. */
static int
network_used(json_object *plan, const char *name)
{
	json_object *svcs = members(plan, "services");
	int used = 0;

	json_object_object_foreach(svcs, k, def)
	{
		const char *n = jx_str(jx_obj(def, "spec"), "network");
		(void)k;
		used |= n && strcmp(n, name) == 0;
	}
	json_object_put(svcs);
	return used;
}

/* The stack's own networks PLAN's services join, made when missing. */
static enum berr
make_networks(struct stk *s, json_object *plan)
{
	json_object *nets = members(plan, "networks");
	enum berr e = B_OK;

	json_object_object_foreach(nets, k, d)
	{
		json_object *labels;
		if (jx_bool(d, "external", 0) || !network_used(plan, jx_str(d, "name")))
			continue;
		labels = json_object_new_object();
		jx_add_str(labels, LBL_COMPOSE_PROJECT, s->name);
		jx_add_str(labels, "com.docker.compose.network", k);
		e = net_ensure(s->o, s->owner, jx_str(d, "name"), labels);
		json_object_put(labels);
		if (e != B_OK)
			break;
	}
	json_object_put(nets);
	return e;
}

/* Removes OLD's own networks that NEXT (NULL: none) no longer uses. */
static enum berr
drop_networks(struct stk *s, json_object *old, json_object *next)
{
	json_object *nets = members(old, "networks");
	enum berr e = B_OK;

	json_object_object_foreach(nets, k, d)
	{
		const char *n = jx_str(d, "name");
		(void)k;
		if (jx_bool(d, "external", 0) || (next && network_used(next, n)))
			continue;
		if ((e = net_remove_owned(s->o, s->owner, n)) != B_OK)
			break;
	}
	json_object_put(nets);
	return e;
}

/* Brings the stack to PLAN, dependencies first; OLD (may be NULL) is what it was. */
static enum berr
apply(struct stk *s, json_object *plan, json_object *old)
{
	json_object *order = jx_arr(plan, "order");
	enum berr e = make_networks(s, plan);

	clock_gettime(CLOCK_MONOTONIC, &s->deadline);
	s->deadline.tv_sec += STACK_WAIT_MS / 1000;
	for (size_t i = 0; e == B_OK && i < json_object_array_length(order); i++) {
		const char *svc = json_object_get_string(json_object_array_get_idx(order, i));
		json_object *def = jx_obj(jx_obj(plan, "services"), svc);
		e = wait_deps(s, svc, def);
		if (e == B_OK)
			e = converge(s, svc, def);
	}
	if (e == B_OK)
		e = remove_others(s, plan);
	if (e == B_OK && old)
		e = drop_networks(s, old, plan);
	return e;
}

/* Takes the whole stack down: containers (dependents first), its networks, VOLUMES too. */
static enum berr
take_down(struct stk *s, json_object *plan, int volumes)
{
	json_object *vols = members(plan, "volumes");
	enum berr e = remove_others(s, NULL);

	if (e == B_OK && plan)
		e = drop_networks(s, plan, NULL);

	json_object_object_foreach(vols, k, d)
	{
		(void)k;
		if (e != B_OK || !volumes || jx_bool(d, "external", 0))
			continue;
		e = vol_remove_owned(s->o, s->owner, jx_str(d, "name"));
		if (e == B_OK)
			done(s, "volumes_removed", jx_str(d, "name"));
	}
	json_object_put(vols);
	return e;
}

/* ---- views -------------------------------------------------------------- */

/* Per service: containers, running, health; and the stack's status, from LIST's items. */
static json_object *
services_view(json_object *plan, json_object *list, int details, const char **status)
{
	json_object *out = json_object_new_object(), *svcs = members(plan, "services");
	int want = 0, running = 0;

	json_object_object_foreach(svcs, k, def)
	{
		json_object *v = json_object_new_object();
		jx_add_int(v, "replicas", jx_int(def, "replicas", 1));
		jx_add_int(v, "running", 0);
		jx_add_str(v, "image", jx_str(jx_obj(def, "spec"), "image"));
		if (details)
			json_object_object_add(v, "containers", json_object_new_array());
		want += (int)jx_int(def, "replicas", 1);
		json_object_object_add(out, k, v);
	}
	json_object_put(svcs);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i), *v;
		const char *svc = ct_label(it, LBL_COMPOSE_SERVICE), *st = jx_str(it, "State");
		if (svc == NULL)
			continue;
		if ((v = jx_obj(out, svc)) == NULL) {
			/* A compose project berth has no plan of: what runs is what it is. */
			v = json_object_new_object();
			jx_add_int(v, "running", 0);
			jx_add_int(v, "replicas", 0);
			jx_add_str(v, "image", jx_str(it, "Image"));
			if (details)
				json_object_object_add(v, "containers", json_object_new_array());
			json_object_object_add(out, svc, v);
		}
		if (plan == NULL) {
			jx_add_int(v, "replicas", jx_int(v, "replicas", 0) + 1);
			want++;
		}
		if (st && strcmp(st, "running") == 0) {
			jx_add_int(v, "running", jx_int(v, "running", 0) + 1);
			running++;
		}
		if (details)
			json_object_array_add(jx_arr(v, "containers"), ct_view_item(it));
	}
	*status = running == 0 && want > 0 ? "stopped" : running < want ? "partial" : "running";
	return out;
}

static json_object *
stack_view(json_object *rec, const char *name, const char *owner, json_object *list, int details)
{
	json_object *v = json_object_new_object(), *plan = jx_obj(rec, "plan");
	const char *status;
	json_object *svcs = services_view(plan, list, details, &status);

	jx_add_str(v, "name", name);
	jx_add_str(v, "owner", owner);
	jx_add_bool(v, "managed", rec != NULL);
	jx_add_str(v, "source", rec ? "berth" : "compose");
	jx_add_str(v, "status", status);
	if (rec) {
		jx_add_str(v, "mode", "engine");
		jx_add_str(v, "hash", jx_str(rec, "hash"));
		jx_add_ref(v, "created", jx_get(rec, "created"));
		jx_add_ref(v, "updated", jx_get(rec, "updated"));
	}
	json_object_object_add(v, "services", svcs);
	if (details && rec) {
		json_object *keys = json_object_new_array(), *vars = members(rec, "variables");
		jx_add_ref(v, "file", jx_get(rec, "file"));
		jx_add_ref(v, "compose", jx_get(rec, "compose"));
		jx_add_ref(v, "order", jx_get(plan, "order"));
		jx_add_ref(v, "networks", jx_get(plan, "networks"));
		jx_add_ref(v, "volumes", jx_get(plan, "volumes"));
		/* The variables' names only: their values may be secrets. */
		json_object_object_foreach(vars, k, val)
		{
			(void)val;
			json_object_array_add(keys, json_object_new_string(k));
		}
		json_object_put(vars);
		json_object_object_add(v, "variables", keys);
	}
	return v;
}

/* ---- handlers ----------------------------------------------------------- */

static enum berr
write_record(struct stk *s, json_object *body, json_object *plan, json_object *old)
{
	json_object *rec = json_object_new_object();
	const char *file = jx_str(body, "file");
	const char *text = file ? file : jx_text(jx_get(body, "compose"));
	char key[OWN_DNAME_MAX], hash[65];
	enum berr e;

	sha256_hex(text, strlen(text), hash);
	record_key(s->owner, s->name, key, sizeof(key));
	jx_add_str(rec, "name", s->name);
	jx_add_str(rec, "owner", s->owner);
	jx_add_str(rec, "instance", g_cfg->instance);
	jx_add_str(rec, "file", file);
	jx_add_ref(rec, "compose", file ? NULL : jx_get(body, "compose"));
	jx_add_ref(rec, "variables", jx_get(body, "variables"));
	jx_add_str(rec, "hash", hash);
	jx_add_int(rec, "created", old ? jx_int(old, "created", 0) : (int64_t)time(NULL));
	jx_add_int(rec, "updated", (int64_t)time(NULL));
	jx_add_ref(rec, "plan", plan);
	e = st_put(ST_STACKS, key, rec);
	if (e != B_OK)
		op_fail(s->o, e, NULL, "cannot write the stack's record");
	au_str(s->o, "hash", hash);
	json_object_put(rec);
	return e;
}

/* The lock that keeps two changes of one stack apart (deploy, update, down). */
static int
lock_stack(const char *owner, const char *name)
{
	char key[OWN_DNAME_MAX], lk[OWN_DNAME_MAX + 8];

	record_key(owner, name, key, sizeof(key));
	snprintf(lk, sizeof(lk), "stack.%s", key);
	return st_lock(lk);
}

static void
answer(struct req *r, struct stk *s, json_object *rec, int status, json_object *warnings)
{
	json_object *list = NULL, *v;

	if (stack_containers(s->o, s->owner, s->name, NULL, &list) != B_OK) {
		op_clear(s->o);
		list = json_object_new_array();
	}
	v = stack_view(rec, s->name, s->owner, list, 1);
	jx_add_ref(v, "changes", s->done);
	if (warnings && json_object_array_length(warnings) > 0)
		jx_add_ref(v, "warnings", warnings);
	json_object_put(list);
	rq_json(r, status, v);
}

/* Records the stack as PLAN (from the request's body) and answers with its view. */
static enum berr
record_and_answer(struct req *r, struct stk *s, json_object *plan, json_object *old,
                  json_object *warnings)
{
	json_object *rec = NULL;
	char key[OWN_DNAME_MAX];
	enum berr e = write_record(s, r->json, plan, old);

	record_key(s->owner, s->name, key, sizeof(key));
	if (e == B_OK && st_get(ST_STACKS, key, &rec) != B_OK)
		e = op_fail(s->o, B_INTERNAL, NULL, "cannot read the stack's record back");
	if (e == B_OK) {
		log_info("stack_%s name=%s owner=%s", old ? "updated" : "deployed", s->name,
		         s->owner);
		answer(r, s, rec, old ? 200 : 201, warnings);
	}
	json_object_put(rec);
	return e;
}

/*
 * POST and PUT: the body's plan, checked whole, then applied under the
 * stack's lock and recorded.  A deploy that fails takes down what it made; a
 * failed update leaves the old record, and sending it again finishes it.
 */
static enum berr
deploy(struct req *r, struct stk *s, int update)
{
	json_object *plan = NULL, *warnings = NULL, *old = NULL;
	struct usage need;
	char key[OWN_DNAME_MAX];
	int fd = -1, have = 0;
	enum berr e = plan_of(s, r->json, &plan, &warnings, &need);

	if (e == B_OK && (fd = lock_stack(s->owner, s->name)) < 0)
		e = op_fail(s->o, B_INTERNAL, NULL, "cannot lock the state directory");
	record_key(s->owner, s->name, key, sizeof(key));
	if (e == B_OK)
		have = st_get(ST_STACKS, key, &old) == B_OK;
	if (e == B_OK && have && !update)
		e = op_fail(s->o, B_CONFLICT, "name",
		            "a stack named %s exists already: PUT changes it", s->name);
	if (e == B_OK && !have && update)
		e = op_fail(s->o, B_NOT_FOUND, NULL, "no stack named %s", s->name);
	/* The whole stack against the quota first, so it is not refused half made. */
	if (e == B_OK && !update)
		e = own_admit(s->o, s->owner, NULL, &need);
	if (e == B_OK && (e = apply(s, plan, jx_obj(old, "plan"))) != B_OK && !update) {
		/* Nothing half-made: what this deploy made goes (named volumes stay, as ever). */
		struct op_err sv;
		op_save(s->o, &sv);
		take_down(s, plan, 0);
		op_restore(s->o, &sv);
	}
	if (e == B_OK)
		e = record_and_answer(r, s, plan, old, warnings);
	st_unlock(fd);
	json_object_put(old);
	json_object_put(plan);
	json_object_put(warnings);
	return e;
}

static enum berr
h_create(struct req *r)
{
	struct stk s = {.o = &r->op, .name = jx_str(r->json, "name"), .timeout = 10};
	enum berr e =
	    own_for_create(s.o, jx_str(r->json, "owner"), "owner", s.owner, sizeof(s.owner));

	s.done = json_object_new_object();
	snprintf(s.o->audit_target, sizeof(s.o->audit_target), "stack %s", s.name);
	if (e == B_OK)
		e = deploy(r, &s, 0);
	json_object_put(s.done);
	return e;
}

static enum berr
h_put(struct req *r)
{
	struct stk s = {.o = &r->op, .name = r->args[0], .timeout = (int)rq_int(r, "timeout")};
	json_object *rec = NULL;
	enum berr e = find_record(s.o, s.name, &rec, s.owner, sizeof(s.owner));

	json_object_put(rec);
	s.done = json_object_new_object();
	snprintf(s.o->audit_target, sizeof(s.o->audit_target), "stack %s", s.name);
	if (e == B_OK)
		e = deploy(r, &s, 1);
	json_object_put(s.done);
	return e;
}

static enum berr
h_delete(struct req *r)
{
	struct stk s = {.o = &r->op, .name = r->args[0], .timeout = (int)rq_int(r, "timeout")};
	json_object *rec = NULL;
	char key[OWN_DNAME_MAX];
	int fd = -1;
	enum berr e = find_record(s.o, s.name, &rec, s.owner, sizeof(s.owner));

	s.done = json_object_new_object();
	snprintf(s.o->audit_target, sizeof(s.o->audit_target), "stack %s", s.name);
	if (e == B_OK && (fd = lock_stack(s.owner, s.name)) < 0)
		e = op_fail(s.o, B_INTERNAL, NULL, "cannot lock the state directory");
	if (e == B_OK)
		e = take_down(&s, jx_obj(rec, "plan"), rq_bool(r, "volumes"));
	record_key(s.owner, s.name, key, sizeof(key));
	if (e == B_OK) {
		st_del(ST_STACKS, key);
		au_str(s.o, "hash", jx_str(rec, "hash"));
		log_info("stack_removed name=%s owner=%s", s.name, s.owner);
		rq_json(r, 200, json_object_get(s.done));
	}
	st_unlock(fd);
	json_object_put(rec);
	json_object_put(s.done);
	return e;
}

static enum berr
h_get(struct req *r)
{
	struct stk s = {.o = &r->op, .name = r->args[0]};
	json_object *rec = NULL, *list = NULL;
	enum berr e = find_record(s.o, s.name, &rec, s.owner, sizeof(s.owner));

	if (e == B_OK)
		e = stack_containers(s.o, s.owner, s.name, NULL, &list);
	if (e == B_OK)
		rq_json(r, 200, stack_view(rec, s.name, s.owner, list, 1));
	json_object_put(rec);
	json_object_put(list);
	return e;
}

/* What h_list gathers: the records the caller may see, keyed "owner\nname". */
struct gather {
	struct op *o;
	const char *owner; /* ?owner= */
	json_object *recs;
};

static int
gather_one(const char *key, json_object *rec, void *arg)
{
	struct gather *g = arg;
	const char *owner = jx_str(rec, "owner"), *name = jx_str(rec, "name");
	char k[OWN_MAX + 64];

	(void)key;
	if (!owner || !name || !own_visible(g->o, owner) || (g->owner && strcmp(g->owner, owner)))
		return 0;
	snprintf(k, sizeof(k), "%s\n%s", owner, name);
	jx_add_ref(g->recs, k, rec);
	return 0;
}

/* LIST's items of compose projects, grouped by "owner\nproject" into a new object. */
static json_object *
group_projects(json_object *list)
{
	json_object *by = json_object_new_object();
	char k[OWN_MAX + 64];

	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i), *a;
		const char *p = ct_label(it, LBL_COMPOSE_PROJECT), *ow = ct_label(it, LBL_OWNER);
		if (p == NULL || ow == NULL)
			continue;
		snprintf(k, sizeof(k), "%s\n%s", ow, p);
		if ((a = jx_arr(by, k)) == NULL) {
			a = json_object_new_array();
			json_object_object_add(by, k, a);
		}
		json_object_array_add(a, json_object_get(it));
	}
	return by;
}

static enum berr
h_list(struct req *r)
{
	struct gather g = {
	    .o = &r->op, .owner = rq_str(r, "owner"), .recs = json_object_new_object()};
	json_object *list = NULL, *by = NULL, *out = json_object_new_array(), *empty;
	enum berr e = ct_list_visible(g.o, CT_ALL, g.owner, &list);

	if (e == B_OK)
		e = st_each(ST_STACKS, gather_one, &g);
	if (e != B_OK)
		goto out;
	by = group_projects(list);
	empty = json_object_new_array();
	json_object_object_foreach(g.recs, k, rec)
	{
		json_object *cts = jx_arr(by, k);
		json_object_array_add(out, stack_view(rec, jx_str(rec, "name"),
		                                      jx_str(rec, "owner"), cts ? cts : empty, 0));
	}
	/* Compose projects of the caller's that berth holds no record of: listed, not hidden. */
	json_object_object_foreach(by, k2, cts2)
	{
		char owner[OWN_MAX];
		const char *nl = strchr(k2, '\n');
		if (jx_obj(g.recs, k2) || nl == NULL)
			continue;
		snprintf(owner, sizeof(owner), "%.*s", (int)(nl - k2), k2);
		json_object_array_add(out, stack_view(NULL, nl + 1, owner, cts2, 0));
	}
	json_object_put(empty);
	empty = json_object_new_object();
	json_object_object_add(empty, "stacks", out);
	out = NULL;
	rq_json(r, 200, empty);
out:
	json_object_put(out);
	json_object_put(by);
	json_object_put(list);
	json_object_put(g.recs);
	return e;
}

/* ---- merged logs -------------------------------------------------------- */

/* Lines gathered from every container, each "TIMESTAMP PREFIX | text". */
struct lines {
	char **v;
	size_t n, cap, bytes;
	const char *prefix;
	char part[8192]; /* a line not ended yet */
	size_t plen;
	struct ct_demux dm;
};

static void
push_line(struct lines *l, const char *s, size_t len)
{
	const char *sp = memchr(s, ' ', len);
	char *line;
	size_t ts = sp ? (size_t)(sp - s) : 0, k;

	if (l->bytes > STACK_LOGS_MAX)
		return;
	if (l->n == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 256;
		char **v = realloc(l->v, c * sizeof(*v));
		if (v == NULL)
			return;
		l->v = v;
		l->cap = c;
	}
	k = len + strlen(l->prefix) + 8;
	if ((line = malloc(k)) == NULL)
		return;
	/* Docker's timestamp first (for sorting), then the replica, then the text. */
	snprintf(line, k, "%.*s %s | %.*s", (int)ts, s, l->prefix, (int)(len - ts - (sp ? 1 : 0)),
	         sp ? sp + 1 : s);
	l->v[l->n++] = line;
	l->bytes += k;
}

static int
emit(int stream, const char *buf, size_t len, void *arg)
{
	struct lines *l = arg;

	(void)stream;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n' || l->plen == sizeof(l->part)) {
			push_line(l, l->part, l->plen);
			l->plen = 0;
			if (buf[i] == '\n')
				continue;
		}
		l->part[l->plen++] = buf[i];
	}
	return 0;
}

static int
sink(const char *buf, size_t len, void *arg)
{
	struct lines *l = arg;

	return l->bytes > STACK_LOGS_MAX ? 1 : ct_demux_feed(&l->dm, buf, len);
}

/* Docker's RFC 3339 times trim trailing zeros: compare seconds, then the fraction padded. */
static int
by_time(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int c = strncmp(x, y, 19);
	char fx[10] = "000000000", fy[10] = "000000000";

	if (c)
		return c;
	for (int i = 0; i < 9 && x[19] == '.' && x[20 + i] >= '0' && x[20 + i] <= '9'; i++)
		fx[i] = x[20 + i];
	for (int i = 0; i < 9 && y[19] == '.' && y[20 + i] >= '0' && y[20 + i] <= '9'; i++)
		fy[i] = y[20 + i];
	return strcmp(fx, fy);
}

static enum berr
h_logs(struct req *r)
{
	struct stk s = {.o = &r->op, .name = r->args[0]};
	struct eng_logs q = {
	    .stdout_ = 1, .stderr_ = 1, .timestamps = 1, .tail = rq_int(r, "tail")};
	struct lines l = {0};
	struct eng_sink sk = {.sink = sink, .arg = &l};
	json_object *rec = NULL, *list = NULL;
	int ts = rq_bool(r, "timestamps");
	enum berr e;

	if (rq_bool(r, "follow"))
		return op_fail(s.o, B_BAD_REQUEST, "follow",
		               "a stack's merged logs do not follow yet: follow one container's "
		               "(/api/v1/containers/{ref}/logs?follow=1)");
	e = find_record(s.o, s.name, &rec, s.owner, sizeof(s.owner));
	if (e == B_OK)
		e = stack_containers(s.o, s.owner, s.name, NULL, &list);
	for (size_t i = 0; e == B_OK && i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i);
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "%s-%s", ct_label(it, LBL_COMPOSE_SERVICE),
		         ct_label(it, LBL_COMPOSE_NUMBER) ? ct_label(it, LBL_COMPOSE_NUMBER) : "?");
		l.prefix = prefix;
		memset(&l.dm, 0, sizeof(l.dm));
		l.dm.emit = emit;
		l.dm.arg = &l;
		e = eng_ct_logs(s.o, jx_str(it, "Id"), &q, &sk);
		if (l.plen)
			push_line(&l, l.part, l.plen);
		l.plen = 0;
	}
	if (e == B_OK) {
		rq_stream_begin(r, 200, "text/plain; charset=utf-8");
		qsort(l.v, l.n, sizeof(*l.v), by_time);
		for (size_t i = 0; i < l.n; i++) {
			const char *line = ts ? l.v[i] : strchr(l.v[i], ' ') + 1;
			if (rq_write(r, line, strlen(line)) < 0 || rq_write(r, "\n", 1) < 0)
				break;
		}
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	json_object_put(rec);
	json_object_put(list);
	return e;
}

/* ---- the module --------------------------------------------------------- */

static int
drop_one(const char *key, json_object *rec, void *arg)
{
	(void)arg;
	if (jx_str(rec, "instance") && strcmp(jx_str(rec, "instance"), g_cfg->instance) == 0)
		st_del(ST_STACKS, key);
	return 0;
}

/* berth-up's cleanup: the containers went with the instance; their stacks' records go too. */
static int
stacks_cleanup(void)
{
	return st_each(ST_STACKS, drop_one, NULL) == B_OK ? 0 : -1;
}

static const struct sc_field var_value = {.types = SC_STRING, .max = 4096};

/* The file and its variables, the same in a deploy and an update. */
#define FILE_FIELDS                                                                                \
	{.name = "file",                                                                           \
	 .types = SC_STRING,                                                                       \
	 .desc = "The compose file, YAML (or JSON) text: services (image, command, entrypoint, "   \
	         "environment, ports, volumes, networks, depends_on, restart, healthcheck, "       \
	         "labels, user, working_dir, mem_limit, cpus, deploy.replicas, "                   \
	         "deploy.resources.limits), top-level volumes and networks; any other key is "     \
	         "refused naming its path.",                                                       \
	 .min = 1,                                                                                 \
	 .max = 256 * 1024},                                                                       \
	    {.name = "compose",                                                                    \
	     .types = SC_OBJECT,                                                                   \
	     .desc = "The compose file as a JSON object, instead of file."},                       \
	{                                                                                          \
		.name = "variables", .types = SC_OBJECT,                                           \
		.desc = "Values for ${VAR}, ${VAR:-default} and $VAR in the file (.env style).",   \
		.max = 256, .values = &var_value, .keys = "^[A-Za-z_][A-Za-z0-9_]*$"               \
	}

static const struct sc_field create_fields[] = {
    {.name = "name",
     .types = SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "Stack name (compose's project name): lower-case letters, digits, _ and -.",
     .min = 1,
     .max = CP_STACK_MAX,
     .pattern = CP_STACK_RE,
     .example = "\"shop\""},
    FILE_FIELDS,
    OWN_FIELD,
    {0}};
static const struct sc_schema stack_schema = {
    "stack", "a compose stack", create_fields,
    "{\"name\":\"shop\",\"file\":\"services:\\n  web:\\n    image: berth-test/busybox:1\\n"
    "    command: [httpd, -f, -p, '8080']\\n    ports: ['8080']\\n\"}",
    1};
static const struct sc_field update_fields[] = {FILE_FIELDS, {0}};
static const struct sc_schema stack_update_schema = {
    "stack_update", "a changed compose file for a stack", update_fields,
    "{\"file\":\"services:\\n  web:\\n    image: berth-test/busybox:1\\n"
    "    command: [httpd, -f, -p, '8081']\\n\"}",
    1};

static const struct rt_param timeout_query[] = {
    {.name = "timeout",
     .type = P_INT,
     .desc = "Seconds a removed container gets to stop.",
     .min = 0,
     .max = 600,
     .dflt = 10},
    {0}};
static const struct rt_param delete_query[] = {
    {.name = "volumes", .type = P_BOOL, .desc = "Remove the stack's named volumes too."},
    {.name = "timeout",
     .type = P_INT,
     .desc = "Seconds a container gets to stop.",
     .min = 0,
     .max = 600,
     .dflt = 10},
    {0}};
static const struct rt_param list_query[] = {RT_P_OWNER, {0}};
static const struct rt_param logs_query[] = {
    {.name = "tail",
     .type = P_INT,
     .desc = "The last N lines of each container (or \"all\").",
     .min = 0,
     .max = 100000,
     .dflt = 500,
     .any = "all"},
    {.name = "timestamps", .type = P_BOOL, .desc = "Begin each line with its time."},
    {.name = "follow", .type = P_BOOL, .desc = "Not yet: refused (follow one container's logs)."},
    {0}};

static const struct rt_route stack_routes[] = {
    {"GET", "/api/v1/stacks", h_list, ROLE_VIEWER, 0, NULL,
     "The caller's stacks with each service's state, and their compose projects berth holds "
     "no record of (managed false).",
     list_query},
    {"POST", "/api/v1/stacks", h_create, ROLE_OPERATOR, RT_BODY | RT_MUT, &stack_schema,
     "Deploy a compose file as a stack: every service created as POST /api/v1/containers "
     "would, dependencies first (depends_on conditions waited for).",
     NULL},
    {"GET", "/api/v1/stacks/{name}", h_get, ROLE_VIEWER, 0, NULL,
     "The file as deployed, its plan, and each service's containers.", NULL},
    {"PUT", "/api/v1/stacks/{name}", h_put, ROLE_OPERATOR, RT_BODY | RT_MUT, &stack_update_schema,
     "Apply a changed file: only services whose definition changed are recreated.", timeout_query},
    {"DELETE", "/api/v1/stacks/{name}", h_delete, ROLE_OPERATOR, RT_MUT, NULL,
     "Take the stack down (named volumes kept unless ?volumes=1).", delete_query},
    {"GET", "/api/v1/stacks/{name}/logs", h_logs, ROLE_VIEWER, RT_STREAM | RT_TEXT, NULL,
     "Every service's logs merged in time order, each line prefixed with its replica.", logs_query},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

static int
stack_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CP_STACK_MAX ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return 0;
	return 1;
}

static const struct rt_param stack_args[] = {{.name = "name",
                                              .type = P_STR,
                                              .desc = "stack",
                                              .valid = stack_name_valid,
                                              .rule = "a stack name (a-z, 0-9, _ and -)"},
                                             {0}};

static const struct sc_schema *const stack_schemas[] = {&stack_schema, &stack_update_schema, NULL};
static const char *const stack_kinds[] = {ST_STACKS, NULL};

const struct bmod mod_stacks = {
    .name = "stacks",
    .routes = stack_routes,
    .args = stack_args,
    .schemas = stack_schemas,
    .state_kinds = stack_kinds,
    .cleanup = stacks_cleanup,
};

/*
 * seed000.c - seed 000's container manager routes at the root path
 * (Harpoon): /start_container, /stop_container, /unlock_container,
 * /shutdown.  They ride on the catalog and the containers module: a
 * catalog entry is built on demand, started once per owner under the name
 * cm-<entry> (in the owner's namespace, so every user and every berth-up
 * instance has its own), and reused.  "lock": true leases the container;
 * later locked starts of that owner for that image queue (first come, first
 * served) until /unlock_container.
 */
#include "berth.h"
#include "store/audit.h"
#include "res/catalog.h"
#include "lib/cfg.h"
#include "res/containers.h"
#include "lib/json.h"
#include "lib/log.h"
#include "res/owner.h"
#include "res/policy.h"
#include "edge/req.h"
#include "doors/doors.h"
#include "edge/route.h"
#include "store/state.h"
#include "edge/worker.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ST_LEASES  "leases"
#define LEASE_WAIT (10 * 60) /* seconds a locked start may queue (nginx allows 10 min) */

static const struct sc_field port_part = {.types = SC_INT | SC_STRING, .max = 65535};
static const struct sc_field port_item = {
    .types = SC_ARRAY,
    .min = 1,
    .max = 3,
    .items = &port_part,
    .desc = "[container], [host, container] or [ip, host, container]"};
static const struct sc_field start_fields[] = {
    {.name = "image",
     .types = SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "Name of a catalog entry.",
     .min = 1,
     .max = 64,
     .pattern = SC_NAME_RE,
     .example = "\"server\""},
    {.name = "ports",
     .types = SC_ARRAY,
     .desc = "Ports to publish; host 0 picks a free one.",
     .max = 64,
     .items = &port_item,
     .example = "[[0, 4545]]"},
    {.name = "lock",
     .types = SC_BOOL,
     .desc = "Lease the container: later locked starts wait for /unlock_container."},
    {0}};
static const struct sc_field image_fields[] = {{.name = "image",
                                                .types = SC_STRING,
                                                .flags = SC_REQUIRED,
                                                .desc = "Name of a catalog entry.",
                                                .min = 1,
                                                .max = 64,
                                                .pattern = SC_NAME_RE},
                                               {0}};

static const struct sc_schema seed_start_schema = {
    "start_container", "seed 000 start_container", start_fields,
    "{\"image\":\"server\",\"ports\":[[0,4545]]}", 0};
static const struct sc_schema seed_image_schema = {"image_ref", "seed 000 stop/unlock_container",
                                                   image_fields, "{\"image\":\"server\"}", 0};

/* What seed 000 calls an entry's container: cm-<entry>. */
static void
seed_name(const char *entry, char *buf, size_t n)
{
	snprintf(buf, n, "cm-%.60s", entry);
}

static enum berr
unknown_image(struct req *r, const char *image)
{
	char names[512];

	r->op.extra = json_object_new_object();
	{
		json_object *avail = json_object_new_array();
		json_object_object_foreach(g_cfg->catalog, k, v)
		{
			(void)v;
			json_object_array_add(avail, json_object_new_string(k));
		}
		json_object_object_add(r->op.extra, "available", avail);
	}
	return op_fail(&r->op, B_NOT_FOUND, "image", "unknown image %.64s; available: %s", image,
	               cat_names(names, sizeof(names)));
}

/* One port item -> berth's {container, host?, ip?}; NULL and a 400 when malformed. */
static json_object *
port_spec(struct req *r, json_object *item, size_t i)
{
	size_t n = json_object_array_length(item);
	json_object *c = json_object_array_get_idx(item, n - 1), *o = json_object_new_object();
	char field[32];

	snprintf(field, sizeof(field), "ports[%zu]", i);
	if (json_object_is_type(c, json_type_int)) {
		jx_add_int(o, "container", json_object_get_int64(c));
	} else {
		const char *s = json_object_get_string(c);
		size_t digits = strspn(s, "0123456789");
		if (digits == 0 || digits > 5 ||
		    (s[digits] && strcmp(s + digits, "/tcp") && strcmp(s + digits, "/udp"))) {
			json_object_put(o);
			op_fail(&r->op, B_BAD_REQUEST, field,
			        "container port must be like 4545 or \"4545/tcp\"");
			return NULL;
		}
		jx_add_str(o, "container", s);
	}
	if (n >= 2) {
		json_object *h = json_object_array_get_idx(item, n - 2);
		long long host = json_object_is_type(h, json_type_int)
		                     ? json_object_get_int64(h)
		                     : atoll(json_object_get_string(h));
		if (host < 0 || host > 65535) {
			json_object_put(o);
			op_fail(&r->op, B_BAD_REQUEST, field, "host port must be 0..65535");
			return NULL;
		}
		jx_add_int(o, "host", host);
	}
	if (n == 3)
		jx_add_str(o, "ip", json_object_get_string(json_object_array_get_idx(item, 0)));
	return o;
}

/* The spec for entry NAME with the request's ports (else the entry's). */
static json_object *
start_spec(struct req *r, const char *entry, json_object *def)
{
	json_object *spec = json_object_new_object(), *ports = jx_arr(r->json, "ports");
	char tag[300], name[80];

	seed_name(entry, name, sizeof(name));
	jx_add_str(spec, "name", name);
	jx_add_str(spec, "image", cat_tag(entry, def, tag, sizeof(tag)));
	if (ports) {
		json_object *out = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(ports); i++) {
			json_object *p = port_spec(r, json_object_array_get_idx(ports, i), i);
			if (p == NULL) {
				json_object_put(out);
				json_object_put(spec);
				return NULL;
			}
			json_object_array_add(out, p);
		}
		json_object_object_add(spec, "ports", out);
	}
	cat_apply_defaults(spec);
	return spec;
}

/*
 * ---- leases: a ticket queue per owner and entry ----------------------------
 * Kept in leases/<key>.json, KEY the entry's name in the owner's namespace:
 * one user's unlock never releases another's lease.
 */
static void
lease_key(struct req *r, const char *entry, char *key, size_t n)
{
	own_dname(op_owner(&r->op), entry, key, n);
}

static json_object *
lease_read(const char *entry)
{
	json_object *rec = NULL;

	if (st_get(ST_LEASES, entry, &rec) != B_OK) {
		rec = json_object_new_object();
		jx_add_int(rec, "next", 0);
		jx_add_int(rec, "serving", 0);
		jx_add_bool(rec, "held", 0);
		json_object_object_add(rec, "abandoned", json_object_new_array());
	}
	return rec;
}

static int
abandoned(json_object *rec, int64_t t)
{
	json_object *a = jx_arr(rec, "abandoned");

	for (size_t i = 0; a && i < json_object_array_length(a); i++)
		if (json_object_get_int64(json_object_array_get_idx(a, i)) == t)
			return 1;
	return 0;
}

/* Moves the queue past the served ticket and any whose requester left. */
static void
lease_advance(json_object *rec)
{
	int64_t s = jx_int(rec, "serving", 0) + 1;

	while (s < jx_int(rec, "next", 0) && abandoned(rec, s))
		s++;
	jx_add_int(rec, "serving", s);
	jx_add_bool(rec, "held", 0);
}

/* Under the entry's lock, applies FN to the lease record and saves it. */
static int64_t
lease_update(const char *entry, int64_t (*fn)(json_object *rec, int64_t arg), int64_t arg)
{
	char lock[48];
	json_object *rec;
	int64_t out;
	int fd;

	snprintf(lock, sizeof(lock), "lease-%08x", b_hash32(entry));
	fd = st_lock(lock);
	if (fd < 0)
		return -1;
	rec = lease_read(entry);
	out = fn(rec, arg);
	st_put(ST_LEASES, entry, rec);
	json_object_put(rec);
	st_unlock(fd);
	return out;
}

static int64_t
take_ticket(json_object *rec, int64_t unused)
{
	int64_t t = jx_int(rec, "next", 0);

	(void)unused;
	jx_add_int(rec, "next", t + 1);
	return t;
}

/* 1 when ticket T may go now (and holds the lease from then on). */
static int64_t
try_hold(json_object *rec, int64_t t)
{
	if (jx_int(rec, "serving", 0) == t && !jx_bool(rec, "held", 0)) {
		jx_add_bool(rec, "held", 1);
		return 1;
	}
	return 0;
}

static int64_t
give_up(json_object *rec, int64_t t)
{
	json_object_array_add(jx_arr(rec, "abandoned"), json_object_new_int64(t));
	if (jx_int(rec, "serving", 0) == t && !jx_bool(rec, "held", 0)) {
		jx_add_bool(rec, "held", 1);
		lease_advance(rec);
	}
	return 0;
}

static int64_t
release(json_object *rec, int64_t unused)
{
	(void)unused;
	if (jx_bool(rec, "held", 0))
		lease_advance(rec);
	return 0;
}

static enum berr
lease_acquire(struct req *r, const char *entry, const char *key)
{
	int64_t t = lease_update(key, take_ticket, 0);
	time_t until = time(NULL) + LEASE_WAIT;

	if (t < 0)
		return op_fail(&r->op, B_INTERNAL, NULL, "cannot lock the state directory");
	for (;;) {
		if (lease_update(key, try_hold, t) == 1)
			return B_OK;
		if (!rq_alive(r) || wk_stopping() || time(NULL) > until) {
			lease_update(key, give_up, t);
			return op_fail(&r->op, B_CONFLICT, "lock",
			               "%s is still locked by an earlier start", entry);
		}
		usleep(100 * 1000);
	}
}

/* ---- routes ------------------------------------------------------------------- */

/* {"4545/tcp": 32772} -> {"4545": 32772}: seed 000 names tcp ports bare. */
static json_object *
seed_ports(json_object *in)
{
	json_object *ports = ct_ports(in), *out = json_object_new_object();

	json_object_object_foreach(ports, k, v)
	{
		char key[32];
		snprintf(key, sizeof(key), "%s", k);
		if (strlen(key) > 4 && strcmp(key + strlen(key) - 4, "/tcp") == 0)
			key[strlen(key) - 4] = '\0';
		jx_add_ref(out, key, v);
	}
	json_object_put(ports);
	return out;
}

static enum berr
h_start_container(struct req *r)
{
	const char *entry = jx_str(r->json, "image");
	json_object *def = cat_entry(entry), *spec = NULL, *in = NULL, *labels = NULL, *o;
	struct ct_new n = {.owner = op_owner(&r->op), .start = 1, .reuse = 1};
	char id[96], key[OWN_DNAME_MAX];
	int created, leased = 0;
	enum berr e;

	if (def == NULL)
		return unknown_image(r, entry);
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s", entry);
	spec = start_spec(r, entry, def);
	if (spec == NULL)
		return r->op.err;
	if ((e = pol_check(&r->op, r->op.role, spec, 1, &n.lim)) != B_OK)
		goto out;
	lease_key(r, entry, key, sizeof(key));
	if (jx_bool(r->json, "lock", 0)) {
		if ((e = lease_acquire(r, entry, key)) != B_OK)
			goto out;
		leased = 1;
	}
	if ((e = cat_ensure(&r->op, entry, id, sizeof(id))) != B_OK)
		goto out;
	labels = json_object_new_object();
	jx_add_str(labels, LBL_CATALOG, entry);
	jx_add_str(labels, LBL_SEED, "000");
	n.spec = spec;
	n.labels = labels;
	e = ct_create(&r->op, &n, &in, &created);
	if (e != B_OK)
		goto out;
	au_str(&r->op, "outcome", created ? "created" : "reused");
	o = json_object_new_object();
	json_object_object_add(o, "ports", seed_ports(in));
	jx_add_bool(o, "just_created", created);
	jx_add_str(o, "container_id", jx_str(in, "Id"));
	rq_json(r, 200, o);
out:
	if (e != B_OK && leased)
		lease_update(key, release, 0);
	json_object_put(spec);
	json_object_put(labels);
	json_object_put(in);
	return e;
}

static enum berr
h_stop_container(struct req *r)
{
	const char *entry = jx_str(r->json, "image");
	char name[80];
	json_object *in;
	enum berr e;

	if (cat_entry(entry) == NULL)
		return unknown_image(r, entry);
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s", entry);
	seed_name(entry, name, sizeof(name));
	e = ct_lookup(&r->op, name, 1, &in);
	if (e == B_NOT_FOUND) {
		/* Already stopped is success, as with the lifecycle routes. */
		r->op.err = B_OK;
		rq_empty(r, 204);
		return B_OK;
	}
	if (e != B_OK)
		return e;
	e = ct_check_unprotected(&r->op, in, "stopped");
	if (e == B_OK)
		e = ct_remove(&r->op, jx_str(in, "Id"), 5);
	json_object_put(in);
	if (e == B_OK)
		rq_empty(r, 204);
	return e;
}

static enum berr
h_unlock_container(struct req *r)
{
	const char *entry = jx_str(r->json, "image");
	char key[OWN_DNAME_MAX];

	if (cat_entry(entry) == NULL)
		return unknown_image(r, entry);
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s", entry);
	lease_key(r, entry, key, sizeof(key));
	if (lease_update(key, release, 0) < 0)
		return op_fail(&r->op, B_INTERNAL, NULL, "cannot lock the state directory");
	rq_empty(r, 204);
	return B_OK;
}

/* Adds the seed's name (cm-<entry>) of the container list ITEM to NAMES. */
static void
add_name(json_object *names, json_object *item)
{
	const char *entry = ct_label(item, LBL_CATALOG);
	char name[80];

	seed_name(entry ? entry : "?", name, sizeof(name));
	json_object_array_add(names, json_object_new_string(name));
}

/*
 * Removes the containers the seed routes started for the caller (an admin:
 * for everyone); an admin's call ends berth-up too.  The answer says which:
 * {"removed": [names], "stopping": true|false}.
 */
static enum berr
h_shutdown(struct req *r)
{
	static const char *const labels[] = {LBL_SEED "=000"};
	char owner[192], path[2400];
	const char *lbl[2] = {labels[0], owner};
	json_object *list, *removed, *o;
	enum berr e;
	int fd;

	snprintf(owner, sizeof(owner), LBL_OWNER "=%s", op_owner(&r->op));
	e = ct_list(&r->op, CT_ALL, lbl, r->op.role == ROLE_ADMIN ? 1 : 2, &list);
	if (e != B_OK)
		return e;
	removed = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(list) && e == B_OK; i++) {
		json_object *it = json_object_array_get_idx(list, i);
		e = ct_remove(&r->op, jx_str(it, "Id"), 5);
		if (e == B_OK)
			add_name(removed, it);
	}
	json_object_put(list);
	if (e != B_OK) {
		json_object_put(removed);
		return e;
	}
	if (r->op.role == ROLE_ADMIN) {
		/* berth-up watches for this file and stops; elsewhere nothing does. */
		snprintf(path, sizeof(path), "shutdown.%s", g_cfg->instance);
		fd = st_open(path, O_WRONLY | O_CREAT, 0640);
		if (fd >= 0)
			close(fd);
	}
	o = json_object_new_object();
	json_object_object_add(o, "removed", removed);
	jx_add_bool(o, "stopping", r->op.role == ROLE_ADMIN);
	rq_json(r, 200, o);
	return B_OK;
}

static const struct rt_route routes[] = {
    {"POST", "/start_container", h_start_container, ROLE_OPERATOR, RT_BODY | RT_MUT,
     &seed_start_schema,
     "Seed 000: start (or reuse) a catalog image; {ports, just_created, container_id}.", NULL},
    {"POST", "/stop_container", h_stop_container, ROLE_OPERATOR, RT_BODY | RT_MUT,
     &seed_image_schema, "Seed 000: stop and remove the image's container (204).", NULL},
    {"POST", "/unlock_container", h_unlock_container, ROLE_OPERATOR, RT_BODY | RT_MUT,
     &seed_image_schema, "Seed 000: release a lease taken with \"lock\": true (204).", NULL},
    {"GET", "/shutdown", h_shutdown, ROLE_OPERATOR, RT_MUT, NULL,
     "Seed 000: remove the caller's containers started by the seed routes (an admin's call: "
     "everyone's, and it ends berth-up); {\"removed\": [names], \"stopping\": bool}.",
     NULL},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

static const struct sc_schema *const schemas[] = {&seed_start_schema, &seed_image_schema, NULL};
static const char *const kinds[] = {ST_LEASES, NULL};

const struct bmod mod_seed000 = {
    .name = "seed000",
    .routes = routes,
    .door = &door_seed,
    .schemas = schemas,
    .state_kinds = kinds,
};

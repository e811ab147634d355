/*
 * seed000.c - seed 000's container manager routes at the root path
 * (Harpoon): /start_container, /stop_container, /unlock_container,
 * /shutdown.  They ride on the catalog and the containers module: a
 * catalog entry is built on demand, started once per owner under the name
 * cm-<entry> (in the owner's namespace, so every user and every berth-up
 * instance has its own), and reused.  "lock": true leases the container;
 * later locked starts of that owner for that image queue (first come, first
 * served) until /unlock_container.  A start that must queue takes its place
 * here and waits in the stream relay, not in a worker (doors/lease.h,
 * relay/wait.c); its turn comes back as GET /.berth-resume/<token>.
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
#include "doors/lease.h"
#include "edge/route.h"
#include "store/state.h"
#include "relay/ticket.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ST_LEASES  "leases"
#define ST_RESUMES "resumes" /* requests whose turn came, until a worker takes them */

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
	jx_add_int(rec, "since", b_wall_ms());
}

/*
 * 1 when the ticket being served is nobody's: its turn came LEASE_STALE_S
 * ago and nobody took the lease.  A live waiter takes its turn within a
 * poll; this one's wait was lost (its ticket never reached the relay, or
 * the relay was killed), and without this the queue would stop for good.
 */
static int
turn_stale(json_object *rec)
{
	return !jx_bool(rec, "held", 0) && jx_int(rec, "serving", 0) < jx_int(rec, "next", 0) &&
	       b_wall_ms() - jx_int(rec, "since", 0) > LEASE_STALE_S * 1000LL;
}

/* The lock of lease KEY's record (st_unlock it), or -1. */
static int
lease_lock(const char *key)
{
	char lock[48];

	snprintf(lock, sizeof(lock), "lease-%08x", b_hash32(key));
	return st_lock(lock);
}

/* Under the entry's lock, applies FN to the lease record and saves it. */
static int64_t
lease_update(const char *entry, int64_t (*fn)(json_object *rec, int64_t arg), int64_t arg)
{
	json_object *rec;
	int64_t out;
	int fd;

	fd = lease_lock(entry);
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
	if (jx_int(rec, "serving", 0) == t)
		jx_add_int(rec, "since", b_wall_ms()); /* its turn begins now */
	return t;
}

/* 1 when ticket T may go now (and holds the lease from then on). */
static int64_t
try_hold(json_object *rec, int64_t t)
{
	while (jx_int(rec, "serving", 0) < t && turn_stale(rec)) {
		log_warn("lease_turn_skipped ticket=%lld", (long long)jx_int(rec, "serving", 0));
		jx_add_bool(rec, "held", 1);
		lease_advance(rec);
	}
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

/* Releases the lease only while ticket T holds it (a saved request nobody took). */
static int64_t
release_ticket(json_object *rec, int64_t t)
{
	if (jx_int(rec, "serving", 0) == t && jx_bool(rec, "held", 0))
		lease_advance(rec);
	return 0;
}

int
lease_turn(const char *key, int64_t t)
{
	json_object *rec = lease_read(key);
	int mine = (jx_int(rec, "serving", 0) == t && !jx_bool(rec, "held", 0)) || turn_stale(rec);

	/* Most polls find someone else's turn: that needs no lock and no write. */
	json_object_put(rec);
	if (!mine)
		return 0;
	return (int)lease_update(key, try_hold, t);
}

void
lease_leave(const char *key, int64_t t)
{
	lease_update(key, give_up, t);
}

int
lease_resume_save(const char *token, json_object *rec)
{
	if (st_put(ST_RESUMES, token, rec) == B_OK)
		return 0;
	lease_update(jx_str(rec, "key"), release_ticket, jx_int(rec, "t", -1));
	return -1;
}

int
lease_resume_claim(const char *token, json_object **out)
{
	json_object *rec = NULL;
	int fd, ok;

	*out = NULL;
	if (st_get(ST_RESUMES, token, &rec) != B_OK || jx_str(rec, "key") == NULL) {
		json_object_put(rec);
		return -1;
	}
	/* Under its lease's lock: the worker and the orphan sweep cannot both take it. */
	fd = lease_lock(jx_str(rec, "key"));
	json_object_put(rec);
	rec = NULL;
	if (fd < 0)
		return -1;
	ok = st_get(ST_RESUMES, token, &rec) == B_OK && st_del(ST_RESUMES, token) == B_OK;
	st_unlock(fd);
	if (!ok) {
		json_object_put(rec);
		return -1;
	}
	*out = rec;
	return 0;
}

void
lease_resume_orphan(const char *token)
{
	json_object *rec;

	if (lease_resume_claim(token, &rec) != 0)
		return; /* its worker took it */
	log_warn("lease_resume_orphaned key=\"%s\" ticket=%lld", jx_str(rec, "key"),
	         (long long)jx_int(rec, "t", -1));
	lease_update(jx_str(rec, "key"), release_ticket, jx_int(rec, "t", -1));
	json_object_put(rec);
}

/*
 * Queues R for ENTRY's lease: B_OK with *HELD set when it is R's at once;
 * else the wait goes to the relay (R is answered with its redirect) and
 * *HELD stays 0.
 */
static enum berr
lease_acquire(struct req *r, const char *entry, const char *key, int *held)
{
	int64_t t = lease_update(key, take_ticket, 0);
	json_object *tk;
	enum berr e;

	*held = 0;
	if (t < 0)
		return op_fail(&r->op, B_INTERNAL, NULL, "cannot lock the state directory");
	if (lease_update(key, try_hold, t) == 1) {
		*held = 1;
		return B_OK;
	}
	tk = tk_new("wait", "POST", "/start_container");
	jx_add_str(tk, "key", key);
	jx_add_int(tk, "ticket", t);
	jx_add_str(tk, "entry", entry);
	jx_add_int(tk, "until", b_wall_ms() + LEASE_WAIT_S * 1000LL);
	jx_add_str(tk, "body", jx_text(r->json));
	e = tk_hand_off(r, tk);
	if (e != B_OK)
		lease_update(key, give_up, t); /* no relay took the wait: nobody holds the place */
	else
		au_str(&r->op, "lease", "queued");
	return e;
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

/* A start's checks: its spec (*SPEC, the caller's), the policy and limits into N. */
static enum berr
start_prepare(struct req *r, const char *entry, json_object *def, struct ct_new *n,
              json_object **spec)
{
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s", entry);
	*spec = start_spec(r, entry, def);
	if (*spec == NULL)
		return r->op.err;
	n->owner = op_owner(&r->op);
	n->start = 1;
	n->reuse = 1;
	n->spec = *spec;
	return pol_check(&r->op, r->op.role, *spec, 1, &n->lim);
}

/* Builds ENTRY if needed, creates or reuses its container and answers seed 000's JSON. */
static enum berr
start_run(struct req *r, const char *entry, struct ct_new *n)
{
	json_object *in = NULL, *labels, *o;
	char id[96];
	int created;
	enum berr e;

	if ((e = cat_ensure(&r->op, entry, id, sizeof(id))) != B_OK)
		return e;
	labels = json_object_new_object();
	jx_add_str(labels, LBL_CATALOG, entry);
	jx_add_str(labels, LBL_SEED, "000");
	n->labels = labels;
	e = ct_create(&r->op, n, &in, &created);
	json_object_put(labels);
	n->labels = NULL;
	if (e != B_OK)
		return e;
	au_str(&r->op, "outcome", created ? "created" : "reused");
	o = json_object_new_object();
	json_object_object_add(o, "ports", seed_ports(in));
	jx_add_bool(o, "just_created", created);
	jx_add_str(o, "container_id", jx_str(in, "Id"));
	rq_json(r, 200, o);
	json_object_put(in);
	return B_OK;
}

static enum berr
h_start_container(struct req *r)
{
	const char *entry = jx_str(r->json, "image");
	json_object *def = cat_entry(entry), *spec = NULL;
	struct ct_new n = {0};
	char key[OWN_DNAME_MAX];
	int leased = 0;
	enum berr e;

	if (def == NULL)
		return unknown_image(r, entry);
	if ((e = start_prepare(r, entry, def, &n, &spec)) != B_OK)
		goto out;
	lease_key(r, entry, key, sizeof(key));
	if (jx_bool(r->json, "lock", 0)) {
		e = lease_acquire(r, entry, key, &leased);
		if (e != B_OK || !leased)
			goto out; /* refused, or queued: the relay holds the wait */
	}
	e = start_run(r, entry, &n);
	if (e != B_OK && leased)
		lease_update(key, release, 0);
out:
	json_object_put(spec);
	return e;
}

/*
 * GET /.berth-resume/<token>: a queued locked start whose turn came.  Only
 * nginx's internal redirect from the relay reaches it; it holds the lease
 * already.  The saved request is taken once and must be the caller's own.
 */
static enum berr
h_resume(struct req *r)
{
	const char *user = r->op.user ? r->op.user : "", *entry, *body;
	json_object *rec = NULL, *def, *spec = NULL;
	struct ct_new n = {0};
	char key[OWN_DNAME_MAX], perr[128];
	enum berr e;

	r->op.audit_action = "POST /start_container";
	if (lease_resume_claim(r->args[0], &rec) != 0)
		return op_fail(
		    &r->op, B_CONFLICT, "lock",
		    "this queued start is gone (its client left or it waited over %d s); "
		    "start again",
		    LEASE_RESUME_S);
	au_str(&r->op, "lease", "resumed");
	if (strcmp(jx_str(rec, "user") ? jx_str(rec, "user") : "", user) != 0) {
		e = op_fail(&r->op, B_FORBIDDEN, NULL, "this queued start is another user's");
		goto out;
	}
	body = jx_str(rec, "body") ? jx_str(rec, "body") : "";
	json_object_put(r->json);
	r->json = jx_parse(body, strlen(body), perr, sizeof(perr));
	entry = jx_str(r->json, "image");
	if (entry == NULL || (def = cat_entry(entry)) == NULL) {
		e = entry ? unknown_image(r, entry)
		          : op_fail(&r->op, B_INTERNAL, NULL, "saved start unreadable: %s", perr);
		goto out;
	}
	lease_key(r, entry, key, sizeof(key));
	if (strcmp(key, jx_str(rec, "key")) != 0) {
		e = op_fail(&r->op, B_FORBIDDEN, NULL, "this queued start is another owner's");
		goto out;
	}
	if ((e = start_prepare(r, entry, def, &n, &spec)) == B_OK)
		e = start_run(r, entry, &n);
out:
	if (e != B_OK)
		lease_update(jx_str(rec, "key"), release_ticket, jx_int(rec, "t", -1));
	json_object_put(spec);
	json_object_put(rec);
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
    {"GET", LEASE_RESUME "{token}", h_resume, ROLE_OPERATOR, RT_MUT | RT_INTERNAL, NULL,
     "Seed 000: a queued locked start whose turn came (nginx's internal redirect only).", NULL},
    {"GET", "/shutdown", h_shutdown, ROLE_OPERATOR, RT_MUT, NULL,
     "Seed 000: remove the caller's containers started by the seed routes (an admin's call: "
     "everyone's, and it ends berth-up); {\"removed\": [names], \"stopping\": bool}.",
     NULL},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

/* A resume token is a relay ticket id: 32 lowercase hex digits. */
static int
token_valid(const char *s)
{
	return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

static const struct rt_param args[] = {{.name = "token",
                                        .type = P_STR,
                                        .desc = "Queued start.",
                                        .valid = token_valid,
                                        .rule = "32 hex digits"},
                                       {0}};

static const struct sc_schema *const schemas[] = {&seed_start_schema, &seed_image_schema, NULL};
static const char *const kinds[] = {ST_LEASES, ST_RESUMES, NULL};

const struct bmod mod_seed000 = {
    .name = "seed000",
    .routes = routes,
    .args = args,
    .door = &door_seed,
    .schemas = schemas,
    .state_kinds = kinds,
};

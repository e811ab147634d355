/*
 * networks.c - networks as owned resources (networks.h).  Every owner's
 * containers sit on networks of that owner: "default", made on first use,
 * or ones made through /api/v1/networks.  Docker keeps one bridge network
 * from reaching another, so a container reaches no other tenant's
 * unpublished ports; published ports go through the host as before.
 *
 * Ownership is in the labels (berth.managed, berth.owner, berth.instance,
 * berth.name), as for containers, and a record networks/<id>.json that
 * reconcile rebuilds from them.  Subnets come from berth.conf's
 * network_pool, one /size at a time, the first no Docker network uses.
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
#include "res/containers.h"
#include "res/networks.h"
#include "res/owner.h"
#include "res/policy.h"
#include "store/audit.h"
#include "store/state.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NET_DEFAULT "default"
/* How often a create whose subnet another berth took meanwhile picks again. */
#define NET_ATTEMPTS 4

static enum berr check_unused(struct op *o, json_object *n);

/* ---- reading a network ------------------------------------------------ */

/* The first IPv4 subnet of N's IPAM config, or NULL. */
static const char *
net_subnet(json_object *n, const char **gateway)
{
	json_object *cfg = jx_arr(jx_obj(n, "IPAM"), "Config");

	for (size_t i = 0; cfg && i < json_object_array_length(cfg); i++) {
		json_object *c = json_object_array_get_idx(cfg, i);
		const char *s = jx_str(c, "Subnet");
		if (s && strchr(s, '.')) {
			if (gateway)
				*gateway = jx_str(c, "Gateway");
			return s;
		}
	}
	return NULL;
}

/* ---- the pool --------------------------------------------------------- */

/* "10.213.4.0/24" into host-order BASE and PREFIX; -1 when it is no IPv4 subnet. */
static int
parse_v4(const char *s, uint32_t *base, int *prefix)
{
	char buf[24];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	char *end;
	long p;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	p = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, buf, &a) != 1 || *end != '\0' || p < 0 || p > 32)
		return -1;
	*base = ntohl(a.s_addr);
	*prefix = (int)p;
	return 0;
}

static uint32_t
mask_of(int prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

/* The IPv4 subnets in use: every Docker network's, and those dockerd refused as taken. */
struct used {
	uint32_t base[512];
	int prefix[512];
	size_t n;
};

static void
used_add(struct used *u, const char *s)
{
	if (s && u->n < sizeof(u->base) / sizeof(u->base[0]) &&
	    parse_v4(s, &u->base[u->n], &u->prefix[u->n]) == 0)
		u->n++;
}

static void
used_of(struct used *u, json_object *list, json_object *tried)
{
	u->n = 0;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *cfg =
		    jx_arr(jx_obj(json_object_array_get_idx(list, i), "IPAM"), "Config");
		for (size_t j = 0; cfg && j < json_object_array_length(cfg); j++)
			used_add(u, jx_str(json_object_array_get_idx(cfg, j), "Subnet"));
	}
	json_object_object_foreach(tried, k, v)
	{
		(void)v;
		used_add(u, k);
	}
}

/* 1 when BASE/PREFIX overlaps a subnet in U. */
static int
used_hits(const struct used *u, uint32_t base, int prefix)
{
	for (size_t i = 0; i < u->n; i++) {
		int p = u->prefix[i] < prefix ? u->prefix[i] : prefix;
		if (((base ^ u->base[i]) & mask_of(p)) == 0)
			return 1;
	}
	return 0;
}

/*
 * The first /size of the pool that no Docker network on the host uses and
 * TRIED does not hold, into OUT.  409 when the pool is used up.
 */
static enum berr
pool_pick(struct op *o, json_object *tried, char *out, size_t n)
{
	const int size = g_cfg->net_pool.size, prefix = g_cfg->net_pool.prefix;
	const uint32_t count = 1u << (size - prefix);
	struct used *u;
	json_object *list;
	enum berr e = eng_net_list(o, NULL, &list);
	struct in_addr a;
	char ip[INET_ADDRSTRLEN];

	if (e != B_OK)
		return e;
	u = malloc(sizeof(*u));
	if (u == NULL) {
		json_object_put(list);
		return op_fail(o, B_INTERNAL, NULL, "out of memory");
	}
	used_of(u, list, tried);
	json_object_put(list);
	for (uint32_t i = 0; i < count; i++) {
		uint32_t cand = g_cfg->net_pool.base + (uint32_t)((uint64_t)i << (32 - size));
		if (used_hits(u, cand, size))
			continue;
		a.s_addr = htonl(cand);
		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		snprintf(out, n, "%s/%d", ip, size);
		free(u);
		return B_OK;
	}
	free(u);
	a.s_addr = htonl(g_cfg->net_pool.base);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	return op_fail(o, B_CONFLICT, NULL,
	               "the network pool %s/%d has no free /%d subnet left: remove unused "
	               "networks, or ask an admin to widen network_pool in berth.conf",
	               ip, prefix, size);
}

/* ---- records ---------------------------------------------------------- */

static enum berr
write_record(json_object *n)
{
	json_object *rec = json_object_new_object();
	enum berr e;

	jx_add_str(rec, "id", jx_str(n, "Id"));
	jx_add_str(rec, "name", own_shown(ct_label(n, LBL_NAME), jx_str(n, "Name")));
	jx_add_str(rec, "docker_name", jx_str(n, "Name"));
	jx_add_str(rec, "owner", ct_label(n, LBL_OWNER));
	jx_add_str(rec, "instance", ct_label(n, LBL_INSTANCE));
	jx_add_str(rec, "subnet", net_subnet(n, NULL));
	jx_add_str(rec, "created", jx_str(n, "Created"));
	e = st_put(ST_NETWORKS, jx_str(n, "Id"), rec);
	json_object_put(rec);
	return e;
}

/* ---- creating --------------------------------------------------------- */

/* What one network create asks for. */
struct net_new {
	const char *owner, *name;
	json_object *labels;  /* the caller's own labels (borrowed), or NULL */
	json_object *options; /* driver options the caller checked harmless (borrowed), or NULL */
	int internal;
};

static json_object *
create_body(struct op *o, const struct net_new *nn, const char *dn, const char *subnet)
{
	json_object *b = json_object_new_object(), *l = json_object_new_object();

	jx_add_str(b, "Name", dn);
	jx_add_bool(b, "CheckDuplicate", 1);
	jx_add_str(b, "Driver", "bridge");
	jx_add_bool(b, "Internal", nn->internal);
	if (nn->labels) {
		json_object_object_foreach(nn->labels, k, v) jx_add_ref(l, k, v);
	}
	jx_add_str(l, LBL_MANAGED, "1");
	jx_add_str(l, LBL_OWNER, nn->owner);
	jx_add_str(l, LBL_INSTANCE, g_cfg->instance);
	jx_add_str(l, LBL_NAME, nn->name);
	if (own_is_group(nn->owner))
		jx_add_str(l, LBL_CREATOR, op_owner(o));
	json_object_object_add(b, "Labels", l);
	if (nn->options)
		jx_add_ref(b, "Options", nn->options);
	if (subnet) {
		json_object *ipam = json_object_new_object(), *cfg = json_object_new_array(),
		            *c = json_object_new_object();
		jx_add_str(c, "Subnet", subnet);
		json_object_array_add(cfg, c);
		jx_add_str(ipam, "Driver", "default");
		json_object_object_add(ipam, "Config", cfg);
		json_object_object_add(b, "IPAM", ipam);
	}
	return b;
}

/* One create with a subnet from the pool (or dockerd's pools); *ID gets the network's id. */
static enum berr
create_once(struct op *o, const struct net_new *nn, const char *dn, json_object *tried, char *id,
            size_t idn)
{
	char subnet[32] = "";
	int pool = g_cfg->net_pool.prefix > 0;
	json_object *body;
	enum berr e = pool ? pool_pick(o, tried, subnet, sizeof(subnet)) : B_OK;

	if (e != B_OK)
		return e;
	body = create_body(o, nn, dn, pool ? subnet : NULL);
	e = eng_net_create(o, body, id, idn);
	json_object_put(body);
	if (e == B_CONFLICT && o->why == R_OVERLAP)
		jx_add_bool(tried, subnet, 1);
	return e;
}

/*
 * Makes NN's network; *INSPECT is dockerd's inspect of it (new reference).
 * The pool's lock keeps two of this berth's creates off one subnet; another
 * berth on the host that took it meanwhile makes dockerd refuse the overlap,
 * and the next free one is tried.  The caller holds NN's owner's lock.
 */
static enum berr
net_make(struct op *o, const struct net_new *nn, json_object **inspect)
{
	char dn[OWN_DNAME_MAX], id[96];
	json_object *tried = json_object_new_object();
	int fd = g_cfg->net_pool.prefix > 0 ? st_lock("netpool") : -2;
	enum berr e = B_OK;

	*inspect = NULL;
	own_dname(nn->owner, nn->name, dn, sizeof(dn));
	if (fd == -1) {
		e = op_fail(o, B_INTERNAL, NULL, "cannot lock the state directory");
		goto out;
	}
	for (int i = 0; i < NET_ATTEMPTS; i++) {
		e = create_once(o, nn, dn, tried, id, sizeof(id));
		if (e != B_CONFLICT || o->why != R_OVERLAP)
			break;
		op_clear(o);
	}
	if (e == B_CONFLICT && o->why == R_OVERLAP)
		e = op_fail(o, B_CONFLICT, NULL, "no free subnet for network %s; try again",
		            nn->name);
	if (e == B_OK)
		e = eng_net_inspect(o, id, inspect);
	if (e == B_OK && write_record(*inspect) != B_OK)
		log_error("network_record_failed id=%s", id);
	if (e == B_OK)
		log_info("network_created name=%s owner=%s subnet=%s", dn, nn->owner,
		         net_subnet(*inspect, NULL) ? net_subnet(*inspect, NULL) : "-");
out:
	st_unlock(fd);
	json_object_put(tried);
	return e;
}

/*
 * OWNER's network NAME as dockerd has it (*IN, new reference), or *IN NULL
 * when OWNER has none.  A network that took its Docker name without being
 * OWNER's is a 409.
 */
static enum berr
own_network(struct op *o, const char *owner, const char *name, json_object **in)
{
	char dn[OWN_DNAME_MAX];
	enum berr e;

	own_dname(owner, name, dn, sizeof(dn));
	e = eng_net_inspect(o, dn, in);
	if (e == B_NOT_FOUND) {
		op_clear(o);
		*in = NULL;
		return B_OK;
	}
	if (e == B_OK && !ct_is_named(*in, owner, name)) {
		json_object_put(*in);
		*in = NULL;
		return op_fail(o, B_CONFLICT, "network",
		               "the Docker name of network %s is held by a network berth did not "
		               "make for this owner",
		               name);
	}
	return e;
}

/*
 * OWNER's default network, made on first use.  The quota counts it but never
 * refuses it: it is where every container of OWNER lives.
 */
static enum berr
ensure_default(struct op *o, const char *owner, json_object **in)
{
	const struct net_new nn = {.owner = owner, .name = NET_DEFAULT};
	enum berr e = own_network(o, owner, NET_DEFAULT, in);

	if (e != B_OK || *in)
		return e;
	e = net_make(o, &nn, in);
	/* One made meanwhile by a berth that does not share this state directory. */
	if (e == B_CONFLICT && o->why == R_NAME_TAKEN) {
		op_clear(o);
		e = own_network(o, owner, NET_DEFAULT, in);
		if (e == B_OK && *in == NULL)
			e = op_fail(o, B_CONFLICT, "network", "the default network went away");
	}
	return e;
}

/*
 * The shared network NAME (policy networks of ROLE) as dockerd has it.  It
 * must be the network of that very name (dockerd also resolves id
 * prefixes) and no owner's berth network: a pattern in the policy never
 * opens another tenant's.
 */
static enum berr
shared_network(struct op *o, enum role role, const char *name, json_object **in)
{
	enum berr e;

	*in = NULL;
	if (!pol_network_shared(role, name) || !name_valid(name))
		return B_OK;
	e = eng_net_inspect(o, name, in);
	if (e == B_NOT_FOUND) {
		op_clear(o);
		return B_OK;
	}
	if (e == B_OK && (!jx_str(*in, "Name") || strcmp(jx_str(*in, "Name"), name) != 0 ||
	                  ct_label(*in, LBL_MANAGED))) {
		json_object_put(*in);
		*in = NULL;
	}
	return e;
}

/* The aliases a container is known by on a network of its owner: its name, its service's. */
static json_object *
aliases_for(const char *alias, json_object *labels)
{
	json_object *a = json_object_new_array();
	const char *svc = jx_str(labels, LBL_SERVICE);
	/* A stack's replicas answer to their compose service's name, as compose's do. */
	const char *csvc = jx_str(labels, LBL_COMPOSE_SERVICE);

	if (alias && *alias)
		json_object_array_add(a, json_object_new_string(alias));
	if (svc && *svc && (!alias || strcmp(svc, alias) != 0))
		json_object_array_add(a, json_object_new_string(svc));
	if (csvc && *csvc && (!alias || strcmp(csvc, alias) != 0) && (!svc || strcmp(csvc, svc)))
		json_object_array_add(a, json_object_new_string(csvc));
	return a;
}

/* NetworkMode NET and, when ALIASES, the endpoint's DNS aliases there (takes ALIASES). */
static void
set_endpoint(json_object *body, const char *net, json_object *aliases)
{
	json_object *hc = jx_obj(body, "HostConfig"), *nc = json_object_new_object(),
	            *eps = json_object_new_object(), *ep = json_object_new_object();

	if (hc == NULL) {
		hc = json_object_new_object();
		json_object_object_add(body, "HostConfig", hc);
	}
	jx_add_str(hc, "NetworkMode", net);
	if (aliases && json_object_array_length(aliases) > 0)
		json_object_object_add(ep, "Aliases", aliases);
	else
		json_object_put(aliases);
	json_object_object_add(eps, net, ep);
	json_object_object_add(nc, "EndpointsConfig", eps);
	json_object_object_add(body, "NetworkingConfig", nc);
}

enum berr
net_place(struct op *o, const char *owner, json_object *spec, const char *alias, json_object *body)
{
	const char *net = jx_str(spec, "network");
	json_object *in = NULL, *aliases = NULL;
	enum berr e;

	/* pol_check decided these, and pol_docker_body set them. */
	if (net && (!strcmp(net, "none") || !strcmp(net, "host") || !strcmp(net, "bridge")))
		return B_OK;
	if (net == NULL || strcmp(net, NET_DEFAULT) == 0)
		e = ensure_default(o, owner, &in);
	else
		e = own_network(o, owner, net, &in);
	if (e != B_OK)
		return e;
	if (in) {
		json_object *more = jx_arr(spec, "aliases");
		aliases = aliases_for(alias, jx_obj(body, "Labels"));
		/* The spec's own (compose's service names), on the owner's network only. */
		for (size_t i = 0; more && i < json_object_array_length(more); i++)
			json_object_array_add(aliases,
			                      json_object_get(json_object_array_get_idx(more, i)));
	} else {
		/* No aliases there: one tenant's "db" must not answer for another's. */
		e = shared_network(o, own_policy_role(owner, o->role), net, &in);
		if (e == B_OK && in == NULL)
			return op_fail(
			    o, B_FORBIDDEN, "network",
			    "network %s is neither one of %s's networks nor a shared one "
			    "(berth.conf policy networks)",
			    net, owner);
	}
	if (e == B_OK)
		set_endpoint(body, jx_str(in, "Name"), aliases);
	json_object_put(in);
	return e;
}

enum berr
net_ensure(struct op *o, const char *owner, const char *name, json_object *labels)
{
	const struct net_new nn = {.owner = owner, .name = name, .labels = labels};
	const struct usage add = {.networks = 1};
	json_object *in = NULL;
	int fd = own_lock(owner);
	enum berr e;

	if (fd < 0)
		return op_fail(o, B_INTERNAL, NULL, "cannot lock the state directory");
	e = own_network(o, owner, name, &in);
	if (e == B_OK && in == NULL && (e = own_admit(o, owner, NULL, &add)) == B_OK)
		e = net_make(o, &nn, &in);
	st_unlock(fd);
	json_object_put(in);
	return e;
}

enum berr
net_remove_owned(struct op *o, const char *owner, const char *name)
{
	json_object *in = NULL;
	enum berr e = own_network(o, owner, name, &in);

	if (e == B_OK && in)
		e = check_unused(o, in);
	if (e == B_OK && in && (e = eng_net_remove(o, jx_str(in, "Id"))) == B_OK)
		st_del(ST_NETWORKS, jx_str(in, "Id"));
	json_object_put(in);
	return e;
}

/* ---- finding one for a request ---------------------------------------- */

/*
 * An admin naming a network none of their namespaces hold: the one network
 * of this instance given that name, whoever owns it; several owners' is a
 * 409 asking for its Docker name or id.
 */
static enum berr
by_any_owner(struct op *o, const char *name, json_object **in)
{
	json_object *f = own_name_filter(name), *list = NULL;
	enum berr e = eng_net_list(o, f, &list);

	json_object_put(f);
	if (e == B_OK)
		e = own_pick_one(o, list, "network", name, "Docker name or id", "Id",
		                 eng_net_inspect, in);
	json_object_put(list);
	if (e == B_OK && *in == NULL)
		e = op_fail(o, B_NOT_FOUND, NULL, "no such network: %s", name);
	return e;
}

/*
 * REF as O's caller may use it: a name they gave (in their namespace, then
 * their groups'), for admins also a Docker name or id, and a shared network
 * by its name.  404 for anything else, so no answer tells another tenant's
 * networks apart from none.  *SHARED says a shared one was found.
 */
enum berr
net_find(struct op *o, const char *ref, enum net_use use, json_object **in, int *shared)
{
	const char *ns[OWN_NS_MAX];
	size_t k = own_namespaces(o, ns, OWN_NS_MAX);
	enum berr e = B_OK;

	*in = NULL;
	*shared = 0;
	for (size_t i = 0; name_valid(ref) && i < k && e == B_OK && *in == NULL; i++)
		e = own_network(o, ns[i], ref, in);
	if (e != B_OK || *in)
		return e;
	if (o->role == ROLE_ADMIN) {
		e = eng_net_inspect(o, ref, in);
		if (e == B_NOT_FOUND && name_valid(ref)) {
			op_clear(o);
			e = by_any_owner(o, ref, in);
		}
		if (e == B_OK && use != USE_READ && !ct_managed(*in)) {
			json_object_put(*in);
			*in = NULL;
			return op_fail(o, B_FORBIDDEN, NULL,
			               "berth does not manage network %s; admins may only read it",
			               ref);
		}
		return e;
	}
	if (use != USE_OWN)
		e = shared_network(o, o->role, ref, in);
	*shared = *in != NULL;
	if (e == B_OK && *in == NULL)
		e = op_fail(o, B_NOT_FOUND, NULL, "no such network: %s", ref);
	return e;
}

/* ---- views ------------------------------------------------------------ */

/*
 * The containers of CTS (those the caller may see) attached to network N:
 * never another owner's, whatever dockerd's inspect of N would list.
 */
static json_object *
endpoints(json_object *n, json_object *cts)
{
	json_object *out = json_object_new_array();
	const char *id = jx_str(n, "Id");

	for (size_t i = 0; id && cts && i < json_object_array_length(cts); i++) {
		json_object *it = json_object_array_get_idx(cts, i);
		json_object *nets = jx_obj(jx_obj(it, "NetworkSettings"), "Networks");
		if (nets == NULL)
			continue;
		json_object_object_foreach(nets, k, ep)
		{
			json_object *v;
			(void)k;
			if (!jx_str(ep, "NetworkID") || strcmp(jx_str(ep, "NetworkID"), id) != 0)
				continue;
			v = json_object_new_object();
			jx_add_str(v, "id", jx_str(it, "Id"));
			jx_add_str(v, "name", ct_item_name(it));
			jx_add_str(v, "owner", ct_label(it, LBL_OWNER));
			jx_add_str(v, "state", jx_str(it, "State"));
			jx_add_str(v, "ipv4", jx_str(ep, "IPAddress"));
			json_object_array_add(out, v);
		}
	}
	return out;
}

/* berth's view of network N; CTS the caller's visible containers (raw list items). */
static json_object *
net_view(json_object *n, json_object *cts, int shared)
{
	json_object *v = json_object_new_object();
	const char *gw = NULL, *sub = net_subnet(n, &gw), *name = ct_label(n, LBL_NAME);

	jx_add_str(v, "name", own_shown(name, jx_str(n, "Name")));
	jx_add_str(v, "id", jx_str(n, "Id"));
	jx_add_str(v, "docker_name", jx_str(n, "Name"));
	jx_add_str(v, "owner", ct_label(n, LBL_OWNER));
	jx_add_bool(v, "managed", ct_managed(n));
	jx_add_bool(v, "shared", shared);
	jx_add_bool(v, "default", ct_managed(n) && name && strcmp(name, NET_DEFAULT) == 0);
	jx_add_str(v, "driver", jx_str(n, "Driver"));
	jx_add_str(v, "subnet", sub);
	jx_add_str(v, "gateway", gw);
	jx_add_bool(v, "internal", jx_bool(n, "Internal", 0));
	jx_add_str(v, "created", jx_str(n, "Created"));
	json_object_object_add(v, "labels", ct_user_labels(jx_obj(n, "Labels")));
	json_object_object_add(v, "containers", endpoints(n, cts));
	return v;
}

/* *OUT: the view of N with the caller's containers on it (new reference). */
static enum berr
view_of(struct op *o, json_object *n, int shared, json_object **out)
{
	json_object *cts;
	enum berr e = ct_list_visible(o, CT_ALL | CT_FULL, NULL, &cts);

	if (e == B_OK)
		*out = net_view(n, cts, shared);
	json_object_put(cts);
	return e;
}

/* ---- handlers --------------------------------------------------------- */

/* Answers 200 with the view of inspect IN. */
static enum berr
answer_view(struct req *r, json_object *in, int shared)
{
	json_object *v = NULL;
	enum berr e = view_of(&r->op, in, shared, &v);

	if (e == B_OK)
		rq_json(r, 200, v);
	return e;
}

/* The managed networks of OWNER (NULL: every owner's), added to OUT. */
static enum berr
list_owner(struct op *o, const char *owner, json_object *cts, json_object *out)
{
	json_object *f = own_filter(owner), *list;
	enum berr e = eng_net_list(o, f, &list);

	json_object_put(f);
	for (size_t i = 0; e == B_OK && i < json_object_array_length(list); i++)
		json_object_array_add(out, net_view(json_object_array_get_idx(list, i), cts, 0));
	json_object_put(list);
	return e;
}

enum berr
net_visible(struct op *o, json_object **out)
{
	const char *ns[OWN_NS_MAX];
	size_t k = own_namespaces(o, ns, OWN_NS_MAX);
	json_object *pol = g_cfg->policy[o->role].networks;
	enum berr e = B_OK;

	if (o->role == ROLE_ADMIN) {
		k = 1;
		ns[0] = NULL;
	}
	*out = json_object_new_array();
	for (size_t i = 0; i < k && e == B_OK; i++) {
		json_object *f = own_filter(ns[i]), *list = NULL;
		e = eng_net_list(o, f, &list);
		for (size_t j = 0; e == B_OK && j < json_object_array_length(list); j++)
			json_object_array_add(*out,
			                      json_object_get(json_object_array_get_idx(list, j)));
		json_object_put(list);
		json_object_put(f);
	}
	for (size_t i = 0; e == B_OK && pol && i < json_object_array_length(pol); i++) {
		json_object *in = NULL;
		e = shared_network(o, o->role,
		                   json_object_get_string(json_object_array_get_idx(pol, i)), &in);
		if (e == B_OK && in)
			json_object_array_add(*out, in);
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
	struct op *o = &r->op;
	const char *owner = rq_str(r, "owner"), *ns[OWN_NS_MAX];
	json_object *cts = NULL, *nets = json_object_new_array(), *ans, *shared;
	json_object *pol = g_cfg->policy[o->role].networks;
	size_t k = own_namespaces(o, ns, OWN_NS_MAX);
	enum berr e = B_OK;

	if (owner && !own_visible(o, owner)) {
		e = op_fail(o, B_FORBIDDEN, "owner",
		            "only admins may list other owners (and members their groups)");
		goto out;
	}
	if (owner) {
		ns[0] = owner;
		k = 1;
	}
	e = ct_list_visible(o, CT_ALL | CT_FULL, NULL, &cts);
	if (e == B_OK && owner == NULL && o->role == ROLE_ADMIN)
		e = list_owner(o, NULL, cts, nets);
	else
		for (size_t i = 0; i < k && e == B_OK; i++)
			e = list_owner(o, ns[i], cts, nets);
	if (e != B_OK)
		goto out;
	ans = json_object_new_object();
	json_object_object_add(ans, "networks", nets);
	nets = NULL;
	/* The names the caller's specs may name besides their own networks. */
	shared = json_object_new_array();
	for (size_t i = 0; pol && i < json_object_array_length(pol); i++)
		json_object_array_add(shared, json_object_get(json_object_array_get_idx(pol, i)));
	json_object_object_add(ans, "shared", shared);
	rq_json(r, 200, ans);
out:
	json_object_put(nets);
	json_object_put(cts);
	return e;
}

/* Fields berth refuses in a create: what they would reach, in words. */
static enum berr
refuse_options(struct op *o, json_object *b)
{
	const char *drv = jx_str(b, "driver");

	if (drv && strcmp(drv, "bridge") != 0)
		return op_fail(o, B_FORBIDDEN, "driver",
		               "network driver %s is refused: berth makes bridge networks only "
		               "(macvlan and ipvlan reach the host's interfaces, overlay needs "
		               "Swarm)",
		               drv);
	if (jx_get(b, "options"))
		return op_fail(o, B_FORBIDDEN, "options",
		               "driver options are refused: they can bind a network to the host's "
		               "interfaces");
	if (jx_get(b, "ipam") || jx_get(b, "subnet"))
		return op_fail(o, B_FORBIDDEN, jx_get(b, "ipam") ? "ipam" : "subnet",
		               "subnets come from berth's network pool (network_pool in "
		               "berth.conf), not from the request");
	return B_OK;
}

/* Under OWNER's lock: quota, the name free in OWNER's namespace, then the network. */
static enum berr
create_locked(struct op *o, const struct net_new *nn, json_object **in)
{
	const struct usage add = {.networks = 1};
	json_object *old = NULL;
	enum berr e = own_admit(o, nn->owner, NULL, &add);

	if (e == B_OK)
		e = own_network(o, nn->owner, nn->name, &old);
	if (e == B_OK && old)
		e = op_fail_why(o, B_CONFLICT, R_NAME_TAKEN, "name",
		                "a network named %s exists already", nn->name);
	json_object_put(old);
	if (e == B_OK)
		e = net_make(o, nn, in);
	if (e == B_CONFLICT && o->why == R_NAME_TAKEN)
		e = op_fail_why(o, B_CONFLICT, R_NAME_TAKEN, "name",
		                "a network named %s exists already", nn->name);
	return e;
}

enum berr
net_check_name(struct op *o, const char *name)
{
	if (!strcmp(name, "bridge") || !strcmp(name, "host") || !strcmp(name, "none"))
		return op_fail(o, B_INVALID, "name",
		               "%s names Docker's own network in a spec; choose another name",
		               name);
	return B_OK;
}

enum berr
net_create(struct op *o, const char *owner, const char *name, json_object *labels,
           json_object *options, int internal, json_object **in)
{
	struct net_new nn = {.owner = owner,
	                     .name = name,
	                     .labels = labels,
	                     .options = options,
	                     .internal = internal};
	int fd;
	enum berr e;

	*in = NULL;
	fd = own_lock(owner);
	if (fd < 0)
		return op_fail(o, B_INTERNAL, NULL, "cannot lock the state directory");
	e = create_locked(o, &nn, in);
	st_unlock(fd);
	return e;
}

static enum berr
h_create(struct req *r)
{
	struct op *o = &r->op;
	json_object *b = r->json, *in = NULL, *v = NULL, *labels = jx_obj(b, "labels");
	const char *name = jx_str(b, "name");
	char owner[OWN_MAX];
	enum berr e = own_for_create(o, jx_str(b, "owner"), "owner", owner, sizeof(owner));

	snprintf(o->audit_target, sizeof(o->audit_target), "network %s", name);
	if (e == B_OK)
		e = refuse_options(o, b);
	if (e == B_OK)
		e = net_check_name(o, name);
	if (e == B_OK)
		e = pol_check_labels(o, labels);
	if (e == B_OK)
		e = net_create(o, owner, name, labels, NULL, jx_bool(b, "internal", 0), &in);
	if (e == B_OK)
		e = view_of(o, in, 0, &v);
	if (e == B_OK) {
		au_str(o, "subnet", net_subnet(in, NULL));
		rq_json(r, 201, v);
	}
	json_object_put(in);
	return e;
}

static enum berr
h_get(struct req *r)
{
	json_object *in;
	int shared;
	enum berr e = net_find(&r->op, r->args[0], USE_READ, &in, &shared);

	if (e == B_OK)
		e = answer_view(r, in, shared);
	json_object_put(in);
	return e;
}

/* 409 when any container (any owner's, stopped ones too) is attached to N. */
static enum berr
check_unused(struct op *o, json_object *n)
{
	json_object *f = json_object_new_object(), *ids = json_object_new_array(), *list;
	enum berr e;
	size_t k;

	json_object_array_add(ids, json_object_new_string(jx_str(n, "Id")));
	json_object_object_add(f, "network", ids);
	e = eng_ct_list_full(o, 1, f, &list);
	json_object_put(f);
	if (e != B_OK)
		return e;
	k = json_object_array_length(list);
	json_object_put(list);
	if (k > 0)
		return op_fail(o, B_CONFLICT, NULL,
		               "network %s still has containers attached: remove them, or "
		               "disconnect them, first",
		               own_shown(ct_label(n, LBL_NAME), jx_str(n, "Name")));
	return B_OK;
}

enum berr
net_remove(struct op *o, json_object *in)
{
	enum berr e = check_unused(o, in);

	if (e == B_OK)
		e = eng_net_remove(o, jx_str(in, "Id"));
	if (e == B_OK)
		st_del(ST_NETWORKS, jx_str(in, "Id"));
	return e;
}

static enum berr
h_delete(struct req *r)
{
	json_object *in;
	int shared;
	enum berr e = net_find(&r->op, r->args[0], USE_OWN, &in, &shared);

	if (e != B_OK)
		return e;
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "network %s",
	         own_shown(ct_label(in, LBL_NAME), jx_str(in, "Name")));
	e = net_remove(&r->op, in);
	if (e == B_OK)
		rq_empty(r, 204);
	json_object_put(in);
	return e;
}

/*
 * The network and container a connect or disconnect names, as the caller
 * may change them: a container joins only its owner's networks (and the
 * shared ones); admins may join any managed ones.
 */
static enum berr
open_pair(struct op *o, const char *netref, const char *ref, json_object **net, json_object **ct,
          int *shared)
{
	const char *co, *no;
	enum berr e = net_find(o, netref, USE_JOIN, net, shared);

	*ct = NULL;
	if (e == B_OK)
		e = ct_lookup(o, ref, 1, ct);
	if (e == B_OK)
		e = ct_check_plain(o, *ct);
	if (e != B_OK)
		return e;
	co = ct_label(*ct, LBL_OWNER);
	no = ct_label(*net, LBL_OWNER);
	snprintf(o->audit_target, sizeof(o->audit_target), "network %s container %s",
	         own_shown(ct_label(*net, LBL_NAME), jx_str(*net, "Name")), ct_name(*ct));
	if (!*shared && o->role != ROLE_ADMIN && (!co || !no || strcmp(co, no) != 0))
		return op_fail(o, B_FORBIDDEN, "container",
		               "container %s belongs to %s and network %s to %s: a container joins "
		               "only its owner's networks",
		               ct_name(*ct), co ? co : "nobody", netref, no ? no : "nobody");
	return B_OK;
}

enum berr
net_join(struct op *o, const char *netref, const char *ctref, int connect, json_object *extra,
         int force, char *id, size_t n)
{
	json_object *net = NULL, *ct = NULL, *aliases = NULL;
	int shared;
	enum berr e = open_pair(o, netref, ctref, &net, &ct, &shared);

	if (e != B_OK)
		goto out;
	snprintf(id, n, "%s", jx_str(net, "Id"));
	if (!connect) {
		e = eng_net_disconnect(o, jx_str(net, "Id"), jx_str(ct, "Id"), force);
		goto out;
	}
	/* No aliases on a shared network: one tenant's "db" must not answer for another's. */
	if (!shared) {
		aliases = aliases_for(ct_name(ct), jx_obj(jx_obj(ct, "Config"), "Labels"));
		for (size_t i = 0; extra && i < json_object_array_length(extra); i++)
			json_object_array_add(aliases,
			                      json_object_get(json_object_array_get_idx(extra, i)));
	}
	e = eng_net_connect(o, jx_str(net, "Id"), jx_str(ct, "Id"), aliases);
out:
	json_object_put(aliases);
	json_object_put(ct);
	json_object_put(net);
	return e;
}

/* Answers with network ID as it is now (after a connect or disconnect). */
static enum berr
answer_now(struct req *r, const char *id, int shared)
{
	json_object *in = NULL;
	enum berr e = eng_net_inspect(&r->op, id, &in);

	if (e == B_OK)
		e = answer_view(r, in, shared);
	json_object_put(in);
	return e;
}

static enum berr
h_member(struct req *r, int connect)
{
	char id[96];
	int shared = 0;
	enum berr e = net_join(&r->op, r->args[0], jx_str(r->json, "container"), connect, NULL,
	                       jx_bool(r->json, "force", 0), id, sizeof(id));
	json_object *in = NULL;

	/* The answer says whether it is shared as the lookup did: asked again, cheaply. */
	if (e == B_OK)
		e = net_find(&r->op, r->args[0], USE_JOIN, &in, &shared);
	json_object_put(in);
	if (e == B_OK)
		e = answer_now(r, id, shared);
	return e;
}

static enum berr
h_connect(struct req *r)
{
	return h_member(r, 1);
}

static enum berr
h_disconnect(struct req *r)
{
	return h_member(r, 0);
}

/* ---- maintenance ------------------------------------------------------ */

/* This instance's managed networks (raw list, new reference); NULL and a message on failure. */
static json_object *
instance_networks(struct op *o, const char *what)
{
	json_object *f = own_filter(NULL), *list = NULL;

	if (eng_net_list(o, f, &list) != B_OK) {
		log_error("%s_failed error=\"cannot list networks: %s\"", what, o->msg);
		list = NULL;
	}
	json_object_put(f);
	return list;
}

/* Removes every network of this instance (its containers went first: mod_cleanup's order). */
static int
net_cleanup_instance(void)
{
	struct op o;
	json_object *list;
	int failed = 0;

	op_system(&o);
	list = instance_networks(&o, "cleanup");
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		const char *id = jx_str(json_object_array_get_idx(list, i), "Id");
		if (id && eng_net_remove(&o, id) != B_OK) {
			fprintf(stderr, "berth-fcgi: cannot remove network %s: %s\n", id, o.msg);
			op_clear(&o);
			failed = 1;
		} else if (id) {
			st_del(ST_NETWORKS, id);
		}
	}
	failed |= list == NULL;
	json_object_put(list);
	op_done(&o);
	return failed ? -1 : 0;
}

/* Rebuilds missing records from labels and drops records whose network is gone. */
static int
net_reconcile(int verbose)
{
	struct op o;
	json_object *keep = json_object_new_object(); /* what dockerd has */
	int dropped = 0;
	json_object *list, *rec;
	int restored = 0;
	size_t n;

	op_system(&o);
	list = instance_networks(&o, "reconcile");
	n = list ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(list, i);
		const char *id = jx_str(it, "Id");
		if (id == NULL || !name_valid(id))
			continue;
		jx_add_bool(keep, id, 1);
		if (st_get(ST_NETWORKS, id, &rec) == B_OK)
			json_object_put(rec);
		else if (write_record(it) == B_OK)
			restored++;
	}
	if (list)
		dropped = st_drop_except(ST_NETWORKS, keep);
	if (verbose && list)
		printf("reconcile: %zu networks, %d records restored, %d stale records dropped\n",
		       n, restored, dropped);
	if (restored || dropped)
		log_info("reconcile networks=%zu restored=%d dropped=%d", n, restored, dropped);
	json_object_put(list);
	json_object_put(keep);
	op_done(&o);
	return list ? 0 : -1;
}

static int
reconcile_quiet(void)
{
	return net_reconcile(0);
}

/* ---- the module ------------------------------------------------------- */

static const struct sc_field label_value = {.types = SC_STRING, .max = 1024};
static const struct sc_field create_fields[] = {
    {.name = "name",
     .types = SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "The network's name in its owner's namespace (specs name it as \"network\").",
     .min = 1,
     .max = BERTH_NAME_MAX,
     .pattern = SC_NAME_RE,
     .example = "\"backend\""},
    OWN_FIELD,
    {.name = "labels",
     .types = SC_OBJECT,
     .desc = "Extra labels (names starting with berth. are reserved).",
     .max = 64,
     .values = &label_value,
     .keys = SC_LABEL_RE},
    {.name = "internal", .types = SC_BOOL, .desc = "No way out of the network (no NAT)."},
    {.name = "driver",
     .types = SC_STRING,
     .desc = "Only \"bridge\" (the default); macvlan, ipvlan, overlay and others are refused.",
     .max = 64},
    {.name = "options",
     .types = SC_OBJECT,
     .desc = "Refused: driver options can reach the host's interfaces."},
    {.name = "ipam",
     .types = SC_OBJECT,
     .desc = "Refused: subnets come from berth.conf's network_pool."},
    {.name = "subnet",
     .types = SC_STRING,
     .desc = "Refused: subnets come from berth.conf's network_pool.",
     .max = 64},
    {0}};
static const struct sc_schema net_schema = {"network", "a network", create_fields,
                                            "{\"name\":\"backend\",\"internal\":false}", 1};

static const struct sc_field member_fields[] = {
    {.name = "container",
     .types = SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "One of your containers: its name, id or a unique id prefix.",
     .min = 1,
     .max = 128,
     .pattern = SC_NAME_RE},
    {.name = "force", .types = SC_BOOL, .desc = "disconnect: even if the container is gone."},
    {0}};
static const struct sc_schema net_member_schema = {"network-member",
                                                   "a container to connect or disconnect",
                                                   member_fields, "{\"container\":\"web\"}", 1};

static const struct rt_param list_query[] = {RT_P_OWNER, {0}};

static const struct rt_route net_routes[] = {
    {"GET", "/api/v1/networks", h_list, ROLE_VIEWER, 0, NULL,
     "The caller's networks and their groups' (admins: every managed one, ?owner=), with the "
     "caller's containers on each, and the shared networks specs may name.",
     list_query},
    {"POST", "/api/v1/networks", h_create, ROLE_OPERATOR, RT_BODY | RT_MUT, &net_schema,
     "Create a bridge network with a subnet from the pool (quota.networks).", NULL},
    {"GET", "/api/v1/networks/{name}", h_get, ROLE_VIEWER, 0, NULL,
     "Details: subnet, gateway, labels and the caller's own containers on it.", NULL},
    {"DELETE", "/api/v1/networks/{name}", h_delete, ROLE_OPERATOR, RT_MUT, NULL,
     "Remove (409 while containers are attached).", NULL},
    {"POST", "/api/v1/networks/{name}/connect", h_connect, ROLE_OPERATOR, RT_BODY | RT_MUT,
     &net_member_schema, "Connect one of the owner's containers (its name as DNS alias).", NULL},
    {"POST", "/api/v1/networks/{name}/disconnect", h_disconnect, ROLE_OPERATOR, RT_BODY | RT_MUT,
     &net_member_schema, "Disconnect one of the caller's containers.", NULL},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

static const struct rt_param net_args[] = {{.name = "name",
                                            .type = P_STR,
                                            .desc = "network",
                                            .min = 1,
                                            .max = 128,
                                            .valid = ref_valid,
                                            .rule = "a network name, Docker name or id"},
                                           {0}};

static const struct sc_schema *const net_schemas[] = {&net_schema, &net_member_schema, NULL};
static const char *const net_kinds[] = {ST_NETWORKS, NULL};

const struct bmod mod_networks = {
    .name = "networks",
    .routes = net_routes,
    .args = net_args,
    .schemas = net_schemas,
    .state_kinds = net_kinds,
    .periodic = reconcile_quiet,
    .cleanup = net_cleanup_instance,
    .reconcile = net_reconcile,
};

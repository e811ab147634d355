/*
 * dknetworks.c - the Docker door's networks routes (docs/docker-api.md).
 * Every network is one of berth's owned networks (res/networks.c: the
 * namespaced Docker name, a subnet from berth's pool, the quota, the
 * record) or a shared one the caller's policy names (Docker's `bridge`,
 * say).  A network shows its berth name and only the caller's own labels;
 * an inspect lists only the caller's own containers on it, whatever else
 * is attached.  Create bodies are read field by field: bridge only, no
 * subnets of the caller's choosing, no driver options but the MTU.
 */
#include "berth.h"
#include "doors/docker.h"
#include "lib/json.h"
#include "res/containers.h"
#include "res/networks.h"
#include "res/owner.h"
#include "res/policy.h"
#include "store/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- views ---------------------------------------------------------------- */

/* Dockerd's Containers map of IN kept to CTS (the caller's visible containers), with their names.
 */
static json_object *
endpoints(json_object *in, json_object *cts)
{
	json_object *out = json_object_new_object(), *eps = jx_obj(in, "Containers");

	for (size_t i = 0; eps && cts && i < json_object_array_length(cts); i++) {
		json_object *it = json_object_array_get_idx(cts, i), *ep, *v;
		const char *id = jx_str(it, "Id");
		if (id == NULL || (ep = jx_obj(eps, id)) == NULL)
			continue;
		v = json_object_new_object();
		jx_add_str(v, "Name", ct_item_name(it));
		jx_add_str(v, "EndpointID", jx_str(ep, "EndpointID"));
		jx_add_str(v, "MacAddress", jx_str(ep, "MacAddress"));
		jx_add_str(v, "IPv4Address", jx_str(ep, "IPv4Address"));
		jx_add_str(v, "IPv6Address", jx_str(ep, "IPv6Address"));
		json_object_object_add(out, id, v);
	}
	return out;
}

/* Docker's view of network IN; CTS (may be NULL: a list item) the caller's containers. */
static json_object *
dk_network(json_object *in, json_object *cts)
{
	static const char *const keep[] = {
	    "Id",         "Created", "Scope",      "Driver",     "EnableIPv6", "IPAM", "Internal",
	    "Attachable", "Ingress", "ConfigFrom", "ConfigOnly", "Options",    NULL};
	json_object *out = json_object_new_object();

	jx_add_str(out, "Name",
	           ct_managed(in) ? own_shown(ct_label(in, LBL_NAME), jx_str(in, "Name"))
	                          : jx_str(in, "Name"));
	for (const char *const *k = keep; *k; k++)
		jx_add_ref(out, *k, jx_get(in, *k));
	json_object_object_add(out, "Containers",
	                       cts ? endpoints(in, cts) : json_object_new_object());
	json_object_object_add(out, "Labels", ct_user_labels(jx_obj(in, "Labels")));
	return out;
}

/* ---- list ----------------------------------------------------------------- */

/* 1 when one of F's KEY values is a part (SUB) or the start (!SUB) of S. */
static int
any_part(json_object *f, const char *key, const char *s, int sub)
{
	json_object *want = dd_filter(f, key);

	if (want == NULL)
		return 1;
	for (size_t i = 0; s && i < json_object_array_length(want); i++) {
		const char *w = json_object_get_string(json_object_array_get_idx(want, i));
		if (sub ? strstr(s, w) != NULL : strncmp(s, w, strlen(w)) == 0)
			return 1;
	}
	return 0;
}

/* 1 when the Docker view V passes filters F. */
static int
passes(json_object *f, json_object *v, int managed)
{
	return any_part(f, "name", jx_str(v, "Name"), 1) && any_part(f, "id", jx_str(v, "Id"), 0) &&
	       dd_filter_labels(f, jx_obj(v, "Labels")) &&
	       dd_filter_is(f, "driver", jx_str(v, "Driver")) &&
	       dd_filter_is(f, "scope", jx_str(v, "Scope")) &&
	       dd_filter_is(f, "type", managed ? "custom" : "builtin");
}

static enum berr
h_list(struct req *r)
{
	static const char *const keys[] = {"name", "id", "label", "driver", "scope", "type", NULL};
	json_object *f = NULL, *list = NULL, *out;
	enum berr e = dd_filters_parse(&r->op, rq_str(r, "filters"), keys, &f);

	if (e == B_OK)
		e = net_visible(&r->op, &list);
	if (e == B_OK) {
		out = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			json_object *in = json_object_array_get_idx(list, i);
			json_object *v = dk_network(in, NULL);
			if (passes(f, v, ct_managed(in)))
				json_object_array_add(out, v);
			else
				json_object_put(v);
		}
		dd_answer(r, 200, out);
	}
	json_object_put(list);
	json_object_put(f);
	return e;
}

static enum berr
h_get(struct req *r)
{
	json_object *in = NULL, *cts = NULL;
	int shared;
	enum berr e = net_find(&r->op, r->args[0], USE_READ, &in, &shared);

	if (e == B_OK)
		e = ct_list_visible(&r->op, CT_ALL, NULL, &cts);
	if (e == B_OK)
		dd_answer(r, 200, dk_network(in, cts));
	json_object_put(cts);
	json_object_put(in);
	return e;
}

/* ---- create --------------------------------------------------------------- */

/* 1 when V is absent, null, false, "" or an empty object or list. */
static int
empty(json_object *v)
{
	switch (v ? json_object_get_type(v) : json_type_null) {
	case json_type_null:
		return 1;
	case json_type_boolean:
		return !json_object_get_boolean(v);
	case json_type_string:
		return json_object_get_string_len(v) == 0;
	case json_type_object:
		return json_object_object_length(v) == 0;
	case json_type_array:
		return json_object_array_length(v) == 0;
	default:
		return 0;
	}
}

/* Why a driver other than bridge is refused. */
static const char *
driver_why(const char *d)
{
	if (!strcmp(d, "macvlan") || !strcmp(d, "ipvlan"))
		return "it attaches containers to the host's network interfaces";
	if (!strcmp(d, "host"))
		return "it is the host's own network stack";
	if (!strcmp(d, "overlay"))
		return "it needs Swarm and spans hosts";
	return "berth makes bridge networks only";
}

/* IPAM: the default driver and no subnets of the caller's (they come from berth's pool). */
static enum berr
check_ipam(struct op *o, json_object *ipam)
{
	const char *d = jx_str(ipam, "Driver");

	if (empty(ipam))
		return B_OK;
	if (!json_object_is_type(ipam, json_type_object))
		return op_fail(o, B_BAD_REQUEST, "IPAM", "IPAM must be an object");
	json_object_object_foreach(ipam, k, v)
	{
		if (strcmp(k, "Driver") && strcmp(k, "Config") && strcmp(k, "Options"))
			return op_fail(o, B_BAD_REQUEST, "IPAM",
			               "IPAM.%.40s is not a field berth takes", k);
		if (strcmp(k, "Driver") && !empty(v))
			return op_fail(o, B_FORBIDDEN, "IPAM",
			               "IPAM.%s is refused: subnets come from berth's network pool "
			               "(network_pool in berth.conf)",
			               k);
	}
	if (d && *d && strcmp(d, "default") != 0)
		return op_fail(o, B_FORBIDDEN, "IPAM", "IPAM driver %.40s is refused: only default",
		               d);
	return B_OK;
}

/* Options: only the MTU (a number); any other can bind the bridge to the host's interfaces. */
static enum berr
check_options(struct op *o, json_object *opts)
{
	if (empty(opts))
		return B_OK;
	if (!json_object_is_type(opts, json_type_object))
		return op_fail(o, B_BAD_REQUEST, "Options", "Options must be an object");
	json_object_object_foreach(opts, k, v)
	{
		const char *s =
		    json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
		char *end;
		long mtu = strtol(s, &end, 10);
		if (strcmp(k, "com.docker.network.driver.mtu") != 0)
			return op_fail(
			    o, B_FORBIDDEN, "Options",
			    "network option %.80s is refused: bridge options can name host "
			    "interfaces or change what the host forwards; only "
			    "com.docker.network.driver.mtu is taken",
			    k);
		if (!*s || *end || mtu < 68 || mtu > 65535)
			return op_fail(o, B_BAD_REQUEST, "Options",
			               "com.docker.network.driver.mtu must be 68 to 65535");
	}
	return B_OK;
}

/* The fields a create body may have, and those that must be empty (false, null, ""). */
static const char *const create_fields[] = {
    "Name",   "CheckDuplicate", "Driver",  "Internal",   "Attachable", "IPAM",  "Options",
    "Labels", "EnableIPv6",     "Ingress", "ConfigOnly", "ConfigFrom", "Scope", NULL};
static const struct {
	const char *name, *why;
} must_be_empty[] = {
    {"EnableIPv6", "berth's network pool is IPv4"},
    {"Ingress", "ingress networks are Swarm's routing mesh"},
    {"ConfigOnly", "configuration-only networks are Swarm's"},
    {"ConfigFrom", "networks made from another's configuration are Swarm's"},
};

static enum berr
check_fields(struct op *o, json_object *b)
{
	const char *drv = jx_str(b, "Driver"), *scope = jx_str(b, "Scope");

	json_object_object_foreach(b, k, v)
	{
		size_t i = 0;
		(void)v;
		while (create_fields[i] && strcmp(create_fields[i], k) != 0)
			i++;
		if (create_fields[i] == NULL)
			return op_fail(o, B_BAD_REQUEST, k, "%.40s is not a field berth takes", k);
	}
	for (size_t i = 0; i < sizeof(must_be_empty) / sizeof(must_be_empty[0]); i++) {
		json_object *v = jx_get(b, must_be_empty[i].name);
		/* ConfigFrom comes as {"Network": ""} from some clients. */
		if (!empty(v) && !(json_object_is_type(v, json_type_object) &&
		                   json_object_object_length(v) == 1 && jx_str(v, "Network") &&
		                   !*jx_str(v, "Network")))
			return op_fail(o, B_FORBIDDEN, must_be_empty[i].name, "%s is refused: %s",
			               must_be_empty[i].name, must_be_empty[i].why);
	}
	if (drv && *drv && strcmp(drv, "bridge") != 0)
		return op_fail(o, B_FORBIDDEN, "Driver", "network driver %.40s is refused: %s", drv,
		               driver_why(drv));
	if (scope && *scope && strcmp(scope, "local") != 0)
		return op_fail(o, B_FORBIDDEN, "Scope", "only local networks");
	return B_OK;
}

static enum berr
check_create(struct op *o, json_object *b)
{
	const char *name = jx_str(b, "Name");
	json_object *labels = jx_get(b, "Labels");
	enum berr e;

	if (b == NULL || !json_object_is_type(b, json_type_object))
		return op_fail(o, B_BAD_REQUEST, NULL, "the body must be a JSON object");
	if (name == NULL || !name_valid(name))
		return op_fail(o, B_BAD_REQUEST, "Name",
		               "Name must be [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 characters");
	if ((e = check_fields(o, b)) != B_OK || (e = check_ipam(o, jx_get(b, "IPAM"))) != B_OK ||
	    (e = check_options(o, jx_get(b, "Options"))) != B_OK)
		return e;
	if (!empty(labels) && !json_object_is_type(labels, json_type_object))
		return op_fail(o, B_BAD_REQUEST, "Labels", "Labels must be an object of strings");
	if (!json_object_is_type(labels, json_type_object))
		return net_check_name(o, name);
	json_object_object_foreach(labels, k, v)
	{
		if (!json_object_is_type(v, json_type_string) || strlen(k) > 255)
			return op_fail(o, B_BAD_REQUEST, "Labels", "Labels: %.40s must be a string",
			               k);
	}
	if ((e = net_check_name(o, name)) != B_OK)
		return e;
	return pol_check_labels(o, labels);
}

static enum berr
h_create(struct req *r)
{
	json_object *b = r->json, *in = NULL, *out, *labels, *opts;
	enum berr e = check_create(&r->op, b);

	if (e != B_OK)
		return e;
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "network %s", jx_str(b, "Name"));
	labels = jx_obj(b, "Labels");
	opts = jx_obj(b, "Options");
	e = net_create(&r->op, op_owner(&r->op), jx_str(b, "Name"), labels,
	               opts && json_object_object_length(opts) ? opts : NULL,
	               jx_bool(b, "Internal", 0), &in);
	if (e == B_OK) {
		out = json_object_new_object();
		jx_add_str(out, "Id", jx_str(in, "Id"));
		jx_add_str(out, "Warning", "");
		dd_answer(r, 201, out);
	}
	json_object_put(in);
	return e;
}

/* ---- remove, prune -------------------------------------------------------- */

static enum berr
h_delete(struct req *r)
{
	json_object *in = NULL;
	int shared;
	enum berr e = net_find(&r->op, r->args[0], USE_OWN, &in, &shared);

	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "network %s", r->args[0]);
	if (e == B_OK)
		e = net_remove(&r->op, in);
	if (e == B_OK)
		rq_empty(r, 204);
	json_object_put(in);
	return e;
}

/* Removes the caller's own networks no container is attached to. */
static enum berr
h_prune(struct req *r)
{
	static const char *const keys[] = {"label", "until", NULL};
	json_object *f = NULL, *list = NULL, *gone, *out;
	const char *me = op_owner(&r->op);
	enum berr e = dd_filters_parse(&r->op, rq_str(r, "filters"), keys, &f);

	if (e == B_OK && json_object_object_length(f) > 0)
		e = op_fail(&r->op, B_BAD_REQUEST, "filters",
		            "berth prunes all of your unused networks: filters are not taken here");
	if (e == B_OK)
		e = net_visible(&r->op, &list);
	json_object_put(f);
	if (e != B_OK)
		return e;
	gone = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *in = json_object_array_get_idx(list, i);
		const char *owner = ct_label(in, LBL_OWNER);
		if (!ct_managed(in) || owner == NULL || strcmp(owner, me) != 0)
			continue;
		if (net_remove(&r->op, in) != B_OK) {
			op_clear(&r->op); /* in use: kept */
			continue;
		}
		json_object_array_add(gone, json_object_new_string(own_shown(ct_label(in, LBL_NAME),
		                                                             jx_str(in, "Name"))));
	}
	json_object_put(list);
	au_add(&r->op, "removed", json_object_get(gone));
	out = json_object_new_object();
	json_object_object_add(out, "NetworksDeleted", gone);
	dd_answer(r, 200, out);
	return B_OK;
}

/* ---- connect, disconnect -------------------------------------------------- */

/*
 * EndpointConfig: Aliases (names, compose's service names) are taken;
 * fixed addresses, links, MAC addresses and driver options are refused.
 */
static enum berr
check_endpoint(struct op *o, json_object *ep, json_object **aliases)
{
	*aliases = NULL;
	if (empty(ep))
		return B_OK;
	if (!json_object_is_type(ep, json_type_object))
		return op_fail(o, B_BAD_REQUEST, "EndpointConfig",
		               "EndpointConfig must be an object");
	json_object_object_foreach(ep, k, v)
	{
		if (strcmp(k, "Aliases") != 0 && !empty(v))
			return op_fail(o, B_FORBIDDEN, "EndpointConfig",
			               "EndpointConfig.%.40s is refused: only Aliases are taken",
			               k);
	}
	*aliases = jx_arr(ep, "Aliases");
	if (jx_get(ep, "Aliases") && !empty(jx_get(ep, "Aliases")) && *aliases == NULL)
		return op_fail(o, B_BAD_REQUEST, "EndpointConfig", "Aliases must be a list");
	for (size_t i = 0; *aliases && i < json_object_array_length(*aliases); i++) {
		json_object *a = json_object_array_get_idx(*aliases, i);
		if (i >= 16 || !json_object_is_type(a, json_type_string) ||
		    !name_valid(json_object_get_string(a)))
			return op_fail(
			    o, B_BAD_REQUEST, "EndpointConfig",
			    "Aliases: at most 16 names, each [a-zA-Z0-9][a-zA-Z0-9_.-]*");
	}
	return B_OK;
}

static enum berr
member(struct req *r, int connect)
{
	const char *ct = jx_str(r->json, "Container");
	json_object *aliases = NULL;
	char id[96];
	enum berr e = B_OK;

	if (ct == NULL || !ref_valid(ct))
		return op_fail(&r->op, B_BAD_REQUEST, "Container",
		               "Container must name one of your containers");
	json_object_object_foreach(r->json, k, v)
	{
		(void)v;
		if (strcmp(k, "Container") && strcmp(k, connect ? "EndpointConfig" : "Force"))
			return op_fail(&r->op, B_BAD_REQUEST, k, "%.40s is not a field berth takes",
			               k);
	}
	if (connect)
		e = check_endpoint(&r->op, jx_get(r->json, "EndpointConfig"), &aliases);
	if (e == B_OK)
		e = net_join(&r->op, r->args[0], ct, connect, aliases, jx_bool(r->json, "Force", 0),
		             id, sizeof(id));
	if (e == B_OK)
		rq_empty(r, 200);
	return e;
}

static enum berr
h_connect(struct req *r)
{
	return member(r, 1);
}

static enum berr
h_disconnect(struct req *r)
{
	return member(r, 0);
}

/* ---- the module ----------------------------------------------------------- */

static const struct rt_param q_filters[] = {
    {.name = "filters",
     .type = P_STR,
     .desc = "Docker's filters (JSON): name, id, label, driver, scope, type.",
     .max = 8192},
    {0}};

static const struct rt_route routes[] = {
    {"GET", "/networks", h_list, ROLE_VIEWER, 0, NULL,
     "The caller's networks (and their groups') and the shared ones their policy names.",
     q_filters},
    {"POST", "/networks/create", h_create, ROLE_OPERATOR, RT_MUT, NULL,
     "Create a bridge network (subnet from berth's pool; other drivers, subnets and options "
     "but the MTU refused).",
     NULL},
    {"POST", "/networks/prune", h_prune, ROLE_OPERATOR, RT_MUT, NULL,
     "Remove the caller's own networks no container is attached to.", q_filters},
    {"GET", "/networks/{net}", h_get, ROLE_VIEWER, 0, NULL,
     "One network, with only the caller's own containers on it.", NULL},
    {"DELETE", "/networks/{net}", h_delete, ROLE_OPERATOR, RT_MUT, NULL,
     "Remove one of the caller's networks (409 while containers are attached).", NULL},
    {"POST", "/networks/{net}/connect", h_connect, ROLE_OPERATOR, RT_MUT, NULL,
     "Connect one of the caller's containers (EndpointConfig.Aliases taken).", NULL},
    {"POST", "/networks/{net}/disconnect", h_disconnect, ROLE_OPERATOR, RT_MUT, NULL,
     "Disconnect one of the caller's containers.", NULL},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

static const struct rt_param args[] = {{.name = "net",
                                        .type = P_STR,
                                        .desc = "network",
                                        .min = 1,
                                        .max = 128,
                                        .valid = ref_valid,
                                        .rule = "a network name or id"},
                                       {0}};

const struct bmod mod_dd_networks = {
    .name = "docker-networks",
    .routes = routes,
    .args = args,
};

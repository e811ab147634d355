/*
 * engine/networks.c - networks in the Engine API: list, create, inspect,
 * remove, connect and disconnect, each a row of data.  dockerd answers 403
 * for a network with active endpoints and for connects it will not make,
 * and for a subnet another network holds (R_OVERLAP: the caller picks
 * another); 404 to a create when its own address pools are used up.
 */
#include "engine/call.h"
#include "engine/engine.h"
#include "lib/json.h"

#include <stdio.h>

static const struct eng_call NET_LIST = {"GET", "/networks", "network list", NULL, NULL};
static const struct eng_status net_create_st[] = {
    {.status = 409, .err = B_CONFLICT, .why = R_NAME_TAKEN, .field = "name"},
    {.status = 403, .err = B_CONFLICT, .why = R_OVERLAP, .match = "overlaps"},
    {.status = 403, .err = B_CONFLICT, .msg = "network %.64s: %s"},
    {.status = 404,
     .err = B_CONFLICT,
     .match = "non-overlapping",
     .msg = "dockerd has no address pool left for network %.64s (set network_pool in "
            "berth.conf): %s"},
    {0}};
static const struct eng_call NET_CREATE = {"POST", "/networks/create", "network", NULL,
                                           net_create_st};
static const struct eng_status net_inspect_st[] = {
    {.status = 404, .err = B_NOT_FOUND, .why = R_GONE, .msg = "no such network: %.64s"},
    {.status = 400, .err = B_NOT_FOUND, .why = R_GONE, .msg = "no such network: %.64s"},
    {0}};
static const struct eng_call NET_INSPECT = {"GET", "/networks/%s", "network", NULL, net_inspect_st};
static const struct eng_status net_remove_st[] = {
    {.status = 404, .err = B_OK},
    {.status = 403, .err = B_CONFLICT, .msg = "network %.64s is in use: %s"},
    {0}};
static const struct eng_call NET_REMOVE = {"DELETE", "/networks/%s", "network", NULL,
                                           net_remove_st};
static const struct eng_status net_connect_st[] = {
    {.status = 403, .err = B_CONFLICT, .msg = "network %.64s: %s"}, {0}};
static const struct eng_call NET_CONNECT = {"POST", "/networks/%s/connect", "network", NULL,
                                            net_connect_st};
static const struct eng_call NET_DISCONNECT = {"POST", "/networks/%s/disconnect", "network", NULL,
                                               net_connect_st};

enum berr
eng_net_list(struct op *o, json_object *filters, json_object **out)
{
	struct eng_query q = {0};

	if (filters)
		eq_json(&q, "filters", filters);
	return eng_get_array(o, &NET_LIST, &q, NULL, out);
}

enum berr
eng_net_create(struct op *o, json_object *body, char *id, size_t n)
{
	struct eng_req rq = {.body = body};
	json_object *ans = NULL;
	enum berr e = eng_run(o, &NET_CREATE, &rq, &ans, NULL);
	const char *v = jx_str(ans, "Id");

	if (e == B_OK && (v == NULL || !name_valid(v)))
		e = op_fail(o, B_DOCKER, NULL, "dockerd gave no usable network id");
	if (e == B_OK)
		snprintf(id, n, "%s", v);
	json_object_put(ans);
	return e;
}

enum berr
eng_net_inspect(struct op *o, const char *ref, json_object **out)
{
	struct eng_query q = {0};
	struct eng_req rq = {.arg = {ref}, .q = &q};

	eq_str(&q, "verbose", "false");
	return eng_run(o, &NET_INSPECT, &rq, out, NULL);
}

enum berr
eng_net_remove(struct op *o, const char *id)
{
	struct eng_req rq = {.arg = {id}};

	return eng_run(o, &NET_REMOVE, &rq, NULL, NULL);
}

/* {"Container": id, "EndpointConfig": {"Aliases": ALIASES}} (ALIASES may be NULL). */
enum berr
eng_net_connect(struct op *o, const char *net, const char *container, json_object *aliases)
{
	json_object *body = json_object_new_object(), *ep = json_object_new_object();
	struct eng_req rq = {.arg = {net}, .body = body};
	enum berr e;

	jx_add_str(body, "Container", container);
	if (aliases)
		jx_add_ref(ep, "Aliases", aliases);
	json_object_object_add(body, "EndpointConfig", ep);
	e = eng_run(o, &NET_CONNECT, &rq, NULL, NULL);
	json_object_put(body);
	return e;
}

enum berr
eng_net_disconnect(struct op *o, const char *net, const char *container, int force)
{
	json_object *body = json_object_new_object();
	struct eng_req rq = {.arg = {net}, .body = body};
	enum berr e;

	jx_add_str(body, "Container", container);
	jx_add_bool(body, "Force", force);
	e = eng_run(o, &NET_DISCONNECT, &rq, NULL, NULL);
	json_object_put(body);
	return e;
}

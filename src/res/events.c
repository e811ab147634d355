/*
 * events.c - GET /api/v1/events (events.h): the worker checks the query,
 * works out whose objects the caller may see (itself and its groups, with
 * the Docker name suffix of each namespace) and mints a ticket for
 * dockerd's /events; the relay (relay/events.c) filters and shapes the
 * stream, so an open event stream holds no worker.
 */
#include "berth.h"
#include "edge/module.h"
#include "edge/route.h"
#include "engine/engine.h"
#include "lib/cfg.h"
#include "lib/json.h"
#include "relay/events.h"
#include "relay/ticket.h"
#include "res/containers.h"
#include "res/events.h"
#include "res/owner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EV_CONTAINERS (EV_CONTAINER | EV_SERVICE | EV_JOB)

/* The EV_* bits of a ?types= list, or 0 when an item names no kind. */
static unsigned
types_of(const char *s)
{
	unsigned bits = 0;

	while (s && *s) {
		size_t n = strcspn(s, ",");
		unsigned b = ev_type_bit(s, n);
		if (b == 0)
			return 0;
		bits |= b;
		s += n;
		if (*s == ',' && *++s == '\0')
			return 0; /* a trailing comma */
	}
	return bits;
}

static int
types_valid(const char *s)
{
	return types_of(s) != 0;
}

/* Last-Event-ID: an event id (decimal timeNano); -1 when it is not one. */
static long long
event_id(const char *s)
{
	char *end;
	long long v;

	if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 19)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	return errno || *end ? -1 : v;
}

void
ev_add_owners(const struct op *o, json_object *tk)
{
	const char *own[OWN_NS_MAX];
	size_t n = own_namespaces(o, own, OWN_NS_MAX);
	json_object *owners = json_object_new_array(), *ns = json_object_new_array();
	char suffix[OWN_DNAME_MAX];

	for (size_t i = 0; i < n; i++) {
		own_dname(own[i], "", suffix, sizeof(suffix));
		json_object_array_add(owners, json_object_new_string(own[i]));
		json_object_array_add(ns, json_object_new_string(suffix));
	}
	json_object_object_add(tk, "owners", owners);
	json_object_object_add(tk, "ns", ns);
}

/*
 * Docker's side of the filter: the types asked for, and a label when
 * every one of them carries it (container events carry their labels;
 * volume and network events none, so those are left to the relay).
 */
static enum berr
docker_request(struct req *r, unsigned bits, long long after, json_object *tk)
{
	const char *types[5];
	char label[160];
	size_t k = 0;

	if (bits & EV_CONTAINERS)
		types[k++] = "container";
	if (bits & EV_VOLUME)
		types[k++] = "volume";
	if (bits & EV_NETWORK)
		types[k++] = "network";
	if (bits & EV_BUILD)
		types[k++] = "image";
	types[k] = NULL;
	label[0] = '\0';
	if ((bits & ~EV_CONTAINERS) == 0)
		snprintf(label, sizeof(label), LBL_INSTANCE "=%s", g_cfg->instance);
	else if (bits == EV_BUILD)
		snprintf(label, sizeof(label), LBL_CATALOG);
	return eng_events_ticket(&r->op, types, label[0] ? label : NULL, after, 0, tk);
}

static enum berr
h_events(struct req *r)
{
	const char *types = rq_str(r, "types"), *last = rq_param(r, "HTTP_LAST_EVENT_ID");
	unsigned bits = types ? types_of(types) : EV_ALL;
	long long after = rq_int(r, "since_id"), lid = last && *last ? event_id(last) : 0;
	json_object *tk;
	enum berr e;

	if (lid < 0)
		return op_fail(&r->op, B_BAD_REQUEST, "Last-Event-ID",
		               "Last-Event-ID must be an event id from this stream (digits)");
	/* A reconnecting EventSource sends its last id and the first URL's since_id: the later. */
	if (lid > after)
		after = lid;
	tk = json_object_new_object();
	jx_add_str(tk, "mode", "events");
	jx_add_str(tk, "instance", g_cfg->instance);
	jx_add_int(tk, "types", bits);
	jx_add_int(tk, "after", after);
	ev_add_owners(&r->op, tk);
	e = docker_request(r, bits, after, tk);
	if (e != B_OK) {
		json_object_put(tk);
		return e;
	}
	return tk_hand_off(r, tk);
}

static const struct rt_param events_query[] = {
    {.name = "types",
     .type = P_STR,
     .desc = "Only these kinds: a comma list of container, service, job, build, volume, network.",
     .min = 1,
     .max = 128,
     .valid = types_valid,
     .rule = "a comma list of container, service, job, build, volume, network"},
    {.name = "since_id",
     .type = P_INT,
     .desc = "Resume after this event id (as Last-Event-ID does), from dockerd's short buffer.",
     .min = 0,
     .max = 9000000000000000000LL},
    {0}};

static const struct rt_route events_routes[] = {
    {"GET", "/api/v1/events", h_events, ROLE_VIEWER, RT_STREAM, NULL,
     "What happens to your objects (admins: every object of this instance), as Server-Sent "
     "Events held open: id (resume with Last-Event-ID or ?since_id=), event (the kind) and "
     "data {type, action, name, id, owner, time}; ?types= picks kinds; a keepalive comment "
     "every 15 s (docs/events.md).",
     events_query},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

const struct bmod mod_events = {
    .name = "events",
    .routes = events_routes,
};

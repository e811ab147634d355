/*
 * events.h - GET /api/v1/events: what happens to the caller's objects, as
 * Server-Sent Events held by the stream relay (relay/events.h, docs/events.md).
 */
#ifndef BERTH_EVENTS_H
#define BERTH_EVENTS_H

#include <json-c/json.h>

struct bmod;
struct op;
extern const struct bmod mod_events;

/* The ticket members "owners" and "ns" (relay/events.h ev_view): whose objects O's caller sees. */
void ev_add_owners(const struct op *o, json_object *tk);

#endif

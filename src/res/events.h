/*
 * events.h - GET /api/v1/events: what happens to the caller's objects, as
 * Server-Sent Events held by the stream relay (relay/events.h, docs/events.md).
 */
#ifndef BERTH_EVENTS_H
#define BERTH_EVENTS_H

struct bmod;
extern const struct bmod mod_events;

#endif

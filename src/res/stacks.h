/*
 * stacks.h - compose files as owned applications (/api/v1/stacks): the
 * module, and the state directory's folder of stack records.  The compose
 * subset and its translation into container specs are in res/compose.h.
 */
#ifndef BERTH_STACKS_H
#define BERTH_STACKS_H

/* The state directory's folder of stack records (stacks/<docker name>.json). */
#define ST_STACKS "stacks"

struct bmod;

extern const struct bmod mod_stacks;

#endif

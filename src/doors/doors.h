/*
 * doors.h - the seeds' front doors: their modules, and the door they share.
 * Their clients send bodies berth may refuse, and expect a 400 for every
 * malformed one (berth's own API says 415 or 422): that is the door.
 */
#ifndef BERTH_DOORS_H
#define BERTH_DOORS_H

#include "edge/module.h"

extern const struct rt_door door_seed;
extern const struct bmod mod_seed000, mod_seed001, mod_seed004;

#endif

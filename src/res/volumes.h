/*
 * volumes.h - volumes as owned resources: a volume name in a spec is the
 * owner's volume of that name, never another tenant's.
 */
#ifndef BERTH_VOLUMES_H
#define BERTH_VOLUMES_H

#include "berth.h"
#include "res/policy.h"

#include <json-c/json.h>

struct op;

/*
 * Resolves the volume mounts of SPEC for OWNER in BODY (the Docker create
 * body): each volume name becomes OWNER's volume, created when missing (under
 * OWNER's quota); tmpfs sizes are bounded by LIM's memory.
 */
enum berr vol_place(struct op *o, const char *owner, json_object *spec,
                    const struct pol_limits *lim, json_object *body);

#endif

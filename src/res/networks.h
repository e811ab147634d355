/*
 * networks.h - networks as owned resources: every owner's containers sit on
 * networks of that owner (a default one made on first use), so no container
 * reaches another tenant's unpublished ports.
 */
#ifndef BERTH_NETWORKS_H
#define BERTH_NETWORKS_H

#include "berth.h"

#include <json-c/json.h>

struct op;

/*
 * Where a new container of OWNER connects: SPEC's network when OWNER may use
 * it, else OWNER's default network (made on first use).  Sets BODY's
 * NetworkMode and NetworkingConfig, with ALIAS (the name the container was
 * given; may be NULL) as its DNS alias there.
 */
enum berr net_place(struct op *o, const char *owner, json_object *spec, const char *alias,
                    json_object *body);

#endif

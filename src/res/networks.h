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
struct bmod;

/* The state directory's folder of network records. */
#define ST_NETWORKS "networks"

/* /api/v1/networks, the records, reconcile and berth-up's cleanup of networks. */
extern const struct bmod mod_networks;

/*
 * Where a new container of OWNER connects: SPEC's network when OWNER may use
 * it, else OWNER's default network (made on first use).  Sets BODY's
 * NetworkMode and NetworkingConfig, with ALIAS (the name the container was
 * given; may be NULL) as its DNS alias there (and its service's name, for a
 * replica); shared networks get no aliases.  "none", "host" and "bridge"
 * are left as pol_check allowed them.  The caller holds own_lock(OWNER)
 * (ct_create and ct_recreate do), so two creates make one default network.
 */
enum berr net_place(struct op *o, const char *owner, json_object *spec, const char *alias,
                    json_object *body);

/*
 * OWNER's network NAME, made (with the caller's LABELS, may be NULL; under
 * OWNER's lock and network quota) when OWNER has none of that name.
 */
enum berr net_ensure(struct op *o, const char *owner, const char *name, json_object *labels);
/* Removes OWNER's network NAME when it exists (absent is B_OK); one in use is a 409. */
enum berr net_remove_owned(struct op *o, const char *owner, const char *name);

#endif

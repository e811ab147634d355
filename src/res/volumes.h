/*
 * volumes.h - volumes as owned resources: a volume name in a spec is the
 * owner's volume of that name, never another tenant's.  Volumes carry the
 * same labels as containers (berth.managed, berth.owner, berth.instance,
 * berth.name) and a record volumes/<docker name>.json, rebuilt from the
 * labels by reconcile.  Only the local driver, and no driver options: those
 * are host bind mounts (type=none,o=bind) or reach the network (type=nfs).
 */
#ifndef BERTH_VOLUMES_H
#define BERTH_VOLUMES_H

#include "berth.h"
#include "res/policy.h"

#include <json-c/json.h>

struct op;
struct bmod;

/* The state directory's folder of volume records. */
#define ST_VOLUMES "volumes"

/* "1" on a volume made for one container's mount without a source: removed with it. */
#define LBL_ANONYMOUS "berth.anonymous"
/* The Docker name of the container an anonymous volume was made for ("" when unnamed). */
#define LBL_FOR "berth.container"

/* The most mounts one container may have (the spec schema says the same). */
#define VOL_MOUNTS_MAX 32

/* What vol_name_valid accepts, for messages. */
#define VOL_NAME_RULE "[a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 characters, no \"..\""

/* 1 when S can name a volume: a plain name (never a path), as VOL_NAME_RULE says. */
int vol_name_valid(const char *s);

/*
 * Resolves the volume mounts of SPEC for OWNER in BODY (the Docker create
 * body, whose HostConfig.Mounts follow SPEC's mounts in order): each volume
 * name becomes OWNER's volume of that name, created labelled as OWNER's when
 * missing (under OWNER's quota), so dockerd never makes an unlabelled one;
 * a mount without a source gets a new anonymous volume of OWNER's.  The
 * caller holds own_lock(OWNER) (ct_create does), so no concurrent create
 * passes the same last quota slot and no remove takes a volume in between.
 * Nothing is created when it fails.
 */
enum berr vol_place(struct op *o, const char *owner, json_object *spec,
                    const struct pol_limits *lim, json_object *body);

/* After vol_place succeeded but the container was not created: removes BODY's new anonymous
 * volumes. */
void vol_unplace(struct op *o, json_object *body);

/*
 * The anonymous volumes container ID mounts, asked before it is removed
 * (names; new reference, NULL when none or when it cannot tell).  O's error
 * is left as it was.
 */
json_object *vol_anonymous_of(struct op *o, const char *id);

/* Removes the volumes NAMES (from vol_anonymous_of; may be NULL) and puts NAMES; O's error is kept.
 */
void vol_drop(struct op *o, json_object *names);

/*
 * What /api/v1/volumes and the Docker door share.  Volumes are Docker's
 * objects (new references); every function reports failures on O.
 */
/* The managed volumes O's caller may see: theirs and their groups', or OWNER's alone (admins: any
 * or every). */
enum berr vol_visible(struct op *o, const char *owner, json_object **out);
/*
 * REF as the caller may see it: a name in their namespace, then their
 * groups'; admins also any owner's by name or Docker name.  404 otherwise.
 */
enum berr vol_lookup(struct op *o, const char *ref, json_object **v);
/*
 * Who mounts which volume, from one container list with FILTERS (may be
 * NULL): Docker name -> {"containers": [{id, name}] the caller may see,
 * "count": every container}.
 */
enum berr vol_users(struct op *o, json_object *filters, json_object **out);
/*
 * Creates OWNER's volume NAME (local driver, no options) with the caller's
 * LABELS (checked: no berth.*) under OWNER's lock and quota.  OWNER's
 * existing NAME is no error: *CREATED says which.
 */
enum berr vol_create(struct op *o, const char *owner, const char *name, json_object *labels,
                     json_object **v, int *created);
/* Removes V (from vol_lookup) under its owner's lock: in use is a 409 unless FORCE removes the
 * caller's containers using it first. */
enum berr vol_remove(struct op *o, json_object *v, int force);
/* Removes the caller's own unused volumes: their shown names into REMOVED (an array). */
enum berr vol_prune(struct op *o, json_object *removed, int64_t *reclaimed);
/*
 * Removes OWNER's volume NAME when it exists (absent, or a volume not
 * OWNER's that took its Docker name: B_OK, nothing done); in use is a 409.
 */
enum berr vol_remove_owned(struct op *o, const char *owner, const char *name);

extern const struct bmod mod_volumes;

#endif

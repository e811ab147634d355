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

/* ---- what /api/v1/networks and the Docker door share (Docker's objects, new references) ---- */

/* What a request does with the network it names. */
enum net_use {
	USE_READ, /* inspect: shared ones too */
	USE_JOIN, /* connect, disconnect: shared ones too */
	USE_OWN,  /* remove: only the caller's own (or an admin's pick of managed ones) */
};

/*
 * REF as O's caller may use it: a name they gave (in their namespace, then
 * their groups'), for admins also a Docker name or id, and a shared network
 * by its name.  404 for anything else.  *SHARED says a shared one was found.
 */
enum berr net_find(struct op *o, const char *ref, enum net_use use, json_object **in, int *shared);
/* The networks the caller may see: their namespaces' (admins: every managed one) and the shared
 * ones their policy names that exist.  Docker's list items. */
enum berr net_visible(struct op *o, json_object **out);
/* 400 naming "name" when NAME is one of Docker's own (bridge, host, none). */
enum berr net_check_name(struct op *o, const char *name);
/* OWNER's new bridge network NAME (subnet from the pool; LABELS and driver OPTIONS checked by
 * the caller; may be NULL) under OWNER's lock and quota; a taken name is a 409.  *IN: dockerd's
 * inspect of it. */
enum berr net_create(struct op *o, const char *owner, const char *name, json_object *labels,
                     json_object *options, int internal, json_object **in);
/* Removes IN (from net_find USE_OWN): 409 while any container is attached. */
enum berr net_remove(struct op *o, json_object *in);
/*
 * Connects (CONNECT) or disconnects container CTREF and network NETREF,
 * both the caller's (or a shared network): on the owner's networks the
 * container's name, its service's and EXTRA (aliases, checked) are its DNS
 * aliases; none on shared ones.  ID gets the network's id.
 */
enum berr net_join(struct op *o, const char *netref, const char *ctref, int connect,
                   json_object *extra, int force, char *id, size_t n);
/*
 * OWNER's network NAME, made (with the caller's LABELS, may be NULL; under
 * OWNER's lock and network quota) when OWNER has none of that name.
 */
enum berr net_ensure(struct op *o, const char *owner, const char *name, json_object *labels);
/* Removes OWNER's network NAME when it exists (absent is B_OK); one in use is a 409. */
enum berr net_remove_owned(struct op *o, const char *owner, const char *name);

#endif

/*
 * registries.h - images from berth.conf's registries (res/registries.c):
 * pulls with the registry's credentials, pull-on-create, update detection
 * by digest (the supervisor's periodic check), redeploy webhooks and image
 * housekeeping.  The registry protocol itself is engine/registry.h.
 */
#ifndef BERTH_REGISTRIES_H
#define BERTH_REGISTRIES_H

#include "berth.h"
#include "edge/module.h"

#include <json-c/json.h>
#include <stdio.h>

struct op;
struct req;
struct eng_sink;

extern const struct bmod mod_registries;

/* 1 when ROLE may pull (admins, and roles whose berth.conf policy says pull = true). */
int reg_may_pull(enum role role);

/*
 * Pulls IMAGE (an explicit tag) through dockerd with its registry's
 * credentials when berth.conf names that registry; progress lines go to S
 * (may be NULL).  The caller has checked the role (reg_may_pull) and the
 * allow-list.  A failure says what the registry or dockerd said, never the
 * credentials.  The Docker door's image pull calls this too.
 */
enum berr reg_pull(struct op *o, const char *image, const struct eng_sink *s);

/*
 * Pull-on-create: IMAGE missing on this host, from one of berth.conf's
 * registries and ROLE may pull -> pulled now.  B_OK also when nothing was
 * to be done (the create then reports a missing image as before).
 */
enum berr reg_pull_missing(struct op *o, enum role role, const char *image);

/*
 * Before an update: when IMAGE's registry names another digest for its tag
 * than the local image has, pull it.  B_OK without a registry for IMAGE.
 * Any failure (credentials, unreachable, slow, tag gone) leaves the host's
 * images as they were.
 */
enum berr reg_refresh(struct op *o, const char *image);

/* Adds update_available (and the registry's digest) to container view V of container ID. */
void reg_mark(json_object *v, const char *id);
/* The same for service view V (its name and owner members): any replica out of date. */
void reg_mark_service(json_object *v);
/* berth_update_available gauges for /metrics. */
void reg_gauges(struct req *r, FILE *f);
/* Image id -> [names of this instance's containers using it] (new reference). */
json_object *reg_image_users(struct op *o);

#endif

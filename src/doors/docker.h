/*
 * docker.h - the Docker Engine API door (issue 20, docs/docker-api.md): a
 * listener of its own (nginx's BERTH_DOOR=docker) on which the docker CLI,
 * docker-compose and Testcontainers reach berth.  The same workers, policy,
 * ownership, namespaces, quotas and audit as /api/v1: the door only speaks
 * Docker's shapes.  One module per family of Docker routes (dk*.c), listed
 * in docker_modules; what they share is here.
 */
#ifndef BERTH_DOCKER_H
#define BERTH_DOCKER_H

#include "berth.h"
#include "edge/module.h"
#include "edge/req.h"

#include <json-c/json.h>

/* The newest Engine API version the door speaks, 1.DD_API_MAX (what its tables were written from).
 */
#define DD_API_MAX 41
#define DD_API_MIN 24

extern const struct rt_door door_docker;
/* The door's modules, in route order; NULL-ended. */
extern const struct bmod *const docker_modules[];
extern const struct bmod mod_dd_system, mod_dd_containers, mod_dd_exec, mod_dd_images,
    mod_dd_volumes, mod_dd_networks;

/* The path arguments every door module shares: {id} (any object reference), {name}. */
extern const struct rt_param dd_args[];

/* Docker's answer to a refused request: {"message": ...} with R's error. */
void dd_error(struct req *r);

/*
 * A JSON list or object answer; takes O.  (The door's headers, API-Version
 * and the like, are nginx's: berth-docker.conf.in.)
 */
void dd_answer(struct req *r, int status, json_object *o);

/*
 * E as a door answer about WHAT REF ("container", "web"): a not-found
 * becomes dockerd's own "No such container: web" (clients match on it),
 * anything else is returned as it is.
 */
enum berr dd_no_such(struct op *o, enum berr e, const char *what, const char *ref);

/* "/NAME": Docker's spelling of a container's name, from berth's. */
void dd_slash_name(const char *name, char *out, size_t n);

/*
 * 1 when R's client takes a 200 with Connection: close as the answer to an
 * upgrade it asked for, reading the stream as hijacked (relay/ticket.h
 * TK_HELD): the docker CLI before 25, whose client still accepts that
 * answer from pre-1.24 daemons.  Later CLIs insist on the 101.
 */
int dd_takes_held(struct req *r);

/* ---- Docker's filters query parameter ------------------------------------ */

#define DD_FILTERS_MAX 64 /* values in one filters parameter, all keys together */

/*
 * Docker's ?filters=: a JSON object of filter name -> values, in either of
 * the forms clients send: the list form {"label": ["a=b"]} (docker-compose,
 * dockerode) or the map form {"label": {"a=b": true}} (the docker CLI).
 * *OUT gets the list form, {"name": ["v", ...]} (new reference; an empty
 * object for TEXT NULL or "").  KEYS (NULL-ended) are the filter names the
 * route knows; any other is a 400 naming it, as dockerd answers.  Values
 * are strings of at most 1024 bytes; at most DD_FILTERS_MAX of them.
 */
enum berr dd_filters_parse(struct op *o, const char *text, const char *const *keys,
                           json_object **out);

/* The values of filter KEY in F (dd_filters_parse's form), or NULL when it has none. */
json_object *dd_filter(json_object *f, const char *key);

/*
 * 1 when LABELS (an object: name -> value; may be NULL) satisfies every
 * "label" value of F, each "name" (the label is set) or "name=value", as
 * dockerd matches them.
 */
int dd_filter_labels(json_object *f, json_object *labels);

/* 1 when F has no filter KEY, or one of its values is VALUE (exact). */
int dd_filter_is(json_object *f, const char *key, const char *value);

/* ---- images (dkimages.c) --------------------------------------------------- */

#define DD_REF_MAX 640 /* a Docker image reference with a namespace prefix */

/*
 * The Docker reference REF names for OWNER (NULL: the caller) into OUT:
 * OWNER's own tag of that name when there is one (dockerd's namespaced
 * "berth.<slug>.<hash>/REF"), then one of the caller's groups', else REF
 * itself (a shared image: the caller still checks it against the role's
 * allow-list).  Ids and digests are REF itself.  A namespaced reference
 * typed in by a non-admin is Docker's 404 (No such image), so no one names
 * another tenant's tag.  Only dockerd's failures are errors otherwise.
 */
enum berr dd_image_resolve(struct op *o, const char *owner, const char *ref, char *out, size_t n);

/* The length of the caller's own prefix TAG starts with ("berth.alice.x/"), or 0. */
size_t dd_own_cut(const struct op *o, const char *tag);

/* Docker reference DREF as O's caller sees it: their own namespace's prefix taken off. */
void dd_image_shown(const struct op *o, const char *dref, char *out, size_t n);

#endif

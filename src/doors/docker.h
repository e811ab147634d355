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

#endif

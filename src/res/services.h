/*
 * services.h - service definitions (seed 004): an image with a tag, a
 * command, environment and ports, scaled to N replicas.  services.c owns the
 * definitions, the API and engine mode (replicas are containers); swarm.c
 * turns the same definitions into Docker Swarm services; seed004.c serves
 * seed 004's own routes through the functions below.
 */
#ifndef BERTH_SERVICES_H
#define BERTH_SERVICES_H

#include "berth.h"
#include "edge/route.h"
#include "res/policy.h"
#include "lib/schema.h"

#include <json-c/json.h>

struct op;
struct req;

/* The state directory's folder of service records. */
#define ST_SERVICES "services"

/* Service names leave room for "-<n>" replica suffixes within BERTH_NAME_MAX. */
#define SVC_NAME_MAX 57
/* The owner recorded for services declared in berth.conf (managed by admins). */
#define SVC_CONFIG_OWNER "berth.conf"
/*
 * Replicas carry LBL_SERVICE_REV, a hash of the definition they were made
 * from, and LBL_SERVICE_SEQ, numbering them in the order they were made
 * (both in containers.h, which stamps every berth label).
 */

extern const struct sc_schema svc_schema, svc_update_schema, svc_scale_schema;

/* Validates a berth.conf services entry against svc_update_schema (the module's cfg_check). */
int svc_check_conf(const char *name, json_object *def, char *err, size_t errlen);

/*
 * How a front door shapes its answers about services: berth's API view,
 * or seed 004's.  Both take a service record (borrowed) and give a new
 * reference.
 */
struct svc_shape {
	json_object *(*def)(json_object *rec);
	/* RUNNING replicas of DESIRED; VIEWS (borrowed) one per replica or task. */
	json_object *(*status)(json_object *rec, int running, int desired, json_object *views);
	/* What O's caller may do to it (`can`), or NULL: the shape has no such member. */
	json_object *(*can)(struct op *o, json_object *rec);
};

/*
 * The handlers behind both route sets (berth's, seed 004's): the same
 * logic, ownership and policy, each answering in SH's shape.
 */
enum berr svc_list(struct req *r, const struct svc_shape *sh);
enum berr svc_create(struct req *r, const struct svc_shape *sh);
enum berr svc_get(struct req *r, const struct svc_shape *sh);
enum berr svc_put(struct req *r, const struct svc_shape *sh);
enum berr svc_scale(struct req *r, const struct svc_shape *sh);
enum berr svc_status(struct req *r, const struct svc_shape *sh);

/* The module, its {name} argument and the ?timeout= both doors take. */
struct bmod;

extern const struct bmod mod_services;

/* For registries.c: the API view (new reference) of the service REF the caller may see. */
enum berr svc_lookup_view(struct op *o, const char *ref, json_object **v);
/* POST /hooks/<token> for a service (R's args[0] its name): pull if newer, roll replicas. */
enum berr svc_refresh(struct req *r);
extern const struct rt_param svc_args[], svc_timeout_query[];

/*
 * The berth container spec (policy.h) for one replica of DEF, without a
 * name.  New reference.
 */
json_object *svc_container_spec(json_object *def);

/* ---- swarm.c: the only code that builds Swarm service specs ---------- */

/* 1 when services run as Swarm services for this request (mode, or auto + /info). */
enum berr sw_active(struct op *o, int *on);
/*
 * Sets NAME's Swarm service to N replicas, creating it from SPEC (a
 * policy-checked container spec, NULL when N is 0) when it does not exist
 * yet; an existing one keeps its task template.
 */
enum berr sw_scale(struct op *o, const char *name, const char *owner, json_object *spec,
                   const struct pol_limits *lim, int n);
/*
 * Replaces the task template of NAME's Swarm service (if it exists) with one
 * made from SPEC; Swarm rolls the tasks one at a time, starting the new one
 * before stopping the old one.
 */
enum berr sw_update(struct op *o, const char *name, const char *owner, json_object *spec,
                    const struct pol_limits *lim);
/*
 * Adds to U the replicas OWNER's Swarm services of this instance are set to
 * run (but SKIP's, when not NULL), as replicas and as containers, and their
 * memory and CPU limits.  Quotas count these, not the containers that exist,
 * because Swarm starts tasks after the update has returned.
 */
struct usage;
enum berr sw_usage(struct op *o, const char *owner, const char *skip, struct usage *u);
/* Running tasks of OWNER's Swarm service NAME and a view of each (new reference). */
enum berr sw_status(struct op *o, const char *name, const char *owner, int *running, int *desired,
                    json_object **tasks);
/* Removes OWNER's Swarm service NAME if it exists. */
enum berr sw_remove(struct op *o, const char *name, const char *owner);
/* Removes every Swarm service of this berth instance; 0 on success. */
int sw_cleanup_instance(void);

#endif

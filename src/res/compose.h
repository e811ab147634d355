/*
 * compose.h - the compose subset stacks accept, turned into a plan: one
 * berth container spec per service (what POST /api/v1/containers takes),
 * its replica count, dependencies and config hash, and the networks and
 * volumes the stack declares.  Pure: no dockerd, no policy (stacks.c runs
 * every spec through pol_check for its owner), so the unit tests and the
 * fuzzer see exactly what a request gets.  Every key outside the subset is
 * refused naming its path ("services.web.privileged"), never ignored.
 */
#ifndef BERTH_COMPOSE_H
#define BERTH_COMPOSE_H

#include <json-c/json.h>
#include <stddef.h>

/* Stack names: what compose accepts as a project name, short enough for replica names. */
#define CP_STACK_RE    "^[a-z0-9][a-z0-9_-]*$"
#define CP_STACK_MAX   24
#define CP_SERVICE_MAX 24
/* The most services in one stack, and replicas of one service. */
#define CP_SERVICES_MAX 32
#define CP_REPLICAS_MAX 16

/* The key path at fault and what is wrong there (always a 422). */
struct cp_error {
	char field[160];
	char msg[256];
};

/*
 * The plan of compose document DOC for stack STACK, with VARS ({"K": "v"},
 * may be NULL) interpolated into every string (${K}, ${K:-default},
 * ${K-default}, ${K:?message}, $K; $$ is a $).  *PLAN (new reference):
 *   {"services": {NAME: {"spec", "origin", "depends_on", "replicas", "hash"}},
 *    "order": [NAME...]  (dependencies first),
 *    "networks": {NAME: {"name", "external"}}, "volumes": {NAME: {"name", "external"}}}
 * where spec lacks only "name" (stacks.c names each replica), origin maps
 * a spec field to the key path it came from, and hash is the service's
 * com.docker.compose.config-hash.  WARNINGS (may be NULL) gets a new array
 * of words about variables that were not set.  0, or -1 with E set.
 */
int cp_plan(const char *stack, json_object *doc, json_object *vars, json_object **plan,
            json_object **warnings, struct cp_error *e);

/*
 * The key path a failure in field FIELD of SERVICE's spec (pol_check's,
 * sc_validate's: "mounts[1].source") comes from, using the plan's origin
 * map ORIGIN, into OUT.
 */
void cp_origin(json_object *origin, const char *service, const char *field, char *out, size_t n);

/* The name of replica NUMBER of SERVICE of STACK: "stack-service-1", compose's own. */
void cp_replica_name(const char *stack, const char *service, int number, char *out, size_t n);

#endif

/*
 * seed004.c - seed 004's (Genisys connector) own routes at the root path,
 * so its httpie examples work unchanged: /service, /service/<name>,
 * /service/<name>/scale, /service/<name>/status.  Same logic, ownership and
 * policy as /api/v1/services (the handlers are services.c's); only the
 * answer shapes are the seed's, and a malformed body is a 400.
 */
#include "berth.h"
#include "edge/route.h"
#include "res/services.h"

const struct rt_route svc_seed_routes[] = {
    {"GET", "/service", svc_h_list, ROLE_VIEWER, 0, NULL,
     "Seed 004: service definitions, name -> {name, image, command, environment, ports}."},
    {"POST", "/service", svc_h_create, ROLE_OPERATOR, RT_BODY | RT_MUT | RT_RAWERR, &svc_schema,
     "Seed 004: register a service definition."},
    {"GET", "/service/{name}", svc_h_get, ROLE_VIEWER, 0, NULL,
     "Seed 004: one service definition (null for absent fields)."},
    {"PUT", "/service/{name}", svc_h_put, ROLE_OPERATOR, RT_BODY | RT_MUT | RT_RAWERR,
     &svc_update_schema, "Seed 004: replace a service definition."},
    {"POST", "/service/{name}/scale", svc_h_scale, ROLE_OPERATOR, RT_BODY | RT_MUT | RT_RAWERR,
     &svc_scale_schema, "Seed 004: ensure {\"number\": N} containers run."},
    {"GET", "/service/{name}/status", svc_h_status, ROLE_VIEWER, 0, NULL,
     "Seed 004: {\"running_resources\": N}."},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL},
};

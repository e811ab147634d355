/*
 * seed004.c - seed 004's (Genisys connector) own routes at the root path,
 * so its httpie examples work unchanged: /service, /service/<name>,
 * /service/<name>/scale, /service/<name>/status.  Same logic, ownership and
 * policy as /api/v1/services (the handlers are services.c's); only the
 * answer shapes are the seed's, and a malformed body is a 400 (the door).
 */
#include "berth.h"
#include "doors/doors.h"
#include "lib/json.h"
#include "res/services.h"

/* Seed 004's definition: its five fields, null when absent. */
static json_object *
seed_def(json_object *rec)
{
	static const char *const keys[] = {"name",        "image", "command",
	                                   "environment", "ports", NULL};
	json_object *v = json_object_new_object();

	for (const char *const *k = keys; *k; k++)
		jx_add_ref(v, *k, jx_get(rec, *k));
	return v;
}

/* Seed 004's status: the running count alone. */
static json_object *
seed_status(json_object *rec, int running, int desired, json_object *views)
{
	json_object *o = json_object_new_object();

	(void)rec, (void)desired, (void)views;
	jx_add_int(o, "running_resources", running);
	return o;
}

static const struct svc_shape seed_shape = {seed_def, seed_status, NULL};

static enum berr
h_list(struct req *r)
{
	return svc_list(r, &seed_shape);
}

static enum berr
h_create(struct req *r)
{
	return svc_create(r, &seed_shape);
}

static enum berr
h_get(struct req *r)
{
	return svc_get(r, &seed_shape);
}

static enum berr
h_put(struct req *r)
{
	return svc_put(r, &seed_shape);
}

static enum berr
h_scale(struct req *r)
{
	return svc_scale(r, &seed_shape);
}

static enum berr
h_status(struct req *r)
{
	return svc_status(r, &seed_shape);
}

static const struct rt_route routes[] = {
    {"GET", "/service", h_list, ROLE_VIEWER, 0, NULL,
     "Seed 004: service definitions, name -> {name, image, command, environment, ports}.", NULL},
    {"POST", "/service", h_create, ROLE_OPERATOR, RT_BODY | RT_MUT, &svc_schema,
     "Seed 004: register a service definition.", NULL},
    {"GET", "/service/{name}", h_get, ROLE_VIEWER, 0, NULL,
     "Seed 004: one service definition (null for absent fields).", NULL},
    {"PUT", "/service/{name}", h_put, ROLE_OPERATOR, RT_BODY | RT_MUT, &svc_update_schema,
     "Seed 004: replace a service definition.", svc_timeout_query},
    {"POST", "/service/{name}/scale", h_scale, ROLE_OPERATOR, RT_BODY | RT_MUT, &svc_scale_schema,
     "Seed 004: ensure {\"number\": N} containers run.", svc_timeout_query},
    {"GET", "/service/{name}/status", h_status, ROLE_VIEWER, 0, NULL,
     "Seed 004: {\"running_resources\": N}.", NULL},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

const struct bmod mod_seed004 = {
    .name = "seed004",
    .routes = routes,
    .args = svc_args,
    .door = &door_seed,
};

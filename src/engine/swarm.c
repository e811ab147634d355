/*
 * engine/swarm.c - Swarm services and tasks in the Engine API.  dockerd
 * answers 503 on a node that is no swarm manager; an update made from a
 * stale version is refused with its own words, turned into a reason code
 * here so no caller ever matches dockerd's text.
 */
#include "engine/call.h"
#include "engine/engine.h"

#define NOT_MANAGER                                                                                \
	{                                                                                          \
		.status = 503, .err = B_DOCKER_DOWN,                                               \
		.msg = "dockerd is not a swarm manager (%s): %s"                                   \
	}

static const struct eng_status list_st[] = {NOT_MANAGER, {0}};
static const struct eng_call SVC_LIST = {"GET", "/services", "swarm services", NULL, list_st};
static const struct eng_call SVC_INSPECT = {"GET", "/services/%s", "swarm service", NULL, list_st};
static const struct eng_status create_st[] = {
    NOT_MANAGER, {.status = 409, .err = B_CONFLICT, .why = R_NAME_TAKEN, .field = "name"}, {0}};
static const struct eng_call SVC_CREATE = {"POST", "/services/create", "swarm service", NULL,
                                           create_st};
static const struct eng_status update_st[] = {
    NOT_MANAGER,
    {.status = 500, .err = B_CONFLICT, .why = R_OUT_OF_SEQUENCE, .match = "update out of sequence"},
    {.status = 400, .err = B_CONFLICT, .why = R_OUT_OF_SEQUENCE, .match = "update out of sequence"},
    {0}};
static const struct eng_call SVC_UPDATE = {"POST", "/services/%s/update", "swarm service", NULL,
                                           update_st};
static const struct eng_status remove_st[] = {NOT_MANAGER, {.status = 404, .err = B_OK}, {0}};
static const struct eng_call SVC_REMOVE = {"DELETE", "/services/%s", "swarm service", NULL,
                                           remove_st};
static const struct eng_call TASK_LIST = {"GET", "/tasks", "swarm tasks", NULL, list_st};

static enum berr
list(struct op *o, const struct eng_call *c, json_object *filters, json_object **out)
{
	struct eng_query q = {0};

	if (filters)
		eq_json(&q, "filters", filters);
	return eng_get_array(o, c, &q, NULL, out);
}

enum berr
eng_svc_list(struct op *o, json_object *filters, json_object **out)
{
	return list(o, &SVC_LIST, filters, out);
}

enum berr
eng_task_list(struct op *o, json_object *filters, json_object **out)
{
	return list(o, &TASK_LIST, filters, out);
}

enum berr
eng_svc_inspect(struct op *o, const char *id, json_object **out)
{
	struct eng_req rq = {.arg = {id}};

	return eng_run(o, &SVC_INSPECT, &rq, out, NULL);
}

enum berr
eng_svc_create(struct op *o, json_object *spec, json_object **out)
{
	struct eng_req rq = {.body = spec};

	return eng_run(o, &SVC_CREATE, &rq, out, NULL);
}

enum berr
eng_svc_update(struct op *o, const char *id, long long version, json_object *spec)
{
	struct eng_query q = {0};
	struct eng_req rq = {.arg = {id}, .q = &q, .body = spec};

	eq_int(&q, "version", version);
	return eng_run(o, &SVC_UPDATE, &rq, NULL, NULL);
}

enum berr
eng_svc_remove(struct op *o, const char *id)
{
	struct eng_req rq = {.arg = {id}};

	return eng_run(o, &SVC_REMOVE, &rq, NULL, NULL);
}

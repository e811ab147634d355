/*
 * engine/volumes.c - volumes in the Engine API: list, create, inspect,
 * remove, and the sizes dockerd measures (/system/df), each a row of data.
 */
#include "engine/call.h"
#include "engine/engine.h"
#include "lib/json.h"

static const struct eng_call VOL_LIST = {"GET", "/volumes", "volume list", NULL, NULL};
static const struct eng_status vol_create_st[] = {
    {.status = 409, .err = B_CONFLICT, .why = R_NAME_TAKEN, .field = "name"}, {0}};
static const struct eng_call VOL_CREATE = {"POST", "/volumes/create", "volume", NULL,
                                           vol_create_st};
static const struct eng_status vol_inspect_st[] = {
    {.status = 404, .err = B_NOT_FOUND, .why = R_GONE, .msg = "no such volume: %.64s"}, {0}};
static const struct eng_call VOL_INSPECT = {"GET", "/volumes/%s", "volume", NULL, vol_inspect_st};
/* Gone already is what was asked for; in use (409) is the caller's to explain. */
static const struct eng_status vol_remove_st[] = {{.status = 404, .err = B_OK}, {0}};
static const struct eng_call VOL_REMOVE = {"DELETE", "/volumes/%s", "volume", NULL, vol_remove_st};
static const struct eng_call SYS_DF = {"GET", "/system/df", "disk usage", NULL, NULL};

enum berr
eng_vol_list(struct op *o, json_object *filters, json_object **out)
{
	struct eng_query q = {0};
	struct eng_req rq = {.q = &q};
	json_object *ans = NULL, *vols;
	enum berr e;

	*out = NULL;
	if (filters)
		eq_json(&q, "filters", filters);
	e = eng_run(o, &VOL_LIST, &rq, &ans, NULL);
	if (e != B_OK)
		return e;
	vols = jx_get(ans, "Volumes");
	/* dockerd sends "Volumes": null when there are none. */
	if (vols && !json_object_is_type(vols, json_type_array)) {
		json_object_put(ans);
		return op_fail(o, B_DOCKER, NULL, "dockerd sent a volume list that is no list");
	}
	*out = vols ? json_object_get(vols) : json_object_new_array();
	json_object_put(ans);
	return B_OK;
}

enum berr
eng_vol_create(struct op *o, json_object *body, json_object **out)
{
	struct eng_req rq = {.body = body};

	return eng_run(o, &VOL_CREATE, &rq, out, NULL);
}

enum berr
eng_vol_inspect(struct op *o, const char *name, json_object **out)
{
	struct eng_req rq = {.arg = {name}};

	return eng_run(o, &VOL_INSPECT, &rq, out, NULL);
}

enum berr
eng_vol_remove(struct op *o, const char *name, int force)
{
	struct eng_query q = {0};
	struct eng_req rq = {.arg = {name}, .q = &q};

	eq_int(&q, "force", force ? 1 : 0);
	return eng_run(o, &VOL_REMOVE, &rq, NULL, NULL);
}

enum berr
eng_df(struct op *o, json_object **out)
{
	struct eng_req rq = {0};

	return eng_run(o, &SYS_DF, &rq, out, NULL);
}

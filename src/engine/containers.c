/*
 * engine/containers.c - containers and exec in the Engine API: one row of
 * data per call, and the typed functions berth calls them through.
 */
#include "engine/call.h"
#include "engine/engine.h"
#include "lib/json.h"

#include <stdio.h>
#include <string.h>

static const struct eng_status inspect_st[] = {
    {.status = 400, .err = B_NOT_FOUND, .why = R_GONE, .msg = "no such container: %.64s"}, {0}};
static const struct eng_call CT_INSPECT = {"GET", "/containers/%s/json", "container", NULL,
                                           inspect_st};
static const struct eng_call CT_LIST = {"GET", "/containers/json", "container list", NULL, NULL};
/*
 * Most of each list item is network settings and mounts, which berth reads
 * from an inspect only: parsing and freeing them was 40% of the CPU berth
 * spent on a list of 200 containers (docs/benchmarks.md).
 */
static const char *const list_unread[] = {"NetworkSettings", "HostConfig", "Mounts", "Command",
                                          NULL};

static const struct eng_status create_st[] = {
    {.status = 404, .err = B_INVALID, .why = R_NO_IMAGE, .field = "image"},
    {.status = 409, .err = B_CONFLICT, .why = R_NAME_TAKEN, .field = "name"},
    {0}};
static const struct eng_call CT_CREATE = {"POST", "/containers/create", "container create", NULL,
                                          create_st};

/* Already in the state asked for (304) is success; one dockerd cannot reach (500) a conflict. */
static const struct eng_status start_st[] = {
    {.status = 304, .err = B_OK},
    {.status = 404, .err = B_INVALID, .msg = "container %.64s could not start: %s"},
    {.status = 400, .err = B_INVALID, .msg = "container %.64s could not start: %s"},
    {.status = 500, .err = B_CONFLICT, .msg = "container %.64s could not start: %s"},
    {0}};
static const struct eng_call CT_START = {"POST", "/containers/%s/start", "container", NULL,
                                         start_st};
static const struct eng_status stop_st[] = {
    {.status = 304, .err = B_OK},
    {.status = 500, .err = B_CONFLICT, .msg = "container %.64s: %s"},
    {0}};
static const struct eng_call CT_STOP = {"POST", "/containers/%s/stop", "container", NULL, stop_st};
static const struct eng_call CT_RESTART = {"POST", "/containers/%s/restart", "container", NULL,
                                           stop_st};
static const struct eng_status kill_st[] = {
    {.status = 409, .err = B_OK, .why = R_NOT_RUNNING},
    {.status = 500, .err = B_CONFLICT, .msg = "container %.64s: %s"},
    {0}};
static const struct eng_call CT_KILL = {"POST", "/containers/%s/kill", "container", NULL, kill_st};
/* Gone already (404) or being removed (409) is what was asked for. */
static const struct eng_status remove_st[] = {
    {.status = 404, .err = B_OK}, {.status = 409, .err = B_OK}, {0}};
static const struct eng_call CT_REMOVE = {"DELETE", "/containers/%s", "container", NULL, remove_st};
static const struct eng_status rename_st[] = {
    {.status = 409, .err = B_CONFLICT, .why = R_NAME_TAKEN, .field = "name"}, {0}};
static const struct eng_call CT_RENAME = {"POST", "/containers/%s/rename", "container", NULL,
                                          rename_st};
static const struct eng_call CT_LOGS = {"GET", "/containers/%s/logs", "container", NULL, NULL};
static const struct eng_call CT_STATS = {"GET", "/containers/%s/stats", "container", NULL, NULL};
/* Paused already, or not paused, is what was asked for (dockerd: 409 "is already paused"). */
static const struct eng_status pause_st[] = {
    {.status = 409, .err = B_OK, .match = "already paused"},
    {.status = 409, .err = B_OK, .match = "is not paused"},
    {.status = 409, .err = B_CONFLICT, .why = R_NOT_RUNNING, .msg = "container %.64s: %s"},
    {.status = 500, .err = B_CONFLICT, .msg = "container %.64s: %s"},
    {0}};
static const struct eng_call CT_PAUSE = {"POST", "/containers/%s/pause", "container", NULL,
                                         pause_st};
static const struct eng_call CT_UNPAUSE = {"POST", "/containers/%s/unpause", "container", NULL,
                                           pause_st};
static const struct eng_status top_st[] = {
    {.status = 409, .err = B_CONFLICT, .why = R_NOT_RUNNING, .msg = "container %.64s: %s"},
    {.status = 500, .err = B_CONFLICT, .msg = "container %.64s: %s"},
    {0}};
static const struct eng_call CT_TOP = {"GET", "/containers/%s/top", "container", NULL, top_st};
static const struct eng_call CT_WAIT = {"POST", "/containers/%s/wait", "container", NULL, NULL};
static const struct eng_call CT_ATTACH = {"POST", "/containers/%s/attach", "container", NULL, NULL};

static const struct eng_status exec_create_st[] = {{.status = 409,
                                                    .err = B_CONFLICT,
                                                    .why = R_NOT_RUNNING,
                                                    .msg = "container %.64s is not running"},
                                                   {0}};
static const struct eng_call EXEC_CREATE = {"POST", "/containers/%s/exec", "container", NULL,
                                            exec_create_st};
static const struct eng_call EXEC_START = {"POST", "/exec/%s/start", "exec", NULL, NULL};
static const struct eng_status exec_inspect_st[] = {
    {.status = 404, .err = B_NOT_FOUND, .why = R_GONE, .msg = "No such exec instance: %.64s"}, {0}};
static const struct eng_call EXEC_INSPECT = {"GET", "/exec/%s/json", "exec", NULL, exec_inspect_st};
static const struct eng_call EXEC_RESIZE = {"POST", "/exec/%s/resize", "exec", NULL, NULL};

/* The id dockerd gave (hex, 64 characters) into ID; anything else is a broken reply. */
static enum berr
take_id(struct op *o, json_object *answer, const char *key, char *id, size_t n)
{
	const char *v = jx_str(answer, key);

	if (v == NULL || !name_valid(v) || strlen(v) >= n)
		return op_fail(o, B_DOCKER, NULL, "dockerd gave no usable id");
	snprintf(id, n, "%s", v);
	return B_OK;
}

enum berr
eng_ct_inspect(struct op *o, const char *ref, json_object **out)
{
	struct eng_req rq = {.arg = {ref}};

	return eng_run(o, &CT_INSPECT, &rq, out, NULL);
}

static enum berr
ct_list_dropping(struct op *o, int all, json_object *filters, const char *const *drop,
                 json_object **out)
{
	struct eng_query q = {0};

	eq_int(&q, "all", all ? 1 : 0);
	if (filters)
		eq_json(&q, "filters", filters);
	return eng_get_array(o, &CT_LIST, &q, drop, out);
}

enum berr
eng_ct_list(struct op *o, int all, json_object *filters, json_object **out)
{
	return ct_list_dropping(o, all, filters, list_unread, out);
}

enum berr
eng_ct_list_full(struct op *o, int all, json_object *filters, json_object **out)
{
	return ct_list_dropping(o, all, filters, NULL, out);
}

enum berr
eng_ct_create(struct op *o, const char *name, json_object *body, char *id, size_t n)
{
	struct eng_query q = {0};
	struct eng_req rq = {.q = &q, .body = body};
	json_object *ans;
	enum berr e;

	if (name)
		eq_str(&q, "name", name);
	e = eng_run(o, &CT_CREATE, &rq, &ans, NULL);
	if (e == B_OK)
		e = take_id(o, ans, "Id", id, n);
	json_object_put(ans);
	return e;
}

/* A POST to one container's PATH with the query Q (may be NULL). */
static enum berr
post(struct op *o, const struct eng_call *c, const char *id, const struct eng_query *q)
{
	struct eng_req rq = {.arg = {id}, .q = q};

	return eng_run(o, c, &rq, NULL, NULL);
}

enum berr
eng_ct_start(struct op *o, const char *id)
{
	return post(o, &CT_START, id, NULL);
}

enum berr
eng_ct_stop(struct op *o, const char *id, int timeout)
{
	struct eng_query q = {0};

	eq_int(&q, "t", timeout);
	return post(o, &CT_STOP, id, &q);
}

enum berr
eng_ct_restart(struct op *o, const char *id, int timeout)
{
	struct eng_query q = {0};

	eq_int(&q, "t", timeout);
	return post(o, &CT_RESTART, id, &q);
}

enum berr
eng_ct_kill(struct op *o, const char *id, const char *signal)
{
	struct eng_query q = {0};

	eq_str(&q, "signal", signal);
	return post(o, &CT_KILL, id, &q);
}

enum berr
eng_ct_remove(struct op *o, const char *id)
{
	struct eng_query q = {0};
	struct eng_req rq = {.arg = {id}, .q = &q};

	eq_int(&q, "force", 1);
	eq_int(&q, "v", 1);
	return eng_run(o, &CT_REMOVE, &rq, NULL, NULL);
}

enum berr
eng_ct_pause(struct op *o, const char *id, int pause)
{
	return post(o, pause ? &CT_PAUSE : &CT_UNPAUSE, id, NULL);
}

enum berr
eng_ct_top(struct op *o, const char *id, const char *ps_args, json_object **out)
{
	struct eng_query q = {0};
	struct eng_req rq = {.arg = {id}, .q = &q};

	if (ps_args)
		eq_str(&q, "ps_args", ps_args);
	return eng_run(o, &CT_TOP, &rq, out, NULL);
}

enum berr
eng_ct_wait_ticket(struct op *o, const char *id, const char *condition, json_object *tk)
{
	struct eng_query q = {0};
	struct eng_req rq = {.arg = {id}, .q = &q};

	eq_str(&q, "condition", condition);
	return eng_ticket(o, &CT_WAIT, &rq, tk);
}

enum berr
eng_ct_attach_ticket(struct op *o, const char *id, const struct eng_attach *a, json_object *tk)
{
	struct eng_query q = {0};
	struct eng_req rq = {.arg = {id}, .q = &q};

	eq_int(&q, "stream", 1);
	eq_int(&q, "stdin", a->stdin_);
	eq_int(&q, "stdout", a->stdout_);
	eq_int(&q, "stderr", a->stderr_);
	if (a->logs)
		eq_int(&q, "logs", 1);
	if (a->detach_keys)
		eq_str(&q, "detachKeys", a->detach_keys);
	return eng_ticket(o, &CT_ATTACH, &rq, tk);
}

enum berr
eng_ct_stats_ticket(struct op *o, const char *id, json_object *tk)
{
	struct eng_query q = {0};
	struct eng_req rq = {.arg = {id}, .q = &q};

	eq_str(&q, "stream", "true");
	return eng_ticket(o, &CT_STATS, &rq, tk);
}

enum berr
eng_exec_inspect(struct op *o, const char *eid, json_object **out)
{
	struct eng_req rq = {.arg = {eid}};

	return eng_run(o, &EXEC_INSPECT, &rq, out, NULL);
}

enum berr
eng_exec_resize(struct op *o, const char *eid, int rows, int cols)
{
	struct eng_query q = {0};
	struct eng_req rq = {.arg = {eid}, .q = &q};

	eq_int(&q, "h", rows);
	eq_int(&q, "w", cols);
	return eng_run(o, &EXEC_RESIZE, &rq, NULL, NULL);
}

enum berr
eng_ct_rename(struct op *o, const char *id, const char *name)
{
	struct eng_query q = {0};

	eq_str(&q, "name", name);
	return post(o, &CT_RENAME, id, &q);
}

static void
logs_query(struct eng_query *q, const struct eng_logs *l)
{
	eq_int(q, "stdout", l->stdout_);
	eq_int(q, "stderr", l->stderr_);
	eq_int(q, "timestamps", l->timestamps);
	eq_int(q, "follow", l->follow);
	if (l->tail < 0)
		eq_str(q, "tail", "all");
	else
		eq_int(q, "tail", l->tail);
	eq_str(q, "since", l->since ? l->since : "0");
}

enum berr
eng_ct_logs_ticket(struct op *o, const char *id, const struct eng_logs *l, json_object *tk)
{
	struct eng_query q = {0};
	struct eng_req rq = {.arg = {id}, .q = &q};

	logs_query(&q, l);
	return eng_ticket(o, &CT_LOGS, &rq, tk);
}

enum berr
eng_exec_start_ticket(struct op *o, const char *eid, json_object *body, json_object *tk)
{
	struct eng_req rq = {.arg = {eid}, .body = body};

	return eng_ticket(o, &EXEC_START, &rq, tk);
}

enum berr
eng_ct_logs(struct op *o, const char *id, const struct eng_logs *l, const struct eng_sink *s)
{
	struct eng_query q = {0};
	struct eng_req rq = {
	    .arg = {id}, .q = &q, .sink = s->sink, .alive = s->alive, .arg_sink = s->arg};

	logs_query(&q, l);
	return eng_run(o, &CT_LOGS, &rq, NULL, NULL);
}

enum berr
eng_ct_stats(struct op *o, const char *id, json_object **out)
{
	struct eng_query q = {0};
	struct eng_req rq = {.arg = {id}, .q = &q};
	enum berr e;

	eq_str(&q, "stream", "false");
	e = eng_run(o, &CT_STATS, &rq, out, NULL);
	if (e == B_OK && *out == NULL)
		e = op_fail(o, B_DOCKER, NULL, "dockerd sent no stats");
	return e;
}

enum berr
eng_exec_create(struct op *o, const char *id, json_object *body, char *eid, size_t n)
{
	struct eng_req rq = {.arg = {id}, .body = body};
	json_object *ans;
	enum berr e = eng_run(o, &EXEC_CREATE, &rq, &ans, NULL);

	if (e == B_OK)
		e = take_id(o, ans, "Id", eid, n);
	json_object_put(ans);
	return e;
}

/*
 * seed001.c - seed 001 (Herc) routes at the root path, so a Herc client
 * works unchanged: GET / (Herc's endpoint index, for clients that ask for
 * JSON; nginx serves browsers the dashboard), POST /submit with Herc's body
 * answering the job id as a JSON string, GET /status/<jobid> with Herc's
 * (Aurora's) status names and the time in epoch ms, GET /schema with the
 * JSON Schema POST /submit is validated against, and GET /sleep/<n>.  Jobs
 * are translated into berth jobs (jobs.h); nothing here talks to dockerd.
 */
#include "berth.h"
#include "lib/cfg.h"
#include "res/jobs.h"
#include "lib/json.h"
#include "edge/req.h"
#include "doors/doors.h"
#include "edge/route.h"
#include "lib/schema.h"
#include "relay/ticket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const unit_enum[] = {"BYTES", "KB", "MB", "GB", "TB", NULL};

static const struct sc_field file_fields[] = {
    {.name = "cloud",
     .types = SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "Object URL (gs://..., boss://...); recorded, not fetched.",
     .min = 1,
     .max = 1024,
     .pattern = "^[a-z][a-z0-9+.-]{0,31}://"},
    {.name = "local",
     .types = SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "Absolute path inside the job.",
     .min = 1,
     .max = 1024,
     .pattern = "^/"},
    {0}};
static const struct sc_field file_item = {.types = SC_OBJECT, .props = file_fields};

static const struct sc_field docker_fields[] = {{.name = "image",
                                                 .types = SC_STRING,
                                                 .flags = SC_REQUIRED,
                                                 .desc = "Image reference with an explicit tag.",
                                                 .min = 1,
                                                 .max = 255,
                                                 .pattern = SC_IMAGE_RE},
                                                {0}};

static const struct sc_field resource_fields[] = {
    {.name = "cpus", .types = SC_NUMBER, .desc = "CPU limit in cores.", .min = 0, .max = 1024},
    {.name = "mem",
     .types = SC_NUMBER,
     .desc = "Memory limit in memunit units.",
     .min = 0,
     .max = 1LL << 40},
    {.name = "memunit",
     .types = SC_STRING,
     .desc = "Unit of mem (default MB).",
     .enums = unit_enum},
    {.name = "memory",
     .types = SC_INT | SC_STRING,
     .desc = "Memory limit as berth writes it: bytes or \"512m\" (instead of mem).",
     .pattern = SC_SIZE_RE},
    {.name = "disk",
     .types = SC_NUMBER,
     .desc = "Disk wanted, in diskunit units (recorded; not enforced).",
     .min = 0,
     .max = 1LL << 40},
    {.name = "diskunit",
     .types = SC_STRING,
     .desc = "Unit of disk (default MB).",
     .enums = unit_enum},
    {0}};

static const struct sc_field submit_fields[] = {
    {.name = "name",
     .types = SC_STRING,
     .desc = "A label for people.",
     .min = 1,
     .max = 64,
     .pattern = SC_NAME_RE},
    {.name = "commandline",
     .types = SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "Command line, run by sh -c inside the image.",
     .min = 1,
     .max = 4096,
     .example = "\"echo Hello herc!\""},
    {.name = "docker",
     .types = SC_STRING | SC_OBJECT,
     .flags = SC_REQUIRED,
     .desc = "The image: \"name:tag\", or {\"image\": \"name:tag\"}.",
     .min = 1,
     .max = 255,
     .pattern = SC_IMAGE_RE,
     .props = docker_fields,
     .example = "\"berth-test/busybox:1\""},
    {.name = "resources",
     .types = SC_OBJECT,
     .desc = "Limits: cpus, mem (+ memunit) or memory; disk is recorded.",
     .props = resource_fields},
    {.name = "inputs",
     .types = SC_ARRAY,
     .desc = "Files to localize (recorded with the job).",
     .max = 256,
     .items = &file_item},
    {.name = "outputs",
     .types = SC_ARRAY,
     .desc = "Files to upload afterwards (recorded with the job).",
     .max = 256,
     .items = &file_item},
    {0}};

static const struct sc_schema job_submit_schema = {
    "submit", "seed 001 (Herc) job submission", submit_fields,
    "{\"commandline\":\"echo Hello herc! > /baz; cat /baz\","
    "\"docker\":\"berth-test/busybox:1\",\"resources\":{\"cpus\":1,\"mem\":64,"
    "\"memunit\":\"MB\",\"disk\":1,\"diskunit\":\"GB\"},\"inputs\":[{\"cloud\":\"gs://foo\","
    "\"local\":\"/foo\"}],\"outputs\":[{\"cloud\":\"gs://baz\",\"local\":\"/baz\"}]}",
    1};

static int64_t
unit_bytes(const char *unit)
{
	static const char *const units[] = {"BYTES", "KB", "MB", "GB", "TB"};

	for (int i = 0; i < 5; i++)
		if (unit && strcmp(unit, units[i]) == 0)
			return (int64_t)1 << (10 * i);
	return 1 << 20; /* Herc's default unit is MB */
}

/* Herc's body as a berth job body (new reference), or NULL with a 400 set on R. */
static json_object *
job_body(struct req *r, json_object *b)
{
	json_object *body = json_object_new_object(), *res = jx_obj(b, "resources");
	json_object *dock = jx_get(b, "docker"), *cmd = json_object_new_array(), *mem;

	if (jx_str(b, "name"))
		jx_add_str(body, "name", jx_str(b, "name"));
	jx_add_str(body, "image",
	           json_object_is_type(dock, json_type_string) ? json_object_get_string(dock)
	                                                       : jx_str(dock, "image"));
	json_object_array_add(cmd, json_object_new_string("sh"));
	json_object_array_add(cmd, json_object_new_string("-c"));
	json_object_array_add(cmd, json_object_new_string(jx_str(b, "commandline")));
	json_object_object_add(body, "command", cmd);
	if (jx_get(res, "memory") && jx_get(res, "mem")) {
		op_fail(&r->op, B_BAD_REQUEST, "resources.memory", "give mem or memory, not both");
		json_object_put(body);
		return NULL;
	}
	if (jx_get(res, "memory")) {
		jx_add_ref(body, "memory", jx_get(res, "memory"));
	} else if ((mem = jx_get(res, "mem")) != NULL) {
		double bytes =
		    json_object_get_double(mem) * (double)unit_bytes(jx_str(res, "memunit"));
		if (bytes > (double)(1LL << 50)) {
			op_fail(&r->op, B_BAD_REQUEST, "resources.mem",
			        "resources.mem is too large");
			json_object_put(body);
			return NULL;
		}
		jx_add_int(body, "memory", (int64_t)bytes);
	}
	if (jx_get(res, "cpus"))
		jx_add_ref(body, "cpus", jx_get(res, "cpus"));
	return body;
}

/* The seed's name for a field of the translated body. */
static const char *
seed_field(const char *f)
{
	static const char *const map[][2] = {{"image", "docker"},
	                                     {"command", "commandline"},
	                                     {"memory", "resources.mem"},
	                                     {"cpus", "resources.cpus"}};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(f, map[i][0]) == 0)
			return map[i][1];
	return f;
}

static enum berr
h_submit(struct req *r)
{
	json_object *body = job_body(r, r->json), *extra;
	char id[JOB_ID_LEN + 1], field[sizeof(r->op.field)];
	struct sc_error se;
	enum berr e;

	if (body == NULL)
		return r->op.err;
	if (sc_validate(&job_schema, body, &se) != 0) {
		json_object_put(body);
		return op_fail(&r->op, B_INVALID, seed_field(se.field), "%s", se.msg);
	}
	extra = json_object_new_object();
	jx_add_str(extra, "seed", "001");
	for (const char *const *k = (const char *const[]){"commandline", "docker", "resources",
	                                                  "inputs", "outputs", NULL};
	     *k; k++)
		if (jx_get(r->json, *k))
			jx_add_ref(extra, *k, jx_get(r->json, *k));
	e = job_submit(&r->op, body, extra, id);
	json_object_put(body);
	json_object_put(extra);
	if (e != B_OK) {
		/* Name the field as the seed's client wrote it (the door makes it a 400). */
		snprintf(field, sizeof(field), "%s", seed_field(r->op.field));
		snprintf(r->op.field, sizeof(r->op.field), "%s", field);
		return e;
	}
	/* "Returns a string, the job ID": a bare JSON string, as Herc answers. */
	rq_json(r, 200, json_object_new_string(id));
	return B_OK;
}

/*
 * berth's status -> Herc's (Aurora's) name.  timed_out is FAILED with
 * "reason": "timed_out" (Herc keeps KILLED for kills a user asked for);
 * failed by the memory limit is MEM_EXCEEDED, as Herc reports it.
 */
static const char *
seed_status(json_object *rec)
{
	static const char *const map[][2] = {{"queued", "PENDING"},     {"running", "RUNNING"},
	                                     {"succeeded", "FINISHED"}, {"failed", "FAILED"},
	                                     {"canceled", "KILLED"},    {"timed_out", "FAILED"}};
	const char *s = jx_str(rec, "status");

	if (s && strcmp(s, "failed") == 0 && jx_bool(rec, "oom_killed", 0))
		return "MEM_EXCEEDED";
	for (size_t i = 0; s && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(s, map[i][0]) == 0)
			return map[i][1];
	return "PENDING";
}

static enum berr
h_status(struct req *r)
{
	json_object *rec, *o;
	enum berr e = job_find(&r->op, r->args[0], &rec);
	const char *status;

	if (e != B_OK)
		return e;
	status = seed_status(rec);
	o = json_object_new_object();
	jx_add_str(o, "jobid", jx_str(rec, "id"));
	jx_add_str(o, "status", status);
	jx_add_int(o, "time", jx_int(rec, "since", 0));
	if (strcmp(jx_str(rec, "status"), "timed_out") == 0)
		jx_add_str(o, "reason", "timed_out");
	if (strcmp(status, "MEM_EXCEEDED") == 0) {
		/* Killed at its limit: what it asked for is what it used. */
		json_object *m = jx_get(rec, "memory");
		const char *ms = jx_str(rec, "memory");
		int64_t lim = json_object_is_type(m, json_type_int) ? json_object_get_int64(m)
		              : ms                                  ? cfg_parse_size(ms)
		                                                    : 0;
		char buf[32];
		snprintf(buf, sizeof(buf), "%lldBYTES", (long long)lim);
		if (lim > 0) {
			jx_add_str(o, "requested", buf);
			jx_add_str(o, "used", buf);
		}
	}
	rq_json(r, 200, o);
	json_object_put(rec);
	return B_OK;
}

static enum berr
h_schema(struct req *r)
{
	rq_json(r, 200, sc_json_schema(&job_submit_schema));
	return B_OK;
}

#define SEED_PREFIX "Seed 001: "

/*
 * Herc's index, {"METHOD /path": "description"}, made from the rows below so
 * it cannot list a route berth does not serve: {arg} is written <arg> as Herc
 * writes it, and the summary is the description without its prefix.
 */
static enum berr
h_index(struct req *r)
{
	json_object *o = json_object_new_object();

	for (const struct rt_route *rt = mod_seed001.routes; rt->method; rt++) {
		char key[96];
		size_t k = (size_t)snprintf(key, sizeof(key), "%s ", rt->method);
		for (const char *p = rt->pattern; *p && k + 1 < sizeof(key); p++)
			key[k++] = *p == '{' ? '<' : *p == '}' ? '>' : *p;
		key[k] = '\0';
		jx_add_str(o, key,
		           strncmp(rt->summary, SEED_PREFIX, strlen(SEED_PREFIX)) == 0
		               ? rt->summary + strlen(SEED_PREFIX)
		               : rt->summary);
	}
	rq_json(r, 200, o);
	return B_OK;
}

#define SLEEP_MAX 60 /* seconds; Herc names no bound, the relay's streams need one */

/*
 * "Sleep for n seconds and then return": {"slept": n}.  The sleep is the
 * stream relay's (relay/wait.c), not a worker's: as many may sleep as the
 * stream caps allow (berth.conf streams), each ends early when its client
 * leaves, and berth stopping ends them with how long they lasted.
 */
static enum berr
h_sleep(struct req *r)
{
	/* {n} was checked before the handler ran: a whole number 0..SLEEP_MAX. */
	int n = (int)strtol(r->args[0], NULL, 10);
	json_object *tk, *o;

	if (n == 0) {
		o = json_object_new_object();
		jx_add_int(o, "slept", 0);
		rq_json(r, 200, o);
		return B_OK;
	}
	tk = tk_new("sleep", "GET", "/sleep");
	jx_add_int(tk, "seconds", n);
	return tk_hand_off(r, tk);
}

/* Herc's five endpoints, in the order of its index; the summaries are its descriptions. */
static const struct rt_route routes[] = {
    {"GET", "/", h_index, ROLE_NONE, 0, NULL,
     SEED_PREFIX "Returns the list of endpoints that this webservice provides (for clients "
                 "that ask for JSON; browsers get the dashboard).",
     NULL},
    {"GET", "/schema", h_schema, ROLE_NONE, 0, NULL,
     SEED_PREFIX "Returns the JSON schema used to validate job submission requests.", NULL},
    {"GET", "/sleep/{n}", h_sleep, ROLE_VIEWER, 0, NULL,
     SEED_PREFIX "Sleep for n seconds (0 to 60) and then return {\"slept\": n}; sleeps are "
                 "streams, within berth.conf streams.per_user (429 past it).",
     NULL},
    {"GET", "/status/{jobid}", h_status, ROLE_VIEWER, 0, NULL,
     SEED_PREFIX "Returns the status of this job. 404 if not found, otherwise JSON with the "
                 "job's current status (Herc's names) and the time (epoch ms) it entered it.",
     NULL},
    {"POST", "/submit", h_submit, ROLE_OPERATOR, RT_BODY | RT_MUT, &job_submit_schema,
     SEED_PREFIX "Submits a job request. Body must be JSON that validates against the JSON "
                 "schema available at GET /schema. Returns a string, the job ID.",
     NULL},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

static const struct rt_param args[] = {
    {.name = "jobid",
     .type = P_STR,
     .desc = "job",
     .valid = job_id_valid,
     .rule = "16 hex characters"},
    {.name = "n", .type = P_INT, .desc = "Seconds to sleep.", .min = 0, .max = SLEEP_MAX},
    {0}};

static const struct sc_schema *const schemas[] = {&job_submit_schema, NULL};

const struct bmod mod_seed001 = {
    .name = "seed001",
    .routes = routes,
    .args = args,
    .door = &door_seed,
    .schemas = schemas,
};

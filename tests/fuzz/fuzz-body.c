/*
 * fuzz-body.c - request bodies: strict JSON parsing (jx_parse) and
 * validation against every schema the modules declare (mod_each_schema), so
 * a schema added to a module is fuzzed with no change here.  A body that validates is also pushed
 * through what the handler of its kind does next with it (EXTRAS below).
 */
#include "fuzz.h"

#include "../../src/lib/json.h"
#include "../../src/res/policy.h"
#include "../../src/edge/req.h"
#include "../../src/lib/schema.h"
#include "../../src/lib/yaml.h"
#include "../../src/res/compose.h"

/* The resource floor: every body berth builds is limited (the fuzz config sets none unlimited). */
static void
check_floor(json_object *body)
{
	json_object *hc = jx_obj(body, "HostConfig");

	if (jx_int(hc, "Memory", 0) < (6 << 20) || jx_int(hc, "NanoCpus", 0) < 10000000 ||
	    jx_int(hc, "PidsLimit", 0) < 8 ||
	    jx_str(jx_obj(jx_obj(hc, "LogConfig"), "Config"), "max-size") == NULL)
		abort();
}

/* What happens to a valid container spec: policy for every role, then the Docker body. */
static void
container_next(json_object *spec)
{
	json_object *labels = json_object_new_object();

	json_object_object_add(labels, "berth.owner", json_object_new_string("fuzz"));
	fz_each_role_body(spec, labels, check_floor);
	json_object_put(labels);
}

/* A valid stack body: its file read and planned, as POST /api/v1/stacks does before policy. */
static void
stack_next(json_object *body)
{
	const char *file = jx_str(body, "file");
	json_object *doc = NULL, *plan = NULL, *warn = NULL;
	struct yx_error ye;
	struct cp_error ce;

	if (file && yx_parse(file, strlen(file), &yx_compose_limits, &doc, NULL, &ye) != 0)
		return;
	if (!file && json_object_deep_copy(jx_get(body, "compose"), &doc, NULL) != 0)
		return;
	if (cp_plan("fuzz", doc, jx_obj(body, "variables"), &plan, &warn, &ce) != 0 &&
	    ce.msg[0] == '\0')
		abort(); /* a refusal always names what is wrong */
	json_object_put(doc);
	json_object_put(plan);
	json_object_put(warn);
}

/*
 * Per-kind follow-ups for bodies that passed validation.  Services, jobs and
 * the catalog add one row each here when their handlers have a pure next step.
 */
static const struct {
	const char *kind;
	void (*next)(json_object *body);
} EXTRAS[] = {
    {"container", container_next},
    {"container_patch", NULL},
    {"exec", NULL},
    {"stack", stack_next},
};

static void
run_extra(const char *kind, json_object *body)
{
	for (size_t i = 0; i < sizeof(EXTRAS) / sizeof(EXTRAS[0]); i++)
		if (EXTRAS[i].next && strcmp(EXTRAS[i].kind, kind) == 0)
			EXTRAS[i].next(body);
}

static void
check_example(const struct sc_schema *s, void *arg)
{
	char err[160];
	struct sc_error se;
	json_object *ex, *js;

	(void)arg;
	if (s->example == NULL)
		return;
	ex = jx_parse(s->example, strlen(s->example), err, sizeof(err));
	if (ex == NULL || sc_validate(s, ex, &se) != 0) {
		fprintf(stderr, "fuzz-body: example of %s does not validate: %s %s\n", s->kind,
		        ex ? se.field : err, ex ? se.msg : "");
		abort();
	}
	json_object_put(ex);
	js = sc_json_schema(s);
	json_object_put(js);
}

/* Validates the input against one schema; a body that fits goes on to its next step. */
static void
validate_one(const struct sc_schema *s, void *arg)
{
	struct sc_error se;

	if (sc_validate(s, arg, &se) == 0) {
		run_extra(s->kind, arg);
		return;
	}
	if ((se.code != B_BAD_REQUEST && se.code != B_INVALID) || se.msg[0] == '\0')
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	/* Permissive policy for admins so valid specs reach the Docker body builder. */
	fz_setup("policy = { admin = { images = [\"*\"]; ports = [1, 65535]; privileged = true;"
	         " host_network = true; host_pid = true; host_ipc = true; bind_mounts = true;"
	         " bind_sources = [\"*\"]; volumes = true; cap_add = true;"
	         " capabilities = [\"*\"]; devices = true; device_paths = [\"*\"]; };"
	         " operator = { images = [\"berth-test/*\"]; ports = [20000, 30000]; }; };\n");
	/* Every published example must validate: the fuzzer's seeds and the docs agree. */
	mod_each_schema(check_example, NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[160] = "";
	json_object *o = jx_parse((const char *)data, size, err, sizeof(err));

	if (o == NULL) {
		if (strncmp(err, "invalid JSON at byte", 20) != 0 && strcmp(err, "body too large"))
			abort(); /* the client is told where it went wrong */
		return 0;
	}
	mod_each_schema(validate_one, o);
	/* What berth echoes back must serialize. */
	if (jx_text(o) == NULL)
		abort();
	json_object_put(o);
	return 0;
}

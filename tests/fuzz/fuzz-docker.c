/*
 * fuzz-docker.c - what berth makes of dockerd's JSON replies: an inspect
 * result (ct_view summary and details, ct_ports), a /containers/json list
 * (ct_view_item per item) and an error body under each status a call row
 * may meet (engine/call.c, eng_status_of).  dockerd is
 * trusted to be dockerd, but a proxy, a version skew or a bug can send
 * anything; a worker must answer 502, never crash.
 * Build progress (catalog builds) is a stream of JSON lines read in chunks:
 * its harness is fuzz-build.c.
 */
#include "fuzz.h"

#include "../../src/res/containers.h"
#include "../../src/engine/call.h"
#include "../../src/engine/engine.h"
#include "../../src/lib/json.h"
#include "../../src/store/state.h"

static void
inspect_reply(json_object *o)
{
	json_object *v;

	v = ct_view(o, 0);
	json_object_put(v);
	v = ct_view(o, 1);
	if (jx_text(v) == NULL)
		abort();
	json_object_put(v);
	v = ct_ports(o);
	json_object_put(v);
	(void)ct_label(o, LBL_OWNER);
	(void)strlen(ct_name(o)); /* handlers print it into audit lines and messages */
	v = ct_spec_of(o);        /* the berth.spec label: JSON inside a label */
	json_object_put(v);
}

static void
list_reply(json_object *o)
{
	size_t n = json_object_is_type(o, json_type_array) ? json_object_array_length(o) : 0;
	json_object *v;

	for (size_t i = 0; i < n; i++) {
		v = ct_view_item(json_object_array_get_idx(o, i));
		json_object_put(v);
	}
	v = ct_view_item(o);
	json_object_put(v);
}

/* A call row as the engine declares them: success rows, a reason, a match on dockerd's words. */
static const struct eng_status fz_st[] = {
    {.status = 304, .err = B_OK},
    {.status = 409, .err = B_CONFLICT, .why = R_NAME_TAKEN, .field = "name"},
    {.status = 500, .err = B_CONFLICT, .why = R_OUT_OF_SEQUENCE, .match = "out of sequence"},
    {.status = 404, .err = B_NOT_FOUND, .msg = "no such thing: %.64s (%s)"},
    {0}};
static const struct eng_call fz_call = {"POST", "/things/%s/poke", "thing", NULL, fz_st};

static void
error_reply(json_object *o)
{
	static const long statuses[] = {200, 204, 304, 400, 404, 409, 500, 503, 999};
	struct eng_req rq = {.arg = {"fuzz"}};

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct op op;
		enum berr e;
		op_system(&op);
		e = eng_status_of(&op, &fz_call, &rq, statuses[i], o);
		/* A refusal says what and why; a success sets nothing. */
		if ((e == B_OK) != (op.err == B_OK) || (e != B_OK && op.msg[0] == '\0'))
			abort();
		op_done(&op);
	}
}

/* One row per kind of reply berth parses; every input goes through all of them. */
static void (*const REPLIES[])(json_object *o) = {
    inspect_reply, list_reply, error_reply,
    /* build progress is a byte stream, not one JSON value: fuzz-build.c */
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[128];

	(void)argc, (void)argv;
	fz_setup("protected = [\"guarded\", \"db\"];\n");
	snprintf(dir, sizeof(dir), "%s/state", fz_dir());
	if (st_init(dir) != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[160];
	json_object *o = jx_parse((const char *)data, size, err, sizeof(err));

	if (o == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(REPLIES) / sizeof(REPLIES[0]); i++)
		REPLIES[i](o);
	json_object_put(o);
	return 0;
}

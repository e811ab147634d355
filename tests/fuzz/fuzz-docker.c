/*
 * fuzz-docker.c - what berth makes of dockerd's JSON replies: an inspect
 * result (ct_view summary and details, ct_ports), a /containers/json list
 * (ct_view_item per item; its text without the members the engine leaves
 * out, jx_drop_members) and an error body under each status a call row
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

static int
all_objects(json_object *o)
{
	size_t n = json_object_is_type(o, json_type_array) ? json_object_array_length(o) : 0;

	for (size_t i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(o, i), json_type_object))
			return 0;
	return json_object_is_type(o, json_type_array);
}

/*
 * The list is parsed without the members nobody reads (jx_drop_members).
 * Whatever the text, it never grows, and text left as it was is unchanged;
 * when it parses as an array of objects, the lean text parses to the same
 * value minus those members (left whole only when some key may be written
 * with escapes).  O is the text's parse (may be NULL); its objects lose the
 * members here.
 */
static void
lean_list(const uint8_t *data, size_t size, json_object *o)
{
	static const char *const drop[] = {"NetworkSettings", "HostConfig", "Mounts", "Command",
	                                   NULL};
	char err[160], *buf = malloc(size + 1);
	size_t n;
	json_object *l;

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	n = jx_drop_members(buf, size, drop);
	if (n > size || (n == size && memcmp(buf, data, size) != 0) || buf[n] != '\0')
		abort();
	if (all_objects(o) && n == size && memchr(data, '\\', size) == NULL) {
		/* Left whole: only right when nothing could go (no such member, no whitespace). */
		for (size_t i = 0; i < json_object_array_length(o); i++)
			for (size_t k = 0; drop[k]; k++)
				if (json_object_object_get_ex(json_object_array_get_idx(o, i),
				                              drop[k], NULL))
					abort();
	}
	if (all_objects(o) && n < size) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			for (size_t k = 0; drop[k]; k++)
				json_object_object_del(json_object_array_get_idx(o, i), drop[k]);
		l = jx_parse(buf, n, err, sizeof(err));
		if (l == NULL || !json_object_equal(l, o))
			abort();
		json_object_put(l);
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[160];
	json_object *o = jx_parse((const char *)data, size, err, sizeof(err));

	if (o != NULL)
		for (size_t i = 0; i < sizeof(REPLIES) / sizeof(REPLIES[0]); i++)
			REPLIES[i](o);
	lean_list(data, size, o);
	json_object_put(o);
	return 0;
}

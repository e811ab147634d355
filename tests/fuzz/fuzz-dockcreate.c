/*
 * fuzz-dockcreate.c - the Docker door's create-body classifier
 * (src/doors/dockcreate.c).  Invariants: it never crashes; it never accepts
 * a body asking for Privileged, the host's namespaces, a cgroup parent or an
 * unmasked /proc; what it accepts validates against berth's own container
 * schema, and the Docker body berth builds from it (pol_check for every role,
 * then pol_docker_body) is never privileged either; what it refuses names a
 * field and a reason.  The seeds are the real clients' bodies, which must be
 * accepted (tests/dockcreate-traces.h).
 */
#include "fuzz.h"

#include "../../src/doors/dockcreate.h"
#include "../../src/lib/json.h"
#include "../../src/lib/schema.h"
#include "../../src/res/policy.h"
#include "../dockcreate-traces.h"

/* A string member of OBJ that is set to something other than "" (Docker's default). */
static const char *
set_str(json_object *obj, const char *key)
{
	const char *s = jx_str(obj, key);

	return s && s[0] ? s : NULL;
}

/* Did the Docker body IN ask for something berth refuses to every role? */
static int
asks_too_much(json_object *in)
{
	json_object *hc = jx_obj(in, "HostConfig");
	static const char *const ns[] = {"PidMode",    "IpcMode",     "UTSMode",
	                                 "UsernsMode", "NetworkMode", NULL};

	if (hc == NULL)
		return 0;
	if (jx_bool(hc, "Privileged", 0) || set_str(hc, "CgroupParent") ||
	    jx_get(hc, "MaskedPaths") || jx_get(hc, "ReadonlyPaths") || set_str(hc, "VolumeDriver"))
		return 1;
	for (const char *const *k = ns; *k; k++) {
		const char *s = jx_str(hc, *k);
		if (s && (strcmp(s, "host") == 0 || strncmp(s, "container:", 10) == 0))
			return 1;
	}
	return 0;
}

/* The Docker body berth would send for an accepted spec, whichever role lets it through. */
static void
check_built(json_object *body)
{
	json_object *hc = jx_obj(body, "HostConfig");
	const char *net = jx_str(hc, "NetworkMode");

	if (jx_bool(hc, "Privileged", 0) || jx_str(hc, "PidMode") || jx_str(hc, "IpcMode") ||
	    (net && strcmp(net, "host") == 0))
		abort();
}

static void
check_accepted(json_object *in, struct dc_create *c)
{
	struct sc_error se;
	struct op o;
	char f[OP_FIELDLEN];

	if (asks_too_much(in) || c->spec == NULL || c->pending == NULL || c->origin == NULL)
		abort();
	if (sc_validate(&pol_container_schema, c->spec, &se) != 0) {
		fprintf(stderr, "fuzz-dockcreate: spec does not validate: %s %s\n", se.field,
		        se.msg);
		abort();
	}
	if (jx_get(c->spec, "privileged") || jx_get(c->spec, "pid") || jx_get(c->spec, "ipc") ||
	    jx_get(c->spec, "protected") || jx_get(c->spec, "owner") ||
	    jx_bool(c->spec, "start", 1))
		abort();
	/* Pending fields never pass a front door that honours none. */
	op_init(&o, "fuzz", ROLE_OPERATOR);
	if ((dc_refuse_pending(&o, c, NULL) == B_OK) !=
	    (json_object_object_length(c->pending) == 0))
		abort();
	dc_docker_field(c, o.field, f, sizeof(f));
	op_done(&o);
	fz_each_role_body(c->spec, NULL, check_built);
}

static void
classify(json_object *in, const char *name, int must_accept)
{
	struct dc_create c;
	struct op o;
	enum berr e;

	op_init(&o, "fuzz", ROLE_OPERATOR);
	e = dc_classify(&o, in, name, &c);
	if (e == B_OK) {
		check_accepted(in, &c);
	} else {
		if (must_accept) {
			fprintf(stderr, "fuzz-dockcreate: a client's body refused: %s: %s\n",
			        o.field, o.msg);
			abort();
		}
		if (o.err != e || o.msg[0] == '\0' || c.spec || c.pending || c.origin ||
		    (e != B_BAD_REQUEST && e != B_FORBIDDEN && e != B_INVALID))
			abort();
	}
	dc_create_free(&c);
	op_done(&o);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	/* Admins may do everything the policy can open, so specs reach pol_docker_body. */
	fz_setup(
	    "policy = { admin = { images = [\"*\"]; ports = [1, 65535]; privileged = true;"
	    " host_network = true; host_pid = true; host_ipc = true; bind_mounts = true;"
	    " bind_sources = [\"*\"]; volumes = true; cap_add = true;"
	    " capabilities = [\"*\"]; devices = true; device_paths = [\"*\"]; };"
	    " operator = { images = [\"facade/*\"]; ports = [8000, 9000]; volumes = true; }; };\n");
	for (size_t i = 0; i < sizeof(dc_traces) / sizeof(dc_traces[0]); i++) {
		char err[160];
		json_object *in =
		    jx_parse(dc_traces[i].body, strlen(dc_traces[i].body), err, sizeof(err));
		if (in == NULL)
			abort();
		classify(in, dc_traces[i].name, 1);
		json_object_put(in);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[160];
	json_object *in = jx_parse((const char *)data, size, err, sizeof(err));

	if (in == NULL)
		return 0;
	/* The name query parameter: none, or the body's own "name" member if it has one. */
	classify(in, jx_str(in, "name") ? jx_str(in, "name") : NULL, 0);
	json_object_put(in);
	return 0;
}

/*
 * dkexec.c - the Docker door's exec routes (docs/docker-api.md).  An exec
 * body is validated field by field (its schema below: unknown fields are
 * refused by name) and berth builds the body dockerd gets.  An exec is the
 * caller's when its container is: GET /exec/{id}/json and its start ask
 * dockerd whose container it runs in and look that up as the caller may
 * see it, so no record is kept and none can go stale.  The start is held by
 * the stream relay: with Upgrade: tcp (the docker CLI) answered 101 and
 * spliced both ways, stdin included (relay/tty.c); without it (dockerode,
 * Testcontainers) dockerd's 200 raw stream passed as it is.
 */
#include "berth.h"
#include "doors/docker.h"
#include "engine/engine.h"
#include "lib/json.h"
#include "lib/schema.h"
#include "relay/ticket.h"
#include "res/containers.h"
#include "store/audit.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct sc_field arg_item = {.types = SC_STRING, .max = 4096};
static const struct sc_field env_item = {
    .types = SC_STRING, .max = 32768, .pattern = SC_ENVITEM_RE};
static const struct sc_field size_item = {.types = SC_INT, .min = 0, .max = 10000};

static const struct sc_field exec_fields[] = {
    {.name = "Cmd",
     .types = SC_ARRAY,
     .flags = SC_REQUIRED,
     .desc = "The command and its arguments.",
     .min = 1,
     .max = 4096,
     .items = &arg_item},
    {.name = "Env",
     .types = SC_ARRAY | SC_NULL,
     .desc = "KEY=value items added for the command.",
     .max = 256,
     .items = &env_item},
    {.name = "WorkingDir",
     .types = SC_STRING | SC_NULL,
     .desc = "Working directory (absolute).",
     .max = 1024,
     .pattern = "^(/[a-zA-Z0-9_./-]*)?$"},
    {.name = "User",
     .types = SC_STRING | SC_NULL,
     .desc = "User to run as (berth.conf policy exec_user).",
     .max = 64,
     .pattern = "^([a-zA-Z0-9_][a-zA-Z0-9_.:-]*)?$"},
    {.name = "Tty", .types = SC_BOOL | SC_NULL, .desc = "A terminal."},
    {.name = "AttachStdin",
     .types = SC_BOOL | SC_NULL,
     .desc = "stdin: carried only when the start upgrades (Upgrade: tcp)."},
    {.name = "AttachStdout", .types = SC_BOOL | SC_NULL, .desc = "Its stdout."},
    {.name = "AttachStderr", .types = SC_BOOL | SC_NULL, .desc = "Its stderr."},
    {.name = "Detach", .types = SC_BOOL | SC_NULL, .desc = "The start's to say: ignored here."},
    {.name = "DetachKeys",
     .types = SC_STRING | SC_NULL,
     .desc = "The key sequence that detaches.",
     .max = 32,
     .pattern = "^[a-z@^_,-]*$"},
    {.name = "Privileged",
     .types = SC_BOOL | SC_NULL,
     .desc = "Refused when true: a privileged process is root on the host."},
    {.name = "ConsoleSize",
     .types = SC_ARRAY | SC_NULL,
     .desc = "[rows, columns] of the terminal.",
     .max = 2,
     .items = &size_item},
    {0}};

static const struct sc_schema exec_schema = {
    "docker_exec", "Docker exec create body", exec_fields,
    "{\"Cmd\":[\"cat\",\"/etc/hostname\"],\"AttachStdout\":true,\"AttachStderr\":true}", 0};

/* dockerode repeats its own options (hijack, stdin) in the body. */
static const struct sc_field start_fields[] = {
    {.name = "Detach", .types = SC_BOOL | SC_NULL, .desc = "Run it in the background."},
    {.name = "Tty", .types = SC_BOOL | SC_NULL, .desc = "As the exec was created."},
    {.name = "ConsoleSize",
     .types = SC_ARRAY | SC_NULL,
     .desc = "[rows, columns].",
     .max = 2,
     .items = &size_item},
    {.name = "hijack", .types = SC_BOOL | SC_NULL, .desc = "dockerode's: ignored."},
    {.name = "stdin", .types = SC_BOOL | SC_NULL, .desc = "dockerode's: ignored."},
    {0}};

static const struct sc_schema start_schema = {"docker_exec_start", "Docker exec start body",
                                              start_fields, "{\"Detach\":false,\"Tty\":false}", 0};

/* The members of a validated body berth passes on, in Docker's names. */
static const char *const exec_keep[] = {
    "Cmd",          "Env",          "WorkingDir", "User",        "Tty", "AttachStdin",
    "AttachStdout", "AttachStderr", "DetachKeys", "ConsoleSize", NULL};

static enum berr
h_exec_create(struct req *r)
{
	json_object *in = NULL, *body, *out;
	const char *user = jx_str(r->json, "User");
	char eid[80];
	enum berr e;

	if (jx_bool(r->json, "Privileged", 0))
		return op_fail(&r->op, B_FORBIDDEN, "Privileged",
		               "Privileged is refused through berth: a privileged process is root "
		               "on the host");
	e = ct_exec_open(&r->op, r->args[0], jx_get(r->json, "Cmd"), user && *user ? user : NULL,
	                 &in);
	e = dd_no_such(&r->op, e, "container", r->args[0]);
	if (e != B_OK)
		return e;
	body = json_object_new_object();
	for (const char *const *k = exec_keep; *k; k++)
		if (jx_get(r->json, *k))
			jx_add_ref(body, *k, jx_get(r->json, *k));
	e = eng_exec_create(&r->op, jx_str(in, "Id"), body, eid, sizeof(eid));
	json_object_put(body);
	json_object_put(in);
	if (e != B_OK)
		return e;
	out = json_object_new_object();
	jx_add_str(out, "Id", eid);
	dd_answer(r, 201, out);
	return B_OK;
}

/*
 * The exec {id} and its container (*IN, new reference: looked up as the
 * caller may see it, MUTATE as they may change it).  Another tenant's exec
 * is "No such exec instance", as a gone one is.
 */
static enum berr
exec_of(struct req *r, int mutate, json_object **ei, json_object **in)
{
	const char *id = r->args[0];
	enum berr e = eng_exec_inspect(&r->op, id, ei);
	const char *cid = jx_str(*ei, "ContainerID");

	*in = NULL;
	if (e == B_OK && cid == NULL)
		e = op_fail(&r->op, B_NOT_FOUND, NULL, "no container");
	if (e == B_OK)
		e = ct_lookup(&r->op, cid, mutate, in);
	if (e == B_NOT_FOUND)
		op_fail(&r->op, B_NOT_FOUND, NULL, "No such exec instance: %.64s", id);
	if (e != B_OK) {
		json_object_put(*ei);
		*ei = NULL;
		return e;
	}
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s", ct_name(*in));
	return B_OK;
}

static enum berr
h_exec_inspect(struct req *r)
{
	json_object *ei, *in;
	enum berr e = exec_of(r, 0, &ei, &in);

	if (e != B_OK)
		return e;
	json_object_put(in);
	dd_answer(r, 200, ei);
	return B_OK;
}

/* The command an exec runs, for the audit line: [entrypoint, arguments...]. */
static json_object *
command_of(json_object *ei)
{
	json_object *pc = jx_obj(ei, "ProcessConfig"), *cmd = json_object_new_array(),
	            *args = jx_arr(pc, "arguments");

	if (jx_str(pc, "entrypoint"))
		json_object_array_add(cmd, json_object_new_string(jx_str(pc, "entrypoint")));
	for (size_t i = 0; args && i < json_object_array_length(args); i++)
		json_object_array_add(cmd, json_object_get(json_object_array_get_idx(args, i)));
	return cmd;
}

static enum berr
h_exec_start(struct req *r)
{
	json_object *ei, *in, *tk, *start;
	const char *up = rq_param(r, "HTTP_UPGRADE");
	int upgrade = up && strcasecmp(up, "tcp") == 0, detach = jx_bool(r->json, "Detach", 0);
	int tty, in_;
	enum berr e = exec_of(r, 1, &ei, &in);

	if (e != B_OK)
		return e;
	json_object_put(in);
	au_add(&r->op, "command", command_of(ei));
	tty = jx_bool(jx_obj(ei, "ProcessConfig"), "tty", 0);
	/* Without the upgrade nothing carries stdin, and a command reading it would hang for good.
	 */
	if (!upgrade && !detach && jx_bool(ei, "OpenStdin", 0)) {
		json_object_put(ei);
		return op_fail(&r->op, B_BAD_REQUEST, "AttachStdin",
		               "stdin reaches an exec only when its start upgrades the connection "
		               "(Upgrade: tcp); create it without AttachStdin");
	}
	in_ = jx_bool(ei, "OpenStdin", 0);
	json_object_put(ei);
	start = json_object_new_object();
	jx_add_bool(start, "Detach", detach);
	jx_add_bool(start, "Tty", tty);
	tk = json_object_new_object();
	e = eng_exec_start_ticket(&r->op, r->args[0], start, tk);
	json_object_put(start);
	if (e != B_OK) {
		json_object_put(tk);
		return e;
	}
	/*
	 * The docker CLI asks for the upgrade; dockerode breaks on a 101 unasked.
	 * Without stdin the CLI half-closes at once, which ends an upgraded
	 * connection in nginx: that start gets a held raw answer instead, 200
	 * with Connection: close, which the CLI reads raw (relay/ticket.h
	 * TK_HELD), where the client takes one (dd_takes_held).
	 */
	if (upgrade && !detach && (in_ || !dd_takes_held(r))) {
		jx_add_str(tk, "mode", "tty");
		/* No stdin, and a CLI that will not take the held 200: the 101 waits for the
		 * output. */
		if (!in_)
			jx_add_bool(tk, "late_head", 1);
		jx_add_str(tk, "exec", r->args[0]);
		jx_add_str(tk, "target", r->op.audit_target);
		jx_add_ref(tk, "command", jx_get(r->op.audit_extra, "command"));
	} else {
		jx_add_str(tk, "mode", "raw");
		if (upgrade && !detach)
			jx_add_bool(tk, "held", 1);
	}
	return tk_hand_off(r, tk);
}

static enum berr
h_exec_resize(struct req *r)
{
	json_object *ei, *in;
	enum berr e = exec_of(r, 1, &ei, &in);

	if (e != B_OK)
		return e;
	json_object_put(ei);
	json_object_put(in);
	e = eng_exec_resize(&r->op, r->args[0], (int)rq_int(r, "h"), (int)rq_int(r, "w"));
	if (e == B_OK)
		rq_empty(r, 201);
	return e;
}

static const struct rt_param resize_q[] = {
    {.name = "h", .type = P_INT, .desc = "Rows.", .min = 1, .max = TK_TTY_MAX, .dflt = 24},
    {.name = "w", .type = P_INT, .desc = "Columns.", .min = 1, .max = TK_TTY_MAX, .dflt = 80},
    {0}};

static const struct rt_route routes[] = {
    {"POST", "/containers/{id}/exec", h_exec_create, ROLE_OPERATOR, RT_BODY | RT_MUT, &exec_schema,
     "Create an exec in one of the caller's containers (body checked field by field; "
     "Privileged refused).",
     NULL},
    {"GET", "/exec/{id}/json", h_exec_inspect, ROLE_VIEWER, 0, NULL,
     "Inspect an exec of one of the caller's containers (its exit code).", NULL},
    {"POST", "/exec/{id}/start", h_exec_start, ROLE_OPERATOR, RT_BODY | RT_MUT | RT_STREAM,
     &start_schema,
     "Start: Upgrade: tcp is answered 101 and spliced both ways (without stdin, once the "
     "output is in); a docker CLI before 25 without stdin gets 200 and the raw stream.",
     NULL},
    {"POST", "/exec/{id}/resize", h_exec_resize, ROLE_OPERATOR, RT_MUT, NULL,
     "Resize its terminal.", resize_q},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

static const struct sc_schema *const schemas[] = {&exec_schema, &start_schema, NULL};

const struct bmod mod_dd_exec = {
    .name = "docker-exec",
    .routes = routes,
    .args = dd_args,
    .schemas = schemas,
};

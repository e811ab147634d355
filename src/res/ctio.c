/*
 * ctio.c - reading from containers: logs, non-interactive exec and consoles
 * (checked here, held by the stream relay: relay/relay.h), one stats sample, and
 * the decoder of Docker's multiplexed stream both sides use.
 */
#include "berth.h"
#include "store/audit.h"
#include "lib/cfg.h"
#include "res/containers.h"
#include "engine/engine.h"
#include "lib/json.h"
#include "lib/log.h"
#include "res/policy.h"
#include "edge/req.h"
#include "edge/route.h"
#include "lib/schema.h"
#include "edge/worker.h"
#include "relay/ticket.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int
ct_demux_feed(struct ct_demux *d, const char *buf, size_t len)
{
	while (len > 0) {
		size_t k;

		if (d->tty) {
			return d->emit(1, buf, len, d->arg);
		}
		if (d->remaining == 0) {
			/* A frame header may arrive split across reads: gather all 8 bytes. */
			k = 8 - d->hlen < len ? 8 - d->hlen : len;
			memcpy(d->hdr + d->hlen, buf, k);
			d->hlen += k;
			buf += k;
			len -= k;
			if (d->hlen < 8)
				return 0;
			d->hlen = 0;
			d->stream = d->hdr[0];
			d->remaining = ((size_t)d->hdr[4] << 24) | ((size_t)d->hdr[5] << 16) |
			               ((size_t)d->hdr[6] << 8) | (size_t)d->hdr[7];
			continue;
		}
		k = d->remaining < len ? d->remaining : len;
		if (d->emit(d->stream, buf, k, d->arg))
			return 1;
		d->remaining -= k;
		buf += k;
		len -= k;
	}
	return 0;
}

static int
since_valid(const char *s)
{
	size_t n = strlen(s), dots = 0;

	if (n == 0 || n > 24)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.')
			dots++;
		else if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return dots <= 1 && s[0] != '.';
}

const struct rt_param ct_logs_query[] = {
    {.name = "tail",
     .type = P_INT,
     .desc = "Only the last N lines (or \"all\").",
     .min = 0,
     .max = 1000000,
     .dflt = -1,
     .any = "all"},
    {.name = "since",
     .type = P_STR,
     .desc = "Only lines since this UNIX time (seconds, may have a fraction).",
     .valid = since_valid,
     .rule = "a UNIX time in seconds"},
    {.name = "timestamps", .type = P_BOOL, .desc = "Prefix each line with its time."},
    {.name = "stdout", .type = P_BOOL, .desc = "The standard output (default 1).", .dflt = 1},
    {.name = "stderr", .type = P_BOOL, .desc = "The standard error (default 1).", .dflt = 1},
    {.name = "follow", .type = P_BOOL, .desc = "Keep streaming new lines."},
    {0}};

/*
 * The worker checks and mints a ticket; the relay holds the stream
 * (relay/relay.h), so a follow that lasts hours costs no worker.
 */
enum berr
ct_h_logs(struct req *r)
{
	json_object *in, *tk;
	int out = rq_bool(r, "stdout"), err = rq_bool(r, "stderr");
	struct eng_logs q = {.stdout_ = out,
	                     .stderr_ = err,
	                     .timestamps = rq_bool(r, "timestamps"),
	                     .follow = rq_bool(r, "follow"),
	                     .tail = rq_int(r, "tail"),
	                     .since = rq_str(r, "since")};
	enum berr e;

	if (!out && !err)
		return op_fail(&r->op, B_BAD_REQUEST, "stdout", "ask for stdout, stderr or both");
	e = ct_lookup(&r->op, r->args[0], 0, &in);
	if (e != B_OK)
		return e;
	tk = json_object_new_object();
	jx_add_str(tk, "mode", "logs");
	jx_add_bool(tk, "tty", jx_bool(jx_obj(in, "Config"), "Tty", 0));
	e = eng_ct_logs_ticket(&r->op, jx_str(in, "Id"), &q, tk);
	json_object_put(in);
	if (e != B_OK) {
		json_object_put(tk);
		return e;
	}
	return tk_hand_off(r, tk);
}

static int64_t
sum_blkio(json_object *stats, const char *op)
{
	json_object *list = jx_arr(jx_obj(stats, "blkio_stats"), "io_service_bytes_recursive");
	size_t n = list ? json_object_array_length(list) : 0;
	int64_t total = 0;

	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(list, i);
		const char *o = jx_str(e, "op");
		if (o && strcasecmp(o, op) == 0)
			total += jx_int(e, "value", 0);
	}
	return total;
}

/* Turns one Docker stats sample into berth's small summary. */
static json_object *
stats_view(json_object *s)
{
	json_object *v = json_object_new_object(), *cpu = jx_obj(s, "cpu_stats"),
	            *pre = jx_obj(s, "precpu_stats"), *mem = jx_obj(s, "memory_stats"),
	            *nets = jx_obj(s, "networks"), *inner = jx_obj(mem, "stats");
	double cd = (double)(jx_int(jx_obj(cpu, "cpu_usage"), "total_usage", 0) -
	                     jx_int(jx_obj(pre, "cpu_usage"), "total_usage", 0));
	double sd =
	    (double)(jx_int(cpu, "system_cpu_usage", 0) - jx_int(pre, "system_cpu_usage", 0));
	int64_t online = jx_int(cpu, "online_cpus", 1), used, cache, rx = 0, tx = 0;

	used = jx_int(mem, "usage", 0);
	/* Page cache is reclaimable: report what `docker stats` reports. */
	cache = jx_int(inner, "inactive_file", jx_int(inner, "total_inactive_file", 0));
	if (cache < used)
		used -= cache;
	if (nets) {
		json_object_object_foreach(nets, k, n)
		{
			(void)k;
			rx += jx_int(n, "rx_bytes", 0);
			tx += jx_int(n, "tx_bytes", 0);
		}
	}
	jx_add_str(v, "read", jx_str(s, "read"));
	json_object_object_add(
	    v, "cpu_percent",
	    json_object_new_double(sd > 0 && cd > 0 ? cd / sd * (double)online * 100.0 : 0.0));
	jx_add_int(v, "online_cpus", online);
	jx_add_int(v, "memory_used", used);
	jx_add_int(v, "memory_limit", jx_int(mem, "limit", 0));
	jx_add_int(v, "network_rx", rx);
	jx_add_int(v, "network_tx", tx);
	jx_add_int(v, "block_read", sum_blkio(s, "read"));
	jx_add_int(v, "block_write", sum_blkio(s, "write"));
	jx_add_int(v, "pids", jx_int(jx_obj(s, "pids_stats"), "current", 0));
	return v;
}

enum berr
ct_h_stats(struct req *r)
{
	json_object *in, *st = NULL;
	enum berr e = ct_lookup(&r->op, r->args[0], 0, &in);

	if (e != B_OK)
		return e;
	e = eng_ct_stats(&r->op, jx_str(in, "Id"), &st);
	json_object_put(in);
	if (e == B_OK)
		rq_json(r, 200, stats_view(st));
	json_object_put(st);
	return e;
}

/* ---- exec --------------------------------------------------------------- */

static const struct sc_field exec_arg = {.types = SC_STRING, .max = 4096};
static const struct sc_field exec_fields[] = {
    {.name = "command",
     .types = SC_ARRAY | SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "Command to run: a list of arguments, or a string split like a shell would.",
     .min = 1,
     .max = 4096,
     .items = &exec_arg,
     .example = "[\"cat\", \"/etc/hostname\"]"},
    {.name = "timeout",
     .types = SC_INT,
     .desc = "Seconds to wait for it (default 30).",
     .min = 1,
     .max = 3600},
    {.name = "user",
     .types = SC_STRING,
     .desc = "User to run as.",
     .max = 64,
     .pattern = "^[a-zA-Z0-9_][a-zA-Z0-9_.:-]*$"},
    {.name = "workdir",
     .types = SC_STRING,
     .desc = "Working directory.",
     .max = 1024,
     .pattern = "^/[a-zA-Z0-9_./-]*$"},
    {0}};

const struct sc_schema ct_exec_schema = {"exec", "run a command in a container", exec_fields,
                                         "{\"command\":[\"cat\",\"/etc/hostname\"],\"timeout\":10}",
                                         1};

/*
 * Creates the exec SPEC asks for (command, user, workdir: the exec body's
 * members, or a console's query) in container ID; TTY: a terminal with
 * stdin attached (a console), else plain output.
 */
static enum berr
exec_create(struct op *o, json_object *spec, const char *id, int tty, char *eid, size_t n)
{
	json_object *body = json_object_new_object(), *cmd = jx_get(spec, "command");
	enum berr e;

	jx_add_bool(body, "AttachStdout", 1);
	jx_add_bool(body, "AttachStderr", 1);
	jx_add_bool(body, "AttachStdin", tty);
	jx_add_bool(body, "Tty", tty);
	if (json_object_is_type(cmd, json_type_string))
		json_object_object_add(body, "Cmd", pol_split_command(json_object_get_string(cmd)));
	else
		jx_add_ref(body, "Cmd", cmd);
	if (jx_str(spec, "user"))
		jx_add_str(body, "User", jx_str(spec, "user"));
	if (jx_str(spec, "workdir"))
		jx_add_str(body, "WorkingDir", jx_str(spec, "workdir"));
	e = eng_exec_create(o, id, body, eid, n);
	json_object_put(body);
	return e;
}

/*
 * An exec runs as the container's own user: a container made to run as
 * nobody must not hand out a root shell, unless the role's policy lets it
 * choose (exec_user).
 */
static enum berr
check_exec_user(struct op *o, json_object *in, const char *want)
{
	const char *own = jx_str(jx_obj(in, "Config"), "User");

	if (want == NULL || g_cfg->policy[o->role].exec_user || strcmp(want, own ? own : "") == 0)
		return B_OK;
	return op_fail(o, B_FORBIDDEN, "user",
	               "exec runs as the container's user (%s); the %s role may not choose another "
	               "(berth.conf policy exec_user)",
	               own && *own ? own : "the image's default", role_name(o->role));
}

enum berr
ct_exec_open(struct op *o, const char *ref, json_object *command, const char *user,
             json_object **in)
{
	enum berr e = ct_lookup(o, ref, 1, in);

	if (e != B_OK)
		return e;
	snprintf(o->audit_target, sizeof(o->audit_target), "%s", ct_name(*in));
	au_add(o, "command", json_object_get(command));
	e = check_exec_user(o, *in, user);
	if (e != B_OK) {
		json_object_put(*in);
		*in = NULL;
	}
	return e;
}

/*
 * A console is an upgraded connection (the relay checks the WebSocket key):
 * refused here, before an exec is made for a request that cannot use it.
 */
static enum berr
check_upgrade(struct req *r)
{
	const char *up = rq_param(r, "HTTP_UPGRADE");

	if (up && (strcasecmp(up, "websocket") == 0 || strcasecmp(up, "tcp") == 0))
		return B_OK;
	return op_fail(&r->op, B_BAD_REQUEST, "Upgrade",
	               "a console is a WebSocket (Upgrade: websocket) or a raw stream "
	               "(Upgrade: tcp)");
}

/*
 * What exec and console share: the container (owned, writable), the audit
 * target and command, the exec user's check, then the exec SPEC asks for
 * (exec_create) into EID.
 */
static enum berr
exec_prepare(struct req *r, json_object *spec, int tty, char *eid, size_t n)
{
	json_object *in;
	enum berr e =
	    ct_exec_open(&r->op, r->args[0], jx_get(spec, "command"), jx_str(spec, "user"), &in);

	if (e != B_OK)
		return e;
	if (tty)
		e = check_upgrade(r);
	if (e == B_OK)
		e = exec_create(&r->op, spec, jx_str(in, "Id"), tty, eid, n);
	json_object_put(in);
	return e;
}

/* Mints TK (taking it) in MODE for exec EID, started with a terminal or not, and hands it off. */
static enum berr
exec_hand_off(struct req *r, const char *mode, const char *eid, int tty, json_object *tk)
{
	json_object *start = json_object_new_object();
	enum berr e;

	jx_add_str(tk, "mode", mode);
	jx_add_str(tk, "exec", eid);
	jx_add_str(tk, "target", r->op.audit_target);
	jx_add_bool(start, "Detach", 0);
	jx_add_bool(start, "Tty", tty);
	e = eng_exec_start_ticket(&r->op, eid, start, tk);
	json_object_put(start);
	if (e != B_OK) {
		json_object_put(tk);
		return e;
	}
	return tk_hand_off(r, tk);
}

/*
 * Checked and created here; run by the relay, which gathers the output up
 * to its cap and timeout, answers with the exit code and audits the end
 * (relay/modes.c).  A client that leaves frees its worker at once.
 */
enum berr
ct_h_exec(struct req *r)
{
	json_object *tk;
	char eid[80];
	enum berr e = exec_prepare(r, r->json, 0, eid, sizeof(eid));

	if (e != B_OK)
		return e;
	tk = json_object_new_object();
	jx_add_int(tk, "timeout", jx_int(r->json, "timeout", 30));
	return exec_hand_off(r, "exec", eid, 0, tk);
}

/* ---- console (interactive exec) ------------------------------------------ */

/* 1 when S is 1 to MAX characters, each a letter, a digit or one of EXTRA. */
static int
chars_valid(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return 0;
	return 1;
}

/* As the exec body's patterns: user ^[a-zA-Z0-9_][a-zA-Z0-9_.:-]*$, workdir ^/[a-zA-Z0-9_./-]*$ */
static int
user_valid(const char *s)
{
	return *s != '.' && *s != ':' && *s != '-' && chars_valid(s, 64, "_.:-");
}

static int
workdir_valid(const char *s)
{
	return *s == '/' && chars_valid(s, 1024, "_./-");
}

static int
command_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 4096 && strspn(s, " \t") < n;
}

const struct rt_param ct_console_query[] = {
    {.name = "command",
     .type = P_STR,
     .desc = "Command to run, split like a shell would (default sh).",
     .valid = command_valid,
     .rule = "1 to 4096 characters, not all blank"},
    {.name = "user",
     .type = P_STR,
     .desc = "User to run as (policy exec_user).",
     .valid = user_valid,
     .rule = "a user name or uid[:gid]"},
    {.name = "workdir",
     .type = P_STR,
     .desc = "Working directory.",
     .valid = workdir_valid,
     .rule = "an absolute path"},
    {.name = "cols",
     .type = P_INT,
     .desc = "Terminal width (default 80).",
     .min = 1,
     .max = TK_TTY_MAX,
     .dflt = 80},
    {.name = "rows",
     .type = P_INT,
     .desc = "Terminal height (default 24).",
     .min = 1,
     .max = TK_TTY_MAX,
     .dflt = 24},
    {0}};

/*
 * An interactive exec: checked like exec (role, ownership, exec_user),
 * created with a terminal and stdin, then held by the relay's tty mode
 * (relay/tty.c), which upgrades the caller's connection (WebSocket, or raw
 * bytes after Upgrade: tcp) and splices it to dockerd's.  The audit line
 * of this request is the console's start; the relay writes its end.
 */
enum berr
ct_h_console(struct req *r)
{
	json_object *spec = json_object_new_object(), *tk;
	const char *cmd = rq_str(r, "command");
	char eid[80];
	enum berr e;

	jx_add_str(spec, "command", cmd ? cmd : "sh");
	if (rq_str(r, "user"))
		jx_add_str(spec, "user", rq_str(r, "user"));
	if (rq_str(r, "workdir"))
		jx_add_str(spec, "workdir", rq_str(r, "workdir"));
	e = exec_prepare(r, spec, 1, eid, sizeof(eid));
	if (e != B_OK) {
		json_object_put(spec);
		return e;
	}
	tk = json_object_new_object();
	jx_add_ref(tk, "command", jx_get(spec, "command"));
	jx_add_int(tk, "cols", rq_int(r, "cols"));
	jx_add_int(tk, "rows", rq_int(r, "rows"));
	json_object_put(spec);
	return exec_hand_off(r, "tty", eid, 1, tk);
}

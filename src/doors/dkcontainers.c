/*
 * dkcontainers.c - the Docker door's containers routes (docs/docker-api.md):
 * create through the classifier (dockcreate.h) and berth's own create path,
 * lists and inspects of the caller's containers only, shown under the names
 * they gave and without berth's labels, the lifecycle calls through
 * containers.c (ownership, protection, jobs, audit), and the held answers
 * (wait, logs, attach, stats) handed to the stream relay as tickets.
 */
#include "berth.h"
#include "doors/docker.h"
#include "doors/dockcreate.h"
#include "engine/engine.h"
#include "lib/json.h"
#include "relay/ticket.h"
#include "res/containers.h"
#include "res/owner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- create ------------------------------------------------------------ */

/*
 * The pending fields (dockcreate.c) the door honours.  Those berth's spec
 * carries now are mapped by the classifier and never pending; this list
 * stays for what the door itself takes care of.
 */
static const char *const honoured[] = {NULL};

/* A refusal from berth's create path in Docker's words: the Docker field, dockerd's messages. */
static enum berr
create_refused(struct req *r, const struct dc_create *c, enum berr e)
{
	struct op *o = &r->op;
	char f[OP_FIELDLEN], msg[OP_MSGLEN];

	if (o->why == R_NO_IMAGE)
		/* The CLI pulls on this very message, then creates again. */
		return op_fail(o, B_NOT_FOUND, NULL, "No such image: %.200s",
		               jx_str(c->spec, "image"));
	if (o->why == R_NAME_TAKEN) {
		const char *name = jx_str(c->spec, "name");
		return op_fail(
		    o, B_CONFLICT, NULL,
		    "Conflict. The container name \"/%s\" is already in use. You have to "
		    "remove (or rename) that container to be able to reuse that name.",
		    name ? name : "");
	}
	if (o->field[0]) {
		/* The spec's field named as the client sent it: "cap_add[0]" ->
		 * HostConfig.CapAdd[0]. */
		dc_docker_field(c, o->field, f, sizeof(f));
		snprintf(msg, sizeof(msg), "%s", o->msg);
		op_fail_why(o, e, o->why, f, "%s", msg);
	}
	return e;
}

/* The spec's image as the caller's own tag (built or tagged through the door), when it is one. */
static enum berr
own_image(struct op *o, json_object *spec)
{
	char dref[DD_REF_MAX];
	const char *img = jx_str(spec, "image");
	enum berr e = img ? dd_image_resolve(o, NULL, img, dref, sizeof(dref)) : B_OK;

	if (e == B_OK && img && strcmp(dref, img) != 0 && dd_own_cut(o, dref) > 0)
		jx_add_str(spec, "image", dref);
	return e;
}

static enum berr
h_create(struct req *r)
{
	struct dc_create c = {0};
	json_object *in = NULL, *out;
	int created;
	enum berr e;

	if (!json_object_is_type(r->json, json_type_object))
		return op_fail(&r->op, B_BAD_REQUEST, NULL,
		               "a create needs its JSON body: {\"Image\": ..., ...}");
	e = dc_classify(&r->op, r->json, rq_str(r, "name"), &c);
	if (e == B_OK)
		e = dc_refuse_pending(&r->op, &c, honoured);
	if (e != B_OK)
		goto out;
	/* Docker's create never starts and never reuses: a taken name is a 409. */
	json_object_object_del(c.spec, "start");
	if ((e = own_image(&r->op, c.spec)) != B_OK)
		goto out;
	e = ct_create_from(&r->op, c.spec, NULL, 0, 0, &in, &created);
	if (e != B_OK) {
		e = create_refused(r, &c, e);
		goto out;
	}
	out = json_object_new_object();
	jx_add_str(out, "Id", jx_str(in, "Id"));
	json_object_object_add(out, "Warnings", json_object_new_array());
	dd_answer(r, 201, out);
out:
	json_object_put(in);
	dc_create_free(&c);
	return e;
}

/* ---- what a caller is shown -------------------------------------------- */

/* Docker's Names of an item: the name the caller gave, as "/web". */
static json_object *
names_of(const char *name)
{
	json_object *a = json_object_new_array();
	char buf[BERTH_NAME_MAX + 4];

	dd_slash_name(name, buf, sizeof(buf));
	json_object_array_add(a, json_object_new_string(buf));
	return a;
}

/* KEY of O (an image reference) without the caller's namespace. */
static void
shown_image(const struct op *op, json_object *o, const char *key)
{
	const char *img = jx_str(o, key);
	char out[DD_REF_MAX];

	if (img && dd_own_cut(op, img) > 0) {
		dd_image_shown(op, img, out, sizeof(out));
		jx_add_str(o, key, out);
	}
}

/* A /containers/json item as the caller sees it (changed in place). */
static void
show_item(const struct op *o, json_object *it)
{
	json_object *labels = ct_user_labels(jx_obj(it, "Labels"));

	json_object_object_add(it, "Names", names_of(ct_item_name(it)));
	json_object_object_add(it, "Labels", labels);
	shown_image(o, it, "Image");
}

/*
 * An inspect as the caller sees it (changed in place): their name, their
 * labels, none of dockerd's host paths, and nothing that names another
 * container (berth never sets Links or VolumesFrom; an admin's view of a
 * container berth did not make might).
 */
static void
show_inspect(const struct op *o, json_object *in)
{
	json_object *cfg = jx_obj(in, "Config"), *hc = jx_obj(in, "HostConfig");
	char name[BERTH_NAME_MAX + 4];
	static const char *const host_paths[] = {"ResolvConfPath", "HostnamePath", "HostsPath",
	                                         "LogPath", NULL};

	dd_slash_name(ct_name(in), name, sizeof(name));
	if (cfg)
		json_object_object_add(cfg, "Labels", ct_user_labels(jx_obj(cfg, "Labels")));
	for (const char *const *k = host_paths; *k; k++)
		if (jx_get(in, *k))
			jx_add_str(in, *k, "");
	if (jx_obj(in, "GraphDriver"))
		json_object_object_add(jx_obj(in, "GraphDriver"), "Data", NULL);
	if (hc) {
		json_object_object_add(hc, "Links", NULL);
		json_object_object_add(hc, "VolumesFrom", NULL);
	}
	jx_add_str(in, "Name", name);
	shown_image(o, cfg, "Image");
}

/* REF as the caller may see (MUTATE: change) it, in dockerd's words when it is not there. */
static enum berr
lookup(struct req *r, int mutate, json_object **in)
{
	return dd_no_such(&r->op, ct_lookup(&r->op, r->args[0], mutate, in), "container",
	                  r->args[0]);
}

static enum berr
h_inspect(struct req *r)
{
	json_object *in;
	enum berr e = lookup(r, 0, &in);

	if (e != B_OK)
		return e;
	show_inspect(&r->op, in);
	dd_answer(r, 200, in);
	return B_OK;
}

/* ---- list filters ------------------------------------------------------- */

/*
 * Docker's filters, either form ({"label":["a=b"]} or {"label":{"a=b":true}}),
 * as {"label":["a=b"]} into *OUT (new reference).  A filter berth does not
 * apply is a 400, as dockerd answers one it does not know.
 */
static enum berr
parse_filters(struct op *o, const char *text, json_object **out)
{
	static const char *const known[] = {"name",     "id",      "label",  "status",
	                                    "ancestor", "network", "exited", NULL};
	json_object *f;
	char perr[64];

	*out = json_object_new_object();
	if (text == NULL || *text == '\0')
		return B_OK;
	f = jx_parse(text, strlen(text), perr, sizeof(perr));
	if (!json_object_is_type(f, json_type_object)) {
		json_object_put(f);
		return op_fail(o, B_BAD_REQUEST, "filters", "filters must be a JSON object: %s",
		               perr);
	}
	json_object_object_foreach(f, k, v)
	{
		json_object *list = json_object_new_array();
		const char *const *kn = known;
		while (*kn && strcmp(*kn, k) != 0)
			kn++;
		json_object_object_add(*out, k, list);
		if (*kn == NULL) {
			op_fail(o, B_BAD_REQUEST, "filters", "Invalid filter '%.40s'", k);
			json_object_put(f); /* K is F's */
			return B_BAD_REQUEST;
		}
		if (json_object_is_type(v, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				json_object *s = json_object_array_get_idx(v, i);
				if (!json_object_is_type(s, json_type_string))
					goto bad;
				json_object_array_add(list, json_object_get(s));
			}
		} else if (json_object_is_type(v, json_type_object)) {
			json_object_object_foreach(v, val, on)
			{
				if (!json_object_is_type(on, json_type_boolean))
					goto bad;
				if (json_object_get_boolean(on))
					json_object_array_add(list, json_object_new_string(val));
			}
		} else {
			goto bad;
		}
	}
	json_object_put(f);
	return B_OK;
bad:
	json_object_put(f);
	return op_fail(o, B_BAD_REQUEST, "filters",
	               "each filter is a list of strings or an object of true/false");
}

/* Docker's name filter: a part of "/name"; ^ and $ anchor it ("^/web$", "^web"). */
static int
name_matches(const char *name, const char *want)
{
	char full[BERTH_NAME_MAX + 4], w[BERTH_NAME_MAX + 4];
	size_t wl = strlen(want), hl, n;
	int head = wl > 0 && want[0] == '^', tail = wl > (size_t)head && want[wl - 1] == '$';
	const char *hay = full;

	n = wl - (size_t)head - (size_t)tail;
	if (n >= sizeof(w))
		return 0;
	memcpy(w, want + head, n);
	w[n] = '\0';
	dd_slash_name(name, full, sizeof(full));
	if (head && w[0] != '/')
		hay = full + 1;
	hl = strlen(hay);
	if (head && tail)
		return strcmp(hay, w) == 0;
	if (head)
		return strncmp(hay, w, n) == 0;
	if (tail)
		return hl >= n && strcmp(hay + hl - n, w) == 0;
	return strstr(hay, w) != NULL;
}

/* "key" or "key=value" against the item's labels. */
static int
label_matches(json_object *labels, const char *want)
{
	const char *eq = strchr(want, '=');
	char key[256];
	const char *v;

	snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - want) : (int)strlen(want), want);
	v = jx_str(labels, key);
	return v && (!eq || strcmp(v, eq + 1) == 0);
}

/* An image reference with or without its tag, or an image id (with or without sha256:). */
static int
ancestor_matches(json_object *it, const char *want)
{
	const char *img = jx_str(it, "Image"), *iid = jx_str(it, "ImageID");
	size_t wl = strlen(want);

	if (img && strcmp(img, want) == 0)
		return 1;
	if (img && strncmp(img, want, wl) == 0 && img[wl] == ':' && !strchr(want, ':'))
		return 1;
	if (iid && wl >= 4) {
		const char *hex = strncmp(iid, "sha256:", 7) == 0 ? iid + 7 : iid;
		const char *w = strncmp(want, "sha256:", 7) == 0 ? want + 7 : want;
		return strncmp(hex, w, strlen(w)) == 0;
	}
	return 0;
}

/* A network the item is on, by the name its owner gave it, its Docker name or id. */
static int
network_matches(json_object *it, const char *want)
{
	json_object *nets = jx_obj(jx_obj(it, "NetworkSettings"), "Networks");
	const char *owner = ct_label(it, LBL_OWNER);
	char dn[OWN_DNAME_MAX] = "";

	if (nets == NULL)
		return 0;
	if (owner && name_valid(want))
		own_dname(owner, want, dn, sizeof(dn));
	json_object_object_foreach(nets, k, ep)
	{
		const char *nid = jx_str(ep, "NetworkID");
		if (strcmp(k, want) == 0 || (dn[0] && strcmp(k, dn) == 0) ||
		    (nid && strlen(want) >= 4 && strncmp(nid, want, strlen(want)) == 0))
			return 1;
	}
	return 0;
}

/* The exit code Docker's Status says ("Exited (3) 2 minutes ago"), -1 for none. */
static long
exit_code_of(json_object *it)
{
	const char *st = jx_str(it, "Status");

	if (st == NULL || strncmp(st, "Exited (", 8) != 0)
		return -1;
	return strtol(st + 8, NULL, 10);
}

/* 1 when IT passes filter KEY with value WANT. */
static int
one_matches(json_object *it, const char *key, const char *want)
{
	if (strcmp(key, "name") == 0)
		return name_matches(ct_item_name(it), want);
	if (strcmp(key, "id") == 0)
		return jx_str(it, "Id") && strncmp(jx_str(it, "Id"), want, strlen(want)) == 0;
	if (strcmp(key, "label") == 0)
		return label_matches(jx_obj(it, "Labels"), want);
	if (strcmp(key, "status") == 0)
		return jx_str(it, "State") && strcmp(jx_str(it, "State"), want) == 0;
	if (strcmp(key, "ancestor") == 0)
		return ancestor_matches(it, want);
	if (strcmp(key, "network") == 0)
		return network_matches(it, want);
	if (strcmp(key, "exited") == 0)
		return exit_code_of(it) >= 0 && exit_code_of(it) == strtol(want, NULL, 10);
	return 0;
}

/* Docker's rule: labels must all match; of the other filters' values, any one. */
static int
matches(json_object *it, json_object *filters)
{
	json_object_object_foreach(filters, k, vals)
	{
		size_t n = json_object_array_length(vals);
		int any = 0, all = 1;
		for (size_t i = 0; i < n; i++) {
			int m = one_matches(
			    it, k, json_object_get_string(json_object_array_get_idx(vals, i)));
			any |= m;
			all &= m;
		}
		if (n && (strcmp(k, "label") == 0 ? !all : !any))
			return 0;
	}
	return 1;
}

/* Newest first, as dockerd lists them. */
static int
by_created(const void *a, const void *b)
{
	int64_t x = jx_int(*(json_object *const *)a, "Created", 0),
	        y = jx_int(*(json_object *const *)b, "Created", 0);

	return x < y ? 1 : x > y ? -1 : 0;
}

static enum berr
h_list(struct req *r)
{
	json_object *filters = NULL, *list = NULL, *out;
	long long limit = rq_int(r, "limit");
	int all;
	enum berr e = parse_filters(&r->op, rq_str(r, "filters"), &filters);

	if (e != B_OK)
		goto out;
	/* A limit or a status filter looks at stopped containers too, as in dockerd. */
	all = rq_bool(r, "all") || limit > 0 || jx_arr(filters, "status") != NULL;
	e = ct_list_visible(&r->op, (all ? CT_ALL : 0) | CT_FULL, NULL, &list);
	if (e != B_OK)
		goto out;
	json_object_array_sort(list, by_created);
	out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i);
		if (limit > 0 && (long long)json_object_array_length(out) >= limit)
			break;
		/* A job's container is the job's: /api/v1/jobs shows it. */
		if (ct_label(it, LBL_JOB))
			continue;
		show_item(&r->op, it);
		if (matches(it, filters))
			json_object_array_add(out, json_object_get(it));
	}
	dd_answer(r, 200, out);
out:
	json_object_put(filters);
	json_object_put(list);
	return e;
}

/* ---- lifecycle ----------------------------------------------------------- */

/* One lifecycle call on {id}; 204 as dockerd answers, already done included. */
static enum berr
lifecycle(struct req *r, const struct ct_action *a)
{
	char id[80];
	enum berr e = ct_act(&r->op, r->args[0], a, id, sizeof(id));

	e = dd_no_such(&r->op, e, "container", r->args[0]);
	if (e == B_OK)
		rq_empty(r, 204);
	return e;
}

static enum berr
h_start(struct req *r)
{
	const struct ct_action a = {.verb = ACT_START, .refused = "started"};

	return lifecycle(r, &a);
}

static enum berr
h_stop(struct req *r)
{
	const struct ct_action a = {
	    .verb = ACT_STOP, .timeout = (int)rq_int(r, "t"), .guarded = 1, .refused = "stopped"};

	return lifecycle(r, &a);
}

static enum berr
h_restart(struct req *r)
{
	const struct ct_action a = {.verb = ACT_RESTART,
	                            .timeout = (int)rq_int(r, "t"),
	                            .guarded = 1,
	                            .refused = "restarted"};

	return lifecycle(r, &a);
}

static enum berr
h_kill(struct req *r)
{
	const char *sig = rq_str(r, "signal");
	const struct ct_action a = {
	    .verb = ACT_KILL, .signal = sig ? sig : "SIGKILL", .guarded = 1, .refused = "killed"};

	return lifecycle(r, &a);
}

static enum berr
h_pause(struct req *r)
{
	const struct ct_action a = {.verb = ACT_PAUSE, .guarded = 1, .refused = "paused"};

	return lifecycle(r, &a);
}

static enum berr
h_unpause(struct req *r)
{
	const struct ct_action a = {.verb = ACT_UNPAUSE, .refused = "unpaused"};

	return lifecycle(r, &a);
}

/*
 * Docker's remove.  Anonymous volumes go with the container whatever ?v says:
 * berth's are its own (made for it, named by berth) and nobody else could
 * ever mount them again.
 */
static enum berr
h_delete(struct req *r)
{
	enum berr e;

	if (rq_bool(r, "link"))
		return op_fail(&r->op, B_BAD_REQUEST, "link",
		               "berth's containers have no links to remove");
	e = dd_no_such(&r->op, ct_delete(&r->op, r->args[0], rq_bool(r, "force")), "container",
	               r->args[0]);
	if (e == B_OK)
		rq_empty(r, 204);
	return e;
}

/* berth.name is a label, fixed at create: a new name is a new container. */
static enum berr
h_rename(struct req *r)
{
	json_object *in;
	enum berr e = lookup(r, 1, &in);

	if (e != B_OK)
		return e;
	json_object_put(in);
	return op_fail(&r->op, B_INVALID, NULL,
	               "berth keeps the name a container was created with: renaming is not "
	               "supported (create it again under the new name)");
}

/* ps options only: letters, digits, blanks, commas and dashes (dockerd runs ps on the host). */
static int
ps_args_valid(const char *s)
{
	size_t n = strlen(s);

	return n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
	                 ",-") == n;
}

static enum berr
h_top(struct req *r)
{
	json_object *in, *out = NULL;
	enum berr e = lookup(r, 0, &in);

	if (e != B_OK)
		return e;
	e = eng_ct_top(&r->op, jx_str(in, "Id"), rq_str(r, "ps_args"), &out);
	json_object_put(in);
	if (e == B_OK)
		dd_answer(r, 200, out);
	return e;
}

/* ---- held answers: the stream relay ------------------------------------- */

/* Hands the Docker request ticketed in TK (taken) to the relay, raw: dockerd's answer as it is. */
static enum berr
hand_raw(struct req *r, enum berr e, json_object *tk)
{
	if (e != B_OK) {
		json_object_put(tk);
		return e;
	}
	jx_add_str(tk, "mode", "raw");
	return tk_hand_off(r, tk);
}

/*
 * Docker's wait.  The docker CLI starts a container only once the wait's
 * headers are in: the relay's raw mode sends them as soon as dockerd does,
 * and the door's relay location holds nothing back (postpone_output 0).
 */
static enum berr
h_wait(struct req *r)
{
	json_object *in, *tk;
	const char *cond = rq_str(r, "condition");
	enum berr e = lookup(r, 0, &in);

	if (e != B_OK)
		return e;
	tk = json_object_new_object();
	e = eng_ct_wait_ticket(&r->op, jx_str(in, "Id"), cond ? cond : "not-running", tk);
	json_object_put(in);
	return hand_raw(r, e, tk);
}

/* Logs as dockerd sends them (its multiplexed stream, or a terminal's bytes). */
static enum berr
h_logs(struct req *r)
{
	json_object *in, *tk;
	struct eng_logs q = {.stdout_ = rq_bool(r, "stdout"),
	                     .stderr_ = rq_bool(r, "stderr"),
	                     .timestamps = rq_bool(r, "timestamps"),
	                     .follow = rq_bool(r, "follow"),
	                     .tail = rq_int(r, "tail"),
	                     .since = rq_str(r, "since")};
	enum berr e;

	if (!q.stdout_ && !q.stderr_)
		return op_fail(&r->op, B_BAD_REQUEST, NULL,
		               "Bad parameters: you must choose at least one stream");
	e = lookup(r, 0, &in);
	if (e != B_OK)
		return e;
	tk = json_object_new_object();
	e = eng_ct_logs_ticket(&r->op, jx_str(in, "Id"), &q, tk);
	json_object_put(in);
	return hand_raw(r, e, tk);
}

static enum berr
h_stats(struct req *r)
{
	json_object *in, *st = NULL, *tk;
	char name[BERTH_NAME_MAX + 4];
	enum berr e = lookup(r, 0, &in);

	if (e != B_OK)
		return e;
	if (rq_bool(r, "stream") && !rq_bool(r, "one-shot")) {
		tk = json_object_new_object();
		e = eng_ct_stats_ticket(&r->op, jx_str(in, "Id"), tk);
		json_object_put(in);
		return hand_raw(r, e, tk);
	}
	e = eng_ct_stats(&r->op, jx_str(in, "Id"), &st);
	if (e == B_OK) {
		dd_slash_name(ct_name(in), name, sizeof(name));
		jx_add_str(st, "name", name);
		dd_answer(r, 200, st);
	}
	json_object_put(in);
	return e;
}

/*
 * Docker's attach.  Upgrade: tcp (the docker CLI: `docker run` prints
 * through it) is spliced both ways by the relay's tty mode, which carries
 * stdin too; without the upgrade dockerd's raw stream is passed as it is.
 */
static enum berr
h_attach(struct req *r)
{
	json_object *in, *tk;
	const char *up = rq_param(r, "HTTP_UPGRADE");
	int upgrade = up && strcasecmp(up, "tcp") == 0, held;
	struct eng_attach a = {.stdin_ = rq_bool(r, "stdin") && upgrade,
	                       .stdout_ = rq_bool(r, "stdout"),
	                       .stderr_ = rq_bool(r, "stderr"),
	                       .logs = rq_bool(r, "logs"),
	                       .detach_keys = rq_str(r, "detachKeys")};
	enum berr e;

	if (rq_bool(r, "stdin") && !upgrade)
		return op_fail(&r->op, B_BAD_REQUEST, "stdin",
		               "stdin reaches a container only over an upgraded connection "
		               "(Upgrade: tcp)");
	if (!rq_bool(r, "stream") && !a.logs)
		return op_fail(&r->op, B_BAD_REQUEST, "stream",
		               "berth attaches with stream=1 (or logs=1)");
	/* Writing to a container's stdin changes it: an operator's, of a container they may change.
	 */
	if (a.stdin_ && r->op.role < ROLE_OPERATOR)
		return op_fail(&r->op, B_FORBIDDEN, "stdin",
		               "attaching stdin needs the operator role");
	e = lookup(r, a.stdin_, &in);
	if (e != B_OK)
		return e;
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s", ct_name(in));
	tk = json_object_new_object();
	e = eng_ct_attach_ticket(&r->op, jx_str(in, "Id"), &a, tk);
	json_object_put(in);
	/* Without stdin the CLI half-closes at once: a held raw answer (relay/ticket.h TK_HELD). */
	held = upgrade && !a.stdin_ && dd_takes_held(r);
	if (held && e == B_OK)
		jx_add_bool(tk, "held", 1);
	if (!upgrade || held)
		return hand_raw(r, e, tk);
	if (e != B_OK) {
		json_object_put(tk);
		return e;
	}
	jx_add_str(tk, "mode", "tty");
	jx_add_str(tk, "target", r->op.audit_target);
	return tk_hand_off(r, tk);
}

/* ---- the table ----------------------------------------------------------- */

static const char *const wait_enum[] = {"next-exit", "not-running", "removed", NULL};

static int
detach_keys_valid(const char *s)
{
	size_t n = strlen(s);

	return n <= 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz-,@[\\]^_") == n;
}

static const struct rt_param create_q[] = {
    {.name = "name",
     .type = P_STR,
     .desc = "The container's name in the caller's namespace.",
     .max = 65,
     .rule = "1 to 64 characters"},
    {.name = "platform", .type = P_STR, .desc = "Ignored: the host's.", .max = 64},
    {0}};
static const struct rt_param list_q[] = {
    {.name = "all", .type = P_BOOL, .desc = "Stopped containers too."},
    {.name = "limit",
     .type = P_INT,
     .desc = "Only the N newest (stopped ones too); -1 or 0: all.",
     .min = -1,
     .max = 100000},
    {.name = "size", .type = P_BOOL, .desc = "Ignored: berth does not measure sizes."},
    {.name = "filters",
     .type = P_STR,
     .desc = "Docker's filters (name, id, label, status, ancestor, network, exited).",
     .max = 8192},
    {0}};
static const struct rt_param stop_q[] = {{.name = "t",
                                          .type = P_INT,
                                          .desc = "Seconds before it is killed (default 10).",
                                          .min = 0,
                                          .max = 3600,
                                          .dflt = 10},
                                         {0}};
static const struct rt_param kill_q[] = {{.name = "signal",
                                          .type = P_STR,
                                          .desc = "The signal (default SIGKILL).",
                                          .valid = ct_signal_valid,
                                          .rule = "a name like SIGTERM or KILL, or a number"},
                                         {0}};
static const struct rt_param delete_q[] = {
    {.name = "force", .type = P_BOOL, .desc = "Remove a running one too."},
    {.name = "v", .type = P_BOOL, .desc = "Anonymous volumes go with it (always, in berth)."},
    {.name = "link", .type = P_BOOL, .desc = "Refused: berth has no links."},
    {0}};
static const struct rt_param rename_q[] = {
    {.name = "name", .type = P_STR, .desc = "Refused.", .max = 255}, {0}};
static const struct rt_param top_q[] = {{.name = "ps_args",
                                         .type = P_STR,
                                         .desc = "ps options.",
                                         .valid = ps_args_valid,
                                         .rule = "letters, digits, blanks, commas and dashes"},
                                        {0}};
static const struct rt_param wait_q[] = {{.name = "condition",
                                          .type = P_STR,
                                          .desc = "next-exit, not-running (default) or removed.",
                                          .enums = wait_enum},
                                         {0}};
static const struct rt_param stats_q[] = {
    {.name = "stream", .type = P_BOOL, .desc = "A sample a second (default 1).", .dflt = 1},
    {.name = "one-shot", .type = P_BOOL, .desc = "One sample without the baseline."},
    {0}};
static const struct rt_param attach_q[] = {
    {.name = "stream", .type = P_BOOL, .desc = "Stream (berth needs it, or logs)."},
    {.name = "logs", .type = P_BOOL, .desc = "Replay the logs first."},
    {.name = "stdin", .type = P_BOOL, .desc = "Attach stdin (Upgrade: tcp only)."},
    {.name = "stdout", .type = P_BOOL, .desc = "Attach stdout."},
    {.name = "stderr", .type = P_BOOL, .desc = "Attach stderr."},
    {.name = "detachKeys",
     .type = P_STR,
     .desc = "The key sequence that detaches.",
     .valid = detach_keys_valid,
     .rule = "keys like ctrl-p,ctrl-q"},
    {0}};

/*
 * berth's logs query, but as Docker clients send it: tail=-1 is "all"
 * (Testcontainers sends it), and since is dockerd's to read (escaped).
 */
static const struct rt_param dd_logs_query[] = {
    {.name = "tail",
     .type = P_INT,
     .desc = "Only the last N lines (\"all\" or -1: every one).",
     .min = -1,
     .max = 1000000,
     .dflt = -1,
     .any = "all"},
    {.name = "since",
     .type = P_STR,
     .desc = "Only lines since this time.",
     .min = 1,
     .max = 40,
     .rule = "a UNIX time"},
    {.name = "timestamps", .type = P_BOOL, .desc = "Prefix each line with its time."},
    {.name = "stdout", .type = P_BOOL, .desc = "The standard output.", .dflt = 1},
    {.name = "stderr", .type = P_BOOL, .desc = "The standard error.", .dflt = 1},
    {.name = "follow", .type = P_BOOL, .desc = "Keep streaming new lines."},
    {0}};

static const struct rt_route routes[] = {
    {"POST", "/containers/create", h_create, ROLE_OPERATOR, RT_BODY | RT_MUT, NULL,
     "Create from a Docker body, classified field by field (docs/docker-api.md); never started.",
     create_q},
    {"GET", "/containers/json", h_list, ROLE_VIEWER, 0, NULL,
     "The caller's containers, under the names they gave, without berth's labels.", list_q},
    {"GET", "/containers/{id}/json", h_inspect, ROLE_VIEWER, 0, NULL,
     "Inspect one of the caller's containers (host paths and berth's labels left out).", NULL},
    {"POST", "/containers/{id}/start", h_start, ROLE_OPERATOR, RT_MUT, NULL, "Start.", NULL},
    {"POST", "/containers/{id}/stop", h_stop, ROLE_OPERATOR, RT_MUT, NULL, "Stop (?t=seconds).",
     stop_q},
    {"POST", "/containers/{id}/restart", h_restart, ROLE_OPERATOR, RT_MUT, NULL,
     "Restart (?t=seconds).", stop_q},
    {"POST", "/containers/{id}/kill", h_kill, ROLE_OPERATOR, RT_MUT, NULL,
     "Send a signal (?signal=, default SIGKILL).", kill_q},
    {"POST", "/containers/{id}/pause", h_pause, ROLE_OPERATOR, RT_MUT, NULL, "Pause.", NULL},
    {"POST", "/containers/{id}/unpause", h_unpause, ROLE_OPERATOR, RT_MUT, NULL, "Unpause.", NULL},
    {"DELETE", "/containers/{id}", h_delete, ROLE_OPERATOR, RT_MUT, NULL,
     "Remove (?force=1: a running one too), with its anonymous volumes.", delete_q},
    {"POST", "/containers/{id}/rename", h_rename, ROLE_OPERATOR, RT_MUT, NULL,
     "Refused: a container keeps its name.", rename_q},
    {"GET", "/containers/{id}/top", h_top, ROLE_VIEWER, 0, NULL, "Its processes.", top_q},
    {"GET", "/containers/{id}/stats", h_stats, ROLE_VIEWER, RT_STREAM, NULL,
     "Stats: one sample (?stream=0) or a stream, held by the relay.", stats_q},
    {"POST", "/containers/{id}/wait", h_wait, ROLE_VIEWER, RT_STREAM, NULL,
     "Wait for a condition; the headers go out at once, the exit code when it comes.", wait_q},
    {"GET", "/containers/{id}/logs", h_logs, ROLE_VIEWER, RT_STREAM, NULL,
     "Logs as dockerd streams them (follow, tail, since, timestamps).", dd_logs_query},
    {"POST", "/containers/{id}/attach", h_attach, ROLE_VIEWER, RT_STREAM, NULL,
     "Attach: Upgrade: tcp is answered 101 and spliced both ways; without stdin, a docker "
     "CLI before 25 gets 200 and the raw stream (Connection: close).",
     attach_q},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

const struct bmod mod_dd_containers = {
    .name = "docker-containers",
    .routes = routes,
    .args = dd_args,
};

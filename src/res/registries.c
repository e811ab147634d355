/*
 * registries.c - images from berth.conf's registries: pulls with the
 * registry's credentials (POST /api/v1/images/pull, pull-on-create), the
 * supervisor's update check (a manifest HEAD per tag in use, no pull, its
 * findings in updates/<container id>.json), redeploy webhooks (hooks/<id>.json
 * keeps only a token's SHA-256) and image housekeeping for admins.
 * docs/registries.md tells the whole story.
 */
#include "res/registries.h"
#include "edge/req.h"
#include "edge/route.h"
#include "engine/engine.h"
#include "engine/registry.h"
#include "lib/cfg.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/op.h"
#include "relay/ticket.h"
#include "res/containers.h"
#include "res/owner.h"
#include "res/policy.h"
#include "res/services.h"
#include "store/audit.h"
#include "store/state.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define ST_UPDATES  "updates"
#define ST_HOOKS    "hooks"
#define CHECK_STATE "check-state" /* updates/check-state.json: when the last check ran */
#define HOOK_RATE   1             /* redeploys per second one hook may cause... */
#define HOOK_BURST  3             /* ...after a burst of this many */

int
reg_may_pull(enum role role)
{
	return role == ROLE_ADMIN || (role > ROLE_NONE && g_cfg->policy[role].pull);
}

/* ---- pulls ---------------------------------------------------------------- */

/* Pull progress: dockerd reports a failed pull as an "error" line of a 200 stream. */
struct pullctx {
	char line[8192];
	size_t len;
	char error[512];
	const struct eng_sink *next;
};

static int
pull_sink(const char *buf, size_t n, void *arg)
{
	struct pullctx *p = arg;
	char perr[32];

	if (p->next && p->next->sink(buf, n, p->next->arg) != 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (p->len < sizeof(p->line) - 1)
				p->line[p->len++] = buf[i];
			continue;
		}
		json_object *o = jx_parse(p->line, p->len, perr, sizeof(perr));
		if (jx_str(o, "error"))
			snprintf(p->error, sizeof(p->error), "%s", jx_str(o, "error"));
		json_object_put(o);
		p->len = 0;
	}
	return 0;
}

static int
pull_alive(void *arg)
{
	struct pullctx *p = arg;

	return p->next && p->next->alive ? p->next->alive(p->next->arg) : 1;
}

/* IMAGE split at its tag into NAME and *TAG; -1 without one. */
static int
split_tag(const char *image, char *name, size_t n, const char **tag)
{
	struct reg_ref rr;
	char *colon;

	if (reg_parse(image, &rr) != 0 || strlen(image) >= n)
		return -1;
	snprintf(name, n, "%s", image);
	colon = strrchr(name, ':');
	*colon = '\0';
	*tag = colon + 1;
	return 0;
}

enum berr
reg_pull(struct op *o, const char *image, const struct eng_sink *s)
{
	const char *rname = NULL, *tag;
	json_object *def = reg_of(image, &rname);
	char auth[REG_AUTH_MAX], name[300], why[OP_MSGLEN];
	struct pullctx p = {.next = s};
	const struct eng_sink ps = {.sink = pull_sink, .alive = pull_alive, .arg = &p};
	enum berr e;

	if (split_tag(image, name, sizeof(name), &tag) != 0)
		return op_fail(o, B_INVALID, "ref", "%s names no tag", image);
	e = reg_auth_line(o, rname, def, auth, sizeof(auth));
	if (e != B_OK)
		return e;
	e = eng_img_pull(o, name, tag, auth, &ps);
	reg_wipe(auth, sizeof(auth));
	if (e == B_OK && p.error[0])
		e = op_fail(o, B_DOCKER, "ref", "%s", p.error);
	if (e == B_OK || e == B_DOCKER_DOWN || e == B_DOCKER_TIMEOUT)
		return e;
	snprintf(why, sizeof(why), "%s", o->msg);
	if (rname == NULL)
		return op_fail(o, B_DOCKER, "ref",
		               "pulling %s failed (is a registry reachable from this host?): %s",
		               image, why);
	return op_fail(o, B_DOCKER, "ref", "pulling %s from registry %s failed: %s", image, rname,
	               why);
}

enum berr
reg_pull_missing(struct op *o, enum role role, const char *image)
{
	json_object *in = NULL;
	enum berr e;

	if (image == NULL || reg_of(image, NULL) == NULL || !reg_may_pull(role))
		return B_OK;
	e = eng_img_inspect(o, image, &in);
	json_object_put(in);
	if (e != B_NOT_FOUND)
		return e;
	op_clear(o);
	log_info("pull_on_create image=%s", image);
	return reg_pull(o, image, NULL);
}

/* 1 when image IN (inspect) carries DIGEST for IMAGE's repository in its RepoDigests. */
static int
has_digest(json_object *in, const char *image, const char *digest)
{
	json_object *rd = jx_arr(in, "RepoDigests");
	struct reg_ref r;
	char want[600];

	if (reg_parse(image, &r) != 0)
		return 0;
	snprintf(want, sizeof(want), "%s/%s@%s", r.host, r.repo, digest);
	for (size_t i = 0; rd && i < json_object_array_length(rd); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(rd, i)), want) == 0)
			return 1;
	return 0;
}

enum berr
reg_refresh(struct op *o, const char *image)
{
	char digest[REG_DIGEST_MAX];
	json_object *in = NULL;
	long retry;
	enum berr e;

	if (image == NULL || reg_of(image, NULL) == NULL)
		return B_OK;
	e = reg_digest(o, image, digest, sizeof(digest), &retry);
	if (e != B_OK)
		return e;
	e = eng_img_inspect(o, image, &in);
	if (e == B_NOT_FOUND)
		op_clear(o);
	else if (e != B_OK)
		return e;
	if (in && has_digest(in, image, digest)) {
		json_object_put(in);
		return B_OK;
	}
	json_object_put(in);
	log_info("update_pull image=%s digest=%s", image, digest);
	return reg_pull(o, image, NULL);
}

static const struct sc_field pull_fields[] = {{.name = "ref",
                                               .types = SC_STRING,
                                               .flags = SC_REQUIRED,
                                               .desc = "Image reference with an explicit tag.",
                                               .min = 3,
                                               .max = 255,
                                               .pattern = SC_TAGGED_RE,
                                               .example = "\"127.0.0.1:5000/team/app:1\""},
                                              {0}};
static const struct sc_schema pull_schema = {"pull", "pull an image", pull_fields,
                                             "{\"ref\":\"127.0.0.1:5000/team/app:1\"}", 1};
static const struct rt_param pull_query[] = {
    {.name = "progress",
     .type = P_BOOL,
     .desc = "Stream dockerd's progress lines (NDJSON, by the stream relay) instead of one "
             "answer at the end."},
    {0}};

/* ?progress=true: the pull as a raw stream ticket, dockerd's NDJSON passed through. */
static enum berr
pull_streamed(struct req *r, const char *ref)
{
	const char *rname = NULL, *tag;
	json_object *def = reg_of(ref, &rname), *tk = json_object_new_object();
	char auth[REG_AUTH_MAX], name[300];
	enum berr e;

	jx_add_str(tk, "mode", "raw");
	if (split_tag(ref, name, sizeof(name), &tag) != 0) {
		json_object_put(tk);
		return op_fail(&r->op, B_INVALID, "ref", "%s names no tag", ref);
	}
	e = reg_auth_line(&r->op, rname, def, auth, sizeof(auth));
	if (e == B_OK)
		e = eng_img_pull_ticket(&r->op, name, tag, auth, tk);
	reg_wipe(auth, sizeof(auth));
	if (e != B_OK) {
		json_object_put(tk);
		return e;
	}
	return tk_hand_off(r, tk); /* takes TK */
}

static enum berr
h_pull(struct req *r)
{
	const char *ref = jx_str(r->json, "ref");
	json_object *o, *in = NULL;
	enum berr e;

	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s", ref);
	if (!reg_may_pull(r->op.role))
		return op_fail(&r->op, B_FORBIDDEN, NULL,
		               "the %s role may not pull images (berth.conf policy pull)",
		               role_name(r->op.role));
	if (r->op.role != ROLE_ADMIN && !pol_image_allowed(r->op.role, ref))
		return op_fail(&r->op, B_FORBIDDEN, "ref",
		               "image %s is not in the %s role's allow-list (berth.conf policy)",
		               ref, role_name(r->op.role));
	if (rq_bool(r, "progress"))
		return pull_streamed(r, ref);
	e = reg_pull(&r->op, ref, NULL);
	if (e != B_OK)
		return e;
	o = json_object_new_object();
	jx_add_str(o, "ref", ref);
	if (eng_img_inspect(&r->op, ref, &in) == B_OK) {
		jx_add_str(o, "image_id", jx_str(in, "Id"));
		jx_add_ref(o, "repo_digests", jx_get(in, "RepoDigests"));
	}
	op_clear(&r->op);
	json_object_put(in);
	rq_json(r, 200, o);
	return B_OK;
}

/* ---- the update check ----------------------------------------------------- */

/* The image a container was asked for (its spec), else what dockerd lists. */
static void
image_of_item(json_object *it, char *out, size_t n)
{
	const char *sl = jx_str(jx_obj(it, "Labels"), LBL_SPEC);
	char perr[32];
	json_object *spec = sl ? jx_parse(sl, strlen(sl), perr, sizeof(perr)) : NULL;

	snprintf(out, n, "%s", jx_str(spec, "image") ? jx_str(spec, "image") : jx_str(it, "Image"));
	json_object_put(spec);
}

/* What one check run keeps: digests per tag and RepoDigests per image id, asked once each. */
struct run {
	struct op o;
	json_object *remote; /* image ref -> digest string, or {"error": msg} */
	json_object *local;  /* image id -> inspect */
	json_object *keep;   /* record names still wanted */
	json_object *paused; /* registry name -> until (from 429 Retry-After) */
	time_t now;
};

static json_object *
remote_of(struct run *x, const char *image)
{
	const char *rname = NULL;
	char digest[REG_DIGEST_MAX];
	json_object *v;
	long retry = 0;

	if (json_object_object_get_ex(x->remote, image, &v))
		return v;
	reg_of(image, &rname);
	if (jx_int(x->paused, rname, 0) > (long long)x->now) {
		v = json_object_new_object();
		jx_add_str(v, "error", "rate limited by the registry; waiting for its Retry-After");
	} else if (reg_digest(&x->o, image, digest, sizeof(digest), &retry) == B_OK) {
		v = json_object_new_string(digest);
	} else {
		v = json_object_new_object();
		jx_add_str(v, "error", x->o.msg);
		if (retry > 0)
			jx_add_int(x->paused, rname, (long long)x->now + retry);
		log_warn("update_check image=%s error=\"%s\"", image, x->o.msg);
		op_clear(&x->o);
	}
	json_object_object_add(x->remote, image, v);
	return v;
}

static json_object *
local_of(struct run *x, const char *id)
{
	json_object *v = NULL;

	if (json_object_object_get_ex(x->local, id, &v))
		return v;
	if (eng_img_inspect(&x->o, id, &v) != B_OK) {
		op_clear(&x->o);
		v = NULL;
	}
	json_object_object_add(x->local, id, v);
	return v;
}

static void
check_item(struct run *x, json_object *it)
{
	const char *id = jx_str(it, "Id"), *rname = NULL;
	json_object *rem, *rec;
	char image[300];

	image_of_item(it, image, sizeof(image));
	if (id == NULL || reg_of(image, &rname) == NULL)
		return;
	rem = remote_of(x, image);
	rec = json_object_new_object();
	jx_add_str(rec, "image", image);
	jx_add_str(rec, "registry", rname);
	jx_add_str(rec, "name", ct_item_name(it));
	jx_add_str(rec, "owner", ct_label(it, LBL_OWNER));
	jx_add_str(rec, "service", ct_label(it, LBL_SERVICE));
	jx_add_int(rec, "checked", (long long)x->now);
	if (json_object_is_type(rem, json_type_string)) {
		jx_add_str(rec, "digest", json_object_get_string(rem));
		jx_add_bool(rec, "update_available",
		            !has_digest(local_of(x, jx_str(it, "ImageID")), image,
		                        json_object_get_string(rem)));
	} else {
		jx_add_str(rec, "check_error", jx_str(rem, "error"));
	}
	if (st_put(ST_UPDATES, id, rec) == B_OK)
		jx_add_bool(x->keep, id, 1);
	json_object_put(rec);
}

/* Each tag in use by this instance's containers, asked of its registry once per interval. */
static int
reg_periodic(void)
{
	struct run x = {.now = time(NULL)};
	json_object *state = NULL, *list = NULL;

	if (g_cfg->registries == NULL || json_object_object_length(g_cfg->registries) == 0)
		return 0;
	if (st_get(ST_UPDATES, CHECK_STATE, &state) == B_OK &&
	    jx_int(state, "last", 0) + g_cfg->update_check > (long long)x.now) {
		json_object_put(state);
		return 0;
	}
	op_system(&x.o);
	x.paused = jx_obj(state, "paused") ? json_object_get(jx_obj(state, "paused"))
	                                   : json_object_new_object();
	json_object_put(state);
	x.remote = json_object_new_object();
	x.local = json_object_new_object();
	x.keep = json_object_new_object();
	jx_add_bool(x.keep, CHECK_STATE, 1);
	if (ct_list(&x.o, CT_ALL, NULL, 0, &list) == B_OK) {
		for (size_t i = 0; i < json_object_array_length(list); i++)
			check_item(&x, json_object_array_get_idx(list, i));
		st_drop_except(ST_UPDATES, x.keep);
	}
	state = json_object_new_object();
	jx_add_int(state, "last", (long long)x.now);
	json_object_object_add(state, "paused", x.paused);
	st_put(ST_UPDATES, CHECK_STATE, state);
	json_object_put(state);
	json_object_put(list);
	json_object_put(x.remote);
	json_object_put(x.local);
	json_object_put(x.keep);
	op_done(&x.o);
	return 0;
}

void
reg_mark(json_object *v, const char *id)
{
	json_object *rec = NULL;

	if (g_cfg->registries == NULL || id == NULL || st_get(ST_UPDATES, id, &rec) != B_OK) {
		jx_add_bool(v, "update_available", 0);
		return;
	}
	jx_add_bool(v, "update_available", jx_bool(rec, "update_available", 0));
	if (jx_str(rec, "digest"))
		jx_add_str(v, "registry_digest", jx_str(rec, "digest"));
	if (jx_str(rec, "check_error"))
		jx_add_str(v, "update_check_error", jx_str(rec, "check_error"));
	jx_add_int(v, "update_checked", jx_int(rec, "checked", 0));
	json_object_put(rec);
}

struct svc_scan {
	const char *name, *owner;
	int any;
};

static int
svc_one(const char *name, json_object *rec, void *arg)
{
	struct svc_scan *s = arg;
	const char *sv = jx_str(rec, "service"), *ow = jx_str(rec, "owner");

	(void)name;
	if (sv && ow && strcmp(sv, s->name) == 0 && strcmp(ow, s->owner) == 0 &&
	    jx_bool(rec, "update_available", 0))
		s->any = 1;
	return s->any;
}

void
reg_mark_service(json_object *v)
{
	struct svc_scan s = {jx_str(v, "name"), jx_str(v, "owner"), 0};

	if (g_cfg->registries && s.name && s.owner)
		st_each(ST_UPDATES, svc_one, &s);
	jx_add_bool(v, "update_available", s.any);
}

struct gauge_ctx {
	FILE *f;
	json_object *services; /* "owner/name" -> 0|1 */
};

static int
gauge_one(const char *name, json_object *rec, void *arg)
{
	struct gauge_ctx *g = arg;
	char key[300];

	if (strcmp(name, CHECK_STATE) == 0 || !jx_get(rec, "update_available"))
		return 0;
	fprintf(g->f, "berth_update_available{kind=\"container\",owner=\"%s\",name=\"%s\"} %d\n",
	        jx_str(rec, "owner") ? jx_str(rec, "owner") : "",
	        jx_str(rec, "name") ? jx_str(rec, "name") : "",
	        jx_bool(rec, "update_available", 0));
	if (jx_str(rec, "service")) {
		snprintf(key, sizeof(key), "%s/%s",
		         jx_str(rec, "owner") ? jx_str(rec, "owner") : "", jx_str(rec, "service"));
		jx_add_int(g->services, key,
		           jx_int(g->services, key, 0) | jx_bool(rec, "update_available", 0));
	}
	return 0;
}

void
reg_gauges(struct req *r, FILE *f)
{
	struct gauge_ctx g = {f, json_object_new_object()};

	(void)r;
	if (g_cfg->registries && json_object_object_length(g_cfg->registries)) {
		fprintf(f,
		        "# HELP berth_update_available 1 when the object's registry names a newer "
		        "digest for its tag.\n# TYPE berth_update_available gauge\n");
		st_each(ST_UPDATES, gauge_one, &g);
		json_object_object_foreach(g.services, k, v)
		{
			const char *slash = strchr(k, '/');
			fprintf(
			    f,
			    "berth_update_available{kind=\"service\",owner=\"%.*s\",name=\"%s\"} "
			    "%d\n",
			    (int)(slash - k), k, slash + 1, json_object_get_int(v));
		}
	}
	json_object_put(g.services);
}

/* ---- image housekeeping ----------------------------------------------------- */

json_object *
reg_image_users(struct op *o)
{
	json_object *list = NULL, *users = json_object_new_object();

	if (ct_list(o, CT_ALL, NULL, 0, &list) != B_OK) {
		op_clear(o);
		return users;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i), *a;
		const char *img = jx_str(it, "ImageID");
		if (img == NULL)
			continue;
		if (!json_object_object_get_ex(users, img, &a)) {
			a = json_object_new_array();
			json_object_object_add(users, img, a);
		}
		json_object_array_add(a, json_object_new_string(ct_item_name(it)));
	}
	json_object_put(list);
	return users;
}

/* 1 when every tag of IMG (a list item) is under one of berth.conf's registries. */
static int
from_registries(json_object *img)
{
	json_object *tags = jx_arr(img, "RepoTags");
	size_t n = tags ? json_object_array_length(tags) : 0;

	for (size_t i = 0; i < n; i++)
		if (reg_of(json_object_get_string(json_object_array_get_idx(tags, i)), NULL) ==
		    NULL)
			return 0;
	return n > 0;
}

static const struct rt_param prune_query[] = {
    {.name = "all",
     .type = P_BOOL,
     .desc = "Every unused image, not only those pulled from berth.conf's registries."},
    {0}};

/*
 * Removes unused images: by default only those whose every tag is from one
 * of berth.conf's registries.  dockerd refuses (never forced) to remove an
 * image any container uses, berth's or not.
 */
static enum berr
h_prune(struct req *r)
{
	json_object *all = NULL, *users, *removed = json_object_new_array(),
	            *kept = json_object_new_array(), *o;
	int every = rq_bool(r, "all");
	enum berr e = eng_img_list(&r->op, NULL, &all);

	if (e != B_OK) {
		json_object_put(removed);
		json_object_put(kept);
		return e;
	}
	users = reg_image_users(&r->op);
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *img = json_object_array_get_idx(all, i);
		const char *id = jx_str(img, "Id");
		if (id == NULL || jx_get(users, id) || jx_int(img, "Containers", 0) > 0 ||
		    (!every && !from_registries(img)))
			continue;
		if (eng_img_remove(&r->op, id, 0, 0, NULL) == B_OK) {
			json_object_array_add(removed, json_object_new_string(id));
		} else {
			json_object_array_add(kept, json_object_new_string(id));
			op_clear(&r->op);
		}
	}
	au_add(&r->op, "removed", json_object_get(removed));
	o = json_object_new_object();
	json_object_object_add(o, "removed", removed);
	json_object_object_add(o, "in_use_or_refused", kept);
	rq_json(r, 200, o);
	json_object_put(all);
	json_object_put(users);
	return B_OK;
}

/* ---- redeploy webhooks ------------------------------------------------------ */

static void
hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void
token_hash(const char *token, char out[2 * SHA256_DIGEST_LENGTH + 1])
{
	unsigned char d[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)token, strlen(token), d);
	hex(d, sizeof(d), out);
}

struct hook_find {
	const char *kind, *owner, *target; /* by object */
	const char *hash;                  /* or by token hash */
	char id[40];
	json_object *rec;
};

static int
hook_match(const char *name, json_object *rec, void *arg)
{
	struct hook_find *f = arg;
	const char *h = jx_str(rec, "hash");
	int hit;

	if (f->hash)
		/* Constant-time: a timing difference never tells how much of a token was right. */
		hit = h && strlen(h) == strlen(f->hash) &&
		      CRYPTO_memcmp(h, f->hash, strlen(f->hash)) == 0;
	else
		hit = !strcmp(jx_str(rec, "kind") ? jx_str(rec, "kind") : "", f->kind) &&
		      !strcmp(jx_str(rec, "owner") ? jx_str(rec, "owner") : "", f->owner) &&
		      !strcmp(jx_str(rec, "target") ? jx_str(rec, "target") : "", f->target);
	if (hit) {
		snprintf(f->id, sizeof(f->id), "%s", name);
		f->rec = json_object_get(rec);
	}
	return hit;
}

/* The object a hook route names: a container (by ref) or a service (by name). */
static enum berr
hook_object(struct req *r, const char **kind, char *owner, size_t on, char *target, size_t tn)
{
	json_object *in = NULL, *v = NULL;
	enum berr e;

	if (strstr(r->route->pattern, "/containers/")) {
		*kind = "container";
		e = ct_lookup(&r->op, r->args[0], 1, &in);
		if (e == B_OK && (e = ct_check_plain(&r->op, in)) == B_OK) {
			snprintf(owner, on, "%s",
			         ct_label(in, LBL_OWNER) ? ct_label(in, LBL_OWNER) : "");
			snprintf(target, tn, "%s", ct_name(in));
		}
		json_object_put(in);
		return e;
	}
	*kind = "service";
	e = svc_lookup_view(&r->op, r->args[0], &v);
	if (e == B_OK) {
		snprintf(owner, on, "%s", jx_str(v, "owner") ? jx_str(v, "owner") : "");
		snprintf(target, tn, "%s", jx_str(v, "name"));
	}
	json_object_put(v);
	return e;
}

/* The hook of the object R's route names into F (F->rec NULL when it has none). */
static enum berr
hook_of(struct req *r, struct hook_find *f, char *owner, size_t on, char *target, size_t tn)
{
	enum berr e = hook_object(r, &f->kind, owner, on, target, tn);

	if (e != B_OK)
		return e;
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s %.140s", f->kind, target);
	f->owner = owner;
	f->target = target;
	st_each(ST_HOOKS, hook_match, f);
	return B_OK;
}

/* POST .../hooks: a new hook, or a new token for the existing one (rotation). */
static enum berr
h_hook_make(struct req *r)
{
	char owner[OWN_MAX], target[160], token[65], hash[65], url[128];
	unsigned char b[32], ib[8];
	struct hook_find f = {0};
	json_object *rec, *o;
	enum berr e = hook_of(r, &f, owner, sizeof(owner), target, sizeof(target));

	if (e != B_OK)
		return e;
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b) ||
	    (!f.rec && getrandom(ib, sizeof(ib), 0) != (ssize_t)sizeof(ib))) {
		json_object_put(f.rec);
		return op_fail(&r->op, B_INTERNAL, NULL, "no randomness for a hook token");
	}
	hex(b, sizeof(b), token);
	if (!f.rec)
		hex(ib, sizeof(ib), f.id);
	token_hash(token, hash);
	rec = json_object_new_object();
	jx_add_str(rec, "id", f.id);
	jx_add_str(rec, "kind", f.kind);
	jx_add_str(rec, "owner", owner);
	jx_add_str(rec, "target", target);
	jx_add_str(rec, "hash", hash);
	jx_add_int(rec, "created", f.rec ? jx_int(f.rec, "created", 0) : (long long)time(NULL));
	jx_add_int(rec, "rotated", (long long)time(NULL));
	e = st_put(ST_HOOKS, f.id, rec);
	json_object_put(rec);
	if (e != B_OK) {
		json_object_put(f.rec);
		return op_fail(&r->op, B_INTERNAL, NULL, "cannot write the hook record");
	}
	au_str(&r->op, "hook", f.id);
	au_str(&r->op, "outcome", f.rec ? "rotated" : "created");
	o = json_object_new_object();
	jx_add_str(o, "id", f.id);
	jx_add_str(o, "kind", f.kind);
	jx_add_str(o, "target", target);
	snprintf(url, sizeof(url), "/hooks/%s", token);
	jx_add_str(o, "url", url);
	jx_add_str(o, "token", token);
	jx_add_bool(o, "rotated", f.rec != NULL);
	rq_json(r, f.rec ? 200 : 201, o);
	reg_wipe(token, sizeof(token));
	json_object_put(f.rec);
	return B_OK;
}

static enum berr
h_hook_get(struct req *r)
{
	char owner[OWN_MAX], target[160];
	struct hook_find f = {0};
	json_object *o;
	enum berr e = hook_of(r, &f, owner, sizeof(owner), target, sizeof(target));

	if (e != B_OK)
		return e;
	o = json_object_new_object();
	jx_add_bool(o, "exists", f.rec != NULL);
	for (const char *const *k = (const char *const[]){"id", "kind", "target", "created",
	                                                  "rotated", "last_used", NULL};
	     *k; k++)
		jx_add_ref(o, *k, jx_get(f.rec, *k));
	rq_json(r, 200, o);
	json_object_put(f.rec);
	return B_OK;
}

static enum berr
h_hook_delete(struct req *r)
{
	char owner[OWN_MAX], target[160];
	struct hook_find f = {0};
	enum berr e = hook_of(r, &f, owner, sizeof(owner), target, sizeof(target));

	if (e != B_OK)
		return e;
	if (f.rec == NULL) { /* gone already: what was asked for holds */
		rq_empty(r, 204);
		return B_OK;
	}
	au_str(&r->op, "hook", f.id);
	e = st_del(ST_HOOKS, f.id);
	json_object_put(f.rec);
	if (e != B_OK)
		return op_fail(&r->op, B_INTERNAL, NULL, "cannot remove the hook record");
	rq_empty(r, 204);
	return B_OK;
}

static int
token_valid(const char *s)
{
	size_t n = strlen(s);

	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/*
 * POST /hooks/<token>: no credentials but the token.  The redeploy runs as
 * the object's owner (their policy, their namespace), audited with the hook id.
 */
static enum berr
h_hook_fire(struct req *r)
{
	static char who[OWN_MAX]; /* r->op.user for this request: one request per worker */
	char hash[65];
	struct hook_find f = {0};
	struct mt_bucket *b;
	enum berr e;

	/* The token is the credential: the audit line names the hook, never the path. */
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "hook");
	r->op.audit_action = "POST /hooks/{token}";
	token_hash(r->args[0], hash);
	f.hash = hash;
	st_each(ST_HOOKS, hook_match, &f);
	if (f.rec == NULL)
		return op_fail(&r->op, B_NOT_FOUND, NULL, "no such hook");
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s %s", jx_str(f.rec, "kind"),
	         jx_str(f.rec, "target"));
	au_str(&r->op, "hook", f.id);
	b = mt_bucket_get(f.id);
	if (b && !mt_bucket_take(b, HOOK_RATE, HOOK_BURST, 0)) {
		json_object_put(f.rec);
		return op_fail(&r->op, B_TOO_MANY, NULL,
		               "this hook was called too often; wait a moment");
	}
	snprintf(who, sizeof(who), "%s", jx_str(f.rec, "owner"));
	r->op.user = who;
	r->op.role = own_is_group(who) ? own_policy_role(who, ROLE_OPERATOR) : cfg_role(g_cfg, who);
	if (r->op.role == ROLE_NONE) {
		json_object_put(f.rec);
		return op_fail(&r->op, B_FORBIDDEN, NULL, "the hook's owner has no role any more");
	}
	free(r->args[0]);
	r->args[0] = strdup(jx_str(f.rec, "target"));
	if (r->args[0] == NULL)
		e = op_fail(&r->op, B_INTERNAL, NULL, "out of memory");
	else if (strcmp(jx_str(f.rec, "kind"), "container") == 0)
		e = ct_update(r);
	else
		e = svc_refresh(r);
	if (e == B_OK) {
		jx_add_int(f.rec, "last_used", (long long)time(NULL));
		st_put(ST_HOOKS, f.id, f.rec);
	}
	json_object_put(f.rec);
	return e;
}

static const struct rt_route reg_routes[] = {
    {"POST", "/api/v1/images/pull", h_pull, ROLE_OPERATOR, RT_BODY | RT_MUT, &pull_schema,
     "Pull an image (admins, and roles whose policy says pull), with the credentials of "
     "berth.conf's registry for it; ?progress=true streams dockerd's progress.",
     pull_query},
    {"POST", "/api/v1/images/prune", h_prune, ROLE_ADMIN, RT_MUT, NULL,
     "Remove unused images pulled from berth.conf's registries (?all=true: every unused one); "
     "never one a container uses.",
     prune_query},
    {"GET", "/api/v1/containers/{ref}/hooks", h_hook_get, ROLE_OPERATOR, 0, NULL,
     "The container's redeploy webhook: exists, its id and times (the token is shown only when "
     "made).",
     NULL},
    {"POST", "/api/v1/containers/{ref}/hooks", h_hook_make, ROLE_OPERATOR, RT_MUT, NULL,
     "Make the container's redeploy webhook, or rotate its token: the URL is shown once.", NULL},
    {"DELETE", "/api/v1/containers/{ref}/hooks", h_hook_delete, ROLE_OPERATOR, RT_MUT, NULL,
     "Delete the container's redeploy webhook (none: 204 too).", NULL},
    {"GET", "/api/v1/services/{name}/hooks", h_hook_get, ROLE_OPERATOR, 0, NULL,
     "The service's redeploy webhook (its id and times).", NULL},
    {"POST", "/api/v1/services/{name}/hooks", h_hook_make, ROLE_OPERATOR, RT_MUT, NULL,
     "Make the service's redeploy webhook, or rotate its token: the URL is shown once.", NULL},
    {"DELETE", "/api/v1/services/{name}/hooks", h_hook_delete, ROLE_OPERATOR, RT_MUT, NULL,
     "Delete the service's redeploy webhook (none: 204 too).", NULL},
    {"POST", "/hooks/{token}", h_hook_fire, ROLE_NONE, RT_MUT, NULL,
     "Redeploy webhook: pull and update the hook's object (no credentials but the token; "
     "rate-limited per hook).",
     NULL},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

static const struct rt_param reg_args[] = {
    {.name = "ref", .type = P_STR, .desc = "container", .valid = ref_valid, .rule = "a name or id"},
    {.name = "name", .type = P_STR, .desc = "service", .valid = ref_valid, .rule = "a name"},
    {.name = "token",
     .type = P_STR,
     .desc = "hook token",
     .valid = token_valid,
     .rule = "64 hex digits"},
    {0}};
static const struct sc_schema *const reg_schemas[] = {&pull_schema, NULL};
static const char *const reg_kinds[] = {ST_UPDATES, ST_HOOKS, NULL};

const struct bmod mod_registries = {
    .name = "registries",
    .routes = reg_routes,
    .args = reg_args,
    .schemas = reg_schemas,
    .state_kinds = reg_kinds,
    .periodic = reg_periodic,
    .cfg_section = "registries",
    .cfg_check = reg_check_entry,
};

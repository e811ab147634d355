/*
 * dkimages.c - the Docker door's images routes (docs/docker-api.md): list,
 * inspect, history, tag, remove, pull (the role's allow-list only) and the
 * classic builder.
 *
 * Tenancy of tags.  Images are the host's, but a tag a user makes (build
 * -t, tag) lives in that user's namespace: dockerd holds alice's "myapp:1"
 * as "berth.alice.1a2b3c4d/myapp:1", the first component being
 * own_dname(owner, "berth") (the hash over the instance and the owner), so
 * nobody overwrites another's myapp:1 or a shared base image's tag.  To
 * alice the prefix is invisible: her tags are shown and resolved without
 * it, her own first (dd_image_resolve, which the container create path
 * uses too), then the shared tags her role's allow-list names.  Another
 * owner's namespaced tags are never shown, and a namespaced reference typed
 * in is no reference at all (404) for anyone but an admin.  An image shows
 * to a caller when it has a tag they may see, carries a catalog label, or
 * was built by them (berth.owner / berth.instance labels berth puts on
 * every build); berth's labels are never shown.
 *
 * Names with slashes.  Docker's routes take the image reference as a
 * path with '/' in it ("/images/facade/bb:1/json").  berth's router
 * splits paths on '/', so each image route is a row for one, two and
 * three components ({i1}, {i1}/{i2}, {i1}/{i2}/{i3}: name, org/name,
 * registry/org/name) and img_ref() joins them back: routing stays data,
 * and a deeper reference is a 404 like any unknown path.
 */
#include "berth.h"
#include "doors/docker.h"
#include "engine/registry.h"
#include "engine/engine.h"
#include "lib/cfg.h"
#include "lib/dockerfile.h"
#include "lib/json.h"
#include "lib/tarball.h"
#include "relay/ticket.h"
#include "res/containers.h"
#include "res/owner.h"
#include "res/policy.h"
#include "store/audit.h"
#include "store/state.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REF_MAX 512

/* ---- references ----------------------------------------------------------- */

/* The prefix OWNER's tags carry in dockerd: "berth.<slug>.<hash>". */
static void
ns_prefix(const char *owner, char *out, size_t n)
{
	own_dname(owner, "berth", out, n);
}

/* 1 when REF's first component has the shape of a namespace prefix ("berth.x.1a2b3c4d/"). */
static int
is_namespaced(const char *ref)
{
	const char *slash = strchr(ref, '/');
	size_t n = slash ? (size_t)(slash - ref) : 0;

	if (n < 16 || strncmp(ref, "berth.", 6) != 0 || ref[n - 9] != '.')
		return 0;
	return strspn(ref + n - 8, "0123456789abcdef") >= 8;
}

/* 1 when REF names an image by id: "sha256:<hex>" or 12 to 64 hex digits. */
static int
is_id(const char *ref)
{
	size_t n;

	if (strncmp(ref, "sha256:", 7) == 0)
		ref += 7;
	n = strlen(ref);
	return n >= 12 && n <= 64 && strspn(ref, "0123456789abcdef") == n;
}

/*
 * REF in its familiar form with a tag: "docker.io/library/x" is "x", no tag
 * is ":latest"; a digest reference is kept as it is.  -1 when it does not fit.
 */
static int
familiar(const char *ref, char *out, size_t n)
{
	const char *last = strrchr(ref, '/');
	int k;

	if (strncmp(ref, "docker.io/", 10) == 0)
		ref += 10;
	if (strncmp(ref, "library/", 8) == 0 && strchr(ref + 8, '/') == NULL)
		ref += 8;
	last = strrchr(ref, '/');
	if (strchr(ref, '@') || strchr(last ? last : ref, ':'))
		k = snprintf(out, n, "%s", ref);
	else
		k = snprintf(out, n, "%s:latest", ref);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

/*
 * A repository a user may name: lower-case path components of [a-z0-9]
 * joined by '.', '_' or '-', separated by '/'; no registry port, at most
 * 200 characters.  Never a namespace prefix.
 */
static int
repo_valid(const char *s)
{
	size_t n = strlen(s);
	int prev_sep = 1;

	if (n == 0 || n > 200 || is_namespaced(s))
		return 0;
	for (const char *p = s; *p; p++) {
		int alnum = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
		int sep = *p == '.' || *p == '_' || *p == '-' || *p == '/';
		if (!alnum && !sep)
			return 0;
		if (sep && prev_sep)
			return 0;
		prev_sep = sep;
	}
	return !prev_sep;
}

/* A tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
static int
tag_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128 || *s == '.' || *s == '-')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/*
 * IN ("repo[:tag]", familiar or not) split and checked into REPO and TAG:
 * IN's own tag, else TAG (may be NULL), else latest.  A 400 naming FIELD.
 */
static enum berr
split_tag(struct op *o, const char *field, const char *in, const char *tag, char *repo, size_t rn,
          char *tg, size_t tn)
{
	const char *last, *colon;

	if (in == NULL || strchr(in, '@') || strlen(in) >= REF_MAX)
		return op_fail(o, B_BAD_REQUEST, field, "%s must be a repository[:tag]", field);
	if (strncmp(in, "docker.io/", 10) == 0)
		in += 10;
	if (strncmp(in, "library/", 8) == 0 && strchr(in + 8, '/') == NULL)
		in += 8;
	last = strrchr(in, '/');
	colon = strchr(last ? last : in, ':');
	snprintf(repo, rn, "%.*s", colon ? (int)(colon - in) : (int)strlen(in), in);
	snprintf(tg, tn, "%s", colon ? colon + 1 : tag && *tag ? tag : "latest");
	if (!repo_valid(repo))
		return op_fail(o, B_BAD_REQUEST, field,
		               "%s: %.100s is no repository berth takes (lower-case [a-z0-9._-] "
		               "components separated by '/', no registry port, not berth.*)",
		               field, repo);
	if (!tag_valid(tg))
		return op_fail(o, B_BAD_REQUEST, field,
		               "%s: a tag is [A-Za-z0-9_.-], at most 128 characters", field);
	return B_OK;
}

size_t
dd_own_cut(const struct op *o, const char *tag)
{
	const char *ns[OWN_NS_MAX];
	size_t k = own_namespaces(o, ns, OWN_NS_MAX);
	char p[OWN_DNAME_MAX];

	for (size_t i = 0; i < k; i++) {
		size_t n;
		ns_prefix(ns[i], p, sizeof(p));
		n = strlen(p);
		if (strncmp(tag, p, n) == 0 && tag[n] == '/')
			return n + 1;
	}
	return 0;
}

enum berr
dd_image_resolve(struct op *o, const char *owner, const char *ref, char *out, size_t n)
{
	const char *ns[OWN_NS_MAX + 1];
	size_t k;
	char f[REF_MAX], p[OWN_DNAME_MAX], cand[REF_MAX + OWN_DNAME_MAX];
	json_object *img = NULL;
	enum berr e;

	if (is_namespaced(ref) && o->role != ROLE_ADMIN)
		return op_fail_why(o, B_NOT_FOUND, R_NO_IMAGE, "image", "No such image: %.200s",
		                   ref);
	snprintf(out, n, "%s", ref);
	if (is_id(ref) || strchr(ref, '@') || familiar(ref, f, sizeof(f)) != 0)
		return B_OK;
	ns[0] = owner ? owner : op_owner(o);
	k = 1 + own_namespaces(o, ns + 1, OWN_NS_MAX);
	for (size_t i = 0; i < k; i++) {
		if (i > 0 && strcmp(ns[i], ns[0]) == 0)
			continue;
		ns_prefix(ns[i], p, sizeof(p));
		snprintf(cand, sizeof(cand), "%s/%s", p, f);
		e = eng_img_inspect(o, cand, &img);
		json_object_put(img);
		img = NULL;
		if (e == B_OK) {
			snprintf(out, n, "%s", cand);
			return B_OK;
		}
		if (e != B_NOT_FOUND)
			return e;
		op_clear(o);
	}
	return B_OK;
}

void
dd_image_shown(const struct op *o, const char *dref, char *out, size_t n)
{
	snprintf(out, n, "%s", dref + dd_own_cut(o, dref));
}

/* ---- visibility ----------------------------------------------------------- */

/*
 * TAG as the caller may see it into OUT: 1, or 0 when it is not theirs to
 * see.  SHARED: the image is one every viewer may see (a catalog image).
 */
static int
tag_shown(const struct op *o, const char *tag, int shared, char *out, size_t n)
{
	size_t cut = dd_own_cut(o, tag);

	if (cut || o->role == ROLE_ADMIN ||
	    (!is_namespaced(tag) && (shared || pol_image_allowed(o->role, tag)))) {
		snprintf(out, n, "%s", tag + cut);
		return 1;
	}
	return 0;
}

/* The tags of ARR (strings) the caller may see, as they see them (SHARED: tag_shown). New
 * reference. */
static json_object *
shown_list(const struct op *o, json_object *arr, int shared)
{
	json_object *out = json_object_new_array();
	char s[REF_MAX];

	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(arr, i));
		if (t && strcmp(t, "<none>:<none>") != 0 && tag_shown(o, t, shared, s, sizeof(s)))
			json_object_array_add(out, json_object_new_string(s));
	}
	return out;
}

/* The repo@digest entries whose repository the caller may see. New reference. */
static json_object *
shown_digests(const struct op *o, json_object *arr, int shared)
{
	json_object *out = json_object_new_array();
	char s[REF_MAX];

	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		const char *d = json_object_get_string(json_object_array_get_idx(arr, i));
		const char *at = d ? strchr(d, '@') : NULL;
		char t[REF_MAX];
		if (at == NULL)
			continue;
		snprintf(t, sizeof(t), "%.*s:latest", (int)(at - d), d);
		if (dd_own_cut(o, d) || o->role == ROLE_ADMIN ||
		    (!is_namespaced(d) && tag_shown(o, t, shared, s, sizeof(s)))) {
			snprintf(s, sizeof(s), "%s", d + dd_own_cut(o, d));
			json_object_array_add(out, json_object_new_string(s));
		}
	}
	return out;
}

/* 1 when LABELS say berth built the image for one of the caller's namespaces here. */
static int
built_by_caller(const struct op *o, json_object *labels)
{
	const char *inst = jx_str(labels, LBL_INSTANCE);

	return inst && strcmp(inst, g_cfg->instance) == 0 &&
	       own_visible(o, jx_str(labels, LBL_OWNER));
}

/* 1 when the caller may see image IMG (list item or inspect: LABELS its labels). */
static int
visible(const struct op *o, json_object *img, json_object *labels)
{
	json_object *tags = shown_list(o, jx_arr(img, "RepoTags"), 0);
	int yes = json_object_array_length(tags) > 0;

	json_object_put(tags);
	return yes || o->role == ROLE_ADMIN || jx_str(labels, LBL_CATALOG) ||
	       built_by_caller(o, labels);
}

/* The labels of image IMG: a list item's, or an inspect's Config's. */
static json_object *
img_labels(json_object *img)
{
	return jx_obj(img, "Config") ? jx_obj(jx_obj(img, "Config"), "Labels")
	                             : jx_obj(img, "Labels");
}

/* Replaces the tags, digests and labels of IMG (in place) with what the caller may see. */
static void
redact(const struct op *o, json_object *img)
{
	json_object *cfg = jx_obj(img, "Config"), *ccfg = jx_obj(img, "ContainerConfig");
	int shared = jx_str(img_labels(img), LBL_CATALOG) != NULL;

	json_object_object_add(img, "RepoTags", shown_list(o, jx_arr(img, "RepoTags"), shared));
	json_object_object_add(img, "RepoDigests",
	                       shown_digests(o, jx_arr(img, "RepoDigests"), shared));
	if (jx_obj(img, "Labels"))
		json_object_object_add(img, "Labels", ct_user_labels(jx_obj(img, "Labels")));
	if (jx_obj(cfg, "Labels"))
		json_object_object_add(cfg, "Labels", ct_user_labels(jx_obj(cfg, "Labels")));
	if (jx_obj(ccfg, "Labels"))
		json_object_object_add(ccfg, "Labels", ct_user_labels(jx_obj(ccfg, "Labels")));
}

/* The reference the route's {i1}/{i2}/{i3} arguments make ("facade/bb:1"). */
static const char *
img_ref(struct req *r, char *out, size_t n)
{
	size_t k = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->nargs && k < n; i++)
		k += (size_t)snprintf(out + k, n - k, "%s%s", i ? "/" : "", r->args[i]);
	return out;
}

/*
 * REF as the caller may use it: inspected into *IMG (new reference), its
 * Docker reference into DREF; *OWN says it is one of the caller's tags.
 * Anything they may not see is Docker's 404.
 */
static enum berr
img_find(struct op *o, const char *ref, json_object **img, char *dref, size_t n, int *own)
{
	enum berr e = dd_image_resolve(o, NULL, ref, dref, n);

	*img = NULL;
	*own = e == B_OK && dd_own_cut(o, dref) > 0;
	if (e == B_OK)
		e = eng_img_inspect(o, dref, img);
	if (e == B_OK && !*own && !visible(o, *img, img_labels(*img))) {
		json_object_put(*img);
		*img = NULL;
		e = B_NOT_FOUND;
	}
	if (e == B_NOT_FOUND) {
		op_clear(o);
		return op_fail_why(o, B_NOT_FOUND, R_NO_IMAGE, NULL, "No such image: %.200s", ref);
	}
	return e;
}

/* ---- list, inspect, history ---------------------------------------------- */

/* 1 when one of SHOWN's tags (or its repository alone) matches pattern PAT. */
static int
ref_matches(json_object *shown, const char *pat)
{
	for (size_t i = 0; i < json_object_array_length(shown); i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(shown, i));
		const char *last = strrchr(t, '/'), *colon = strrchr(last ? last : t, ':');
		char repo[REF_MAX];
		snprintf(repo, sizeof(repo), "%.*s", colon ? (int)(colon - t) : (int)strlen(t), t);
		if (fnmatch(pat, t, 0) == 0 || fnmatch(pat, repo, 0) == 0)
			return 1;
	}
	return 0;
}

/* 1 when the redacted list item IMG passes filters F. */
static int
passes(json_object *f, json_object *img)
{
	json_object *refs = dd_filter(f, "reference"), *dang = dd_filter(f, "dangling");
	json_object *tags = jx_arr(img, "RepoTags");
	size_t ntags = tags ? json_object_array_length(tags) : 0;
	int ok = dd_filter_labels(f, jx_obj(img, "Labels"));

	for (size_t i = 0; ok && refs && i < json_object_array_length(refs); i++)
		ok = ref_matches(tags, json_object_get_string(json_object_array_get_idx(refs, i)));
	if (ok && dang) {
		const char *v = json_object_get_string(json_object_array_get_idx(dang, 0));
		int want = strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
		ok = want ? ntags == 0 : ntags > 0;
	}
	return ok;
}

static enum berr
h_list(struct req *r)
{
	static const char *const keys[] = {"reference", "label", "dangling", NULL};
	json_object *f = NULL, *all = NULL, *out;
	enum berr e = dd_filters_parse(&r->op, rq_str(r, "filters"), keys, &f);

	if (e == B_OK)
		e = eng_img_list(&r->op, NULL, &all);
	if (e != B_OK)
		goto out;
	out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *img = json_object_array_get_idx(all, i);
		if (!visible(&r->op, img, img_labels(img)))
			continue;
		redact(&r->op, img);
		/* dockerd lists untagged ones with <none>; clients read an empty list the same. */
		if (passes(f, img))
			json_object_array_add(out, json_object_get(img));
	}
	dd_answer(r, 200, out);
out:
	json_object_put(all);
	json_object_put(f);
	return e;
}

static enum berr
h_inspect(struct req *r)
{
	char ref[REF_MAX], dref[REF_MAX + OWN_DNAME_MAX];
	json_object *img;
	int own;
	enum berr e =
	    img_find(&r->op, img_ref(r, ref, sizeof(ref)), &img, dref, sizeof(dref), &own);

	if (e != B_OK)
		return e;
	redact(&r->op, img);
	dd_answer(r, 200, img);
	return B_OK;
}

static enum berr
h_history(struct req *r)
{
	char ref[REF_MAX], dref[REF_MAX + OWN_DNAME_MAX];
	json_object *img, *h = NULL;
	int own;
	enum berr e =
	    img_find(&r->op, img_ref(r, ref, sizeof(ref)), &img, dref, sizeof(dref), &own);

	if (e == B_OK)
		e = eng_img_history(&r->op, jx_str(img, "Id"), &h);
	json_object_put(img);
	if (e != B_OK)
		return e;
	for (size_t i = 0; i < json_object_array_length(h); i++) {
		json_object *it = json_object_array_get_idx(h, i);
		json_object_object_add(it, "Tags", shown_list(&r->op, jx_arr(it, "Tags"), 0));
	}
	dd_answer(r, 200, h);
	return B_OK;
}

/* ---- tag, remove ---------------------------------------------------------- */

static enum berr
h_tag(struct req *r)
{
	char ref[REF_MAX], dref[REF_MAX + OWN_DNAME_MAX], repo[256], tag[160], p[OWN_DNAME_MAX];
	char nsrepo[sizeof(repo) + OWN_DNAME_MAX];
	json_object *img;
	int own;
	enum berr e = split_tag(&r->op, "repo", rq_str(r, "repo"), rq_str(r, "tag"), repo,
	                        sizeof(repo), tag, sizeof(tag));

	if (e == B_OK)
		e = img_find(&r->op, img_ref(r, ref, sizeof(ref)), &img, dref, sizeof(dref), &own);
	if (e != B_OK)
		return e;
	ns_prefix(op_owner(&r->op), p, sizeof(p));
	snprintf(nsrepo, sizeof(nsrepo), "%s/%s", p, repo);
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "image %.100s:%.40s", repo, tag);
	e = eng_img_tag(&r->op, jx_str(img, "Id"), nsrepo, tag);
	json_object_put(img);
	if (e == B_OK)
		rq_empty(r, 201);
	return e;
}

/* Rewrites dockerd's [{"Untagged": ...}, {"Deleted": ...}] into the caller's names. */
static void
shown_removed(const struct op *o, json_object *list)
{
	char s[REF_MAX];

	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i);
		const char *u = jx_str(it, "Untagged");
		if (u) {
			snprintf(s, sizeof(s), "%s", u + dd_own_cut(o, u));
			jx_add_str(it, "Untagged", s);
		}
	}
}

/*
 * By id, a non-admin removes an image only when every tag it has is
 * theirs (or it has none and they built it): removing it takes no one
 * else's tag away.
 */
static enum berr
check_whole(struct op *o, json_object *img, const char *ref)
{
	json_object *tags = jx_arr(img, "RepoTags");
	size_t mine = 0, n = tags ? json_object_array_length(tags) : 0;

	for (size_t i = 0; i < n; i++)
		mine +=
		    dd_own_cut(o, json_object_get_string(json_object_array_get_idx(tags, i))) > 0;
	if (mine < n || (n == 0 && !built_by_caller(o, img_labels(img))))
		return op_fail(o, B_FORBIDDEN, NULL,
		               "image %.100s is not yours alone: remove only tags you made", ref);
	return B_OK;
}

static enum berr
h_remove(struct req *r)
{
	char ref[REF_MAX], dref[REF_MAX + OWN_DNAME_MAX];
	json_object *img, *out = NULL;
	int own;
	enum berr e =
	    img_find(&r->op, img_ref(r, ref, sizeof(ref)), &img, dref, sizeof(dref), &own);

	if (e != B_OK)
		return e;
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "image %.140s", ref);
	if (!own && r->op.role != ROLE_ADMIN && !is_id(ref))
		e = op_fail(&r->op, B_FORBIDDEN, NULL,
		            "image %.100s is shared, not yours: remove only tags you made", ref);
	else if (!own && r->op.role != ROLE_ADMIN)
		e = check_whole(&r->op, img, ref);
	json_object_put(img);
	if (e == B_OK)
		e = eng_img_remove(&r->op, dref, rq_bool(r, "force"), rq_bool(r, "noprune"), &out);
	if (e != B_OK)
		return e;
	shown_removed(&r->op, out);
	dd_answer(r, 200, out);
	return B_OK;
}

/* ---- pull ----------------------------------------------------------------- */

/*
 * A pull of an image the role's allow-list names, its progress dockerd's
 * own stream passed on by the relay (raw mode): no worker waits on a
 * registry.  No registry reachable: dockerd's error, as dockerd answers it.
 * fromSrc (an import of any URL or the request body) is refused.
 */
static enum berr
h_pull(struct req *r)
{
	const char *src = rq_str(r, "fromSrc"), *from = rq_str(r, "fromImage");
	char repo[256], tag[160], full[420];
	json_object *tk;
	enum berr e;

	if (src && *src)
		return op_fail(
		    &r->op, B_FORBIDDEN, "fromSrc",
		    "importing an image (fromSrc) is refused: it makes dockerd fetch any "
		    "URL, and takes a root file system berth cannot check");
	if (from == NULL || *from == '\0')
		return op_fail(&r->op, B_BAD_REQUEST, "fromImage", "fromImage is required");
	if (is_namespaced(from))
		return op_fail(&r->op, B_NOT_FOUND, "fromImage", "No such image: %.200s", from);
	e = split_tag(&r->op, "fromImage", from, rq_str(r, "tag"), repo, sizeof(repo), tag,
	              sizeof(tag));
	if (e != B_OK)
		return e;
	snprintf(full, sizeof(full), "%s:%s", repo, tag);
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "image %.140s", full);
	if (!pol_image_allowed(r->op.role, full))
		return op_fail(&r->op, B_FORBIDDEN, "fromImage",
		               "image %s is not in the %s role's allow-list (berth.conf policy)",
		               full, role_name(r->op.role));
	tk = json_object_new_object();
	jx_add_str(tk, "mode", "raw");
	/* A configured registry's credentials ride on the ticket, as /api/v1's pulls
	 * (registries.md). */
	{
		const char *rname = NULL;
		json_object *def = reg_of(full, &rname);
		char auth[REG_AUTH_MAX];

		e = reg_auth_line(&r->op, rname, def, auth, sizeof(auth));
		if (e == B_OK)
			e = eng_img_pull_ticket(&r->op, repo, tag, auth, tk);
		reg_wipe(auth, sizeof(auth));
	}
	if (e != B_OK) {
		json_object_put(tk);
		return e;
	}
	return tk_hand_off(r, tk);
}

/* ---- build ---------------------------------------------------------------- */

/* A JSON object of strings (buildargs: null values too) in query parameter NAME, or NULL. */
static enum berr
json_map(struct op *o, const char *name, const char *text, int nulls, json_object **out)
{
	char perr[96];

	*out = NULL;
	if (text == NULL || *text == '\0' || strcmp(text, "null") == 0)
		return B_OK;
	*out = jx_parse(text, strlen(text), perr, sizeof(perr));
	if (*out == NULL || !json_object_is_type(*out, json_type_object) ||
	    json_object_object_length(*out) > 64)
		goto bad;
	json_object_object_foreach(*out, k, v)
	{
		if (strlen(k) > 255 || (v == NULL && !nulls) ||
		    (v && (!json_object_is_type(v, json_type_string) ||
		           json_object_get_string_len(v) > 4096)))
			goto bad;
	}
	return B_OK;
bad:
	json_object_put(*out);
	*out = NULL;
	return op_fail(o, B_BAD_REQUEST, name, "%s must be a JSON object of at most 64 strings",
	               name);
}

/* 1 when query parameter NAME is absent or one of the harmless defaults the CLI sends. */
static int
is_default(struct req *r, const char *name)
{
	const char *v = rq_str(r, name);

	return v == NULL || !*v || !strcmp(v, "0") || !strcmp(v, "[]") || !strcmp(v, "null") ||
	       !strcmp(v, "{}");
}

/* The query parameters berth refuses unless at their defaults, and why. */
static const struct {
	const char *name, *why;
} refused_params[] = {
    {"cgroupparent", "a cgroup parent places the build outside berth's limits"},
    {"remote", "a remote context makes dockerd fetch a URL (BuildKit's client-session too: "
               "export DOCKER_BUILDKIT=0)"},
    {"session", "BuildKit sessions are refused: export DOCKER_BUILDKIT=0"},
    {"cpusetcpus", "builds run with berth's limits"},
    {"cpusetmems", "builds run with berth's limits"},
    {"cpushares", "builds run with berth's limits"},
    {"cpuperiod", "builds run with berth's limits"},
    {"cpuquota", "builds run with berth's limits"},
    {"memory", "builds run with berth's limits"},
    {"memswap", "builds run with berth's limits"},
    {"shmsize", "builds run with berth's limits"},
    {"ulimits", "builds run with berth's limits"},
    {"cachefrom", "cache images are not resolved in your namespace yet"},
    {"squash", "squash needs dockerd's experimental mode"},
    {"outputs", "outputs are BuildKit's"},
    {"platform", "builds are for the host's platform"},
};

static enum berr
check_params(struct req *r)
{
	const char *nm = rq_str(r, "networkmode"), *v = rq_str(r, "version");

	for (size_t i = 0; i < sizeof(refused_params) / sizeof(refused_params[0]); i++)
		if (!is_default(r, refused_params[i].name))
			return op_fail(&r->op, B_FORBIDDEN, refused_params[i].name,
			               "%s is refused: %s", refused_params[i].name,
			               refused_params[i].why);
	if (v && *v && strcmp(v, "1") != 0)
		return op_fail(&r->op, B_FORBIDDEN, "version",
		               "only the classic builder (version=1): export DOCKER_BUILDKIT=0");
	if (nm && *nm && strcmp(nm, "default") && strcmp(nm, "bridge") && strcmp(nm, "none"))
		return op_fail(&r->op, B_FORBIDDEN, "networkmode",
		               "network mode %.40s is refused for builds: only default, bridge or "
		               "none (host would put the build on the host's network)",
		               nm);
	return B_OK;
}

/* The build's tags (t=, repeatable), each in the caller's namespace, into B. */
static enum berr
build_tags(struct req *r, struct eng_build *b, char (*store)[REF_MAX + OWN_DNAME_MAX])
{
	char repo[256], tag[160], p[OWN_DNAME_MAX];

	ns_prefix(op_owner(&r->op), p, sizeof(p));
	for (size_t i = 0; i < r->nquery; i++) {
		enum berr e;
		if (strcmp(r->query[i].key, "t") != 0)
			continue;
		if (b->ntags == sizeof(b->tags) / sizeof(b->tags[0]))
			return op_fail(&r->op, B_BAD_REQUEST, "t", "at most 16 tags");
		e = split_tag(&r->op, "t", r->query[i].val, NULL, repo, sizeof(repo), tag,
		              sizeof(tag));
		if (e != B_OK)
			return e;
		snprintf(store[b->ntags], sizeof(store[0]), "%s/%s:%s", p, repo, tag);
		b->tags[b->ntags] = store[b->ntags];
		b->ntags++;
	}
	return B_OK;
}

/* The Dockerfile path: inside the context, no "..", no NUL. */
static int
dockerfile_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 255 && *s != '/' && strstr(s, "..") == NULL && !strchr(s, '\\');
}

/* The build's labels: the caller's (never berth.*) and berth's owner and instance. */
static enum berr
build_labels(struct req *r, json_object **labels)
{
	enum berr e = json_map(&r->op, "labels", rq_str(r, "labels"), 0, labels);

	if (e == B_OK && *labels)
		e = pol_check_labels(&r->op, *labels);
	if (e != B_OK)
		return e;
	if (*labels == NULL)
		*labels = json_object_new_object();
	jx_add_str(*labels, LBL_OWNER, op_owner(&r->op));
	jx_add_str(*labels, LBL_INSTANCE, g_cfg->instance);
	return B_OK;
}

/* Reads the request's body (the context tar) into a spool file: its name into FILE. */
static enum berr
spool_body(struct req *r, char *file, size_t n)
{
	const char *cl = r->clen;
	unsigned long long want = cl && *cl ? strtoull(cl, NULL, 10) : 0, got = 0;
	int64_t max = g_cfg->max_build_context;
	char buf[65536];
	int fd, k, keep;

	file[0] = '\0';
	if (want == 0)
		return op_fail(&r->op, B_BAD_REQUEST, NULL,
		               "a build needs its context: a tar archive as the body");
	if (max > 0 && want > (unsigned long long)max)
		return op_fail(&r->op, B_TOO_LARGE, NULL,
		               "build context over %lld bytes (berth.conf max_build_context)",
		               (long long)max);
	fd = st_spool_create(file, n);
	if (fd < 0)
		return op_fail(&r->op, B_INTERNAL, NULL, "cannot spool the build context: %s",
		               strerror(errno));
	while (got < want && (k = FCGX_GetStr(buf, sizeof(buf), r->fx->in)) > 0) {
		if (st_write_all(fd, buf, (size_t)k) != 0)
			break;
		got += (unsigned long long)k;
	}
	keep = got == want;
	if (st_spool_finish(fd, file, keep) != 0 || !keep) {
		file[0] = '\0';
		return op_fail(&r->op, keep ? B_INTERNAL : B_BAD_REQUEST, NULL,
		               keep ? "cannot spool the build context"
		                    : "the build context is shorter than Content-Length");
	}
	return B_OK;
}

/*
 * One image a Dockerfile names: one the caller may read, or the reason not.
 * One of the caller's own tags comes back in DREF (what dockerd calls it),
 * else DREF is "".
 */
static enum berr
build_ref(struct req *r, const struct df_ref *ref, char *dref, size_t n)
{
	const char *what = ref->kind == DF_FROM ? "FROM" : "COPY --from";
	enum berr e;

	dref[0] = '\0';
	if (r->op.role == ROLE_ADMIN)
		return B_OK;
	e = dd_image_resolve(&r->op, NULL, ref->ref, dref, n);
	if (e == B_NOT_FOUND) {
		op_clear(&r->op);
		return op_fail_why(&r->op, B_NOT_FOUND, R_NO_IMAGE, "dockerfile",
		                   "Dockerfile line %d: %s %.200s: No such image", ref->line, what,
		                   ref->ref);
	}
	if (e != B_OK)
		return e;
	if (dd_own_cut(&r->op, dref) > 0)
		return B_OK;
	dref[0] = '\0';
	if (is_id(ref->ref) || !pol_image_allowed(r->op.role, ref->ref))
		return op_fail(&r->op, B_FORBIDDEN, "dockerfile",
		               "Dockerfile line %d: %s %.200s is not in the %s role's allow-list "
		               "(berth.conf policy)",
		               ref->line, what, ref->ref, role_name(r->op.role));
	return B_OK;
}

/*
 * The context in spool FILE again, its Dockerfile DF now TEXT: a new spool
 * file, whose name replaces FILE (N bytes), the old one removed.
 */
static enum berr
build_respool(struct req *r, char *file, size_t n, const char *df, const char *text, size_t len)
{
	char nf[64], err[300];
	int in = st_spool_open(file), out = in < 0 ? -1 : st_spool_create(nf, sizeof(nf)), rc;

	if (in < 0 || out < 0) {
		if (in >= 0)
			close(in);
		return op_fail(&r->op, B_INTERNAL, NULL, "cannot spool the build context: %s",
		               strerror(errno));
	}
	rc = tb_replace(in, out, df, text, len, err, sizeof(err));
	close(in);
	if (st_spool_finish(out, nf, rc == 0) != 0 || rc != 0)
		return op_fail(&r->op, B_INTERNAL, NULL, "cannot rewrite the build context: %s",
		               rc ? err : strerror(errno));
	st_spool_del(file);
	snprintf(file, n, "%s", nf);
	return B_OK;
}

/*
 * What the build would fetch (lib/dockerfile.h): the Dockerfile read out
 * of the spooled context FILE as dockerd will read it (DF, or dockerd's
 * fallback "dockerfile"), scanned with the build's BUILDARGS, and every
 * image it names checked as a pull or a create would be.  The caller's
 * own tags are written into the Dockerfile as dockerd knows them, in a
 * copy of the context whose name replaces FILE (N bytes).
 */
static enum berr
build_refs(struct req *r, char *file, size_t n, const char *df, json_object *buildargs)
{
	static struct df_scan s; /* 70 KiB; a worker serves one request at a time */
	static char own[DF_MAX_REFS][DD_REF_MAX];
	const char *to[DF_MAX_REFS] = {0};
	char *text = NULL, *re = NULL, err[300];
	size_t len = 0, relen = 0, nown = 0;
	int fd = st_spool_open(file), rc;
	enum berr e = B_OK;

	if (fd < 0)
		return op_fail(&r->op, B_INTERNAL, NULL, "cannot read the spooled context: %s",
		               strerror(errno));
	rc = tb_member(fd, df, DF_MAX_BYTES, &text, &len, err, sizeof(err));
	if (rc == 1 && strcmp(df, "Dockerfile") == 0 && lseek(fd, 0, SEEK_SET) == 0) {
		df = "dockerfile";
		rc = tb_member(fd, df, DF_MAX_BYTES, &text, &len, err, sizeof(err));
	}
	close(fd);
	if (rc == 1)
		return op_fail(&r->op, B_BAD_REQUEST, "dockerfile",
		               "the build context has no %.200s", df);
	if (rc < 0)
		return op_fail(&r->op, B_BAD_REQUEST, "dockerfile", "%s", err);
	if (df_scan(text, len, buildargs, &s) != 0)
		e = s.line ? op_fail(&r->op, B_BAD_REQUEST, "dockerfile", "Dockerfile line %d: %s",
		                     s.line, s.err)
		           : op_fail(&r->op, B_BAD_REQUEST, "dockerfile", "%s", s.err);
	for (size_t i = 0; e == B_OK && i < s.nrefs; i++) {
		if (s.refs[i].is_stage)
			continue;
		e = build_ref(r, &s.refs[i], own[i], sizeof(own[i]));
		if (e == B_OK && own[i][0])
			to[i] = own[i], nown++;
	}
	if (e == B_OK && nown) {
		if (df_rewrite(text, len, &s, to, &re, &relen) != 0)
			e = op_fail(
			    &r->op, B_BAD_REQUEST, "dockerfile",
			    "Dockerfile line %d: %s: one of your own tags can be built on only "
			    "when it is written out",
			    s.line, s.err);
		else
			e = build_respool(r, file, n, df, re, relen);
	}
	free(re);
	free(text);
	return e;
}

/*
 * POST /build: every query parameter checked (refused_params, networkmode,
 * the tags put in the caller's namespace, buildargs and labels JSON of
 * strings), the context spooled, and the build handed to the relay, which
 * passes dockerd's NDJSON progress on as it comes (raw mode).
 */
static enum berr
h_build(struct req *r)
{
	char tags[16][REF_MAX + OWN_DNAME_MAX], file[64] = "", strip[OWN_DNAME_MAX + 1];
	const char *df = rq_str(r, "dockerfile"), *target = rq_str(r, "target");
	struct eng_build b = {.rm = 1, .forcerm = rq_bool(r, "forcerm")};
	json_object *tk = NULL;
	enum berr e = check_params(r);

	if (e == B_OK)
		e = build_tags(r, &b, tags);
	if (e == B_OK && df && *df && !dockerfile_valid(df))
		e = op_fail(&r->op, B_BAD_REQUEST, "dockerfile",
		            "dockerfile must be a path inside the context (no \"..\")");
	if (e == B_OK && target && (strlen(target) > 128 || (*target && !name_valid(target))))
		e = op_fail(&r->op, B_BAD_REQUEST, "target", "target must be a build stage's name");
	if (e == B_OK)
		e = json_map(&r->op, "buildargs", rq_str(r, "buildargs"), 1, &b.buildargs);
	if (e == B_OK)
		e = build_labels(r, &b.labels);
	if (e != B_OK)
		goto out;
	b.dockerfile = df && *df ? df : "Dockerfile";
	b.target = target;
	b.networkmode = rq_str(r, "networkmode");
	b.nocache = rq_bool(r, "nocache");
	b.quiet = rq_bool(r, "q");
	b.rm = !rq_str(r, "rm") || rq_bool(r, "rm");
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "build %s",
	         b.ntags ? b.tags[0] + dd_own_cut(&r->op, b.tags[0]) : "(untagged)");
	if ((e = spool_body(r, file, sizeof(file))) != B_OK)
		goto out;
	if ((e = build_refs(r, file, sizeof(file), b.dockerfile, b.buildargs)) != B_OK)
		goto out;
	tk = json_object_new_object();
	jx_add_str(tk, "mode", "raw");
	/* "Successfully tagged berth.alice.1a2b3c4d/x:1": the relay shows "x:1". */
	ns_prefix(op_owner(&r->op), strip, sizeof(strip) - 1);
	strcat(strip, "/");
	jx_add_str(tk, "strip", strip);
	e = eng_img_dbuild_ticket(&r->op, &b, file, tk);
	if (e == B_OK) {
		e = tk_hand_off(r, tk); /* takes TK */
		tk = NULL;
		if (e == B_OK)
			file[0] = '\0'; /* the relay's now */
	}
out:
	if (file[0])
		st_spool_del(file);
	json_object_put(tk);
	json_object_put(b.buildargs);
	json_object_put(b.labels);
	return e;
}

/* ---- the module ----------------------------------------------------------- */

static const struct rt_param q_list[] = {
    {.name = "filters",
     .type = P_STR,
     .desc = "Docker's filters (JSON): reference, label, dangling.",
     .max = 8192},
    {.name = "all", .type = P_BOOL, .desc = "Accepted; intermediate layers are never listed."},
    {.name = "digests", .type = P_BOOL, .desc = "Accepted; digests are always shown."},
    {0}};
static const struct rt_param q_tag[] = {
    {.name = "repo", .type = P_STR, .desc = "The new tag's repository.", .min = 1, .max = 255},
    {.name = "tag", .type = P_STR, .desc = "The new tag (latest).", .max = 128},
    {0}};
static const struct rt_param q_remove[] = {
    {.name = "force", .type = P_BOOL, .desc = "Untag even if a container uses it."},
    {.name = "noprune", .type = P_BOOL, .desc = "Keep untagged parents."},
    {0}};
static const struct rt_param q_pull[] = {
    {.name = "fromImage",
     .type = P_STR,
     .desc = "The image (the role's allow-list).",
     .min = 1,
     .max = 255},
    {.name = "tag", .type = P_STR, .desc = "Its tag (latest).", .max = 128},
    {.name = "fromSrc", .type = P_STR, .desc = "Refused: imports.", .max = 2048},
    {0}};

#define BQ_STR(n, d)                                                                               \
	{                                                                                          \
		.name = n, .type = P_STR, .desc = d, .max = 8192                                   \
	}
static const struct rt_param q_build[] = {
    BQ_STR("t", "A tag (repeatable), in the caller's namespace."),
    BQ_STR("dockerfile", "The Dockerfile's path in the context."),
    BQ_STR("target", "The stage to build."),
    BQ_STR("buildargs", "JSON object of build arguments."),
    BQ_STR("labels", "JSON object of labels (not berth.*)."),
    BQ_STR("networkmode", "default, bridge or none (host refused)."),
    BQ_STR("extrahosts", "Extra /etc/hosts lines."),
    {.name = "rm", .type = P_BOOL, .desc = "Remove intermediate containers (1).", .dflt = 1},
    {.name = "forcerm", .type = P_BOOL, .desc = "Remove them even after a failure."},
    {.name = "nocache", .type = P_BOOL, .desc = "Build without the cache."},
    {.name = "q", .type = P_BOOL, .desc = "Quiet: only the image id."},
    {.name = "pull", .type = P_BOOL, .desc = "Accepted; base images come from the host."},
    BQ_STR("version", "1 (the classic builder); BuildKit's 2 is refused."),
    BQ_STR("cgroupparent", "Refused."),
    BQ_STR("remote", "Refused: a URL dockerd would fetch."),
    BQ_STR("session", "Refused: BuildKit."),
    BQ_STR("cpusetcpus", "Refused unless empty."),
    BQ_STR("cpusetmems", "Refused unless empty."),
    BQ_STR("cpushares", "Refused unless 0."),
    BQ_STR("cpuperiod", "Refused unless 0."),
    BQ_STR("cpuquota", "Refused unless 0."),
    BQ_STR("memory", "Refused unless 0."),
    BQ_STR("memswap", "Refused unless 0."),
    BQ_STR("shmsize", "Refused unless 0."),
    BQ_STR("ulimits", "Refused unless null."),
    BQ_STR("cachefrom", "Refused unless []."),
    BQ_STR("squash", "Refused."),
    BQ_STR("outputs", "Refused: BuildKit."),
    BQ_STR("platform", "Refused."),
    BQ_STR("buildid", "Ignored (BuildKit)."),
    {0}};

/* One route on an image reference of one, two and three components (the file's comment). */
#define IMG_ROUTES(m, tail, fn, role, flags, sum, q)                                               \
	{m, "/images/{i1}" tail, fn, role, flags, NULL, sum, q},                                   \
	    {m, "/images/{i1}/{i2}" tail, fn, role, flags, NULL, sum, q},                          \
	{                                                                                          \
		m, "/images/{i1}/{i2}/{i3}" tail, fn, role, flags, NULL, sum, q                    \
	}

static const struct rt_route routes[] = {
    {"GET", "/images/json", h_list, ROLE_VIEWER, 0, NULL,
     "The images the caller may see: their own tags (without the namespace), the allow-list's, "
     "the catalog's; filtered by reference, label, dangling.",
     q_list},
    {"POST", "/images/create", h_pull, ROLE_OPERATOR, RT_MUT, NULL,
     "Pull an image the role's allow-list names (fromSrc refused); dockerd's progress.", q_pull},
    {"POST", "/build", h_build, ROLE_OPERATOR, RT_MUT | RT_RAW | RT_STREAM, NULL,
     "Classic build of the tar body (max_build_context); tags in the caller's namespace; "
     "networkmode host, cgroupparent, remote and resource options refused; NDJSON progress.",
     q_build},
    IMG_ROUTES("GET", "/json", h_inspect, ROLE_VIEWER, 0, "An image the caller may see.", NULL),
    IMG_ROUTES("GET", "/history", h_history, ROLE_VIEWER, 0, "Its layers.", NULL),
    IMG_ROUTES("POST", "/tag", h_tag, ROLE_OPERATOR, RT_MUT,
               "Tag it (?repo=&tag=) in the caller's namespace.", q_tag),
    IMG_ROUTES("DELETE", "", h_remove, ROLE_OPERATOR, RT_MUT,
               "Remove one of the caller's tags (by id: an image only they tag).", q_remove),
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

/* An image reference's component: no NUL, no '/', at most 255 characters. */
#define IMG_ARG(n)                                                                                 \
	{                                                                                          \
		.name = n, .type = P_STR, .desc = "image", .min = 1, .max = 255,                   \
		.rule = "a part of an image reference"                                             \
	}
static const struct rt_param args[] = {IMG_ARG("i1"), IMG_ARG("i2"), IMG_ARG("i3"), {0}};

/*
 * berth-fcgi cleanup: the images this instance's door built (labelled
 * berth.instance).  A few passes: an image another still builds on goes
 * once its child has.
 */
static int
img_cleanup(void)
{
	json_object *f = json_object_new_object(), *labels = json_object_new_array(), *list = NULL,
	            *gone = NULL;
	char lbl[160];
	struct op o;
	int failed = 1;

	op_system(&o);
	snprintf(lbl, sizeof(lbl), "%s=%s", LBL_INSTANCE, g_cfg->instance);
	json_object_array_add(labels, json_object_new_string(lbl));
	json_object_object_add(f, "label", labels);
	for (int pass = 0; pass < 4 && failed; pass++) {
		failed = 0;
		if (eng_img_list(&o, f, &list) != B_OK) {
			fprintf(stderr, "berth-fcgi: cannot list images: %s\n", o.msg);
			failed = 1;
			break;
		}
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			const char *id = jx_str(json_object_array_get_idx(list, i), "Id");
			if (id && eng_img_remove(&o, id, 1, 0, &gone) != B_OK) {
				if (pass == 3)
					fprintf(stderr, "berth-fcgi: cannot remove image %s: %s\n",
					        id, o.msg);
				op_clear(&o);
				failed = 1;
			}
			json_object_put(gone);
			gone = NULL;
		}
		json_object_put(list);
		list = NULL;
	}
	json_object_put(f);
	op_done(&o);
	return failed ? -1 : 0;
}

const struct bmod mod_dd_images = {
    .cleanup = img_cleanup,
    .name = "docker-images",
    .routes = routes,
    .args = args,
};

/*
 * catalog.c - the named-image catalog: entries from berth.conf, built into
 * images with a build context made in memory (tarball.c), progress streamed
 * from dockerd's /build (by the relay for POST .../build, relay/build.c).
 * Builds are coordinated through the state directory so concurrent
 * requests for one unbuilt image build it once.
 */
#include "berth.h"
#include "store/audit.h"
#include "res/catalog.h"
#include "lib/cfg.h"
#include "res/containers.h"
#include "res/registries.h"
#include "engine/engine.h"
#include "lib/json.h"
#include "lib/log.h"
#include "res/policy.h"
#include "edge/req.h"
#include "edge/module.h"
#include "edge/route.h"
#include "store/state.h"
#include "lib/tarball.h"
#include "edge/worker.h"
#include "relay/ticket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_BUILDS    "builds"
#define CAT_PREFIX   "berth-catalog/" /* tag of entries that name none */
#define LBL_CAT_HASH "berth.catalog.hash"
#define MAX_INLINE   (8u << 20)
#define ABS_PATH_RE  "^/[a-zA-Z0-9_./@+-]*$"

static const char *const item_kinds[] = {"ADD", "COPY", NULL};

static const struct sc_field file_fields[] = {
    {.name = "dest",
     .types = SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "Absolute path of the file in the image.",
     .min = 2,
     .max = 1024,
     .pattern = ABS_PATH_RE},
    {.name = "content", .types = SC_STRING, .desc = "The file's text.", .max = MAX_INLINE},
    {.name = "source",
     .types = SC_STRING,
     .desc = "A host file to copy in (absolute path).",
     .min = 2,
     .max = 1024,
     .pattern = ABS_PATH_RE},
    {.name = "mode", .types = SC_INT, .desc = "File mode, e.g. 0755.", .min = 0, .max = 07777},
    {0}};

static const struct sc_field any_item = {.types = SC_STRING | SC_ARRAY | SC_OBJECT, .max = 16384};
static const struct sc_field port_any = {.types = SC_INT | SC_STRING | SC_OBJECT};
static const struct sc_field env_value = {.types = SC_STRING, .max = 32768};
static const struct sc_field str_item = {.types = SC_STRING, .max = 4096};

static const struct sc_field entry_fields[] = {
    {.name = "description", .types = SC_STRING, .desc = "What the image is for.", .max = 512},
    {.name = "commands",
     .types = SC_ARRAY,
     .desc = "Dockerfile lines; [\"ADD\"|\"COPY\", {dest, content|source, mode?}] items put "
             "inline files into the context.",
     .min = 1,
     .max = 256,
     .items = &any_item},
    {.name = "context",
     .types = SC_STRING,
     .desc = "A build context directory on the host.",
     .min = 2,
     .max = 1024,
     .pattern = ABS_PATH_RE},
    {.name = "dockerfile",
     .types = SC_STRING,
     .desc = "Dockerfile path inside the context.",
     .min = 1,
     .max = 256,
     .pattern = "^[a-zA-Z0-9_.][a-zA-Z0-9_./-]*$"},
    {.name = "tag",
     .types = SC_STRING,
     .desc = "Image tag (default berth-catalog/<name>:latest).",
     .min = 3,
     .max = 255,
     .pattern = SC_TAGGED_RE},
    {.name = "command",
     .types = SC_STRING | SC_ARRAY,
     .desc = "Default command.",
     .max = 4096,
     .items = &str_item},
    {.name = "env",
     .types = SC_OBJECT,
     .desc = "Default environment.",
     .max = 256,
     .values = &env_value},
    {.name = "ports",
     .types = SC_ARRAY,
     .desc = "Default published container ports.",
     .max = 64,
     .items = &port_any},
    {.name = "labels",
     .types = SC_OBJECT,
     .desc = "Default labels.",
     .max = 64,
     .values = &env_value},
    {.name = "memory",
     .types = SC_INT | SC_STRING,
     .desc = "Default memory limit.",
     .pattern = SC_SIZE_RE},
    {.name = "cpus", .types = SC_NUMBER, .desc = "Default CPU limit."},
    {.name = "restart", .types = SC_STRING, .desc = "Default restart policy.", .max = 16},
    {0}};

static const struct sc_schema entry_schema = {"catalog_entry", "berth.conf catalog entry",
                                              entry_fields, NULL, 0};
static const struct sc_schema file_schema = {"catalog_file", "inline file", file_fields, NULL, 0};

static int
check_item(json_object *it, size_t i, char *err, size_t n)
{
	struct sc_error e;
	const char *kind;
	json_object *f;

	if (json_object_is_type(it, json_type_string))
		return strchr(json_object_get_string(it), '\n')
		           ? (snprintf(err, n, "commands[%zu]: one line per item", i), -1)
		           : 0;
	if (!json_object_is_type(it, json_type_array) || json_object_array_length(it) != 2) {
		snprintf(err, n, "commands[%zu] must be a line or [\"ADD\"|\"COPY\", {dest, ...}]",
		         i);
		return -1;
	}
	kind = json_object_get_string(json_object_array_get_idx(it, 0));
	f = json_object_array_get_idx(it, 1);
	if (!kind || (strcmp(kind, item_kinds[0]) && strcmp(kind, item_kinds[1]))) {
		snprintf(err, n, "commands[%zu]: the first element must be ADD or COPY", i);
		return -1;
	}
	if (sc_validate(&file_schema, f, &e) != 0) {
		snprintf(err, n, "commands[%zu]: %s", i, e.msg);
		return -1;
	}
	if (!jx_get(f, "content") == !jx_get(f, "source")) {
		snprintf(err, n, "commands[%zu]: give either content or source", i);
		return -1;
	}
	return 0;
}

int
cat_check_entry(const char *name, json_object *def, char *err, size_t n)
{
	json_object *cmds = jx_arr(def, "commands");
	struct sc_error e;
	char tag[300];

	if (sc_validate(&entry_schema, def, &e) != 0) {
		snprintf(err, n, "%s", e.msg);
		return -1;
	}
	if (!cmds == !jx_str(def, "context")) {
		snprintf(err, n, "give either commands or context");
		return -1;
	}
	for (size_t i = 0; cmds && i < json_object_array_length(cmds); i++)
		if (check_item(json_object_array_get_idx(cmds, i), i, err, n) != 0)
			return -1;
	if (strlen(cat_tag(name, def, tag, sizeof(tag))) > 255) {
		snprintf(err, n, "the image tag is too long");
		return -1;
	}
	return 0;
}

json_object *
cat_entry(const char *name)
{
	return name ? jx_obj(g_cfg->catalog, name) : NULL;
}

const char *
cat_tag(const char *name, json_object *def, char *buf, size_t n)
{
	const char *t = jx_str(def, "tag");

	if (t)
		snprintf(buf, n, "%s", t);
	else
		snprintf(buf, n, CAT_PREFIX "%s:latest", name);
	return buf;
}

const char *
cat_name_for_tag(const char *image)
{
	char tag[300];

	json_object_object_foreach(g_cfg->catalog, name, def)
	{
		if (strcmp(cat_tag(name, def, tag, sizeof(tag)), image) == 0)
			return name;
	}
	return NULL;
}

const char *
cat_names(char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	json_object_object_foreach(g_cfg->catalog, name, def)
	{
		(void)def;
		used += (size_t)snprintf(buf + used, used < n ? n - used : 0, "%s%s",
		                         used ? ", " : "", name);
		if (used >= n)
			break;
	}
	return buf;
}

/* A stable fingerprint of an entry's definition, stamped on the image it built. */
static void
def_hash(json_object *def, char *out, size_t n)
{
	const char *s = jx_text(def);
	unsigned long long h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	snprintf(out, n, "%016llx", h);
}

/* ---- build context ------------------------------------------------------ */

/* Adds one inline ADD/COPY item as berth-files/<i> and its Dockerfile line. */
static int
add_inline(struct tarball *t, json_object *it, size_t i, char **df, size_t *dflen, char *err,
           size_t n)
{
	const char *kind = json_object_get_string(json_object_array_get_idx(it, 0));
	json_object *f = json_object_array_get_idx(it, 1);
	const char *content = jx_str(f, "content"), *source = jx_str(f, "source");
	char cname[48], line[1200], *data = NULL, *nd;
	size_t len = 0;
	int mode = (int)jx_int(f, "mode", 0644), rc;

	snprintf(cname, sizeof(cname), "berth-files/%zu", i);
	if (source) {
		if (st_read_file(source, TB_MAX, &data, &len) != 0) {
			snprintf(err, n, "cannot read %s: %s", source, strerror(errno));
			return -1;
		}
		rc = tb_add(t, cname, data, len, mode);
		free(data);
	} else {
		rc = tb_add(t, cname, content, strlen(content), mode);
	}
	if (rc != 0) {
		snprintf(err, n, "%s", tb_error(t));
		return -1;
	}
	snprintf(line, sizeof(line), "%s %s %s\n", kind, cname, jx_str(f, "dest"));
	nd = realloc(*df, *dflen + strlen(line) + 1);
	if (nd == NULL) {
		snprintf(err, n, "out of memory");
		return -1;
	}
	*df = nd;
	memcpy(*df + *dflen, line, strlen(line) + 1);
	*dflen += strlen(line);
	return 0;
}

/*
 * Fills the build context tar for entry DEF (inline commands, or a host
 * directory).  Runs in tb_make's child process.
 */
static int
fill_context(struct tarball *t, void *arg, char *err, size_t n)
{
	json_object *def = arg, *cmds = jx_arr(def, "commands");
	char *df = calloc(1, 1);
	size_t dflen = 0;
	int rc = -1;

	if (df == NULL) {
		snprintf(err, n, "out of memory");
		goto out;
	}
	if (!cmds) {
		if (tb_add_dir(t, jx_str(def, "context")) != 0) {
			snprintf(err, n, "%s", tb_error(t));
			goto out;
		}
		rc = 0;
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(cmds); i++) {
		json_object *it = json_object_array_get_idx(cmds, i);
		if (json_object_is_type(it, json_type_string)) {
			size_t l = strlen(json_object_get_string(it));
			char *nd = realloc(df, dflen + l + 2);
			if (nd == NULL) {
				snprintf(err, n, "out of memory");
				goto out;
			}
			df = nd;
			memcpy(df + dflen, json_object_get_string(it), l);
			df[dflen + l] = '\n';
			df[dflen + l + 1] = '\0';
			dflen += l + 1;
		} else if (add_inline(t, it, i, &df, &dflen, err, n) != 0) {
			goto out;
		}
	}
	if (tb_add(t, "Dockerfile", df, dflen, 0644) != 0) {
		snprintf(err, n, "%s", tb_error(t));
		goto out;
	}
	rc = 0;
out:
	free(df);
	return rc;
}

/* ---- builds --------------------------------------------------------------- */

static void
emit(struct cat_build *b, json_object *o)
{
	if (b->emit)
		b->emit(o, b->arg);
	else
		json_object_put(o);
}

/* One line of dockerd's build output: {"stream"}, {"aux":{"ID"}}, {"error"}. */
static void
build_line(struct cat_build *b, const char *s, size_t n)
{
	char perr[64];
	json_object *o = jx_parse(s, n, perr, sizeof(perr)), *out;
	const char *v;

	if (o == NULL)
		return;
	if ((v = jx_str(o, "error")) != NULL) {
		snprintf(b->error, sizeof(b->error), "%s", v);
		out = json_object_new_object();
		jx_add_str(out, "error", v);
		emit(b, out);
	} else if ((v = jx_str(jx_obj(o, "aux"), "ID")) != NULL) {
		snprintf(b->image_id, sizeof(b->image_id), "%s", v);
	} else if ((v = jx_str(o, "stream")) != NULL) {
		out = json_object_new_object();
		jx_add_str(out, "stream", v);
		emit(b, out);
	}
	json_object_put(o);
}

void
cat_build_feed(struct cat_build *b, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			build_line(b, b->line, b->len);
			b->len = 0;
		} else if (b->len < sizeof(b->line) - 1) {
			b->line[b->len++] = buf[i];
		}
	}
}

void
cat_build_done(struct cat_build *b)
{
	if (b->len)
		build_line(b, b->line, b->len);
	b->len = 0;
	if (!b->error[0] && !b->image_id[0])
		snprintf(b->error, sizeof(b->error), "dockerd reported no image id");
}

static int
build_sink(const char *buf, size_t n, void *arg)
{
	cat_build_feed(arg, buf, n);
	return 0;
}

void
cat_parse_build(const char *buf, size_t n, size_t chunk, char *image_id, size_t idn, char *error,
                size_t errn)
{
	struct cat_build b = {.emit = NULL};

	if (chunk == 0)
		chunk = 1;
	for (size_t off = 0; off < n; off += chunk)
		cat_build_feed(&b, buf + off, n - off < chunk ? n - off : chunk);
	if (b.len)
		build_line(&b, b.line, b.len);
	snprintf(image_id, idn, "%s", b.image_id);
	snprintf(error, errn, "%s", b.error);
}

int
cat_build_context(const char *name, json_object *def, char **data, size_t *len,
                  json_object **labels, char *hash, size_t hn, char *err, size_t errn)
{
	char why[300];

	def_hash(def, hash, hn);
	*labels = json_object_new_object();
	jx_add_str(*labels, LBL_CATALOG, name);
	jx_add_str(*labels, LBL_CAT_HASH, hash);
	*data = NULL;
	if (tb_make(fill_context, def, data, len, why, sizeof(why)) != 0) {
		snprintf(err, errn, "build context: %s", why);
		return -1;
	}
	return 0;
}

/* Runs dockerd's build for entry NAME; the outcome lands in B. */
static void
run_build(struct op *o, const char *name, json_object *def, struct cat_build *b)
{
	char tag[300], hash[32];
	json_object *labels;
	const struct eng_sink s = {.sink = build_sink, .arg = b};
	char *data = NULL;
	size_t len = 0;

	if (cat_build_context(name, def, &data, &len, &labels, hash, sizeof(hash), b->error,
	                      sizeof(b->error)) != 0)
		goto out;
	if (eng_img_build(o, cat_tag(name, def, tag, sizeof(tag)), jx_str(def, "dockerfile"),
	                  labels, data, len, &s) != B_OK) {
		/* Reported as a failed build (its outcome is recorded), not a transport error. */
		snprintf(b->error, sizeof(b->error), "dockerd: %s", o->msg);
		op_clear(o);
	}
	cat_build_done(b);
out:
	free(data);
	json_object_put(labels);
}

int
cat_image_of(const char *tag, char *id, size_t n, char *hash, size_t hn)
{
	struct op o;
	json_object *img = NULL;
	int rc = -1;

	/* Its own operation: "not there" is an answer here, never the caller's error. */
	op_system(&o);
	if (eng_img_inspect(&o, tag, &img) == B_OK && img) {
		json_object *labels = jx_obj(jx_obj(img, "Config"), "Labels");
		snprintf(id, n, "%s", jx_str(img, "Id") ? jx_str(img, "Id") : "");
		snprintf(hash, hn, "%s",
		         jx_str(labels, LBL_CAT_HASH) ? jx_str(labels, LBL_CAT_HASH) : "");
		rc = 0;
	}
	json_object_put(img);
	op_done(&o);
	return rc;
}

void
cat_build_record(const char *name, const char *hash, const struct cat_build *b)
{
	json_object *rec = json_object_new_object(), *prev = NULL;

	st_get(ST_BUILDS, name, &prev);
	/* How many builds ran: lets operators (and tests) see that queued asks shared one. */
	jx_add_int(rec, "builds", jx_int(prev, "builds", 0) + 1);
	jx_add_str(rec, "name", name);
	jx_add_str(rec, "status", b->error[0] ? "failed" : "built");
	if (b->error[0])
		jx_add_str(rec, "error", b->error);
	else
		jx_add_str(rec, "image_id", b->image_id);
	jx_add_str(rec, "hash", hash);
	jx_add_int(rec, "finished_ms", b_wall_ms());
	st_put(ST_BUILDS, name, rec);
	json_object_put(rec);
	json_object_put(prev);
}

int
cat_build_shared(const char *name, long long asked, struct cat_build *b)
{
	json_object *rec = NULL;
	int shared = 0;

	if (st_get(ST_BUILDS, name, &rec) == B_OK && jx_int(rec, "finished_ms", 0) >= asked) {
		snprintf(b->error, sizeof(b->error), "%s",
		         jx_str(rec, "error") ? jx_str(rec, "error") : "");
		snprintf(b->image_id, sizeof(b->image_id), "%s",
		         jx_str(rec, "image_id") ? jx_str(rec, "image_id") : "");
		shared = 1;
	}
	json_object_put(rec);
	return shared;
}

const char *
cat_build_lock(const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "build-%s", name);
	return buf;
}

json_object *
cat_build_final(const struct cat_build *b)
{
	json_object *fin = json_object_new_object();

	jx_add_str(fin, "status", b->error[0] ? "failed" : "built");
	if (b->error[0])
		jx_add_str(fin, "error", b->error);
	else
		jx_add_str(fin, "image_id", b->image_id);
	return fin;
}

/*
 * Builds entry NAME unless a build that finished while we waited for the
 * lock already answered (built or failed): concurrent askers share one
 * build and its result; a failure is retried only by a later request.
 * The relay's build mode (relay/build.c) does the same without blocking.
 */
static enum berr
build_once(struct op *o, const char *name, struct cat_build *b)
{
	json_object *def = cat_entry(name);
	long long asked = b_wall_ms();
	char lock[96], tag[300], id[96], hash[32], cur[32];
	int fd;

	def_hash(def, cur, sizeof(cur));
	fd = st_lock(cat_build_lock(name, lock, sizeof(lock)));
	if (fd < 0)
		return op_fail(o, B_INTERNAL, NULL, "cannot lock the state directory");
	/* Someone built it while we queued: their result is ours. */
	if (cat_build_shared(name, asked, b))
		goto out;
	if (cat_image_of(cat_tag(name, def, tag, sizeof(tag)), id, sizeof(id), hash,
	                 sizeof(hash)) == 0 &&
	    strcmp(hash, cur) == 0) {
		snprintf(b->image_id, sizeof(b->image_id), "%s", id);
		goto out;
	}
	log_info("catalog_build name=%s", name);
	run_build(o, name, def, b);
	cat_build_record(name, cur, b);
out:
	st_unlock(fd);
	return B_OK;
}

enum berr
cat_ensure(struct op *o, const char *name, char *image_id, size_t n)
{
	struct cat_build b = {.emit = NULL};
	enum berr e = build_once(o, name, &b);

	if (e != B_OK)
		return e;
	if (b.error[0])
		return op_fail(o, B_INVALID, "image", "building catalog image %s failed: %s", name,
		               b.error);
	snprintf(image_id, n, "%s", b.image_id);
	return B_OK;
}

/* Entry defaults for the fields the spec leaves out. */
static void
apply_defaults(json_object *spec, json_object *def)
{
	static const char *const keys[] = {"command", "env",     "labels", "memory",
	                                   "cpus",    "restart", NULL};
	json_object *ports = jx_arr(def, "ports");

	for (const char *const *k = keys; *k; k++)
		if (!jx_get(spec, *k) && jx_get(def, *k))
			jx_add_ref(spec, *k, jx_get(def, *k));
	if (!jx_get(spec, "ports") && ports) {
		json_object *out = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(ports); i++) {
			json_object *p = json_object_array_get_idx(ports, i), *o;
			if (json_object_is_type(p, json_type_object)) {
				json_object_array_add(out, json_object_get(p));
				continue;
			}
			o = json_object_new_object();
			jx_add_ref(o, "container", p);
			json_object_array_add(out, o);
		}
		json_object_object_add(spec, "ports", out);
	}
}

const char *
cat_apply_defaults(json_object *spec)
{
	const char *name = cat_name_for_tag(jx_str(spec, "image"));

	if (name)
		apply_defaults(spec, cat_entry(name));
	return name;
}

/* ---- HTTP ------------------------------------------------------------------- */

static json_object *
entry_view(const char *name, json_object *def, json_object *images)
{
	json_object *v = json_object_new_object(), *img, *rec = NULL;
	char tag[300], hash[32];

	cat_tag(name, def, tag, sizeof(tag));
	def_hash(def, hash, sizeof(hash));
	img = jx_obj(images, tag);
	jx_add_str(v, "name", name);
	jx_add_str(v, "image", tag);
	jx_add_str(v, "description", jx_str(def, "description"));
	jx_add_str(v, "source", jx_arr(def, "commands") ? "commands" : "context");
	jx_add_bool(v, "built", img != NULL);
	jx_add_str(v, "image_id", jx_str(img, "Id"));
	jx_add_bool(v, "outdated",
	            img && strcmp(jx_str(jx_obj(img, "Labels"), LBL_CAT_HASH)
	                              ? jx_str(jx_obj(img, "Labels"), LBL_CAT_HASH)
	                              : "",
	                          hash) != 0);
	jx_add_ref(v, "command", jx_get(def, "command"));
	jx_add_ref(v, "env", jx_get(def, "env"));
	jx_add_ref(v, "ports", jx_get(def, "ports"));
	if (st_get(ST_BUILDS, name, &rec) == B_OK) {
		json_object *lb = json_object_new_object();
		jx_add_str(lb, "status", jx_str(rec, "status"));
		jx_add_str(lb, "error", jx_str(rec, "error"));
		jx_add_int(lb, "finished_ms", jx_int(rec, "finished_ms", 0));
		json_object_object_add(v, "last_build", lb);
		json_object_put(rec);
	}
	return v;
}

/* tag -> image summary for the images berth's catalog built. */
static enum berr
catalog_images(struct op *o, json_object **out)
{
	json_object *f = json_object_new_object(), *l = json_object_new_array(), *list;
	enum berr e;

	json_object_array_add(l, json_object_new_string(LBL_CATALOG));
	json_object_object_add(f, "label", l);
	e = eng_img_list(o, f, &list);
	json_object_put(f);
	if (e != B_OK)
		return e;
	*out = json_object_new_object();
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *img = json_object_array_get_idx(list, i),
		            *tags = jx_arr(img, "RepoTags");
		for (size_t k = 0; tags && k < json_object_array_length(tags); k++)
			jx_add_ref(*out, json_object_get_string(json_object_array_get_idx(tags, k)),
			           img);
	}
	json_object_put(list);
	return B_OK;
}

static enum berr
h_catalog(struct req *r)
{
	json_object *images, *list, *o;
	enum berr e = catalog_images(&r->op, &images);

	if (e != B_OK)
		return e;
	list = json_object_new_array();
	json_object_object_foreach(g_cfg->catalog, name, def)
	    json_object_array_add(list, entry_view(name, def, images));
	json_object_put(images);
	o = json_object_new_object();
	json_object_object_add(o, "entries", list);
	rq_json(r, 200, o);
	return B_OK;
}

/*
 * The worker checks the entry and makes the build context (in a child,
 * tarball.c), leaves it in the spool and hands the build to the relay
 * (relay/build.c), which waits for the build lock, streams the progress,
 * records and audits the outcome: a build, or the wait for another's, costs
 * no worker.  A context that could not be made still goes to the relay, to
 * be answered and recorded as a failed build like any other.
 */
static enum berr
h_build(struct req *r)
{
	const char *name = r->args[0];
	json_object *def = cat_entry(name), *labels = NULL, *tk = NULL;
	long long asked = b_wall_ms();
	char err[300], tag[300], hash[32], file[64] = "", *data = NULL;
	size_t len = 0;
	enum berr e;

	if (!name_valid(name) || def == NULL)
		return op_fail(&r->op, B_NOT_FOUND, NULL, "no catalog entry named %.64s", name);
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "%s", name);
	tk = json_object_new_object();
	jx_add_str(tk, "mode", "build");
	jx_add_str(tk, "name", name);
	jx_add_int(tk, "asked", asked);
	jx_add_str(tk, "role", role_name(r->op.role));
	if (cat_build_context(name, def, &data, &len, &labels, hash, sizeof(hash), err,
	                      sizeof(err)) != 0) {
		jx_add_str(tk, "context_error", err);
	} else if (st_spool_put(data, len, file, sizeof(file)) != 0) {
		e = op_fail(&r->op, B_INTERNAL, NULL,
		            "cannot keep the build context in the state directory: %s",
		            strerror(errno));
		goto out;
	}
	jx_add_str(tk, "hash", hash);
	e = eng_img_build_ticket(&r->op, cat_tag(name, def, tag, sizeof(tag)),
	                         jx_str(def, "dockerfile"), labels, file[0] ? file : NULL, tk);
	if (e != B_OK)
		goto out;
	e = tk_hand_off(r, tk); /* takes TK */
	tk = NULL;
	if (e == B_OK)
		file[0] = '\0'; /* the relay's now */
out:
	if (file[0])
		st_spool_del(file);
	json_object_put(tk);
	json_object_put(labels);
	free(data);
	return e;
}

static int
image_visible(struct req *r, json_object *img)
{
	json_object *tags = jx_arr(img, "RepoTags");

	if (r->op.role == ROLE_ADMIN || jx_str(jx_obj(img, "Labels"), LBL_CATALOG))
		return 1;
	for (size_t k = 0; tags && k < json_object_array_length(tags); k++) {
		const char *t = json_object_get_string(json_object_array_get_idx(tags, k));
		if (pol_image_allowed(r->op.role, t))
			return 1;
	}
	return 0;
}

static enum berr
h_images(struct req *r)
{
	json_object *all, *list, *o, *users = NULL;
	enum berr e = eng_img_list(&r->op, NULL, &all);

	if (e != B_OK)
		return e;
	/* Admins see what uses each image (housekeeping: POST /api/v1/images/prune). */
	if (r->op.role == ROLE_ADMIN)
		users = reg_image_users(&r->op);
	list = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *img = json_object_array_get_idx(all, i), *v;
		if (!image_visible(r, img))
			continue;
		v = json_object_new_object();
		jx_add_str(v, "id", jx_str(img, "Id"));
		jx_add_ref(v, "tags", jx_get(img, "RepoTags"));
		jx_add_int(v, "created", jx_int(img, "Created", 0));
		jx_add_int(v, "size", jx_int(img, "Size", 0));
		jx_add_str(v, "catalog", jx_str(jx_obj(img, "Labels"), LBL_CATALOG));
		jx_add_ref(v, "repo_digests", jx_get(img, "RepoDigests"));
		if (users)
			json_object_object_add(
			    v, "used_by",
			    jx_get(users, jx_str(img, "Id"))
			        ? json_object_get(jx_get(users, jx_str(img, "Id")))
			        : json_object_new_array());
		json_object_array_add(list, v);
	}
	json_object_put(users);
	json_object_put(all);
	o = json_object_new_object();
	json_object_object_add(o, "images", list);
	rq_json(r, 200, o);
	return B_OK;
}

static const struct rt_route cat_routes[] = {
    {"GET", "/api/v1/catalog", h_catalog, ROLE_VIEWER, 0, NULL,
     "The named-image catalog: entries, built or not, image id, outdated.", NULL},
    {"POST", "/api/v1/catalog/{name}/build", h_build, ROLE_OPERATOR, RT_MUT | RT_STREAM, NULL,
     "Build an entry now; progress streamed as NDJSON (by the stream relay), ending with the "
     "image id or the error.",
     NULL},
    {"GET", "/api/v1/images", h_images, ROLE_VIEWER, 0, NULL,
     "Local images (non-admins: catalog and allow-listed ones).", NULL},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

static const struct rt_param cat_args[] = {
    {.name = "name", .type = P_STR, .desc = "catalog entry", .valid = name_valid, .rule = "a name"},
    {0}};

static const char *const cat_kinds[] = {ST_BUILDS, NULL};

const struct bmod mod_catalog = {
    .name = "catalog",
    .routes = cat_routes,
    .args = cat_args,
    .state_kinds = cat_kinds,
    .cfg_section = "catalog",
    .cfg_check = cat_check_entry,
};

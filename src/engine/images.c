/*
 * engine/images.c - images in the Engine API: list, inspect, the classic
 * builder and pulls, each a row of data and a typed function.
 */
#include "engine/call.h"
#include "engine/engine.h"
#include "engine/transport.h"
#include "lib/json.h"

static const struct eng_call IMG_LIST = {"GET", "/images/json", "image list", NULL, NULL};
static const struct eng_status img_inspect_st[] = {
    {.status = 404, .err = B_NOT_FOUND, .why = R_NO_IMAGE, .msg = "no such image: %.200s"}, {0}};
/* %r: an image reference keeps its '/', ':' and '@'. */
static const struct eng_call IMG_INSPECT = {"GET", "/images/%r/json", "image", NULL,
                                            img_inspect_st};
static const struct eng_call IMG_BUILD = {"POST", "/build", "build", "application/x-tar", NULL};
static const struct eng_call IMG_PULL = {"POST", "/images/create", "pull", NULL, NULL};

enum berr
eng_img_list(struct op *o, json_object *filters, json_object **out)
{
	struct eng_query q = {0};

	if (filters)
		eq_json(&q, "filters", filters);
	return eng_get_array(o, &IMG_LIST, &q, NULL, out);
}

enum berr
eng_img_inspect(struct op *o, const char *ref, json_object **out)
{
	struct eng_req rq = {.arg = {ref}};

	return eng_run(o, &IMG_INSPECT, &rq, out, NULL);
}

/* The classic builder's query: tag, labels, Dockerfile, intermediate containers removed. */
static void
build_query(struct eng_query *q, const char *tag, const char *dockerfile, json_object *labels)
{
	eq_str(q, "t", tag);
	eq_int(q, "rm", 1);
	eq_int(q, "forcerm", 1);
	if (labels)
		eq_json(q, "labels", labels);
	eq_str(q, "dockerfile", dockerfile ? dockerfile : "Dockerfile");
}

enum berr
eng_img_build(struct op *o, const char *tag, const char *dockerfile, json_object *labels,
              const void *tar, size_t len, const struct eng_sink *s)
{
	struct eng_query q = {0};
	struct eng_req rq = {.q = &q,
	                     .raw = tar,
	                     .rawlen = len,
	                     .sink = s->sink,
	                     .alive = s->alive,
	                     .arg_sink = s->arg};

	build_query(&q, tag, dockerfile, labels);
	return eng_run(o, &IMG_BUILD, &rq, NULL, NULL);
}

/* A build's request as a ticket's, its body the spool file TAR_FILE (may be NULL). */
static enum berr
build_ticket(struct op *o, const struct eng_query *q, const char *tar_file, json_object *tk)
{
	struct eng_req rq = {.q = q};
	enum berr e = eng_ticket(o, &IMG_BUILD, &rq, tk);

	if (e == B_OK)
		jx_add_str(tk, "ctype", IMG_BUILD.ctype);
	if (e == B_OK && tar_file)
		jx_add_str(tk, "body_file", tar_file);
	return e;
}

enum berr
eng_img_build_ticket(struct op *o, const char *tag, const char *dockerfile, json_object *labels,
                     const char *tar_file, json_object *tk)
{
	struct eng_query q = {0};

	build_query(&q, tag, dockerfile, labels);
	return build_ticket(o, &q, tar_file, tk);
}

enum berr
eng_img_pull(struct op *o, const char *image, const char *tag, const char *auth,
             const struct eng_sink *s)
{
	struct eng_query q = {0};
	struct eng_req rq = {.q = &q, .sink = s->sink, .alive = s->alive, .arg_sink = s->arg};

	eq_str(&q, "fromImage", image);
	eq_str(&q, "tag", tag);
	dk_header_once(auth);
	return eng_run(o, &IMG_PULL, &rq, NULL, NULL);
}

/* ---- what the Docker door adds ---- */

static const struct eng_call IMG_TAG = {"POST", "/images/%r/tag", "image", NULL, img_inspect_st};
static const struct eng_status img_remove_st[] = {
    {.status = 404, .err = B_NOT_FOUND, .why = R_NO_IMAGE, .msg = "no such image: %.200s"},
    {.status = 409, .err = B_CONFLICT, .msg = "image %.200s: %s"},
    {0}};
static const struct eng_call IMG_REMOVE = {"DELETE", "/images/%r", "image", NULL, img_remove_st};
static const struct eng_call IMG_HISTORY = {"GET", "/images/%r/history", "image", NULL,
                                            img_inspect_st};

enum berr
eng_img_tag(struct op *o, const char *ref, const char *repo, const char *tag)
{
	struct eng_query q = {0};
	struct eng_req rq = {.arg = {ref}, .q = &q};

	eq_str(&q, "repo", repo);
	eq_str(&q, "tag", tag);
	return eng_run(o, &IMG_TAG, &rq, NULL, NULL);
}

enum berr
eng_img_remove(struct op *o, const char *ref, int force, int noprune, json_object **out)
{
	struct eng_query q = {0};
	struct eng_req rq = {.arg = {ref}, .q = &q};

	eq_int(&q, "force", force ? 1 : 0);
	eq_int(&q, "noprune", noprune ? 1 : 0);
	return eng_run(o, &IMG_REMOVE, &rq, out, NULL);
}

enum berr
eng_img_history(struct op *o, const char *ref, json_object **out)
{
	struct eng_req rq = {.arg = {ref}};
	enum berr e = eng_run(o, &IMG_HISTORY, &rq, out, NULL);

	if (e == B_OK && !json_object_is_type(*out, json_type_array)) {
		json_object_put(*out);
		*out = NULL;
		e = op_fail(o, B_DOCKER, NULL, "dockerd's image history is not a list");
	}
	return e;
}

enum berr
eng_img_pull_ticket(struct op *o, const char *image, const char *tag, const char *auth,
                    json_object *tk)
{
	struct eng_query q = {0};
	struct eng_req rq = {.q = &q};
	enum berr e;

	eq_str(&q, "fromImage", image);
	eq_str(&q, "tag", tag);
	e = eng_ticket(o, &IMG_PULL, &rq, tk);
	/* The relay adds it to dockerd's request; tickets travel only between berth's processes. */
	if (e == B_OK && auth && auth[0])
		jx_add_str(tk, "header", auth);
	return e;
}

enum berr
eng_img_dbuild_ticket(struct op *o, const struct eng_build *b, const char *tar_file,
                      json_object *tk)
{
	struct eng_query q = {0};

	for (size_t i = 0; i < b->ntags; i++)
		eq_str(&q, "t", b->tags[i]);
	eq_str(&q, "dockerfile", b->dockerfile ? b->dockerfile : "Dockerfile");
	if (b->target && *b->target)
		eq_str(&q, "target", b->target);
	eq_str(&q, "networkmode", b->networkmode ? b->networkmode : "default");
	if (b->buildargs)
		eq_json(&q, "buildargs", b->buildargs);
	if (b->labels)
		eq_json(&q, "labels", b->labels);
	if (b->extrahosts && *b->extrahosts)
		eq_str(&q, "extrahosts", b->extrahosts);
	eq_int(&q, "rm", b->rm);
	eq_int(&q, "forcerm", b->forcerm);
	eq_int(&q, "nocache", b->nocache);
	eq_int(&q, "q", b->quiet);
	if (q.overflow)
		return op_fail(o, B_BAD_REQUEST, NULL, "the build's parameters are too long");
	return build_ticket(o, &q, tar_file, tk);
}

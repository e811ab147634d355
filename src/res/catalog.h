/*
 * catalog.h - named images from berth.conf, built by berth on demand.
 */
#ifndef BERTH_CATALOG_H
#define BERTH_CATALOG_H

#include "berth.h"

#include <json-c/json.h>
#include <stddef.h>

struct op;

/* The module. */
struct bmod;
extern const struct bmod mod_catalog;

/* Validates one berth.conf catalog entry (the module's cfg_check). */
int cat_check_entry(const char *name, json_object *def, char *err, size_t errlen);

/* The entry named NAME (borrowed from g_cfg) or NULL. */
json_object *cat_entry(const char *name);
/* The image tag of entry NAME into BUF. */
const char *cat_tag(const char *name, json_object *def, char *buf, size_t n);
/* The entry name whose tag is IMAGE, or NULL. */
const char *cat_name_for_tag(const char *image);

/*
 * Makes sure entry NAME is built from its current definition, building it
 * if not (once, however many requests ask at the same time).  On B_OK the
 * image id is in IMAGE_ID.
 */
enum berr cat_ensure(struct op *o, const char *name, char *image_id, size_t n);

/*
 * For a spec whose image is a catalog tag: fills in the entry's defaults
 * (command, env, ports, labels, limits) the spec does not set and returns
 * the entry name (borrowed), else NULL.  Building is cat_ensure's job, after
 * the policy check.
 */
const char *cat_apply_defaults(json_object *spec);

/* The image TAG names now (id) and its catalog hash label; 0 when the tag exists. */
int cat_image_of(const char *tag, char *id, size_t n, char *hash, size_t hn);

/*
 * Reads dockerd's build output BUF as if it arrived in CHUNK-byte reads and
 * reports the image id or the error it names (the build path and the fuzzer
 * share this parser).
 */
void cat_parse_build(const char *buf, size_t n, size_t chunk, char *image_id, size_t idn,
                     char *error, size_t errn);

/*
 * One build's progress and outcome as dockerd's /build output arrives; the
 * worker's on-demand builds (cat_ensure) and the relay's build mode
 * (relay/build.c) share it.  EMIT, when set, gets each progress line for
 * the client, {"stream"} or {"error"}, a new object it takes.
 */
struct cat_build {
	void (*emit)(json_object *line, void *arg);
	void *arg;
	char line[16384];
	size_t len;
	char image_id[96];
	char error[512];
};
/* Feeds N bytes of dockerd's build output to B. */
void cat_build_feed(struct cat_build *b, const char *buf, size_t n);
/* dockerd's answer ended: its unterminated last line counts; no image id is an error. */
void cat_build_done(struct cat_build *b);
/*
 * Makes entry NAME's build context tar (*DATA, malloc'd, *LEN bytes), the
 * labels the image gets (*LABELS, always set, new) and the definition's
 * hash (HASH, HN bytes; 32 are enough).  0, or -1 with "build context: why"
 * in ERR.
 */
int cat_build_context(const char *name, json_object *def, char **data, size_t *len,
                      json_object **labels, char *hash, size_t hn, char *err, size_t errn);
/* The name of NAME's build lock (store/state.h st_lock) into BUF. */
const char *cat_build_lock(const char *name, char *buf, size_t n);
/*
 * Under NAME's build lock: 1, with its outcome in B, when a build of NAME
 * finished at or after ASKED (wall ms) -- someone built it while this asker
 * waited, and their result is its result; else 0.
 */
int cat_build_shared(const char *name, long long asked, struct cat_build *b);
/* Under the lock: records B's outcome in builds/<name>.json, counting the builds run. */
void cat_build_record(const char *name, const char *hash, const struct cat_build *b);
/* The answer's last line: {"status":"built","image_id"} or {"status":"failed","error"}. */
json_object *cat_build_final(const struct cat_build *b);

/* The names of all entries, comma-separated, into BUF (for error messages). */
const char *cat_names(char *buf, size_t n);

#endif

/*
 * catalog.h - named images from berth.conf, built by berth on demand.
 */
#ifndef BERTH_CATALOG_H
#define BERTH_CATALOG_H

#include "berth.h"

#include <json-c/json.h>

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

/* The names of all entries, comma-separated, into BUF (for error messages). */
const char *cat_names(char *buf, size_t n);

#endif

/*
 * json.h - json-c helpers: typed getters that never crash on a missing or
 * mistyped member, strict parsing with a position on error, small builders.
 * Reference rule: getters return borrowed references (owned by the parent).
 */
#ifndef BERTH_JSON_H
#define BERTH_JSON_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#define JX_MAX_DEPTH 32

/*
 * Parses exactly one JSON value from BUF (LEN bytes, need not be NUL
 * terminated), checking UTF-8 and nesting depth.  Returns a new reference,
 * or NULL with a message naming the byte offset in ERR.
 */
json_object *jx_parse(const char *buf, size_t len, char *err, size_t errlen);

/*
 * Removes, in place, the members named in DROP (NULL-terminated) from every
 * object of BUF (LEN bytes), JSON text that is an array of objects, and
 * returns its new length (a NUL follows when it got shorter).  For answers
 * whose bulk nobody reads: the shape is followed, nothing validated, so
 * what is kept still goes through jx_parse and what is dropped is never
 * looked at.  Text of any other shape, or with an object key written with
 * escapes, is left as it was (LEN comes back).
 */
size_t jx_drop_members(char *buf, size_t len, const char *const *drop);

/* Borrowed member of the given type, or NULL. */
json_object *jx_obj(json_object *o, const char *key);
json_object *jx_arr(json_object *o, const char *key);
const char *jx_str(json_object *o, const char *key);
int64_t jx_int(json_object *o, const char *key, int64_t dflt);
int jx_bool(json_object *o, const char *key, int dflt);
/* Member of any type (borrowed), or NULL when absent or null. */
json_object *jx_get(json_object *o, const char *key);

/* Adds KEY=V to O, tolerating NULL strings (added as JSON null). */
void jx_add_str(json_object *o, const char *key, const char *v);
void jx_add_int(json_object *o, const char *key, int64_t v);
void jx_add_bool(json_object *o, const char *key, int v);
/* Adds a new reference to V (or null). */
void jx_add_ref(json_object *o, const char *key, json_object *v);

/* Serialized compact form; the string belongs to O. */
const char *jx_text(json_object *o);

/* Percent-encodes S for use in a URL query or path segment into a malloc'd string. */
char *jx_urlenc(const char *s);

#endif

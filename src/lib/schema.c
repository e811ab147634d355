/*
 * schema.c - validates JSON bodies against field tables and emits the same
 * tables as JSON Schema.  Handlers run only on bodies that passed here, so
 * they can read members with the json.h getters without re-checking types.
 */
#include "berth.h"
#include "lib/json.h"
#include "lib/schema.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Patterns are compile-time constants; their compiled forms are cached by address. */
#define PATTERN_CACHE 64
static struct {
	const char *src;
	regex_t re;
} cache[PATTERN_CACHE];

static int
pattern_match(const char *pattern, const char *s)
{
	int i;

	for (i = 0; i < PATTERN_CACHE && cache[i].src; i++)
		if (cache[i].src == pattern)
			return regexec(&cache[i].re, s, 0, NULL, 0) == 0;
	if (i == PATTERN_CACHE) {
		regex_t re;
		int ok;
		if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
			return 0;
		ok = regexec(&re, s, 0, NULL, 0) == 0;
		regfree(&re);
		return ok;
	}
	if (regcomp(&cache[i].re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	cache[i].src = pattern;
	return regexec(&cache[i].re, s, 0, NULL, 0) == 0;
}

static unsigned
type_of(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return SC_NULL;
	case json_type_boolean:
		return SC_BOOL;
	case json_type_int:
		return SC_INT | SC_NUMBER;
	case json_type_double:
		return SC_NUMBER;
	case json_type_string:
		return SC_STRING;
	case json_type_object:
		return SC_OBJECT;
	case json_type_array:
		return SC_ARRAY;
	}
	return 0;
}

static void
type_words(unsigned t, char *buf, size_t n)
{
	static const struct {
		unsigned bit;
		const char *word;
	} w[] = {{SC_STRING, "a string"},    {SC_INT, "an integer"},   {SC_NUMBER, "a number"},
	         {SC_BOOL, "true or false"}, {SC_OBJECT, "an object"}, {SC_ARRAY, "a list"},
	         {SC_NULL, "null"}};
	size_t used = 0;

	buf[0] = '\0';
	if ((t & SC_INT) && (t & SC_NUMBER))
		t &= ~SC_INT;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		if (!(t & w[i].bit))
			continue;
		used += (size_t)snprintf(buf + used, used < n ? n - used : 0, "%s%s",
		                         used ? " or " : "", w[i].word);
	}
}

static int bad(struct sc_error *e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(struct sc_error *e, const char *path, const char *fmt, ...)
{
	va_list ap;

	e->code = B_INVALID;
	snprintf(e->field, sizeof(e->field), "%s", path);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int check_value(const struct sc_field *f, json_object *v, const char *path,
                       struct sc_error *e, int depth);

/* Longest member name of a free-form object (environment, labels). */
#define SC_KEY_MAX 128

static int
check_object(const struct sc_field *props, const struct sc_field *values, const char *keys,
             json_object *v, const char *path, struct sc_error *e, int depth)
{
	char sub[128];

	json_object_object_foreach(v, key, val)
	{
		const struct sc_field *f = values;
		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", key);
		if (key[0] == '\0')
			return bad(e, sub, "%s: empty member names are not allowed", sub);
		if (keys && (strlen(key) > SC_KEY_MAX || !pattern_match(keys, key)))
			return bad(e, path,
			           "%s: the name \"%.40s\" must match %s (at most %d characters)",
			           path, key, keys, SC_KEY_MAX);
		if (props) {
			f = NULL;
			for (const struct sc_field *p = props; p->name; p++)
				if (strcmp(p->name, key) == 0)
					f = p;
			if (f == NULL)
				return bad(e, sub, "%s: unknown field", sub);
		}
		if (f && check_value(f, val, sub, e, depth + 1) != 0)
			return -1;
	}
	for (const struct sc_field *p = props; p && p->name; p++) {
		if (!(p->flags & SC_REQUIRED))
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", p->name);
		if (!json_object_object_get_ex(v, p->name, NULL))
			return bad(e, sub, "%s is required", sub);
	}
	return 0;
}

/*
 * One min/max pair serves every type a field accepts.  For a field that takes
 * a number or a string ("memory": 67108864 or "64m") the bounds are the
 * number's; its strings are held by their pattern instead, so a length cap
 * can never turn into a cap on the value.
 */
static int
bounds_length(const struct sc_field *f)
{
	return (f->min || f->max) && !(f->types & (SC_INT | SC_NUMBER));
}

static int
check_string(const struct sc_field *f, json_object *v, const char *path, struct sc_error *e)
{
	const char *s = json_object_get_string(v);
	long long len = json_object_get_string_len(v);

	if ((long long)strlen(s) != len)
		return bad(e, path, "%s must not contain NUL bytes", path);
	if (bounds_length(f) && (len < f->min || len > f->max))
		return bad(e, path, "%s must be %lld to %lld characters long", path, f->min,
		           f->max);
	if (f->enums) {
		for (const char *const *x = f->enums; *x; x++)
			if (strcmp(*x, s) == 0)
				return 0;
		return bad(e, path, "%s must be one of the documented values (got \"%.40s\")", path,
		           s);
	}
	if (f->pattern && !pattern_match(f->pattern, s))
		return bad(e, path, "%s must match %s", path, f->pattern);
	return 0;
}

static int
check_value(const struct sc_field *f, json_object *v, const char *path, struct sc_error *e,
            int depth)
{
	unsigned t = type_of(v);
	char want[96], sub[128];

	if (depth > 16)
		return bad(e, path, "%s is nested too deeply", path);
	if (!(t & f->types)) {
		type_words(f->types, want, sizeof(want));
		return bad(e, path, "%s must be %s", path[0] ? path : "the body", want);
	}
	switch (json_object_get_type(v)) {
	case json_type_string:
		return check_string(f, v, path, e);
	case json_type_int:
		if ((f->min || f->max) &&
		    (json_object_get_int64(v) < f->min || json_object_get_int64(v) > f->max))
			return bad(e, path, "%s must be from %lld to %lld", path, f->min, f->max);
		return 0;
	case json_type_double:
		if ((f->min || f->max) && (json_object_get_double(v) < (double)f->min ||
		                           json_object_get_double(v) > (double)f->max))
			return bad(e, path, "%s must be from %lld to %lld", path, f->min, f->max);
		return 0;
	case json_type_array: {
		long long n = (long long)json_object_array_length(v);
		if ((f->min || f->max) && (n < f->min || n > f->max))
			return bad(e, path, "%s must have %lld to %lld items", path, f->min,
			           f->max);
		for (long long i = 0; f->items && i < n; i++) {
			snprintf(sub, sizeof(sub), "%s[%lld]", path, i);
			if (check_value(f->items, json_object_array_get_idx(v, (size_t)i), sub, e,
			                depth + 1) != 0)
				return -1;
		}
		return 0;
	}
	case json_type_object:
		if ((f->min || f->max) && !f->props &&
		    (json_object_object_length(v) < f->min ||
		     json_object_object_length(v) > f->max))
			return bad(e, path, "%s must have %lld to %lld members", path, f->min,
			           f->max);
		return check_object(f->props, f->values, f->keys, v, path, e, depth);
	default:
		return 0;
	}
}

int
sc_validate(const struct sc_schema *s, json_object *body, struct sc_error *e)
{
	memset(e, 0, sizeof(*e));
	if (body == NULL) {
		e->code = B_BAD_REQUEST;
		snprintf(e->msg, sizeof(e->msg), "a JSON object body is required");
		return -1;
	}
	if (!json_object_is_type(body, json_type_object)) {
		e->code = B_BAD_REQUEST;
		snprintf(e->msg, sizeof(e->msg), "the body must be a JSON object");
		return -1;
	}
	return check_object(s->fields, NULL, NULL, body, "", e, 0);
}

static json_object *field_schema(const struct sc_field *f);

static json_object *
object_schema(const struct sc_field *props, const struct sc_field *values, const char *keys)
{
	json_object *o = json_object_new_object(), *p, *req;

	if (props) {
		p = json_object_new_object();
		req = json_object_new_array();
		for (const struct sc_field *x = props; x->name; x++) {
			json_object_object_add(p, x->name, field_schema(x));
			if (x->flags & SC_REQUIRED)
				json_object_array_add(req, json_object_new_string(x->name));
		}
		json_object_object_add(o, "properties", p);
		if (json_object_array_length(req))
			json_object_object_add(o, "required", req);
		else
			json_object_put(req);
		json_object_object_add(o, "additionalProperties", json_object_new_boolean(0));
	} else if (values) {
		json_object_object_add(o, "additionalProperties", field_schema(values));
	}
	if (keys && !props) {
		json_object *pn = json_object_new_object();
		jx_add_str(pn, "pattern", keys);
		jx_add_int(pn, "maxLength", SC_KEY_MAX);
		json_object_object_add(o, "propertyNames", pn);
	}
	return o;
}

static json_object *
field_schema(const struct sc_field *f)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {{SC_STRING, "string"}, {SC_INT, "integer"},   {SC_NUMBER, "number"},
	             {SC_BOOL, "boolean"},  {SC_OBJECT, "object"}, {SC_ARRAY, "array"},
	             {SC_NULL, "null"}};
	json_object *o, *types = json_object_new_array();
	unsigned t = f->types;

	if ((t & SC_INT) && (t & SC_NUMBER))
		t &= ~SC_INT;
	o = (t & SC_OBJECT) ? object_schema(f->props, f->values, f->keys)
	                    : json_object_new_object();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (t & names[i].bit)
			json_object_array_add(types, json_object_new_string(names[i].name));
	if (json_object_array_length(types) == 1) {
		json_object_object_add(o, "type",
		                       json_object_get(json_object_array_get_idx(types, 0)));
		json_object_put(types);
	} else {
		json_object_object_add(o, "type", types);
	}
	if (f->desc)
		jx_add_str(o, "description", f->desc);
	if (f->min || f->max) {
		if ((t & SC_STRING) && bounds_length(f)) {
			jx_add_int(o, "minLength", f->min);
			jx_add_int(o, "maxLength", f->max);
		}
		if (t & (SC_INT | SC_NUMBER)) {
			jx_add_int(o, "minimum", f->min);
			jx_add_int(o, "maximum", f->max);
		}
		if (t & SC_ARRAY) {
			jx_add_int(o, "minItems", f->min);
			jx_add_int(o, "maxItems", f->max);
		}
		if ((t & SC_OBJECT) && !f->props) {
			jx_add_int(o, "minProperties", f->min);
			jx_add_int(o, "maxProperties", f->max);
		}
	}
	if (f->pattern)
		jx_add_str(o, "pattern", f->pattern);
	if (f->enums) {
		json_object *e = json_object_new_array();
		for (const char *const *x = f->enums; *x; x++)
			json_object_array_add(e, json_object_new_string(*x));
		json_object_object_add(o, "enum", e);
	}
	if ((t & SC_ARRAY) && f->items)
		json_object_object_add(o, "items", field_schema(f->items));
	if (f->example) {
		json_object *ex = json_tokener_parse(f->example), *arr = json_object_new_array();
		json_object_array_add(arr, ex);
		json_object_object_add(o, "examples", arr);
	}
	return o;
}

json_object *
sc_json_schema(const struct sc_schema *s)
{
	json_object *o = object_schema(s->fields, NULL, NULL);
	char id[96];

	snprintf(id, sizeof(id), "/api/v1/schemas/%s", s->kind);
	jx_add_str(o, "$schema", "https://json-schema.org/draft/2020-12/schema");
	jx_add_str(o, "$id", id);
	jx_add_str(o, "title", s->title);
	jx_add_str(o, "type", "object");
	if (s->example) {
		json_object *arr = json_object_new_array();
		json_object_array_add(arr, json_tokener_parse(s->example));
		json_object_object_add(o, "examples", arr);
	}
	return o;
}

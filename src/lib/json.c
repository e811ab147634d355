/*
 * json.c - strict JSON parsing and null-safe json-c accessors.
 */
#include "berth.h"
#include "lib/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Offset of the first byte that is not strict UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or LEN when all of it is.
 * json-c's own check accepts overlong forms such as C0 AF for '/'.
 */
static size_t
utf8_bad(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i], need, min, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, min = 0x10000, cp = c & 0x07;
		else
			return i;
		if (len - i <= need)
			return i;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += need + 1;
	}
	return len;
}

json_object *
jx_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	json_tokener *tok;
	json_object *o = NULL;
	enum json_tokener_error je;
	size_t end;
	int padded = 0;

	if (len > INT32_MAX) {
		snprintf(err, errlen, "body too large");
		return NULL;
	}
	end = utf8_bad((const unsigned char *)buf, len);
	if (end < len) {
		snprintf(err, errlen, "invalid JSON at byte %zu: not UTF-8", end);
		return NULL;
	}
	tok = json_tokener_new_ex(JX_MAX_DEPTH);
	if (tok == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	je = json_tokener_get_error(tok);
	if (je == json_tokener_continue) {
		/* A lone number needs an end marker to complete; ask for it once. */
		o = json_tokener_parse_ex(tok, " ", 1);
		je = json_tokener_get_error(tok);
		padded = 1;
		if (je == json_tokener_continue) {
			snprintf(err, errlen, "invalid JSON at byte %zu: unexpected end of input",
			         len);
			goto fail;
		}
	}
	if (je != json_tokener_success) {
		snprintf(err, errlen, "invalid JSON at byte %zu: %s",
		         json_tokener_get_parse_end(tok), json_tokener_error_desc(je));
		goto fail;
	}
	end = padded ? len : json_tokener_get_parse_end(tok);
	while (end < len && strchr(" \t\r\n", buf[end]))
		end++;
	if (end < len) {
		snprintf(err, errlen, "invalid JSON at byte %zu: trailing data after the value",
		         end);
		goto fail;
	}
	if (o == NULL) {
		/* json-c gives a JSON null as NULL: callers would take it for an error without a
		 * message. */
		snprintf(err, errlen, "invalid JSON at byte 0: null is not a usable value here");
		goto fail;
	}
	json_tokener_free(tok);
	return o;
fail:
	json_object_put(o);
	json_tokener_free(tok);
	return NULL;
}

json_object *
jx_get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

json_object *
jx_obj(json_object *o, const char *key)
{
	json_object *v = jx_get(o, key);

	return json_object_is_type(v, json_type_object) ? v : NULL;
}

json_object *
jx_arr(json_object *o, const char *key)
{
	json_object *v = jx_get(o, key);

	return json_object_is_type(v, json_type_array) ? v : NULL;
}

const char *
jx_str(json_object *o, const char *key)
{
	json_object *v = jx_get(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int64_t
jx_int(json_object *o, const char *key, int64_t dflt)
{
	json_object *v = jx_get(o, key);

	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);
		/* Converting a double outside int64's range is undefined: clamp it. */
		if (d != d)
			return dflt;
		if (d >= 9223372036854775807.0)
			return INT64_MAX;
		if (d <= -9223372036854775808.0)
			return INT64_MIN;
		return (int64_t)d;
	}
	return dflt;
}

int
jx_bool(json_object *o, const char *key, int dflt)
{
	json_object *v = jx_get(o, key);

	return json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : dflt;
}

void
jx_add_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

void
jx_add_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

void
jx_add_bool(json_object *o, const char *key, int v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

void
jx_add_ref(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v ? json_object_get(v) : NULL);
}

const char *
jx_text(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                             JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* ---- leaving members out of an array of objects, before parsing ---- */

static const char *
ws_end(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* Past the string opening at P, or NULL when it does not end. */
static const char *
string_end(const char *p, const char *end)
{
	for (p++; p < end;) {
		const char *q = memchr(p, '"', (size_t)(end - p)), *b;
		if (q == NULL)
			return NULL;
		/* A quote after an odd run of backslashes is part of the string. */
		for (b = q; b > p && b[-1] == '\\'; b--)
			;
		if ((q - b) % 2 == 0)
			return q + 1;
		p = q + 1;
	}
	return NULL;
}

/*
 * Past the value starting at P, or NULL.  Only strings and the depth of
 * brackets are followed (no recursion, whatever the nesting); a scalar runs
 * to the next delimiter.
 */
static const char *
value_end(const char *p, const char *end)
{
	long depth = 0;

	if (p < end && *p == '"')
		return string_end(p, end);
	if (p < end && *p != '{' && *p != '[') {
		const char *s = p;
		while (p < end && !strchr(",:{}[]\" \t\r\n", *p))
			p++;
		return p > s ? p : NULL;
	}
	while (p < end) {
		if (*p == '"') {
			p = string_end(p, end);
			if (p == NULL)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

/* Is the key between quotes K..KE (quotes included) one of DROP? */
static int
dropped(const char *k, const char *ke, const char *const *drop)
{
	size_t n = (size_t)(ke - k) - 2;

	for (; *drop; drop++)
		if (strlen(*drop) == n && memcmp(*drop, k + 1, n) == 0)
			return 1;
	return 0;
}

/* N bytes from S to *W, which never passes S (NULL *W: the shape is only followed). */
static void
put(char **w, const char *s, size_t n)
{
	if (*w) {
		memmove(*w, s, n);
		*w += n;
	}
}

/*
 * One object at P put to *W without the members in DROP; past it, or NULL.
 * Kept members go as they were written, one comma between them.
 */
static const char *
object_lean(const char *p, const char *end, const char *const *drop, char **w)
{
	int kept = 0;

	if (p >= end || *p != '{')
		return NULL;
	put(w, "{", 1);
	p = ws_end(p + 1, end);
	if (p < end && *p == '}') {
		put(w, "}", 1);
		return p + 1;
	}
	for (;;) {
		const char *k = p, *ke, *ve;
		if (p >= end || *p != '"' || (ke = string_end(p, end)) == NULL)
			return NULL;
		/* A key written with escapes could spell a dropped one: leave the text whole. */
		if (memchr(k, '\\', (size_t)(ke - k)))
			return NULL;
		p = ws_end(ke, end);
		if (p >= end || *p != ':')
			return NULL;
		ve = value_end(ws_end(p + 1, end), end);
		if (ve == NULL)
			return NULL;
		if (!dropped(k, ke, drop)) {
			if (kept++)
				put(w, ",", 1);
			put(w, k, (size_t)(ve - k));
		}
		p = ws_end(ve, end);
		if (p < end && *p == '}') {
			put(w, "}", 1);
			return p + 1;
		}
		if (p >= end || *p != ',')
			return NULL;
		p = ws_end(p + 1, end);
	}
}

/* The array at P put to *W as object_lean puts each object; past it, or NULL. */
static const char *
array_lean(const char *p, const char *end, const char *const *drop, char **w)
{
	p = ws_end(p, end);
	if (p >= end || *p != '[')
		return NULL;
	put(w, "[", 1);
	p = ws_end(p + 1, end);
	if (p < end && *p == ']')
		goto close;
	for (;;) {
		p = object_lean(p, end, drop, w);
		if (p == NULL)
			return NULL;
		p = ws_end(p, end);
		if (p < end && *p == ']')
			break;
		if (p >= end || *p != ',')
			return NULL;
		put(w, ",", 1);
		p = ws_end(p + 1, end);
	}
close:
	put(w, "]", 1);
	return p + 1;
}

size_t
jx_drop_members(char *buf, size_t len, const char *const *drop)
{
	char *w = NULL;
	const char *p;

	/* Once to follow the shape, so text of another one stays untouched; then to write. */
	if (array_lean(buf, buf + len, drop, &w) == NULL)
		return len;
	w = buf;
	p = array_lean(buf, buf + len, drop, &w);
	/* Whatever follows the array is the parser's to judge. */
	put(&w, p, (size_t)(buf + len - p));
	if (w < buf + len)
		*w = '\0';
	return (size_t)(w - buf);
}

char *
jx_urlenc(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = malloc(n * 3 + 1), *p = out;

	if (out == NULL)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return out;
}

/*
 * yaml.c - one YAML document into json-c (yaml.h), on libyaml's event
 * parser.  The event parser rather than libyaml's document loader: the
 * loader builds the whole node graph first, and an alias is only a pointer
 * there, so its cost would be invisible until something walked it.  Here
 * every node is counted as it is built and every alias as the nodes it
 * stands for, before it is copied.
 */
#include "berth.h"
#include "lib/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

const struct yx_limits yx_compose_limits = {
    .max_bytes = 256 * 1024, .max_depth = 32, .max_nodes = 20000};

/* Key paths longer than this get no line (the document is still read). */
#define YX_PATH_MAX 256

struct yx {
	yaml_parser_t p;
	const struct yx_limits *lim;
	struct yx_error *e;
	size_t nodes;
	json_object *anchors; /* name -> [value, nodes, height] */
	json_object *lines;   /* key path -> line, or NULL */
	char path[YX_PATH_MAX];
	int failed;
};

static int __attribute__((format(printf, 3, 4)))
fail_at(struct yx *y, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	if (y->failed)
		return -1;
	y->failed = 1;
	y->e->line = m ? (int)m->line + 1 : 0;
	y->e->column = m ? (int)m->column + 1 : 0;
	va_start(ap, fmt);
	vsnprintf(y->e->msg, sizeof(y->e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int
next(struct yx *y, yaml_event_t *ev)
{
	if (yaml_parser_parse(&y->p, ev))
		return 0;
	return fail_at(y, &y->p.problem_mark, "%s%s%s", y->p.problem ? y->p.problem : "bad YAML",
	               y->p.context ? " " : "", y->p.context ? y->p.context : "");
}

static int
count(struct yx *y, const yaml_mark_t *m, size_t n)
{
	if (n > y->lim->max_nodes || y->nodes > y->lim->max_nodes - n)
		return fail_at(y, m,
		               "the document has more than %zu nodes (aliases count as what they "
		               "expand to)",
		               y->lim->max_nodes);
	y->nodes += n;
	return 0;
}

/* ---- scalars ---------------------------------------------------------- */

static int
is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};

/* An integer as the core schema writes one (decimal, 0x, 0o); 1 when S is one. */
static int
as_int(const char *s, int64_t *v)
{
	int base = 10;
	const char *d = s;
	char *end;
	long long n;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o'))
		base = s[1] == 'x' ? 16 : 8, d = s + 2;
	else if (*s == '-' || *s == '+')
		d = s + 1;
	if (*d == '\0' || strchr("0123456789abcdefABCDEF", *d) == NULL)
		return 0;
	errno = 0;
	n = strtoll(base == 10 ? s : d, &end, base);
	if (*end != '\0' || errno == ERANGE)
		return 0;
	*v = n;
	return 1;
}

/* A float as the core schema writes one: digits with a dot or an exponent. */
static int
as_float(const char *s, double *v)
{
	const char *c = s;
	char *end;
	int digits = 0;

	if (*c == '-' || *c == '+')
		c++;
	for (; *c; c++) {
		if (*c >= '0' && *c <= '9')
			digits++;
		else if (!strchr(".eE+-", *c))
			return 0;
	}
	if (!digits)
		return 0;
	errno = 0;
	*v = strtod(s, &end);
	return *end == '\0' && errno != ERANGE && isfinite(*v);
}

/* What a plain scalar S (or one tagged TAG) is; NULL (with an error) when it cannot be. */
static json_object *
resolve(struct yx *y, const yaml_event_t *ev, const char *s, int plain, const char *tag, int *ok)
{
	int64_t i;
	double d;

	*ok = 1;
	if (tag && strcmp(tag, YAML_STR_TAG) == 0)
		return json_object_new_string(s);
	if (tag && strcmp(tag, YAML_NULL_TAG) && strcmp(tag, YAML_BOOL_TAG) &&
	    strcmp(tag, YAML_INT_TAG) && strcmp(tag, YAML_FLOAT_TAG) && strcmp(tag, "!")) {
		*ok = 0;
		fail_at(y, &ev->start_mark, "tag %.60s is not supported", tag);
		return NULL;
	}
	if (!plain && (tag == NULL || strcmp(tag, "!") == 0))
		return json_object_new_string(s);
	if (is_one_of(s, null_words) && (!tag || !strcmp(tag, YAML_NULL_TAG)))
		return NULL;
	if (is_one_of(s, true_words) && (!tag || !strcmp(tag, YAML_BOOL_TAG)))
		return json_object_new_boolean(1);
	if (is_one_of(s, false_words) && (!tag || !strcmp(tag, YAML_BOOL_TAG)))
		return json_object_new_boolean(0);
	if ((!tag || !strcmp(tag, YAML_INT_TAG)) && as_int(s, &i))
		return json_object_new_int64(i);
	if ((!tag || !strcmp(tag, YAML_FLOAT_TAG)) && as_float(s, &d))
		return json_object_new_double(d);
	if (tag && strcmp(tag, "!")) {
		*ok = 0;
		fail_at(y, &ev->start_mark, "\"%.60s\" is not a valid %s", s, tag + 18);
		return NULL;
	}
	return json_object_new_string(s);
}

static int
scalar(struct yx *y, const yaml_event_t *ev, json_object **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	int ok;

	if (strlen(s) != ev->data.scalar.length)
		return fail_at(y, &ev->start_mark, "a string holds a NUL character");
	*out = resolve(y, ev, s, ev->data.scalar.plain_implicit, (const char *)ev->data.scalar.tag,
	               &ok);
	return ok ? count(y, &ev->start_mark, 1) : -1;
}

/* ---- anchors and aliases ---------------------------------------------- */

static void
remember(struct yx *y, const unsigned char *anchor, json_object *v, size_t nodes, int height)
{
	json_object *a;

	if (anchor == NULL)
		return;
	a = json_object_new_array();
	json_object_array_add(a, json_object_get(v));
	json_object_array_add(a, json_object_new_int64((int64_t)nodes));
	json_object_array_add(a, json_object_new_int(height));
	/* A later anchor of the same name replaces the earlier one, as YAML says. */
	json_object_object_add(y->anchors, (const char *)anchor, a);
}

static int
alias(struct yx *y, const yaml_event_t *ev, int depth, json_object **out, int *height)
{
	json_object *a = json_object_object_get(y->anchors, (const char *)ev->data.alias.anchor);
	json_object *v;

	if (a == NULL)
		return fail_at(y, &ev->start_mark, "alias *%.60s names no anchor before it",
		               (const char *)ev->data.alias.anchor);
	*height = json_object_get_int(json_object_array_get_idx(a, 2));
	if (depth + *height > y->lim->max_depth)
		return fail_at(y, &ev->start_mark, "the document nests deeper than %d levels",
		               y->lim->max_depth);
	if (count(y, &ev->start_mark,
	          (size_t)json_object_get_int64(json_object_array_get_idx(a, 1))) != 0)
		return -1;
	v = json_object_array_get_idx(a, 0);
	*out = NULL;
	if (v && json_object_deep_copy(v, out, NULL) != 0)
		return fail_at(y, &ev->start_mark, "out of memory");
	return 0;
}

/* ---- collections ------------------------------------------------------ */

static int node(struct yx *y, yaml_event_t *ev, int depth, json_object **out, int *height);

static void
note_line(struct yx *y, const yaml_mark_t *m)
{
	if (y->lines && y->path[0] && strlen(y->path) < YX_PATH_MAX - 1)
		json_object_object_add(y->lines, y->path, json_object_new_int((int)m->line + 1));
}

/* Appends ".KEY" or "[I]" to the path; returns the old length to cut back to. */
static size_t
path_push(struct yx *y, const char *key, size_t idx)
{
	size_t n = strlen(y->path);

	if (key)
		snprintf(y->path + n, sizeof(y->path) - n, "%s%s", n ? "." : "", key);
	else
		snprintf(y->path + n, sizeof(y->path) - n, "[%zu]", idx);
	return n;
}

static int
sequence(struct yx *y, yaml_event_t *start, int depth, json_object **out, int *height)
{
	yaml_event_t ev;
	json_object *a = json_object_new_array();
	size_t i = 0;
	int rc = 0;

	*height = 1;
	for (;;) {
		json_object *v = NULL;
		int h = 0;
		size_t cut;
		if ((rc = next(y, &ev)) != 0)
			break;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		cut = path_push(y, NULL, i++);
		note_line(y, &ev.start_mark);
		rc = node(y, &ev, depth + 1, &v, &h);
		y->path[cut] = '\0';
		yaml_event_delete(&ev);
		if (rc != 0)
			break;
		json_object_array_add(a, v);
		if (h + 1 > *height)
			*height = h + 1;
	}
	(void)start;
	if (rc != 0) {
		json_object_put(a);
		return -1;
	}
	*out = a;
	return 0;
}

/* Applies one "<<" value: members of M (an object, or a list of them) the mapping lacks. */
static int
merge(struct yx *y, const yaml_mark_t *m, json_object *into, json_object *add)
{
	if (json_object_is_type(add, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(add); i++)
			if (merge(y, m, into, json_object_array_get_idx(add, i)) != 0)
				return -1;
		return 0;
	}
	if (!json_object_is_type(add, json_type_object))
		return fail_at(y, m, "a << merge key needs a mapping or a list of mappings");
	json_object_object_foreach(add, k, v)
	{
		if (!json_object_object_get_ex(into, k, NULL))
			json_object_object_add(into, k, json_object_get(v));
	}
	return 0;
}

/* The next key of a mapping: a scalar, or the mapping's end (*KEY NULL). */
static int
map_key(struct yx *y, yaml_event_t *ev, char **key)
{
	*key = NULL;
	if (next(y, ev) != 0)
		return -1;
	if (ev->type == YAML_MAPPING_END_EVENT)
		return 0;
	if (ev->type != YAML_SCALAR_EVENT) {
		fail_at(y, &ev->start_mark, "mapping keys must be plain strings");
		yaml_event_delete(ev);
		return -1;
	}
	if (strlen((const char *)ev->data.scalar.value) != ev->data.scalar.length ||
	    count(y, &ev->start_mark, 1) != 0) {
		fail_at(y, &ev->start_mark, "a key holds a NUL character");
		yaml_event_delete(ev);
		return -1;
	}
	*key = strdup((const char *)ev->data.scalar.value);
	return 0;
}

static int
mapping(struct yx *y, yaml_event_t *start, int depth, json_object **out, int *height)
{
	json_object *o = json_object_new_object(), *merges = json_object_new_array();
	yaml_event_t kev, ev;
	int rc = 0;

	*height = 1;
	for (;;) {
		json_object *v = NULL;
		char *key;
		int h = 0, is_merge;
		size_t cut;
		if ((rc = map_key(y, &kev, &key)) != 0)
			break;
		if (key == NULL) {
			yaml_event_delete(&kev);
			break;
		}
		is_merge = strcmp(key, "<<") == 0 && kev.data.scalar.plain_implicit;
		if (!is_merge && json_object_object_get_ex(o, key, NULL))
			rc = fail_at(y, &kev.start_mark, "key %.60s appears twice", key);
		cut = path_push(y, key, 0);
		note_line(y, &kev.start_mark);
		if (rc == 0 && (rc = next(y, &ev)) == 0) {
			rc = node(y, &ev, depth + 1, &v, &h);
			yaml_event_delete(&ev);
		}
		y->path[cut] = '\0';
		if (rc == 0 && is_merge)
			json_object_array_add(merges, v);
		else if (rc == 0)
			json_object_object_add(o, key, v);
		else
			json_object_put(v);
		if (h + 1 > *height)
			*height = h + 1;
		free(key);
		yaml_event_delete(&kev);
		if (rc != 0)
			break;
	}
	/* Explicit keys win over merged ones, wherever the << stood. */
	for (size_t i = 0; rc == 0 && i < json_object_array_length(merges); i++)
		rc = merge(y, &start->start_mark, o, json_object_array_get_idx(merges, i));
	json_object_put(merges);
	if (rc != 0) {
		json_object_put(o);
		return -1;
	}
	*out = o;
	return 0;
}

static int
check_tag(struct yx *y, const yaml_event_t *ev, const unsigned char *tag, const char *own)
{
	if (tag && strcmp((const char *)tag, own) != 0 && strcmp((const char *)tag, "!") != 0)
		return fail_at(y, &ev->start_mark, "tag %.60s is not supported", (const char *)tag);
	return 0;
}

/* The node EV starts, at DEPTH; *HEIGHT gets its own nesting. */
static int
node(struct yx *y, yaml_event_t *ev, int depth, json_object **out, int *height)
{
	size_t before = y->nodes;
	const unsigned char *anchor = NULL;
	int rc;

	*out = NULL;
	*height = 0;
	if (depth > y->lim->max_depth)
		return fail_at(y, &ev->start_mark, "the document nests deeper than %d levels",
		               y->lim->max_depth);
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return alias(y, ev, depth, out, height);
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		rc = scalar(y, ev, out);
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		rc = check_tag(y, ev, ev->data.sequence_start.tag, YAML_SEQ_TAG);
		if (rc == 0 && (rc = count(y, &ev->start_mark, 1)) == 0)
			rc = sequence(y, ev, depth, out, height);
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		rc = check_tag(y, ev, ev->data.mapping_start.tag, YAML_MAP_TAG);
		if (rc == 0 && (rc = count(y, &ev->start_mark, 1)) == 0)
			rc = mapping(y, ev, depth, out, height);
		break;
	default:
		return fail_at(y, &ev->start_mark, "unexpected YAML event");
	}
	if (rc == 0 && anchor)
		remember(y, anchor, *out, y->nodes - before, *height);
	return rc;
}

/* Stream start, document start, the root node, document end, stream end: nothing else. */
static int
document(struct yx *y, json_object **out)
{
	yaml_event_t ev;
	int rc, h;

	for (int i = 0; i < 2; i++) {
		if (next(y, &ev) != 0)
			return -1;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			return fail_at(y, NULL, "the document is empty");
		}
		yaml_event_delete(&ev);
	}
	if (next(y, &ev) != 0)
		return -1;
	rc = node(y, &ev, 1, out, &h);
	yaml_event_delete(&ev);
	if (rc != 0)
		return -1;
	if (next(y, &ev) != 0) /* document end */
		return -1;
	yaml_event_delete(&ev);
	if (next(y, &ev) != 0)
		return -1;
	rc = ev.type == YAML_STREAM_END_EVENT
	         ? 0
	         : fail_at(y, &ev.start_mark, "only one YAML document is accepted (found a ---)");
	yaml_event_delete(&ev);
	return rc;
}

int
yx_parse(const char *buf, size_t len, const struct yx_limits *lim, json_object **out,
         json_object **lines, struct yx_error *e)
{
	struct yx y = {.lim = lim, .e = e};
	int rc;

	*out = NULL;
	if (lines)
		*lines = NULL;
	memset(e, 0, sizeof(*e));
	if (len > lim->max_bytes) {
		snprintf(e->msg, sizeof(e->msg), "the document is larger than %zu bytes",
		         lim->max_bytes);
		return -1;
	}
	if (memchr(buf, '\0', len)) {
		snprintf(e->msg, sizeof(e->msg), "the document holds a NUL byte");
		return -1;
	}
	if (!yaml_parser_initialize(&y.p)) {
		snprintf(e->msg, sizeof(e->msg), "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&y.p, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&y.p, YAML_UTF8_ENCODING);
	y.anchors = json_object_new_object();
	y.lines = lines ? json_object_new_object() : NULL;
	rc = document(&y, out);
	yaml_parser_delete(&y.p);
	json_object_put(y.anchors);
	if (rc != 0) {
		json_object_put(*out);
		json_object_put(y.lines);
		*out = NULL;
		return -1;
	}
	if (lines)
		*lines = y.lines;
	return 0;
}

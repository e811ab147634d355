/*
 * schema.h - request body definitions.  One table of fields per body kind
 * drives both the validator (what handlers may rely on) and the JSON Schema
 * berth publishes, so the two can never disagree.
 */
#ifndef BERTH_SCHEMA_H
#define BERTH_SCHEMA_H

#include "berth.h"

#include <json-c/json.h>

/*
 * Patterns shared by every body that names a thing, an image or a size.
 * Unbounded repeats only: glibc's regcomp unrolls {0,N} into N states (the
 * image pattern with {0,254} cost each worker 875 kB and 5.8 us a match);
 * each field's min/max holds the length instead.
 */
#define SC_NAME_RE  "^[a-zA-Z0-9][a-zA-Z0-9_.-]*$"
#define SC_IMAGE_RE "^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$"
/* The "image" field of every spec that runs something (container, service, job). */
#define SC_IMAGE_FIELD                                                                             \
	{                                                                                          \
		.name = "image", .types = SC_STRING, .flags = SC_REQUIRED,                         \
		.desc = "Image reference with an explicit tag (name:tag).", .min = 1, .max = 255,  \
		.pattern = SC_IMAGE_RE, .example = "\"berth-test/busybox:1\""                      \
	}
#define SC_TAGGED_RE "^[a-z0-9][a-z0-9._/:-]*:[A-Za-z0-9_][A-Za-z0-9_.-]*$"
/* Environment variable names ({"KEY": ...} and "KEY=value" items) and label names. */
#define SC_ENVKEY_RE  "^[A-Za-z_][A-Za-z0-9_.]*$"
#define SC_ENVITEM_RE "^[A-Za-z_][A-Za-z0-9_.]*="
#define SC_LABEL_RE   "^[a-zA-Z0-9][a-zA-Z0-9_./-]*$"
#define SC_SIZE_RE    "^[0-9]{1,15}[kKmMgG]?[bB]?$"

/* Types are a bit set: a field may accept several (e.g. a string or a list). */
#define SC_STRING 0x01
#define SC_INT    0x02
#define SC_NUMBER 0x04
#define SC_BOOL   0x08
#define SC_OBJECT 0x10
#define SC_ARRAY  0x20
#define SC_NULL   0x40

#define SC_REQUIRED 0x01

struct sc_field {
	const char *name; /* member name; NULL ends a list */
	unsigned types;
	unsigned flags;
	const char *desc;
	long long min, max;           /* string length, integer range or array length; 0,0 = none */
	const char *pattern;          /* anchored POSIX ERE, also valid ECMA for JSON Schema */
	const char *const *enums;     /* allowed string values, NULL-terminated */
	const struct sc_field *props; /* SC_OBJECT: members (others refused) */
	const struct sc_field *values; /* SC_OBJECT without props: schema of every value */
	const struct sc_field *items;  /* SC_ARRAY: schema of every item */
	const char *example;           /* JSON text of an example value */
	const char *keys;              /* SC_OBJECT without props: pattern of every member name */
};

struct sc_schema {
	const char *kind; /* container, service, scale, job, ... */
	const char *title;
	const struct sc_field *fields;
	const char *example; /* JSON text of a whole valid body */
	int published;       /* listed under /api/v1/schemas */
};

/* Validation outcome: the dotted path of the failing field and the rule it broke. */
struct sc_error {
	enum berr code; /* B_BAD_REQUEST or B_INVALID */
	char field[128];
	char msg[256];
};

/* 0 when BODY matches S; else -1 and E names the field and rule. */
int sc_validate(const struct sc_schema *s, json_object *body, struct sc_error *e);

/* The JSON Schema (draft 2020-12) of S, a new reference. */
json_object *sc_json_schema(const struct sc_schema *s);

#endif

/*
 * yaml.h - YAML documents (compose files) read into json-c, so everything
 * after the parser is the one JSON path berth already has.  libyaml
 * (Debian's libyaml-dev) does the parsing; this layer only builds the tree,
 * resolves plain scalars the way YAML 1.2's core schema does, and bounds
 * what a hostile document can cost: its size, its nesting, its node count
 * with every alias counted as the nodes it expands to (a "billion laughs"
 * file is refused after max_nodes, not expanded), one document only.
 * JSON is YAML, so a JSON text goes through here too.
 */
#ifndef BERTH_YAML_H
#define BERTH_YAML_H

#include <json-c/json.h>
#include <stddef.h>

struct yx_limits {
	size_t max_bytes; /* the text */
	int max_depth;    /* nested mappings and sequences, aliases' expansions included */
	size_t max_nodes; /* scalars, mappings and sequences, each alias as what it expands to */
};

/* The bounds a compose file gets (256 KiB, depth 32, 20000 nodes). */
extern const struct yx_limits yx_compose_limits;

/* What went wrong, and where: LINE is 1-based (0: not known). */
struct yx_error {
	int line, column;
	char msg[200];
};

/*
 * Parses the one YAML document in the LEN bytes at BUF into *OUT (a new
 * reference): mappings become objects (keys must be scalars, no duplicates;
 * "<<" merge keys are applied), sequences arrays, plain scalars null, bools,
 * integers, numbers or strings as the core schema resolves them, quoted
 * ones strings.  Tags other than YAML's own (!!str, !!int, ...) are refused.
 * LINES, when not NULL, gets a new object mapping each key path
 * ("services.web.image", "services.web.ports[0]") to the line it is on.
 * 0, or -1 with E filled in (and *OUT, *LINES NULL).
 */
int yx_parse(const char *buf, size_t len, const struct yx_limits *lim, json_object **out,
             json_object **lines, struct yx_error *e);

#endif

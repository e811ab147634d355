/*
 * fuzz-yaml.c - the YAML reader stacks read compose files with (lib/yaml.c):
 * any input either parses into a tree that serializes, within the node and
 * depth bounds, or is refused with a message; nothing it reads may cost more
 * than its bounds (a bomb is refused, not expanded).
 */
#include "fuzz.h"

#include "../../src/lib/yaml.h"

/* Nesting of what came back, counted without recursion limits of its own. */
static int
depth_of(json_object *v, int d)
{
	int most = d;

	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			int k = depth_of(json_object_array_get_idx(v, i), d + 1);
			most = k > most ? k : most;
		}
	} else if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, key, m)
		{
			int k = depth_of(m, d + 1);
			(void)key;
			most = k > most ? k : most;
		}
	}
	return most;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct yx_limits lim = {
	    .max_bytes = 65536, .max_depth = 24, .max_nodes = 4000};
	json_object *v, *lines;
	struct yx_error e;

	if (yx_parse((const char *)data, size, &lim, &v, &lines, &e) != 0) {
		if (e.msg[0] == '\0' || v != NULL || lines != NULL)
			abort(); /* a refusal always says why, and leaves nothing behind */
		return 0;
	}
	if (depth_of(v, 1) > lim.max_depth + 1 || json_object_to_json_string(v) == NULL)
		abort();
	json_object_put(v);
	json_object_put(lines);
	return 0;
}

/*
 * fuzz-dockerfile.c - the Dockerfile scan builds are checked with
 * (lib/dockerfile.c): any text is either refused with a reason, or scanned
 * into references that each end inside their buffer, name a stage that
 * exists, and never hold an unexpanded meta ARG when one was declared.
 */
#include "fuzz.h"

#include "../../src/lib/dockerfile.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct df_scan s;
	json_object *ba = json_object_new_object();

	json_object_object_add(ba, "BASE", json_object_new_string("berth-test/busybox:1"));
	if (df_scan((const char *)data, size, ba, &s) != 0) {
		if (s.err[0] == '\0')
			abort(); /* a refusal always says why */
	} else {
		if (s.stages < 1 || s.nrefs > DF_MAX_REFS)
			abort();
		for (size_t i = 0; i < s.nrefs; i++) {
			const struct df_ref *r = &s.refs[i];
			if (memchr(r->ref, '\0', sizeof(r->ref)) == NULL)
				abort();
			if (r->stage < 0 || r->stage >= s.stages || r->line < 1)
				abort();
			if (r->kind == DF_COPY_FROM && strchr(r->ref, '$'))
				abort(); /* a variable in --from is refused, never passed */
		}
		/* Every reference rewritten: done, or refused with a reason. */
		const char *to[DF_MAX_REFS];
		char *out = NULL;
		size_t olen = 0;
		for (size_t i = 0; i < s.nrefs; i++)
			to[i] = s.refs[i].is_stage ? NULL : "berth.x.00000000/r:1";
		if (df_rewrite((const char *)data, size, &s, to, &out, &olen) == 0) {
			if (out == NULL || strlen(out) != olen)
				abort();
			free(out);
		} else if (s.err[0] == '\0') {
			abort();
		}
	}
	json_object_put(ba);
	return 0;
}

/*
 * fuzz-state.c - what berth reads back from its state directory: a record
 * file (st_get, then ct_spec_of as reconcile and recreate use it) and the
 * audit log (au_read, JSON lines read backwards, and the page before the
 * first one through its cursor).  A torn or tampered file must be
 * refused or skipped, never crash a worker.
 */
#include "fuzz.h"

#include "../../src/store/audit.h"
#include "../../src/res/containers.h"
#include "../../src/lib/json.h"
#include "../../src/store/state.h"

static char rec[256], audit[256];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[160];

	(void)argc, (void)argv;
	fz_setup(NULL);
	snprintf(dir, sizeof(dir), "%s/state", fz_dir());
	if (st_init(dir) != 0)
		abort();
	snprintf(rec, sizeof(rec), "%s/%s/fuzz.json", dir, ST_CONTAINERS);
	snprintf(audit, sizeof(audit), "%s/audit.log", dir);
	return 0;
}

static int
count(const char *name, json_object *o, void *arg)
{
	(void)name;
	if (!json_object_is_type(o, json_type_object))
		abort();
	(*(int *)arg)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o = NULL, *in, *spec, *lines;
	char next[48], before[48];
	enum berr e;
	int n = 0;

	fz_write(rec, data, size);
	e = st_get(ST_CONTAINERS, "fuzz", &o);
	if (e == B_OK && !json_object_is_type(o, json_type_object))
		abort();
	if (e != B_OK && o != NULL)
		abort();
	json_object_put(o);
	st_each(ST_CONTAINERS, count, &n);
	if (n != (e == B_OK))
		abort(); /* st_each sees exactly the records st_get accepts */
	in = json_object_new_object();
	json_object_object_add(in, "Id", json_object_new_string("fuzz"));
	spec = ct_spec_of(in);
	json_object_put(spec);
	json_object_put(in);

	fz_write(audit, data, size);
	lines = au_read(0, NULL, 3, next, sizeof(next));
	if (lines == NULL || json_object_array_length(lines) > 3 ||
	    (next[0] && json_object_array_length(lines) != 3))
		abort();
	json_object_put(lines);
	if (next[0]) {
		snprintf(before, sizeof(before), "%s", next);
		lines = au_read(0, before, 50, next, sizeof(next));
		if (lines == NULL || json_object_array_length(lines) > 50)
			abort();
		json_object_put(lines);
	}
	return 0;
}

/*
 * module.c - what berth derives from the module descriptors (module.h): the
 * schemas, the state directory's kinds, the config sections and the
 * maintenance work.  The route table is derived in route.c.
 */
#include "edge/module.h"
#include "edge/route.h"
#include "store/state.h"

#include <string.h>

void
mod_register(void)
{
	for (const struct bmod *const *m = berth_modules; *m; m++) {
		for (const char *const *k = (*m)->state_kinds; k && *k; k++)
			st_add_kind(*k);
		if ((*m)->cfg_section)
			cfg_register_check((*m)->cfg_section, (*m)->cfg_check);
	}
}

void
mod_periodic(void)
{
	for (const struct bmod *const *m = berth_modules; *m; m++)
		if ((*m)->periodic)
			(*m)->periodic();
}

int
mod_cleanup(void)
{
	size_t n = 0;
	int rc = 0;

	while (berth_modules[n])
		n++;
	while (n-- > 0)
		if (berth_modules[n]->cleanup && berth_modules[n]->cleanup() != 0)
			rc = -1;
	/* Then the doors' (images a door built): what used them is gone by now. */
	for (const struct rt_door *const *d = berth_doors; *d; d++)
		for (const struct bmod *const *m = (*d)->modules; m && *m; m++)
			if ((*m)->cleanup && (*m)->cleanup() != 0)
				rc = -1;
	return rc;
}

int
mod_reconcile(int verbose)
{
	int rc = 0;

	for (const struct bmod *const *m = berth_modules; *m; m++)
		if ((*m)->reconcile && (*m)->reconcile(verbose) != 0)
			rc = -1;
	return rc;
}

void
mod_each_schema(void (*fn)(const struct sc_schema *s, void *arg), void *arg)
{
	for (const struct bmod *const *m = berth_modules; *m; m++)
		for (const struct sc_schema *const *s = (*m)->schemas; s && *s; s++)
			fn(*s, arg);
}

struct want {
	const char *kind;
	const struct sc_schema *hit;
};

static void
find_one(const struct sc_schema *s, void *arg)
{
	struct want *w = arg;

	if (w->hit == NULL && strcmp(s->kind, w->kind) == 0)
		w->hit = s;
}

const struct sc_schema *
mod_schema(const char *kind)
{
	struct want w = {kind, NULL};

	mod_each_schema(find_one, &w);
	return w.hit;
}

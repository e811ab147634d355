/*
 * module.h - one descriptor per module, from which every registry berth has
 * is derived: the route table, the schemas, the state directory's kinds,
 * the supervisor's periodic work, cleanup, reconcile and the config sections
 * a module checks.  Adding a module is one row in src/modules.c.
 */
#ifndef BERTH_MODULE_H
#define BERTH_MODULE_H

#include "berth.h"
#include "edge/route.h"
#include "lib/cfg.h"
#include "lib/schema.h"

struct bmod {
	const char *name;
	const struct rt_route *routes;          /* ended by a row whose method is NULL */
	const struct rt_param *args;            /* the {name} path arguments its routes use */
	const struct rt_door *door;             /* NULL: berth's own API */
	const struct sc_schema *const *schemas; /* the bodies it validates; NULL-ended */
	const char *const *state_kinds;         /* its record folders in the state directory */
	int (*periodic)(void);                  /* the supervisor's repeated work */
	int (*cleanup)(void);          /* berth-fcgi cleanup: remove this instance's objects */
	int (*reconcile)(int verbose); /* rebuild records from labels */
	const char *cfg_section;       /* a berth.conf section of named entries it checks */
	cfg_check_fn cfg_check;
};

/* Every module, in route order (src/modules.c); NULL-ended. */
extern const struct bmod *const berth_modules[];

/*
 * Runs each module's periodic work (the supervisor, in a child), cleanup
 * and reconcile; 0 when every one succeeded.  Cleanup runs in reverse
 * order: modules that build on others (services on containers) go first.
 */
void mod_periodic(void);
int mod_cleanup(void);
int mod_reconcile(int verbose);
/*
 * Registers what the modules bring with the layers below: their record
 * folders with the state store, their config sections with cfg.  Called
 * once, before any berth.conf loads or the state directory opens.
 */
void mod_register(void);

/* Every schema the modules validate bodies against, in module order. */
void mod_each_schema(void (*fn)(const struct sc_schema *s, void *arg), void *arg);
/* The schema named KIND, or NULL. */
const struct sc_schema *mod_schema(const char *kind);

#endif

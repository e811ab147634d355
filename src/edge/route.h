/*
 * route.h - the route table: every endpoint berth serves is one row of data
 * {method, pattern, handler, role, flags, body schema, summary}.  Dispatch,
 * 404/405, the identity and role check, body parsing and validation, the
 * endpoint index and the OpenAPI document are all driven from these rows.
 */
#ifndef BERTH_ROUTE_H
#define BERTH_ROUTE_H

#include "berth.h"
#include "edge/req.h"
#include "lib/schema.h"

typedef enum berr (*rt_handler)(struct req *r);

#define RT_BODY   0x01 /* takes a JSON body, validated against .schema */
#define RT_MUT    0x02 /* changes something: cross-site checks and an audit line */
#define RT_STREAM 0x04 /* streams its answer */
#define RT_TEXT   0x08 /* answers text/plain on success */
#define RT_RAWERR 0x10 /* seed route: body errors are 400, not 422 */

struct rt_route {
	const char *method;
	const char *pattern; /* literal segments and {name} arguments */
	rt_handler fn;
	enum role role; /* least role allowed; ROLE_NONE = no identity needed */
	unsigned flags;
	const struct sc_schema *schema;
	const char *summary;
};

/* Each module exports its rows, ended by a row whose method is NULL. */
extern const struct rt_route sys_routes[], ct_routes[], cat_routes[], seed000_routes[];
extern const struct rt_route svc_routes[], svc_seed_routes[]; /* services.c, seed004.c */
extern const struct rt_route job_routes[], seed001_routes[];  /* jobs.c, seed001.c */

/*
 * Matches r->method and r->path against the tables: sets r->route and decodes
 * the {args} into r->args, or records 404/405/400 on R.  Needs no FastCGI
 * connection, so tests and fuzzers call it on a hand-made request.
 */
enum berr rt_find(struct req *r);

/* Finds the route, checks identity, role and body, runs the handler, answers. */
void rt_dispatch(struct req *r);

/* Calls FN for every route in table order. */
void rt_each(void (*fn)(const struct rt_route *rt, void *arg), void *arg);

#endif

/*
 * route.h - the route table: every endpoint berth serves is one row of data
 * {method, pattern, handler, role, flags, body schema, summary, query}, and
 * every module one descriptor (struct bmod, edge/module.h) that brings its
 * rows, its path arguments and its front door.  Dispatch, 404/405, the
 * identity and role check, the validation of path arguments, query and body,
 * the endpoint index and the OpenAPI document are all driven from them.
 */
#ifndef BERTH_ROUTE_H
#define BERTH_ROUTE_H

#include "berth.h"
#include "edge/req.h"
#include "lib/schema.h"

struct bmod;

typedef enum berr (*rt_handler)(struct req *r);

#define RT_BODY   0x01 /* takes a JSON body, validated against .schema */
#define RT_MUT    0x02 /* changes something: cross-site checks and an audit line */
#define RT_STREAM 0x04 /* streams its answer */
#define RT_TEXT   0x08 /* answers text/plain on success */
/* reached only by nginx's internal redirect: not in the index, the OpenAPI or rt_each */
#define RT_INTERNAL 0x10
/* reads its own body (not JSON: a build context): admit leaves it unread */
#define RT_RAW 0x20

/* The type of a path argument or query parameter. */
enum rt_ptype { P_STR, P_INT, P_BOOL };

/*
 * One path argument or query parameter: checked before the handler runs
 * (a 400 names it), handed to it typed (rq_int, rq_bool, rq_str), and
 * published in the OpenAPI document.
 */
struct rt_param {
	const char *name; /* NULL ends a list */
	enum rt_ptype type;
	const char *desc;
	long long min, max;          /* P_INT bounds; P_STR length bounds (0, 0 = none) */
	long long dflt;              /* P_INT and P_BOOL when absent */
	int (*valid)(const char *s); /* P_STR: 1 when S is acceptable */
	const char *rule;            /* P_STR: what VALID accepts, for the 400 and OpenAPI */
	const char *const *enums;    /* P_STR: the only values allowed */
	const char *any;             /* P_INT: a word allowed besides numbers ("all"), read as -1 */
};

/* ?owner=: only one owner's objects (the handler lets admins alone use it). */
#define RT_P_OWNER                                                                                 \
	{                                                                                          \
		.name = "owner", .type = P_STR, .desc = "Only this owner's (admins).", .min = 1,   \
		.max = 128, .rule = "1 to 128 characters"                                          \
	}

struct rt_route {
	const char *method;
	const char *pattern; /* literal segments and {name} arguments (the module's args) */
	rt_handler fn;
	enum role role; /* least role allowed; ROLE_NONE = no identity needed */
	unsigned flags;
	const struct sc_schema *schema;
	const char *summary;
	const struct rt_param *query; /* the query parameters it takes; others are refused */
};

/*
 * A front door: a family of routes that answers errors its own way.  berth's
 * own API needs none (its JSON error object); the seeds' routes answer a
 * malformed body with 400, as their clients expect.
 */
struct rt_door {
	const char *name;
	enum berr (*map)(enum berr e); /* the error this door answers E with */
	/*
	 * A door with a listener of its own (nginx sets BERTH_DOOR=<name> there):
	 * only its MODULES' routes answer on it, none of berth's own, and every
	 * request, routed or not, is answered the door's way.  NULL for the seeds'
	 * door, whose routes share berth's listener.
	 */
	const struct bmod *const *modules;
	/* Before routing: rewrite or refuse the path (Docker's /v1.NN/ prefix). */
	enum berr (*prepare)(struct req *r);
	/* Writes R's error as this door's clients expect (Docker's {"message"}). */
	void (*error)(struct req *r);
	unsigned flags; /* DOOR_* */
};

/* Bodiless changes may name any Content-Type (the docker CLI says text/plain). */
#define DOOR_ANY_CTYPE 0x01
/* Query parameters a route does not declare are ignored, as dockerd does, not refused. */
#define DOOR_LAX_QUERY 0x02

/* The doors with a listener of their own (src/modules.c); NULL-ended. */
extern const struct rt_door *const berth_doors[];

/*
 * Matches r->method and r->path against the tables: sets r->route, checks
 * and takes the {args} into r->args, or records 404/405/400 on R.  Needs no
 * FastCGI connection, so tests and fuzzers call it on a hand-made request.
 */
enum berr rt_find(struct req *r);
/* Looks up the door nginx named (BERTH_DOOR) into r->door; a name berth lacks is a 500. */
enum berr rt_find_door(struct req *r);

/*
 * Checks every query parameter of R (after rt_find): one the route declares,
 * of its type and within its bounds, kept typed for rq_int and friends.  A
 * 400 naming the parameter otherwise.
 */
enum berr rt_check_query(struct req *r);

/* Finds the route, checks identity, role, query and body, runs the handler, answers. */
void rt_dispatch(struct req *r);

/* Calls FN for every route but the RT_INTERNAL ones, in table order, with its module's args. */
void rt_each(void (*fn)(const struct rt_route *rt, const struct rt_param *args, void *arg),
             void *arg);

/*
 * The least role of the row METHOD PATTERN (the pattern as its table
 * writes it, "/api/v1/containers/{ref}/stop"), or -1 when no row has it.
 */
int rt_role_of(const char *method, const char *pattern);
/*
 * 1 when ROLE is enough for the row METHOD PATTERN, as dispatch would
 * admit it; 0 when it is not or no row has it.  What the API tells a
 * caller they may do (`can`) is read from the rows with this, so a row's
 * role is the one place that decides.
 */
int rt_allows(enum role role, const char *method, const char *pattern);

#endif

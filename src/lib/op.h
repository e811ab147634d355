/*
 * op.h - one operation: who acts, with what role, and the error so far.
 * Every HTTP request carries one (struct req's op); maintenance work
 * (reconcile, sweep, cleanup) makes its own with op_system() instead of
 * faking a request.  Everything below the edge takes a struct op and
 * reports failures on it; each front door renders that error its own way
 * (berth's JSON, the seeds' 400s, Docker's {"message"}).
 */
#ifndef BERTH_OP_H
#define BERTH_OP_H

#include "berth.h"

#include <json-c/json.h>
#include <stdarg.h>

/*
 * Why an operation failed, where a caller acts on it: code decides on these,
 * never on a message's text.
 */
enum reason {
	R_NONE = 0,
	R_NAME_TAKEN,      /* the name belongs to another object */
	R_OUT_OF_SEQUENCE, /* a Swarm update was made from a stale version */
	R_QUOTA,           /* the owner's quota is used up */
	R_NO_IMAGE,        /* the image is not on this host */
	R_NOT_RUNNING,     /* the container is not running */
	R_GONE,            /* the object went away meanwhile */
	R_OVERLAP,         /* a network's subnet overlaps another network's */
};

#define OP_MSGLEN   384
#define OP_FIELDLEN 128

struct op {
	const char *user; /* REMOTE_USER from nginx; NULL: anonymous, or berth itself */
	enum role role;
	int system; /* berth's own maintenance work, not a caller */
	/* The error so far: B_OK until something fails. */
	enum berr err;
	enum reason why;
	char msg[OP_MSGLEN];
	char field[OP_FIELDLEN];
	json_object *extra; /* extra members of the error object (owned) */
	/* What the audit line says was done (mutations). */
	const char *audit_action;
	char audit_target[160];
	json_object *audit_extra; /* members handlers add to the audit line (owned; audit.h) */
};

/* An error kept aside while clean-up (which may fail on its own) runs. */
struct op_err {
	enum berr err;
	enum reason why;
	char msg[OP_MSGLEN];
	char field[OP_FIELDLEN];
	json_object *extra;
};

/* A fresh operation by USER (NULL: anonymous) with ROLE. */
void op_init(struct op *o, const char *user, enum role role);
/* berth's own work (reconcile, sweep, cleanup): admin rights, no caller. */
void op_system(struct op *o);
/* Frees what O owns. */
void op_done(struct op *o);

/* The name recorded as owner for O's caller ("anonymous" without identity). */
const char *op_owner(const struct op *o);

/* Records an error; returns E so callers can `return op_fail(...)`. */
enum berr op_fail(struct op *o, enum berr e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* op_fail with a reason code callers may act on. */
enum berr op_fail_why(struct op *o, enum berr e, enum reason why, const char *field,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Forgets the error so far: a failure the caller expected and handled. */
void op_clear(struct op *o);
/* Moves O's error into S and clears O. */
void op_save(struct op *o, struct op_err *s);
/* Puts S's error back on O, dropping whatever error came meanwhile. */
void op_restore(struct op *o, struct op_err *s);

#endif

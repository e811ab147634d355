/*
 * op.c - the operation context: identity and the one way to record, clear,
 * save and restore an error.
 */
#include "lib/op.h"

#include <stdio.h>
#include <string.h>

void
op_init(struct op *o, const char *user, enum role role)
{
	memset(o, 0, sizeof(*o));
	o->user = user && *user ? user : NULL;
	o->role = role;
}

void
op_system(struct op *o)
{
	op_init(o, NULL, ROLE_ADMIN);
	o->system = 1;
}

void
op_done(struct op *o)
{
	json_object_put(o->extra);
	json_object_put(o->audit_extra);
	o->extra = o->audit_extra = NULL;
}

const char *
op_owner(const struct op *o)
{
	return o->user ? o->user : "anonymous";
}

static enum berr
vfail(struct op *o, enum berr e, enum reason why, const char *field, const char *fmt, va_list ap)
{
	o->err = e;
	o->why = why;
	vsnprintf(o->msg, sizeof(o->msg), fmt, ap);
	snprintf(o->field, sizeof(o->field), "%s", field ? field : "");
	return e;
}

enum berr
op_fail(struct op *o, enum berr e, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(o, e, R_NONE, field, fmt, ap);
	va_end(ap);
	return e;
}

enum berr
op_fail_why(struct op *o, enum berr e, enum reason why, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(o, e, why, field, fmt, ap);
	va_end(ap);
	return e;
}

void
op_clear(struct op *o)
{
	o->err = B_OK;
	o->why = R_NONE;
	o->msg[0] = o->field[0] = '\0';
	json_object_put(o->extra);
	o->extra = NULL;
}

void
op_save(struct op *o, struct op_err *s)
{
	s->err = o->err;
	s->why = o->why;
	memcpy(s->msg, o->msg, sizeof(s->msg));
	memcpy(s->field, o->field, sizeof(s->field));
	s->extra = o->extra;
	o->extra = NULL;
	op_clear(o);
}

void
op_restore(struct op *o, struct op_err *s)
{
	op_clear(o);
	o->err = s->err;
	o->why = s->why;
	memcpy(o->msg, s->msg, sizeof(o->msg));
	memcpy(o->field, s->field, sizeof(o->field));
	o->extra = s->extra;
	s->extra = NULL;
}

/*
 * volumes.c - volumes as owned resources (volumes.h).
 */
#include "berth.h"
#include "res/volumes.h"

enum berr
vol_place(struct op *o, const char *owner, json_object *spec, const struct pol_limits *lim,
          json_object *body)
{
	(void)o;
	(void)owner;
	(void)spec;
	(void)lim;
	(void)body;
	return B_OK;
}

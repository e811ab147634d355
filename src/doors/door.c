/*
 * door.c - the seeds' door: a body berth finds malformed, of whatever kind
 * (not JSON, wrong media type, not fitting the schema or the policy's
 * rules), is a 400, as the seeds' own servers answered.
 */
#include "doors/doors.h"

static enum berr
seed_map(enum berr e)
{
	return e == B_INVALID || e == B_MEDIA ? B_BAD_REQUEST : e;
}

const struct rt_door door_seed = {.name = "seed", .map = seed_map};

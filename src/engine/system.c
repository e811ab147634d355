/*
 * engine/system.c - dockerd itself: ping, version, info, and the transport's
 * life cycle.
 */
#include "engine/call.h"
#include "engine/engine.h"

/* Any answer but 200 to a ping is a dockerd that cannot serve: unavailable. */
static const struct eng_status ping_st[] = {
    {.status = 500,
     .err = B_DOCKER_DOWN,
     .msg = "dockerd answered its ping with an error (%s): %s"},
    {.status = 503,
     .err = B_DOCKER_DOWN,
     .msg = "dockerd answered its ping with an error (%s): %s"},
    {0}};
static const struct eng_call SYS_PING = {"GET", "/_ping", "dockerd", NULL, ping_st};
static const struct eng_call SYS_VERSION = {"GET", "/version", "docker version", NULL, NULL};
static const struct eng_call SYS_INFO = {"GET", "/info", "docker info", NULL, NULL};

int
eng_init(void)
{
	return dk_init();
}

void
eng_cleanup(void)
{
	dk_cleanup();
}

int
eng_connected(void)
{
	return dk_connected();
}

enum berr
eng_ping(struct op *o)
{
	struct eng_req rq = {0};
	long status = 0;
	enum berr e = eng_run(o, &SYS_PING, &rq, NULL, &status);

	if (e == B_OK && status != 200)
		e = op_fail(o, B_DOCKER_DOWN, NULL, "dockerd answered its ping with %ld", status);
	return e;
}

/* A GET of dockerd's own JSON object. */
static enum berr
get_object(struct op *o, const struct eng_call *c, json_object **out)
{
	struct eng_req rq = {0};
	enum berr e = eng_run(o, c, &rq, out, NULL);

	if (e == B_OK && !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		e = op_fail(o, B_DOCKER, NULL, "dockerd sent no JSON for %s", c->what);
	}
	return e;
}

enum berr
eng_version(struct op *o, json_object **out)
{
	return get_object(o, &SYS_VERSION, out);
}

enum berr
eng_info(struct op *o, json_object **out)
{
	return get_object(o, &SYS_INFO, out);
}

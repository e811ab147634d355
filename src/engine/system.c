/*
 * engine/system.c - dockerd itself: ping, version, info, and the transport's
 * life cycle.
 */
#include "engine/call.h"
#include "engine/engine.h"

#include <stdio.h>

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

static const struct eng_call SYS_EVENTS = {"GET", "/events", "docker events", NULL, NULL};

enum berr
eng_events_ticket(struct op *o, const char *const *types, const char *label, long long since_ns,
                  long long until_ns, json_object *tk)
{
	struct eng_query q = {0};
	struct eng_req rq = {.q = &q};
	json_object *f = json_object_new_object(), *t = json_object_new_array();
	char since[48], until[48];
	enum berr e;

	for (size_t i = 0; types && types[i]; i++)
		json_object_array_add(t, json_object_new_string(types[i]));
	json_object_object_add(f, "type", t);
	if (label) {
		json_object *l = json_object_new_array();
		json_object_array_add(l, json_object_new_string(label));
		json_object_object_add(f, "label", l);
	}
	eq_json(&q, "filters", f);
	/* Docker's since is seconds.nanoseconds and includes that instant: the relay skips it. */
	if (since_ns > 0) {
		snprintf(since, sizeof(since), "%lld.%09lld", since_ns / 1000000000LL,
		         since_ns % 1000000000LL);
		eq_str(&q, "since", since);
	}
	/* An end: dockerd closes the stream once it is past. */
	if (until_ns > 0) {
		snprintf(until, sizeof(until), "%lld.%09lld", until_ns / 1000000000LL,
		         until_ns % 1000000000LL);
		eq_str(&q, "until", until);
	}
	e = eng_ticket(o, &SYS_EVENTS, &rq, tk);
	json_object_put(f);
	return e;
}

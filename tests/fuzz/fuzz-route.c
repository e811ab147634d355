/*
 * fuzz-route.c - the request line: REQUEST_URI through rq_init (path and
 * query split, percent-decoding, bounds) and rt_find (the route tables,
 * {args}, 404/405), then the typed query getters handlers use.
 * Input: first byte picks the method, the rest is the raw REQUEST_URI.
 */
#include "fuzz.h"

#include "../../src/edge/req.h"
#include "../../src/edge/route.h"

#include <fcgiapp.h>

static const char *const METHODS[] = {"GET",    "POST", "PUT",     "PATCH",
                                      "DELETE", "HEAD", "OPTIONS", "BREW"};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fz_setup(NULL);
	return 0;
}

static void
check_request(struct req *r)
{
	for (size_t i = 0; i < r->nargs; i++)
		if (r->args[i] == NULL)
			abort();
	for (size_t i = 0; i < r->nquery; i++)
		if (r->query[i].key == NULL || r->query[i].val == NULL)
			abort();
	if (rt_check_query(r) != B_OK) {
		if (r->op.err != B_BAD_REQUEST || r->op.msg[0] == '\0')
			abort();
		return;
	}
	/* What passed is typed and within the route's declared bounds. */
	for (const struct rt_param *d = r->route->query; d && d->name; d++) {
		long long v = rq_int(r, d->name);
		if (d->type == P_BOOL && v != 0 && v != 1)
			abort();
		if (d->type == P_INT && v != -1 && (v < d->min || v > d->max) && v != d->dflt)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char method[16], *uri, *env[4];
	FCGX_Request fx;
	struct req r;
	enum berr e;

	if (size == 0)
		return 0;
	snprintf(method, sizeof(method), "REQUEST_METHOD=%s", METHODS[data[0] % 8]);
	uri = malloc(size + sizeof("REQUEST_URI="));
	memcpy(uri, "REQUEST_URI=", 12);
	memcpy(uri + 12, data + 1, size - 1);
	uri[12 + size - 1] = '\0';
	env[0] = method;
	env[1] = uri;
	env[2] = "REMOTE_USER=fuzz";
	env[3] = NULL;
	memset(&fx, 0, sizeof(fx));
	fx.envp = env;
	fx.ipcFd = -1;
	e = rq_init(&r, &fx);
	if (e == B_OK) {
		e = rt_find(&r);
		if (e == B_OK && (r.route == NULL || r.route->fn == NULL))
			abort();
		if (e == B_OK)
			check_request(&r);
		if (e != B_OK && (r.op.err != e || berr_status(e) < 400 || berr_status(e) > 499))
			abort();
	} else if (berr_status(e) != 400 && e != B_INTERNAL) {
		abort();
	}
	rq_cleanup(&r);
	free(uri);
	return 0;
}

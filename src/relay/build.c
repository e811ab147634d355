/*
 * build.c - the relay's build mode: POST /api/v1/catalog/{name}/build
 * without a worker, answered as the worker used to answer it.  The worker
 * checked the entry, made the build context (a spool file, store/state.h)
 * and the Docker request (engine/images.c); here the stream says
 * {"status":"building"} at once, then waits for the entry's build lock
 * without blocking (a try every BUILD_RETRY_MS on a timer).  When a build
 * that finished meanwhile already answered, its recorded outcome is this
 * asker's too (res/catalog.c cat_build_shared, as the worker's build_once);
 * else dockerd builds, its output becomes the same NDJSON lines, and the
 * outcome is recorded (builds/<name>.json) and audited ("catalog build
 * end").  A client that leaves mid-build does not stop the build: its
 * dockerd connection moves to a stand-in stream with no client and is read
 * to the end, so the build is recorded and audited all the same.
 * Ticket members: name, asked (wall ms the worker took the request), hash
 * (of the definition), role, and body_file or context_error (the context
 * could not be made: a failed build).
 */
#include "berth.h"
#include "relay/build.h"
#include "relay/relay.h"
#include "lib/cfg.h"
#include "lib/json.h"
#include "lib/log.h"
#include "res/catalog.h"
#include "store/audit.h"
#include "store/state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#define BUILD_RETRY_MS 200         /* how often a waiting build tries the lock */
#define BUILD_ERRMAX   (64 * 1024) /* of a dockerd error body */

struct bld {
	struct cat_build b;
	struct stream *s; /* the client's stream, or its stand-in once the client left */
	int lock;         /* the build lock's descriptor, or -1 */
	int running;      /* dockerd's build is under way on s->main */
	int shared;       /* the outcome is another request's build */
	int client_left;
	int audited;
};

static void
emit_line(json_object *o, void *arg)
{
	struct bld *b = arg;
	const char *t = jx_text(o);

	/* Progress nobody reads is dropped; the outcome is still recorded. */
	if (!b->client_left && rl_write(b->s, t, strlen(t)) == 0)
		rl_write(b->s, "\n", 1);
	json_object_put(o);
}

static void
build_audit(struct bld *b, const char *result)
{
	json_object *tk = b->s->tk, *a = json_object_new_object();
	const char *user = jx_str(tk, "user");
	char msg[384];

	jx_add_int(a, "time", (int64_t)time(NULL));
	jx_add_str(a, "user", user && *user ? user : NULL);
	jx_add_str(a, "role", jx_str(tk, "role"));
	jx_add_str(a, "action", "catalog build end");
	jx_add_str(a, "target", jx_str(tk, "name"));
	jx_add_str(a, "result", result);
	if (b->b.error[0]) {
		snprintf(msg, sizeof(msg), "build failed: %.300s", b->b.error);
		jx_add_str(a, "message", msg);
	} else if (b->b.image_id[0]) {
		jx_add_str(a, "image_id", b->b.image_id);
	}
	jx_add_bool(a, "shared", b->shared);
	jx_add_bool(a, "client_left", b->client_left);
	jx_add_str(a, "request_id", jx_str(tk, "rid"));
	jx_add_int(a, "duration_ms", b_mono_ms() - b->s->t0);
	au_write(a);
	json_object_put(a);
	b->audited = 1;
}

static void
unlock(struct bld *b)
{
	st_unlock(b->lock);
	b->lock = -1;
}

/* The stand-in of a client that left, once its build ended. */
static void
standin_free(struct stream *g, struct bld *b)
{
	rl_dkc_free(g->main);
	json_object_put(g->tk);
	free(g);
	free(b);
}

/* The outcome is known: recorded when this stream's build RAN, audited, answered. */
static void
build_finish(struct bld *b, int ran)
{
	struct stream *s = b->s;

	b->running = 0;
	if (ran)
		cat_build_record(jx_str(s->tk, "name"), jx_str(s->tk, "hash"), &b->b);
	unlock(b);
	build_audit(b, b->b.error[0] ? "error" : "ok");
	if (b->client_left) {
		standin_free(s, b);
		return;
	}
	emit_line(cat_build_final(&b->b), b);
	rl_finish(s); /* S and B may be gone */
}

static int
build_collect(const char *buf, size_t n, void *arg)
{
	struct dkc *d = arg;

	if (d->collect && evbuffer_get_length(d->collect) + n <= BUILD_ERRMAX)
		evbuffer_add(d->collect, buf, n);
	return 0;
}

static int
build_head(struct dkc *d)
{
	/* Refused outright (a bad Dockerfile path, say): a failed build, not a transport error. */
	if (d->h.status >= 300) {
		d->collect = evbuffer_new();
		d->on_body = build_collect;
	}
	return 0;
}

int
rl_build_feed(const char *buf, size_t n, void *arg)
{
	struct dkc *d = arg;
	struct bld *b = d->s->ms;

	cat_build_feed(&b->b, buf, n);
	return 0;
}

static void
build_end(struct dkc *d, int ok)
{
	struct bld *b = d->s->ms;
	size_t n = d->collect ? evbuffer_get_length(d->collect) : 0;
	json_object *o = NULL;
	char perr[64];

	if (d->h.status >= 300) {
		if (n)
			o = jx_parse((char *)evbuffer_pullup(d->collect, (ev_ssize_t)n), n, perr,
			             sizeof(perr));
		snprintf(b->b.error, sizeof(b->b.error), "dockerd: %s",
		         jx_str(o, "message") ? jx_str(o, "message") : berr_reason(d->h.status));
		json_object_put(o);
	} else if (d->h.status == 0) {
		snprintf(b->b.error, sizeof(b->b.error), "dockerd: not answering on %s",
		         g_cfg->docker_socket);
	} else {
		if (!ok && !b->b.error[0])
			snprintf(b->b.error, sizeof(b->b.error),
			         "dockerd's build output broke off");
		cat_build_done(&b->b);
	}
	build_finish(b, 1);
}

/* Under the lock: the shared outcome, the failed context, or dockerd's build. */
static void
build_locked(struct stream *s, struct bld *b)
{
	const char *name = jx_str(s->tk, "name"), *cerr = jx_str(s->tk, "context_error");

	if (cat_build_shared(name, jx_int(s->tk, "asked", 0), &b->b)) {
		b->shared = 1;
		build_finish(b, 0);
		return;
	}
	if (cerr) {
		snprintf(b->b.error, sizeof(b->b.error), "%s", cerr);
		build_finish(b, 1);
		return;
	}
	log_info("catalog_build name=%s request_id=%s", name, jx_str(s->tk, "rid"));
	/* What the free hook audits should the request not get to dockerd. */
	snprintf(b->b.error, sizeof(b->b.error), "the relay could not send the build to dockerd");
	if (rl_start_default(s) != 0)
		return; /* answered; the free hook audits and unlocks */
	b->b.error[0] = '\0';
	s->main->on_head = build_head;
	s->main->on_end = build_end;
	b->running = 1;
}

static void
build_try(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;
	struct bld *b = s->ms;
	struct timeval tv = {0, BUILD_RETRY_MS * 1000};
	char lock[96];

	(void)fd, (void)what;
	b->lock = st_trylock(cat_build_lock(jx_str(s->tk, "name"), lock, sizeof(lock)));
	if (b->lock < 0 && errno == EWOULDBLOCK) {
		evtimer_add(s->timer, &tv); /* another build of this entry runs: wait for it */
		return;
	}
	if (b->lock < 0) {
		snprintf(b->b.error, sizeof(b->b.error), "cannot lock the state directory: %s",
		         strerror(errno));
		build_finish(b, 0);
		return;
	}
	build_locked(s, b);
}

int
rl_build_start(struct stream *s)
{
	struct bld *b = calloc(1, sizeof(*b));
	json_object *first;

	if (b == NULL || (s->timer = evtimer_new(s->base, build_try, s)) == NULL) {
		free(b);
		rl_fail(s, B_INTERNAL, NULL, "out of memory");
		return -1;
	}
	b->s = s;
	b->lock = -1;
	b->b.emit = emit_line;
	b->b.arg = b;
	s->ms = b;
	/* Progress is streamed, so the answer is 200 from the first line on. */
	rl_head(s, 200, "application/x-ndjson", NULL);
	first = json_object_new_object();
	jx_add_str(first, "status", "building");
	jx_add_str(first, "name", jx_str(s->tk, "name"));
	emit_line(first, b);
	build_try(-1, 0, s);
	return 0; /* S may be gone */
}

/*
 * The client left while dockerd builds: the build's connection moves to a
 * stand-in stream (no client, counted against no cap) that reads it to
 * the end.  Closing it would make dockerd cancel the build.
 */
static int
keep_building(struct stream *s, struct bld *b)
{
	struct stream *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return -1;
	g->base = s->base;
	g->tk = json_object_get(s->tk);
	g->mode = s->mode;
	g->started = 1;
	g->closing = 1; /* rl_write refuses: there is nobody to write to */
	g->t0 = s->t0;
	g->ms = b;
	g->main = s->main;
	g->main->s = g;
	s->main = NULL;
	b->s = g;
	b->client_left = 1;
	if (g->main->bev)
		bufferevent_enable(g->main->bev,
		                   EV_READ); /* flow control paused it for the client */
	log_info("catalog_build_client_left name=%s request_id=%s", jx_str(g->tk, "name"),
	         jx_str(g->tk, "rid"));
	return 0;
}

void
rl_build_free(struct stream *s)
{
	struct bld *b = s->ms;

	s->ms = NULL;
	if (b == NULL)
		return;
	if (b->running && s->main && keep_building(s, b) == 0)
		return;
	/* Never sent (shared, failed, or the client left while it waited): nobody takes it now. */
	st_spool_del(jx_str(s->tk, "body_file"));
	if (!b->audited) {
		b->client_left = !b->b.error[0];
		build_audit(b, b->client_left ? "client_left" : "error");
	}
	unlock(b);
	free(b);
}

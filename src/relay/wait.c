/*
 * wait.c - the relay's waits, which hold no worker (berth issue 19): seed
 * 000's locked starts queued behind a lease (mode wait) and seed 001's GET
 * /sleep/<n> (mode sleep).  A wait polls its lease queue (doors/lease.h)
 * every WAIT_POLL_MS with the same store code the workers use; when its
 * turn comes it saves the request and redirects nginx (X-Accel-Redirect) to
 * /.berth-resume/<ticket id>, where a worker finishes the start with the
 * lease held.  The client leaving (nginx closes) gives its place up; so do
 * the seed's own limit (LEASE_WAIT_S: 409, as the worker's wait answered)
 * and berth stopping.  A saved request no worker claimed within
 * LEASE_RESUME_S releases its lease, so a client gone during the redirect
 * never stops the queue.
 */
#include "berth.h"
#include "relay/relay.h"
#include "relay/wait.h"
#include "doors/lease.h"
#include "lib/json.h"
#include "lib/log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#define WAIT_POLL_MS 150

/* A live wait or sleep, listed so berth stopping can end each. */
struct waiter {
	struct stream *s;
	int done; /* answered (or redirected): its free hook gives nothing up */
	struct waiter *next, **prev;
};

/* A saved request waiting for its worker. */
struct orphan {
	struct event *ev;
	char token[33];
	struct orphan *next, **prev;
};

static struct waiter *waiters;
static struct orphan *orphans;
static struct event *sig_term, *sig_int;

static void
orphan_free(struct orphan *o)
{
	*o->prev = o->next;
	if (o->next)
		o->next->prev = o->prev;
	event_free(o->ev);
	free(o);
}

static void
orphan_due(evutil_socket_t fd, short what, void *arg)
{
	struct orphan *o = arg;

	(void)fd, (void)what;
	lease_resume_orphan(o->token);
	orphan_free(o);
}

/* After the redirect: the saved request TOKEN is released unless a worker claims it in time. */
static void
orphan_watch(struct event_base *base, const char *token)
{
	struct timeval tv = {.tv_sec = LEASE_RESUME_S};
	struct orphan *o = calloc(1, sizeof(*o));

	if (o == NULL || (o->ev = evtimer_new(base, orphan_due, o)) == NULL) {
		free(o);
		log_warn("lease_resume_unwatched token=%s", token);
		return;
	}
	snprintf(o->token, sizeof(o->token), "%s", token);
	o->next = orphans;
	o->prev = &orphans;
	if (orphans)
		orphans->prev = &o->next;
	orphans = o;
	evtimer_add(o->ev, &tv);
}

/* S answered (or redirected): off the list, and its free hook gives nothing up. */
static void
wt_done(struct stream *s)
{
	struct waiter *w = s->ms;

	if (w == NULL || w->done)
		return;
	w->done = 1;
	if (s->timer) /* the answer may take a while to drain: no more polls meanwhile */
		event_del(s->timer);
	*w->prev = w->next;
	if (w->next)
		w->next->prev = w->prev;
}

/* ---- sleep ---------------------------------------------------------------------- */

static void
sleep_answer(struct stream *s, int64_t slept)
{
	char body[48];

	wt_done(s);
	snprintf(body, sizeof(body), "{\"slept\":%lld}\n", (long long)slept);
	rl_head(s, 200, "application/json", NULL);
	rl_write(s, body, strlen(body));
	rl_finish(s);
}

static void
sleep_due(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	(void)fd, (void)what;
	sleep_answer(s, jx_int(s->tk, "seconds", 0));
}

/* ---- wait: a queued locked start ---------------------------------------------------- */

static void
wait_fail(struct stream *s, const char *why)
{
	wt_done(s);
	lease_leave(jx_str(s->tk, "key"), jx_int(s->tk, "ticket", -1));
	rl_fail(s, B_CONFLICT, "lock", "%s is still locked by an earlier start%s",
	        jx_str(s->tk, "entry"), why);
}

/* Its turn: the request is saved for the worker nginx is sent to. */
static void
wait_turn(struct stream *s)
{
	const char *token = jx_str(s->tk, "id");
	json_object *rec = json_object_new_object();
	char extra[160];
	int ok;

	wt_done(s);
	jx_add_str(rec, "user", jx_str(s->tk, "user"));
	jx_add_str(rec, "key", jx_str(s->tk, "key"));
	jx_add_int(rec, "t", jx_int(s->tk, "ticket", -1));
	jx_add_str(rec, "entry", jx_str(s->tk, "entry"));
	jx_add_str(rec, "body", jx_str(s->tk, "body"));
	jx_add_str(rec, "rid", jx_str(s->tk, "rid"));
	jx_add_int(rec, "at", b_wall_ms());
	ok = lease_resume_save(token, rec) == 0;
	json_object_put(rec);
	if (!ok) {
		rl_fail(s, B_INTERNAL, NULL, "cannot save the queued start in the state directory");
		return;
	}
	orphan_watch(s->base, token);
	snprintf(extra, sizeof(extra), "X-Accel-Redirect: %s%s\r\nContent-Length: 0\r\n",
	         LEASE_RESUME, token);
	rl_head(s, 200, "text/plain", extra);
	rl_finish(s);
}

static void
wait_poll(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;
	int r;

	(void)fd, (void)what;
	if (b_wall_ms() > jx_int(s->tk, "until", 0)) {
		wait_fail(s, "");
		return;
	}
	r = lease_turn(jx_str(s->tk, "key"), jx_int(s->tk, "ticket", -1));
	if (r == 1)
		wait_turn(s);
	/* -1 (the state directory failed) is tried again at the next poll */
}

/* ---- berth stopping ---------------------------------------------------------------- */

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)sig, (void)what, (void)arg;
	/* Each answer may free its stream, and with it its waiter. */
	while (waiters) {
		struct stream *s = waiters->s;
		if (s->mode == TK_SLEEP)
			sleep_answer(s, (b_mono_ms() - s->t0) / 1000);
		else
			wait_fail(s, " (berth is stopping)");
	}
	while (orphans) {
		lease_resume_orphan(orphans->token);
		orphan_free(orphans);
	}
}

static void
watch_stop(struct event_base *base)
{
	if (sig_term)
		return;
	/* Beside relay.c's own: libevent runs every event of a signal. */
	sig_term = evsignal_new(base, SIGTERM, on_stop, NULL);
	sig_int = evsignal_new(base, SIGINT, on_stop, NULL);
	if (sig_term)
		event_add(sig_term, NULL);
	if (sig_int)
		event_add(sig_int, NULL);
}

/* ---- the hooks ---------------------------------------------------------------------- */

int
rl_wait_start(struct stream *s)
{
	int sleep = s->mode == TK_SLEEP;
	struct timeval tv = {0};
	struct waiter *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		rl_fail(s, B_INTERNAL, NULL, "out of memory");
		return -1;
	}
	w->s = s;
	w->next = waiters;
	w->prev = &waiters;
	if (waiters)
		waiters->prev = &w->next;
	waiters = w;
	s->ms = w;
	watch_stop(s->base);
	if (sleep) {
		tv.tv_sec = (time_t)jx_int(s->tk, "seconds", 0);
		s->timer = evtimer_new(s->base, sleep_due, s);
	} else {
		tv.tv_usec = WAIT_POLL_MS * 1000;
		s->timer = event_new(s->base, -1, EV_PERSIST, wait_poll, s);
	}
	if (s->timer == NULL) {
		if (!sleep)
			wait_fail(s, " (out of memory)");
		else
			rl_fail(s, B_INTERNAL, NULL, "out of memory");
		return -1;
	}
	evtimer_add(s->timer, &tv);
	if (!sleep)
		wait_poll(-1, 0, s); /* its turn may have come already */
	return 0;
}

void
rl_wait_free(struct stream *s)
{
	struct waiter *w = s->ms;

	/* Gone before its answer (the client left, or the caps refused it): its place goes. */
	if (s->mode == TK_WAIT && s->tk && (w == NULL || !w->done))
		lease_leave(jx_str(s->tk, "key"), jx_int(s->tk, "ticket", -1));
	wt_done(s);
	free(w);
	s->ms = NULL;
}

/*
 * modes.c - how each kind of ticket becomes an answer: the table the relay
 * dispatches on, and the plain modes.  logs: Docker's multiplexed stream
 * decoded to text, as the worker used to send it.  raw: dockerd's answer
 * as it is (the Docker-API door), or with the caller's image namespace
 * taken out of its lines ("strip").  exec: a command's output gathered up to
 * its cap and its timeout, then its exit code, as one JSON answer, with
 * the end of it audited.  Hook rules: a feed hook never ends the stream,
 * it returns non-zero and its end hook does.
 */
#include "berth.h"
#include "relay/relay.h"
#include "relay/wait.h"
#include "relay/build.h"
#include "relay/tty.h"
#include "relay/events.h"
#include "lib/json.h"
#include "lib/log.h"
#include "store/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#define EXEC_CAP (1u << 20) /* bytes of each exec stream kept */

/* ---- logs ------------------------------------------------------------------ */

static int
logs_emit(int stream, const char *buf, size_t len, void *arg)
{
	(void)stream;
	return rl_write(arg, buf, len);
}

static int
logs_begin(struct stream *s, struct dkc *d)
{
	(void)d;
	s->dm.tty = jx_bool(s->tk, "tty", 0);
	s->dm.emit = logs_emit;
	s->dm.arg = s;
	rl_head(s, 200, "text/plain; charset=utf-8", NULL);
	return 0;
}

static int
logs_feed(const char *buf, size_t n, void *arg)
{
	struct dkc *d = arg;

	return ct_demux_feed(&d->s->dm, buf, n);
}

static void
plain_end(struct dkc *d, int ok)
{
	(void)ok; /* the answer began: however it ended, it ends here */
	rl_finish(d->s);
}

/* ---- raw ------------------------------------------------------------------- */

/*
 * A ticket's "strip" (the caller's image namespace, "berth.alice.1a2b3c4d/",
 * in a Docker build's output) is taken out of every line dockerd sends, so
 * the caller reads the names they gave; dockerd's lines are split whole
 * (events.h's splitter) for that.
 */
struct raw_strip {
	struct ev_lines lines;
	const char *strip;
};

static int
raw_begin(struct stream *s, struct dkc *d)
{
	const char *strip = jx_str(s->tk, "strip");

	rl_head(s, d->h.status, d->h.ctype[0] ? d->h.ctype : NULL, NULL);
	if (strip && *strip && (s->ms = calloc(1, sizeof(struct raw_strip))) != NULL)
		((struct raw_strip *)s->ms)->strip = strip;
	return 0;
}

/* LINE (N bytes, no newline) with every STRIP taken out, and its newline, to S. */
static int
strip_line(const char *line, size_t n, void *arg)
{
	struct stream *s = arg;
	const char *strip = ((struct raw_strip *)s->ms)->strip, *p = line, *end = line + n;
	size_t k = strlen(strip);

	while (p < end) {
		const char *hit = k ? memmem(p, (size_t)(end - p), strip, k) : NULL;
		size_t run = hit ? (size_t)(hit - p) : (size_t)(end - p);
		if (run && rl_write(s, p, run) != 0)
			return -1;
		p += run + (hit ? k : 0);
	}
	return rl_write(s, "\n", 1);
}

static int
raw_feed(const char *buf, size_t n, void *arg)
{
	struct dkc *d = arg;
	struct raw_strip *st = d->s->ms;

	if (st)
		return ev_lines_feed(&st->lines, buf, n, strip_line, d->s);
	return rl_write(d->s, buf, n);
}

static void
raw_end(struct dkc *d, int ok)
{
	struct raw_strip *st = d->s->ms;

	/* A last line without its newline. */
	if (st && st->lines.len && !st->lines.skip)
		strip_line(st->lines.buf, st->lines.len, d->s);
	plain_end(d, ok);
}

static void
raw_free(struct stream *s)
{
	struct raw_strip *st = s->ms;

	if (st) {
		ev_lines_free(&st->lines);
		free(st);
	}
	s->ms = NULL;
}

/* ---- exec ------------------------------------------------------------------ */

static void
exec_audit(struct stream *s, const char *result, json_object *exit_code)
{
	json_object *a = json_object_new_object();
	const char *user = jx_str(s->tk, "user");

	jx_add_int(a, "time", (int64_t)time(NULL));
	jx_add_str(a, "user", *user ? user : NULL);
	jx_add_str(a, "action", "exec end");
	jx_add_str(a, "target", jx_str(s->tk, "target"));
	jx_add_str(a, "result", result);
	jx_add_str(a, "request_id", jx_str(s->tk, "rid"));
	json_object_object_add(a, "exit_code", json_object_get(exit_code));
	jx_add_int(a, "duration_ms", b_mono_ms() - s->t0);
	au_write(a);
	json_object_put(a);
}

static int
exec_emit(int stream, const char *buf, size_t len, void *arg)
{
	struct stream *s = arg;
	int k = stream == 2 ? 2 : 1;
	size_t have = evbuffer_get_length(s->out[k]);

	if (have + len > EXEC_CAP) {
		s->truncated = 1;
		len = EXEC_CAP - have;
	}
	return len ? evbuffer_add(s->out[k], buf, len) : 0;
}

static void exec_inspect(struct stream *s);

static void
exec_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	(void)fd, (void)what;
	s->timed_out = 1;
	rl_dkc_free(s->main);
	exec_inspect(s);
}

static int
exec_start(struct stream *s)
{
	struct timeval tv = {.tv_sec = (time_t)jx_int(s->tk, "timeout", 30)};

	s->out[1] = evbuffer_new();
	s->out[2] = evbuffer_new();
	s->timer = evtimer_new(s->base, exec_timeout, s);
	s->dm.emit = exec_emit;
	s->dm.arg = s;
	if (s->out[1] == NULL || s->out[2] == NULL || s->timer == NULL) {
		rl_fail(s, B_INTERNAL, NULL, "out of memory");
		return -1;
	}
	evtimer_add(s->timer, &tv);
	return rl_start_default(s);
}

static int
exec_begin(struct stream *s, struct dkc *d)
{
	(void)s, (void)d;
	return 0; /* the answer waits for the end */
}

static int
side_collect(const char *buf, size_t n, void *arg)
{
	struct dkc *d = arg;

	return evbuffer_add(d->collect, buf, n);
}

static int
side_head(struct dkc *d)
{
	d->collect = evbuffer_new();
	d->on_body = side_collect;
	return d->collect ? 0 : -1;
}

static void
add_text(json_object *o, const char *key, struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);

	json_object_object_add(
	    o, key,
	    json_object_new_string_len(n ? (char *)evbuffer_pullup(b, (ev_ssize_t)n) : "", (int)n));
}

static void
exec_answer(struct dkc *d, int ok)
{
	struct stream *s = d->s;
	json_object *ei = NULL, *o = json_object_new_object(), *code;
	size_t n = d->collect ? evbuffer_get_length(d->collect) : 0;
	char perr[64];
	const char *t;

	if (ok && d->h.status == 200 && n)
		ei = jx_parse((char *)evbuffer_pullup(d->collect, (ev_ssize_t)n), n, perr,
		              sizeof(perr));
	/* What it exited with, if it did: without it the answer says null. */
	if (ei && !jx_bool(ei, "Running", 0))
		jx_add_int(o, "exit_code", jx_int(ei, "ExitCode", -1));
	else
		json_object_object_add(o, "exit_code", NULL);
	add_text(o, "stdout", s->out[1]);
	add_text(o, "stderr", s->out[2]);
	jx_add_bool(o, "timed_out", s->timed_out);
	jx_add_bool(o, "truncated", s->truncated);
	code = jx_get(o, "exit_code");
	exec_audit(s, s->timed_out ? "timed_out" : "ok", code);
	s->ms = s; /* answered: the free hook audits nothing more */
	rl_head(s, 200, "application/json", NULL);
	t = jx_text(o);
	rl_write(s, t, strlen(t));
	rl_write(s, "\n", 1);
	json_object_put(o);
	json_object_put(ei);
	rl_finish(s);
}

static void
exec_inspect(struct stream *s)
{
	char path[160];

	if (s->timer)
		event_del(s->timer);
	snprintf(path, sizeof(path), "/exec/%s/json", jx_str(s->tk, "exec"));
	s->side = rl_docker(s, "GET", path, NULL, NULL, 0);
	if (s->side == NULL) {
		rl_fail(s, B_INTERNAL, NULL, "out of memory");
		return;
	}
	s->side->on_head = side_head;
	s->side->on_body = side_collect;
	s->side->on_end = exec_answer;
}

static void
exec_end(struct dkc *d, int ok)
{
	struct stream *s = d->s;

	(void)ok;
	rl_dkc_free(s->main);
	exec_inspect(s);
}

static void
exec_free(struct stream *s)
{
	/* Gone before its answer: the client left (or the relay stopped). */
	if (s->ms == NULL && s->tk)
		exec_audit(s, "client_left", NULL);
	s->ms = NULL;
}

const struct rl_mode rl_modes[TK__COUNT] = {
    [TK_LOGS] = {.name = "logs", .begin = logs_begin, .feed = logs_feed, .end = plain_end},
    [TK_RAW] =
        {.name = "raw", .begin = raw_begin, .feed = raw_feed, .end = raw_end, .free = raw_free},
    [TK_EXEC] = {.name = "exec",
                 .start = exec_start,
                 .begin = exec_begin,
                 .feed = logs_feed,
                 .end = exec_end,
                 .free = exec_free},
    [TK_EVENTS] = {.name = "events",
                   .start = ev_start,
                   .begin = ev_begin,
                   .feed = ev_feed,
                   .end = ev_end,
                   .free = ev_free},
    [TK_TTY] = {.name = "tty",
                .start = tty_start,
                .begin = tty_begin,
                .feed = tty_feed,
                .end = tty_end,
                .from_client = tty_from_client,
                .free = tty_free},
    [TK_WAIT] = {.name = "wait", .start = rl_wait_start, .free = rl_wait_free},
    [TK_SLEEP] = {.name = "sleep", .start = rl_wait_start, .free = rl_wait_free},
    [TK_BUILD] = {.name = "build",
                  .start = rl_build_start,
                  .feed = rl_build_feed,
                  .free = rl_build_free},
};

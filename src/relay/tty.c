/*
 * tty.c - the relay's console mode (ticket mode "tty"): an exec with a
 * terminal, its stdin and output spliced to the caller's upgraded
 * connection.  Two kinds of caller: a WebSocket (browsers: binary frames
 * are the terminal's bytes both ways, text frames JSON control: resize
 * in, exit out) and Upgrade: tcp (the docker CLI's hijack: raw bytes both
 * ways), so the Docker-API door can hand its `exec -it` here as it is.
 * Flow control both ways: a slow client pauses dockerd (rl_write), a
 * dockerd that does not read pauses the client.  The end is audited here;
 * the start is the worker's request line.  A ticket without an exec is
 * the Docker door's attach (hijack): the same splice, no exit code to ask
 * for and no terminal size to set.  See docs/console.md.
 */
#include "berth.h"
#include "relay/relay.h"
#include "relay/tty.h"
#include "relay/ws.h"
#include "lib/json.h"
#include "lib/log.h"
#include "store/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#define TTY_TEXT_MAX 4096        /* one control message */
#define TTY_HIGH     (64 * 1024) /* client bytes queued for dockerd before the client waits */
#define TTY_LOW      (16 * 1024)
#define TTY_SIDE_MAX (64 * 1024) /* of a side answer (exec inspect) */
#define TTY_HOLD_MS  100         /* after the 101, before the first output (see struct tty) */
#define TTY_LATE_MS  30000       /* a late head's longest wait (struct tty late) */

struct tty {
	int ws;      /* 1: WebSocket frames; 0: raw bytes (Upgrade: tcp) */
	int begun;   /* dockerd upgraded, and so did we */
	int ending;  /* dockerd's side ended: inspecting the exit code */
	int closed;  /* the client closed (a close frame): end after this read */
	int audited; /* the end line is written */
	int paused;  /* the client is not read until dockerd took its bytes */
	struct ws_parser wp;
	char text[TTY_TEXT_MAX];
	size_t tlen;
	int tover;              /* the control message was too long */
	int rows, cols, resize; /* a resize waiting for the side connection */
	struct evbuffer_cb_entry *dcb;
	struct event *resume;
	/*
	 * dockerd's first output, held for TTY_HOLD_MS after our 101: seen
	 * under load, bytes that reached nginx in the same read as the 101
	 * went on only once the client sent something (a prompt waiting for
	 * a key); apart from the head they do not (suspected nginx 1.22).
	 */
	struct evbuffer *hold;
	struct event *flow;
	/*
	 * The 101 itself held with the output (ticket late_head: an exec
	 * without stdin for a docker CLI that half-closes at once and insists
	 * on a 101, doors/dkexec.c): sent with the first flush, at the
	 * process's end, TTY_HIGH bytes or TTY_LATE_MS, whichever comes first.
	 */
	int late;
};

static void
tty_audit(struct stream *s, const char *result, json_object *code)
{
	struct tty *t = s->ms;
	json_object *a = json_object_new_object();
	const char *user = jx_str(s->tk, "user");

	t->audited = 1;
	jx_add_int(a, "time", (int64_t)time(NULL));
	jx_add_str(a, "user", *user ? user : NULL);
	jx_add_str(a, "action", jx_str(s->tk, "exec") ? "console end" : "attach end");
	jx_add_str(a, "target", jx_str(s->tk, "target"));
	jx_add_ref(a, "command", jx_get(s->tk, "command"));
	jx_add_str(a, "result", result);
	jx_add_str(a, "request_id", jx_str(s->tk, "rid"));
	json_object_object_add(a, "exit_code", json_object_get(code));
	jx_add_int(a, "duration_ms", b_mono_ms() - s->t0);
	au_write(a);
	json_object_put(a);
}

/* One frame to the client (WebSocket callers only). */
static int
ws_send(struct stream *s, int op, const void *buf, size_t n)
{
	unsigned char hdr[10];
	size_t hl = ws_head(hdr, op, n);

	if (rl_write(s, hdr, hl) != 0)
		return -1;
	return n ? rl_write(s, buf, n) : 0;
}

static void
ws_close(struct stream *s, int code)
{
	unsigned char b[2] = {(unsigned char)(code >> 8), (unsigned char)code};

	ws_send(s, WS_CLOSE, b, 2);
}

/* A JSON control message to the client: {"type":TYPE, ...O's members}. */
static void
ws_json(struct stream *s, json_object *o)
{
	const char *txt = jx_text(o);

	ws_send(s, WS_TEXT, txt, strlen(txt));
	json_object_put(o);
}

static void
ws_error(struct stream *s, const char *msg)
{
	json_object *o = json_object_new_object();

	jx_add_str(o, "type", "error");
	jx_add_str(o, "message", msg);
	ws_json(s, o);
}

/* Ends the console from the client's side (it closed, or broke the protocol). */
static void
client_end(struct stream *s, const char *result, int code)
{
	struct tty *t = s->ms;

	if (t->ws && code)
		ws_close(s, code);
	if (!t->audited)
		tty_audit(s, result, NULL);
	rl_finish(s);
}

/* ---- side calls: resize, and the exit code ------------------------------------ */

static int
side_keep(const char *buf, size_t n, void *arg)
{
	struct dkc *d = arg;

	if (d->collect == NULL || evbuffer_get_length(d->collect) + n > TTY_SIDE_MAX)
		return 1;
	return evbuffer_add(d->collect, buf, n);
}

static int
side_head(struct dkc *d)
{
	d->collect = evbuffer_new();
	return d->collect ? 0 : -1;
}

static void send_resize(struct stream *s);

static void
resize_done(struct dkc *d, int ok)
{
	struct stream *s = d->s;

	if (!ok || d->h.status >= 300)
		log_warn("relay_tty_resize id=%s status=%d", jx_str(s->tk, "rid"), d->h.status);
	rl_dkc_free(d);
	send_resize(s);
}

/* Sends the waiting resize, unless a side call is under way (it sends it when done). */
static void
send_resize(struct stream *s)
{
	struct tty *t = s->ms;
	char path[200];

	if (!t->resize || t->ending || s->side || !jx_str(s->tk, "exec"))
		return;
	t->resize = 0;
	snprintf(path, sizeof(path), "/exec/%s/resize?h=%d&w=%d", jx_str(s->tk, "exec"), t->rows,
	         t->cols);
	s->side = rl_docker(s, "POST", path, NULL, NULL, 0);
	if (s->side == NULL)
		return;
	s->side->on_head = side_head;
	s->side->on_body = side_keep;
	s->side->on_end = resize_done;
}

static void
exit_known(struct dkc *d, int ok)
{
	struct stream *s = d->s;
	struct tty *t = s->ms;
	size_t n = d->collect ? evbuffer_get_length(d->collect) : 0;
	json_object *ei = NULL, *code = NULL, *o;
	char perr[64];

	if (ok && d->h.status == 200 && n)
		ei = jx_parse((char *)evbuffer_pullup(d->collect, (ev_ssize_t)n), n, perr,
		              sizeof(perr));
	if (ei && !jx_bool(ei, "Running", 0))
		code = json_object_new_int64(jx_int(ei, "ExitCode", -1));
	json_object_put(ei);
	if (t->ws) {
		o = json_object_new_object();
		jx_add_str(o, "type", "exit");
		json_object_object_add(o, "code", json_object_get(code));
		ws_json(s, o);
		ws_close(s, WS_NORMAL);
	}
	tty_audit(s, "ok", code);
	json_object_put(code);
	rl_finish(s);
}

static void
inspect_exit(struct stream *s)
{
	char path[160];

	rl_dkc_free(s->side); /* a resize no longer matters */
	if (jx_str(s->tk, "exec") == NULL) {
		/* An attach: the container's own end says it all (the door's wait tells how). */
		tty_audit(s, "ok", NULL);
		rl_finish(s);
		return;
	}
	snprintf(path, sizeof(path), "/exec/%s/json", jx_str(s->tk, "exec"));
	s->side = rl_docker(s, "GET", path, NULL, NULL, 0);
	if (s->side == NULL) {
		client_end(s, "error", WS_NORMAL);
		return;
	}
	s->side->on_head = side_head;
	s->side->on_body = side_keep;
	s->side->on_end = exit_known;
}

/* ---- dockerd's side ------------------------------------------------------------ */

/* dockerd took client bytes: below the low mark, the client is read again. */
static void
dk_out_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct stream *s = arg;
	struct tty *t = s->ms;

	(void)info;
	if (t->paused && evbuffer_get_length(b) <= TTY_LOW) {
		t->paused = 0;
		/* Not from inside the buffer's own callback: the next loop turn. */
		event_active(t->resume, EV_TIMEOUT, 0);
	}
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	(void)fd, (void)what;
	bufferevent_enable(s->up, EV_READ);
	tty_from_client(s, bufferevent_get_input(s->up));
}

/* The hold is over: what dockerd said meanwhile goes out, and the rest as it comes. */
static void
flow_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;
	struct tty *t = s->ms;
	struct evbuffer *b = t->hold;
	size_t n = b ? evbuffer_get_length(b) : 0;

	(void)fd, (void)what;
	t->hold = NULL;
	if (t->late) {
		t->late = 0;
		rl_head(s, 101, "application/vnd.docker.raw-stream",
		        "Upgrade: tcp\r\nConnection: Upgrade\r\n");
	}
	if (n && !s->closing) {
		const char *p = (const char *)evbuffer_pullup(b, (ev_ssize_t)n);
		if (t->ws)
			ws_send(s, WS_BIN, p, n);
		else
			rl_write(s, p, n);
	}
	if (b)
		evbuffer_free(b);
}

int
tty_begin(struct stream *s, struct dkc *d)
{
	struct tty *t = s->ms;
	char acc[WS_ACCEPT_LEN + 1], extra[256];

	if (t->ws) {
		ws_accept(s->uh.ws_key, acc); /* checked at the start */
		snprintf(
		    extra, sizeof(extra),
		    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n",
		    acc);
		rl_head(s, 101, NULL, extra);
	} else if (jx_bool(s->tk, "late_head", 0)) {
		t->late = 1;
	} else {
		rl_head(s, 101, "application/vnd.docker.raw-stream",
		        "Upgrade: tcp\r\nConnection: Upgrade\r\n");
	}
	t->begun = 1;
	t->hold = evbuffer_new();
	if (t->hold && t->late)
		event_add(t->flow, &(struct timeval){.tv_sec = TTY_LATE_MS / 1000});
	else if (t->hold)
		event_add(t->flow, &(struct timeval){.tv_usec = TTY_HOLD_MS * 1000});
	else if (t->late)
		flow_cb(-1, 0, s); /* no buffer for the hold: the head now */
	t->dcb = evbuffer_add_cb(bufferevent_get_output(d->bev), dk_out_cb, s);
	/* The size the caller opened with: an exec takes one only once it runs. */
	if (jx_get(s->tk, "rows")) {
		t->rows = (int)jx_int(s->tk, "rows", 24);
		t->cols = (int)jx_int(s->tk, "cols", 80);
		t->resize = 1;
		send_resize(s);
	}
	/* What the client sent meanwhile (it waited for the head, so hardly anything). */
	event_active(t->resume, EV_TIMEOUT, 0);
	return 0;
}

static int
tty_head(struct dkc *d)
{
	if (d->h.status == 101 || (d->h.status >= 200 && d->h.status < 300))
		return tty_begin(d->s, d);
	d->on_body = side_keep;
	return side_head(d);
}

int
tty_feed(const char *buf, size_t n, void *arg)
{
	struct dkc *d = arg;
	struct tty *t = d->s->ms;

	if (t->hold && evbuffer_get_length(t->hold) + n <= TTY_HIGH)
		return evbuffer_add(t->hold, buf, n);
	if (t->hold)
		flow_cb(-1, 0, d->s); /* a flood: no more holding */
	return t->ws ? ws_send(d->s, WS_BIN, buf, n) : rl_write(d->s, buf, n);
}

void
tty_end(struct dkc *d, int ok)
{
	struct stream *s = d->s;
	struct tty *t = s->ms;

	(void)ok;
	if (!t->begun) {
		if (d->h.status == 0)
			rl_fail(s, B_DOCKER_DOWN, NULL, "dockerd is not answering");
		else
			rl_docker_error(s, d);
		return;
	}
	/* The process ended (or dockerd dropped it): its output first, then how. */
	event_del(t->flow);
	flow_cb(-1, 0, s);
	t->ending = 1;
	evbuffer_remove_cb_entry(bufferevent_get_output(d->bev), t->dcb);
	rl_dkc_free(d);
	inspect_exit(s);
}

/* ---- the client's side ------------------------------------------------------------ */

static void
control(struct stream *s, const char *txt, size_t n)
{
	struct tty *t = s->ms;
	char perr[64];
	json_object *o = jx_parse(txt, n, perr, sizeof(perr));
	const char *type = jx_str(o, "type");
	int64_t cols = jx_int(o, "cols", 0), rows = jx_int(o, "rows", 0);

	if (type == NULL || strcmp(type, "resize") != 0)
		ws_error(s,
		         "control messages are JSON: {\"type\":\"resize\",\"cols\":N,\"rows\":N}");
	else if (cols < 1 || cols > TK_TTY_MAX || rows < 1 || rows > TK_TTY_MAX)
		ws_error(s, "resize: cols and rows must be 1 to 1000");
	else {
		t->cols = (int)cols;
		t->rows = (int)rows;
		t->resize = 1;
		send_resize(s);
	}
	json_object_put(o);
}

static int
on_data(int op, const char *buf, size_t n, int last, void *arg)
{
	struct stream *s = arg;
	struct tty *t = s->ms;

	if (op == WS_BIN)
		return s->main ? evbuffer_add(bufferevent_get_output(s->main->bev), buf, n) : 0;
	if (t->tlen + n > sizeof(t->text))
		t->tover = 1;
	else {
		memcpy(t->text + t->tlen, buf, n);
		t->tlen += n;
	}
	if (last) {
		if (t->tover)
			ws_error(s, "a control message is at most 4096 bytes");
		else
			control(s, t->text, t->tlen);
		t->tlen = 0;
		t->tover = 0;
	}
	return 0;
}

static int
on_control(int op, const char *buf, size_t n, void *arg)
{
	struct stream *s = arg;
	struct tty *t = s->ms;

	if (op == WS_PING)
		return ws_send(s, WS_PONG, buf, n);
	if (op == WS_CLOSE) {
		t->closed =
		    n >= 2 ? ((unsigned char)buf[0] << 8) | (unsigned char)buf[1] : WS_NORMAL;
		return 1; /* stops the parser; the caller ends the stream */
	}
	return 0;
}

static const struct ws_cb ws_hooks = {.data = on_data, .control = on_control};

void
tty_from_client(struct stream *s, struct evbuffer *in)
{
	struct tty *t = s->ms;
	struct evbuffer *out;
	char buf[16384];
	int n;

	if (!t->begun) {
		/* Before the upgrade: kept, and no more read, until it (tty_begin resumes). */
		bufferevent_disable(s->up, EV_READ);
		return;
	}
	if (s->closing)
		return;
	if (t->ending || s->main == NULL) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	out = bufferevent_get_output(s->main->bev);
	while (evbuffer_get_length(in)) {
		if (evbuffer_get_length(out) > TTY_HIGH) {
			/* dockerd is not taking stdin: the client waits (dk_out_cb resumes it). */
			t->paused = 1;
			bufferevent_disable(s->up, EV_READ);
			return;
		}
		if (!t->ws) {
			evbuffer_remove_buffer(in, out, sizeof(buf));
			continue;
		}
		n = evbuffer_remove(in, buf, sizeof(buf));
		if (n <= 0)
			break;
		if (ws_feed(&t->wp, buf, (size_t)n, &ws_hooks, s) < 0) {
			if (t->wp.error)
				client_end(s, "protocol_error", t->wp.error);
			else
				client_end(s, "closed", t->closed ? t->closed : WS_NORMAL);
			return; /* S may be gone */
		}
	}
}

/* ---- the mode -------------------------------------------------------------------- */

int
tty_start(struct stream *s)
{
	struct tty *t = calloc(1, sizeof(*t));
	char acc[WS_ACCEPT_LEN + 1];
	const char *to = s->uh.upgrade_to;

	if (t == NULL || (t->resume = evtimer_new(s->base, resume_cb, s)) == NULL ||
	    (t->flow = evtimer_new(s->base, flow_cb, s)) == NULL) {
		if (t && t->resume)
			event_free(t->resume);
		free(t);
		rl_fail(s, B_INTERNAL, NULL, "out of memory");
		return -1;
	}
	s->ms = t;
	ws_init(&t->wp);
	t->ws = strcasecmp(to, "websocket") == 0;
	if (!s->uh.upgrade || (!t->ws && strcasecmp(to, "tcp") != 0)) {
		rl_fail(
		    s, B_BAD_REQUEST, "Upgrade",
		    "a console is a WebSocket (Upgrade: websocket) or a raw stream (Upgrade: tcp)");
		return -1;
	}
	if (t->ws && ws_accept(s->uh.ws_key, acc) != 0) {
		rl_fail(s, B_BAD_REQUEST, "Sec-WebSocket-Key",
		        "not a WebSocket key (RFC 6455 4.1)");
		return -1;
	}
	s->main = rl_docker(s, jx_str(s->tk, "method"), jx_str(s->tk, "path"),
	                    jx_str(s->tk, "ctype"), jx_str(s->tk, "body"), 1);
	if (s->main == NULL) {
		rl_fail(s, B_INTERNAL, NULL, "out of memory");
		return -1;
	}
	s->main->on_head = tty_head;
	s->main->on_body = tty_feed;
	s->main->on_end = tty_end;
	return 0;
}

void
tty_free(struct stream *s)
{
	struct tty *t = s->ms;

	if (t == NULL)
		return;
	/* Gone before the end: the client left, or the relay stopped. */
	if (!t->audited)
		tty_audit(s, t->begun ? "client_left" : "refused", NULL);
	if (t->dcb && s->main && s->main->bev)
		evbuffer_remove_cb_entry(bufferevent_get_output(s->main->bev), t->dcb);
	if (t->resume)
		event_free(t->resume);
	if (t->flow)
		event_free(t->flow);
	if (t->hold)
		evbuffer_free(t->hold);
	free(t);
	s->ms = NULL;
}

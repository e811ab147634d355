/*
 * relay.c - the stream relay's loop (see relay.h): accepting nginx's
 * connections, taking tickets, the caps, dockerd connections with flow
 * control both ways, and the plain modes (logs, raw, exec).  Events and
 * consoles have files of their own.
 */
#include "berth.h"
#include "relay/relay.h"
#include "lib/cfg.h"
#include "lib/json.h"
#include "lib/log.h"
#include "edge/worker.h"
#include "store/state.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

enum { DKC_HEAD, DKC_BODY, DKC_DONE };
enum { BM_CHUNKED, BM_LEN, BM_CLOSE };

/* Flow control: past HIGH bytes queued for a client, dockerd is not read until LOW. */
#define RL_HIGH   (64 * 1024)
#define RL_LOW    (16 * 1024)
#define RL_ERRMAX (64 * 1024) /* of a dockerd error body */

/* ---- tickets not yet taken ------------------------------------------------ */

#define PEND_MAX 4096

struct pending {
	json_object *tk;
	int64_t at; /* mono ms it arrived */
};

static struct pending pend[PEND_MAX];
static size_t npend;
static int tk_in = -1;

static void
pend_expire(void)
{
	int64_t now = b_mono_ms();
	size_t j = 0;

	for (size_t i = 0; i < npend; i++) {
		if (now - pend[i].at > TK_TTL_MS) {
			st_spool_del(jx_str(pend[i].tk, "body_file")); /* nobody will send it now */
			json_object_put(pend[i].tk);
		} else
			pend[j++] = pend[i];
	}
	npend = j;
}

static void
inbox_drain(void)
{
	static char buf[TK_MAX_SIZE + 1];
	char err[128];
	ssize_t n;

	while ((n = recv(tk_in, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		json_object *tk;
		if (tk_parse(buf, (size_t)n, &tk, err, sizeof(err)) != 0) {
			log_warn("relay_ticket_refused error=\"%s\"", err);
			continue;
		}
		if (npend == PEND_MAX) {
			pend_expire();
			if (npend == PEND_MAX) { /* a flood of untaken tickets: the oldest goes */
				st_spool_del(jx_str(pend[0].tk, "body_file"));
				json_object_put(pend[0].tk);
				memmove(pend, pend + 1, (PEND_MAX - 1) * sizeof(pend[0]));
				npend--;
			}
		}
		pend[npend++] = (struct pending){.tk = tk, .at = b_mono_ms()};
	}
}

/* The ticket ID, taken (the caller's reference), or NULL: unknown, used or expired. */
static json_object *
pend_take(const char *id)
{
	inbox_drain();
	pend_expire();
	for (size_t i = 0; i < npend; i++) {
		json_object *tk = pend[i].tk;
		if (strcmp(jx_str(tk, "id"), id) != 0)
			continue;
		pend[i] = pend[--npend];
		return tk;
	}
	return NULL;
}

static void
on_ticket(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	inbox_drain();
}

/* ---- caps ------------------------------------------------------------------ */

struct held {
	char user[BERTH_NAME_MAX + 1];
	int n;
};

static struct held *held;
static size_t nheld, held_cap;
static int total_held;

static struct held *
held_of(const char *user, int add)
{
	for (size_t i = 0; i < nheld; i++)
		if (strcmp(held[i].user, user) == 0)
			return &held[i];
	if (!add)
		return NULL;
	if (nheld == held_cap) {
		size_t nc = held_cap ? held_cap * 2 : 64;
		struct held *nh = realloc(held, nc * sizeof(*nh));
		if (nh == NULL)
			return NULL;
		held = nh;
		held_cap = nc;
	}
	memset(&held[nheld], 0, sizeof(held[0]));
	snprintf(held[nheld].user, sizeof(held[0].user), "%s", user);
	return &held[nheld++];
}

/* 0 and a slot taken, or -1 with S answered 429 naming the cap. */
static int
admit(struct stream *s)
{
	const char *user = jx_str(s->tk, "user");
	const char *who = *user ? user : "anonymous";
	struct held *h = held_of(user, 1);

	if (total_held >= g_cfg->streams.total) {
		rl_fail(
		    s, B_TOO_MANY, "streams.total",
		    "berth holds %d streams, its global cap (berth.conf streams.total); try again "
		    "once some end",
		    total_held);
		return -1;
	}
	if (h == NULL || h->n >= g_cfg->streams.per_user) {
		rl_fail(s, B_TOO_MANY, "streams.per_user",
		        "%s holds %d streams, the cap per user (berth.conf streams.per_user); "
		        "close one "
		        "first",
		        who, h ? h->n : 0);
		return -1;
	}
	h->n++;
	total_held++;
	s->counted = 1;
	return 0;
}

static void
release(struct stream *s)
{
	struct held *h;

	if (!s->counted)
		return;
	s->counted = 0;
	total_held--;
	h = held_of(jx_str(s->tk, "user"), 0);
	if (h && --h->n == 0)
		*h = held[--nheld];
}

/* ---- streams --------------------------------------------------------------- */

static int nstreams;
static int stopping;
static struct event_base *g_base;
static struct stream *streams; /* every one held (stream_free unlinks) */

void
rl_dkc_free(struct dkc *d)
{
	if (d == NULL)
		return;
	if (d->bev)
		bufferevent_free(d->bev);
	if (d->collect)
		evbuffer_free(d->collect);
	if (d->s && d->s->main == d)
		d->s->main = NULL;
	if (d->s && d->s->side == d)
		d->s->side = NULL;
	free(d);
}

static void
stream_free(struct stream *s)
{
	const struct rl_mode *m = s->started ? &rl_modes[s->mode] : NULL;

	if (m && m->free)
		m->free(s);
	if (s->tk)
		log_info("relay_stream id=%s mode=%s user=\"%s\" status=%d dur_ms=%lld",
		         jx_str(s->tk, "rid"), rl_modes[s->mode].name, jx_str(s->tk, "user"),
		         s->status, (long long)(b_mono_ms() - s->t0));
	rl_dkc_free(s->main);
	rl_dkc_free(s->side);
	if (s->timer)
		event_free(s->timer);
	for (int i = 1; i < 3; i++)
		if (s->out[i])
			evbuffer_free(s->out[i]);
	release(s);
	json_object_put(s->tk);
	bufferevent_free(s->up);
	if (s->prev)
		s->prev->next = s->next;
	else
		streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	free(s);
	if (--nstreams == 0 && stopping)
		event_base_loopexit(g_base, NULL);
}

void
rl_head(struct stream *s, int status, const char *ctype, const char *extra)
{
	const char *rid = s->tk ? jx_str(s->tk, "rid") : NULL;

	if (s->answered)
		return;
	s->answered = 1;
	s->status = status;
	evbuffer_add_printf(bufferevent_get_output(s->up),
	                    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	                    "X-Accel-Buffering: no\r\nX-Request-Id: %s\r\n%s%s\r\n",
	                    status, berr_reason(status), ctype ? ctype : "application/octet-stream",
	                    rid ? rid : "-", extra ? extra : "",
	                    s->uh.upgrade && status == 101 ? "" : "Connection: close\r\n");
}

int
rl_write(struct stream *s, const void *buf, size_t n)
{
	struct evbuffer *out = bufferevent_get_output(s->up);

	if (s->closing)
		return -1;
	if (n && evbuffer_add(out, buf, n) != 0)
		return -1;
	/* A slow client: stop reading dockerd until it caught up (write callback). */
	if (evbuffer_get_length(out) > RL_HIGH && s->main && s->main->bev)
		bufferevent_disable(s->main->bev, EV_READ);
	return 0;
}

void
rl_finish(struct stream *s)
{
	s->closing = 1;
	rl_dkc_free(s->main);
	rl_dkc_free(s->side);
	if (evbuffer_get_length(bufferevent_get_output(s->up)) == 0)
		stream_free(s);
	/* else up_write frees it once the rest went out */
}

void
rl_fail(struct stream *s, enum berr e, const char *field, const char *fmt, ...)
{
	json_object *root, *err;
	char msg[512];
	va_list ap;
	const char *t;

	if (s->answered) {
		rl_finish(s);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	root = json_object_new_object();
	/* The Docker door's clients read Docker's {"message"} (doors/docker.c dd_error). */
	if (s->tk && jx_str(s->tk, "door") && strcmp(jx_str(s->tk, "door"), "docker") == 0) {
		jx_add_str(root, "message", msg);
		goto answer;
	}
	err = json_object_new_object();
	jx_add_str(err, "code", berr_code(e));
	jx_add_str(err, "message", msg);
	if (field)
		jx_add_str(err, "field", field);
	if (s->tk)
		jx_add_str(err, "request_id", jx_str(s->tk, "rid"));
	json_object_object_add(root, "error", err);
answer:
	rl_head(s, berr_status(e), "application/json", NULL);
	t = jx_text(root);
	evbuffer_add(bufferevent_get_output(s->up), t, strlen(t));
	evbuffer_add(bufferevent_get_output(s->up), "\n", 1);
	json_object_put(root);
	rl_finish(s);
}

/* ---- dockerd connections ---------------------------------------------------- */

static int
dkc_collect(const char *buf, size_t n, void *arg)
{
	struct dkc *d = arg;

	if (evbuffer_get_length(d->collect) + n > RL_ERRMAX)
		return 1;
	return evbuffer_add(d->collect, buf, n);
}

/* Feeds the body bytes in IN to the decoder; returns 1 when the body ended, -1 on error. */
static int
dkc_body(struct dkc *d, struct evbuffer *in)
{
	char buf[16384];
	int n;

	while ((n = evbuffer_remove(in, buf, sizeof(buf))) > 0) {
		size_t k = (size_t)n;
		if (d->bm == BM_CHUNKED) {
			ssize_t used = ck_feed(&d->ck, buf, k, d->on_body, d);
			if (used < 0)
				return -1;
			if (d->ck.done)
				return 1;
		} else if (d->bm == BM_LEN) {
			if ((long long)k > d->left)
				k = (size_t)d->left;
			if (k && d->on_body(buf, k, d) != 0)
				return -1;
			d->left -= (long long)k;
			if (d->left == 0)
				return 1;
		} else if (d->on_body(buf, k, d) != 0) {
			return -1;
		}
		/* The stream may have paused reading (flow control) or ended meanwhile. */
		if (d->state != DKC_BODY ||
		    (d->bev && !(bufferevent_get_enabled(d->bev) & EV_READ)))
			return 0;
	}
	return 0;
}

static void
dkc_end(struct dkc *d, int ok)
{
	d->state = DKC_DONE;
	d->on_end(d, ok);
}

static int
dkc_head(struct dkc *d, struct evbuffer *in)
{
	char *line;
	size_t n;
	int r;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		r = hh_line(&d->h, line, n);
		free(line);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		/* 1xx other than 101 (100 Continue) comes before the real head. */
		if (d->h.status >= 100 && d->h.status < 200 && d->h.status != 101) {
			hh_init(&d->h, 0);
			continue;
		}
		d->state = DKC_BODY;
		if (d->h.status == 101)
			d->bm = BM_CLOSE;
		else if (d->h.chunked)
			d->bm = BM_CHUNKED;
		else if (d->h.clen >= 0)
			d->bm = BM_LEN, d->left = d->h.clen;
		else
			d->bm = BM_CLOSE;
		return 1;
	}
	return evbuffer_get_length(in) > HH_MAX_HEAD ? -1 : 0;
}

/* Reads what arrived; returns 1 when D ended (and may be freed with its stream). */
static int
dkc_pump(struct dkc *d)
{
	struct evbuffer *in = bufferevent_get_input(d->bev);
	int r;

	if (d->state == DKC_HEAD) {
		r = dkc_head(d, in);
		if (r < 0) {
			dkc_end(d, 0);
			return 1;
		}
		if (r == 0)
			return 0;
		if (d->on_head(d) != 0)
			return 1;
		if (d->bm == BM_LEN && d->left == 0) {
			dkc_end(d, 1);
			return 1;
		}
	}
	if (d->state != DKC_BODY)
		return 0;
	r = dkc_body(d, in);
	if (r == 0)
		return 0;
	dkc_end(d, r > 0);
	return 1;
}

static void
dkc_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	dkc_pump(arg);
}

static void
dkc_event(struct bufferevent *bev, short what, void *arg)
{
	struct dkc *d = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;
	/* What was read before the close still counts. */
	if (d->state != DKC_DONE && evbuffer_get_length(bufferevent_get_input(bev)) && dkc_pump(d))
		return;
	if (d->state == DKC_DONE)
		return;
	dkc_end(d, d->state == DKC_BODY && d->bm == BM_CLOSE && (what & BEV_EVENT_EOF));
}

/*
 * rl_docker, the body being BODY or else BLEN bytes of the file open on BFD
 * (taken), with one more header line EXTRA (a pull's X-Registry-Auth) or NULL.
 */
static struct dkc *
docker_req(struct stream *s, const char *method, const char *path, const char *ctype,
           const char *body, int bfd, size_t blen, int upgrade, const char *extra)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct dkc *d = calloc(1, sizeof(*d));
	struct evbuffer *o;

	if (body)
		blen = strlen(body);
	if (d == NULL) {
		if (bfd >= 0)
			close(bfd);
		return NULL;
	}
	d->s = s;
	hh_init(&d->h, 0);
	d->bev = bufferevent_socket_new(s->base, -1, BEV_OPT_CLOSE_ON_FREE);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", g_cfg->docker_socket);
	if (d->bev == NULL) {
		if (bfd >= 0)
			close(bfd);
		free(d);
		return NULL;
	}
	bufferevent_setcb(d->bev, dkc_read, NULL, dkc_event, d);
	o = bufferevent_get_output(d->bev);
	evbuffer_add_printf(o, "%s /%s%s HTTP/1.1\r\nHost: docker\r\nUser-Agent: berth-relay\r\n",
	                    method, g_cfg->docker_api, path);
	if (ctype)
		evbuffer_add_printf(o, "Content-Type: %s\r\n", ctype);
	if (extra && extra[0] && !strpbrk(extra, "\r\n"))
		evbuffer_add_printf(o, "%s\r\n", extra);
	if (body || bfd >= 0 || strcmp(method, "POST") == 0)
		evbuffer_add_printf(o, "Content-Length: %zu\r\n", blen);
	if (upgrade)
		evbuffer_add_printf(o, "Connection: Upgrade\r\nUpgrade: tcp\r\n");
	evbuffer_add(o, "\r\n", 2);
	if (body && blen)
		evbuffer_add(o, body, blen);
	/* A file body goes out from the file (sendfile or mmap), never copied whole. */
	if (bfd >= 0 && (blen == 0 || evbuffer_add_file(o, bfd, 0, (ev_off_t)blen) != 0))
		close(bfd);
	if (bufferevent_socket_connect(d->bev, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		/* The error event already ran, or will: the caller learns it in on_end. */
	}
	bufferevent_enable(d->bev, EV_READ | EV_WRITE);
	return d;
}

struct dkc *
rl_docker(struct stream *s, const char *method, const char *path, const char *ctype,
          const char *body, int upgrade)
{
	return docker_req(s, method, path, ctype, body, -1, 0, upgrade, NULL);
}

void
rl_docker_error(struct stream *s, struct dkc *d)
{
	json_object *o = NULL;
	char perr[64], *body;
	size_t n = d->collect ? evbuffer_get_length(d->collect) : 0;
	int st = d->h.status;
	enum berr e = st == 404   ? B_NOT_FOUND
	              : st == 409 ? B_CONFLICT
	              : st == 400 ? B_BAD_REQUEST
	                          : B_DOCKER;

	body = n ? (char *)evbuffer_pullup(d->collect, (ev_ssize_t)n) : NULL;
	if (body)
		o = jx_parse(body, n, perr, sizeof(perr));
	rl_fail(s, e, NULL, "dockerd: %s",
	        jx_str(o, "message") ? jx_str(o, "message") : berr_reason(st));
	json_object_put(o);
}

/* The default hooks: non-2xx answers become errors; the rest goes to the mode. */
static int
main_head(struct dkc *d)
{
	struct stream *s = d->s;

	if (d->h.status >= 300) {
		d->collect = evbuffer_new();
		d->on_body = dkc_collect;
		return 0;
	}
	return rl_modes[s->mode].begin(s, d);
}

static void
main_end(struct dkc *d, int ok)
{
	struct stream *s = d->s;

	if (d->collect && d->h.status >= 300) {
		rl_docker_error(s, d);
		return;
	}
	if (d->h.status == 0) {
		rl_fail(s, B_DOCKER_DOWN, NULL, "dockerd is not answering on %s",
		        g_cfg->docker_socket);
		return;
	}
	rl_modes[s->mode].end(d, ok);
}

int
rl_start_default(struct stream *s)
{
	const struct rl_mode *m = &rl_modes[s->mode];
	const char *file = jx_str(s->tk, "body_file");
	size_t flen = 0;
	int bfd = -1;

	if (file && (bfd = st_spool_take(file, &flen)) < 0) {
		rl_fail(s, B_INTERNAL, NULL, "the request's body file is gone: %s",
		        strerror(errno));
		return -1;
	}
	s->main =
	    docker_req(s, jx_str(s->tk, "method"), jx_str(s->tk, "path"), jx_str(s->tk, "ctype"),
	               jx_str(s->tk, "body"), bfd, flen, 0, jx_str(s->tk, "header"));
	if (s->main == NULL) {
		rl_fail(s, B_INTERNAL, NULL, "out of memory");
		return -1;
	}
	s->main->on_head = main_head;
	s->main->on_body = m->feed;
	s->main->on_end = main_end;
	return 0;
}

/* ---- the client side -------------------------------------------------------- */

static void
start(struct stream *s)
{
	const char *t = s->uh.target;
	const struct rl_mode *m;

	s->started = 1;
	s->uh.target[strcspn(s->uh.target, "?")] = '\0';
	if (strncmp(t, TK_HELD, sizeof(TK_HELD) - 1) == 0)
		t += sizeof(TK_HELD) - 1;
	else if (strncmp(t, TK_PREFIX, sizeof(TK_PREFIX) - 1) == 0)
		t += sizeof(TK_PREFIX) - 1;
	else
		t = NULL;
	if (t == NULL || (s->tk = pend_take(t)) == NULL) {
		s->mode = TK_RAW;
		rl_fail(s, B_NOT_FOUND, NULL,
		        "no such stream ticket (used already, or older than %d s)",
		        TK_TTL_MS / 1000);
		return;
	}
	s->mode = tk_mode(s->tk);
	if (admit(s) != 0)
		return;
	m = &rl_modes[s->mode];
	if (m->start ? m->start(s) : rl_start_default(s))
		return;
}

static void
up_read(struct bufferevent *bev, void *arg)
{
	struct stream *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t n;

	while (!s->started && (line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		int r = hh_line(&s->uh, line, n);
		free(line);
		if (r < 0) {
			s->started = 1;
			s->mode = TK_RAW;
			rl_fail(s, B_BAD_REQUEST, NULL, "malformed request to the relay");
			return;
		}
		if (r == 1) {
			start(s);
			return; /* S may be gone */
		}
	}
	if (!s->started) {
		if (evbuffer_get_length(in) > HH_MAX_HEAD) {
			s->started = 1;
			s->mode = TK_RAW;
			rl_fail(s, B_BAD_REQUEST, NULL, "request head too large");
		}
		return;
	}
	if (rl_modes[s->mode].from_client && !s->closing)
		rl_modes[s->mode].from_client(s, in);
	else
		evbuffer_drain(in, evbuffer_get_length(in));
}

static void
up_write(struct bufferevent *bev, void *arg)
{
	struct stream *s = arg;

	if (s->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			stream_free(s);
		return;
	}
	/* Drained to the low mark: read dockerd again. */
	if (s->main && s->main->bev && s->main->state == DKC_BODY &&
	    !(bufferevent_get_enabled(s->main->bev) & EV_READ)) {
		bufferevent_enable(s->main->bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_input(s->main->bev)))
			dkc_pump(s->main);
	}
}

static void
up_event(struct bufferevent *bev, short what, void *arg)
{
	struct stream *s = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		/* The client left (nginx closed): its slot is free now. */
		stream_free(s);
	}
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct stream *s;

	(void)l, (void)sa, (void)len, (void)arg;
	if (stopping || (s = calloc(1, sizeof(*s))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	s->base = g_base;
	s->t0 = b_mono_ms();
	hh_init(&s->uh, 1);
	s->up = bufferevent_socket_new(g_base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (s->up == NULL) {
		evutil_closesocket(fd);
		free(s);
		return;
	}
	nstreams++;
	s->next = streams;
	if (streams)
		streams->prev = s;
	streams = s;
	bufferevent_setcb(s->up, up_read, up_write, up_event, s);
	bufferevent_setwatermark(s->up, EV_WRITE, RL_LOW, 0);
	bufferevent_enable(s->up, EV_READ | EV_WRITE);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct evconnlistener *l = arg;

	(void)what;
	if (sig == SIGHUP) {
		wk_reload();
		return;
	}
	/* SIGTERM: take no new streams; the held ones end with their clients or dockerd. */
	stopping = 1;
	evconnlistener_disable(l);
	if (nstreams == 0)
		event_base_loopexit(g_base, NULL);
	else {
		struct timeval tv = {2, 0};
		event_base_loopexit(g_base, &tv);
	}
}

/* Two fds per stream: take the hard limit, or 1,000 streams would not fit. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
rl_run(int lfd, int tfd)
{
	struct evconnlistener *l;
	struct event *te, *sterm, *sint, *shup;

	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	tk_in = tfd;
	g_base = event_base_new();
	if (g_base == NULL)
		return 1;
	evutil_make_socket_nonblocking(lfd);
	/* Backlog 0: LFD listens already (main.c's deep queue); -1 would cut it to 128. */
	l = evconnlistener_new(g_base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE, 0, lfd);
	te = event_new(g_base, tfd, EV_READ | EV_PERSIST, on_ticket, NULL);
	sterm = evsignal_new(g_base, SIGTERM, on_signal, l);
	sint = evsignal_new(g_base, SIGINT, on_signal, l);
	shup = evsignal_new(g_base, SIGHUP, on_signal, l);
	if (l == NULL || te == NULL || sterm == NULL || sint == NULL || shup == NULL)
		return 1;
	event_add(te, NULL);
	event_add(sterm, NULL);
	event_add(sint, NULL);
	event_add(shup, NULL);
	log_info("relay_started streams_per_user=%d streams_total=%d", g_cfg->streams.per_user,
	         g_cfg->streams.total);
	event_base_dispatch(g_base);
	log_info("relay_stopped streams=%d", nstreams);
	/* What outlived the grace period ends here (and leak checkers see nothing left). */
	stopping = 0;
	while (streams)
		stream_free(streams);
	for (size_t i = 0; i < npend; i++)
		json_object_put(pend[i].tk);
	npend = 0;
	free(held);
	held = NULL;
	nheld = held_cap = 0;
	event_free(te);
	event_free(sterm);
	event_free(sint);
	event_free(shup);
	evconnlistener_free(l);
	event_base_free(g_base);
	return 0;
}

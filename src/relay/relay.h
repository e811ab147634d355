/*
 * relay.h - the stream relay: one event-driven process (libevent) that holds
 * every long answer berth gives (log follows, exec output, events, consoles),
 * so a held stream costs a few kilobytes here instead of a worker.  Workers
 * authorise and mint a ticket (relay/ticket.h); nginx proxies the internal
 * redirect here; the relay replays the ticketed Docker request on its own
 * connection to dockerd and shapes the answer by the ticket's mode.  It alone
 * counts streams, so the per-user and global caps (berth.conf streams) are
 * exact.  Modes are a table (relay.c); each mode's file fills one entry.
 */
#ifndef BERTH_RELAY_H
#define BERTH_RELAY_H

#include "berth.h"
#include "relay/http.h"
#include "relay/ticket.h"
#include "res/containers.h"

#include <json-c/json.h>
#include <stdint.h>

struct event_base;
struct bufferevent;
struct evbuffer;
struct event;
struct stream;

/* One connection to dockerd: the stream's own request, or a short call on the side. */
struct dkc {
	struct bufferevent *bev;
	struct stream *s;
	struct hh h;
	struct ck ck;
	int state;                /* DKC_HEAD, DKC_BODY, DKC_DONE */
	int bm;                   /* how the body ends: BM_CHUNKED, BM_LEN, BM_CLOSE */
	long long left;           /* BM_LEN */
	struct evbuffer *collect; /* the whole body, when the caller wants it at the end */
	/* dockerd answered (head parsed): 0 go on, -1 the caller ended things */
	int (*on_head)(struct dkc *d);
	/* a piece of body: non-zero stops */
	int (*on_body)(const char *buf, size_t n, void *arg);
	/* the body ended (OK 1) or the connection failed (OK 0) */
	void (*on_end)(struct dkc *d, int ok);
};

struct stream {
	struct event_base *base;
	struct bufferevent *up; /* nginx's connection */
	struct hh uh;           /* its request head */
	json_object *tk;
	enum tk_mode mode;
	int started;      /* the head was read and the ticket taken */
	int counted;      /* holds a slot of its user's cap */
	int answered;     /* our status line went out */
	int closing;      /* close once the output drained */
	int64_t t0;       /* mono ms */
	int status;       /* what our head said, for the log */
	struct dkc *main; /* the ticketed Docker request */
	struct dkc *side; /* a short call after it (exec inspect) */
	struct ct_demux dm;
	struct event *timer;
	/* exec: what it printed, up to the cap */
	struct evbuffer *out[3];
	int truncated, timed_out;
	void *ms;                   /* the mode's own state (freed by its free hook) */
	struct stream *prev, *next; /* every stream held, so a stopping relay frees them all */
};

/* One mode: how its ticket turns into an answer. */
struct rl_mode {
	const char *name;
	/* start the stream (default: open the ticketed request with the hooks below) */
	int (*start)(struct stream *s);
	/* dockerd answered 2xx (or 101): send our head */
	int (*begin)(struct stream *s, struct dkc *d);
	/* body bytes, dechunked (ARG: the dkc); non-zero stops, never ends the stream itself */
	int (*feed)(const char *buf, size_t n, void *arg);
	/* the body ended (OK) or broke */
	void (*end)(struct dkc *d, int ok);
	/* bytes from the client after the head (upgraded connections) */
	void (*from_client)(struct stream *s, struct evbuffer *in);
	void (*free)(struct stream *s);
};

extern const struct rl_mode rl_modes[TK__COUNT];

/* The relay's main loop: listens on LFD, takes tickets from TFD.  Returns at SIGTERM. */
int rl_run(int lfd, int tfd);

/* Our answer's head (once); EXTRA is more header lines, each ending in CRLF. */
void rl_head(struct stream *s, int status, const char *ctype, const char *extra);
/* Body bytes to the client, flow-controlled against dockerd's side. */
int rl_write(struct stream *s, const void *buf, size_t n);
/* berth's JSON error, or (once the answer began) just the end of the stream. */
void rl_fail(struct stream *s, enum berr e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Ends the answer: the connection closes once what is queued has gone out. */
void rl_finish(struct stream *s);
/* Opens a request to dockerd for S (PATH without the API version). */
struct dkc *rl_docker(struct stream *s, const char *method, const char *path, const char *ctype,
                      const char *body, int upgrade);
void rl_dkc_free(struct dkc *d);
/* The usual start: the ticket's own request, its answer through the mode's hooks. */
int rl_start_default(struct stream *s);
/* A dockerd error answer as berth's error (status, and its {"message"} body). */
void rl_docker_error(struct stream *s, struct dkc *d);

#endif

/*
 * http.h - the little HTTP/1.1 the relay needs, on both of its sides: the
 * head of the request nginx forwards (an internal redirect: a request line
 * and headers, never a body), the head of dockerd's answer, and the chunked
 * body decoder.  libevent's evhttp cannot hand over a connection that
 * dockerd hijacks (attach, exec) or that nginx upgrades, so the relay keeps
 * raw bufferevents and parses these few lines itself.  Every input here is
 * fuzzed (tests/fuzz/fuzz_relay.c).
 */
#ifndef BERTH_RELAY_HTTP_H
#define BERTH_RELAY_HTTP_H

#include <stddef.h>
#include <sys/types.h>

#define HH_MAX_HEAD 16384 /* bytes of one head, request line to blank line */

struct hh {
	int request;      /* 1: a request head (from nginx); 0: a response (from dockerd) */
	int lines;        /* lines seen so far */
	size_t bytes;     /* of the head so far */
	int status;       /* response */
	char target[256]; /* request: the path, e.g. /.berth-relay/<ticket> */
	long long clen;   /* Content-Length; -1: none */
	int chunked;      /* Transfer-Encoding: chunked */
	int upgrade;      /* Connection names upgrade and an Upgrade header came */
	char upgrade_to[32];
	char ctype[128];
	char ws_key[64];        /* Sec-WebSocket-Key */
	char last_event_id[40]; /* Last-Event-ID (SSE resume) */
};

void hh_init(struct hh *h, int request);
/*
 * One line of the head without its CRLF.  Returns 1 when LINE was the blank
 * line that ends the head, 0 for more to come, -1 when the head is not
 * HTTP this relay accepts (the caller answers 400 or drops dockerd's reply).
 */
int hh_line(struct hh *h, const char *line, size_t n);

/* Chunked transfer decoding, fed any split of the bytes. */
struct ck {
	int state;
	unsigned long long left; /* of the current chunk */
	int digits;
	int done; /* the last chunk and its trailer arrived */
};
typedef int (*ck_emit)(const char *buf, size_t n, void *arg);
/*
 * Decodes N bytes of IN, handing each piece of body to EMIT (non-zero from
 * it stops).  Returns bytes consumed (less than N only once done), or -1 on
 * a malformed stream or when EMIT stopped.
 */
ssize_t ck_feed(struct ck *c, const char *in, size_t n, ck_emit emit, void *arg);

#endif

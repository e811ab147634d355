/*
 * ws.h - the server side of WebSocket (RFC 6455) the relay's consoles
 * speak: the handshake's accept value, a parser of the client's frames
 * (masked, maybe fragmented, with pings and a close among them) fed any
 * split of the bytes, and the head of the frames the relay sends.  No I/O
 * here and no libevent: the parser is fuzzed alone (tests/fuzz/fuzz-ws.c).
 */
#ifndef BERTH_RELAY_WS_H
#define BERTH_RELAY_WS_H

#include <stddef.h>
#include <sys/types.h>

enum ws_op { WS_CONT = 0, WS_TEXT = 1, WS_BIN = 2, WS_CLOSE = 8, WS_PING = 9, WS_PONG = 10 };

/* Close codes the relay sends (RFC 6455 7.4.1). */
#define WS_NORMAL     1000
#define WS_PROTOCOL   1002
#define WS_TOO_BIG    1009
#define WS_MAX_CTL    125        /* payload of a control frame */
#define WS_MAX_FRAME  (1u << 20) /* payload of one client frame the relay takes */
#define WS_ACCEPT_LEN 28         /* base64 of a SHA-1 */

/*
 * The Sec-WebSocket-Accept value for the client's KEY into OUT (NUL
 * ended): base64(SHA-1(KEY + the RFC's GUID)).  -1 when KEY is not the
 * base64 of 16 bytes the RFC requires.
 */
int ws_accept(const char *key, char out[WS_ACCEPT_LEN + 1]);

/* What the parser hands on. */
struct ws_cb {
	/*
	 * A piece of a data message's payload, unmasked: OP is the message's
	 * (WS_TEXT or WS_BIN, also for its continuation frames); LAST is 1 on
	 * the piece that ends the message.  Non-zero stops the parser.
	 */
	int (*data)(int op, const char *buf, size_t n, int last, void *arg);
	/* A whole control frame (WS_CLOSE, WS_PING, WS_PONG), at most WS_MAX_CTL bytes. */
	int (*control)(int op, const char *buf, size_t n, void *arg);
};

struct ws_parser {
	unsigned char hdr[14];
	size_t hlen;             /* header bytes gathered */
	int op, fin;             /* the current frame's */
	unsigned char mask[4];   /* its masking key */
	unsigned long long left; /* payload bytes still to come */
	unsigned long long pos;  /* payload bytes seen, for the mask */
	int msg;                 /* opcode of the data message under way (0: none) */
	char ctl[WS_MAX_CTL];
	size_t ctl_len;
	int error; /* after -1: the close code to send (WS_PROTOCOL, WS_TOO_BIG) */
};

void ws_init(struct ws_parser *p);
/*
 * Parses N bytes of IN.  Returns N, or -1 on a frame the server must
 * refuse (unmasked, reserved bits or opcodes, a control frame too long or
 * fragmented, a continuation of nothing, a frame over WS_MAX_FRAME: close
 * with p->error) or when a callback stopped (p->error 0).
 */
ssize_t ws_feed(struct ws_parser *p, const char *in, size_t n, const struct ws_cb *cb, void *arg);

/* The head of one unmasked, final server frame of N bytes into HDR; returns its length. */
size_t ws_head(unsigned char hdr[10], int op, size_t n);

#endif

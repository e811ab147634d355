/*
 * fuzz-ws.c - the relay's WebSocket frame parser (src/relay/ws.c) on what a
 * client may send a console, in arbitrary chunkings: however the bytes are
 * split across reads, the messages and control frames that come out, and
 * whether and how it refuses, must be what one piece gives.  Each piece
 * handed on obeys the RFC's bounds (control frames at most 125 bytes, data
 * only of text or binary messages, one LAST per message).  Also: the
 * handshake's accept value for any key, and a frame built with ws_head and
 * masked as a client would parses back to its payload.
 * Input: byte 0 = seed of the chunk sizes, byte 1 = where a callback stops
 * (0 never), the rest = the client's bytes.
 */
#include "fuzz.h"

#include "../../src/relay/ws.h"

struct sink {
	unsigned char *buf;
	size_t len, cap;
	size_t stop_at; /* stop once this many events came (0 never) */
	size_t events;
	int in_msg; /* a data message's opcode, between its first piece and its LAST */
};

static void
put(struct sink *s, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2 + 64;
		s->buf = realloc(s->buf, s->cap);
		if (s->buf == NULL)
			abort();
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static int
on_data(int op, const char *buf, size_t n, int last, void *arg)
{
	struct sink *s = arg;
	unsigned char tag[2] = {(unsigned char)op, (unsigned char)last};

	if (op != WS_TEXT && op != WS_BIN)
		abort();
	if (s->in_msg && s->in_msg != op)
		abort(); /* a message's pieces keep its opcode */
	s->in_msg = last ? 0 : op;
	/* Pieces split differently with the chunks: record bytes, and where messages end. */
	put(s, buf, n);
	if (last)
		put(s, tag, 2);
	return s->stop_at && ++s->events >= s->stop_at;
}

static int
on_control(int op, const char *buf, size_t n, void *arg)
{
	struct sink *s = arg;
	unsigned char tag[2] = {0xc0, (unsigned char)op};

	if ((op != WS_CLOSE && op != WS_PING && op != WS_PONG) || n > WS_MAX_CTL)
		abort();
	put(s, tag, 2);
	put(s, buf, n);
	return s->stop_at && ++s->events >= s->stop_at;
}

static const struct ws_cb cb = {.data = on_data, .control = on_control};

/* Feeds DATA in pieces (SEED 0: one); returns the parser's verdict: 0 ok, else 1 + its error. */
static int
run(const uint8_t *data, size_t size, unsigned seed, size_t stop_at, struct sink *s)
{
	struct ws_parser p;
	size_t off = 0;

	memset(s, 0, sizeof(*s));
	s->stop_at = stop_at;
	ws_init(&p);
	while (off < size) {
		size_t k = seed ? 1 + (seed % 17) : size - off;
		if (k > size - off)
			k = size - off;
		seed = seed * 1103515245u + 12345u;
		if (ws_feed(&p, (const char *)data + off, k, &cb, s) < 0)
			return 1 + p.error;
		off += k;
	}
	return 0;
}

/* A client's masked frame of DATA's first bytes parses back to exactly them. */
static void
round_trip(const uint8_t *data, size_t size)
{
	size_t n = size > 70000 ? 70000 : size;
	unsigned char hdr[10], mask[4] = {0x12, 0x34, 0x56, 0x78};
	unsigned char *f = malloc(n + 14);
	size_t hl = ws_head(hdr, WS_BIN, n);
	struct sink s;

	if (f == NULL)
		abort();
	memcpy(f, hdr, hl);
	f[1] |= 0x80;
	memcpy(f + hl, mask, 4);
	for (size_t i = 0; i < n; i++)
		f[hl + 4 + i] = data[i] ^ mask[i & 3];
	if (run(f, hl + 4 + n, 0, 0, &s) != 0 || s.len != n + 2 || memcmp(s.buf, data, n) != 0)
		abort();
	free(s.buf);
	free(f);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fz_setup(NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sink whole, pieces, stopped;
	char key[64], acc[WS_ACCEPT_LEN + 1];
	int r1, r2, r3;

	if (size < 2)
		return 0;
	r1 = run(data + 2, size - 2, 0, 0, &whole);
	r2 = run(data + 2, size - 2, data[0] | 1u, 0, &pieces);
	if (r1 != r2 || whole.len != pieces.len ||
	    (whole.len && memcmp(whole.buf, pieces.buf, whole.len)))
		abort();
	/* A callback that stops early: the parser stops there, having seen a prefix. */
	if (data[1]) {
		r3 = run(data + 2, size - 2, data[0] | 1u, data[1], &stopped);
		if (stopped.len > whole.len ||
		    (stopped.len && memcmp(whole.buf, stopped.buf, stopped.len)))
			abort();
		free(stopped.buf);
		(void)r3;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(size - 2 < 40 ? size - 2 : 40),
	         (const char *)data + 2);
	if (ws_accept(key, acc) == 0 && strlen(acc) != WS_ACCEPT_LEN)
		abort();
	round_trip(data + 2, size - 2);
	free(whole.buf);
	free(pieces.buf);
	return 0;
}

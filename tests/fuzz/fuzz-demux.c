/*
 * fuzz-demux.c - Docker's multiplexed log/exec stream (8-byte frame headers,
 * stdout/stderr payloads) through ct_demux_feed, in arbitrary chunkings:
 * however the bytes are split across reads, what comes out must be exactly
 * what comes out when they arrive in one piece.
 * Input: byte 0 = flags (bit 0: tty stream), byte 1 = seed of the chunk
 * sizes, the rest = the stream.
 */
#include "fuzz.h"

#include "../../src/res/containers.h"

struct sink {
	unsigned char *buf;
	size_t len, cap;
	size_t stop_after; /* emit asks to stop once this much was seen (0 = never) */
	int stopped;
};

static int
emit(int stream, const char *buf, size_t len, void *arg)
{
	struct sink *s = arg;

	if (len == 0 || s->stopped)
		abort(); /* no empty frames passed on, nothing after a stop */
	if (s->len + len + 1 > s->cap) {
		s->cap = (s->len + len + 1) * 2;
		s->buf = realloc(s->buf, s->cap);
		if (s->buf == NULL)
			abort();
	}
	/* Record the stream of each byte too: a byte sent to the wrong stream is a bug. */
	for (size_t i = 0; i < len; i++)
		s->buf[s->len++] = (unsigned char)(buf[i] ^ (stream * 31));
	if (s->stop_after && s->len >= s->stop_after) {
		s->stopped = 1;
		return 1;
	}
	return 0;
}

static void
run(const uint8_t *data, size_t size, int tty, unsigned seed, size_t stop_after, struct sink *s)
{
	struct ct_demux d = {.tty = tty, .emit = emit, .arg = s};
	size_t off = 0;

	memset(s, 0, sizeof(*s));
	s->stop_after = stop_after;
	while (off < size) {
		size_t k = seed ? 1 + (seed % 13) : size - off;
		if (k > size - off)
			k = size - off;
		seed = seed * 1103515245u + 12345u;
		if (ct_demux_feed(&d, (const char *)data + off, k))
			break;
		off += k;
	}
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
	int tty;

	if (size < 2)
		return 0;
	tty = data[0] & 1;
	run(data + 2, size - 2, tty, 0, 0, &whole);
	run(data + 2, size - 2, tty, data[1] | 1u, 0, &pieces);
	if (whole.len != pieces.len || (whole.len && memcmp(whole.buf, pieces.buf, whole.len)))
		abort();
	/* A sink that stops early sees a prefix of the same bytes. */
	run(data + 2, size - 2, tty, data[1] | 1u, 1 + data[1] % 64u, &stopped);
	if (stopped.len > whole.len || (stopped.len && memcmp(whole.buf, stopped.buf, stopped.len)))
		abort();
	free(whole.buf);
	free(pieces.buf);
	free(stopped.buf);
	return 0;
}

/*
 * fuzz-relay.c - what the stream relay reads from others: nginx's request
 * head, dockerd's response head, dockerd's chunked bodies, and the tickets
 * workers send.  Byte 0 picks the parser; for chunked bodies byte 1 seeds
 * the read sizes, and whatever the split, the decoded body and where it
 * ends must be what one read gives.
 */
#include "fuzz.h"

#include "../../src/relay/http.h"
#include "../../src/relay/ticket.h"

#include <json-c/json.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_set_level(LOG_ERROR_);
	return 0;
}

static void
heads(const char *d, size_t n, int request)
{
	struct hh h;
	size_t i = 0;

	hh_init(&h, request);
	while (i < n) {
		const char *nl = memchr(d + i, '\n', n - i);
		size_t k = nl ? (size_t)(nl - (d + i)) : n - i;
		size_t len = k && d[i + k - 1] == '\r' ? k - 1 : k;
		int r = hh_line(&h, d + i, len);
		if (r != 0)
			break;
		i += k + 1;
	}
	if (h.target[sizeof(h.target) - 1] || h.ctype[sizeof(h.ctype) - 1])
		abort(); /* every copy stays terminated */
}

struct out {
	unsigned char *buf;
	size_t n;
};

static int
keep(const char *b, size_t n, void *arg)
{
	struct out *o = arg;

	if (n == 0)
		abort(); /* no empty pieces handed on */
	o->buf = realloc(o->buf, o->n + n);
	if (o->buf == NULL)
		abort();
	memcpy(o->buf + o->n, b, n);
	o->n += n;
	return 0;
}

static ssize_t
decode(const char *d, size_t n, unsigned seed, struct out *o, int *done)
{
	struct ck c = {0};
	size_t i = 0;

	while (i < n) {
		size_t k = seed ? 1 + (seed = seed * 1103515245u + 12345u) % 17 : n - i;
		ssize_t used;
		if (k > n - i)
			k = n - i;
		used = ck_feed(&c, d + i, k, keep, o);
		if (used < 0)
			return -1;
		i += (size_t)used;
		if (c.done)
			break;
	}
	*done = c.done;
	return (ssize_t)i;
}

static void
chunked(const char *d, size_t n, unsigned seed)
{
	struct out a = {0}, b = {0};
	int da, db;
	ssize_t ua = decode(d, n, 0, &a, &da), ub = decode(d, n, seed | 1, &b, &db);

	if ((ua < 0) != (ub < 0))
		abort();
	if (ua >= 0 && (ua != ub || da != db || a.n != b.n || (a.n && memcmp(a.buf, b.buf, a.n))))
		abort();
	free(a.buf);
	free(b.buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data + 2;
	char err[128];
	json_object *tk;

	if (size < 2)
		return 0;
	size -= 2;
	switch (data[0] % 4) {
	case 0:
		heads(d, size, 1);
		break;
	case 1:
		heads(d, size, 0);
		break;
	case 2:
		chunked(d, size, data[1]);
		break;
	case 3:
		if (tk_parse(d, size, &tk, err, sizeof(err)) == 0) {
			if (tk == NULL || tk_mode(tk) == TK__COUNT)
				abort();
			json_object_put(tk);
		} else if (tk != NULL) {
			abort();
		}
		break;
	}
	return 0;
}

/*
 * fuzz-events.c - the relay's events mode without the relay: dockerd's
 * event stream, split at any points, through ev_lines_feed and ev_sse
 * (relay/events.h).  However the bytes are split, the SSE that comes out
 * must be the same as from one piece; each event must be one well-formed
 * SSE event (no stray newline can end the data line early), after the
 * resume id, of a kind asked for; and a caller who is no admin must only
 * ever get its own owners' events (alice, @devs), never another's name.
 * Input: byte 0 = flags (bit 0: admin; bits 1-6: the kinds), byte 1 = seed
 * of the chunk sizes, the rest = the stream.
 */
#include "fuzz.h"

#include "../../src/relay/events.h"

#include <json-c/json.h>

struct sink {
	const struct ev_view *v;
	char *buf;
	size_t len, cap;
};

static void
check_event(const struct ev_view *v, const char *ev, size_t n)
{
	long long id;
	const char *data = strstr(ev, "\ndata: ");
	json_object *d;
	const char *owner, *type;
	size_t nl = 0;

	for (size_t i = 0; i < n; i++)
		nl += ev[i] == '\n';
	if (nl != 4 || n < 2 || ev[n - 1] != '\n' || ev[n - 2] != '\n' || data == NULL ||
	    sscanf(ev, "id: %lld\n", &id) != 1 || id <= v->after)
		abort();
	d = json_tokener_parse(data + 7);
	if (d == NULL)
		abort();
	type = json_object_get_string(json_object_object_get(d, "type"));
	owner = json_object_get_string(json_object_object_get(d, "owner"));
	if (type == NULL || !(v->types & ev_type_bit(type, strlen(type))))
		abort();
	if (!v->admin && strcmp(type, "build") != 0 &&
	    (owner == NULL || (strcmp(owner, "alice") != 0 && strcmp(owner, "@devs") != 0)))
		abort();
	json_object_put(d);
}

static int
on_line(const char *line, size_t n, void *arg)
{
	static char out[8192];
	struct sink *s = arg;
	int k = ev_sse(s->v, line, n, out, sizeof(out));

	if (memchr(line, '\n', n))
		abort(); /* a line never holds its newline */
	if (k <= 0)
		return 0;
	check_event(s->v, out, (size_t)k);
	if (s->len + (size_t)k > s->cap) {
		s->cap = (s->len + (size_t)k) * 2;
		if ((s->buf = realloc(s->buf, s->cap)) == NULL)
			abort();
	}
	memcpy(s->buf + s->len, out, (size_t)k);
	s->len += (size_t)k;
	return 0;
}

static void
run(const struct ev_view *v, const uint8_t *data, size_t size, unsigned seed, struct sink *s)
{
	struct ev_lines l = {0};
	size_t off = 0;

	memset(s, 0, sizeof(*s));
	s->v = v;
	while (off < size) {
		size_t k = seed ? 1 + (seed % 97) : size - off;
		if (k > size - off)
			k = size - off;
		seed = seed * 1103515245u + 12345u;
		if (ev_lines_feed(&l, (const char *)data + off, k, on_line, s) != 0)
			abort();
		off += k;
	}
	ev_lines_free(&l);
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
	struct ev_view v = {.instance = "fz",
	                    .owner = {"alice", "@devs"},
	                    .ns = {".alice.0a1b2c3d", ".g-devs.4e5f6a7b"},
	                    .nowners = 2,
	                    .after = 1000};
	struct sink whole, pieces;

	if (size < 2)
		return 0;
	v.admin = data[0] & 1;
	v.types = ((unsigned)data[0] >> 1) & EV_ALL;
	run(&v, data + 2, size - 2, 0, &whole);
	run(&v, data + 2, size - 2, data[1] | 1u, &pieces);
	if (whole.len != pieces.len || (whole.len && memcmp(whole.buf, pieces.buf, whole.len)))
		abort();
	free(whole.buf);
	free(pieces.buf);
	return 0;
}

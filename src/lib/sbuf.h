/*
 * sbuf.h - appending to a caller's fixed buffer without printf, for what
 * runs on every request (the log line, the response head).  Appends that do
 * not fit are cut; one byte is always left for a final newline or NUL.
 */
#ifndef BERTH_SBUF_H
#define BERTH_SBUF_H

#include <stddef.h>

struct sbuf {
	char *b;
	size_t n, cap;
};

#define SB_INIT(buf)                                                                               \
	{                                                                                          \
		.b = (buf), .n = 0, .cap = sizeof(buf)                                             \
	}

/* Room left, keeping the last byte for sb_end. */
static inline size_t
sb_room(const struct sbuf *s)
{
	return s->n + 1 < s->cap ? s->cap - 1 - s->n : 0;
}

/* K bytes at P; inline so a literal's copy (sb_lit) is a few moves, not a call. */
static inline void
sb_mem(struct sbuf *s, const char *p, size_t k)
{
	if (k > sb_room(s))
		k = sb_room(s);
	__builtin_memcpy(s->b + s->n, p, k);
	s->n += k;
}
#define sb_lit(s, lit) sb_mem((s), "" lit, sizeof(lit) - 1)

void sb_str(struct sbuf *s, const char *str);
/* STR (at most MAX bytes) with quotes, backslashes and control bytes escaped. */
void sb_esc(struct sbuf *s, const char *str, size_t max);
/* V in decimal, zero-padded to MIN_DIGITS. */
void sb_num(struct sbuf *s, long v, int min_digits);
/* Ends the text with C (a newline or NUL) in the byte kept for it; returns the length. */
size_t sb_end(struct sbuf *s, char c);

#endif

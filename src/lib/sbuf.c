/* sbuf.c - see sbuf.h. */
#include "lib/sbuf.h"

#include <string.h>

void
sb_str(struct sbuf *s, const char *str)
{
	sb_mem(s, str, strlen(str));
}

void
sb_esc(struct sbuf *s, const char *str, size_t max)
{
	static const char hex[] = "0123456789abcdef";

	/* Each byte takes at most four; stop while a whole escape still fits. */
	for (size_t i = 0; str && str[i] && i < max && sb_room(s) >= 4; i++) {
		unsigned char c = (unsigned char)str[i];
		if (c == '"' || c == '\\') {
			s->b[s->n++] = '\\';
			s->b[s->n++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			s->b[s->n++] = '\\';
			s->b[s->n++] = 'x';
			s->b[s->n++] = hex[c >> 4];
			s->b[s->n++] = hex[c & 15];
		} else {
			s->b[s->n++] = (char)c;
		}
	}
}

void
sb_num(struct sbuf *s, long v, int min_digits)
{
	char d[24];
	int k = 0;
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	if (v < 0)
		sb_str(s, "-");
	do {
		d[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u && k < (int)sizeof(d));
	while (k < min_digits && k < (int)sizeof(d))
		d[k++] = '0';
	while (k > 0 && sb_room(s) > 0)
		s->b[s->n++] = d[--k];
}

size_t
sb_end(struct sbuf *s, char c)
{
	if (s->cap == 0)
		return 0;
	s->b[s->n] = c;
	return c ? s->n + 1 : s->n;
}

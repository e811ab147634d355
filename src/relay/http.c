/*
 * http.c - request and response heads, and chunked bodies, for the relay
 * (see http.h).  Strict where it matters to the relay (status, lengths,
 * chunk sizes) and deaf to every header it has no use for.
 */
#include "berth.h"
#include "relay/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
hh_init(struct hh *h, int request)
{
	memset(h, 0, sizeof(*h));
	h->request = request;
	h->clen = -1;
}

/* Copies the value (N bytes, surrounding blanks dropped) into DST of SIZE; -1 if too long. */
static int
take(char *dst, size_t size, const char *v, size_t n)
{
	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n >= size)
		return -1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

/* 1 when the comma-separated list V (N bytes) names TOKEN, any case. */
static int
has_token(const char *v, size_t n, const char *token)
{
	size_t tl = strlen(token);

	while (n) {
		const char *c = memchr(v, ',', n);
		size_t k = c ? (size_t)(c - v) : n, a = 0, b = k;

		while (a < b && (v[a] == ' ' || v[a] == '\t'))
			a++;
		while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
			b--;
		if (b - a == tl && strncasecmp(v + a, token, tl) == 0)
			return 1;
		if (c == NULL)
			break;
		n -= k + 1;
		v = c + 1;
	}
	return 0;
}

static int
first_line(struct hh *h, const char *l, size_t n)
{
	const char *sp1, *sp2;

	if (h->request) {
		/* "METHOD TARGET HTTP/1.x": the method is nginx's; the ticket decides. */
		sp1 = memchr(l, ' ', n);
		sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - l)) : NULL;
		if (sp1 == NULL || sp2 == NULL || n - (size_t)(sp2 + 1 - l) != 8 ||
		    strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
			return -1;
		return take(h->target, sizeof(h->target), sp1 + 1, (size_t)(sp2 - sp1 - 1));
	}
	/* "HTTP/1.x SSS reason" */
	if (n < 12 || strncmp(l, "HTTP/1.", 7) != 0 || l[8] != ' ' || l[9] < '1' || l[9] > '5' ||
	    l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9' || (n > 12 && l[12] != ' '))
		return -1;
	h->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	return 0;
}

static int
header(struct hh *h, const char *l, size_t n)
{
	const char *colon = memchr(l, ':', n);
	size_t k, vn;
	const char *v;
	char num[24];
	char *end;

	if (colon == NULL || colon == l)
		return -1;
	k = (size_t)(colon - l);
	v = colon + 1;
	vn = n - k - 1;
#define IS(name) (k == sizeof(name) - 1 && strncasecmp(l, name, k) == 0)
	if (IS("Content-Length")) {
		if (take(num, sizeof(num), v, vn) != 0 || num[0] < '0' || num[0] > '9')
			return -1;
		h->clen = strtoll(num, &end, 10);
		if (*end || h->clen < 0)
			return -1;
	} else if (IS("Transfer-Encoding")) {
		h->chunked = has_token(v, vn, "chunked");
	} else if (IS("Connection")) {
		if (has_token(v, vn, "upgrade"))
			h->upgrade |= 1;
	} else if (IS("Upgrade")) {
		if (take(h->upgrade_to, sizeof(h->upgrade_to), v, vn) != 0)
			return -1;
		h->upgrade |= 2;
	} else if (IS("Content-Type")) {
		if (take(h->ctype, sizeof(h->ctype), v, vn) != 0)
			return -1;
	} else if (IS("Sec-WebSocket-Key")) {
		if (take(h->ws_key, sizeof(h->ws_key), v, vn) != 0)
			return -1;
	} else if (IS("Last-Event-ID")) {
		/* Too long is no resume point of ours: ignored, not an error. */
		if (take(h->last_event_id, sizeof(h->last_event_id), v, vn) != 0)
			h->last_event_id[0] = '\0';
	}
#undef IS
	return 0;
}

int
hh_line(struct hh *h, const char *line, size_t n)
{
	h->bytes += n + 2;
	if (h->bytes > HH_MAX_HEAD || memchr(line, '\0', n))
		return -1;
	if (h->lines++ == 0)
		return first_line(h, line, n);
	if (n == 0) {
		h->upgrade = h->upgrade == 3;
		if (!h->upgrade)
			h->upgrade_to[0] = '\0';
		return 1;
	}
	return header(h, line, n);
}

enum {
	CK_SIZE,
	CK_EXT,
	CK_SIZE_LF,
	CK_DATA,
	CK_DATA_CR,
	CK_DATA_LF,
	CK_TRAILER,
	CK_TRAILER_LF,
	CK_TLINE,
	CK_DONE
};

ssize_t
ck_feed(struct ck *c, const char *in, size_t n, ck_emit emit, void *arg)
{
	size_t i = 0;

	while (i < n && c->state != CK_DONE) {
		char ch = in[i];
		int hv;

		switch (c->state) {
		case CK_SIZE:
			hv = b_hexval(ch);
			if (hv >= 0) {
				/* 15 hex digits is more than any chunk: no overflow. */
				if (++c->digits > 15)
					return -1;
				c->left = c->left * 16 + (unsigned)hv;
			} else if (c->digits == 0) {
				return -1;
			} else if (ch == ';' || ch == ' ' || ch == '\t') {
				c->state = CK_EXT;
			} else if (ch == '\r') {
				c->state = CK_SIZE_LF;
			} else {
				return -1;
			}
			i++;
			break;
		case CK_EXT:
			if (ch == '\r')
				c->state = CK_SIZE_LF;
			else if (ch == '\n')
				return -1;
			i++;
			break;
		case CK_SIZE_LF:
			if (ch != '\n')
				return -1;
			c->state = c->left ? CK_DATA : CK_TRAILER;
			c->digits = 0;
			i++;
			break;
		case CK_DATA: {
			size_t k = n - i < c->left ? n - i : (size_t)c->left;
			if (emit(in + i, k, arg) != 0)
				return -1;
			c->left -= k;
			i += k;
			if (c->left == 0)
				c->state = CK_DATA_CR;
			break;
		}
		case CK_DATA_CR:
			if (ch != '\r')
				return -1;
			c->state = CK_DATA_LF;
			i++;
			break;
		case CK_DATA_LF:
			if (ch != '\n')
				return -1;
			c->state = CK_SIZE;
			i++;
			break;
		case CK_TRAILER: /* at a line start: CR ends the body, anything else a trailer */
			c->state = ch == '\r' ? CK_TRAILER_LF : CK_TLINE;
			i++;
			break;
		case CK_TLINE:
			if (ch == '\n')
				c->state = CK_TRAILER;
			i++;
			break;
		case CK_TRAILER_LF:
			if (ch != '\n')
				return -1;
			c->state = CK_DONE;
			c->done = 1;
			i++;
			break;
		}
	}
	return (ssize_t)i;
}

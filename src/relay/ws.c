/*
 * ws.c - WebSocket frames and handshake for the relay (see ws.h).  Strict
 * about what a client must do (mask every frame, no reserved bits, control
 * frames short and whole), because the bytes come straight from a browser
 * or any program that reaches the console route.
 */
#include "relay/ws.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

int
ws_accept(const char *key, char out[WS_ACCEPT_LEN + 1])
{
	unsigned char raw[20], dig[SHA_DIGEST_LENGTH];
	char cat[24 + sizeof(WS_GUID)];

	/* 16 bytes are 24 base64 characters ending in "=="; decoding checks the alphabet. */
	if (strlen(key) != 24 || key[22] != '=' || key[23] != '=' ||
	    EVP_DecodeBlock(raw, (const unsigned char *)key, 24) != 18)
		return -1;
	memcpy(cat, key, 24);
	memcpy(cat + 24, WS_GUID, sizeof(WS_GUID));
	SHA1((const unsigned char *)cat, 24 + sizeof(WS_GUID) - 1, dig);
	if (EVP_EncodeBlock((unsigned char *)out, dig, sizeof(dig)) != WS_ACCEPT_LEN)
		return -1;
	out[WS_ACCEPT_LEN] = '\0';
	return 0;
}

void
ws_init(struct ws_parser *p)
{
	memset(p, 0, sizeof(*p));
}

static ssize_t
refuse(struct ws_parser *p, int code)
{
	p->error = code;
	return -1;
}

/* Bytes of header a frame needs, known once its first two are in. */
static size_t
head_len(const unsigned char *h)
{
	size_t len7 = h[1] & 0x7f;

	return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((h[1] & 0x80) ? 4 : 0);
}

/* The header is whole: checks it and sets up the frame; 0 or -1. */
static int
frame_begin(struct ws_parser *p)
{
	const unsigned char *h = p->hdr;
	size_t len7 = h[1] & 0x7f, at = 2;
	unsigned long long len = len7;

	p->fin = h[0] >> 7;
	p->op = h[0] & 0x0f;
	if ((h[0] & 0x70) || !(h[1] & 0x80))
		return (int)refuse(p, WS_PROTOCOL); /* reserved bits; an unmasked client frame */
	if (len7 == 126) {
		len = ((unsigned long long)h[2] << 8) | h[3];
		at = 4;
	} else if (len7 == 127) {
		len = 0;
		for (int i = 0; i < 8; i++)
			len = (len << 8) | h[2 + i];
		at = 10;
	}
	memcpy(p->mask, h + at, 4);
	if (p->op >= WS_CLOSE) {
		if (p->op > WS_PONG || !p->fin || len > WS_MAX_CTL)
			return (int)refuse(p, WS_PROTOCOL);
	} else if (p->op == WS_CONT) {
		if (!p->msg)
			return (int)refuse(p, WS_PROTOCOL);
	} else if (p->op == WS_TEXT || p->op == WS_BIN) {
		if (p->msg)
			return (int)refuse(p,
			                   WS_PROTOCOL); /* a new message inside a fragmented one */
		p->msg = p->op;
	} else {
		return (int)refuse(p, WS_PROTOCOL);
	}
	if (len > WS_MAX_FRAME)
		return (int)refuse(p, WS_TOO_BIG);
	p->left = len;
	p->pos = 0;
	p->ctl_len = 0;
	return 0;
}

/* The frame's payload is all in: a control frame goes out whole; 0 or -1. */
static int
frame_end(struct ws_parser *p, const struct ws_cb *cb, void *arg)
{
	int op = p->op;

	p->hlen = 0;
	if (op >= WS_CLOSE)
		return cb->control(op, p->ctl, p->ctl_len, arg) ? -1 : 0;
	if (p->fin) {
		int m = p->msg;
		p->msg = 0;
		/* The last piece said LAST already; an empty last frame still ends the message. */
		if (p->pos == 0)
			return cb->data(m, "", 0, 1, arg) ? -1 : 0;
	}
	return 0;
}

/* Unmasks and hands on up to N payload bytes of IN; returns bytes used or -1. */
static ssize_t
payload(struct ws_parser *p, const char *in, size_t n, const struct ws_cb *cb, void *arg)
{
	char buf[4096];
	size_t k = n < p->left ? n : (size_t)p->left;

	if (k > sizeof(buf))
		k = sizeof(buf);
	for (size_t i = 0; i < k; i++)
		buf[i] = (char)(in[i] ^ p->mask[(p->pos + i) & 3]);
	p->left -= k;
	if (p->op >= WS_CLOSE) {
		memcpy(p->ctl + p->ctl_len, buf, k);
		p->ctl_len += k;
	} else if (k && cb->data(p->msg, buf, k, p->fin && p->left == 0, arg)) {
		return -1;
	}
	p->pos += k;
	return (ssize_t)k;
}

ssize_t
ws_feed(struct ws_parser *p, const char *in, size_t n, const struct ws_cb *cb, void *arg)
{
	size_t off = 0;

	p->error = 0;
	for (;;) {
		if (p->hlen < 2 || p->hlen < head_len(p->hdr)) { /* gathering a header */
			size_t want = p->hlen < 2 ? 2 : head_len(p->hdr), k;
			if (off == n)
				break;
			k = want - p->hlen < n - off ? want - p->hlen : n - off;
			memcpy(p->hdr + p->hlen, in + off, k);
			p->hlen += k;
			off += k;
			if (p->hlen < 2 || p->hlen < head_len(p->hdr))
				continue;
			if (frame_begin(p) != 0)
				return -1;
		}
		if (p->left) {
			ssize_t used;
			if (off == n)
				break;
			if ((used = payload(p, in + off, n - off, cb, arg)) < 0)
				return -1;
			off += (size_t)used;
			if (p->left)
				continue;
		}
		if (frame_end(p, cb, arg) != 0)
			return -1;
	}
	return (ssize_t)n;
}

size_t
ws_head(unsigned char hdr[10], int op, size_t n)
{
	hdr[0] = (unsigned char)(0x80 | (op & 0x0f));
	if (n < 126) {
		hdr[1] = (unsigned char)n;
		return 2;
	}
	if (n <= 0xffff) {
		hdr[1] = 126;
		hdr[2] = (unsigned char)(n >> 8);
		hdr[3] = (unsigned char)n;
		return 4;
	}
	hdr[1] = 127;
	for (int i = 0; i < 8; i++)
		hdr[2 + i] = (unsigned char)((unsigned long long)n >> (56 - 8 * i));
	return 10;
}

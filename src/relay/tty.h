/*
 * tty.h - the hooks of the relay's console mode (relay/tty.c), for the
 * mode table in modes.c.
 */
#ifndef BERTH_RELAY_TTY_H
#define BERTH_RELAY_TTY_H

#include "relay/relay.h"

int tty_start(struct stream *s);
int tty_begin(struct stream *s, struct dkc *d);
int tty_feed(const char *buf, size_t n, void *arg);
void tty_end(struct dkc *d, int ok);
void tty_from_client(struct stream *s, struct evbuffer *in);
void tty_free(struct stream *s);

#endif

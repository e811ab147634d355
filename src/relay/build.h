/*
 * build.h - the relay's build mode (relay/build.c): a catalog build's
 * progress streamed without a worker.  Its hooks fill one entry of the
 * mode table (relay/modes.c).
 */
#ifndef BERTH_RELAY_BUILD_H
#define BERTH_RELAY_BUILD_H

#include <stddef.h>

struct stream;

/* Answers 200 NDJSON at once, then waits for the entry's build lock (never blocking). */
int rl_build_start(struct stream *s);
/* dockerd's build output (ARG: the dkc), parsed into progress lines. */
int rl_build_feed(const char *buf, size_t n, void *arg);
/* The client left: a build under way goes on without it (recorded, audited). */
void rl_build_free(struct stream *s);

#endif

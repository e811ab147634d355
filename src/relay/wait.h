/*
 * wait.h - the relay's wait and sleep modes (relay/wait.c): seed 000's
 * queued locked starts and seed 001's sleeps, held without a worker.
 */
#ifndef BERTH_RELAY_WAIT_H
#define BERTH_RELAY_WAIT_H

struct stream;

/* The start hook of both modes: a poll of the lease queue, or the sleep's timer. */
int rl_wait_start(struct stream *s);
/* The free hook: a wait gone before its turn gives its queue place up. */
void rl_wait_free(struct stream *s);

#endif

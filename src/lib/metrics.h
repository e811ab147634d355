/*
 * metrics.h - Prometheus counters shared by all workers through a small
 * file-backed mapping in the state directory, so every process model
 * (--workers, spawn-fcgi -F, systemd socket activation) adds up.
 */
#ifndef BERTH_METRICS_H
#define BERTH_METRICS_H

#include <json-c/json.h>

/* Maps <state_dir>/metrics.shm; without it the counters below do nothing. */
void mt_init(const char *state_dir);
void mt_request(const char *route, int status, double ms);
void mt_docker_error(const char *kind);
/*
 * dockerd's state as last seen by any process sharing the mapping: 1 up, 0
 * down, -1 unknown (no probe in the last MAX_AGE_MS, or no mapping).
 */
int mt_docker_get(long long max_age_ms);
void mt_docker_set(int up);
/*
 * Token buckets per identity, shared by every process on the mapping (audit.c
 * bounds what one caller can make berth write with them).  mt_bucket_get
 * finds or claims KEY's bucket; when all are taken by others, identities
 * share one.  NULL without the mapping.
 */
struct mt_bucket;
struct mt_bucket *mt_bucket_get(const char *key);
/*
 * Takes a token from B, which refills at RATE per second (RATE >= 1) up to
 * BURST: 1 when there was one, else 0.  FORCE takes one anyway (the bucket
 * goes empty, never further into debt) and returns 1.
 */
int mt_bucket_take(struct mt_bucket *b, unsigned rate, unsigned burst, int force);
/* Counts one line held back from B's identity at epoch second NOW. */
void mt_bucket_hold(struct mt_bucket *b, long long now);
/* What was held back from one identity: whose, and between which epoch seconds. */
struct mt_held {
	char name[96];
	long long first, last;
};
/*
 * When B holds lines back and the first is AGE s old or the latest QUIET s
 * old (at epoch second NOW), takes their count (B starts again from 0),
 * fills *OUT and returns the count; else 0.  Counts saturate at 16777215.
 */
unsigned long mt_bucket_due(struct mt_bucket *b, long long now, long long age, long long quiet,
                            struct mt_held *out);
/* Calls FN on every bucket in use. */
void mt_bucket_each(void (*fn)(struct mt_bucket *b, void *arg), void *arg);

/* Appends the text exposition of all counters to BUF (malloc'd, caller frees). */
char *mt_render(void);

#endif

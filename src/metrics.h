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
/* Appends the text exposition of all counters to BUF (malloc'd, caller frees). */
char *mt_render(void);

#endif

/*
 * metrics.c - lock-free counters in a shared mapping.  Slots are claimed
 * with a compare-and-swap on their key, then only ever incremented.
 */
#include "berth.h"
#include "metrics.h"
#include "state.h"

#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#define MT_MAGIC   0x42455254u /* "BERT" */
#define MT_VERSION 2u
#define MT_SLOTS   512
#define MT_KEYLEN  80
#define MT_BUCKETS 11

static const double bounds[MT_BUCKETS] = {1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 5000};

enum { K_FREE = 0, K_CLAIMING, K_READY };

struct slot {
	unsigned state;
	int status;          /* HTTP status, or -1 for docker error slots */
	char key[MT_KEYLEN]; /* route pattern or docker error kind */
	unsigned long long count;
	unsigned long long sum_us;
	unsigned long long bucket[MT_BUCKETS];
};

struct shm {
	unsigned magic, version;
	struct slot slots[MT_SLOTS];
	/* The last dockerd probe any process made: (CLOCK_MONOTONIC ms << 1) | up; 0 = none. */
	unsigned long long docker_probe;
};

static struct shm *shm;

void
mt_init(const char *state_dir)
{
	int fd;
	void *p;

	/* Made relative to the directory st_init opened (STATE_DIR), never through a link. */
	(void)state_dir;
	if (shm)
		return;
	fd = st_open("metrics.shm", O_RDWR | O_CREAT, 0640);
	if (fd < 0)
		return;
	if (ftruncate(fd, sizeof(struct shm)) != 0) {
		close(fd);
		return;
	}
	p = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return;
	shm = p;
	if (shm->magic != MT_MAGIC || shm->version != MT_VERSION) {
		memset(shm, 0, sizeof(*shm));
		__atomic_store_n(&shm->version, MT_VERSION, __ATOMIC_SEQ_CST);
		__atomic_store_n(&shm->magic, MT_MAGIC, __ATOMIC_SEQ_CST);
	}
}

static struct slot *
slot_for(const char *key, int status)
{
	unsigned h = 2166136261u;

	if (shm == NULL)
		return NULL;
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h ^= (unsigned)status * 2654435761u;
	for (unsigned i = 0; i < MT_SLOTS; i++) {
		struct slot *s = &shm->slots[(h + i) % MT_SLOTS];
		unsigned st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE), want = K_FREE;
		if (st == K_READY) {
			if (s->status == status && strncmp(s->key, key, MT_KEYLEN - 1) == 0)
				return s;
			continue;
		}
		if (st == K_FREE &&
		    __atomic_compare_exchange_n(&s->state, &want, K_CLAIMING, 0, __ATOMIC_ACQ_REL,
		                                __ATOMIC_ACQUIRE)) {
			snprintf(s->key, MT_KEYLEN, "%s", key);
			s->status = status;
			__atomic_store_n(&s->state, K_READY, __ATOMIC_RELEASE);
			return s;
		}
		/* Someone is claiming this slot: it may be ours, so look again. */
		while (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == K_CLAIMING)
			;
		if (s->status == status && strncmp(s->key, key, MT_KEYLEN - 1) == 0)
			return s;
	}
	return NULL;
}

void
mt_request(const char *route, int status, double ms)
{
	struct slot *s = slot_for(route, status);

	if (s == NULL)
		return;
	__atomic_fetch_add(&s->count, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->sum_us, (unsigned long long)(ms * 1000), __ATOMIC_RELAXED);
	for (int b = 0; b < MT_BUCKETS; b++)
		if (ms <= bounds[b])
			__atomic_fetch_add(&s->bucket[b], 1, __ATOMIC_RELAXED);
}

void
mt_docker_error(const char *kind)
{
	struct slot *s = slot_for(kind, -1);

	if (s)
		__atomic_fetch_add(&s->count, 1, __ATOMIC_RELAXED);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
mt_docker_set(int up)
{
	if (shm)
		__atomic_store_n(&shm->docker_probe,
		                 ((unsigned long long)now_ms() << 1) | (up ? 1u : 0u),
		                 __ATOMIC_RELAXED);
}

int
mt_docker_get(long long max_age_ms)
{
	unsigned long long v;

	if (shm == NULL)
		return -1;
	v = __atomic_load_n(&shm->docker_probe, __ATOMIC_RELAXED);
	if (v == 0 || now_ms() - (long long)(v >> 1) > max_age_ms)
		return -1;
	return (int)(v & 1u);
}

struct buf {
	char *p;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3))) put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			return;
	}
}

char *
mt_render(void)
{
	struct buf b = {0};

	put(&b, "# HELP berth_requests_total Requests served, by route and status.\n"
	        "# TYPE berth_requests_total counter\n");
	for (int i = 0; shm && i < MT_SLOTS; i++) {
		struct slot *s = &shm->slots[i];
		if (s->state == K_READY && s->status >= 0)
			put(&b, "berth_requests_total{route=\"%s\",status=\"%d\"} %llu\n", s->key,
			    s->status, s->count);
	}
	put(&b, "# HELP berth_request_duration_ms Request latency in milliseconds.\n"
	        "# TYPE berth_request_duration_ms histogram\n");
	for (int i = 0; shm && i < MT_SLOTS; i++) {
		struct slot *s = &shm->slots[i];
		if (s->state != K_READY || s->status < 0)
			continue;
		for (int k = 0; k < MT_BUCKETS; k++)
			put(&b,
			    "berth_request_duration_ms_bucket{route=\"%s\",status=\"%d\",le=\"%g\"}"
			    " %llu\n",
			    s->key, s->status, bounds[k], s->bucket[k]);
		put(&b,
		    "berth_request_duration_ms_bucket{route=\"%s\",status=\"%d\",le=\"+Inf\"} "
		    "%llu\n",
		    s->key, s->status, s->count);
		put(&b, "berth_request_duration_ms_sum{route=\"%s\",status=\"%d\"} %.3f\n", s->key,
		    s->status, (double)s->sum_us / 1000.0);
		put(&b, "berth_request_duration_ms_count{route=\"%s\",status=\"%d\"} %llu\n",
		    s->key, s->status, s->count);
	}
	put(&b, "# HELP berth_docker_errors_total Failed calls to dockerd, by kind.\n"
	        "# TYPE berth_docker_errors_total counter\n");
	for (int i = 0; shm && i < MT_SLOTS; i++) {
		struct slot *s = &shm->slots[i];
		if (s->state == K_READY && s->status < 0)
			put(&b, "berth_docker_errors_total{kind=\"%s\"} %llu\n", s->key, s->count);
	}
	return b.p;
}

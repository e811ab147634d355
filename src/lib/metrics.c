/*
 * metrics.c - lock-free counters in a shared mapping.  Slots are claimed
 * with a compare-and-swap on their key, then only ever incremented.  The
 * same mapping holds the per-identity token buckets that bound how many
 * audit lines one caller can make berth write (audit.c).
 */
#include "berth.h"
#include "lib/metrics.h"
#include "store/state.h"

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
#define MT_VERSION 3u
#define MT_SLOTS   512
#define MT_KEYLEN  80
#define MT_BUCKETS 11
#define MT_RATES   256 /* identities with a bucket of their own; the rest share one */
#define MT_NAMELEN 96
#define MT_HELD    0xffffffULL /* held-back count in the low 24 bits of mt_bucket.held */

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

/*
 * A token bucket kept as GCRA's one word (the time it is next full, in
 * CLOCK_MONOTONIC microseconds), so taking a token is one compare-and-swap.
 * HELD packs the lines held back since the last summary: the epoch second of
 * the first one above the low 24 bits, their count in them.
 */
struct mt_bucket {
	unsigned state;
	unsigned long long key; /* hash of the identity */
	char name[MT_NAMELEN];  /* the identity, cut to fit */
	unsigned long long tat;
	unsigned long long held;
	long long last; /* epoch second of the latest line held back */
};

struct shm {
	unsigned magic, version;
	struct slot slots[MT_SLOTS];
	struct mt_bucket rates[MT_RATES];
	struct mt_bucket others; /* shared by identities that found no free bucket */
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
		snprintf(shm->others.name, MT_NAMELEN, "(others)");
		shm->others.state = K_READY;
		__atomic_store_n(&shm->version, MT_VERSION, __ATOMIC_SEQ_CST);
		__atomic_store_n(&shm->magic, MT_MAGIC, __ATOMIC_SEQ_CST);
	}
}

/* FNV-1a in 64 bits: bucket keys, where two identities sharing one would matter. */
static unsigned long long
hash64(const char *s)
{
	unsigned long long h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct slot *
slot_for(const char *key, int status)
{
	unsigned h = b_hash32(key);

	if (shm == NULL)
		return NULL;
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

static unsigned long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000 + (unsigned long long)ts.tv_nsec / 1000;
}

void
mt_docker_set(int up)
{
	if (shm)
		__atomic_store_n(&shm->docker_probe,
		                 ((unsigned long long)b_mono_ms() << 1) | (up ? 1u : 0u),
		                 __ATOMIC_RELAXED);
}

int
mt_docker_get(long long max_age_ms)
{
	unsigned long long v;

	if (shm == NULL)
		return -1;
	v = __atomic_load_n(&shm->docker_probe, __ATOMIC_RELAXED);
	if (v == 0 || b_mono_ms() - (long long)(v >> 1) > max_age_ms)
		return -1;
	return (int)(v & 1u);
}

/* ---- per-identity token buckets ----------------------------------------- */

#define MT_IDLE_US (600ULL * 1000000) /* a bucket full this long may go to another identity */

/* (Re)starts bucket B, held in K_CLAIMING by the caller, for identity KEY of hash H. */
static void
bucket_claim(struct mt_bucket *b, unsigned long long h, const char *key)
{
	__atomic_store_n(&b->key, h, __ATOMIC_RELAXED);
	snprintf(b->name, MT_NAMELEN, "%s", key);
	__atomic_store_n(&b->tat, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&b->held, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&b->last, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&b->state, K_READY, __ATOMIC_RELEASE);
}

/*
 * Takes over B for KEY when its identity has been quiet for MT_IDLE_US and
 * nothing is held back for it, so passing identities (anonymous addresses)
 * cannot fill the table for good.  A worker that looked B up for the old
 * identity a moment before may still count one line against the new one.
 */
static int
bucket_reclaim(struct mt_bucket *b, unsigned long long h, const char *key)
{
	unsigned want = K_READY;
	unsigned long long tat = __atomic_load_n(&b->tat, __ATOMIC_ACQUIRE);

	if (tat + MT_IDLE_US > now_us() || __atomic_load_n(&b->held, __ATOMIC_ACQUIRE) != 0 ||
	    !__atomic_compare_exchange_n(&b->state, &want, K_CLAIMING, 0, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_ACQUIRE))
		return 0;
	if (__atomic_load_n(&b->tat, __ATOMIC_ACQUIRE) != tat ||
	    __atomic_load_n(&b->held, __ATOMIC_ACQUIRE) != 0) {
		__atomic_store_n(&b->state, K_READY, __ATOMIC_RELEASE);
		return 0;
	}
	bucket_claim(b, h, key);
	return 1;
}

struct mt_bucket *
mt_bucket_get(const char *key)
{
	unsigned long long h = hash64(key);

	if (shm == NULL)
		return NULL;
	for (unsigned i = 0; i < MT_RATES; i++) {
		struct mt_bucket *b = &shm->rates[(h + i) % MT_RATES];
		unsigned want = K_FREE;
		if (__atomic_compare_exchange_n(&b->state, &want, K_CLAIMING, 0, __ATOMIC_ACQ_REL,
		                                __ATOMIC_ACQUIRE)) {
			bucket_claim(b, h, key);
			return b;
		}
		/* Someone is claiming this bucket: it may be for KEY, so wait and look. */
		while (__atomic_load_n(&b->state, __ATOMIC_ACQUIRE) == K_CLAIMING)
			;
		if (__atomic_load_n(&b->key, __ATOMIC_RELAXED) == h)
			return b;
	}
	/* Every bucket is taken, none by KEY: a quiet one, else the shared one. */
	for (unsigned i = 0; i < MT_RATES; i++)
		if (bucket_reclaim(&shm->rates[(h + i) % MT_RATES], h, key))
			return &shm->rates[(h + i) % MT_RATES];
	return &shm->others;
}

int
mt_bucket_take(struct mt_bucket *b, unsigned rate, unsigned burst, int force)
{
	unsigned long long now = now_us(), step = 1000000ULL / rate, room = step * burst;
	unsigned long long old = __atomic_load_n(&b->tat, __ATOMIC_ACQUIRE), base, next;

	do {
		/* A time past any possible debt is from before a reboot: start afresh. */
		base = old > now + room ? now : (old > now ? old : now);
		next = base + step;
		if (next > now + room) {
			if (!force)
				return 0;
			next = now + room; /* forced: empty, never further in debt */
		}
	} while (!__atomic_compare_exchange_n(&b->tat, &old, next, 0, __ATOMIC_ACQ_REL,
	                                      __ATOMIC_ACQUIRE));
	return 1;
}

void
mt_bucket_hold(struct mt_bucket *b, long long now)
{
	unsigned long long old = __atomic_load_n(&b->held, __ATOMIC_ACQUIRE), next;
	long long last = __atomic_load_n(&b->last, __ATOMIC_ACQUIRE);

	do {
		if (old == 0)
			next = ((unsigned long long)now << 24) | 1;
		else
			next = (old & MT_HELD) == MT_HELD ? old : old + 1; /* saturates */
	} while (!__atomic_compare_exchange_n(&b->held, &old, next, 0, __ATOMIC_ACQ_REL,
	                                      __ATOMIC_ACQUIRE));
	while (last < now && !__atomic_compare_exchange_n(&b->last, &last, now, 0, __ATOMIC_ACQ_REL,
	                                                  __ATOMIC_ACQUIRE))
		;
}

unsigned long
mt_bucket_due(struct mt_bucket *b, long long now, long long age, long long quiet,
              struct mt_held *out)
{
	unsigned long long old = __atomic_load_n(&b->held, __ATOMIC_ACQUIRE);

	while (old != 0) {
		out->first = (long long)(old >> 24);
		out->last = __atomic_load_n(&b->last, __ATOMIC_ACQUIRE);
		if (out->last < out->first)
			out->last = out->first;
		if (now - out->first < age && now - out->last < quiet)
			return 0;
		/* The name is copied while the count is held: no reclaim can rename it. */
		snprintf(out->name, sizeof(out->name), "%s", b->name);
		if (__atomic_compare_exchange_n(&b->held, &old, 0, 0, __ATOMIC_ACQ_REL,
		                                __ATOMIC_ACQUIRE))
			return (unsigned long)(old & MT_HELD);
	}
	return 0;
}

void
mt_bucket_each(void (*fn)(struct mt_bucket *b, void *arg), void *arg)
{
	for (int i = 0; shm && i <= MT_RATES; i++) {
		struct mt_bucket *b = i < MT_RATES ? &shm->rates[i] : &shm->others;
		if (__atomic_load_n(&b->state, __ATOMIC_ACQUIRE) == K_READY)
			fn(b, arg);
	}
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

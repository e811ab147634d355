/*
 * jobs.c - run-to-completion jobs: the /api/v1/jobs endpoints, the job
 * records, status derivation and the sweeper.
 *
 * A job is a container job-<id> labelled berth.job=<id> (created through
 * ct_create, so ownership, policy and quota apply) and a record
 * jobs/<id>.json.  Status comes from dockerd's inspect while the container
 * exists; the only facts berth itself decides - "canceled by DELETE" and
 * "killed for its timeout" - are written to the record before the kill.
 * Whoever observes a transition (a GET or the sweeper) persists it under
 * the job's lock, so a restarted worker loses nothing.
 */
#include "berth.h"
#include "lib/cfg.h"
#include "res/containers.h"
#include "engine/engine.h"
#include "res/jobs.h"
#include "lib/json.h"
#include "lib/log.h"
#include "res/owner.h"
#include "res/policy.h"
#include "edge/req.h"
#include "edge/module.h"
#include "edge/route.h"
#include "store/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* ---- schema ----------------------------------------------------------- */

static const char *const status_enum[] = {"queued",   "running",   "succeeded", "failed",
                                          "canceled", "timed_out", NULL};

static const struct sc_field arg_item = {.types = SC_STRING, .max = 4096};
static const struct sc_field env_value = {.types = SC_STRING, .max = 32768};
static const struct sc_field env_item = {
    .types = SC_STRING, .max = 32768, .pattern = SC_ENVITEM_RE};

static const struct sc_field job_fields[] = {
    {.name = "name",
     .types = SC_STRING,
     .desc = "A label for people (not unique; the id identifies the job).",
     .min = 1,
     .max = 64,
     .pattern = SC_NAME_RE,
     .example = "\"nightly-report\""},
    SC_IMAGE_FIELD,
    {.name = "command",
     .types = SC_STRING | SC_ARRAY,
     .flags = SC_REQUIRED,
     .desc = "Command: a list of arguments, or a string split into words like a shell "
             "would (no shell runs it; use [\"sh\", \"-c\", \"...\"] for one).",
     .min = 1,
     .max = 4096,
     .items = &arg_item,
     .example = "[\"sh\", \"-c\", \"echo hello\"]"},
    {.name = "environment",
     .types = SC_OBJECT | SC_ARRAY,
     .desc = "Environment: {\"KEY\": \"value\"} (or [\"KEY=value\"]).",
     .max = 256,
     .values = &env_value,
     .keys = SC_ENVKEY_RE,
     .items = &env_item},
    {.name = "timeout",
     .types = SC_INT,
     .desc = "Seconds the job may run; then berth kills it (status timed_out). "
             "Default: jobs.default_timeout in berth.conf.",
     .min = 1,
     .max = 7 * 86400,
     .example = "600"},
    {.name = "memory",
     .types = SC_INT | SC_STRING,
     .desc = "Memory limit: bytes or \"512m\", \"2g\" (the role's policy may cap it).",
     .pattern = SC_SIZE_RE},
    {.name = "cpus",
     .types = SC_NUMBER,
     .desc = "CPU limit in cores (0.5 = half).",
     .min = 0,
     .max = 1024},
    OWN_FIELD,
    {0}};

const struct sc_schema job_schema = {
    "job", "berth job (runs to completion)", job_fields,
    "{\"name\":\"hello\",\"image\":\"berth-test/busybox:1\",\"command\":[\"sh\",\"-c\","
    "\"echo hello $WHO\"],\"environment\":{\"WHO\":\"world\"},\"timeout\":60,\"memory\":\"64m\"}",
    1};

/* ---- small helpers ---------------------------------------------------- */

/* Docker's RFC 3339 UTC time ("2024-05-01T10:20:30.123456789Z") in ms; 0 when unset. */
static int64_t
docker_ms(const char *s)
{
	struct tm tm = {0};
	int64_t ms = 0;
	const char *p;
	int n = 0;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	                        &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return 0;
	if (tm.tm_year < 1970)
		return 0; /* "0001-01-01T00:00:00Z" is Docker's "never" */
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	p = s + n;
	if (*p == '.') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (digits++ < 3)
				ms = ms * 10 + (*p - '0');
		for (; digits < 3; digits++)
			ms *= 10;
	}
	return (int64_t)timegm(&tm) * 1000 + ms;
}

/* Adds KEY as ISO 8601 UTC with milliseconds, or null for 0. */
static void
add_iso(json_object *o, const char *key, int64_t ms)
{
	struct tm tm;
	time_t t = (time_t)(ms / 1000);
	char buf[40];

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL) {
		json_object_object_add(o, key, NULL);
		return;
	}
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%03dZ", (int)(ms % 1000));
	jx_add_str(o, key, buf);
}

int
job_id_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n != JOB_ID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
new_id(char id[JOB_ID_LEN + 1])
{
	unsigned char b[JOB_ID_LEN / 2];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(id + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static int
lock_job(const char *id)
{
	char name[32];

	snprintf(name, sizeof(name), "job-%s", id);
	return st_lock(name);
}

static int
terminal(const char *status)
{
	return strcmp(status, "queued") != 0 && strcmp(status, "running") != 0;
}

/* Sets integer KEY to V; 1 when that changed the record. */
static int
set_int(json_object *o, const char *key, int64_t v)
{
	json_object *cur = jx_get(o, key);

	if (cur && json_object_is_type(cur, json_type_int) && json_object_get_int64(cur) == v)
		return 0;
	jx_add_int(o, key, v);
	return 1;
}

/* ---- dockerd ---------------------------------------------------------- */

/* Inspect of container CID; *OUT stays NULL when it is gone (or CID is NULL). */
static enum berr
inspect(struct op *o, const char *cid, json_object **out)
{
	enum berr e;

	*out = NULL;
	if (cid == NULL || !name_valid(cid))
		return B_OK;
	e = eng_ct_inspect(o, cid, out);
	if (e == B_NOT_FOUND) {
		op_clear(o);
		return B_OK;
	}
	return e;
}

static enum berr
kill_container(struct op *o, const char *cid)
{
	enum berr e = eng_ct_kill(o, cid, "SIGKILL");

	/* Gone is no longer running either (not running is success already). */
	if (e == B_NOT_FOUND) {
		op_clear(o);
		e = B_OK;
	}
	return e;
}

/* The last JOB_TAIL bytes of output, kept while the stream is read. */
struct tail {
	char *buf;
	size_t len;
};

static int
tail_emit(int stream, const char *p, size_t n, void *arg)
{
	struct tail *t = arg;

	(void)stream;
	if (n > JOB_TAIL) {
		p += n - JOB_TAIL;
		n = JOB_TAIL;
	}
	if (t->len + n > 2 * JOB_TAIL) {
		memmove(t->buf, t->buf + t->len - (JOB_TAIL - n), JOB_TAIL - n);
		t->len = JOB_TAIL - n;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
	return 0;
}

/* Length of the UTF-8 sequence led by C, 0 for a byte that cannot lead one. */
static size_t
seq_len(unsigned char c)
{
	if (c >= 0x01 && c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/* Output is bytes; the record is JSON: invalid UTF-8 and NULs become '?'. */
static void
utf8_clean(char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i], c1 = i + 1 < n ? (unsigned char)s[i + 1] : 0;
		size_t k = seq_len(c);
		int ok = k > 0 && i + k <= n;

		for (size_t j = 1; ok && j < k; j++)
			ok = ((unsigned char)s[i + j] & 0xc0) == 0x80;
		/* No overlong forms, no surrogates, nothing above U+10FFFF. */
		if (ok && k > 2)
			ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 > 0x9f) &&
			     !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 > 0x8f);
		if (!ok) {
			s[i++] = '?';
			continue;
		}
		i += k;
	}
}

/* The stream of logs, through the demultiplexer into the tail. */
static int
tail_sink(const char *buf, size_t len, void *arg)
{
	return ct_demux_feed(arg, buf, len);
}

/* The logs tail of container IN as a malloc'd UTF-8 string in *OUT. */
static enum berr
fetch_tail(struct op *o, json_object *in, char **out)
{
	struct ct_demux dm = {.tty = jx_bool(jx_obj(in, "Config"), "Tty", 0), .emit = tail_emit};
	struct tail t = {0};
	const struct eng_logs q = {.stdout_ = 1, .stderr_ = 1, .tail = 2000};
	const struct eng_sink s = {.sink = tail_sink, .arg = &dm};
	size_t skip;
	enum berr e;

	*out = NULL;
	dm.arg = &t;
	t.buf = malloc(2 * JOB_TAIL + 1); /* holds the tail as the stream passes */
	if (t.buf == NULL)
		return op_fail(o, B_INTERNAL, NULL, "out of memory");
	e = eng_ct_logs(o, jx_str(in, "Id"), &q, &s);
	if (e != B_OK) {
		free(t.buf);
		return e;
	}
	skip = t.len > JOB_TAIL ? t.len - JOB_TAIL : 0;
	*out = malloc(t.len - skip + 1);
	if (*out == NULL) {
		free(t.buf);
		return op_fail(o, B_INTERNAL, NULL, "out of memory");
	}
	if (t.len)
		memcpy(*out, t.buf + skip, t.len - skip);
	(*out)[t.len - skip] = '\0';
	utf8_clean(*out, t.len - skip);
	free(t.buf);
	return B_OK;
}

/* ---- status ----------------------------------------------------------- */

/* A job's status as derived from its container (or its record once that is gone). */
struct jstate {
	const char *status;
	int64_t since, started, finished;
	int running; /* the container's process is alive */
	int exited, exit_code, oom;
	int lost; /* container vanished before it finished */
};

static void
from_record(json_object *rec, struct jstate *js)
{
	const char *s = jx_str(rec, "status");

	js->status = s ? s : "queued";
	js->since = jx_int(rec, "since", 0);
	js->started = jx_int(rec, "started", 0);
	js->finished = jx_int(rec, "finished", 0);
	js->exited = jx_get(rec, "exit_code") != NULL;
	js->exit_code = (int)jx_int(rec, "exit_code", 0);
	js->oom = jx_bool(rec, "oom_killed", 0);
	if (!terminal(js->status)) {
		/* Removed behind berth's back (docker rm, the containers API) before it ended. */
		js->status = "failed";
		js->since = b_wall_ms();
		js->lost = 1;
	}
}

static void
derive(json_object *rec, json_object *in, struct jstate *js)
{
	json_object *st = jx_obj(in, "State");
	const char *s = jx_str(st, "Status");
	int64_t canceled = jx_int(rec, "canceled_at", 0), timed = jx_int(rec, "timed_out_at", 0);

	memset(js, 0, sizeof(*js));
	if (in == NULL || (s && strcmp(s, "removing") == 0)) {
		from_record(rec, js);
		return;
	}
	js->started = docker_ms(jx_str(st, "StartedAt"));
	if (s && (strcmp(s, "exited") == 0 || strcmp(s, "dead") == 0)) {
		js->exited = 1;
		js->exit_code = (int)jx_int(st, "ExitCode", 0);
		js->oom = jx_bool(st, "OOMKilled", 0);
		js->finished = docker_ms(jx_str(st, "FinishedAt"));
		js->status = js->exit_code == 0 ? "succeeded" : "failed";
		js->since = js->finished;
	} else if (s == NULL || strcmp(s, "created") == 0) {
		js->status = "queued";
		js->since = jx_int(rec, "created", 0);
	} else {
		js->running = 1;
		js->status = "running";
		js->since = js->started;
	}
	/* berth's own decisions win over how the process ended. */
	if (canceled) {
		js->status = "canceled";
		js->since = canceled;
	} else if (timed) {
		js->status = "timed_out";
		js->since = timed;
	}
}

/* Writes JS into the record; 1 when something changed. */
static int
apply(json_object *rec, const struct jstate *js)
{
	const char *cur = jx_str(rec, "status");
	int changed = 0;

	if (cur == NULL || strcmp(cur, js->status) != 0) {
		jx_add_str(rec, "status", js->status);
		changed = 1;
	}
	changed |= set_int(rec, "since", js->since);
	if (js->started)
		changed |= set_int(rec, "started", js->started);
	if (js->finished)
		changed |= set_int(rec, "finished", js->finished);
	if (js->exited)
		changed |= set_int(rec, "exit_code", js->exit_code);
	if (js->oom && !jx_bool(rec, "oom_killed", 0)) {
		jx_add_bool(rec, "oom_killed", 1);
		changed = 1;
	}
	if (js->lost) {
		jx_add_str(rec, "error", "the job's container disappeared before it finished");
		changed = 1;
	}
	return changed;
}

static enum berr
put(struct op *o, const char *id, json_object *rec)
{
	if (st_put(ST_JOBS, id, rec) != B_OK)
		return op_fail(o, B_INTERNAL, NULL, "cannot write the record of job %s", id);
	return B_OK;
}

/*
 * Records berth's decision KEY (canceled_at, timed_out_at) and then kills
 * the container, so a crash between the two still reports the decision.
 */
static enum berr
decide(struct op *o, const char *id, json_object *rec, const char *key)
{
	enum berr e;

	jx_add_int(rec, key, b_wall_ms());
	e = put(o, id, rec);
	if (e == B_OK && jx_str(rec, "container"))
		e = kill_container(o, jx_str(rec, "container"));
	return e;
}

/* The container's inspect and the derived state, brought up to date. */
struct obs {
	json_object *rec; /* the record (owned) */
	json_object *in;  /* inspect (owned), NULL once the container is gone */
	struct jstate js;
};

static void
obs_free(struct obs *o)
{
	json_object_put(o->rec);
	json_object_put(o->in);
	memset(o, 0, sizeof(*o));
}

static enum berr
reinspect(struct op *o, struct obs *ob)
{
	enum berr e = B_OK;

	json_object_put(ob->in);
	ob->in = NULL;
	if (!jx_bool(ob->rec, "swept", 0))
		e = inspect(o, jx_str(ob->rec, "container"), &ob->in);
	if (e == B_OK)
		derive(ob->rec, ob->in, &ob->js);
	return e;
}

/*
 * With the job's lock held: reads the record, asks dockerd, enforces the
 * timeout (and re-kills a container that outlived a decision), persists any
 * transition.  On B_OK the caller owns OB.
 */
static enum berr
observe_locked(struct op *o, const char *id, struct obs *ob)
{
	int64_t timeout;
	enum berr e;

	memset(ob, 0, sizeof(*ob));
	e = st_get(ST_JOBS, id, &ob->rec);
	if (e == B_NOT_FOUND)
		return op_fail(o, B_NOT_FOUND, NULL, "no such job: %s", id);
	if (e != B_OK)
		return op_fail(o, B_INTERNAL, NULL, "cannot read the record of job %s", id);
	e = reinspect(o, ob);
	timeout = jx_int(ob->rec, "timeout", g_cfg->default_job_timeout);
	if (e == B_OK && ob->js.running && strcmp(ob->js.status, "running") == 0 &&
	    b_wall_ms() - ob->js.started > timeout * 1000) {
		log_info("job_timed_out id=%s timeout=%lld", id, (long long)timeout);
		e = decide(o, id, ob->rec, "timed_out_at");
		if (e == B_OK)
			e = reinspect(o, ob);
	} else if (e == B_OK && ob->js.running && terminal(ob->js.status)) {
		e = kill_container(o, jx_str(ob->rec, "container"));
	}
	if (e == B_OK && apply(ob->rec, &ob->js))
		e = put(o, id, ob->rec);
	if (e != B_OK)
		obs_free(ob);
	return e;
}

static enum berr
observe(struct op *o, const char *id, struct obs *ob)
{
	int fd = lock_job(id);
	enum berr e;

	if (fd < 0)
		return op_fail(o, B_INTERNAL, NULL, "cannot lock job %s", id);
	e = observe_locked(o, id, ob);
	st_unlock(fd);
	return e;
}

static int
visible(struct op *o, json_object *rec)
{
	return own_visible(o, jx_str(rec, "owner"));
}

enum berr
job_find(struct op *o, const char *id, json_object **rec)
{
	struct obs ob;
	enum berr e;

	*rec = NULL;
	/* Visibility first (the owner never changes): others' jobs are not even observed. */
	if (!job_id_valid(id) || st_get(ST_JOBS, id, rec) != B_OK || !visible(o, *rec)) {
		json_object_put(*rec);
		*rec = NULL;
		return op_fail(o, B_NOT_FOUND, NULL, "no such job: %.40s", id);
	}
	json_object_put(*rec);
	*rec = NULL;
	e = observe(o, id, &ob);
	if (e != B_OK)
		return e;
	*rec = json_object_get(ob.rec);
	obs_free(&ob);
	return B_OK;
}

/* ---- submit ----------------------------------------------------------- */

/* Copies SRC's member SKEY (when present) to DST as DKEY. */
static void
copy_if(json_object *dst, const char *dkey, json_object *src, const char *skey)
{
	if (jx_get(src, skey))
		jx_add_ref(dst, dkey, jx_get(src, skey));
}

/* The container spec of a job body: what pol_check and ct_create take. */
static json_object *
job_spec(json_object *body, const char *id)
{
	json_object *spec = json_object_new_object();
	char name[32];

	snprintf(name, sizeof(name), "job-%s", id);
	jx_add_str(spec, "name", name);
	jx_add_str(spec, "image", jx_str(body, "image"));
	jx_add_ref(spec, "command", jx_get(body, "command"));
	copy_if(spec, "env", body, "environment");
	copy_if(spec, "memory", body, "memory");
	copy_if(spec, "cpus", body, "cpus");
	return spec;
}

static json_object *
job_record(json_object *body, json_object *spec, json_object *extra, const char *id,
           const char *owner, int64_t timeout)
{
	json_object *rec = json_object_new_object();

	jx_add_str(rec, "id", id);
	jx_add_str(rec, "name", jx_str(body, "name"));
	jx_add_str(rec, "owner", owner);
	jx_add_str(rec, "image", jx_str(spec, "image"));
	jx_add_ref(rec, "command", jx_get(spec, "command"));
	copy_if(rec, "environment", spec, "env");
	copy_if(rec, "memory", spec, "memory");
	copy_if(rec, "cpus", spec, "cpus");
	jx_add_int(rec, "timeout", timeout);
	jx_add_int(rec, "created", b_wall_ms());
	jx_add_str(rec, "status", "queued");
	jx_add_int(rec, "since", jx_int(rec, "created", 0));
	if (extra) {
		json_object_object_foreach(extra, k, v) jx_add_ref(rec, k, v);
	}
	return rec;
}

enum berr
job_submit(struct op *o, json_object *body, json_object *extra, char id[JOB_ID_LEN + 1])
{
	json_object *spec = NULL, *labels = json_object_new_object(), *rec = NULL, *in = NULL;
	struct ct_new n = {.labels = labels, .start = 1};
	int64_t timeout = jx_int(body, "timeout", g_cfg->default_job_timeout);
	struct jstate js;
	char tbuf[24], owner[OWN_MAX];
	int created, fd = -1;
	enum berr e = own_for_create(o, jx_str(body, "owner"), "owner", owner, sizeof(owner));

	n.owner = owner;
	if (e != B_OK)
		goto out;
	if (new_id(id) != 0) {
		e = op_fail(o, B_INTERNAL, NULL, "no randomness for a job id");
		goto out;
	}
	snprintf(o->audit_target, sizeof(o->audit_target), "job %s", id);
	spec = job_spec(body, id);
	e = pol_check(o, own_policy_role(owner, o->role), spec, 0, &n.lim);
	if (e != B_OK)
		goto out;
	snprintf(tbuf, sizeof(tbuf), "%lld", (long long)timeout);
	jx_add_str(labels, LBL_JOB, id);
	jx_add_str(labels, LBL_JOB_TIMEOUT, tbuf);
	if (jx_str(body, "name"))
		jx_add_str(labels, LBL_JOB_NAME, jx_str(body, "name"));
	n.spec = spec;
	rec = job_record(body, spec, extra, id, n.owner, timeout);
	/* The limit it runs under, asked for or the role's (seed 001 reports it on MEM_EXCEEDED).
	 */
	if (!jx_get(rec, "memory") && n.lim.memory > 0)
		jx_add_int(rec, "memory", n.lim.memory);
	/* Held across create and first write so no observer sees a half-made job. */
	fd = lock_job(id);
	if (fd < 0) {
		e = op_fail(o, B_INTERNAL, NULL, "cannot lock job %s", id);
		goto out;
	}
	e = ct_create(o, &n, &in, &created);
	if (e != B_OK)
		goto out;
	jx_add_str(rec, "container", jx_str(in, "Id"));
	derive(rec, in, &js);
	apply(rec, &js);
	e = put(o, id, rec);
	if (e != B_OK) {
		struct op_err sv;
		op_save(o, &sv);
		ct_remove(o, jx_str(in, "Id"), -1);
		op_restore(o, &sv);
		goto out;
	}
	log_info("job_submitted id=%s owner=%s image=%s", id, n.owner, jx_str(spec, "image"));
out:
	if (fd >= 0)
		st_unlock(fd);
	json_object_put(in);
	json_object_put(rec);
	json_object_put(spec);
	json_object_put(labels);
	return e;
}

/* ---- views and handlers ---------------------------------------------- */

static json_object *
job_view(json_object *rec)
{
	json_object *v = json_object_new_object();

	jx_add_str(v, "id", jx_str(rec, "id"));
	jx_add_str(v, "name", jx_str(rec, "name"));
	jx_add_str(v, "owner", jx_str(rec, "owner"));
	jx_add_str(v, "status", jx_str(rec, "status"));
	add_iso(v, "since", jx_int(rec, "since", 0));
	if (jx_get(rec, "exit_code"))
		jx_add_int(v, "exit_code", jx_int(rec, "exit_code", 0));
	add_iso(v, "created", jx_int(rec, "created", 0));
	add_iso(v, "started", jx_int(rec, "started", 0));
	add_iso(v, "finished", jx_int(rec, "finished", 0));
	jx_add_str(v, "image", jx_str(rec, "image"));
	jx_add_ref(v, "command", jx_get(rec, "command"));
	jx_add_int(v, "timeout", jx_int(rec, "timeout", 0));
	if (jx_bool(rec, "oom_killed", 0))
		jx_add_bool(v, "oom_killed", 1);
	if (jx_str(rec, "error"))
		jx_add_str(v, "error", jx_str(rec, "error"));
	jx_add_str(v, "container", jx_bool(rec, "swept", 0) ? NULL : jx_str(rec, "container"));
	if (jx_str(rec, "seed"))
		jx_add_str(v, "seed", jx_str(rec, "seed"));
	return v;
}

/*
 * job_view with `can`: cancel until it has finished, remove after, both
 * through its DELETE row (which h_delete does, by the same status).  New
 * reference.
 */
static json_object *
view_for(struct op *o, json_object *rec)
{
	json_object *v = job_view(rec), *can = json_object_new_object();
	const char *status = jx_str(rec, "status");
	int del = rt_allows(o->role, "DELETE", "/api/v1/jobs/{id}");
	int done = status && terminal(status);

	jx_add_bool(can, "cancel", del && !done);
	jx_add_bool(can, "remove", del && done);
	json_object_object_add(v, "can", can);
	return v;
}

static enum berr
h_submit(struct req *r)
{
	char id[JOB_ID_LEN + 1];
	json_object *o;
	enum berr e = job_submit(&r->op, r->json, NULL, id);

	if (e != B_OK)
		return e;
	o = json_object_new_object();
	jx_add_str(o, "id", id);
	rq_json(r, 202, o);
	return B_OK;
}

struct collect {
	struct op *op;
	const char *owner; /* only this owner's; NULL = all the caller may see */
	char (*ids)[JOB_ID_LEN + 1];
	size_t n, cap;
};

static int
collect_one(const char *name, json_object *rec, void *arg)
{
	struct collect *c = arg;
	const char *owner = jx_str(rec, "owner");

	if (!job_id_valid(name) || (c->owner && (!owner || strcmp(owner, c->owner) != 0)) ||
	    !visible(c->op, rec))
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		void *p = realloc(c->ids, cap * sizeof(*c->ids));
		if (p == NULL)
			return 1;
		c->ids = p;
		c->cap = cap;
	}
	memcpy(c->ids[c->n++], name, JOB_ID_LEN + 1);
	return 0;
}

/* Newest first; the id breaks ties so the order is stable. */
static int
by_created_desc(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
	int64_t cx = jx_int(x, "created", 0), cy = jx_int(y, "created", 0);

	if (cx != cy)
		return cx < cy ? 1 : -1;
	return -strcmp(jx_str(x, "id"), jx_str(y, "id"));
}

static enum berr
h_list(struct req *r)
{
	const char *status = rq_str(r, "status"), *owner = rq_str(r, "owner");
	struct collect c = {.op = &r->op, .owner = owner};
	json_object **recs = NULL, *list, *o;
	size_t n = 0;
	enum berr e = B_OK;

	if (owner && !own_visible(&r->op, owner))
		return op_fail(
		    &r->op, B_FORBIDDEN, "owner",
		    "only admins may list other owners' jobs (and members their groups')");
	st_each(ST_JOBS, collect_one, &c);
	recs = calloc(c.n ? c.n : 1, sizeof(*recs));
	if (recs == NULL) {
		e = op_fail(&r->op, B_INTERNAL, NULL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c.n; i++) {
		struct obs ob;
		json_object *rec = NULL;
		/* A finished job's record is final: only active jobs cost a dockerd call. */
		if (st_get(ST_JOBS, c.ids[i], &rec) == B_OK && jx_str(rec, "status") &&
		    terminal(jx_str(rec, "status"))) {
			if (!status || strcmp(jx_str(rec, "status"), status) == 0)
				recs[n++] = rec;
			else
				json_object_put(rec);
			continue;
		}
		json_object_put(rec);
		e = observe(&r->op, c.ids[i], &ob);
		if (e == B_NOT_FOUND) { /* deleted meanwhile */
			r->op.err = B_OK;
			e = B_OK;
			continue;
		}
		if (e != B_OK)
			goto out;
		if (!status || strcmp(jx_str(ob.rec, "status"), status) == 0)
			recs[n++] = json_object_get(ob.rec);
		obs_free(&ob);
	}
	qsort(recs, n, sizeof(*recs), by_created_desc);
	list = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(list, view_for(&r->op, recs[i]));
	o = json_object_new_object();
	json_object_object_add(o, "jobs", list);
	rq_json(r, 200, o);
out:
	for (size_t i = 0; i < n; i++)
		json_object_put(recs[i]);
	free(recs);
	free(c.ids);
	return e;
}

static enum berr
h_get(struct req *r)
{
	json_object *rec;
	enum berr e = job_find(&r->op, r->args[0], &rec);

	if (e != B_OK)
		return e;
	rq_json(r, 200, view_for(&r->op, rec));
	json_object_put(rec);
	return B_OK;
}

/* The start of the last LINES lines of TEXT (all of it for LINES < 0). */
static const char *
last_lines(const char *text, long long lines)
{
	size_t len = strlen(text), end = len;
	long long seen = 0;

	if (lines < 0)
		return text;
	if (lines == 0)
		return text + len;
	if (end && text[end - 1] == '\n')
		end--; /* the final newline ends the last line; it does not start another */
	for (size_t i = end; i > 0; i--)
		if (text[i - 1] == '\n' && ++seen == lines)
			return text + i;
	return text;
}

static enum berr
h_logs(struct req *r)
{
	json_object *rec;
	char id[JOB_ID_LEN + 1];
	long long lines = rq_int(r, "tail");
	enum berr e;

	e = job_find(&r->op, r->args[0], &rec);
	if (e != B_OK)
		return e;
	snprintf(id, sizeof(id), "%s", r->args[0]);
	if (!jx_bool(rec, "swept", 0) && jx_str(rec, "container")) {
		/* Live container: the containers module streams it (follow, since, tail...). */
		char *cid = strdup(jx_str(rec, "container"));
		if (cid == NULL) {
			json_object_put(rec);
			return op_fail(&r->op, B_INTERNAL, NULL, "out of memory");
		}
		free(r->args[0]);
		r->args[0] = cid;
		e = ct_h_logs(r);
		if (e != B_NOT_FOUND || r->sent) {
			json_object_put(rec);
			return e;
		}
		/* Swept between the two reads: the record has the tail now. */
		r->op.err = B_OK;
		json_object_put(rec);
		if (st_get(ST_JOBS, id, &rec) != B_OK)
			return op_fail(&r->op, B_NOT_FOUND, NULL, "no such job");
	}
	rq_text(r, 200, "text/plain; charset=utf-8",
	        last_lines(jx_str(rec, "logs_tail") ? jx_str(rec, "logs_tail") : "", lines));
	json_object_put(rec);
	return B_OK;
}

static enum berr
h_delete(struct req *r)
{
	const char *id = r->args[0];
	json_object *rec;
	struct obs o = {0};
	enum berr e;
	int fd;

	e = job_find(&r->op, id, &rec);
	if (e != B_OK)
		return e;
	json_object_put(rec);
	snprintf(r->op.audit_target, sizeof(r->op.audit_target), "job %s", id);
	fd = lock_job(id);
	if (fd < 0)
		return op_fail(&r->op, B_INTERNAL, NULL, "cannot lock job %s", id);
	e = observe_locked(&r->op, id, &o);
	if (e != B_OK)
		goto out;
	if (!terminal(o.js.status)) {
		/* Cancel: the record says so first, then the container is killed. */
		e = decide(&r->op, id, o.rec, "canceled_at");
		if (e == B_OK)
			e = reinspect(&r->op, &o);
		if (e == B_OK && apply(o.rec, &o.js))
			e = put(&r->op, id, o.rec);
		if (e == B_OK)
			rq_json(r, 200, view_for(&r->op, o.rec));
		goto out;
	}
	if (o.in && (e = ct_remove(&r->op, jx_str(o.in, "Id"), -1)) != B_OK)
		goto out;
	if (st_del(ST_JOBS, id) != B_OK) {
		e = op_fail(&r->op, B_INTERNAL, NULL, "cannot remove the record of job %s", id);
		goto out;
	}
	rq_empty(r, 204);
out:
	st_unlock(fd);
	obs_free(&o);
	return e;
}

/* ---- sweeper ---------------------------------------------------------- */

/* Removes a finished job's container once retention has passed, keeping its logs tail. */
static enum berr
sweep_one(struct op *o, const char *id)
{
	struct obs ob;
	int64_t ended;
	char *text = NULL;
	enum berr e;
	int fd = lock_job(id);

	if (fd < 0)
		return op_fail(o, B_INTERNAL, NULL, "cannot lock job %s", id);
	e = observe_locked(o, id, &ob);
	if (e != B_OK)
		goto out;
	ended = ob.js.finished ? ob.js.finished : ob.js.since;
	if (ob.in == NULL || !terminal(ob.js.status) || ob.js.running ||
	    b_wall_ms() - ended < (int64_t)g_cfg->job_retention * 1000)
		goto out;
	e = fetch_tail(o, ob.in, &text);
	if (e != B_OK)
		goto out;
	jx_add_str(ob.rec, "logs_tail", text);
	/* Tail first: a crash before the remove leaves a container to sweep again. */
	e = put(o, id, ob.rec);
	if (e == B_OK)
		e = ct_remove(o, jx_str(ob.in, "Id"), -1);
	if (e != B_OK)
		goto out;
	jx_add_bool(ob.rec, "swept", 1);
	jx_add_int(ob.rec, "swept_at", b_wall_ms());
	e = put(o, id, ob.rec);
	log_info("job_swept id=%s status=%s", id, ob.js.status);
out:
	free(text);
	obs_free(&ob);
	st_unlock(fd);
	return e;
}

/*
 * A record rebuilt from the labels of job container ITEM (a list item) when
 * a crash lost it between create and write.  Checked again under the lock:
 * a job DELETE may have removed container and record since the list.
 */
static void
adopt(struct op *o, json_object *item, const char *id)
{
	const char *lbl = ct_label(item, LBL_SPEC), *t = ct_label(item, LBL_JOB_TIMEOUT);
	json_object *rec = NULL, *spec = NULL, *body = NULL, *in = NULL;
	char err[64];
	int fd = lock_job(id);

	if (fd < 0)
		return;
	if (st_get(ST_JOBS, id, &rec) != B_NOT_FOUND ||
	    inspect(o, jx_str(item, "Id"), &in) != B_OK || in == NULL)
		goto out;
	spec = lbl ? jx_parse(lbl, strlen(lbl), err, sizeof(err)) : NULL;
	body = json_object_new_object();
	jx_add_str(body, "name", ct_label(item, LBL_JOB_NAME));
	rec = job_record(body, spec ? spec : body, NULL, id, ct_label(item, LBL_OWNER),
	                 t ? atoll(t) : g_cfg->default_job_timeout);
	jx_add_int(rec, "created", jx_int(item, "Created", 0) * 1000);
	jx_add_int(rec, "since", jx_int(item, "Created", 0) * 1000);
	jx_add_str(rec, "container", jx_str(item, "Id"));
	if (st_put(ST_JOBS, id, rec) == B_OK)
		log_info("job_adopted id=%s", id);
out:
	st_unlock(fd);
	json_object_put(in);
	json_object_put(body);
	json_object_put(spec);
	json_object_put(rec);
}

/*
 * Only jobs that still have a container need upkeep, so the sweeper walks
 * dockerd's list of job containers, never the (growing) set of records.
 */
int
job_sweep(void)
{
	struct op o;
	const char *labels[1] = {LBL_JOB};
	json_object *list;
	int failed = 0;

	op_system(&o);
	if (ct_list(&o, CT_ALL, labels, 1, &list) != B_OK) {
		log_error("job_sweep_failed error=\"%s\"", o.msg);
		op_done(&o);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *item = json_object_array_get_idx(list, i);
		const char *id = ct_label(item, LBL_JOB);
		if (!job_id_valid(id))
			continue;
		op_clear(&o);
		adopt(&o, item, id);
		if (sweep_one(&o, id) != B_OK && o.err != B_NOT_FOUND) {
			log_error("job_sweep id=%s error=\"%s\"", id, o.msg);
			failed = 1;
		}
	}
	json_object_put(list);
	op_done(&o);
	return failed ? -1 : 0;
}

static const struct rt_param list_query[] = {
    {.name = "status", .type = P_STR, .desc = "Only jobs in this status.", .enums = status_enum},
    RT_P_OWNER,
    {0}};

static const struct rt_route job_routes[] = {
    {"POST", "/api/v1/jobs", h_submit, ROLE_OPERATOR, RT_BODY | RT_MUT, &job_schema,
     "Submit a job (runs to completion); 202 {\"id\"}.", NULL},
    {"GET", "/api/v1/jobs", h_list, ROLE_VIEWER, 0, NULL,
     "The caller's jobs, newest first (?status=; admins see all, ?owner=), each with what the "
     "caller may do to it (can).",
     list_query},
    {"GET", "/api/v1/jobs/{id}", h_get, ROLE_VIEWER, 0, NULL,
     "A job's status (queued running succeeded failed canceled timed_out), the time it "
     "entered it (since), exit code, start and end, and what the caller may do to it (can).",
     NULL},
    {"GET", "/api/v1/jobs/{id}/logs", h_logs, ROLE_VIEWER, RT_STREAM, NULL,
     "A job's output as text (?tail=N; follow=1 while it runs); kept after the sweep.",
     ct_logs_query},
    {"DELETE", "/api/v1/jobs/{id}", h_delete, ROLE_OPERATOR, RT_MUT, NULL,
     "Cancel a queued or running job (200, status canceled); remove a finished one (204).", NULL},
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

static const struct rt_param job_args[] = {{.name = "id",
                                            .type = P_STR,
                                            .desc = "job",
                                            .valid = job_id_valid,
                                            .rule = "16 hex characters"},
                                           {0}};

static const struct sc_schema *const job_schemas[] = {&job_schema, NULL};
static const char *const job_kinds[] = {ST_JOBS, NULL};

const struct bmod mod_jobs = {
    .name = "jobs",
    .routes = job_routes,
    .args = job_args,
    .schemas = job_schemas,
    .state_kinds = job_kinds,
    .periodic = job_sweep,
};

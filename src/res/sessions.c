/*
 * sessions.c - test sessions and their reaper (sessions.h).  A session's
 * record, sessions/<hash>.json, holds its owner, its id and when it was
 * last active (ms); the reaper compares that, or for a session without a
 * record the newest container's creation, with docker_door.session_idle.
 */
#include "berth.h"
#include "edge/module.h"
#include "lib/cfg.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/op.h"
#include "res/containers.h"
#include "res/sessions.h"
#include "store/state.h"

#include <stdio.h>
#include <string.h>

/* A record is rewritten at most this often (ms): lookups come in bursts. */
#define TOUCH_EVERY_MS 5000

/* The record name of OWNER's session SID: a hash, since both are the caller's text. */
static void
record_name(const char *owner, const char *sid, char *out, size_t n)
{
	char key[512];

	snprintf(key, sizeof(key), "%s\n%s", owner, sid);
	snprintf(out, n, "s-%08x-%08x", b_hash32(key), b_hash32(sid));
}

void
ses_touch(json_object *obj)
{
	const char *sid = ct_label(obj, LBL_TC_SESSION), *owner = ct_label(obj, LBL_OWNER);
	json_object *rec = NULL;
	char name[64];
	int64_t now = b_wall_ms();

	if (sid == NULL || owner == NULL || !ct_managed(obj))
		return;
	record_name(owner, sid, name, sizeof(name));
	if (st_get(ST_SESSIONS, name, &rec) == B_OK &&
	    now - jx_int(rec, "last", 0) < TOUCH_EVERY_MS) {
		json_object_put(rec);
		return;
	}
	json_object_put(rec);
	rec = json_object_new_object();
	jx_add_str(rec, "owner", owner);
	jx_add_str(rec, "session", sid);
	jx_add_int(rec, "last", now);
	if (st_put(ST_SESSIONS, name, rec) != B_OK)
		log_error("session_touch_failed session=%s", name);
	json_object_put(rec);
}

/* The record name of list item IT's session into NAME; 0 when it has none. */
static int
item_session(json_object *it, char *name, size_t n)
{
	const char *sid = ct_label(it, LBL_TC_SESSION), *owner = ct_label(it, LBL_OWNER);

	if (!sid || !owner || !jx_str(it, "Id"))
		return 0;
	record_name(owner, sid, name, n);
	return 1;
}

/*
 * When each session of LIST was last active (ms), by record name: its
 * record, or its newest container's creation when that is later.
 */
static json_object *
sessions_last(json_object *list)
{
	json_object *last = json_object_new_object(), *rec;
	char name[64];

	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i);
		int64_t t = jx_int(it, "Created", 0) * 1000;

		if (!item_session(it, name, sizeof(name)))
			continue;
		if (!jx_get(last, name)) {
			rec = NULL;
			if (st_get(ST_SESSIONS, name, &rec) == B_OK && jx_int(rec, "last", 0) > t)
				t = jx_int(rec, "last", 0);
			json_object_put(rec);
		}
		if (t > jx_int(last, name, 0))
			jx_add_int(last, name, t);
	}
	return last;
}

int
ses_reap(void)
{
	static const char *const want[] = {LBL_TC_SESSION};
	json_object *list, *last;
	int64_t now = b_wall_ms(), idle = (int64_t)g_cfg->door.session_idle * 1000;
	struct op o;
	int failed = 0;
	char name[64];

	op_system(&o);
	if (ct_list(&o, CT_ALL, want, 1, &list) != B_OK) {
		op_done(&o);
		return -1;
	}
	last = sessions_last(list);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i);
		const char *id = jx_str(it, "Id");

		if (!item_session(it, name, sizeof(name)) || now - jx_int(last, name, now) < idle)
			continue;
		if (ct_remove(&o, id, 0) != B_OK) {
			log_error("session_reap_failed container=%s session=%s: %s", id, name,
			          o.msg);
			op_clear(&o);
			failed = 1;
			jx_add_int(last, name, now); /* its record stays for the next sweep */
			continue;
		}
		log_info("session_reaped container=%s owner=%s session=%s", id,
		         ct_label(it, LBL_OWNER), ct_label(it, LBL_TC_SESSION));
	}
	/* A reaped session has no container left, and needs no record. */
	json_object_object_foreach(last, k, v)
	{
		if (now - json_object_get_int64(v) >= idle)
			st_del(ST_SESSIONS, k);
	}
	json_object_put(last);
	json_object_put(list);
	op_done(&o);
	return failed ? -1 : 0;
}

static const char *const ses_kinds[] = {ST_SESSIONS, NULL};

const struct bmod mod_sessions = {
    .name = "sessions",
    .state_kinds = ses_kinds,
    .periodic = ses_reap,
};

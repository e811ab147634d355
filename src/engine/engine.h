/*
 * engine.h - the one place that speaks dockerd's Engine API.  Every call is
 * a typed function over a row of data (engine/call.h): its method, its path,
 * and what each status dockerd answers means in berth's errors.  No Docker
 * path is built anywhere else, and this layer alone holds the Docker socket,
 * so it could move into a process of its own.
 *
 * Every function reports failures on the operation O; JSON handed back is a
 * new reference the caller puts.  Identifiers passed in must already be
 * validated (names, ids); they are escaped here all the same.
 */
#ifndef BERTH_ENGINE_H
#define BERTH_ENGINE_H

#include "berth.h"
#include "lib/op.h"

#include <json-c/json.h>
#include <stddef.h>

/* Streamed answers: SINK gets the body as it comes; ALIVE (polled, may be NULL) ends it with 0. */
struct eng_sink {
	int (*sink)(const char *buf, size_t len, void *arg);
	int (*alive)(void *arg);
	void *arg;
};

int eng_init(void);
void eng_cleanup(void);
/*
 * 1 while this process holds an idle connection to dockerd from an earlier
 * call (the kernel closes it when dockerd exits): liveness without a call.
 */
int eng_connected(void);

/* ---- system (engine/system.c) ---- */
enum berr eng_ping(struct op *o);
enum berr eng_version(struct op *o, json_object **out);
enum berr eng_info(struct op *o, json_object **out);
/*
 * dockerd's event stream as a stream ticket's request (into TK): only the
 * Docker TYPES ("container", "volume"...; NULL-ended), only objects
 * labelled LABEL ("key=value"; NULL: any), from SINCE_NS (dockerd's
 * timeNano, replayed from its short buffer; 0: from now), up to UNTIL_NS
 * (0: no end; past it dockerd ends the stream).
 */
enum berr eng_events_ticket(struct op *o, const char *const *types, const char *label,
                            long long since_ns, long long until_ns, json_object *tk);

/* ---- containers and exec (engine/containers.c) ---- */
/* Inspect: 404 (and dockerd's 400 for a malformed reference) is not_found. */
enum berr eng_ct_inspect(struct op *o, const char *ref, json_object **out);
/*
 * /containers/json with FILTERS (may be NULL): a JSON array.  Its items
 * leave out NetworkSettings, HostConfig, Mounts and Command (unparsed):
 * read those from eng_ct_inspect.
 */
enum berr eng_ct_list(struct op *o, int all, json_object *filters, json_object **out);
/* The same list with every member, NetworkSettings and Mounts too (who is on a network, who uses a
 * volume). */
enum berr eng_ct_list_full(struct op *o, int all, json_object *filters, json_object **out);
/*
 * Creates NAME (NULL: dockerd picks one) from BODY; the id into ID.  A name
 * in use is conflict (R_NAME_TAKEN, field name), a missing image invalid
 * (R_NO_IMAGE, field image).
 */
enum berr eng_ct_create(struct op *o, const char *name, json_object *body, char *id, size_t n);
/* Start; already running is success.  A start dockerd cannot make is conflict. */
enum berr eng_ct_start(struct op *o, const char *id);
/* Stop within TIMEOUT seconds; already stopped is success. */
enum berr eng_ct_stop(struct op *o, const char *id, int timeout);
enum berr eng_ct_restart(struct op *o, const char *id, int timeout);
/* Send SIGNAL; not running is success (R_NOT_RUNNING is not an error here). */
enum berr eng_ct_kill(struct op *o, const char *id, const char *signal);
/* Forced remove, with its anonymous volumes; gone already is success. */
enum berr eng_ct_remove(struct op *o, const char *id);
enum berr eng_ct_rename(struct op *o, const char *id, const char *name);
/* Pause (PAUSE 1) or unpause; already in that state is success, not running a conflict. */
enum berr eng_ct_pause(struct op *o, const char *id, int pause);
/* The processes running in it (Docker's {"Titles","Processes"}); PS_ARGS validated or NULL. */
enum berr eng_ct_top(struct op *o, const char *id, const char *ps_args, json_object **out);
/* Docker's wait (CONDITION: next-exit, not-running, removed) as a stream ticket's request. */
enum berr eng_ct_wait_ticket(struct op *o, const char *id, const char *condition, json_object *tk);
/* What an attach takes (stream=1 always). */
struct eng_attach {
	int stdin_, stdout_, stderr_, logs;
	const char *detach_keys; /* validated, or NULL */
};
/* An attach (the relay upgrades it: Upgrade: tcp) as a stream ticket's request. */
enum berr eng_ct_attach_ticket(struct op *o, const char *id, const struct eng_attach *a,
                               json_object *tk);
/* Stats streamed (a sample a second) as a stream ticket's request. */
enum berr eng_ct_stats_ticket(struct op *o, const char *id, json_object *tk);
/* The logs query berth sends (every value already validated). */
struct eng_logs {
	int stdout_, stderr_, timestamps, follow;
	long long tail; /* -1: all */
	const char *since;
};
/* Logs, streamed to S (Docker's multiplexed or TTY stream). */
enum berr eng_ct_logs(struct op *o, const char *id, const struct eng_logs *q,
                      const struct eng_sink *s);
/* The same logs as a stream ticket's request, for the relay to send (relay/ticket.h). */
enum berr eng_ct_logs_ticket(struct op *o, const char *id, const struct eng_logs *q,
                             json_object *tk);
/* One stats sample (stream=false: dockerd takes two, so CPU % has a baseline). */
enum berr eng_ct_stats(struct op *o, const char *id, json_object **out);
/*
 * Exec: create (not running is conflict, R_NOT_RUNNING); its start is a
 * stream ticket's request, which the relay sends (and inspects after).
 */
enum berr eng_exec_create(struct op *o, const char *id, json_object *body, char *eid, size_t n);
enum berr eng_exec_start_ticket(struct op *o, const char *eid, json_object *body, json_object *tk);
/* Docker's exec inspect (its ContainerID says whose it is); gone is not_found. */
enum berr eng_exec_inspect(struct op *o, const char *eid, json_object **out);
/* Resizes an exec's terminal. */
enum berr eng_exec_resize(struct op *o, const char *eid, int rows, int cols);

/* ---- images (engine/images.c) ---- */
enum berr eng_img_list(struct op *o, json_object *filters, json_object **out);
/* Inspect an image by reference or id: 404 is not_found (R_NO_IMAGE). */
enum berr eng_img_inspect(struct op *o, const char *ref, json_object **out);
/* Classic-builder build of the tar TAR (its DOCKERFILE) tagged TAG with LABELS; progress to S. */
enum berr eng_img_build(struct op *o, const char *tag, const char *dockerfile, json_object *labels,
                        const void *tar, size_t len, const struct eng_sink *s);
/*
 * The same build as a stream ticket's request (relay/ticket.h), its body the
 * spool file TAR_FILE (store/state.h; NULL: none) the relay sends and removes.
 */
enum berr eng_img_build_ticket(struct op *o, const char *tag, const char *dockerfile,
                               json_object *labels, const char *tar_file, json_object *tk);
/* Pull IMAGE:TAG; progress to S. */
/* AUTH: an X-Registry-Auth header line (engine/registry.h) or NULL/"" for none. */
enum berr eng_img_pull(struct op *o, const char *image, const char *tag, const char *auth,
                       const struct eng_sink *s);
/* The same pull as a raw stream ticket's request (AUTH goes in its "header" member). */
enum berr eng_img_pull_ticket(struct op *o, const char *image, const char *tag, const char *auth,
                              json_object *tk);
/* Removes image ID (never forced: dockerd refuses one a container uses). */

/* Tags REF (a reference or id) as REPO:TAG. */
enum berr eng_img_tag(struct op *o, const char *ref, const char *repo, const char *tag);
/* Removes REF (untags a tag; an id with FORCE every tag); *OUT dockerd's list of what went. */
enum berr eng_img_remove(struct op *o, const char *ref, int force, int noprune, json_object **out);
/* REF's layers: dockerd's history array. */
enum berr eng_img_history(struct op *o, const char *ref, json_object **out);
/* A pull of IMAGE:TAG as a stream ticket's request (dockerd's progress passed on). */
/* A classic build's query, every value already validated (the Docker door's /build). */
struct eng_build {
	const char *tags[16];
	size_t ntags;
	const char *dockerfile, *target, *networkmode, *extrahosts;
	json_object *buildargs, *labels; /* borrowed; may be NULL */
	int rm, forcerm, nocache, quiet;
};
/* That build as a stream ticket's request, its body the spool file TAR_FILE. */
enum berr eng_img_dbuild_ticket(struct op *o, const struct eng_build *b, const char *tar_file,
                                json_object *tk);

/* ---- swarm services and tasks (engine/swarm.c) ---- */
/* Not a swarm manager is docker_unavailable. */
enum berr eng_svc_list(struct op *o, json_object *filters, json_object **out);
enum berr eng_svc_inspect(struct op *o, const char *id, json_object **out);
/* Creates from SPEC; a taken name is conflict (R_NAME_TAKEN). *OUT: {"ID": ...}. */
enum berr eng_svc_create(struct op *o, json_object *spec, json_object **out);
/* Updates to SPEC made from VERSION; a newer version meanwhile is R_OUT_OF_SEQUENCE. */
enum berr eng_svc_update(struct op *o, const char *id, long long version, json_object *spec);
/* Removes; gone already is success. */
enum berr eng_svc_remove(struct op *o, const char *id);
enum berr eng_task_list(struct op *o, json_object *filters, json_object **out);

/* ---- volumes (engine/volumes.c) ---- */
/* The "Volumes" array of /volumes with FILTERS (may be NULL); never NULL on success. */
enum berr eng_vol_list(struct op *o, json_object *filters, json_object **out);
/* A taken name is conflict (R_NAME_TAKEN); *OUT is the volume. */
enum berr eng_vol_create(struct op *o, json_object *body, json_object **out);
enum berr eng_vol_inspect(struct op *o, const char *name, json_object **out);
/* Gone already is success; in use is conflict. */
enum berr eng_vol_remove(struct op *o, const char *name, int force);
/* /system/df: images, containers and volumes with the sizes dockerd measured. */
enum berr eng_df(struct op *o, json_object **out);

/* ---- networks (engine/networks.c) ---- */
enum berr eng_net_list(struct op *o, json_object *filters, json_object **out);
/* Creates from BODY; its id into ID.  A taken name is conflict (R_NAME_TAKEN). */
enum berr eng_net_create(struct op *o, json_object *body, char *id, size_t n);
enum berr eng_net_inspect(struct op *o, const char *ref, json_object **out);
/* Gone already is success; active endpoints are conflict. */
enum berr eng_net_remove(struct op *o, const char *id);
/* Connects CONTAINER to NET with ALIASES (an array, or NULL). */
enum berr eng_net_connect(struct op *o, const char *net, const char *container,
                          json_object *aliases);
enum berr eng_net_disconnect(struct op *o, const char *net, const char *container, int force);

#endif

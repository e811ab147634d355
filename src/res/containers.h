/*
 * containers.h - containers as berth sees them: owned, labelled, recorded.
 * Other modules (catalog, services, jobs, seed routes) create, look up,
 * list, recreate and remove containers only through these functions, so
 * ownership, policy, records and labels are applied the same way
 * everywhere.  What they do with a container they already hold (a job
 * inspecting or killing its own) goes to the engine layer directly.
 */
#ifndef BERTH_CONTAINERS_H
#define BERTH_CONTAINERS_H

#include "berth.h"
#include "edge/route.h"
#include "res/policy.h"

#include <json-c/json.h>

struct op;
struct req;
struct sc_schema;

/* The state directory's folder of container records. */
#define ST_CONTAINERS "containers"

#define LBL_MANAGED  "berth.managed"
#define LBL_OWNER    "berth.owner"
#define LBL_INSTANCE "berth.instance"
#define LBL_PROTECT  "berth.protected"
#define LBL_SERVICE  "berth.service"
#define LBL_JOB      "berth.job"
#define LBL_CATALOG  "berth.catalog"
#define LBL_SEED     "berth.seed"
#define LBL_SPEC     "berth.spec"
/* Service and job details (services.h, jobs.c) that berth also stamps itself. */
#define LBL_SERVICE_REV "berth.service.rev"
#define LBL_SERVICE_SEQ "berth.service.seq"
#define LBL_JOB_TIMEOUT "berth.job.timeout"
#define LBL_JOB_NAME    "berth.job.name"

/* The labels docker compose writes; stacks write them too (res/stacks.c). */
#define LBL_COMPOSE_PROJECT "com.docker.compose.project"
#define LBL_COMPOSE_SERVICE "com.docker.compose.service"
#define LBL_COMPOSE_NUMBER  "com.docker.compose.container-number"
#define LBL_COMPOSE_ONEOFF  "com.docker.compose.oneoff"
#define LBL_COMPOSE_HASH    "com.docker.compose.config-hash"

/* Options of one create; everything but SPEC and LIM may be zero. */
struct ct_new {
	json_object *spec;      /* validated, policy-checked berth spec (borrowed) */
	struct pol_limits lim;  /* the limits pol_check worked out for SPEC */
	const char *owner;      /* recorded owner */
	json_object *labels;    /* extra berth.* labels (borrowed) */
	json_object *pin_ports; /* {"8080/tcp": 32768}: host ports to keep (recreate) */
	int start;              /* start after creating */
	int reuse;              /* idempotent by name: same owner gets the existing one */
};

/*
 * Creates (and starts) a container.  With reuse, an existing container of
 * that name owned by the same owner is returned instead (*CREATED = 0); one
 * owned by someone else is a 409.  A failed start removes what was created.
 * On B_OK *INSPECT is dockerd's inspect of the container (new reference).
 */
enum berr ct_create(struct op *o, const struct ct_new *n, json_object **inspect, int *created);

/*
 * Finds REF as O's caller may see it: a name they gave (in their namespace,
 * then their groups'), a Docker name, an id or an id prefix unique among
 * their own containers.  404 for a container that is not theirs (no
 * existence leak).  MUTATE also refuses
 * unmanaged containers (admins only read those).  *INSPECT is a new reference.
 */
enum berr ct_lookup(struct op *o, const char *ref, int mutate, json_object **inspect);

/*
 * 1 when a list item holds one of its owner's quota slots: everything but
 * a finished job's container (kept for its logs) and an ended Swarm task.
 */
int ct_holds_quota(json_object *item);

/* 403 when the container is protected (config list or label). */
enum berr ct_check_unprotected(struct op *o, json_object *inspect, const char *action);

/*
 * Replaces container OLD (inspect) by one made from SPEC (checked by the
 * caller's pol_check, which gave LIM) with the same name, owner, berth labels
 * and host ports, running if OLD ran.  The old one is kept aside until the
 * new one is up, and restored on any failure; no other create can take the
 * name meanwhile.
 */
enum berr ct_recreate(struct op *o, json_object *old, json_object *spec,
                      const struct pol_limits *lim, json_object **inspect);

/*
 * POST /api/v1/containers/{ref}/update (R's args[0] the ref): recreate on what
 * the tag names now, pulling first when its registry has a newer digest.
 * Redeploy webhooks (registries.c) call it as the container's owner.
 */
enum berr ct_update(struct req *r);

/* 409 when the container belongs to a job: jobs are managed through /api/v1/jobs. */
enum berr ct_check_plain(struct op *o, json_object *inspect);

/*
 * POST /api/v1/containers without the request: for OWNER (NULL: the caller;
 * own_for_create decides), a protected name refused but to admins, a catalog
 * tag's defaults applied, SPEC (schema-valid, without owner and start;
 * catalog defaults are added to it) checked by the owner's policy role,
 * then ct_create with START and REUSE.  The audit target is set on O.
 */
enum berr ct_create_from(struct op *o, json_object *spec, const char *owner, int start, int reuse,
                         json_object **inspect, int *created);

/*
 * The first steps of every change to one container, whichever door: REF
 * found as O's caller may change it (ct_lookup, mutate), named in the audit
 * line, a job's container refused and, when GUARDED, a protected one
 * (ACTION says what: "stopped").  *IN is a new reference on B_OK.
 */
enum berr ct_open(struct op *o, const char *ref, int guarded, const char *action, json_object **in);

/* One lifecycle call: what it does, and how it may be refused. */
struct ct_action {
	enum { ACT_START, ACT_STOP, ACT_RESTART, ACT_KILL, ACT_PAUSE, ACT_UNPAUSE } verb;
	int timeout;         /* stop, restart */
	const char *signal;  /* kill */
	int guarded;         /* protected containers refuse it */
	const char *refused; /* "stopped": what protection refuses */
};
/* ct_open, then A; the container's id into ID.  Already in that state is success. */
enum berr ct_act(struct op *o, const char *ref, const struct ct_action *a, char *id, size_t n);

/* Removes REF as DELETE /api/v1/containers/{ref} does (FORCE: a running one too). */
enum berr ct_delete(struct op *o, const char *ref, int force);

/* Stops (timeout seconds) and removes a container and drops its record. */
enum berr ct_remove(struct op *o, const char *id, int timeout);

/* berth's view of an inspect result (summary, or DETAILS). New reference. */
json_object *ct_view(json_object *inspect, int details);
/* berth's view of one /containers/json item. New reference. */
json_object *ct_view_item(json_object *item);
/* The labels of a Labels object that are not berth's own (berth.*). New reference. */
json_object *ct_user_labels(json_object *labels);
/* {"80/tcp": 32768} from an inspect result. New reference. */
json_object *ct_ports(json_object *inspect);

/* What a container list takes in (FLAGS of ct_list and ct_list_visible). */
enum ct_list_flag {
	CT_ALL = 1,  /* stopped ones too */
	CT_FULL = 2, /* items keep NetworkSettings and Mounts (eng_ct_list_full) */
};
/*
 * Lists this instance's managed containers carrying every label in LABELS
 * ("k=v" strings): dockerd's raw list (new reference) in *OUT.
 */
enum berr ct_list(struct op *o, int flags, const char *const *labels, size_t n, json_object **out);

/* The berth spec recorded for a container (record, else its label); new reference or NULL. */
json_object *ct_spec_of(json_object *inspect);

/*
 * The name a container was given (its berth.name label; for one made before
 * namespaces or without a name, its Docker name).
 */
const char *ct_name(json_object *inspect);
/* The same of a /containers/json list item. */
const char *ct_item_name(json_object *item);
/* The Docker name without its leading '/'; "" when dockerd sent none. */
const char *ct_dname(json_object *inspect);
const char *ct_item_dname(json_object *item);

/*
 * The managed containers O's caller may see (raw list items, new reference):
 * their own and their groups', or OWNER's alone (their own, a group's they
 * are in, anyone's for admins); admins without OWNER get every one.
 */
enum berr ct_list_visible(struct op *o, int flags, const char *owner, json_object **out);

/*
 * Label value from an inspect or list item, or NULL.  An empty value is
 * NULL too: berth stamps every berth.* label it knows on what it creates
 * (empty when unset), so a label an image carries never counts.
 */
const char *ct_label(json_object *obj, const char *key);
/*
 * OBJ (a container, volume or network, inspected or listed) is one berth
 * made on this instance; ct_is_named: and it is NAME of OWNER's namespace,
 * not something else that took its Docker name.
 */
int ct_managed(json_object *obj);
int ct_is_named(json_object *obj, const char *owner, const char *name);

/* Stops and removes every container labelled with this instance; 0 on success. */
int ct_cleanup_instance(void);
/* Rebuilds missing records from labels and drops records whose container is gone. */
int ct_reconcile(int verbose);

/* ---- the module and its handlers in ctio.c -------------------------- */

struct bmod;

extern const struct bmod mod_containers;

/* Logs (the job logs route too), one stats sample, non-interactive exec. */
enum berr ct_h_logs(struct req *r);
enum berr ct_h_stats(struct req *r);
enum berr ct_h_exec(struct req *r);
/*
 * What every exec into REF needs, whichever door: the container as the
 * caller may change it (*IN, new reference), named in the audit line with
 * COMMAND, and USER (NULL: the container's own) allowed by the role's
 * exec_user policy.
 */
enum berr ct_exec_open(struct op *o, const char *ref, json_object *command, const char *user,
                       json_object **in);
/* 1 when S names a signal as kill takes it: SIGTERM, TERM or 15. */
int ct_signal_valid(const char *s);
/* GET .../console: an interactive exec, upgraded and held by the relay (relay/tty.c). */
enum berr ct_h_console(struct req *r);
extern const struct rt_param ct_console_query[];
extern const struct sc_schema ct_exec_schema;
/* The query both log routes take: tail, since, timestamps, stdout, stderr, follow. */
extern const struct rt_param ct_logs_query[];

/* Reads a Docker multiplexed (or TTY) stream and hands on stdout/stderr payloads. */
struct ct_demux {
	int tty;
	unsigned char hdr[8];
	size_t hlen;
	size_t remaining;
	int stream; /* 1 stdout, 2 stderr */
	int (*emit)(int stream, const char *buf, size_t len, void *arg);
	void *arg;
};
/* Feeds LEN bytes; returns nonzero when EMIT asked to stop. */
int ct_demux_feed(struct ct_demux *d, const char *buf, size_t len);

#endif

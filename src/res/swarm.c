/*
 * swarm.c - swarm mode: a berth service is one Docker Swarm service, so the
 * same definitions run across every node of the swarm dockerd manages.  This
 * is the only code that builds Swarm service specs.  Scale sets
 * Mode.Replicated.Replicas with the service's current Version.Index; status
 * counts tasks that are running.  Services are found by their labels
 * (berth.managed, berth.instance, berth.service), never by image.
 */
#include "berth.h"
#include "store/audit.h"
#include "lib/cfg.h"
#include "res/containers.h"
#include "engine/engine.h"
#include "lib/json.h"
#include "lib/log.h"
#include "res/policy.h"
#include "edge/req.h"
#include "res/owner.h"
#include "res/services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Swarm refuses an update made from a stale version; re-read and try again this often. */
#define SW_ATTEMPTS 3

enum berr
sw_active(struct op *o, int *on)
{
	json_object *info;
	enum berr e;

	*on = strcmp(g_cfg->mode, "swarm") == 0;
	if (strcmp(g_cfg->mode, "auto") != 0)
		return B_OK;
	/* auto: asked per request, so a node that joins or leaves a swarm is followed at once. */
	e = eng_info(o, &info);
	if (e != B_OK)
		return e;
	*on = jx_bool(jx_obj(info, "Swarm"), "ControlAvailable", 0);
	json_object_put(info);
	return B_OK;
}

/*
 * The label filter that finds this instance's services (and OWNER's service
 * NAME, when given); new reference.
 */
static json_object *
label_filter(const char *name, const char *owner)
{
	json_object *f = own_filter(name ? owner : NULL), *l = jx_arr(f, "label");
	char buf[256];

	if (name) {
		snprintf(buf, sizeof(buf), LBL_SERVICE "=%s", name);
		json_object_array_add(l, json_object_new_string(buf));
	}
	return f;
}

/* This instance's services (NULL = all of them): dockerd's list, new reference. */
static enum berr
list(struct op *o, const char *name, const char *owner, json_object **out)
{
	json_object *f = label_filter(name, owner);
	enum berr e = eng_svc_list(o, f, out);

	json_object_put(f);
	return e;
}

/* OWNER's Swarm service NAME (new reference), or *SVC = NULL when there is none. */
static enum berr
find(struct op *o, const char *name, const char *owner, json_object **svc)
{
	json_object *all;
	enum berr e = list(o, name, owner, &all);

	*svc = NULL;
	if (e != B_OK)
		return e;
	if (json_object_array_length(all) > 0)
		*svc = json_object_get(json_object_array_get_idx(all, 0));
	json_object_put(all);
	return B_OK;
}

static json_object *
berth_labels(const char *name, const char *owner)
{
	json_object *l = json_object_new_object();

	jx_add_str(l, LBL_MANAGED, "1");
	jx_add_str(l, LBL_OWNER, owner);
	jx_add_str(l, LBL_INSTANCE, g_cfg->instance);
	jx_add_str(l, LBL_SERVICE, name);
	return l;
}

/* Published ports: each exposed port on a free port of the ingress routing mesh. */
static json_object *
endpoint(json_object *body)
{
	json_object *es = json_object_new_object(), *ports = json_object_new_array();
	json_object *exposed = jx_obj(body, "ExposedPorts");

	if (exposed) {
		json_object_object_foreach(exposed, key, v)
		{
			json_object *p = json_object_new_object();
			const char *slash = strchr(key, '/');
			(void)v;
			jx_add_str(p, "Protocol", slash ? slash + 1 : "tcp");
			jx_add_int(p, "TargetPort", atoi(key));
			jx_add_str(p, "PublishMode", "ingress");
			json_object_array_add(ports, p);
		}
	}
	json_object_object_add(es, "Ports", ports);
	return es;
}

/*
 * The task template from BODY, the Docker create body policy.c makes of the
 * definition's container spec, so a replica runs the same image, command
 * (Args replaces the image's CMD like Cmd does), environment, labels and
 * limits in either mode.
 */
static json_object *
task_template(json_object *body)
{
	json_object *tt = json_object_new_object(), *cs = json_object_new_object();
	json_object *res = json_object_new_object(), *lim = json_object_new_object();
	json_object *rp = json_object_new_object(), *hc = jx_obj(body, "HostConfig");

	jx_add_ref(cs, "Image", jx_get(body, "Image"));
	jx_add_ref(cs, "Labels", jx_get(body, "Labels"));
	if (jx_get(body, "Cmd"))
		jx_add_ref(cs, "Args", jx_get(body, "Cmd"));
	if (jx_get(body, "Env"))
		jx_add_ref(cs, "Env", jx_get(body, "Env"));
	json_object_object_add(tt, "ContainerSpec", cs);
	if (jx_get(hc, "Memory"))
		jx_add_ref(lim, "MemoryBytes", jx_get(hc, "Memory"));
	if (jx_get(hc, "NanoCpus"))
		jx_add_ref(lim, "NanoCPUs", jx_get(hc, "NanoCpus"));
	if (jx_get(hc, "PidsLimit"))
		jx_add_ref(lim, "Pids", jx_get(hc, "PidsLimit"));
	json_object_object_add(res, "Limits", lim);
	json_object_object_add(tt, "Resources", res);
	if (jx_obj(hc, "LogConfig")) {
		json_object *ld = json_object_new_object();
		jx_add_ref(ld, "Name", jx_get(jx_obj(hc, "LogConfig"), "Type"));
		jx_add_ref(ld, "Options", jx_get(jx_obj(hc, "LogConfig"), "Config"));
		json_object_object_add(tt, "LogDriver", ld);
	}
	jx_add_str(rp, "Condition", "any");
	json_object_object_add(tt, "RestartPolicy", rp);
	return tt;
}

/* The whole ServiceSpec for a definition's container SPEC with N replicas. New reference. */
static json_object *
service_spec(const char *name, const char *owner, json_object *spec, const struct pol_limits *lim,
             int n)
{
	json_object *s = json_object_new_object(), *mode = json_object_new_object();
	json_object *rep = json_object_new_object(), *uc = json_object_new_object();
	json_object *labels = berth_labels(name, owner), *body = pol_docker_body(spec, labels, lim);
	char sname[80];

	/* Swarm names are one namespace per swarm: the owner's name for it is derived. */
	own_swarm_name(owner, name, sname, sizeof(sname));
	jx_add_str(s, "Name", sname);
	json_object_object_add(s, "Labels", labels);
	json_object_object_add(s, "TaskTemplate", task_template(body));
	jx_add_int(rep, "Replicas", n);
	json_object_object_add(mode, "Replicated", rep);
	json_object_object_add(s, "Mode", mode);
	/* One task at a time, the new one started first: the service never drops to zero. */
	jx_add_int(uc, "Parallelism", 1);
	jx_add_str(uc, "Order", "start-first");
	jx_add_str(uc, "FailureAction", "pause");
	json_object_object_add(s, "UpdateConfig", uc);
	json_object_object_add(s, "EndpointSpec", endpoint(body));
	json_object_put(body);
	return s;
}

static enum berr
create(struct op *o, const char *name, const char *owner, json_object *spec,
       const struct pol_limits *lim, int n)
{
	json_object *body = service_spec(name, owner, spec, lim, n), *out = NULL;
	enum berr e;

	e = eng_svc_create(o, body, &out);
	json_object_put(body);
	if (e == B_CONFLICT && o->why == R_NAME_TAKEN)
		e = op_fail(o, B_CONFLICT, "name",
		            "a Swarm service named %s exists already and is not this berth's",
		            name);
	else if (e == B_OK)
		log_info("swarm_service_created name=%s id=%s replicas=%d", name, jx_str(out, "ID"),
		         n);
	json_object_put(out);
	return e;
}

/*
 * Updates NAME's service: EDIT changes a copy of the current spec.  The
 * update carries the Version.Index it was made from; when another writer
 * got in between, Swarm refuses it and the spec is read again.
 */
static enum berr
update(struct op *o, const char *id, void (*edit)(json_object *spec, void *arg), void *arg)
{
	enum berr e = B_OK;

	for (int attempt = 0; attempt < SW_ATTEMPTS; attempt++) {
		json_object *svc = NULL, *spec = NULL;
		e = eng_svc_inspect(o, id, &svc);
		if (e != B_OK)
			return e;
		json_object_deep_copy(jx_obj(svc, "Spec"), &spec, NULL);
		edit(spec, arg);
		e = eng_svc_update(o, id, (long long)jx_int(jx_obj(svc, "Version"), "Index", 0),
		                   spec);
		json_object_put(svc);
		json_object_put(spec);
		if (e == B_OK || attempt + 1 == SW_ATTEMPTS || o->why != R_OUT_OF_SEQUENCE)
			break;
		op_clear(o);
	}
	return e;
}

static void
set_replicas(json_object *spec, void *arg)
{
	json_object *mode = json_object_new_object(), *rep = json_object_new_object();

	jx_add_int(rep, "Replicas", *(int *)arg);
	json_object_object_add(mode, "Replicated", rep);
	json_object_object_add(spec, "Mode", mode);
}

struct retemplate {
	const char *name, *owner;
	json_object *spec;
	const struct pol_limits *lim;
};

static void
set_template(json_object *spec, void *arg)
{
	struct retemplate *t = arg;
	json_object *fresh = service_spec(t->name, t->owner, t->spec, t->lim, 0);

	/* The running replica count stays; template, ports and update policy are replaced. */
	jx_add_ref(spec, "TaskTemplate", jx_get(fresh, "TaskTemplate"));
	jx_add_ref(spec, "EndpointSpec", jx_get(fresh, "EndpointSpec"));
	jx_add_ref(spec, "UpdateConfig", jx_get(fresh, "UpdateConfig"));
	json_object_put(fresh);
}

enum berr
sw_scale(struct op *o, const char *name, const char *owner, json_object *spec,
         const struct pol_limits *lim, int n)
{
	json_object *svc, *mode;
	enum berr e = find(o, name, owner, &svc);

	if (e != B_OK)
		return e;
	/* The audit line says what the replica count was and what it is made. */
	mode = jx_obj(jx_obj(jx_obj(svc, "Spec"), "Mode"), "Replicated");
	au_add(o, "replicas_from", json_object_new_int64(jx_int(mode, "Replicas", 0)));
	au_add(o, "replicas_to", json_object_new_int64(n));
	if (svc == NULL)
		return n > 0 ? create(o, name, owner, spec, lim, n) : B_OK;
	e = update(o, jx_str(svc, "ID"), set_replicas, &n);
	json_object_put(svc);
	return e;
}

enum berr
sw_update(struct op *o, const char *name, const char *owner, json_object *spec,
          const struct pol_limits *lim)
{
	struct retemplate t = {name, owner, spec, lim};
	json_object *svc;
	enum berr e = find(o, name, owner, &svc);

	if (e != B_OK || svc == NULL)
		return e;
	e = update(o, jx_str(svc, "ID"), set_template, &t);
	json_object_put(svc);
	return e;
}

static int
replicas_of(json_object *svc)
{
	return (int)jx_int(jx_obj(jx_obj(jx_obj(svc, "Spec"), "Mode"), "Replicated"), "Replicas",
	                   0);
}

enum berr
sw_usage(struct op *o, const char *owner, const char *skip, struct usage *u)
{
	json_object *all;
	enum berr e = list(o, NULL, NULL, &all);

	if (e != B_OK)
		return e;
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *svc = json_object_array_get_idx(all, i);
		json_object *spec = jx_obj(svc, "Spec"), *l = jx_obj(spec, "Labels");
		json_object *lim =
		    jx_obj(jx_obj(jx_obj(spec, "TaskTemplate"), "Resources"), "Limits");
		const char *who = jx_str(l, LBL_OWNER), *s = jx_str(l, LBL_SERVICE);
		int n = replicas_of(svc);
		if (who == NULL || strcmp(who, owner) != 0 || (skip && s && strcmp(s, skip) == 0))
			continue;
		/* Each task is a container on some node, as an engine replica is here. */
		u->containers += n;
		u->replicas += n;
		u->memory += n * jx_int(lim, "MemoryBytes", 0);
		u->nano_cpus += n * jx_int(lim, "NanoCPUs", 0);
	}
	json_object_put(all);
	return B_OK;
}

static json_object *
task_view(json_object *t)
{
	json_object *v = json_object_new_object(), *st = jx_obj(t, "Status");

	jx_add_str(v, "id", jx_str(t, "ID"));
	jx_add_int(v, "slot", jx_int(t, "Slot", 0));
	jx_add_str(v, "state", jx_str(st, "State"));
	jx_add_bool(v, "running", jx_str(st, "State") && !strcmp(jx_str(st, "State"), "running"));
	jx_add_str(v, "desired_state", jx_str(t, "DesiredState"));
	jx_add_str(v, "node", jx_str(t, "NodeID"));
	jx_add_str(v, "container_id", jx_str(jx_obj(st, "ContainerStatus"), "ContainerID"));
	jx_add_str(v, "image", jx_str(jx_obj(jx_obj(t, "Spec"), "ContainerSpec"), "Image"));
	jx_add_str(v, "updated", jx_str(t, "UpdatedAt"));
	if (jx_str(st, "Err"))
		jx_add_str(v, "error", jx_str(st, "Err"));
	return v;
}

enum berr
sw_status(struct op *o, const char *name, const char *owner, int *running, int *desired,
          json_object **tasks)
{
	json_object *svc, *f, *arr, *list = NULL;
	enum berr e = find(o, name, owner, &svc);

	*running = 0;
	*tasks = NULL;
	if (e != B_OK)
		return e;
	*tasks = json_object_new_array();
	if (svc == NULL)
		return B_OK;
	*desired = replicas_of(svc);
	f = json_object_new_object();
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_string(jx_str(svc, "ID")));
	json_object_object_add(f, "service", arr);
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_string("running"));
	json_object_object_add(f, "desired-state", arr);
	json_object_put(svc);
	e = eng_task_list(o, f, &list);
	json_object_put(f);
	for (size_t i = 0; e == B_OK && list && i < json_object_array_length(list); i++) {
		json_object *v = task_view(json_object_array_get_idx(list, i));
		*running += jx_bool(v, "running", 0);
		json_object_array_add(*tasks, v);
	}
	json_object_put(list);
	return e;
}

static enum berr
remove_one(struct op *o, const char *id)
{
	return eng_svc_remove(o, id);
}

enum berr
sw_remove(struct op *o, const char *name, const char *owner)
{
	json_object *svc;
	enum berr e = find(o, name, owner, &svc);

	if (e != B_OK || svc == NULL)
		return e;
	e = remove_one(o, jx_str(svc, "ID"));
	json_object_put(svc);
	return e;
}

int
sw_cleanup_instance(void)
{
	struct op o;
	json_object *all;
	int failed = 0, manager;

	op_system(&o);
	/* Only a swarm manager has services; anywhere else there is nothing to do. */
	if (eng_info(&o, &all) != B_OK) {
		op_done(&o);
		return -1;
	}
	manager = jx_bool(jx_obj(all, "Swarm"), "ControlAvailable", 0);
	json_object_put(all);
	if (manager && list(&o, NULL, NULL, &all) != B_OK) {
		fprintf(stderr, "berth-fcgi: cannot list swarm services: %s\n", o.msg);
		op_done(&o);
		return -1;
	}
	for (size_t i = 0; manager && i < json_object_array_length(all); i++)
		if (remove_one(&o, jx_str(json_object_array_get_idx(all, i), "ID")) != B_OK)
			failed = 1;
	if (manager)
		json_object_put(all);
	op_done(&o);
	return failed ? -1 : 0;
}

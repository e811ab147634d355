/*
 * owner.h - tenancy: who owns an object, who may see and change it, what it
 * is called in Docker, and what its owner may still create.
 *
 * An owner is a user ("alice") or a group ("@devs", berth.conf's groups).
 * Every name a user gives lives in its owner's namespace: the Docker name is
 * derived from the instance, the owner and the name, so two owners' "web"
 * never meet in dockerd and a 409 only ever speaks of the caller's own
 * objects.  The name as given is kept in the berth.name label; the owner in
 * berth.owner.  Objects made before namespaces (Docker name = berth name, no
 * berth.name label) are read as they are.
 */
#ifndef BERTH_OWNER_H
#define BERTH_OWNER_H

#include "berth.h"
#include "lib/cfg.h"

#include <json-c/json.h>
#include <stddef.h>

struct op;

#define LBL_NAME    "berth.name"
#define LBL_MEMORY  "berth.memory"  /* the memory limit berth applied, bytes */
#define LBL_CPUS    "berth.cpus"    /* the CPU limit berth applied, nano-CPUs */
#define LBL_CREATOR "berth.creator" /* who made a group's object */

/* Long enough for any derived Docker name and any owner string. */
#define OWN_DNAME_MAX 128
#define OWN_MAX       130
/* Namespaces a bare name is looked up in: the caller's and up to 32 groups'. */
#define OWN_NS_MAX 33

/* The optional "owner" member of a create body, the same in every schema (lib/schema.h). */
#define OWN_FIELD                                                                                  \
	{                                                                                          \
		.name = "owner", .types = SC_STRING,                                               \
		.desc = "Owner: one of your groups as \"@group\" (admins: anyone); default the "   \
		        "caller.",                                                                 \
		.min = 1, .max = 64, .pattern = "^@?[a-zA-Z0-9][a-zA-Z0-9_.@-]*$"                  \
	}

/* 1 when OWNER is a group ("@devs"). */
int own_is_group(const char *owner);

/* 1 when O's caller may see objects owned by OWNER (admins: everything). */
int own_visible(const struct op *o, const char *owner);

/*
 * The owner a create is for: ASKED (NULL = the caller).  A member who may
 * change things may create for their group; only admins for anyone else.
 * 403 naming FIELD otherwise; OUT gets the owner.
 */
enum berr own_for_create(struct op *o, const char *asked, const char *field, char *out, size_t n);

/*
 * The owners whose namespaces a bare name is looked up in, in order: the
 * caller, then their groups as berth.conf lists them.  Returns how many
 * (at most MAX) were written to OUT (pointers into O and the config).
 */
size_t own_namespaces(const struct op *o, const char **out, size_t max);

/* The role whose policy checks what OWNER creates; ROLE (the creator's) for a group without one. */
enum role own_policy_role(const char *owner, enum role role);

/* The quota that binds OWNER; ROLE is the caller's (for users, and groups without one). */
const struct quota *own_quota(const char *owner, enum role role);

/*
 * NAME in OWNER's namespace as Docker knows it: "<name>.<slug>.<hash>",
 * slug a readable form of the owner, hash over instance and owner.  Safe as
 * a container, volume or network name and as a state record name.
 */
void own_dname(const char *owner, const char *name, char *out, size_t n);

/* 1 when IMAGE is a tag in OWNER's image namespace ("berth.<slug>.<hash>/...", docs/docker-api.md).
 */
int own_image_is(const char *owner, const char *image);

/*
 * The same for names Docker limits to [a-zA-Z0-9-] and 63 characters (Swarm
 * services): "<name>-<slug>-<hash>", hash over instance, owner and name.
 */
void own_swarm_name(const char *owner, const char *name, char *out, size_t n);

/* The name an object shows: its berth.name label, else (made before namespaces) DOCKER. */
const char *own_shown(const char *label, const char *docker);

/* Takes the lock that serializes OWNER's creates (quota); st_unlock() it. -1 on failure. */
int own_lock(const char *owner);

/* ---- quotas ------------------------------------------------------------ */

/* What an owner holds, or what one create adds. */
struct usage {
	int containers, volumes, networks, replicas, jobs;
	int64_t memory;    /* bytes of memory limits */
	int64_t nano_cpus; /* of CPU limits */
	int64_t volume_size;
};

/*
 * Counts what OWNER holds on this instance: every kind, or with NEED only
 * the kinds NEED adds to.  Swarm replicas are those their services are set
 * to run, less SKIP_SERVICE's (the service being scaled is counted by its
 * caller).  Run under own_lock() when the answer decides a create.
 */
enum berr own_usage(struct op *o, const char *owner, const char *skip_service,
                    const struct usage *need, struct usage *u);

/* Docker's filters for this instance's managed objects of OWNER (NULL: everyone's). */
json_object *own_filter(const char *owner);
/* own_filter(NULL) narrowed to objects named NAME in their owner's namespace. */
json_object *own_name_filter(const char *name);

typedef enum berr (*own_inspect_fn)(struct op *o, const char *ref, json_object **out);
/*
 * An admin's bare NAME of any owner, LIST being what carries that name: the
 * one item, inspected by its IDKEY member into *OUT; several are a 409 that
 * asks for HINT (how to tell them apart); none: *OUT NULL and B_OK (the
 * caller says what it did not find).  Each kind (containers, volumes,
 * networks) says WHAT it is in the message.
 */
enum berr own_pick_one(struct op *o, json_object *list, const char *what, const char *name,
                       const char *hint, const char *idkey, own_inspect_fn inspect,
                       json_object **out);

/*
 * 403 when HELD plus ADD passes one of Q's quotas (naming it); only what ADD
 * grows is checked, so shrinking under a since-lowered quota is allowed.
 */
enum berr own_check(struct op *o, const char *owner, const struct quota *q,
                    const struct usage *held, const struct usage *add);

/* own_usage and own_check for OWNER's quota, the caller's role deciding for users. */
enum berr own_admit(struct op *o, const char *owner, const char *skip_service,
                    const struct usage *add);

#endif

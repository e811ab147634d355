/*
 * cfg.h - berth.conf (libconfig).  The whole file is validated at load: an
 * unknown key, a wrong type or a bad value fails with "file:line: what".
 * Structured parts (catalog, services, per-role policy lists) are kept as
 * json-c objects so the same validators that check API bodies check them.
 */
#ifndef BERTH_CFG_H
#define BERTH_CFG_H

#include "berth.h"

#include <json-c/json.h>
#include <libconfig.h>

/*
 * The smallest limits that mean anything: dockerd refuses memory under 6 MiB
 * and truncates CPUs under 0.01 to NanoCpus 0, which is no limit at all.
 */
#define POL_MEMORY_MIN   (6LL << 20)
#define POL_CPUS_MIN     0.01
#define POL_PIDS_MIN     8
#define POL_LOG_SIZE_MIN (64LL << 10)

/*
 * What one owner (a user, or a group) may hold at once.  Counts and sums are
 * over everything the owner holds on this instance; -1 = unlimited.
 */
struct quota {
	int containers;      /* containers that hold a slot (running jobs, replicas included) */
	int volumes;         /* named volumes */
	int networks;        /* networks, the owner's default one included */
	int replicas;        /* replicas over all services (engine and Swarm) */
	int jobs;            /* jobs running at once */
	int64_t memory;      /* bytes: the memory limits of the containers above, summed */
	double cpus;         /* cores: their CPU limits, summed */
	int64_t volume_size; /* bytes the owner's volumes may use, where dockerd measures it */
};

/* A team: objects owned by "@<name>" are its members' to share. */
struct cfg_group {
	const char *name;
	char owner[40];       /* "@<name>", as berth.owner labels carry it */
	json_object *members; /* array of user names */
	enum role role;       /* the policy its objects are checked by; ROLE_NONE = the member's */
	int has_quota;
	struct quota quota; /* when has_quota; else the quota of ROLE (operator when unset) */
};

/* What one role may do when creating containers (defaults refuse all risk). */
struct policy {
	int privileged, host_network, host_pid, host_ipc;
	int bind_mounts, volumes, cap_add, devices;
	json_object *images;       /* fnmatch patterns of allowed image refs */
	json_object *networks;     /* allowed named networks besides bridge/none */
	json_object *capabilities; /* caps cap_add may name ("*" = any) */
	json_object *device_paths; /* host devices allowed ("*" = any) */
	json_object *bind_sources; /* host path prefixes binds may use */
	int port_min, port_max;    /* explicit host ports allowed; 0 = auto only */
	struct quota quota;        /* what one owner of this role may hold */
	/*
	 * Every container gets these limits: the spec's value bounded by the
	 * maximum, else the default.  0 = unlimited, only where berth.conf says
	 * "unlimited" for the role; the built-in values are all limits.
	 */
	int64_t memory_default, memory_max; /* bytes */
	double cpus_default, cpus_max;      /* cores */
	int64_t pids_default, pids_max;     /* processes */
	int64_t log_size;                   /* json-file max-size per file, bytes */
	int log_files;                      /* json-file max-file */
	int exec_user;                      /* exec may name another user than the container's */
	int pull; /* may pull from berth.conf's registries (admins always may) */
};

struct cfg {
	config_t lc;
	char *path;
	const char *docker_socket;
	const char *docker_api;
	long connect_timeout_ms;
	long timeout_ms;
	const char *state_dir;
	const char *socket_group; /* group of the --listen socket */
	const char *run_user, *run_group;
	enum role anonymous;    /* role when nginx set no REMOTE_USER */
	enum role default_role; /* role of an authenticated user not listed */
	json_object *users;     /* name -> role name */
	struct cfg_group *groups;
	size_t ngroups;
	/* Where owners' networks take their subnets from (none: dockerd's own pools). */
	struct {
		uint32_t base; /* host order */
		int prefix;    /* of the pool */
		int size;      /* prefix of each network's subnet */
	} net_pool;
	json_object *protected_names;
	struct policy policy[ROLE__COUNT];
	size_t max_body;
	int64_t max_build_context; /* bytes of a Docker build context; 0: unlimited */
	const char *mode;          /* engine | swarm | auto */
	int sweep_interval;
	int job_retention;
	int default_job_timeout;
	json_object *catalog;  /* name -> entry */
	json_object *services; /* name -> definition */
	/* Image registries (engine/registry.h): name -> {url, username, password_file, ...}. */
	json_object *registries;
	int update_check; /* seconds between update checks against them */
	int log_debug;
	const char *instance; /* stamped as berth.instance on what this berth creates */
	/* The stream relay (relay/relay.h): its socket and how many streams it holds. */
	struct {
		const char *socket; /* NULL: next to --listen, else /run/berth-relay/relay.sock */
		int per_user;       /* concurrent streams one identity may hold */
		int total;          /* and all of them together */
	} streams;
	/* The Docker door (doors/docker.h). */
	struct {
		int session_idle; /* seconds a Testcontainers session may be quiet */
	} door;
	struct {
		int64_t max_size; /* audit.log is rotated before it grows past this; 0 = never */
		int keep;         /* rotated files kept: audit.log.1 .. audit.log.<keep> */
		int rate, burst;  /* audit lines per second one identity may cause; 0 = no limit */
	} audit;
};

/* Command-line overrides that survive a reload (NULL = take the file's). */
struct cfg_over {
	const char *state_dir;
	const char *instance;
};
extern struct cfg_over cfg_over;

/* A section validator: 0 if DEF is a valid NAME entry, else -1 and a message. */
typedef int (*cfg_check_fn)(const char *name, json_object *def, char *err, size_t errlen);
/* FN checks every entry of berth.conf's SECTION (catalog, services) as it loads. */
void cfg_register_check(const char *section, cfg_check_fn fn);

/*
 * Loads and validates PATH (NULL = built-in defaults only).  On failure
 * returns NULL and writes every error found to err, one "file:line: message"
 * per line (the first 20; a syntax error stops libconfig at the first).  The
 * caller owns the result and frees it with cfg_free().
 */
struct cfg *cfg_load(const char *path, char *err, size_t errlen);
void cfg_free(struct cfg *c);

/* The role berth.conf gives USER (NULL = anonymous). */
enum role cfg_role(const struct cfg *c, const char *user);
int cfg_is_protected(const struct cfg *c, const char *name);
/* The group NAME (without its '@'), or NULL. */
const struct cfg_group *cfg_group(const struct cfg *c, const char *name);
/* 1 when USER is one of group G's members. */
int cfg_in_group(const struct cfg_group *g, const char *user);

/* "512m", "2g", 1048576 -> bytes; -1 on error. */
int64_t cfg_parse_size(const char *s);

#endif

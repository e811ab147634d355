/*
 * policy.h - what a role may ask for.  Clients send berth's container spec
 * (never Docker JSON); this module refuses the risky parts the caller's role
 * is not allowed (403 naming the field), fills in role defaults, and turns
 * the spec into the Docker create body.
 */
#ifndef BERTH_POLICY_H
#define BERTH_POLICY_H

#include "berth.h"
#include "lib/schema.h"

#include <json-c/json.h>

struct op;

/* The container spec schema (POST /api/v1/containers). */
extern const struct sc_schema pol_container_schema;
/* Only the fields PATCH may change. */
extern const struct sc_schema pol_patch_schema;
/* The fields a spec may carry, for modules embedding it (services, catalog). */
extern const struct sc_field pol_spec_fields[];

/*
 * The resources one container is given: the spec's values bounded by the
 * role's maxima, else the role's defaults.  0 = unlimited, which only a
 * role whose berth.conf policy says "unlimited" ever gets.
 */
struct pol_limits {
	int64_t memory;    /* bytes */
	int64_t nano_cpus; /* 1e-9 cores */
	int64_t pids;
	int64_t log_size; /* json-file max-size, bytes */
	int log_files;    /* json-file max-file */
};

/*
 * Checks SPEC (already schema-valid) against ROLE's policy and works out the
 * container's limits into *LIM.  SPEC itself is not changed, so what is
 * recorded is what the caller asked for and a recreate under a changed
 * policy gets that policy's defaults.  CATALOG_IMAGE says the image is a
 * catalog build (always allowed).  Returns B_OK or a 403/422 set on O.
 */
enum berr pol_check(struct op *o, enum role role, json_object *spec, int catalog_image,
                    struct pol_limits *lim);
/* 422 naming labels when LABELS (may be NULL) has a name starting with berth. (reserved). */
enum berr pol_check_labels(struct op *o, json_object *labels);
/* Only the resource part of pol_check (for definitions berth.conf itself made). */
enum berr pol_resources(struct op *o, enum role role, json_object *spec, struct pol_limits *lim);

/* 1 when ROLE's allow-list admits IMAGE. */
int pol_image_allowed(enum role role, const char *image);
/* 1 when ROLE's policy lists NAME among the shared networks (berth.conf policy networks). */
int pol_network_shared(enum role role, const char *name);

/* 1 when REF names an explicit tag or digest ("name:tag", "name@sha256:..."). */
int pol_has_tag(const char *ref);

/*
 * Docker's /containers/create body for SPEC with berth's LABELS merged in and
 * the limits LIM (from pol_check) applied.  Returns a new reference.
 */
json_object *pol_docker_body(json_object *spec, json_object *labels, const struct pol_limits *lim);

/* A spec's env ({"K": "v"} or ["K=v"]) as Docker's ["K=v"] list; new reference. */
json_object *pol_env_list(json_object *env);

/* A spec port item's Docker key: "80", 80 or "80/udp" plus an optional protocol -> "80/tcp". */
void pol_port_key(json_object *it, char *buf, size_t n);

/* Splits a command string into argv like a shell would for plain words and quotes. */
json_object *pol_split_command(const char *s);

#endif

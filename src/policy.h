/*
 * policy.h - what a role may ask for.  Clients send berth's container spec
 * (never Docker JSON); this module refuses the risky parts the caller's role
 * is not allowed (403 naming the field), fills in role defaults, and turns
 * the spec into the Docker create body.
 */
#ifndef BERTH_POLICY_H
#define BERTH_POLICY_H

#include "berth.h"
#include "schema.h"

#include <json-c/json.h>

struct req;

/* The container spec schema (POST /api/v1/containers). */
extern const struct sc_schema pol_container_schema;
/* Only the fields PATCH may change. */
extern const struct sc_schema pol_patch_schema;
/* The fields a spec may carry, for modules embedding it (services, catalog). */
extern const struct sc_field pol_spec_fields[];

/*
 * Checks SPEC (already schema-valid) against ROLE's policy and fills in the
 * role's default memory/cpus.  CATALOG_IMAGE says the image is a catalog
 * build (always allowed).  Returns B_OK or a 403/422 set on R.
 */
enum berr pol_check(struct req *r, enum role role, json_object *spec, int catalog_image);

/* 1 when ROLE's allow-list admits IMAGE. */
int pol_image_allowed(enum role role, const char *image);

/* 1 when REF names an explicit tag or digest ("name:tag", "name@sha256:..."). */
int pol_has_tag(const char *ref);

/*
 * Docker's /containers/create body for SPEC with berth's LABELS merged in.
 * Returns a new reference.
 */
json_object *pol_docker_body(json_object *spec, json_object *labels);

/* Splits a command string into argv like a shell would for plain words and quotes. */
json_object *pol_split_command(const char *s);

#endif

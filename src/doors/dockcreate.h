/*
 * dockcreate.h - the Docker door's create-body classifier (issue 20).  A
 * Docker `POST /containers/create` body is never passed to dockerd: every
 * field of Config, HostConfig and NetworkingConfig is looked up in berth's
 * tables (dockcreate.c) and is mapped onto berth's own container spec,
 * accepted as harmless, kept aside as "pending" (safe, but berth's spec
 * cannot say it yet), or refused naming the Docker field.  Unknown fields
 * are refused by name.  The spec then goes through berth's own create path
 * (policy, ownership, quotas, limits, namespaced names), which builds the
 * body dockerd sees.  docs/docker-api.md has the table.
 */
#ifndef BERTH_DOCKCREATE_H
#define BERTH_DOCKCREATE_H

#include "berth.h"
#include "lib/op.h"

#include <json-c/json.h>

struct dc_create {
	/* The body of berth's POST /api/v1/containers (pol_container_schema), start false. */
	json_object *spec;
	/*
	 * Docker fields accepted with a non-default value that berth's spec
	 * cannot carry yet, by Docker field name ("HostConfig.AutoRemove": true).
	 * Raw Docker values: whoever honours one validates it.  The front door
	 * honours them or refuses them (dc_refuse_pending); never drops them.
	 */
	json_object *pending;
	/* Where each spec member came from: "mounts[0]" -> "HostConfig.Binds[0]". */
	json_object *origin;
};

/*
 * Classifies BODY (a parsed Docker create body, borrowed) and NAME (the
 * `name` query parameter, NULL or "" for none; a leading "/" is Docker's and
 * dropped).  B_OK: OUT holds new references the caller frees with
 * dc_create_free.  Otherwise O carries the refusal: the Docker field
 * ("HostConfig.Privileged", "HostConfig.Binds[0]") and why; B_BAD_REQUEST
 * for a malformed or unknown field, B_FORBIDDEN for what berth refuses on
 * security grounds, B_INVALID for what berth does not support; OUT is empty.
 * The spec is not yet checked against the caller's policy: pol_check does
 * that, and dc_docker_field names the Docker field of what it refuses.
 */
enum berr dc_classify(struct op *o, json_object *body, const char *name, struct dc_create *out);

/* Frees what C holds; C may be zeroed or already freed. */
void dc_create_free(struct dc_create *c);

/*
 * The Docker field a berth spec field (as a refusal of pol_check or the
 * schema names it: "cap_add[1]", "mounts[0].source", "memory") came from,
 * into BUF; FIELD itself when nothing maps it.  Returns BUF.
 */
const char *dc_docker_field(const struct dc_create *c, const char *field, char *buf, size_t n);

/*
 * Refuses (B_INVALID on O, naming the field) the first pending field of C
 * that is not in HONOURED (NULL-terminated Docker field names; one ending
 * in "*" is a prefix: "NetworkingConfig.EndpointsConfig*"), so a front door states what it
 * implements and nothing else slips through.  B_OK when all are honoured.
 */
enum berr dc_refuse_pending(struct op *o, const struct dc_create *c, const char *const *honoured);

#endif

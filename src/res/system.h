/*
 * system.h - berth itself: the index, OpenAPI, versions, health, identity,
 * schemas, metrics and the audit log.
 */
#ifndef BERTH_SYSTEM_H
#define BERTH_SYSTEM_H

#include <json-c/json.h>

struct bmod;
extern const struct bmod mod_system;

/* The OpenAPI 3.1 document, built from the same rows that dispatch requests (new reference). */
json_object *sys_openapi(void);

#endif

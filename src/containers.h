/*
 * containers.h - containers as berth sees them: owned, labelled, recorded.
 * Other modules (catalog, services, jobs, seed routes) create and remove
 * containers only through these functions so ownership, policy, records and
 * labels are applied the same way everywhere.
 */
#ifndef BERTH_CONTAINERS_H
#define BERTH_CONTAINERS_H

#include "berth.h"

#include <json-c/json.h>

#define LBL_MANAGED  "berth.managed"
#define LBL_OWNER    "berth.owner"
#define LBL_INSTANCE "berth.instance"
#define LBL_PROTECT  "berth.protected"
#define LBL_SERVICE  "berth.service"
#define LBL_JOB      "berth.job"
#define LBL_CATALOG  "berth.catalog"
#define LBL_SEED     "berth.seed"
#define LBL_SPEC     "berth.spec"

/* Stops and removes every container labelled with this instance; 0 on success. */
int ct_cleanup_instance(void);

#endif

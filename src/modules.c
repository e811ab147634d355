/*
 * modules.c - the modules berth is made of, in route order.  Adding a
 * module (a resource, a front door) is one line here: its descriptor
 * (edge/module.h) brings everything else.
 */
#include "doors/docker.h"
#include "doors/doors.h"
#include "edge/module.h"
#include "res/catalog.h"
#include "res/containers.h"
#include "res/events.h"
#include "res/jobs.h"
#include "res/networks.h"
#include "res/registries.h"
#include "res/services.h"
#include "res/sessions.h"
#include "res/stacks.h"
#include "res/system.h"
#include "res/volumes.h"

/* Networks before containers: cleanup runs backwards, so containers go first. */
const struct bmod *const berth_modules[] = {
    /* volumes and networks before containers: cleanup runs backwards, containers go first */
    &mod_system,  &mod_volumes,  &mod_networks, &mod_containers, &mod_catalog,
    &mod_seed000, &mod_services, &mod_seed004,  &mod_jobs,       &mod_seed001,
    &mod_events,  &mod_sessions, &mod_stacks,   &mod_registries, NULL,
};

/* The doors with a listener of their own: nginx names one with BERTH_DOOR. */
const struct rt_door *const berth_doors[] = {&door_docker, NULL};

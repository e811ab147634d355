/*
 * dkexec.c - the Docker door's exec routes (docs/docker-api.md).
 */
#include "berth.h"
#include "doors/docker.h"

static const struct rt_route routes[] = {
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

const struct bmod mod_dd_exec = {
    .name = "docker-exec",
    .routes = routes,
    .args = dd_args,
};

/*
 * dkcontainers.c - the Docker door's containers routes (docs/docker-api.md).
 */
#include "berth.h"
#include "doors/docker.h"

static const struct rt_route routes[] = {
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

const struct bmod mod_dd_containers = {
    .name = "docker-containers",
    .routes = routes,
    .args = dd_args,
};

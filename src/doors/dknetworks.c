/*
 * dknetworks.c - the Docker door's networks routes (docs/docker-api.md).
 */
#include "berth.h"
#include "doors/docker.h"

static const struct rt_route routes[] = {
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

const struct bmod mod_dd_networks = {
    .name = "docker-networks",
    .routes = routes,
    .args = dd_args,
};

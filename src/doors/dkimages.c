/*
 * dkimages.c - the Docker door's images routes (docs/docker-api.md).
 */
#include "berth.h"
#include "doors/docker.h"

static const struct rt_route routes[] = {
    {NULL, NULL, NULL, ROLE_NONE, 0, NULL, NULL, NULL},
};

const struct bmod mod_dd_images = {
    .name = "docker-images",
    .routes = routes,
    .args = dd_args,
};

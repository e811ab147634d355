/*
 * berth.h - what every module of berth shares: the one result enum, roles,
 * and the handful of globals a worker holds (its config and nothing else).
 */
#ifndef BERTH_H
#define BERTH_H

#include "config.h"

#include <stddef.h>
#include <stdint.h>

#define BERTH_VERSION PACKAGE_VERSION

/*
 * The single result type of the project.  Each value maps to one HTTP status
 * and one stable error code string (see err.c); handlers return it and the
 * dispatcher turns anything but B_OK into the JSON error body.
 */
enum berr {
	B_OK = 0,
	B_BAD_REQUEST,     /* 400 bad_request */
	B_UNAUTHENTICATED, /* 401 unauthenticated */
	B_FORBIDDEN,       /* 403 forbidden */
	B_NOT_FOUND,       /* 404 not_found */
	B_METHOD,          /* 405 method_not_allowed */
	B_CONFLICT,        /* 409 conflict */
	B_TOO_LARGE,       /* 413 payload_too_large */
	B_MEDIA,           /* 415 unsupported_media_type */
	B_INVALID,         /* 422 invalid */
	B_TOO_MANY,        /* 429 too_many_requests */
	B_INTERNAL,        /* 500 internal */
	B_DOCKER,          /* 502 docker_error */
	B_DOCKER_DOWN,     /* 503 docker_unavailable */
	B_DOCKER_TIMEOUT,  /* 504 docker_timeout */
	B__COUNT
};

int berr_status(enum berr e);
const char *berr_code(enum berr e);
const char *berr_reason(int status);

/* Roles are ordered: each includes the rights of the ones below it. */
enum role { ROLE_NONE = 0, ROLE_VIEWER, ROLE_OPERATOR, ROLE_ADMIN, ROLE__COUNT };

const char *role_name(enum role r);
/* Returns 0 and sets *out, or -1 when s names no role. */
int role_parse(const char *s, enum role *out);

/*
 * Milliseconds: b_wall_ms on the calendar clock, for times berth records
 * and shows; b_mono_ms on the monotonic clock, for how long something took
 * or how old a shared reading is.  One of each, so no two modules disagree.
 */
int64_t b_wall_ms(void);
int64_t b_mono_ms(void);

/* The value of hex digit C (either case), or -1: percent-decoding and chunk sizes. */
int b_hexval(char c);

/* FNV-1a of S: short stable names for locks and per-instance names. */
uint32_t b_hash32(const char *s);

/* Name rule shared by containers, services, catalog entries and jobs. */
#define BERTH_NAME_MAX 64
int name_valid(const char *s);
/* A reference to an object: a name, a derived Docker name or an id (name_valid's characters, up to
 * 128). */
int ref_valid(const char *s);

struct cfg;
extern struct cfg *g_cfg; /* the config this process serves with */

#endif

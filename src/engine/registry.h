/*
 * registry.h - image registries from berth.conf (registries = { name = {
 * url; username; password_file; ca_file; insecure; timeout_ms; }; }): which
 * one an image reference names, the credentials dockerd is given for a pull
 * (X-Registry-Auth), and the Registry HTTP API v2 question berth asks itself:
 * what digest does a tag name now (a manifest HEAD, no pull).
 *
 * Credentials: the password is read from its file at each use and lives
 * only in the caller's buffer and dockerd's request header; no message,
 * log line or answer made here ever contains it.
 */
#ifndef BERTH_ENGINE_REGISTRY_H
#define BERTH_ENGINE_REGISTRY_H

#include "berth.h"

#include <json-c/json.h>
#include <stddef.h>

struct op;

#define REG_AUTH_MAX   4096 /* the X-Registry-Auth header line */
#define REG_DIGEST_MAX 80   /* "sha256:" and 64 hex digits */

/* An image reference split: host ("" for Docker Hub), repository, tag. */
struct reg_ref {
	char host[256];
	char repo[256];
	char tag[130];
};

/* berth.conf's check of one registries entry (a cfg_check_fn). */
int reg_check_entry(const char *name, json_object *def, char *err, size_t n);

/* Splits IMAGE ("host:port/repo:tag"); -1 when it names no tag (or a digest). */
int reg_parse(const char *image, struct reg_ref *r);

/* The berth.conf entry for IMAGE's registry (borrowed) and its name, or NULL. */
json_object *reg_of(const char *image, const char **name);

/*
 * The "X-Registry-Auth: ..." line for a pull from registry DEF (NULL: none
 * needed, LINE becomes ""): base64url JSON {username, password,
 * serveraddress}.  The caller wipes LINE after use (reg_wipe).
 */
enum berr reg_auth_line(struct op *o, const char *name, json_object *def, char *line, size_t n);
void reg_wipe(void *p, size_t n);

/*
 * The digest IMAGE's tag names in its registry now (HEAD of the manifest,
 * Docker-Content-Digest), into DIGEST.  Failures on O, each naming the
 * registry: unreachable or slow (B_DOCKER_DOWN / B_DOCKER_TIMEOUT), refused
 * credentials (B_DOCKER), no such tag (B_NOT_FOUND), rate limited
 * (B_TOO_MANY, *RETRY_AFTER seconds when the registry said).
 */
enum berr reg_digest(struct op *o, const char *image, char *digest, size_t n, long *retry_after);

#endif

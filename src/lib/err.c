/*
 * err.c - the result enum's HTTP status and stable code strings, and the
 * small shared validators (names, roles) every module needs.
 */
#include "berth.h"

#include <string.h>
#include <time.h>

static const struct {
	int status;
	const char *code;
} errtab[B__COUNT] = {
    [B_OK] = {200, "ok"},
    [B_BAD_REQUEST] = {400, "bad_request"},
    [B_UNAUTHENTICATED] = {401, "unauthenticated"},
    [B_FORBIDDEN] = {403, "forbidden"},
    [B_NOT_FOUND] = {404, "not_found"},
    [B_METHOD] = {405, "method_not_allowed"},
    [B_CONFLICT] = {409, "conflict"},
    [B_TOO_LARGE] = {413, "payload_too_large"},
    [B_MEDIA] = {415, "unsupported_media_type"},
    [B_INVALID] = {422, "invalid"},
    [B_TOO_MANY] = {429, "too_many_requests"},
    [B_INTERNAL] = {500, "internal"},
    [B_DOCKER] = {502, "docker_error"},
    [B_DOCKER_DOWN] = {503, "docker_unavailable"},
    [B_DOCKER_TIMEOUT] = {504, "docker_timeout"},
};

int
berr_status(enum berr e)
{
	if (e < 0 || e >= B__COUNT)
		return 500;
	return errtab[e].status;
}

const char *
berr_code(enum berr e)
{
	if (e < 0 || e >= B__COUNT)
		return "internal";
	return errtab[e].code;
}

const char *
berr_reason(int status)
{
	switch (status) {
	case 101: /* a console's upgrade (relay/tty.c) */
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Internal Server Error";
	}
}

static const char *const role_names[ROLE__COUNT] = {"none", "viewer", "operator", "admin"};

const char *
role_name(enum role r)
{
	if (r < 0 || r >= ROLE__COUNT)
		return "none";
	return role_names[r];
}

int
role_parse(const char *s, enum role *out)
{
	for (int i = 0; i < ROLE__COUNT; i++) {
		if (s && strcmp(s, role_names[i]) == 0) {
			*out = (enum role)i;
			return 0;
		}
	}
	return -1;
}

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
b_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t
b_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

uint32_t
b_hash32(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* [a-zA-Z0-9][a-zA-Z0-9_.-]{0,MAX-1}. */
static int
name_chars(const char *s, size_t max)
{
	size_t n;

	if (s == NULL || s[0] == '\0')
		return 0;
	n = strlen(s);
	if (n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (i == 0 && !alnum)
			return 0;
		if (!alnum && c != '_' && c != '.' && c != '-')
			return 0;
	}
	return 1;
}

/* [a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}: safe in a Docker URL, a file name and a label. */
int
name_valid(const char *s)
{
	return name_chars(s, BERTH_NAME_MAX);
}

int
ref_valid(const char *s)
{
	return name_chars(s, 128);
}

int
b_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

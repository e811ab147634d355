/*
 * transport.c - libcurl over dockerd's unix socket, for the engine layer
 * only.  The easy handle is created once per worker and reused, so the
 * connection to dockerd stays open across requests; options that differ
 * per call are reset on every call.
 */
#include "berth.h"
#include "lib/cfg.h"
#include "engine/transport.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/metrics.h"

#include <curl/curl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CURL *easy;
static const char *extra_header; /* dk_header_once */

struct sinkctx {
	struct dk_resp *out;
	dk_sink sink;
	dk_alive alive;
	void *arg;
	const char *const *drop; /* members left out of an array answer's objects */
	int stopped;
	int overflow;
};

int
dk_init(void)
{
	if (curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK)
		return -1;
	easy = curl_easy_init();
	return easy ? 0 : -1;
}

void
dk_cleanup(void)
{
	if (easy)
		curl_easy_cleanup(easy);
	easy = NULL;
	curl_global_cleanup();
}

void
dk_resp_free(struct dk_resp *r)
{
	free(r->body);
	json_object_put(r->json);
	memset(r, 0, sizeof(*r));
}

static size_t
collect(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sinkctx *c = ud;
	struct dk_resp *o = c->out;
	size_t n = size * nmemb;
	long status = 0;
	char *nb;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (c->sink && status >= 200 && status < 300) {
		if (c->sink(ptr, n, c->arg) != 0) {
			c->stopped = 1;
			return 0;
		}
		return n;
	}
	if (o->len + n > DK_MAX_REPLY) {
		c->overflow = 1;
		return 0;
	}
	nb = realloc(o->body, o->len + n + 1);
	if (nb == NULL)
		return 0;
	o->body = nb;
	memcpy(o->body + o->len, ptr, n);
	o->len += n;
	o->body[o->len] = '\0';
	return n;
}

static int
progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct sinkctx *c = ud;

	(void)dt, (void)dn, (void)ut, (void)un;
	if (c->alive && !c->alive(c->arg)) {
		c->stopped = 1;
		return 1;
	}
	return 0;
}

static enum berr
perform(const char *method, const char *path, const char *ctype, const void *body, size_t len,
        struct sinkctx *c)
{
	char url[4096];
	struct curl_slist *hdrs = NULL;
	char ctline[128];
	CURLcode rc;
	enum berr e = B_OK;

	memset(c->out, 0, sizeof(*c->out));
	if (easy == NULL && dk_init() != 0)
		return B_INTERNAL;
	if (snprintf(url, sizeof(url), "http://docker/%s%s", g_cfg->docker_api, path) >=
	    (int)sizeof(url))
		return B_INTERNAL;
	curl_easy_reset(easy);
	curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, g_cfg->docker_socket);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, g_cfg->connect_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http");
	if (c->sink) {
		/* Streams have no total timeout; a departed client ends them instead. */
		curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, progress);
		curl_easy_setopt(easy, CURLOPT_XFERINFODATA, c);
	} else {
		curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, g_cfg->timeout_ms);
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (extra_header && extra_header[0])
		hdrs = curl_slist_append(hdrs, extra_header);
	extra_header = NULL;
	if (ctype) {
		snprintf(ctline, sizeof(ctline), "Content-Type: %s", ctype);
		hdrs = curl_slist_append(hdrs, ctline);
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hdrs);
	if (body) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	rc = curl_easy_perform(easy);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &c->out->status);
	curl_slist_free_all(hdrs);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
	if (rc != CURLE_OK && !(c->stopped && rc == CURLE_WRITE_ERROR) &&
	    !(c->stopped && rc == CURLE_ABORTED_BY_CALLBACK)) {
		snprintf(c->out->errtext, sizeof(c->out->errtext), "%s", curl_easy_strerror(rc));
		switch (rc) {
		case CURLE_COULDNT_CONNECT:
		case CURLE_COULDNT_RESOLVE_HOST:
			e = B_DOCKER_DOWN;
			break;
		case CURLE_OPERATION_TIMEDOUT:
			e = B_DOCKER_TIMEOUT;
			break;
		default:
			e = B_DOCKER;
			break;
		}
		if (c->overflow)
			snprintf(c->out->errtext, sizeof(c->out->errtext), "reply over %u bytes",
			         DK_MAX_REPLY);
		log_warn("docker_call method=%s path=\"%s\" error=\"%s\"", method, path,
		         c->out->errtext);
		mt_docker_error(e == B_DOCKER_DOWN      ? "unavailable"
		                : e == B_DOCKER_TIMEOUT ? "timeout"
		                                        : "bad_reply");
		return e;
	}
	if (c->out->body && c->out->len) {
		char perr[64];
		if (c->drop)
			c->out->len = jx_drop_members(c->out->body, c->out->len, c->drop);
		c->out->json = jx_parse(c->out->body, c->out->len, perr, sizeof(perr));
	}
	return B_OK;
}

enum berr
dk_call(const char *method, const char *path, const char *ctype, const void *body, size_t len,
        struct dk_resp *out)
{
	struct sinkctx c = {.out = out};

	return perform(method, path, ctype, body, len, &c);
}

enum berr
dk_get_lean(const char *path, const char *const *drop, struct dk_resp *out)
{
	struct sinkctx c = {.out = out, .drop = drop};

	return perform("GET", path, NULL, NULL, 0, &c);
}

enum berr
dk_json(const char *method, const char *path, json_object *body, struct dk_resp *out)
{
	const char *s = body ? jx_text(body) : NULL;

	return dk_call(method, path, s ? "application/json" : NULL, s, s ? strlen(s) : 0, out);
}

enum berr
dk_stream(const char *method, const char *path, const char *ctype, const void *body, size_t len,
          dk_sink sink, dk_alive alive, void *arg, struct dk_resp *out)
{
	struct sinkctx c = {.out = out, .sink = sink, .alive = alive, .arg = arg};

	return perform(method, path, ctype, body, len, &c);
}

void
dk_header_once(const char *line)
{
	extra_header = line;
}

int
dk_connected(void)
{
	curl_socket_t fd = CURL_SOCKET_BAD;
	struct pollfd p;

	if (easy == NULL || curl_easy_getinfo(easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD)
		return 0;
	p.fd = fd;
	p.events = POLLIN | POLLRDHUP;
	/* An idle kept-alive connection has nothing to read; EOF or data means it is over. */
	return poll(&p, 1, 0) == 0;
}

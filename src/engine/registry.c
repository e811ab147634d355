/*
 * engine/registry.c - berth's own calls to image registries (Registry HTTP
 * API v2 over libcurl): the manifest HEAD that tells which digest a tag
 * names without pulling, with the registry's auth flow (basic, or a Bearer
 * token fetched from the realm its WWW-Authenticate names), and the
 * X-Registry-Auth credentials dockerd gets for a pull.  See registry.h.
 */
#include "engine/registry.h"
#include "lib/cfg.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/op.h"
#include "lib/schema.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PASS_MAX  1024
#define TOKEN_MAX 8192
/* Every manifest kind a tag may name: the digest is of the one the registry holds. */
#define ACCEPT                                                                                     \
	"Accept: application/vnd.docker.distribution.manifest.v2+json, "                           \
	"application/vnd.docker.distribution.manifest.list.v2+json, "                              \
	"application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"

static const struct sc_field entry_fields[] = {
    {.name = "url",
     .types = SC_STRING,
     .flags = SC_REQUIRED,
     .desc = "host[:port] of the registry, as image references name it.",
     .min = 1,
     .max = 255,
     .pattern = "^[a-zA-Z0-9][a-zA-Z0-9.-]*(:[0-9]{1,5})?$"},
    {.name = "username", .types = SC_STRING, .desc = "Account name.", .min = 1, .max = 128},
    {.name = "password_file",
     .types = SC_STRING,
     .desc = "File holding the password (read at each use).",
     .min = 2,
     .max = 1024,
     .pattern = "^/"},
    {.name = "ca_file",
     .types = SC_STRING,
     .desc = "CA certificate the registry's TLS certificate is checked against.",
     .min = 2,
     .max = 1024,
     .pattern = "^/"},
    {.name = "insecure", .types = SC_BOOL, .desc = "Plain HTTP (loopback test registries)."},
    {.name = "timeout_ms",
     .types = SC_INT,
     .desc = "Bound on each call to the registry.",
     .min = 100,
     .max = 600000},
    {0}};
static const struct sc_schema entry_schema = {"registry", "berth.conf registries entry",
                                              entry_fields, NULL, 0};

int
reg_check_entry(const char *name, json_object *def, char *err, size_t n)
{
	struct sc_error e;
	const char *pf = jx_str(def, "password_file"), *ca = jx_str(def, "ca_file");

	(void)name;
	if (sc_validate(&entry_schema, def, &e) != 0) {
		snprintf(err, n, "%s", e.msg);
		return -1;
	}
	if (!jx_str(def, "username") != !pf) {
		snprintf(err, n, "username and password_file go together");
		return -1;
	}
	if (pf && access(pf, R_OK) != 0) {
		snprintf(err, n, "password_file: cannot read %s: %s", pf, strerror(errno));
		return -1;
	}
	if (ca && access(ca, R_OK) != 0) {
		snprintf(err, n, "ca_file: cannot read %s: %s", ca, strerror(errno));
		return -1;
	}
	return 0;
}

void
reg_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

/* Docker's rule: the first component is a host when it has a '.' or ':' or is localhost. */
int
reg_parse(const char *image, struct reg_ref *r)
{
	const char *slash = strchr(image, '/'), *rest = image, *colon;
	size_t hl = slash ? (size_t)(slash - image) : 0;

	memset(r, 0, sizeof(*r));
	if (strchr(image, '@'))
		return -1;
	if (slash && (memchr(image, '.', hl) || memchr(image, ':', hl) ||
	              (hl == 9 && strncmp(image, "localhost", 9) == 0))) {
		if (hl >= sizeof(r->host))
			return -1;
		memcpy(r->host, image, hl);
		rest = slash + 1;
	}
	colon = strrchr(rest, ':');
	if (colon == NULL || strchr(colon, '/') || (size_t)(colon - rest) >= sizeof(r->repo) ||
	    strlen(colon + 1) >= sizeof(r->tag) || colon == rest || !colon[1])
		return -1;
	memcpy(r->repo, rest, (size_t)(colon - rest));
	snprintf(r->tag, sizeof(r->tag), "%s", colon + 1);
	return 0;
}

json_object *
reg_of(const char *image, const char **name)
{
	struct reg_ref r;

	if (g_cfg->registries == NULL || reg_parse(image, &r) != 0 || !r.host[0])
		return NULL;
	json_object_object_foreach(g_cfg->registries, k, def)
	{
		if (strcmp(jx_str(def, "url"), r.host) == 0) {
			if (name)
				*name = k;
			return def;
		}
	}
	return NULL;
}

/* The password from DEF's file into BUF (its last newline dropped); -1 on failure. */
static int
read_password(json_object *def, char *buf, size_t n)
{
	FILE *f = fopen(jx_str(def, "password_file"), "r");
	size_t len;

	if (f == NULL)
		return -1;
	len = fread(buf, 1, n - 1, f);
	fclose(f);
	buf[len] = '\0';
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	return len ? 0 : -1;
}

enum berr
reg_auth_line(struct op *o, const char *name, json_object *def, char *line, size_t n)
{
	char pass[PASS_MAX];
	json_object *a;
	const char *js;
	size_t jl, off;
	enum berr e = B_OK;

	line[0] = '\0';
	if (def == NULL || !jx_str(def, "username"))
		return B_OK;
	if (read_password(def, pass, sizeof(pass)) != 0)
		return op_fail(o, B_INTERNAL, NULL, "registry %s: cannot read its password_file",
		               name);
	a = json_object_new_object();
	jx_add_str(a, "username", jx_str(def, "username"));
	jx_add_str(a, "password", pass);
	jx_add_str(a, "serveraddress", jx_str(def, "url"));
	js = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN);
	jl = strlen(js);
	off = (size_t)snprintf(line, n, "X-Registry-Auth: ");
	if (off + 4 * ((jl + 2) / 3) + 1 > n) {
		e = op_fail(o, B_INTERNAL, NULL, "registry %s: credentials too long", name);
	} else {
		/* base64url, as dockerd decodes it */
		EVP_EncodeBlock((unsigned char *)line + off, (const unsigned char *)js, (int)jl);
		for (char *p = line + off; *p; p++)
			*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	}
	reg_wipe((void *)js, jl);
	json_object_put(a);
	reg_wipe(pass, sizeof(pass));
	if (e != B_OK)
		line[0] = '\0';
	return e;
}

/* ---- the manifest HEAD --------------------------------------------------- */

struct hresp {
	char digest[REG_DIGEST_MAX];
	char challenge[1024]; /* WWW-Authenticate */
	long retry_after;
	char *body; /* the token answer */
	size_t len;
};

static void
take_header(char *dst, size_t n, const char *v, size_t vn)
{
	while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
		vn--;
	while (vn && *v == ' ')
		v++, vn--;
	if (vn >= n)
		vn = n - 1;
	memcpy(dst, v, vn);
	dst[vn] = '\0';
}

static size_t
on_header(char *b, size_t sz, size_t nm, void *ud)
{
	struct hresp *h = ud;
	size_t n = sz * nm;
	const char *colon = memchr(b, ':', n);
	size_t kl = colon ? (size_t)(colon - b) : 0;
	char tmp[32];

	if (colon == NULL)
		return n;
	if (kl == 21 && strncasecmp(b, "Docker-Content-Digest", kl) == 0)
		take_header(h->digest, sizeof(h->digest), colon + 1, n - kl - 1);
	else if (kl == 16 && strncasecmp(b, "WWW-Authenticate", kl) == 0)
		take_header(h->challenge, sizeof(h->challenge), colon + 1, n - kl - 1);
	else if (kl == 11 && strncasecmp(b, "Retry-After", kl) == 0) {
		take_header(tmp, sizeof(tmp), colon + 1, n - kl - 1);
		h->retry_after = strtol(tmp, NULL, 10);
	}
	return n;
}

static size_t
on_body(char *b, size_t sz, size_t nm, void *ud)
{
	struct hresp *h = ud;
	size_t n = sz * nm;
	char *p;

	if (h->len + n > TOKEN_MAX)
		return 0;
	p = realloc(h->body, h->len + n + 1);
	if (p == NULL)
		return 0;
	h->body = p;
	memcpy(h->body + h->len, b, n);
	h->len += n;
	h->body[h->len] = '\0';
	return n;
}

/* One call to the registry DEF: URL, with basic credentials or a bearer header. */
static CURLcode
call(CURL *c, json_object *def, const char *url, int head, const char *pass, const char *bearer,
     struct hresp *h, long *status)
{
	struct curl_slist *hd = NULL;
	char auth[TOKEN_MAX + 32];
	CURLcode rc;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)jx_int(def, "timeout_ms", 10000));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)jx_int(def, "timeout_ms", 10000));
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	if (jx_str(def, "ca_file"))
		curl_easy_setopt(c, CURLOPT_CAINFO, jx_str(def, "ca_file"));
	if (head)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	hd = curl_slist_append(hd, ACCEPT);
	if (bearer) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
		hd = curl_slist_append(hd, auth);
		reg_wipe(auth, sizeof(auth));
	} else if (pass) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, jx_str(def, "username"));
		curl_easy_setopt(c, CURLOPT_PASSWORD, pass);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
	rc = curl_easy_perform(c);
	*status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hd);
	return rc;
}

/* KEY="value" out of a Bearer challenge into OUT (URL-encoded); "" when absent. */
static void
challenge_param(const char *ch, const char *key, char *out, size_t n)
{
	char pat[32];
	const char *p, *q;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), "%s=\"", key);
	p = strstr(ch, pat);
	if (p == NULL)
		return;
	p += strlen(pat);
	q = strchr(p, '"');
	if (q == NULL || (size_t)(q - p) >= n)
		return;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
}

/* The Bearer token flow: GET realm?service=&scope= with basic credentials. */
static int
fetch_token(CURL *c, json_object *def, const char *pass, const char *ch, char *tok, size_t n)
{
	char realm[512], svc[256], scope[512], url[1600], *es, *esc;
	struct hresp h = {0};
	json_object *o;
	char perr[32];
	long st;
	int rc = -1;

	challenge_param(ch, "realm", realm, sizeof(realm));
	challenge_param(ch, "service", svc, sizeof(svc));
	challenge_param(ch, "scope", scope, sizeof(scope));
	if (!realm[0] || (strncmp(realm, "https://", 8) && strncmp(realm, "http://", 7)))
		return -1;
	es = curl_easy_escape(c, svc, 0);
	esc = curl_easy_escape(c, scope, 0);
	snprintf(url, sizeof(url), "%s?service=%s&scope=%s", realm, es ? es : "", esc ? esc : "");
	curl_free(es);
	curl_free(esc);
	if (call(c, def, url, 0, pass, NULL, &h, &st) == CURLE_OK && st == 200 && h.body) {
		o = jx_parse(h.body, h.len, perr, sizeof(perr));
		const char *t = jx_str(o, "token") ? jx_str(o, "token") : jx_str(o, "access_token");
		if (t && strlen(t) < n) {
			snprintf(tok, n, "%s", t);
			rc = 0;
		}
		json_object_put(o);
	}
	if (h.body)
		reg_wipe(h.body, h.len);
	free(h.body);
	return rc;
}

static enum berr
transport_error(struct op *o, const char *name, json_object *def, CURLcode rc)
{
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return op_fail(o, B_DOCKER_TIMEOUT, NULL,
		               "registry %s (%s) did not answer within %lld ms", name,
		               jx_str(def, "url"), (long long)jx_int(def, "timeout_ms", 10000));
	return op_fail(o, B_DOCKER_DOWN, NULL, "registry %s (%s) is unreachable: %s", name,
	               jx_str(def, "url"), curl_easy_strerror(rc));
}

/* What a final status means, the digest taken on 200. */
static enum berr
head_status(struct op *o, const char *name, const char *image, long st, struct hresp *h,
            char *digest, size_t n, long *retry_after)
{
	switch (st) {
	case 200:
		if (strncmp(h->digest, "sha256:", 7) != 0)
			return op_fail(o, B_DOCKER, NULL, "registry %s sent no digest for %s", name,
			               image);
		snprintf(digest, n, "%s", h->digest);
		return B_OK;
	case 401:
	case 403:
		return op_fail(o, B_DOCKER, NULL, "registry %s refused berth's credentials for %s",
		               name, image);
	case 404:
		return op_fail(o, B_NOT_FOUND, "image", "registry %s has no %s (the tag is gone)",
		               name, image);
	case 429:
		*retry_after = h->retry_after > 0 ? h->retry_after : 60;
		return op_fail(o, B_TOO_MANY, NULL,
		               "registry %s is rate limiting berth; retry after %ld s", name,
		               *retry_after);
	default:
		return op_fail(o, B_DOCKER, NULL, "registry %s answered %ld for %s", name, st,
		               image);
	}
}

enum berr
reg_digest(struct op *o, const char *image, char *digest, size_t n, long *retry_after)
{
	const char *name = NULL;
	json_object *def = reg_of(image, &name);
	struct reg_ref r;
	struct hresp h = {0};
	char url[1024], pass[PASS_MAX] = "", tok[TOKEN_MAX] = "";
	CURL *c;
	CURLcode rc;
	long st = 0;
	enum berr e;

	*retry_after = 0;
	if (def == NULL || reg_parse(image, &r) != 0)
		return op_fail(o, B_NOT_FOUND, "image", "no registry in berth.conf serves %s",
		               image);
	if (jx_str(def, "username") && read_password(def, pass, sizeof(pass)) != 0)
		return op_fail(o, B_INTERNAL, NULL, "registry %s: cannot read its password_file",
		               name);
	c = curl_easy_init();
	if (c == NULL)
		return op_fail(o, B_INTERNAL, NULL, "out of memory");
	snprintf(url, sizeof(url), "%s://%s/v2/%s/manifests/%s",
	         jx_bool(def, "insecure", 0) ? "http" : "https", r.host, r.repo, r.tag);
	rc = call(c, def, url, 1, NULL, NULL, &h, &st);
	if (rc == CURLE_OK && st == 401 && pass[0]) {
		/* distribution with htpasswd asks for basic; token-issuing registries for Bearer.
		 */
		int bearer = strncasecmp(h.challenge, "Bearer", 6) == 0;
		if (bearer && fetch_token(c, def, pass, h.challenge, tok, sizeof(tok)) != 0) {
			st = 401;
		} else {
			free(h.body);
			memset(&h, 0, sizeof(h));
			rc = call(c, def, url, 1, bearer ? NULL : pass, bearer ? tok : NULL, &h,
			          &st);
		}
	}
	if (rc != CURLE_OK)
		e = transport_error(o, name, def, rc);
	else
		e = head_status(o, name, image, st, &h, digest, n, retry_after);
	free(h.body);
	reg_wipe(pass, sizeof(pass));
	reg_wipe(tok, sizeof(tok));
	curl_easy_cleanup(c);
	return e;
}

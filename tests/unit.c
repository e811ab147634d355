/*
 * tests/unit.c - unit tests of the pure parts: names, sizes, JSON parsing,
 * percent-decoding, schema validation, config errors, atomic state writes,
 * build contexts made in a child process.
 * Prints TAP-style "ok"/"not ok" lines; exits non-zero on any failure.
 */
#include "../src/berth.h"
#include "../src/cfg.h"
#include "../src/json.h"
#include "../src/req.h"
#include "../src/route.h"
#include "../src/schema.h"
#include "../src/state.h"
#include "../src/tarball.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int passed, failed;

#define CHECK(cond, name)                                                                          \
	do {                                                                                       \
		if (cond) {                                                                        \
			passed++;                                                                  \
			printf("ok - %s\n", name);                                                 \
		} else {                                                                           \
			failed++;                                                                  \
			printf("not ok - %s (%s:%d)\n", name, __FILE__, __LINE__);                 \
		}                                                                                  \
	} while (0)

static void
t_names(void)
{
	char long_name[80];

	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	CHECK(name_valid("web-1"), "name web-1 valid");
	CHECK(name_valid("a.b_c"), "name a.b_c valid");
	CHECK(!name_valid(""), "empty name refused");
	CHECK(!name_valid("../etc"), "../ refused");
	CHECK(!name_valid(".hidden"), "leading dot refused");
	CHECK(!name_valid("a/b"), "slash refused");
	CHECK(!name_valid("a b"), "space refused");
	CHECK(!name_valid(long_name), "65 chars refused");
	long_name[64] = '\0';
	CHECK(name_valid(long_name), "64 chars accepted");
}

static void
t_sizes(void)
{
	CHECK(cfg_parse_size("512m") == 512LL * 1024 * 1024, "512m");
	CHECK(cfg_parse_size("2g") == 2LL << 30, "2g");
	CHECK(cfg_parse_size("100") == 100, "100");
	CHECK(cfg_parse_size("1kb") == 1024, "1kb");
	CHECK(cfg_parse_size("x") == -1, "x refused");
	CHECK(cfg_parse_size("-1") == -1, "negative refused");
	CHECK(cfg_parse_size("99999999999999999g") == -1, "overflow refused");
}

static void
t_json(void)
{
	char err[160], deep[200];
	json_object *o;

	o = jx_parse("{\"a\":1}", 7, err, sizeof(err));
	CHECK(o && jx_int(o, "a", 0) == 1, "parse object");
	json_object_put(o);
	o = jx_parse("42", 2, err, sizeof(err));
	CHECK(o && json_object_get_int(o) == 42, "parse lone number");
	json_object_put(o);
	o = jx_parse("{\"a\":1} x", 9, err, sizeof(err));
	CHECK(o == NULL && strstr(err, "byte 8"), "trailing garbage refused with position");
	o = jx_parse("{\"a\":\"\xff\"}", 9, err, sizeof(err));
	CHECK(o == NULL, "invalid UTF-8 refused");
	o = jx_parse("{\"a\":\"\xc0\xaf\"}", 9, err, sizeof(err));
	CHECK(o == NULL && strstr(err, "byte 6"), "overlong UTF-8 (C0 AF for /) refused");
	o = jx_parse("{\"a\":\"\xed\xa0\x80\"}", 10, err, sizeof(err));
	CHECK(o == NULL, "UTF-8-encoded surrogate refused");
	o = jx_parse("{\"a\":\"\xf4\x90\x80\x80\"}", 11, err, sizeof(err));
	CHECK(o == NULL, "code point above U+10FFFF refused");
	o = jx_parse("{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", 17, err, sizeof(err));
	CHECK(o && strcmp(jx_str(o, "a"), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == 0,
	      "2-, 3- and 4-byte UTF-8 accepted");
	json_object_put(o);
	o = jx_parse("{\"a\":", 5, err, sizeof(err));
	CHECK(o == NULL && strstr(err, "byte"), "truncated refused");
	memset(err, 'Z', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	o = jx_parse(" null ", 6, err, sizeof(err));
	CHECK(o == NULL && strncmp(err, "invalid JSON at byte 0", 22) == 0,
	      "a JSON null is refused with a message (not stack garbage)");
	o = jx_parse("{\"a\":1.6e28,\"b\":-1e300,\"c\":2.5}", 31, err, sizeof(err));
	CHECK(o && jx_int(o, "a", 0) == INT64_MAX && jx_int(o, "b", 0) == INT64_MIN &&
	          jx_int(o, "c", 0) == 2,
	      "jx_int clamps doubles outside int64 (no undefined conversion)");
	json_object_put(o);
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	o = jx_parse(deep, 200, err, sizeof(err));
	CHECK(o == NULL, "nesting 100 deep refused");
	json_object_put(o);
}

static void
t_decode(void)
{
	char *s;

	s = rq_decode("a%20b", 5, 0);
	CHECK(s && strcmp(s, "a b") == 0, "percent decode");
	free(s);
	s = rq_decode("a+b", 3, 1);
	CHECK(s && strcmp(s, "a b") == 0, "plus as space in query");
	free(s);
	CHECK(rq_decode("a%00b", 5, 0) == NULL, "NUL escape refused");
	CHECK(rq_decode("a%2", 3, 0) == NULL, "short escape refused");
	CHECK(rq_decode("a%zz", 4, 0) == NULL, "bad hex refused");
	s = rq_decode("%2e%2e", 6, 0);
	CHECK(s && strcmp(s, "..") == 0 && !name_valid(s), "%2e%2e decodes to an invalid name");
	free(s);
}

static const struct sc_field t_item[] = {
    {"container", SC_INT, SC_REQUIRED, "port", 1, 65535, NULL, NULL, NULL, NULL, NULL, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL}};
static const struct sc_field t_obj = {NULL, SC_OBJECT, 0,      NULL, 0,    0,
                                      NULL, NULL,      t_item, NULL, NULL, NULL};
static const struct sc_field t_str = {NULL, SC_STRING, 0,    NULL, 0,    100,
                                      NULL, NULL,      NULL, NULL, NULL, NULL};
static const struct sc_field t_fields[] = {
    {"name", SC_STRING, SC_REQUIRED, "name", 1, 64, "^[a-z]+$", NULL, NULL, NULL, NULL, NULL},
    {"ports", SC_ARRAY, 0, "ports", 0, 10, NULL, NULL, NULL, NULL, &t_obj, NULL},
    {"env", SC_OBJECT, 0, "env", 0, 0, NULL, NULL, NULL, &t_str, NULL, NULL},
    {"size", SC_INT | SC_STRING, 0, "size", 0, 100, "^[0-9]+k$", NULL, NULL, NULL, NULL, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL}};
static const struct sc_schema t_schema = {"t", "test", t_fields, "{\"name\":\"a\"}", 1};

static int
validate(const char *text, struct sc_error *e)
{
	char err[128];
	json_object *o = jx_parse(text, strlen(text), err, sizeof(err));
	int rc = sc_validate(&t_schema, o, e);

	json_object_put(o);
	return rc;
}

static void
t_schema_validate(void)
{
	struct sc_error e;
	json_object *js;

	CHECK(validate("{\"name\":\"abc\"}", &e) == 0, "valid body");
	CHECK(validate("{}", &e) != 0 && strcmp(e.field, "name") == 0, "missing required named");
	CHECK(validate("{\"name\":\"abc\",\"nmae\":1}", &e) != 0 && strcmp(e.field, "nmae") == 0,
	      "unknown field named");
	CHECK(validate("{\"name\":\"ABC\"}", &e) != 0 && strstr(e.msg, "match"),
	      "pattern enforced");
	CHECK(validate("{\"name\":7}", &e) != 0 && strstr(e.msg, "a string"), "type named");
	CHECK(validate("{\"name\":\"a\",\"ports\":[{\"container\":0}]}", &e) != 0 &&
	          strcmp(e.field, "ports[0].container") == 0,
	      "nested path named");
	CHECK(validate("{\"name\":\"a\",\"env\":{\"A\":\"x\\u0000y\"}}", &e) != 0 &&
	          strstr(e.msg, "NUL"),
	      "NUL in string refused");
	CHECK(validate("[1]", &e) != 0 && e.code == B_BAD_REQUEST, "non-object body is 400");
	CHECK(validate("{\"name\":\"a\",\"size\":50}", &e) == 0 &&
	          validate("{\"name\":\"a\",\"size\":500}", &e) != 0,
	      "number-or-string field: bounds hold the number");
	CHECK(validate("{\"name\":\"a\",\"size\":\"123456789k\"}", &e) == 0,
	      "number-or-string field: the pattern, not the bounds, holds the string");
	js = sc_json_schema(&t_schema);
	CHECK(strstr(jx_text(js), "\"additionalProperties\":false") &&
	          strstr(jx_text(js), "\"required\":[\"name\"]"),
	      "JSON Schema generated from the same table");
	json_object_put(js);
}

static void
t_config(void)
{
	char path[] = "/tmp/berth-unit-XXXXXX", err[512];
	struct cfg *c;
	FILE *f;
	int fd = mkstemp(path);

	f = fdopen(fd, "w");
	fputs("users = { alice = \"admin\"; bob = \"operater\"; };\n", f);
	fclose(f);
	c = cfg_load(path, err, sizeof(err));
	CHECK(c == NULL && strstr(err, ":1:") && strstr(err, "users.bob"),
	      "bad role fails with file:line");
	f = fopen(path, "w");
	fputs("state_dir = \"/tmp/x\";\nstate_dri = 1;\n", f);
	fclose(f);
	c = cfg_load(path, err, sizeof(err));
	CHECK(c == NULL && strstr(err, ":2:") && strstr(err, "state_dri"), "unknown key refused");
	f = fopen(path, "w");
	fputs("anonymous = \"none\";\nusers = { alice = \"x\"; ;\n", f);
	fclose(f);
	c = cfg_load(path, err, sizeof(err));
	CHECK(c == NULL && strstr(err, ":2:") && strstr(err, "syntax"), "syntax error has a line");
	f = fopen(path, "w");
	fputs("users = { alice = \"admin\"; };\nanonymous = \"viewer\";\n", f);
	fclose(f);
	c = cfg_load(path, err, sizeof(err));
	CHECK(c && cfg_role(c, "alice") == ROLE_ADMIN && cfg_role(c, NULL) == ROLE_VIEWER &&
	          cfg_role(c, "mallory") == ROLE_NONE,
	      "roles resolved");
	cfg_free(c);
	unlink(path);
}

static void
t_state(void)
{
	char dir[] = "/tmp/berth-state-XXXXXX";
	json_object *o, *back = NULL;

	CHECK(mkdtemp(dir) != NULL && st_init(dir) == 0, "state init");
	o = json_object_new_object();
	jx_add_str(o, "owner", "alice");
	CHECK(st_put(ST_CONTAINERS, "abc", o) == B_OK, "state put");
	CHECK(st_get(ST_CONTAINERS, "abc", &back) == B_OK &&
	          strcmp(jx_str(back, "owner"), "alice") == 0,
	      "state get");
	json_object_put(back);
	CHECK(st_get(ST_CONTAINERS, "../x", &back) == B_NOT_FOUND, "state refuses path tricks");
	CHECK(st_del(ST_CONTAINERS, "abc") == B_OK &&
	          st_get(ST_CONTAINERS, "abc", &back) == B_NOT_FOUND,
	      "state delete");
	json_object_put(o);
	{
		int held = st_lock("slot"), busy = st_trylock("slot"), busy_errno = errno, again;
		CHECK(held >= 0 && busy == -1 && busy_errno == EWOULDBLOCK,
		      "st_trylock: a held lock is EWOULDBLOCK, without waiting");
		st_unlock(held);
		again = st_trylock("slot");
		CHECK(again >= 0, "st_trylock: free once released");
		st_unlock(again);
	}
}

/* Routes a hand-made request (no FastCGI connection) like the dispatcher does. */
static enum berr
route(const char *method, const char *uri, struct req *r)
{
	static FCGX_Request fx;
	static char m[32], u[512];
	static char *env[3] = {m, u, NULL};
	enum berr e;

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
	fx.envp = env;
	e = rq_init(r, &fx);
	return e == B_OK ? rt_find(r) : e;
}

static void
t_route(void)
{
	struct req r;

	CHECK(route("GET", "/api/v1/containers/web/logs?tail=5", &r) == B_OK && r.nargs == 1 &&
	          strcmp(r.args[0], "web") == 0 && strcmp(rq_query(&r, "tail"), "5") == 0,
	      "route with an argument and a query");
	rq_cleanup(&r);
	CHECK(route("POST", "/api/v1/containers/%2e%2e/stop", &r) == B_OK &&
	          strcmp(r.args[0], "..") == 0 && !name_valid(r.args[0]),
	      "%2e%2e reaches the handler decoded, where the name check refuses it");
	rq_cleanup(&r);
	CHECK(route("GET", "/api/v1/containers/a%00b", &r) == B_BAD_REQUEST,
	      "NUL in a path arg: 400");
	rq_cleanup(&r);
	CHECK(route("DELETE", "/api/v1/health", &r) == B_METHOD && r.errextra, "405 carries Allow");
	rq_cleanup(&r);
	CHECK(route("GET", "/api/v1/a/b/c/d/e/f/g/h/i/j/k/l/m", &r) == B_NOT_FOUND,
	      "13 segments: 404");
	rq_cleanup(&r);
	CHECK(route("GET", "/api/v1/containers?a=%zz", &r) == B_BAD_REQUEST,
	      "bad query escape: 400");
	rq_cleanup(&r);
	CHECK(route("GET", "/", &r) == B_OK && strcmp(r.route->pattern, "/") == 0,
	      "GET / is a route (seed 001's endpoint index)");
	rq_cleanup(&r);
	CHECK(route("GET", "/sleep/5", &r) == B_OK && r.nargs == 1 && strcmp(r.args[0], "5") == 0,
	      "GET /sleep/<n> is a route");
	rq_cleanup(&r);
}

/* Two files, as the catalog's inline commands add them. */
static int
fill_two(struct tarball *t, void *arg, char *err, size_t n)
{
	(void)arg;
	if (tb_add(t, "Dockerfile", "FROM scratch\n", 13, 0644) != 0 ||
	    tb_add(t, "berth-files/0", "hello there", 11, 0755) != 0) {
		snprintf(err, n, "%s", tb_error(t));
		return -1;
	}
	return 0;
}

static int
fill_fails(struct tarball *t, void *arg, char *err, size_t n)
{
	(void)t;
	snprintf(err, n, "%s", (const char *)arg);
	return -1;
}

static int
fill_dies(struct tarball *t, void *arg, char *err, size_t n)
{
	(void)t, (void)arg, (void)err, (void)n;
	_exit(3); /* ends without an answer, as a crash would */
}

static void
t_tarball(void)
{
	char *data = NULL, err[300] = "";
	size_t len = 0;
	int rc;

	rc = tb_make(fill_two, NULL, &data, &len, err, sizeof(err));
	CHECK(rc == 0 && len > 0 && len % 512 == 0,
	      "tb_make: a whole tar comes back from the child");
	/* pax_restricted writes plain ustar headers for short names: name at 0, size at 124. */
	CHECK(rc == 0 && strcmp(data, "Dockerfile") == 0 &&
	          strncmp(data + 124, "00000000015", 11) == 0,
	      "tb_make: first member is the Dockerfile, 13 bytes");
	CHECK(rc == 0 && memmem(data, len, "hello there", 11) != NULL,
	      "tb_make: inline file content");
	free(data);
	data = NULL;
	rc = tb_make(fill_fails, "no such context", &data, &len, err, sizeof(err));
	CHECK(rc == -1 && data == NULL && strcmp(err, "no such context") == 0,
	      "tb_make: the child's reason comes back");
	rc = tb_make(fill_dies, NULL, &data, &len, err, sizeof(err));
	CHECK(rc == -1 && data == NULL && strstr(err, "without an answer (exit status 3)"),
	      "tb_make: a child that dies is reported");
}

int
main(void)
{
	t_names();
	t_sizes();
	t_json();
	t_decode();
	t_route();
	t_schema_validate();
	t_config();
	t_state();
	t_tarball();
	printf("# unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

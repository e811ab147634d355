/*
 * tests/unit.c - unit tests of the pure parts: names, sizes, JSON parsing
 * (and members left out of an array before parsing), percent-decoding,
 * schema validation, config errors, atomic state writes,
 * build contexts made in a child process, host path rules (canonical
 * paths, the no-link resolver, bind_sources/device_paths in berth.conf),
 * the audit log (rotation, reading from the end, paging, concurrent
 * writers, the per-identity line budget), the stream relay's HTTP heads,
 * chunked decoder and ticket check, the Docker door's create-body classifier,
 * the YAML reader (scalars, anchors, merge keys, bombs and bounds), the
 * compose subset's plans and refusals (key paths, interpolation, order).
 * Prints TAP-style "ok"/"not ok" lines; exits non-zero on any failure.
 */
#include "../src/berth.h"
#include "../src/edge/module.h"
#include "../src/doors/lease.h"
#include "../src/res/containers.h"
#include "../src/store/audit.h"
#include "../src/lib/cfg.h"
#include "../src/lib/hostpath.h"
#include "../src/lib/json.h"
#include "../src/lib/metrics.h"
#include "../src/edge/req.h"
#include "../src/edge/route.h"
#include "../src/lib/schema.h"
#include "../src/store/state.h"
#include "../src/lib/tarball.h"
#include "../src/lib/yaml.h"
#include "../src/lib/dockerfile.h"
#include "../src/res/compose.h"
#include "../src/relay/http.h"
#include "../src/relay/ticket.h"
#include "../src/doors/dockcreate.h"
#include "../src/doors/docker.h"
#include "../src/res/policy.h"
#include "dockcreate-traces.h"

#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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

/* Does jx_drop_members (dropping DROP_KEYS) turn IN into WANT (NULL: leave it as it was)? */
static const char *const drop_keys[] = {"NetworkSettings", "Mounts", NULL};

static int
drop_gives(const char *in, const char *want)
{
	size_t len = strlen(in), n;
	char *buf = strdup(in);
	int ok;

	n = jx_drop_members(buf, len, drop_keys);
	ok = want ? n == strlen(want) && strcmp(buf, want) == 0
	          : n == len && memcmp(buf, in, len + 1) == 0;
	if (!ok)
		printf("# jx_drop_members(%s) gave %.*s\n", in, (int)n, buf);
	free(buf);
	return ok;
}

static void
t_drop_members(void)
{
	CHECK(drop_gives("[]", "[]") && drop_gives(" [ ] \n", "[] \n"), "drop: empty array");
	CHECK(drop_gives("[{\"Id\":\"a\",\"Mounts\":[],\"State\":\"x\"}]",
	                 "[{\"Id\":\"a\",\"State\":\"x\"}]"),
	      "drop: a member in the middle");
	CHECK(drop_gives("[{\"Mounts\":[],\"Id\":1},{\"Id\":2,\"NetworkSettings\":{}}]",
	                 "[{\"Id\":1},{\"Id\":2}]"),
	      "drop: first and last members, in every object");
	CHECK(drop_gives("[{\"Mounts\":1,\"NetworkSettings\":2}, {}]", "[{},{}]"),
	      "drop: every member, and an empty object");
	CHECK(drop_gives("[ { \"Id\" : \"a\" ,\n \"Mounts\" : [ {\"x\": \"]}\\\"{\"} ] } ]",
	                 "[{\"Id\" : \"a\"}]"),
	      "drop: brackets and quotes inside strings of a dropped value");
	CHECK(drop_gives("[{\"Labels\":{\"Mounts\":\"1\"},\"Id\":\"}\\\\\"}]",
	                 "[{\"Labels\":{\"Mounts\":\"1\"},\"Id\":\"}\\\\\"}]"),
	      "drop: only members of the array's objects; kept values as written");
	CHECK(drop_gives("[{\"Id\":1,\"Mounts\":[[[[]]]]}] x", "[{\"Id\":1}] x") &&
	          drop_gives("[{\"Id\":1},{\"Mounts\":2}]", "[{\"Id\":1},{}]"),
	      "drop: what follows the array is left for the parser");
	CHECK(drop_gives("{\"Mounts\":1}", NULL) && drop_gives("[1]", NULL) &&
	          drop_gives("[{\"Id\":1},2]", NULL),
	      "drop: not an array of objects: left as it was");
	CHECK(drop_gives("[{\"Mo\\u0075nts\":1}]", NULL), "drop: an escaped key: left as it was");
	CHECK(drop_gives("[{\"Id\":1,}]", NULL) && drop_gives("[{\"Id\":}]", NULL) &&
	          drop_gives("[{\"Id\" 1}]", NULL) && drop_gives("[{Id:1}]", NULL) &&
	          drop_gives("[{\"Id\":1}", NULL) && drop_gives("[{\"Mounts\":[[", NULL) &&
	          drop_gives("[{\"Id\":\"a", NULL) && drop_gives("", NULL),
	      "drop: broken or cut-off text: left as it was");
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
    {"container", SC_INT, SC_REQUIRED, "port", 1, 65535, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL}};
static const struct sc_field t_obj = {NULL, SC_OBJECT, 0,    NULL, 0,    0,   NULL,
                                      NULL, t_item,    NULL, NULL, NULL, NULL};
static const struct sc_field t_str = {NULL, SC_STRING, 0,    NULL, 0,    100, NULL,
                                      NULL, NULL,      NULL, NULL, NULL, NULL};
static const struct sc_field t_fields[] = {
    {"name", SC_STRING, SC_REQUIRED, "name", 1, 64, "^[a-z]+$", NULL, NULL, NULL, NULL, NULL, NULL},
    {"ports", SC_ARRAY, 0, "ports", 0, 10, NULL, NULL, NULL, NULL, &t_obj, NULL, NULL},
    {"env", SC_OBJECT, 0, "env", 0, 0, NULL, NULL, NULL, &t_str, NULL, NULL, NULL},
    {"size", SC_INT | SC_STRING, 0, "size", 0, 100, "^[0-9]+k$", NULL, NULL, NULL, NULL, NULL,
     NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL}};
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

/* Member names of free-form objects (environment, labels) are checked too. */
static void
t_member_names(void)
{
	const struct sc_schema *c = mod_schema("container");
	struct sc_error se;
	const char *bad[] = {"{\"image\":\"a:1\",\"env\":{\"A=B\":\"x\"}}",
	                     "{\"image\":\"a:1\",\"env\":{\"1A\":\"x\"}}",
	                     "{\"image\":\"a:1\",\"env\":[\"noequals\"]}",
	                     "{\"image\":\"a:1\",\"labels\":{\"-x\":\"y\"}}", NULL};
	char err[64];

	for (int i = 0; bad[i]; i++) {
		json_object *o = jx_parse(bad[i], strlen(bad[i]), err, sizeof(err));
		CHECK(o && sc_validate(c, o, &se) != 0 && se.code == B_INVALID &&
		          (strncmp(se.field, "env", 3) == 0 || strcmp(se.field, "labels") == 0),
		      "a bad environment or label name is refused naming the field");
		json_object_put(o);
	}
}

/* Writes TEXT to PATH and loads it. */
static struct cfg *
conf_text(const char *path, const char *text, char *err, size_t n)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	return cfg_load(path, err, n);
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
	CHECK(c && c->audit.max_size == 10 << 20 && c->audit.keep == 5 && c->audit.rate == 20 &&
	          c->audit.burst == 200,
	      "audit defaults: 10m, keep 5, 20/s, burst 200");
	cfg_free(c);
	c = conf_text(path, "users = {};\naudit = { max_size = \"1k\"; };\n", err, sizeof(err));
	CHECK(c == NULL && strstr(err, ":2:") && strstr(err, "max_size") && strstr(err, "65536"),
	      "audit.max_size below 64k refused with file:line");
	c = conf_text(path, "audit = {\n  keep = 0;\n};\n", err, sizeof(err));
	CHECK(c == NULL && strstr(err, ":2:") && strstr(err, "keep"), "audit.keep 0 refused");
	c = conf_text(path, "audit = { keep = 2; rote = 1; };\n", err, sizeof(err));
	CHECK(c == NULL && strstr(err, "rote"), "unknown audit setting refused");
	c = conf_text(path, "audit = { max_size = \"64k\"; keep = 2; rate = 0; burst = 9; };\n",
	              err, sizeof(err));
	CHECK(c && c->audit.max_size == 64 << 10 && c->audit.keep == 2 && c->audit.rate == 0 &&
	          c->audit.burst == 9,
	      "audit settings read");
	cfg_free(c);
	c = conf_text(path, "audit = { max_size = \"unlimited\"; };\n", err, sizeof(err));
	CHECK(c && c->audit.max_size == 0, "audit.max_size \"unlimited\": no rotation");
	cfg_free(c);
	f = fopen(path, "w");
	fputs("policy = { operator = { memory = \"unlimited\"; memory_max = \"unlimited\"; "
	      "pids = 64; }; };\n",
	      f);
	fclose(f);
	c = cfg_load(path, err, sizeof(err));
	CHECK(c && c->policy[ROLE_OPERATOR].memory_default == 0 &&
	          c->policy[ROLE_OPERATOR].pids_default == 64 &&
	          c->policy[ROLE_VIEWER].memory_default == 256LL << 20 &&
	          c->policy[ROLE_VIEWER].pids_max == 4096 && c->policy[ROLE_VIEWER].log_size > 0,
	      "limits: built-in defaults for every role, \"unlimited\" only where said");
	cfg_free(c);
	f = fopen(path, "w");
	fputs("policy = {\n operator = { memory = \"4g\"; memory_max = \"1g\"; }; };\n", f);
	fclose(f);
	c = cfg_load(path, err, sizeof(err));
	CHECK(c == NULL && strstr(err, ":2:") && strstr(err, "above memory_max"),
	      "a default above its maximum is refused");
	f = fopen(path, "w");
	fputs("policy = {\n operator = { cpus = 0.001; }; };\n", f);
	fclose(f);
	c = cfg_load(path, err, sizeof(err));
	CHECK(c == NULL && strstr(err, ":2:") && strstr(err, "cpus"), "cpus under 0.01 refused");
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
	{
		char name[64], name2[64], buf[8] = {0}, path[4096];
		size_t len = 0;
		int fd;
		struct stat sb;

		CHECK(st_spool_put("context", 7, name, sizeof(name)) == 0 &&
		          st_spool_put("other", 5, name2, sizeof(name2)) == 0 &&
		          strcmp(name, name2),
		      "spool: two files, two names");
		snprintf(path, sizeof(path), "%s/" ST_SPOOL "/%s", dir, name);
		CHECK(stat(path, &sb) == 0 && (sb.st_mode & 077) == 0, "spool: a private file");
		fd = st_spool_take(name, &len);
		CHECK(fd >= 0 && len == 7 && read(fd, buf, sizeof(buf)) == 7 &&
		          memcmp(buf, "context", 7) == 0 && stat(path, &sb) != 0,
		      "spool: taken whole, and its name gone at once");
		if (fd >= 0)
			close(fd);
		CHECK(st_spool_take(name, &len) == -1, "spool: taken once");
		CHECK(st_spool_take("../containers/abc", &len) == -1 && errno == EINVAL,
		      "spool: a name that is not a spool name is refused");
		st_spool_del(name2);
		CHECK(st_spool_take(name2, &len) == -1, "spool: deleted");
	}
}

/* Seed 000's lease record KEY as the queue leaves it: "next serving held". */
static int
lease_is(const char *key, const char *want)
{
	json_object *rec = NULL;
	char got[64];

	if (st_get("leases", key, &rec) != B_OK)
		return 0;
	snprintf(got, sizeof(got), "%lld %lld %d", (long long)jx_int(rec, "next", -1),
	         (long long)jx_int(rec, "serving", -1), jx_bool(rec, "held", 0));
	json_object_put(rec);
	return strcmp(got, want) == 0;
}

static void
lease_set(const char *key, int64_t next, int64_t serving, int held, int64_t since)
{
	json_object *rec = json_object_new_object();

	jx_add_int(rec, "next", next);
	jx_add_int(rec, "serving", serving);
	jx_add_bool(rec, "held", held);
	jx_add_int(rec, "since", since);
	json_object_object_add(rec, "abandoned", json_object_new_array());
	st_put("leases", key, rec);
	json_object_put(rec);
}

/* The lease queue as the relay's waits use it (doors/lease.h). */
static void
t_leases(void)
{
	char dir[] = "/tmp/berth-lease-XXXXXX";
	const char *tok = "0123456789abcdef0123456789abcdef";
	json_object *rec, *got = NULL;

	CHECK(mkdtemp(dir) != NULL && st_init(dir) == 0, "leases: state dir");
	lease_set("k", 3, 1, 1, b_wall_ms());
	CHECK(lease_turn("k", 2) == 0 && lease_is("k", "3 1 1"), "lease: not its turn while held");
	lease_set("k", 3, 1, 0, b_wall_ms());
	CHECK(lease_turn("k", 2) == 0 && lease_turn("k", 1) == 1 && lease_is("k", "3 1 1"),
	      "lease: only the ticket served takes it");
	lease_set("k", 3, 1, 0, b_wall_ms());
	lease_leave("k", 2);
	CHECK(lease_is("k", "3 1 0"), "lease: a place given up before its turn changes no turn");
	lease_leave("k", 1);
	CHECK(lease_is("k", "3 3 0"),
	      "lease: giving up the served turn skips the abandoned one too");
	lease_set("k", 3, 1, 0, b_wall_ms() - (LEASE_STALE_S + 1) * 1000LL);
	CHECK(lease_turn("k", 2) == 1 && lease_is("k", "3 2 1"),
	      "lease: a turn nobody took for LEASE_STALE_S is skipped");
	rec = json_object_new_object();
	jx_add_str(rec, "key", "k");
	jx_add_int(rec, "t", 2);
	jx_add_str(rec, "user", "alice");
	CHECK(lease_resume_save(tok, rec) == 0, "lease: a saved start");
	CHECK(lease_resume_claim(tok, &got) == 0 && strcmp(jx_str(got, "user"), "alice") == 0,
	      "lease: a saved start is claimed");
	json_object_put(got);
	CHECK(lease_resume_claim(tok, &got) == -1 && got == NULL, "lease: ... once");
	lease_resume_orphan(tok);
	CHECK(lease_is("k", "3 2 1"), "lease: an orphan sweep after the claim releases nothing");
	lease_resume_save(tok, rec);
	lease_resume_orphan(tok);
	CHECK(lease_is("k", "3 3 0") && lease_resume_claim(tok, &got) == -1,
	      "lease: a saved start nobody claimed releases its lease");
	json_object_put(rec);
}

/* hp_canonical over a C string. */
static const char *
canon(const char *p)
{
	return hp_canonical(p, strlen(p));
}

static void
t_canonical(void)
{
	char lng[HP_MAX + 2];

	CHECK(canon("/") == NULL && canon("/srv/share") == NULL, "canonical: / and /srv/share");
	CHECK(canon("/srv/...") == NULL && canon("/srv/.hidden") == NULL &&
	          canon("/srv/..a") == NULL && canon("/a.") == NULL,
	      "canonical: names that only start with dots are names");
	CHECK(canon("") && strstr(canon(""), "empty"), "canonical: empty refused");
	CHECK(hp_canonical("/srv", 0) != NULL, "canonical: zero length refused");
	CHECK(canon("srv/share") && strstr(canon("srv/share"), "absolute"),
	      "canonical: relative refused");
	CHECK(canon("./srv") && canon("../srv") && canon("~/srv"), "canonical: ./ ../ ~/ refused");
	CHECK(canon("/srv/..") && strstr(canon("/srv/.."), ".."), "canonical: trailing .. refused");
	CHECK(canon("/..") && canon("/srv/../etc") && canon("/srv/share/../../etc"),
	      "canonical: .. anywhere refused");
	CHECK(canon("/srv/.") && strstr(canon("/srv/."), ". component") && canon("/./srv") &&
	          canon("/srv/./share") && canon("/."),
	      "canonical: . anywhere refused");
	CHECK(canon("//srv") && strstr(canon("//srv"), "//") && canon("/srv//share") && canon("//"),
	      "canonical: // refused");
	CHECK(canon("/srv/") && strstr(canon("/srv/"), "ends with /") && canon("/srv/share//"),
	      "canonical: trailing slash refused");
	CHECK(hp_canonical("/srv\0/etc", 9) && strstr(hp_canonical("/srv\0/etc", 9), "NUL"),
	      "canonical: an embedded NUL is refused (the length, not the NUL, ends the path)");
	CHECK(canon("/srv\n/x") && canon("/srv\t") && canon("/a\x7f"),
	      "canonical: control characters refused");
	memset(lng, 'a', sizeof(lng));
	lng[0] = '/';
	for (size_t i = 200; i < HP_MAX; i += 200)
		lng[i] = '/';
	lng[HP_MAX - 1] = '\0';
	CHECK(canon(lng) == NULL, "canonical: 4095 bytes accepted");
	lng[HP_MAX - 1] = 'a';
	lng[HP_MAX] = '\0';
	CHECK(canon(lng) && strstr(canon(lng), "too long"), "canonical: 4096 bytes refused");
	memset(lng + 1, 'b', 256);
	lng[257] = '\0';
	CHECK(canon(lng) && strstr(canon(lng), "255"), "canonical: a 256-byte component refused");
	lng[256] = '\0';
	CHECK(canon(lng) == NULL, "canonical: a 255-byte component accepted");
	CHECK(hp_within("/srv", "/srv") && hp_within("/srv", "/srv/a/b") &&
	          !hp_within("/srv", "/srvx") && !hp_within("/srv/a", "/srv") &&
	          hp_within("/", "/etc"),
	      "hp_within: equal, beneath, not a mere prefix, not above");
}

/* hp_resolve of DIR/REL; returns its result, the reason in WHY. */
static enum hp_result
resolve_in(const char *dir, const char *rel, enum hp_want want, char *why, size_t n)
{
	char path[512];

	snprintf(path, sizeof(path), "%s%s%s", dir, rel[0] ? "/" : "", rel);
	why[0] = '\0';
	return hp_resolve(path, want, why, n);
}

/* Makes DIR/REL: a directory of MODE, or (LINK set) a symbolic link to LINK. */
static int
mk(const char *dir, const char *rel, mode_t mode, const char *link)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	if (link)
		return symlink(link, p);
	if (mkdir(p, 0700) != 0)
		return -1;
	return chmod(p, mode);
}

static void
t_resolve(void)
{
	char dir[] = "/tmp/berth-hp-XXXXXX", p[600], why[320];
	int made = mkdtemp(dir) != NULL && chmod(dir, 0755) == 0;

	made = made && mk(dir, "d", 0755, NULL) == 0 && mk(dir, "d/x", 0755, NULL) == 0 &&
	       mk(dir, "l", 0, "d") == 0 && mk(dir, "root", 0, "/") == 0 &&
	       mk(dir, "w", 0777, NULL) == 0 && mk(dir, "w/sub", 0755, NULL) == 0 &&
	       mk(dir, "s", 01777, NULL) == 0 && mk(dir, "s/sub", 0755, NULL) == 0;
	snprintf(p, sizeof(p), "%s/f", dir);
	made = made && close(open(p, O_CREAT | O_WRONLY, 0644)) == 0;
	CHECK(made, "resolve: a tree of directories, links and a file");
	if (!made)
		return;
	CHECK(resolve_in(dir, "d", HP_DIRECTORY, why, sizeof(why)) == HP_FOUND,
	      "resolve: a plain directory (under sticky /tmp) is found");
	CHECK(resolve_in(dir, "l", HP_DIRECTORY, why, sizeof(why)) == HP_UNSAFE &&
	          strstr(why, "/l is a symbolic link"),
	      "resolve: a link as the last component refused");
	CHECK(resolve_in(dir, "l/x", HP_DIRECTORY, why, sizeof(why)) == HP_UNSAFE &&
	          strstr(why, "/l is a symbolic link"),
	      "resolve: a link in a middle component refused");
	CHECK(resolve_in(dir, "root/etc", HP_DIRECTORY, why, sizeof(why)) == HP_UNSAFE,
	      "resolve: a link to / in the middle refused");
	CHECK(resolve_in(dir, "nope", HP_DIRECTORY, why, sizeof(why)) == HP_ABSENT &&
	          strstr(why, "does not exist"),
	      "resolve: missing is absent");
	CHECK(resolve_in(dir, "f", HP_DIRECTORY, why, sizeof(why)) == HP_UNSAFE &&
	          strstr(why, "not a directory"),
	      "resolve: a file is not a bind source");
	CHECK(resolve_in(dir, "f/x", HP_DIRECTORY, why, sizeof(why)) == HP_ABSENT &&
	          strstr(why, "/f is not a directory"),
	      "resolve: a path through a file is absent");
	CHECK(resolve_in(dir, "w/sub", HP_DIRECTORY, why, sizeof(why)) == HP_UNSAFE &&
	          strstr(why, "/w is writable by group or others"),
	      "resolve: a world-writable directory on the way refused");
	CHECK(resolve_in(dir, "w", HP_DIRECTORY, why, sizeof(why)) == HP_FOUND,
	      "resolve: the bound directory itself may be writable");
	CHECK(resolve_in(dir, "s/sub", HP_DIRECTORY, why, sizeof(why)) == HP_FOUND,
	      "resolve: sticky directory with a trusted entry is safe");
	CHECK(resolve_in(dir, "d", HP_DEVICE, why, sizeof(why)) == HP_UNSAFE &&
	          strstr(why, "a directory, not a device"),
	      "resolve: a directory is not a device");
	CHECK(resolve_in("/dev/null", "", HP_DEVICE, why, sizeof(why)) == HP_FOUND,
	      "resolve: /dev/null is a device");
	CHECK(resolve_in("/dev/null", "", HP_DIRECTORY, why, sizeof(why)) == HP_UNSAFE,
	      "resolve: /dev/null is not a bind source");
	CHECK(resolve_in("/proc/self/root", "", HP_DIRECTORY, why, sizeof(why)) == HP_UNSAFE &&
	          strstr(why, "/proc/self is a symbolic link"),
	      "resolve: /proc/self/root (magic links) refused");
	CHECK(resolve_in("/srv/..", "", HP_DIRECTORY, why, sizeof(why)) == HP_UNSAFE,
	      "resolve: refuses a non-canonical path itself");
	if (geteuid() == 0) {
		snprintf(p, sizeof(p), "%s/s/theirs", dir);
		CHECK(mkdir(p, 0755) == 0 && chown(p, 65534, 65534) == 0 &&
		          resolve_in(dir, "s/theirs", HP_DIRECTORY, why, sizeof(why)) ==
		              HP_UNSAFE &&
		          strstr(why, "not owned by root or berth"),
		      "resolve: someone else's entry in a sticky directory refused");
		snprintf(p, sizeof(p), "%s/d/theirs", dir);
		CHECK(mkdir(p, 0755) == 0 && chown(p, 65534, 65534) == 0 &&
		          mk(dir, "d/theirs/in", 0755, NULL) == 0 &&
		          resolve_in(dir, "d/theirs/in", HP_DIRECTORY, why, sizeof(why)) ==
		              HP_UNSAFE &&
		          strstr(why, "owned by a user other than root or berth"),
		      "resolve: a directory owned by another user on the way refused");
	}
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	CHECK(system(p) == 0, "resolve: cleaned up");
}

/* Loads TEXT as berth.conf; returns the config (or NULL and the error in ERR). */
static struct cfg *
load_text(const char *text, char *err, size_t n)
{
	char path[] = "/tmp/berth-unit-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct cfg *c;

	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	c = cfg_load(path, err, n);
	unlink(path);
	return c;
}

/* 1 when TEXT is refused with ERR containing LINE and WHAT. */
static int
conf_refused(const char *text, const char *line, const char *what)
{
	char err[512];
	struct cfg *c = load_text(text, err, sizeof(err));

	if (c) {
		cfg_free(c);
		return 0;
	}
	if (strstr(err, line) && strstr(err, what))
		return 1;
	printf("# refused with: %s\n", err);
	return 0;
}

static void
t_path_config(void)
{
	char err[512];
	struct cfg *c;

	c = load_text(
	    "policy = {\n operator = { bind_sources = [ \"/srv/share\", \"/srv/other\" ];\n"
	    " device_paths = [ \"/dev/net\", \"/dev/null\" ]; };\n"
	    " admin = { bind_sources = [ \"*\", \"/srv/share\" ]; device_paths = [ \"*\" "
	    "]; };\n};\n",
	    err, sizeof(err));
	CHECK(c != NULL, "config: canonical, disjoint bind_sources and device_paths accepted");
	cfg_free(c);
	CHECK(conf_refused("policy = {\n operator = { bind_sources = [\n \"/srv/\" ]; };\n};\n",
	                   ":3:", "policy.operator.bind_sources[0]: /srv/ ends with /"),
	      "config: trailing slash refused at its line, naming the entry");
	CHECK(conf_refused("policy = { operator = { bind_sources = [ \"/srv\", \"/srv/..\" ]; }; "
	                   "};\n",
	                   ":1:", "bind_sources[1]: /srv/.. has a .. component"),
	      "config: .. refused");
	CHECK(conf_refused("policy = { operator = { bind_sources = [ \"srv\" ]; }; };\n",
	                   "bind_sources[0]", "absolute"),
	      "config: relative refused");
	CHECK(conf_refused("policy = { admin = { bind_sources = [ \"/\" ]; }; };\n",
	                   "policy.admin.bind_sources[0]", "write \"*\""),
	      "config: / refused, pointing at \"*\"");
	CHECK(conf_refused("policy = {\n admin = { bind_sources = [ \"/srv\" ]; };\n"
	                   " operator = { bind_sources = [ \"/srv/share\" ]; };\n};\n",
	                   ":3:",
	                   "policy.operator.bind_sources[0]: /srv/share and /srv "
	                   "(policy.admin.bind_sources[0]): bind sources may not nest"),
	      "config: nested bind sources across roles refused");
	CHECK(conf_refused("policy = { operator = { bind_sources = [ \"/srv/a/b\", \"/srv/a\" ]; "
	                   "}; };\n",
	                   "bind_sources[1]", "may not nest"),
	      "config: nested bind sources (inner first) refused");
	CHECK(conf_refused("policy = { operator = { device_paths = [ \"/srv/dev\" ]; }; };\n",
	                   "device_paths[0]", "not under /dev"),
	      "config: device path outside /dev refused");
	CHECK(conf_refused("policy = { operator = { device_paths = [ \"/dev/net/\" ]; }; };\n",
	                   "device_paths[0]", "ends with /"),
	      "config: device path with a trailing slash refused");
	CHECK(conf_refused("policy = { operator = { bind_sources = [ \"/dev/shm/x\" ]; };\n"
	                   " admin = { device_paths = [ \"/dev/shm\" ]; }; };\n",
	                   ":2:", "policy.admin.device_paths[0]: /dev/shm overlaps bind source"),
	      "config: a device path over a bind source refused");
}

/*
 * Routes a hand-made request (no FastCGI connection) like the dispatcher
 * does; DOC, when not NULL, is the DOCUMENT_URI nginx would send.
 */
static enum berr
route_doc(const char *method, const char *uri, const char *doc, struct req *r)
{
	static FCGX_Request fx;
	static char m[32], u[512], d[512];
	static char *env[4];
	enum berr e;

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
	snprintf(d, sizeof(d), "DOCUMENT_URI=%s", doc ? doc : "");
	env[0] = m;
	env[1] = u;
	env[2] = doc ? d : NULL;
	env[3] = NULL;
	fx.envp = env;
	e = rq_init(r, &fx);
	return e == B_OK ? rt_find(r) : e;
}

static enum berr
route(const char *method, const char *uri, struct req *r)
{
	return route_doc(method, uri, NULL, r);
}

static void
t_route(void)
{
	struct req r;

	CHECK(route("GET", "/api/v1/containers/web/logs?tail=5", &r) == B_OK && r.nargs == 1 &&
	          strcmp(r.args[0], "web") == 0 && strcmp(r.query[0].val, "5") == 0,
	      "route with an argument and a query");
	rq_cleanup(&r);
	CHECK(route("POST", "/api/v1/containers/%2e%2e/stop", &r) == B_NOT_FOUND &&
	          strcmp(r.args[0], "..") == 0 && r.op.err == B_NOT_FOUND,
	      "%2e%2e is decoded, then refused by the module's argument check: 404");
	rq_cleanup(&r);
	CHECK(route("GET", "/api/v1/containers/a%00b", &r) == B_BAD_REQUEST,
	      "NUL in a path arg: 400");
	rq_cleanup(&r);
	CHECK(route("DELETE", "/api/v1/health", &r) == B_METHOD && r.op.extra, "405 carries Allow");
	rq_cleanup(&r);
	CHECK(route("GET", "/api/v1/a/b/c/d/e/f/g/h/i/j/k/l/m", &r) == B_NOT_FOUND,
	      "13 segments: 404");
	rq_cleanup(&r);
	CHECK(route("GET", "/api/v1/containers?a=%zz", &r) == B_BAD_REQUEST,
	      "bad query escape: 400");
	rq_cleanup(&r);
	CHECK(route("GET", "/api/v1/containers/a%2fb/logs", &r) == B_BAD_REQUEST,
	      "encoded slash in a path arg: 400");
	rq_cleanup(&r);
	/* nginx chose /metrics for this one; berth must not route the raw path elsewhere. */
	CHECK(route_doc("GET", "/api/v1/containers/..%2f..%2f..%2fmetrics", "/metrics", &r) ==
	              B_OK &&
	          strcmp(r.route->pattern, "/metrics") == 0,
	      "DOCUMENT_URI, the path nginx routed, is the one routed");
	rq_cleanup(&r);
	CHECK(route_doc("GET", "/api/v1/containers/web%2550/logs?tail=1",
	                "/api/v1/containers/web%50/logs", &r) == B_NOT_FOUND &&
	          strcmp(r.args[0], "web%50") == 0 && strcmp(r.query[0].val, "1") == 0,
	      "DOCUMENT_URI args are not decoded twice (web%50 names nothing); the query comes "
	      "from REQUEST_URI");
	rq_cleanup(&r);
	CHECK(route("HEAD", "/shutdown", &r) == B_METHOD, "HEAD of a GET that changes things: 405");
	rq_cleanup(&r);
	CHECK(route("HEAD", "/api/v1/health", &r) == B_OK, "HEAD of a plain GET is served");
	rq_cleanup(&r);
	CHECK(route("GET", "/", &r) == B_OK && strcmp(r.route->pattern, "/") == 0,
	      "GET / is a route (seed 001's endpoint index)");
	rq_cleanup(&r);
	CHECK(route("GET", "/sleep/5", &r) == B_OK && r.nargs == 1 && strcmp(r.args[0], "5") == 0,
	      "GET /sleep/<n> is a route");
	rq_cleanup(&r);
	/* What `can` is made of: a row's least role, read from the table. */
	CHECK(rt_role_of("POST", "/api/v1/containers/{ref}/stop") == ROLE_OPERATOR &&
	          rt_role_of("GET", "/api/v1/audit") == ROLE_ADMIN &&
	          rt_role_of("GET", "/api/v1/health") == ROLE_NONE,
	      "rt_role_of: a row's least role");
	CHECK(rt_role_of("POST", "/api/v1/containers/web/stop") == -1 &&
	          rt_role_of("PUT", "/api/v1/containers/{ref}/stop") == -1,
	      "rt_role_of: a pattern is matched as written, with its method; none is -1");
	CHECK(rt_allows(ROLE_OPERATOR, "POST", "/api/v1/containers") &&
	          !rt_allows(ROLE_VIEWER, "POST", "/api/v1/containers") &&
	          rt_allows(ROLE_ADMIN, "GET", "/api/v1/audit") &&
	          !rt_allows(ROLE_OPERATOR, "GET", "/api/v1/audit") &&
	          rt_allows(ROLE_NONE, "GET", "/api/v1/health") &&
	          !rt_allows(ROLE_ADMIN, "POST", "/api/v1/no-such-row"),
	      "rt_allows: the row's role or above, as dispatch admits; no row allows nothing");
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

/* ---- the audit log ---------------------------------------------------------- */

static char au_dir[] = "/tmp/berth-audit-XXXXXX";

/* Writes one line numbered SEQ of writer W, with PAD bytes of padding. */
static void
au_line(int w, int seq, size_t pad)
{
	json_object *o = json_object_new_object();
	char p[512];

	memset(p, 'x', pad);
	p[pad] = '\0';
	jx_add_int(o, "time", (int64_t)time(NULL));
	jx_add_int(o, "w", w);
	jx_add_int(o, "seq", seq);
	jx_add_str(o, "pad", p);
	au_write(o);
	json_object_put(o);
}

/* Size of audit.log (I = 0) or its I-th rotated file; -1 when absent. */
static long long
au_size(int i)
{
	char p[256];
	struct stat sb;

	if (i == 0)
		snprintf(p, sizeof(p), "%s/audit.log", au_dir);
	else
		snprintf(p, sizeof(p), "%s/audit.log.%d", au_dir, i);
	return stat(p, &sb) == 0 ? (long long)sb.st_size : -1;
}

static void
au_reset(void)
{
	char p[256];

	for (int i = 0; i <= 100; i++) {
		if (i == 0)
			snprintf(p, sizeof(p), "%s/audit.log", au_dir);
		else
			snprintf(p, sizeof(p), "%s/audit.log.%d", au_dir, i);
		unlink(p);
	}
}

/* Every line au_read finds, oldest first. */
static json_object *
au_all(void)
{
	char next[48];

	return au_read(0, NULL, 100000, next, sizeof(next));
}

static void
t_audit_read_end(void)
{
	char next[48], next2[48];
	unsigned long long b0;
	json_object *a;
	int n = 20000;

	au_reset();
	g_cfg->audit.max_size = 1LL << 30;
	for (int i = 0; i < n; i++)
		au_line(0, i, 200);
	CHECK(au_size(0) > 4000000, "audit: a 4 MB log written");
	b0 = au_bytes_read();
	a = au_read(0, NULL, 1, next, sizeof(next));
	CHECK(a && json_object_array_length(a) == 1 &&
	          jx_int(json_object_array_get_idx(a, 0), "seq", -1) == n - 1,
	      "audit: limit=1 answers the newest line");
	CHECK(au_bytes_read() - b0 <= 2 * 16384,
	      "audit: limit=1 reads one block of a 4 MB log, not the file");
	CHECK(next[0] != '\0', "audit: a cursor to the page before");
	json_object_put(a);
	b0 = au_bytes_read();
	a = au_read(0, next, 3, next2, sizeof(next2));
	CHECK(a && json_object_array_length(a) == 3 &&
	          jx_int(json_object_array_get_idx(a, 0), "seq", -1) == n - 4 &&
	          jx_int(json_object_array_get_idx(a, 2), "seq", -1) == n - 2,
	      "audit: ?before= pages back, oldest first");
	CHECK(au_bytes_read() - b0 <= 2 * 16384, "audit: a page back costs its lines too");
	json_object_put(a);
	b0 = au_bytes_read();
	a = au_read((long long)time(NULL) + 100, NULL, 200, next, sizeof(next));
	CHECK(a && json_object_array_length(a) == 0 && next[0] == '\0',
	      "audit: since= in the future: nothing");
	CHECK(au_bytes_read() - b0 <= 2 * 16384, "audit: since= stops at the first older line");
	json_object_put(a);
	CHECK(au_read(0, "zz-1", 5, next, sizeof(next)) == NULL &&
	          au_read(0, "12", 5, next, sizeof(next)) == NULL &&
	          au_read(0, "1-", 5, next, sizeof(next)) == NULL,
	      "audit: a malformed cursor is refused");
	a = au_read(0, "1-0", 5, next, sizeof(next));
	CHECK(a && json_object_array_length(a) == 0 && next[0] == '\0',
	      "audit: a cursor into a file gone: nothing older");
	json_object_put(a);
}

/* 1 when A holds seq FIRST, FIRST+1, ... of writer 0 in order, to its end. */
static int
au_in_order(json_object *a, int first)
{
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (jx_int(json_object_array_get_idx(a, i), "seq", -1) != first + (int)i)
			return 0;
	return 1;
}

static void
t_audit_rotate(void)
{
	json_object *a, *got = json_object_new_array();
	char next[48] = "", cur[48];
	int ok = 1, pages = 0;

	au_reset();
	g_cfg->audit.max_size = 4096;
	g_cfg->audit.keep = 3;
	for (int i = 0; i < 300; i++)
		au_line(0, i, 50);
	for (int i = 1; i <= 3; i++)
		ok &= au_size(i) > 4096 - 200 && au_size(i) <= 4096;
	CHECK(au_size(0) > 0 && au_size(0) <= 4096 && ok,
	      "audit: rotated at max_size (each file under it)");
	CHECK(au_size(4) == -1, "audit: no more than keep rotated files");
	a = au_all();
	CHECK(a && json_object_array_length(a) > 100 &&
	          au_in_order(a, 300 - (int)json_object_array_length(a)),
	      "audit: read across rotated files, oldest first, none missing");
	/* Paging back 7 at a time meets every line once, across the files. */
	do {
		json_object *p;
		snprintf(cur, sizeof(cur), "%s", next);
		p = au_read(0, cur[0] ? cur : NULL, 7, next, sizeof(next));
		for (size_t i = json_object_array_length(p); i-- > 0;)
			json_object_array_add(got,
			                      json_object_get(json_object_array_get_idx(p, i)));
		json_object_put(p);
	} while (next[0] && ++pages < 1000);
	CHECK(json_object_array_length(got) == json_object_array_length(a),
	      "audit: paging with ?before= meets every line");
	CHECK(json_object_array_length(got) > 0 &&
	          jx_int(json_object_array_get_idx(got, 0), "seq", -1) == 299 &&
	          jx_int(json_object_array_get_idx(got, json_object_array_length(got) - 1), "seq",
	                 -1) == 300 - (int)json_object_array_length(a),
	      "audit: pages go newest to oldest");
	json_object_put(a);
	json_object_put(got);
}

static void
t_audit_writers(void)
{
	enum { WRITERS = 4, LINES = 400 };
	unsigned char seen[WRITERS][LINES] = {{0}};
	int last[WRITERS], dup = 0, order = 1, small = 0, files = 0;
	json_object *a;

	au_reset();
	g_cfg->audit.max_size = 16384;
	g_cfg->audit.keep = 100;
	for (int w = 0; w < WRITERS; w++) {
		if (fork() == 0) {
			for (int i = 0; i < LINES; i++)
				au_line(w, i, 60);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	a = au_all();
	for (int w = 0; w < WRITERS; w++)
		last[w] = -1;
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *o = json_object_array_get_idx(a, i);
		int w = (int)jx_int(o, "w", -1), s = (int)jx_int(o, "seq", -1);
		if (w < 0 || w >= WRITERS || s < 0 || s >= LINES)
			continue;
		dup |= seen[w][s]++;
		order &= s > last[w];
		last[w] = s;
	}
	for (int i = 1; au_size(i) >= 0; i++, files++)
		small |= au_size(i) <= 16384 - 200;
	CHECK(a && json_object_array_length(a) == WRITERS * LINES && !dup,
	      "audit: 4 writers rotating at once: every line once, none lost");
	CHECK(order, "audit: each writer's lines in its order across the files");
	CHECK(files >= 5 && !small, "audit: rotated files all full: no two workers both rotated");
	json_object_put(a);
}

static void
t_audit_shorten(void)
{
	json_object *o = json_object_new_object(), *list = json_object_new_array(), *a, *back;
	char big[2100], utf[401];

	au_reset();
	g_cfg->audit.max_size = 1 << 20;
	memset(big, 'a', 2000);
	big[2000] = '\0';
	for (int i = 0; i < 400; i += 2)
		memcpy(utf + i, "\xc3\xa9", 2); /* e-acute, 2 bytes */
	utf[400] = '\0';
	for (int i = 0; i < 100; i++)
		json_object_array_add(list, json_object_new_int(i));
	jx_add_int(o, "time", (int64_t)time(NULL));
	jx_add_str(o, "target", big);
	jx_add_str(o, "utf", utf);
	json_object_object_add(o, "list", list);
	au_write(o);
	json_object_put(o);
	CHECK(au_size(0) > 0 && au_size(0) < 1200, "audit: a 2 KB path cannot inflate a line");
	a = au_all();
	back = a ? json_object_array_get_idx(a, 0) : NULL;
	CHECK(back && strlen(jx_str(back, "target")) == 256 + 3 &&
	          strcmp(jx_str(back, "target") + 256, "\xe2\x80\xa6") == 0,
	      "audit: strings cut to 256 bytes, marked");
	CHECK(back && jx_str(back, "utf") && strlen(jx_str(back, "utf")) % 2 == 1,
	      "audit: cut on a character boundary (the line still parses)");
	list = back ? jx_arr(back, "list") : NULL;
	CHECK(list && json_object_array_length(list) == 65 &&
	          strcmp(json_object_get_string(json_object_array_get_idx(list, 64)),
	                 "(+36 more)") == 0,
	      "audit: lists cut to 64 items and a count");
	json_object_put(a);
}

/* Submits N lines for USER (or anonymous from ADDR); REFUSED ones carry status 404. */
static void
au_submit_n(const char *user, const char *addr, int n, int refused)
{
	for (int i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		jx_add_int(o, "time", (int64_t)time(NULL));
		jx_add_str(o, "user", user);
		jx_add_str(o, "addr", addr);
		jx_add_int(o, "status", refused ? 404 : 200);
		au_submit(o, user, addr, refused);
		json_object_put(o);
	}
}

/* Counts in A: lines of USER/ADDR with STATUS, and what their summaries say was held back. */
static void
au_count(json_object *a, const char *who, int status, int *lines, long long *held, int *sums)
{
	*lines = 0;
	*held = 0;
	*sums = 0;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *o = json_object_array_get_idx(a, i);
		const char *u = jx_str(o, "user") ? jx_str(o, "user") : jx_str(o, "address");
		if (u == NULL || strcmp(u, who) != 0)
			u = jx_str(o, "addr");
		if (u == NULL || strcmp(u, who) != 0)
			continue;
		if (jx_str(o, "result") && strcmp(jx_str(o, "result"), "suppressed") == 0) {
			*held += jx_int(o, "suppressed", 0);
			(*sums)++;
		} else if (jx_int(o, "status", 0) == status) {
			(*lines)++;
		}
	}
}

static void
t_audit_budget(void)
{
	json_object *a;
	long long held;
	int lines, sums, ok, written;

	au_reset();
	g_cfg->audit.max_size = 1 << 20;
	g_cfg->audit.rate = 1;
	g_cfg->audit.burst = 5;
	mt_init(au_dir);
	au_submit_n("mallory", NULL, 40, 1);
	au_submit_n("mallory", NULL, 1, 0);
	au_submit_n("alice", NULL, 1, 1);
	au_submit_n(NULL, "2001:db8::1", 10, 1);
	au_submit_n(NULL, "2001:db8::2", 10, 1);
	a = au_all();
	au_count(a, "mallory", 404, &lines, &held, &sums);
	CHECK(lines >= 5 && lines < 20 && sums == 0,
	      "audit: refusals over the burst are held back, not written");
	json_object_put(a);
	au_flush(1);
	a = au_all();
	au_count(a, "mallory", 404, &lines, &held, &sums);
	CHECK(sums == 1 && lines + held == 40,
	      "audit: one summary line counts every refusal not written");
	au_count(a, "mallory", 200, &lines, &held, &sums);
	CHECK(lines == 1, "audit: the over-budget user's success is written all the same");
	au_count(a, "alice", 404, &lines, &held, &sums);
	CHECK(lines == 1 && sums == 0, "audit: another user's refusal is written");
	au_count(a, "2001:db8::/64", 404, &lines, &held, &sums);
	ok = sums == 1;
	written = 20 - (int)held;
	au_count(a, "2001:db8::1", 404, &lines, &held, &sums);
	ok &= lines >= 5;
	written -= lines;
	au_count(a, "2001:db8::2", 404, &lines, &held, &sums);
	CHECK(ok && written == lines && lines < 5,
	      "audit: anonymous callers of one /64 share a bucket");
	json_object_put(a);
	g_cfg->audit.rate = 0;
}

static void
t_audit(void)
{
	char err[256];

	g_cfg = conf_text("/tmp/berth-unit-dc.conf",
	                  "policy = { operator = { images = [\"*\"]; volumes = true; }; };\n", err,
	                  sizeof(err));
	unlink("/tmp/berth-unit-dc.conf");
	CHECK(g_cfg && mkdtemp(au_dir) != NULL && st_init(au_dir) == 0, "audit: state dir");
	if (g_cfg == NULL)
		return;
	g_cfg->audit.rate = 0;
	t_audit_read_end();
	t_audit_rotate();
	t_audit_writers();
	t_audit_shorten();
	t_audit_budget();
	au_reset();
	cfg_free(g_cfg);
	g_cfg = NULL;
}

/* Feeds a head line by line (CRLF-separated TEXT); returns hh_line's last answer. */
static int
head_of(struct hh *h, int request, const char *text)
{
	const char *p = text;
	int r = 0;

	hh_init(h, request);
	while (*p) {
		const char *e = strstr(p, "\r\n");
		size_t n = e ? (size_t)(e - p) : strlen(p);
		r = hh_line(h, p, n);
		if (r != 0)
			return r;
		p += n + (e ? 2 : 0);
	}
	return r;
}

struct collected {
	char buf[256];
	size_t n;
};

static int
collect_ck(const char *b, size_t n, void *arg)
{
	struct collected *c = arg;

	if (c->n + n >= sizeof(c->buf))
		return 1;
	memcpy(c->buf + c->n, b, n);
	c->n += n;
	c->buf[c->n] = '\0';
	return 0;
}

static void
t_relay_http(void)
{
	struct hh h;
	struct ck c;
	struct collected got;
	const char *body = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-T: 1\r\n\r\n";
	ssize_t used = 0;
	char tk[400], err[64];
	json_object *o;

	CHECK(head_of(&h, 1,
	              "GET /.berth-relay/ab HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
	              "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: k==\r\n\r\n") == 1 &&
	          strcmp(h.target, "/.berth-relay/ab") == 0 && h.upgrade &&
	          strcmp(h.upgrade_to, "websocket") == 0 && strcmp(h.ws_key, "k==") == 0,
	      "relay: request head with an upgrade");
	CHECK(head_of(&h, 1, "GET /x HTTP/1.1\r\nUpgrade: websocket\r\n\r\n") == 1 && !h.upgrade,
	      "relay: Upgrade without Connection: upgrade is no upgrade");
	CHECK(head_of(&h, 1, "GET /x\r\n\r\n") == -1,
	      "relay: request line without version refused");
	CHECK(head_of(&h, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") == 1 &&
	          h.status == 200 && h.chunked && h.clen == -1,
	      "relay: chunked response head");
	CHECK(head_of(&h, 0, "HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\n\r\n") == 1 &&
	          h.status == 404 && h.clen == 12,
	      "relay: header names in any case");
	CHECK(head_of(&h, 0, "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n") == -1,
	      "relay: negative Content-Length refused");
	CHECK(head_of(&h, 0, "HTTP/1.1 2x0 OK\r\n\r\n") == -1, "relay: bad status refused");
	CHECK(head_of(&h, 0, "HTTP/1.1 200 OK\r\nbroken\r\n\r\n") == -1,
	      "relay: header without a colon refused");

	/* Every split of a chunked body decodes the same. */
	int same = 1;
	for (size_t cut = 0; cut <= strlen(body); cut++) {
		memset(&c, 0, sizeof(c));
		memset(&got, 0, sizeof(got));
		used = ck_feed(&c, body, cut, collect_ck, &got);
		if (used == (ssize_t)cut)
			used += ck_feed(&c, body + cut, strlen(body) - cut, collect_ck, &got);
		same &=
		    c.done && used == (ssize_t)strlen(body) && strcmp(got.buf, "hello, world") == 0;
	}
	CHECK(same, "relay: chunked body decoded the same at every split");
	memset(&c, 0, sizeof(c));
	CHECK(ck_feed(&c, "zz\r\n", 4, collect_ck, &got) == -1, "relay: bad chunk size refused");
	memset(&c, 0, sizeof(c));
	CHECK(ck_feed(&c, "ffffffffffffffffff\r\n", 20, collect_ck, &got) == -1,
	      "relay: oversized chunk size refused");
	memset(&c, 0, sizeof(c));
	CHECK(ck_feed(&c, "2\r\nabX\r\n", 9, collect_ck, &got) == -1,
	      "relay: chunk without its CRLF refused");

	snprintf(
	    tk, sizeof(tk),
	    "{\"id\":\"%s\",\"mode\":\"logs\",\"method\":\"GET\",\"path\":\"/containers/x/logs\","
	    "\"user\":\"alice\",\"rid\":\"r\",\"t\":1}",
	    "0123456789abcdef0123456789abcdef");
	CHECK(tk_parse(tk, strlen(tk), &o, err, sizeof(err)) == 0 && tk_mode(o) == TK_LOGS,
	      "relay: a ticket");
	json_object_put(o);
	CHECK(tk_parse("{\"id\":\"x\"}", 10, &o, err, sizeof(err)) == -1 && o == NULL,
	      "relay: ticket without a proper id refused");
	snprintf(tk, sizeof(tk),
	         "{\"id\":\"%s\",\"mode\":\"logs\",\"method\":\"GET\",\"path\":\"/x "
	         "HTTP/1.1\\r\\nX: y\","
	         "\"user\":\"alice\",\"rid\":\"r\",\"t\":1}",
	         "0123456789abcdef0123456789abcdef");
	CHECK(tk_parse(tk, strlen(tk), &o, err, sizeof(err)) == -1 && strstr(err, "path"),
	      "relay: ticket path that would split the request line refused");
	snprintf(tk, sizeof(tk),
	         "{\"id\":\"%s\",\"mode\":\"shell\",\"method\":\"GET\",\"path\":\"/x\","
	         "\"user\":\"alice\",\"rid\":\"r\",\"t\":1}",
	         "0123456789abcdef0123456789abcdef");
	CHECK(tk_parse(tk, strlen(tk), &o, err, sizeof(err)) == -1 && strstr(err, "mode"),
	      "relay: unknown ticket mode refused");
	snprintf(tk, sizeof(tk),
	         "{\"id\":\"%s\",\"mode\":\"build\",\"method\":\"POST\",\"path\":\"/build\","
	         "\"user\":\"alice\",\"rid\":\"r\",\"t\":1,\"body_file\":\"1-2-ab\"}",
	         "0123456789abcdef0123456789abcdef");
	CHECK(tk_parse(tk, strlen(tk), &o, err, sizeof(err)) == 0 && tk_mode(o) == TK_BUILD,
	      "relay: a build ticket with its body file");
	json_object_put(o);
	snprintf(tk, sizeof(tk),
	         "{\"id\":\"%s\",\"mode\":\"build\",\"method\":\"POST\",\"path\":\"/build\","
	         "\"user\":\"alice\",\"rid\":\"r\",\"t\":1,\"body_file\":\"x\",\"body\":\"y\"}",
	         "0123456789abcdef0123456789abcdef");
	CHECK(tk_parse(tk, strlen(tk), &o, err, sizeof(err)) == -1 && strstr(err, "body_file"),
	      "relay: a ticket with both a body and a body file refused");
}

/* ---- Docker create bodies (issue 20): src/doors/dockcreate.c */

/* Classifies TEXT; B_OK leaves the result in *OUT, else O keeps the refusal. */
static enum berr
dc_run(const char *text, const char *name, struct op *o, struct dc_create *out)
{
	char err[160];
	json_object *body = jx_parse(text, strlen(text), err, sizeof(err));
	enum berr e;

	op_init(o, "alice", ROLE_OPERATOR);
	if (body == NULL) {
		printf("# dockcreate: test body does not parse: %s\n", err);
		return B_INTERNAL;
	}
	e = dc_classify(o, body, name, out);
	json_object_put(body);
	return e;
}

/* JSON text A and B are the same value (member order aside). */
static int
same_json(json_object *a, const char *b)
{
	char err[160];
	json_object *o = jx_parse(b, strlen(b), err, sizeof(err));
	int eq = o && json_object_equal(a, o);

	if (!eq)
		printf("# got %s\n# want %s\n", jx_text(a), b);
	json_object_put(o);
	return eq;
}

/* What each real client's body becomes: berth's spec and what is left pending. */
static const struct {
	const char *client, *spec, *pending;
} dc_expect[] = {
    {"cli-run-d",
     "{\"image\":\"facade/bb:1\",\"command\":[\"httpd\",\"-f\",\"-p\",\"80\"],\"restart\":\"no\","
     "\"ports\":[{\"container\":80,\"host\":8080}],\"name\":\"facade-web\",\"start\":false}",
     "{}"},
    {"cli-run-rm",
     "{\"image\":\"facade/bb:1\",\"command\":[\"echo\",\"hello\"],\"restart\":\"no\","
     "\"auto_remove\":true,\"start\":false}",
     "{}"},
    {"cli-run-tick",
     "{\"image\":\"facade/bb:1\",\"command\":[\"sh\",\"-c\",\"while true; do date; sleep 1; "
     "done\"],\"restart\":\"no\",\"name\":\"facade-tick\",\"start\":false}",
     "{}"},
    {"cli28-run-d",
     "{\"image\":\"facade/bb:1\",\"command\":[\"httpd\",\"-f\",\"-p\",\"80\"],\"restart\":\"no\","
     "\"ports\":[{\"container\":80,\"host\":8080}],\"name\":\"facade-web28\",\"start\":false}",
     "{}"},
    {"cli28-run-rm",
     "{\"image\":\"facade/bb:1\",\"command\":[\"echo\",\"hello\"],\"restart\":\"no\","
     "\"auto_remove\":true,\"start\":false}",
     "{}"},
    {"compose-web", NULL, "{}"},
    {"compose-worker", NULL, "{}"},
    {"tc-start",
     "{\"image\":\"facade/bb:1\",\"command\":[\"httpd\",\"-f\",\"-p\",\"80\"],"
     "\"labels\":{\"org.testcontainers\":\"true\",\"org.testcontainers.lang\":\"node\","
     "\"org.testcontainers.version\":\"11.14.0\",\"org.testcontainers.session-id\":"
     "\"8d8fc7c73db8\"},\"ports\":[{\"container\":80}],\"start\":false}",
     "{}"},
};

static void
t_dockcreate_traces(void)
{
	struct sc_error se;
	char name[96];

	CHECK(sizeof(dc_expect) / sizeof(dc_expect[0]) == sizeof(dc_traces) / sizeof(dc_traces[0]),
	      "dockcreate: every trace body has its expectation");
	for (size_t i = 0; i < sizeof(dc_traces) / sizeof(dc_traces[0]); i++) {
		struct dc_create c;
		struct op o;
		enum berr e = dc_run(dc_traces[i].body, dc_traces[i].name, &o, &c);
		snprintf(name, sizeof(name), "dockcreate: %s body accepted", dc_traces[i].client);
		CHECK(e == B_OK, name);
		if (e != B_OK) {
			printf("# %s: %s\n", o.field, o.msg);
			op_done(&o);
			continue;
		}
		snprintf(name, sizeof(name), "dockcreate: %s mapped as expected",
		         dc_traces[i].client);
		CHECK(strcmp(dc_expect[i].client, dc_traces[i].client) == 0 &&
		          (dc_expect[i].spec == NULL || same_json(c.spec, dc_expect[i].spec)) &&
		          same_json(c.pending, dc_expect[i].pending),
		      name);
		snprintf(name, sizeof(name), "dockcreate: %s spec fits berth's container schema",
		         dc_traces[i].client);
		CHECK(sc_validate(&pol_container_schema, c.spec, &se) == 0, name);
		dc_create_free(&c);
		op_done(&o);
	}
}

/* docker-compose's web service: its own network, its named volume, its labels. */
static void
t_dockcreate_compose(void)
{
	struct dc_create c;
	struct op o;
	char f[64];

	if (dc_run(dc_traces[5].body, dc_traces[5].name, &o, &c) != B_OK) {
		CHECK(0, "dockcreate: compose web accepted");
		op_done(&o);
		return;
	}
	CHECK(same_json(
	          jx_get(c.spec, "mounts"),
	          "[{\"type\":\"volume\",\"source\":\"facadeproj_data\",\"target\":\"/data\"}]"),
	      "dockcreate: compose Binds volume:/data:rw is one of the owner's volumes, and "
	      "Volumes /data is not a second, anonymous one");
	CHECK(strcmp(jx_str(c.spec, "network"), "facadeproj_back") == 0,
	      "dockcreate: compose NetworkMode is the owner's network");
	CHECK(json_object_object_length(jx_obj(c.spec, "labels")) == 8 &&
	          strcmp(jx_str(jx_obj(c.spec, "labels"), "com.docker.compose.project"),
	                 "facadeproj") == 0,
	      "dockcreate: compose labels kept");
	CHECK(strcmp(dc_docker_field(&c, "mounts[0].source", f, sizeof(f)),
	             "HostConfig.Binds[0]") == 0 &&
	          strcmp(dc_docker_field(&c, "ports[0].host", f, sizeof(f)),
	                 "HostConfig.PortBindings[\"80/tcp\"][0]") == 0 &&
	          strcmp(dc_docker_field(&c, "labels", f, sizeof(f)), "Labels") == 0 &&
	          strcmp(dc_docker_field(&c, "owner", f, sizeof(f)), "owner") == 0,
	      "dockcreate: berth's spec fields name the Docker fields they came from");
	CHECK(same_json(jx_get(c.spec, "aliases"), "[\"web\"]") &&
	          strcmp(dc_docker_field(&c, "aliases", f, sizeof(f)),
	                 "NetworkingConfig.EndpointsConfig[\"facadeproj_back\"].Aliases") == 0,
	      "dockcreate: compose's endpoint Aliases mapped to aliases");
	jx_add_bool(c.pending, "Config.Domainname", 1);
	CHECK(dc_refuse_pending(&o, &c, (const char *const[]){"HostConfig.AutoRemove", NULL}) ==
	              B_INVALID &&
	          strstr(o.field, "Domainname"),
	      "dockcreate: a pending field the front door does not honour is refused by name");
	op_clear(&o);
	CHECK(dc_refuse_pending(&o, &c, (const char *const[]){"Config.*", NULL}) == B_OK,
	      "dockcreate: a pending field honoured by prefix passes");
	dc_create_free(&c);
	op_done(&o);
}

/* Bodies refused: the Docker field named, with the status. */
static const struct {
	const char *body, *field;
	enum berr e;
} dc_refusals[] = {
#define HC(x) "{\"Image\":\"a:1\",\"HostConfig\":{" x "}}"
    {HC("\"Privileged\":true"), "HostConfig.Privileged", B_FORBIDDEN},
    {HC("\"Binds\":[\"/:/host\"]"), "HostConfig.Binds[0]", B_FORBIDDEN},
    {HC("\"Binds\":[\"v:/a\",\"/var/run/docker.sock:/s\"]"), "HostConfig.Binds[1]", B_FORBIDDEN},
    {HC("\"Binds\":[\"/var/run:/r\"]"), "HostConfig.Binds[0]", B_FORBIDDEN},
    {HC("\"Binds\":[\"/srv/x:/x:rshared\"]"), "HostConfig.Binds[0]", B_FORBIDDEN},
    {HC("\"Binds\":[\"/srv/x:/x:Z\"]"), "HostConfig.Binds[0]", B_FORBIDDEN},
    {HC("\"Binds\":[\"/srv/x\"]"), "HostConfig.Binds[0]", B_BAD_REQUEST},
    {HC("\"PidMode\":\"host\""), "HostConfig.PidMode", B_FORBIDDEN},
    {HC("\"PidMode\":\"container:db\""), "HostConfig.PidMode", B_FORBIDDEN},
    {HC("\"IpcMode\":\"host\""), "HostConfig.IpcMode", B_FORBIDDEN},
    {HC("\"UTSMode\":\"host\""), "HostConfig.UTSMode", B_FORBIDDEN},
    {HC("\"UsernsMode\":\"host\""), "HostConfig.UsernsMode", B_FORBIDDEN},
    {HC("\"CgroupnsMode\":\"host\""), "HostConfig.CgroupnsMode", B_FORBIDDEN},
    {HC("\"Cgroup\":\"container:x\""), "HostConfig.Cgroup", B_FORBIDDEN},
    {HC("\"NetworkMode\":\"host\""), "HostConfig.NetworkMode", B_FORBIDDEN},
    {HC("\"NetworkMode\":\"container:other\""), "HostConfig.NetworkMode", B_FORBIDDEN},
    {HC("\"CapAdd\":[\"NET_BIND_SERVICE\",\"ALL\"]"), "HostConfig.CapAdd[1]", B_FORBIDDEN},
    {HC("\"SecurityOpt\":[\"seccomp=unconfined\"]"), "HostConfig.SecurityOpt[0]", B_FORBIDDEN},
    {HC("\"SecurityOpt\":[\"no-new-privileges\",\"apparmor:unconfined\"]"),
     "HostConfig.SecurityOpt[1]", B_FORBIDDEN},
    {HC("\"SecurityOpt\":[\"label=disable\"]"), "HostConfig.SecurityOpt[0]", B_FORBIDDEN},
    {HC("\"SecurityOpt\":[\"seccomp=/tmp/p.json\"]"), "HostConfig.SecurityOpt[0]", B_FORBIDDEN},
    {HC("\"MaskedPaths\":[]"), "HostConfig.MaskedPaths", B_FORBIDDEN},
    {HC("\"ReadonlyPaths\":[]"), "HostConfig.ReadonlyPaths", B_FORBIDDEN},
    {HC("\"VolumeDriver\":\"local-persist\""), "HostConfig.VolumeDriver", B_FORBIDDEN},
    {HC("\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"v\",\"Target\":\"/v\",\"VolumeOptions\":"
        "{\"DriverConfig\":{\"Name\":\"local\",\"Options\":{\"type\":\"none\",\"o\":\"bind\","
        "\"device\":\"/etc\"}}}}]"),
     "HostConfig.Mounts[0].VolumeOptions.DriverConfig", B_FORBIDDEN},
    {HC("\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv\",\"Target\":\"/s\",\"BindOptions\":"
        "{\"Propagation\":\"rslave\"}}]"),
     "HostConfig.Mounts[0].BindOptions.Propagation", B_FORBIDDEN},
    {HC("\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/var/run/docker.sock\",\"Target\":\"/s\"}]"),
     "HostConfig.Mounts[0]", B_FORBIDDEN},
    {HC("\"Mounts\":[{\"Type\":\"npipe\",\"Source\":\"x\",\"Target\":\"/s\"}]"),
     "HostConfig.Mounts[0]", B_FORBIDDEN},
    {HC("\"CgroupParent\":\"/\""), "HostConfig.CgroupParent", B_FORBIDDEN},
#define OPTS4 "nosuid,nodev,noexec,mode=1777,nosuid,nodev,noexec,mode=1777,"
    {HC("\"Tmpfs\":{\"/t\":\"" OPTS4 OPTS4 OPTS4 OPTS4 OPTS4 "size=1m\"}"),
     "HostConfig.Tmpfs[\"/t\"]", B_BAD_REQUEST},
#undef OPTS4
    {HC("\"Sysctls\":{\"net.ipv4.tcp_syncookies\":\"1\",\"kernel.core_pattern\":\"|/x\"}"),
     "HostConfig.Sysctls[\"kernel.core_pattern\"]", B_FORBIDDEN},
    {HC("\"DeviceRequests\":[{\"Driver\":\"nvidia\",\"Count\":-1}]"), "HostConfig.DeviceRequests",
     B_FORBIDDEN},
    {HC("\"DeviceCgroupRules\":[\"c *:* rwm\"]"), "HostConfig.DeviceCgroupRules", B_FORBIDDEN},
    {HC("\"LogConfig\":{\"Type\":\"syslog\",\"Config\":{}}"), "HostConfig.LogConfig.Type",
     B_FORBIDDEN},
    {HC("\"LogConfig\":{\"Type\":\"\",\"Config\":{\"syslog-address\":\"udp://x\"}}"),
     "HostConfig.LogConfig.Config[\"syslog-address\"]", B_FORBIDDEN},
    {HC("\"OomScoreAdj\":-500"), "HostConfig.OomScoreAdj", B_FORBIDDEN},
    {HC("\"PidsLimit\":-1"), "HostConfig.PidsLimit", B_FORBIDDEN},
    {HC("\"MemorySwap\":-1"), "HostConfig.MemorySwap", B_FORBIDDEN},
    {HC("\"Links\":[\"other:db\"]"), "HostConfig.Links", B_FORBIDDEN},
    {HC("\"VolumesFrom\":[\"other\"]"), "HostConfig.VolumesFrom", B_FORBIDDEN},
    {HC("\"Runtime\":\"runsc\""), "HostConfig.Runtime", B_FORBIDDEN},
    {HC("\"CpuRealtimeRuntime\":950000"), "HostConfig.CpuRealtimeRuntime", B_FORBIDDEN},
    {HC("\"CpusetCpus\":\"0-1\""), "HostConfig.CpusetCpus", B_FORBIDDEN},
    {HC("\"BlkioDeviceReadBps\":[{\"Path\":\"/dev/sda\",\"Rate\":1}]"),
     "HostConfig.BlkioDeviceReadBps", B_FORBIDDEN},
    {HC("\"OomKillDisable\":true"), "HostConfig.OomKillDisable", B_FORBIDDEN},
    {HC("\"KernelMemory\":1048576"), "HostConfig.KernelMemory", B_INVALID},
    {HC("\"NanoCpus\":1000000000,\"CpuQuota\":50000"), "HostConfig.NanoCpus", B_BAD_REQUEST},
    {HC("\"NanoCpus\":1000000000,\"CpuPeriod\":50000"), "HostConfig.NanoCpus", B_BAD_REQUEST},
    {HC("\"PortBindings\":{\"80/tcp\":[{\"HostPort\":\"8000-8010\"}]}"),
     "HostConfig.PortBindings[\"80/tcp\"][0].HostPort", B_INVALID},
    {HC("\"PortBindings\":{\"80/icmp\":[]}"), "HostConfig.PortBindings[\"80/icmp\"]",
     B_BAD_REQUEST},
    {HC("\"Privileged\":\"yes\""), "HostConfig.Privileged", B_BAD_REQUEST},
    {HC("\"Foo\":1"), "HostConfig.Foo", B_BAD_REQUEST},
    {HC("\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"/t\",\"Bar\":1}]"),
     "HostConfig.Mounts[0].Bar", B_BAD_REQUEST},
#undef HC
    {"{\"Image\":\"a:1\",\"Bogus\":1}", "Bogus", B_BAD_REQUEST},
    {"{\"Cmd\":[\"sh\"]}", "Image", B_BAD_REQUEST},
    {"{\"Image\":\"a:1\",\"OpenStdin\":\"yes\"}", "OpenStdin", B_BAD_REQUEST},
    {"{\"Image\":\"a:1\",\"MacAddress\":\"02:42:ac:11:00:02\"}", "MacAddress", B_FORBIDDEN},
    {"{\"Image\":\"a:1\",\"Env\":[\"A=1\",\"UNSET\"]}", "Env[1]", B_INVALID},
    {"{\"Image\":\"a:1\",\"Labels\":{\"ok\":\"1\",\"bad key\":\"2\"}}", "Labels", B_INVALID},
    {"{\"Image\":\"a:1\",\"HostConfig\":{\"NetworkMode\":\"n1\"},\"NetworkingConfig\":{"
     "\"EndpointsConfig\":{\"n1\":{\"IPAMConfig\":{\"IPv4Address\":\"10.0.0.9\"}}}}}",
     "NetworkingConfig.EndpointsConfig[\"n1\"].IPAMConfig.IPv4Address", B_FORBIDDEN},
    {"{\"Image\":\"a:1\",\"HostConfig\":{\"NetworkMode\":\"n1\"},\"NetworkingConfig\":{"
     "\"EndpointsConfig\":{\"n1\":{\"DriverOpts\":{\"x\":\"y\"}}}}}",
     "NetworkingConfig.EndpointsConfig[\"n1\"].DriverOpts", B_FORBIDDEN},
    {"{\"Image\":\"a:1\",\"HostConfig\":{\"NetworkMode\":\"n1\"},\"NetworkingConfig\":{"
     "\"EndpointsConfig\":{\"n2\":{}}}}",
     "NetworkingConfig.EndpointsConfig[\"n2\"]", B_BAD_REQUEST},
    {"{\"Image\":\"a:1\",\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{\"Zap\":1}}}}",
     "NetworkingConfig.EndpointsConfig[\"default\"].Zap", B_BAD_REQUEST},
    {"[1]", "", B_BAD_REQUEST},
};

static void
t_dockcreate_refusals(void)
{
	char name[200];

	for (size_t i = 0; i < sizeof(dc_refusals) / sizeof(dc_refusals[0]); i++) {
		struct dc_create c;
		struct op o;
		enum berr e = dc_run(dc_refusals[i].body, NULL, &o, &c);
		snprintf(name, sizeof(name), "dockcreate: %s refused (%d) naming it",
		         dc_refusals[i].field[0] ? dc_refusals[i].field : "a body not an object",
		         berr_status(dc_refusals[i].e));
		CHECK(e == dc_refusals[i].e && strcmp(o.field, dc_refusals[i].field) == 0 &&
		          strstr(o.msg, o.field) && c.spec == NULL,
		      name);
		if (e != dc_refusals[i].e || strcmp(o.field, dc_refusals[i].field) != 0)
			printf("# got %d %s: %s\n", berr_status(e), o.field, o.msg);
		dc_create_free(&c);
		op_done(&o);
	}
}

/* Mapped fields that the role's policy then gates, and the smaller mappings. */
static void
t_dockcreate_mapped(void)
{
	static const char body[] =
	    "{\"Image\":\"a:1\",\"Cmd\":\"echo hi there\",\"Env\":[\"A=1\"],\"User\":\"1000:1000\","
	    "\"AttachStdin\":true,\"OpenStdin\":true,\"StdinOnce\":true,"
	    "\"WorkingDir\":\"/w\",\"Volumes\":{\"/cache\":{}},\"HostConfig\":{"
	    "\"Memory\":67108864,\"NanoCpus\":1500000000,\"PidsLimit\":64,"
	    "\"CapAdd\":[\"cap_sys_admin\"],"
	    "\"Devices\":[{\"PathOnHost\":\"/dev/fuse\",\"PathInContainer\":\"\","
	    "\"CgroupPermissions\":\"rwm\"}],"
	    "\"Tmpfs\":{\"/run\":\"rw,noexec,size=16m\"},\"RestartPolicy\":{\"Name\":"
	    "\"on-failure\",\"MaximumRetryCount\":3},\"Init\":true,\"MaskedPaths\":null}}";
	struct dc_create c;
	struct pol_limits lim;
	struct cfg *saved = g_cfg;
	char err[256], f[64];
	struct op o;
	enum berr e = dc_run(body, "/web", &o, &c);

	CHECK(e == B_OK, "dockcreate: a body of mapped fields accepted");
	if (e != B_OK) {
		printf("# %s: %s\n", o.field, o.msg);
		op_done(&o);
		return;
	}
	CHECK(same_json(
	          c.spec,
	          "{\"image\":\"a:1\",\"command\":[\"echo hi there\"],\"env\":[\"A=1\"],"
	          "\"user\":\"1000:1000\",\"stdin\":true,\"workdir\":\"/w\",\"memory\":67108864,"
	          "\"pids\":64,\"cap_add\":[\"SYS_ADMIN\"],"
	          "\"devices\":[\"/dev/fuse:/dev/fuse:rwm\"],"
	          "\"mounts\":[{\"type\":\"tmpfs\",\"target\":\"/run\",\"size\":\"16m\"},"
	          "{\"type\":\"volume\",\"target\":\"/cache\"}],"
	          "\"restart\":\"on-failure\",\"init\":true,\"cpus\":1.5,\"name\":\"web\","
	          "\"start\":false}"),
	      "dockcreate: Cmd string, Env, User, stdin, WorkingDir, Memory, NanoCpus, PidsLimit, "
	      "CapAdd, "
	      "Devices, Tmpfs, Volumes, RestartPolicy and the name mapped");
	CHECK(same_json(c.pending, "{\"HostConfig.Tmpfs[\\\"/run\\\"]\":\"noexec\","
	                           "\"HostConfig.RestartPolicy.MaximumRetryCount\":3}"),
	      "dockcreate: tmpfs options and retry count pending, not dropped");
	/* The create path's policy gates what was mapped, naming the Docker field. */
	g_cfg = conf_text("/tmp/berth-unit-dc.conf",
	                  "policy = { operator = { images = [\"*\"]; volumes = true; }; };\n", err,
	                  sizeof(err));
	unlink("/tmp/berth-unit-dc.conf");
	e = g_cfg ? pol_check(&o, ROLE_OPERATOR, c.spec, 0, &lim) : B_INTERNAL;
	CHECK(e == B_FORBIDDEN &&
	          strcmp(dc_docker_field(&c, o.field, f, sizeof(f)), "HostConfig.CapAdd") == 0,
	      "dockcreate: CapAdd mapped to cap_add, refused by the default policy as "
	      "HostConfig.CapAdd");
	op_clear(&o);
	cfg_free(g_cfg);
	g_cfg = saved;
	dc_create_free(&c);
	op_done(&o);
	e = dc_run(
	    "{\"Image\":\"a:1\",\"HostConfig\":{\"CpuQuota\":50000,\"CpuPeriod\":100000,"
	    "\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"/t\",\"TmpfsOptions\":{\"SizeBytes\":"
	    "1048576}},{\"Type\":\"volume\",\"Source\":\"data\",\"Target\":\"/d\",\"ReadOnly\":"
	    "true}]},\"NetworkDisabled\":true}",
	    NULL, &o, &c);
	CHECK(e == B_OK && same_json(c.spec, "{\"image\":\"a:1\",\"mounts\":[{\"type\":\"tmpfs\","
	                                     "\"target\":\"/t\",\"size\":1048576},{\"type\":"
	                                     "\"volume\",\"source\":\"data\",\"target\":\"/d\","
	                                     "\"read_only\":true}],\"cpus\":0.5,\"network\":"
	                                     "\"none\",\"start\":false}"),
	      "dockcreate: CpuQuota/CpuPeriod, Mounts and NetworkDisabled mapped");
	dc_create_free(&c);
	op_done(&o);
	e = dc_run("{\"Image\":\"a:1\",\"HostConfig\":{\"NetworkMode\":\"bridge\"}}", NULL, &o, &c);
	CHECK(e == B_OK && strcmp(jx_str(c.spec, "network"), "bridge") == 0,
	      "dockcreate: NetworkMode bridge is berth's bridge (the policy decides)");
	dc_create_free(&c);
	op_done(&o);
	e = dc_run("{\"Image\":\"a:1\",\"HostConfig\":{\"NetworkMode\":\"default\"},"
	           "\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{}}}}",
	           NULL, &o, &c);
	CHECK(e == B_OK && jx_get(c.spec, "network") == NULL,
	      "dockcreate: NetworkMode default is the owner's own default network");
	dc_create_free(&c);
	op_done(&o);
	e = dc_run("{\"Image\":\"a:1\"}", "no/slash", &o, &c);
	CHECK(e == B_BAD_REQUEST && strcmp(o.field, "name") == 0,
	      "dockcreate: a name berth cannot take refused as name");
	op_done(&o);
}

static void
t_dockcreate(void)
{
	t_dockcreate_traces();
	t_dockcreate_compose();
	t_dockcreate_refusals();
	t_dockcreate_mapped();
}

/* The Docker door's filters parameter: both forms, unknown names, label matching. */
static void
t_dd_filters(void)
{
	static const char *const keys[] = {"label", "name", NULL};
	struct op o;
	json_object *f = NULL, *l = json_object_new_object();

	op_init(&o, "alice", ROLE_OPERATOR);
	CHECK(dd_filters_parse(&o, "{\"label\":[\"a=b\",\"c\"]}", keys, &f) == B_OK &&
	          json_object_array_length(dd_filter(f, "label")) == 2,
	      "filters: list form");
	jx_add_str(l, "a", "b");
	jx_add_str(l, "c", "");
	CHECK(f && dd_filter_labels(f, l), "filters: labels a=b and c match");
	jx_add_str(l, "a", "x");
	CHECK(f && !dd_filter_labels(f, l), "filters: a=x does not match a=b");
	json_object_put(f);
	CHECK(dd_filters_parse(&o, "{\"name\":{\"db\":true}}", keys, &f) == B_OK &&
	          dd_filter_is(f, "name", "db") && !dd_filter_is(f, "name", "web") &&
	          dd_filter_is(f, "label", "anything"),
	      "filters: map form");
	json_object_put(f);
	CHECK(dd_filters_parse(&o, "{\"until\":[\"1\"]}", keys, &f) == B_BAD_REQUEST && f == NULL &&
	          strstr(o.msg, "invalid filter 'until'"),
	      "filters: unknown name refused as dockerd does");
	op_clear(&o);
	CHECK(dd_filters_parse(&o, "{\"name\":[1]}", keys, &f) == B_BAD_REQUEST,
	      "filters: non-string value refused");
	op_clear(&o);
	CHECK(dd_filters_parse(&o, "[]", keys, &f) == B_BAD_REQUEST, "filters: not an object");
	op_clear(&o);
	CHECK(dd_filters_parse(&o, NULL, keys, &f) == B_OK && json_object_object_length(f) == 0,
	      "filters: absent is empty");
	json_object_put(f);
	json_object_put(l);
	op_done(&o);
}

/* Parses TEXT with the compose limits; the compact JSON (or "ERR:<msg>") into OUT. */
static const char *
yx_text(const char *text, char *out, size_t n)
{
	json_object *v, *lines;
	struct yx_error e;

	if (yx_parse(text, strlen(text), &yx_compose_limits, &v, &lines, &e) != 0) {
		snprintf(out, n, "ERR:%d:%s", e.line, e.msg);
		return out;
	}
	snprintf(out, n, "%s",
	         v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "null");
	json_object_put(v);
	json_object_put(lines);
	return out;
}

static void
t_yaml(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"a: 1\nb: x\n", "{\"a\":1,\"b\":\"x\"}"},
	    {"a: \"1\"\nb: '2'\nc: 0x1f\nd: 0o17\n", "{\"a\":\"1\",\"b\":\"2\",\"c\":31,\"d\":15}"},
	    {"a: true\nb: False\nc: yes\nd: ~\ne:\n",
	     "{\"a\":true,\"b\":false,\"c\":\"yes\",\"d\":null,\"e\":null}"},
	    {"a: 1.5\nb: 8080:80\nc: 1e3\n", "{\"a\":1.5,\"b\":\"8080:80\",\"c\":1000.0}"},
	    {"- a\n- [1, 2]\n- {k: v}\n", "[\"a\",[1,2],{\"k\":\"v\"}]"},
	    {"x: &d {a: 1, b: 2}\ny:\n  <<: *d\n  b: 3\n",
	     "{\"x\":{\"a\":1,\"b\":2},\"y\":{\"b\":3,\"a\":1}}"},
	    {"x: &v [1]\ny: *v\n", "{\"x\":[1],\"y\":[1]}"},
	    {"{\"json\": [1, \"two\", null]}", "{\"json\":[1,\"two\",null]}"},
	    {"a: !!str 12\n", "{\"a\":\"12\"}"},
	    {"a: |\n  line1\n  line2\n", "{\"a\":\"line1\\nline2\\n\"}"},
	    {"", "ERR:0:the document is empty"},
	    {"a: 1\na: 2\n", "ERR:2:key a appears twice"},
	    {"a: 1\n---\nb: 2\n", "ERR:2:only one YAML document is accepted (found a ---)"},
	    {"a: *nope\n", "ERR:1:alias *nope names no anchor before it"},
	    {"a: !custom x\n", "ERR:1:tag !custom is not supported"},
	    {"a: !!int x\n", "ERR:1:\"x\" is not a valid int"},
	    {"[a]: 1\n", "ERR:1:mapping keys must be plain strings"},
	    {"a: [1\n", NULL},
	};
	char buf[512], name[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		yx_text(cases[i].in, buf, sizeof(buf));
		snprintf(name, sizeof(name), "yaml case %zu", i);
		if (cases[i].want == NULL)
			CHECK(strncmp(buf, "ERR:", 4) == 0, name);
		else
			CHECK(strcmp(buf, cases[i].want) == 0, name);
		if (cases[i].want && strcmp(buf, cases[i].want) != 0)
			printf("#   got %s\n", buf);
	}
	/* A billion laughs: nine levels of ten aliases each, refused by count, fast. */
	{
		char bomb[2048];
		size_t n = (size_t)snprintf(bomb, sizeof(bomb), "a: &a [\"lol\"]\n");
		for (char c = 'b'; c <= 'j'; c++) {
			n += (size_t)snprintf(bomb + n, sizeof(bomb) - n, "%c: &%c [", c, c);
			for (int k = 0; k < 10; k++)
				n += (size_t)snprintf(bomb + n, sizeof(bomb) - n, "%s*%c",
				                      k ? "," : "", c - 1);
			n += (size_t)snprintf(bomb + n, sizeof(bomb) - n, "]\n");
		}
		yx_text(bomb, buf, sizeof(buf));
		CHECK(strstr(buf, "more than 20000 nodes") != NULL,
		      "yaml bomb refused by node count");
	}
	/* Deep nesting, in flow and through aliases, is refused by depth. */
	{
		char deep[256];
		memset(deep, '[', 100);
		deep[100] = '\0';
		yx_text(deep, buf, sizeof(buf));
		CHECK(strstr(buf, "nests deeper than 32") != NULL, "yaml deep nesting refused");
		snprintf(deep, sizeof(deep),
		         "a: &a [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]\nb: "
		         "[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]\n");
		yx_text(deep, buf, sizeof(buf));
		CHECK(strstr(buf, "nests deeper than 32") != NULL, "yaml alias nesting counted");
	}
	/* Size, and the key-path line map. */
	{
		struct yx_limits small = {.max_bytes = 8, .max_depth = 4, .max_nodes = 10};
		json_object *v, *lines;
		struct yx_error e;
		const char *doc = "services:\n  web:\n    image: x\n    ports:\n      - 80\n";
		CHECK(yx_parse("a: 123456789", 12, &small, &v, NULL, &e) == -1 &&
		          strstr(e.msg, "larger than 8") != NULL,
		      "yaml size bound");
		CHECK(yx_parse(doc, strlen(doc), &yx_compose_limits, &v, &lines, &e) == 0 &&
		          jx_int(lines, "services.web.image", 0) == 3 &&
		          jx_int(lines, "services.web.ports[0]", 0) == 5,
		      "yaml key lines");
		json_object_put(v);
		json_object_put(lines);
	}
}

/* The plan of compose TEXT (YAML) for stack "s" with VARS (JSON text or NULL); "ERR:<field>" on
 * refusal. */
static json_object *
cp_of(const char *text, const char *vars, char *err, size_t n)
{
	json_object *doc, *v = vars ? json_tokener_parse(vars) : NULL, *plan = NULL, *warn = NULL;
	struct yx_error ye;
	struct cp_error ce;

	err[0] = '\0';
	if (yx_parse(text, strlen(text), &yx_compose_limits, &doc, NULL, &ye) != 0) {
		snprintf(err, n, "YAML:%.150s", ye.msg);
	} else if (cp_plan("s", doc, v, &plan, &warn, &ce) != 0) {
		snprintf(err, n, "ERR:%.150s", ce.field);
	}
	json_object_put(doc);
	json_object_put(v);
	json_object_put(warn);
	return plan;
}

/* A Dockerfile scan: its references as dockerd reads them, or a refusal naming why. */
static const struct {
	const char *text, *refs, *err; /* refs: "F:ref" or "C:ref", '*' after a stage's */
} df_cases[] = {
    {"FROM scratch\nCOPY busybox /bin/busybox\n", "F:scratch*", NULL},
    {"from Alpine:3 as Build\nRUN make\nFROM x:1\ncopy --from=build /a /b\nCOPY --from=0 /a /c\n"
     "COPY --from=1 /a /d\nCOPY --chown=1 --from=other:2 /a /e\n",
     "F:Alpine:3 F:x:1 C:build* C:0* C:1 C:other:2", NULL},
    {"ARG BASE=a:1\nARG TAG\nFROM ${BASE}\nFROM b:${TAG:-9}\nFROM c:${TAG:+x}z\nFROM $BASE\n",
     "F:a:1 F:b:9 F:c:z F:a:1", NULL},
    {"ARG BASE=a:1\nFROM $BASE\n", "F:berth-test/x:2", NULL}, /* buildargs win */
    {"# escape=`\nFROM x:1 `\n  AS s\nRUN echo \\\nFROM s\n", "F:x:1 F:s*", NULL},
    {"FROM x:1\nRUN a \\\n# a comment inside\n  b\nONBUILD COPY --from=y:1 / /\n", "F:x:1 C:y:1",
     NULL},
    {"FROM --platform=linux/amd64 x:1 AS a\n", "F:x:1", NULL},
    {"FROM x:1\nADD http://169.254.169.254/ /m\n", NULL, "URL"},
    {"FROM x:1\nADD [\"git@github.com:a/b\", \"/b\"]\n", NULL, "git"},
    {"FROM x:1\nADD --chown=1 https://x/y /y\n", NULL, "URL"},
    {"FROM x:1\nADD a b /c\n", "F:x:1", NULL},
    {"FROM x:1\nCOPY --from=$IMG / /\n", NULL, "variable"},
    {"FROM ${X:=y}\n", NULL, "followed"},
    {"FROM $NONE\n", NULL, "no image"},
    {"RUN true\nFROM x:1\n", NULL, "before the first FROM"},
    {"# nothing\n", NULL, "no FROM"},
    {"FROM x:1 AS\n", NULL, "AS <name>"},
    {"FROM x:1\nONBUILD FROM y\n", NULL, "ONBUILD FROM"},
};

static void
t_dockerfile(void)
{
	json_object *ba = json_object_new_object();
	static struct df_scan s;
	char got[1024], name[96];

	for (size_t i = 0; i < sizeof(df_cases) / sizeof(df_cases[0]); i++) {
		const char *t = df_cases[i].text;
		json_object *args = strstr(t, "ARG BASE=a:1\nFROM $BASE\n") == t ? ba : NULL;
		int rc = df_scan(t, strlen(t), args, &s);
		size_t k = 0;

		json_object_object_add(ba, "BASE", json_object_new_string("berth-test/x:2"));
		snprintf(name, sizeof(name), "dockerfile %zu: %.40s", i, t);
		for (char *c = name; *c; c++)
			if (*c == '\n')
				*c = ' ';
		if (df_cases[i].err) {
			CHECK(rc != 0 && strstr(s.err, df_cases[i].err) != NULL, name);
			if (rc == 0 || !strstr(s.err, df_cases[i].err))
				printf("# got: %s\n", rc ? s.err : "accepted");
			continue;
		}
		got[0] = '\0';
		for (size_t j = 0; rc == 0 && j < s.nrefs; j++)
			k += (size_t)snprintf(got + k, sizeof(got) - k, "%s%s:%s%s", j ? " " : "",
			                      s.refs[j].kind == DF_FROM ? "F" : "C", s.refs[j].ref,
			                      s.refs[j].is_stage ? "*" : "");
		CHECK(rc == 0 && strcmp(got, df_cases[i].refs) == 0, name);
		if (rc != 0 || strcmp(got, df_cases[i].refs) != 0)
			printf("# got: %s\n", rc ? s.err : got);
	}
	json_object_put(ba);
	{
		static const char text[] =
		    "ARG V=1\nFROM mine:1 AS a\nFROM x:1\nCOPY --chown=1 \\\n"
		    "  --from=mine:2 /a /b\nFROM $V\n";
		const char *to[DF_MAX_REFS] = {"berth.a.1/mine:1", NULL, "berth.a.1/mine:2"};
		char *out = NULL;
		size_t olen;
		int rc = df_scan(text, strlen(text), NULL, &s);
		CHECK(rc == 0 && df_rewrite(text, strlen(text), &s, to, &out, &olen) == 0 && out &&
		          strcmp(out,
		                 "ARG V=1\nFROM berth.a.1/mine:1 AS a\nFROM x:1\nCOPY --chown=1 "
		                 "\\\n  --from=berth.a.1/mine:2 /a /b\nFROM $V\n") == 0,
		      "dockerfile rewrite: FROM and a --from on a continuation line, nothing else");
		free(out);
		out = NULL;
		const char *var[DF_MAX_REFS] = {NULL, NULL, NULL, "berth.a.1/one:1"};
		rc = df_scan(text, strlen(text), NULL, &s);
		CHECK(rc == 0 && df_rewrite(text, strlen(text), &s, var, &out, &olen) != 0 &&
		          strstr(s.err, "not written out") && s.line == 6,
		      "dockerfile rewrite: a reference through a variable is refused, naming its "
		      "line");
		free(out);
	}
}

static void
t_compose(void)
{
	static const struct {
		const char *in, *field;
	} refused[] = {
	    {"services:\n  web:\n    image: a:1\n    privileged: true\n",
	     "services.web.privileged"},
	    {"services:\n  web:\n    image: a:1\n    network_mode: host\n",
	     "services.web.network_mode"},
	    {"services:\n  web:\n    image: a:1\n    deploy: {mode: global}\n",
	     "services.web.deploy.mode"},
	    {"services:\n  web:\n    image: a:1\n    healthcheck: {test: x, start_interval: 1s}\n",
	     "services.web.healthcheck.start_interval"},
	    {"services:\n  web:\n    image: a:1\n    healthcheck: {test: x, interval: soon}\n",
	     "services.web.healthcheck.interval"},
	    {"services:\n  web:\n    image: a:1\n    ports: [\"1-2:1-2\"]\n",
	     "services.web.ports[0]"},
	    {"services:\n  web:\n    image: a:1\n    volumes: [\"d:/d\"]\n",
	     "services.web.volumes[0]"},
	    {"services:\n  web:\n    image: a:1\n    networks: [a, b]\nnetworks: {a: {}, b: {}}\n",
	     "services.web.networks"},
	    {"services:\n  web:\n    image: a:1\n    labels: {com.docker.compose.project: x}\n",
	     "services.web.labels"},
	    {"services:\n  web:\n    image: a:1\n    environment: {A: \"${X:?need X}\"}\n",
	     "services.web.environment.A"},
	    {"services:\n  web:\n    command: x\n", "services.web"},
	    {"services:\n  web:\n    image: a:1\n    depends_on: [nope]\n",
	     "services.web.depends_on.nope"},
	    {"services: {}\n", "services"},
	    {"services:\n  web: {image: a:1}\nconfigs: {}\n", "configs"},
	    {"name: other\nservices:\n  web: {image: a:1}\n", "name"},
	};
	char err[200], name[200];
	json_object *p;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		p = cp_of(refused[i].in, "{\"X\":\"\"}", err, sizeof(err));
		snprintf(name, sizeof(name), "compose refuses %s", refused[i].field);
		CHECK(p == NULL && strcmp(err + 4, refused[i].field) == 0, name);
		if (p || strcmp(err + 4, refused[i].field))
			printf("#   got %s\n", err);
		json_object_put(p);
	}
	p = cp_of(
	    "x-img: &img a:1\nversion: \"3.9\"\nservices:\n"
	    "  web:\n    image: *img\n    command: \"echo ${G:-hi} $$HOME $U\"\n"
	    "    ports: [\"127.0.0.1:8080:80/udp\", 81, {target: 82, published: \"9000\"}]\n"
	    "    volumes: [\"data:/data:ro\", /anon, \"/srv:/srv\"]\n"
	    "    depends_on: {db: {condition: service_healthy}}\n"
	    "    deploy: {replicas: 2, resources: {limits: {memory: 64m, cpus: \"0.5\"}}}\n"
	    "  db:\n    image: *img\n    environment: [A=1, B]\n"
	    "    healthcheck: {test: [CMD, true], interval: 1m30s, timeout: 500ms, retries: 2}\n"
	    "volumes:\n  data:\n",
	    "{\"U\":\"me\"}", err, sizeof(err));
	CHECK(p != NULL, "compose plan of a full file");
	if (p) {
		json_object *web = jx_obj(jx_obj(p, "services"), "web");
		json_object *ws = jx_obj(web, "spec"),
		            *db = jx_obj(jx_obj(jx_obj(p, "services"), "db"), "spec");
		CHECK(strcmp(jx_text(jx_arr(p, "order")), "[\"db\",\"web\"]") == 0,
		      "compose order: dependencies first");
		CHECK(strcmp(jx_str(ws, "command"), "echo hi $HOME me") == 0,
		      "compose interpolation");
		CHECK(strcmp(jx_text(jx_arr(ws, "ports")),
		             "[{\"container\":80,\"host\":8080,\"ip\":\"127.0.0.1\",\"protocol\":"
		             "\"udp\"},"
		             "{\"container\":81},{\"container\":82,\"host\":9000}]") == 0,
		      "compose ports");
		CHECK(strcmp(jx_text(jx_arr(ws, "mounts")),
		             "[{\"type\":\"volume\",\"source\":\"s_data\",\"target\":\"/"
		             "data\",\"read_only\":true},"
		             "{\"type\":\"volume\",\"target\":\"/anon\"},"
		             "{\"type\":\"bind\",\"source\":\"/srv\",\"target\":\"/srv\"}]") == 0,
		      "compose volumes: named in the stack, anonymous, bind");
		CHECK(strcmp(jx_str(ws, "network"), "s_default") == 0,
		      "compose: the default network");
		CHECK(jx_int(web, "replicas", 0) == 2 && strcmp(jx_str(ws, "memory"), "64m") == 0,
		      "compose deploy: replicas and limits");
		CHECK(strcmp(jx_text(jx_obj(db, "env")), "{\"A\":\"1\"}") == 0,
		      "compose env list, passthrough left out");
		CHECK(strcmp(jx_text(jx_obj(db, "healthcheck")),
		             "{\"test\":[\"CMD\",\"true\"],\"interval\":90.0,\"timeout\":0.5,"
		             "\"retries\":2}") == 0,
		      "compose healthcheck durations");
		CHECK(strlen(jx_str(web, "hash")) == 64, "compose config hash");
		CHECK(strcmp(jx_str(jx_obj(web, "origin"), "memory"),
		             "services.web.deploy.resources.limits.memory") == 0,
		      "compose origin of a spec field");
		cp_origin(jx_obj(web, "origin"), "web", "mounts[2].source", err, sizeof(err));
		CHECK(strcmp(err, "services.web.volumes[2]") == 0,
		      "cp_origin maps a spec field to its key");
	}
	json_object_put(p);
}

int
main(void)
{
	mod_register(); /* the modules' record folders and config checks, as berth-fcgi does */
	t_names();
	t_sizes();
	t_json();
	t_drop_members();
	t_decode();
	t_route();
	t_schema_validate();
	t_member_names();
	t_config();
	t_state();
	t_leases();
	t_tarball();
	t_canonical();
	t_resolve();
	t_path_config();
	t_audit();
	t_relay_http();
	t_dockcreate();
	t_dd_filters();
	t_yaml();
	t_compose();
	t_dockerfile();
	printf("# unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

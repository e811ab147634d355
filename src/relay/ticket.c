/*
 * ticket.c - minting (worker side) and checking (relay side) stream tickets;
 * see ticket.h.
 */
#include "berth.h"
#include "relay/ticket.h"
#include "edge/route.h"
#include "edge/req.h"
#include "lib/json.h"
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

int tk_fd = -1;

static const char *const modes[TK__COUNT] = {"logs", "raw",  "exec",  "events",
                                             "tty",  "wait", "sleep", "build"};

static void
new_id(char *id)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];

	/* getrandom blocks only before the pool is ready at boot, long before berth. */
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw))
			memset(raw, 0, sizeof(raw)); /* then the send below is refused too */
		if (fd >= 0)
			close(fd);
	}
	for (int i = 0; i < 16; i++) {
		id[2 * i] = hex[raw[i] >> 4];
		id[2 * i + 1] = hex[raw[i] & 15];
	}
	id[32] = '\0';
}

enum berr
tk_hand_off(struct req *r, json_object *tk)
{
	char id[33], uri[sizeof(TK_HELD) + 33];
	int held = jx_bool(tk, "held", 0);
	const char *s;
	size_t n;
	ssize_t w;

	if (tk_fd < 0) {
		json_object_put(tk);
		return op_fail(&r->op, B_DOCKER_DOWN, NULL,
		               "streams need berth-fcgi's relay, which is not running "
		               "(berth.conf streams.socket; see berth-fcgi(8))");
	}
	new_id(id);
	jx_add_str(tk, "id", id);
	jx_add_str(tk, "user", r->op.user ? r->op.user : "");
	jx_add_bool(tk, "admin", r->op.role == ROLE_ADMIN);
	jx_add_str(tk, "rid", r->id);
	/* A door with a listener of its own: the relay answers its errors that door's way. */
	if (r->door && r->door->modules)
		jx_add_str(tk, "door", r->door->name);
	jx_add_int(tk, "t", b_wall_ms());
	s = jx_text(tk);
	n = strlen(s);
	do
		w = n < TK_MAX_SIZE ? send(tk_fd, s, n, 0) : -1;
	while (w < 0 && errno == EINTR);
	json_object_put(tk);
	if (w != (ssize_t)n) {
		log_warn("ticket_send_failed error=\"%s\"", strerror(errno));
		return op_fail(&r->op, B_DOCKER_DOWN, NULL,
		               "the stream relay did not take the stream");
	}
	snprintf(uri, sizeof(uri), "%s%s", held ? TK_HELD : TK_PREFIX, id);
	rq_redirect(r, uri);
	return B_OK;
}

json_object *
tk_new(const char *mode, const char *method, const char *path)
{
	json_object *tk = json_object_new_object();

	jx_add_str(tk, "mode", mode);
	jx_add_str(tk, "method", method);
	jx_add_str(tk, "path", path);
	return tk;
}

enum tk_mode
tk_mode(json_object *tk)
{
	const char *m = jx_str(tk, "mode");

	for (int i = 0; m && i < TK__COUNT; i++)
		if (strcmp(m, modes[i]) == 0)
			return (enum tk_mode)i;
	return TK__COUNT;
}

/* A Docker API path as it goes into a request line: printable, no blanks. */
static int
path_ok(const char *p)
{
	size_t n = p ? strlen(p) : 0;

	if (n < 2 || n > 4096 || p[0] != '/')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f)
			return 0;
	return 1;
}

static int
hex32(const char *s)
{
	if (s == NULL || strlen(s) != 32)
		return 0;
	for (int i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
tk_parse(const char *buf, size_t n, json_object **out, char *err, size_t errlen)
{
	json_object *tk = jx_parse(buf, n, err, errlen);
	const char *why = NULL, *m;

	*out = NULL;
	if (tk == NULL)
		return -1;
	m = jx_str(tk, "method");
	if (!json_object_is_type(tk, json_type_object))
		why = "not an object";
	else if (!hex32(jx_str(tk, "id")))
		why = "id";
	else if (tk_mode(tk) == TK__COUNT)
		why = "mode";
	else if (m == NULL || (strcmp(m, "GET") && strcmp(m, "POST")))
		why = "method";
	else if (!path_ok(jx_str(tk, "path")))
		why = "path";
	else if (jx_str(tk, "user") == NULL || jx_str(tk, "rid") == NULL)
		why = "user";
	else if (!json_object_is_type(jx_get(tk, "t"), json_type_int))
		why = "t";
	else if (jx_get(tk, "body") && !json_object_is_type(jx_get(tk, "body"), json_type_string))
		why = "body";
	else if (jx_str(tk, "ctype") && strpbrk(jx_str(tk, "ctype"), "\r\n"))
		why = "ctype";
	/* A body_file's name is checked again where it is opened (st_spool_take). */
	else if (jx_get(tk, "body_file") &&
	         (!json_object_is_type(jx_get(tk, "body_file"), json_type_string) ||
	          jx_get(tk, "body")))
		why = "body_file";
	if (why) {
		snprintf(err, errlen, "ticket: bad %s", why);
		json_object_put(tk);
		return -1;
	}
	*out = tk;
	return 0;
}

/*
 * tests/fakedocker.c - a dockerd that misbehaves on demand, for
 * tests/integ/faults.sh only (the real dockerd is used everywhere else).
 * It serves the Engine API on a unix socket, one forked child per
 * connection.  Before each answer it reads its mode, one word, from a
 * file, so a test switches faults by writing that word; the replies of
 * mode M are data, in DIR/M.replies, and whatever they do not answer is
 * answered from DIR/ok.replies (tests/data/fakedocker/README.md).
 *
 * A replies file is a list of
 *
 *   === METHOD PATH-GLOB          (* for any method; fnmatch(3) on the path,
 *                                  without /v1.NN and the query)
 *   HTTP/1.1 200 OK               the reply as sent: status line, headers,
 *   Content-Type: ...             a blank line, the body (up to the next
 *                                 ===, without its last line break)
 *   {...}
 *
 * or, instead of a reply, one of the behaviours only code can have:
 *
 *   !hang SECONDS   reads the request, answers nothing until the mode
 *                   changes or SECONDS pass
 *   !huge MIB       200 with a JSON array of MIB MiB (and a little more)
 *
 * In a reply, ${id} is the path's second segment (the container of
 * /containers/ID/json), ${instance} the INSTANCE argument and \xNN a byte.
 * Content-Length (the body's) and "Connection: close" are added when the
 * reply does not have them; a Content-Length larger than the body makes a
 * reply that stops short.  The first === line that matches answers.
 *
 * usage: fakedocker SOCKET MODEFILE INSTANCE DIR
 */
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FILE (1 << 20)

static const char *modefile, *instance, *datadir;

static void
mode(char *buf, size_t n)
{
	FILE *f = fopen(modefile, "r");

	snprintf(buf, n, "ok");
	if (f == NULL)
		return;
	if (fgets(buf, (int)n, f) == NULL)
		snprintf(buf, n, "ok");
	buf[strcspn(buf, " \r\n")] = '\0';
	fclose(f);
}

static void
put(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			_exit(0);
		p += w;
		n -= (size_t)w;
	}
}

/* The whole of DIR/NAME.replies, NUL-ended; NULL when there is none. */
static char *
slurp(const char *name)
{
	char path[4096], *buf;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.replies", datadir, name);
	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	buf = malloc(MAX_FILE + 1);
	n = buf ? fread(buf, 1, MAX_FILE, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* Whether the === LINE of a replies file matches METHOD and PATH. */
static int
matches(const char *line, const char *method, const char *path)
{
	char m[16], glob[512];

	if (sscanf(line, "=== %15s %511s", m, glob) != 2)
		return 0;
	return (strcmp(m, "*") == 0 || strcmp(m, method) == 0) && fnmatch(glob, path, 0) == 0;
}

/*
 * In FILE, the reply of the first === line matching METHOD and PATH: sets
 * *LEN to its length and returns where it starts, or NULL.
 */
static const char *
find_reply(const char *file, const char *method, const char *path, size_t *len)
{
	const char *line = file, *start = NULL, *next;

	while (*line) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (strncmp(line, "===", 3) == 0) {
			if (start) /* the next === ends the reply */
				break;
			if (matches(line, method, path))
				start = next;
		}
		line = next;
	}
	if (start)
		*len = (size_t)(line - start);
	return start;
}

/* TEXT (LEN bytes) with ${id}, ${instance} and \xNN replaced, into OUT (CAP bytes): the length. */
static size_t
expand(const char *text, size_t len, const char *id, char *out, size_t cap)
{
	size_t o = 0, i = 0;

	while (i < len && o < cap) {
		const char *v = NULL;
		unsigned int byte;

		if (len - i >= 5 && strncmp(text + i, "${id}", 5) == 0) {
			v = id;
			i += 5;
		} else if (len - i >= 11 && strncmp(text + i, "${instance}", 11) == 0) {
			v = instance;
			i += 11;
		}
		if (v) {
			size_t n = strlen(v) < cap - o ? strlen(v) : cap - o;
			memcpy(out + o, v, n);
			o += n;
		} else if (len - i >= 4 && text[i] == '\\' && text[i + 1] == 'x' &&
		           sscanf(text + i + 2, "%2x", &byte) == 1) {
			out[o++] = (char)byte;
			i += 4;
		} else {
			out[o++] = text[i++];
		}
	}
	return o;
}

/* Whether the header block HEAD (LEN bytes) has a header NAME. */
static int
has_header(const char *head, size_t len, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = head; p && p < head + len; p = memchr(p, '\n', head + len - p)) {
		if (*p == '\n')
			p++;
		if ((size_t)(head + len - p) > n && strncasecmp(p, name, n) == 0)
			return 1;
	}
	return 0;
}

/* Sends the reply REPLY (LEN bytes of a replies file) for the container ID. */
static void
send_reply(int fd, const char *reply, size_t len, const char *id)
{
	static char body[MAX_FILE], head[8192];
	const char *sep = memmem(reply, len, "\n\n", 2), *end = reply + len;
	const char *head_end = sep ? sep : end;
	size_t hn = 0, bn = 0;
	char extra[128];

	while (head_end > reply && head_end[-1] == '\n')
		head_end--;
	/* The header block as sent: every line break a CRLF. */
	for (const char *p = reply; p < head_end && hn + 2 < sizeof(head); p++) {
		if (*p == '\n')
			head[hn++] = '\r';
		head[hn++] = *p;
	}
	if (sep) {
		if (end > sep + 2 && end[-1] == '\n')
			end--; /* the line break before the next === is not the body's */
		bn = expand(sep + 2, (size_t)(end - sep - 2), id, body, sizeof(body));
	}
	head[hn] = '\0';
	put(fd, head, hn);
	put(fd, "\r\n", 2);
	if (!has_header(head, hn, "Content-Length:")) {
		snprintf(extra, sizeof(extra), "Content-Length: %zu\r\n", bn);
		put(fd, extra, strlen(extra));
	}
	if (!has_header(head, hn, "Connection:"))
		put(fd, "Connection: close\r\n", 19);
	put(fd, "\r\n", 2);
	put(fd, body, bn);
}

/* !hang: silent until the mode changes (or SECONDS), so no child lingers. */
static void
hang(int seconds)
{
	char now[32], m[32];

	mode(now, sizeof(now));
	snprintf(m, sizeof(m), "%s", now);
	for (int i = 0; i < seconds * 10 && strcmp(m, now) == 0; i++) {
		usleep(100000);
		mode(m, sizeof(m));
	}
}

/* !huge: a JSON array of MIB MiB of {} and a little more. */
static void
huge(int fd, int mib)
{
	static char chunk[1 << 16];
	size_t total = (size_t)mib << 20, sent = 0;
	char head[256];

	for (size_t i = 0; i < sizeof(chunk); i += 4)
		memcpy(chunk + i, "{},\n", 4);
	snprintf(head, sizeof(head),
	         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
	         "Connection: close\r\n\r\n[",
	         total + 3);
	put(fd, head, strlen(head));
	while (sent < total) {
		put(fd, chunk, sizeof(chunk));
		sent += sizeof(chunk);
	}
	put(fd, "{}]", 3);
}

/* Does what REPLY says: a named behaviour, or a reply sent as written. */
static void
act(int fd, const char *reply, size_t len, const char *id)
{
	int n = 0;

	if (sscanf(reply, "!hang %d", &n) == 1)
		hang(n);
	else if (sscanf(reply, "!huge %d", &n) == 1)
		huge(fd, n);
	else if (reply[0] == '!')
		fprintf(stderr, "fakedocker: unknown behaviour %.*s\n", (int)strcspn(reply, "\n"),
		        reply);
	else
		send_reply(fd, reply, len, id);
}

/* Reads the request head (and discards any body); fills METHOD and PATH. */
static int
read_request(int fd, char *method, char *path)
{
	char buf[16384], *end, *cl;
	size_t len = 0;
	long body = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
		if (len == sizeof(buf) - 1)
			return -1;
	}
	if (sscanf(buf, "%15s %1023s", method, path) != 2)
		return -1;
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl && cl < end)
		body = strtol(cl + 17, NULL, 10);
	body -= (long)(len - (size_t)(end + 4 - buf));
	while (body > 0) {
		ssize_t n = read(fd, buf, sizeof(buf) < (size_t)body ? sizeof(buf) : (size_t)body);
		if (n <= 0)
			break;
		body -= n;
	}
	return 0;
}

static void
serve(int fd)
{
	static const char none[] =
	    "HTTP/1.1 404 X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	char method[16], path[1024], m[32], id[80] = "fake0123456789";
	char *p, *q, *file = NULL, *fallback = NULL;
	const char *reply = NULL;
	size_t len = 0;

	if (read_request(fd, method, path) != 0)
		return;
	mode(m, sizeof(m));
	/* Matched without the version prefix and the query. */
	p = path;
	if (strncmp(p, "/v1.", 4) == 0 && (q = strchr(p + 1, '/')) != NULL)
		p = q;
	p[strcspn(p, "?")] = '\0';
	if ((q = strchr(p + 1, '/')) != NULL)
		sscanf(q + 1, "%79[^/]", id);
	if ((file = slurp(m)) == NULL)
		fprintf(stderr, "fakedocker: no %s/%s.replies\n", datadir, m);
	else
		reply = find_reply(file, method, p, &len);
	if (reply == NULL && (fallback = slurp("ok")) != NULL)
		reply = find_reply(fallback, method, p, &len);
	if (reply)
		act(fd, reply, len, id);
	else
		put(fd, none, sizeof(none) - 1);
	free(file);
	free(fallback);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int lfd;

	if (argc != 5 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: fakedocker SOCKET MODEFILE INSTANCE DIR\n");
		return 2;
	}
	modefile = argv[2];
	instance = argv[3];
	datadir = argv[4];
	signal(SIGCHLD, SIG_IGN); /* children reaped by the kernel */
	signal(SIGPIPE, SIG_IGN);
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 64) != 0) {
		perror("fakedocker");
		return 1;
	}
	chmod(argv[1], 0666);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("fakedocker: accept");
			return 1;
		}
		if (fork() == 0) {
			close(lfd);
			serve(fd);
			shutdown(fd, SHUT_RDWR);
			close(fd);
			_exit(0);
		}
		close(fd);
	}
}

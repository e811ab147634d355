/*
 * tests/fakedocker.c - a dockerd that misbehaves on demand, for
 * tests/integ/faults.sh only (the real dockerd is used everywhere else).
 * It serves the Engine API paths berth uses on a unix socket, one forked
 * child per connection, and before each answer reads its mode from a file,
 * so a test switches faults by writing one word:
 *
 *   ok         plausible answers (_ping, version, container and image lists, inspect,
 *              lifecycle 204, logs as two multiplexed frames)
 *   500        every call answers 500 {"message": "fake dockerd failure"}
 *   hang       reads the request and answers nothing (until the mode changes)
 *   close      promises 1000 bytes, sends 100, closes
 *   truncated  200 with a cut-off JSON body
 *   garbage    200 with an HTML body
 *   huge       200 with a 70 MiB JSON array (berth caps replies at 64 MiB)
 *   noname     inspect results without "Name" (and lifecycle 204)
 *   logclose   logs: one frame, then the connection drops mid-frame
 *   rmfail     as ok, but removing a container answers 500
 *
 * In every mode a create answers 201 with a new id and inspect results carry
 * berth's labels and a recorded spec, so a recreate (PATCH) runs through.
 *
 * usage: fakedocker SOCKET MODEFILE INSTANCE
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *modefile, *instance;

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

static void
answer(int fd, int status, const char *ctype, const char *body)
{
	char head[256];
	size_t n = strlen(body);

	snprintf(head, sizeof(head),
	         "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	         "Connection: close\r\nApi-Version: 1.41\r\n\r\n",
	         status, ctype, n);
	put(fd, head, strlen(head));
	put(fd, body, n);
}

static void
inspect(int fd, const char *id, int with_name)
{
	char body[2048];

	snprintf(body, sizeof(body),
	         "{\"Id\":\"%s\",%s\"Created\":\"2024-01-01T00:00:00Z\",\"Image\":\"sha256:00\","
	         "\"State\":{\"Status\":\"running\",\"Running\":true,\"ExitCode\":0},"
	         "\"Config\":{\"Image\":\"berth-test/busybox:1\",\"Cmd\":[\"sleep\",\"600\"],"
	         "\"Labels\":{\"berth.managed\":\"1\",\"berth.owner\":\"anonymous\","
	         "\"berth.spec\":\"{\\\"image\\\":\\\"berth-test/busybox:1\\\"}\","
	         "\"berth.instance\":\"%s\"}},\"HostConfig\":{},"
	         "\"NetworkSettings\":{\"Ports\":{}}}",
	         id, with_name ? "\"Name\":\"/fake\"," : "", instance);
	answer(fd, 200, "application/json", body);
}

static void
logs(int fd, int cut)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: "
	                           "application/vnd.docker.raw-stream\r\nConnection: close\r\n\r\n";
	static const unsigned char f1[] = {1, 0, 0, 0, 0, 0, 0, 6, 'h', 'e', 'l', 'l', 'o', '\n'};
	static const unsigned char f2[] = {2, 0, 0, 0, 0, 0, 0, 4, 'e', 'r', 'r', '\n'};

	put(fd, head, sizeof(head) - 1);
	put(fd, f1, sizeof(f1));
	if (cut) {
		put(fd, f2, 5); /* half a header, then gone */
		return;
	}
	put(fd, f2, sizeof(f2));
}

static void
huge(int fd)
{
	static char chunk[1 << 16];
	size_t total = 70u << 20, sent = 0;
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
	char method[16], path[1024], m[32], id[80] = "fake0123456789";
	const char *p, *q;

	if (read_request(fd, method, path) != 0)
		return;
	mode(m, sizeof(m));
	/* Path after the version prefix. */
	p = path;
	if (strncmp(p, "/v1.", 4) == 0 && (q = strchr(p + 1, '/')) != NULL)
		p = q;
	if (strcmp(m, "500") == 0) {
		answer(fd, 500, "application/json", "{\"message\":\"fake dockerd failure\"}");
	} else if (strcmp(m, "hang") == 0) {
		/* Silent until the test moves on (or 30 s), so no child lingers. */
		for (int i = 0; i < 300 && strcmp(m, "hang") == 0; i++) {
			usleep(100000);
			mode(m, sizeof(m));
		}
	} else if (strcmp(m, "close") == 0) {
		static const char h[] =
		    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		    "Content-Length: 1000\r\n\r\n[{\"Id\":\"x\",\"Names\":[\"/a\"]";
		put(fd, h, sizeof(h) - 1);
	} else if (strcmp(m, "truncated") == 0) {
		answer(fd, 200, "application/json", "{\"Id\":\"fake\",\"Name\":\"/fa");
	} else if (strcmp(m, "garbage") == 0) {
		answer(fd, 200, "text/html", "<html><body>502 Bad Gateway</body></html>");
	} else if (strcmp(m, "huge") == 0) {
		huge(fd);
	} else if (strcmp(p, "/_ping") == 0) {
		answer(fd, 200, "text/plain", "OK");
	} else if (strncmp(p, "/version", 8) == 0) {
		answer(fd, 200, "application/json",
		       "{\"Version\":\"0.0-fake\",\"ApiVersion\":\"1.41\",\"Os\":\"linux\"}");
	} else if (strncmp(p, "/containers/json", 16) == 0 || strncmp(p, "/images/json", 12) == 0) {
		answer(fd, 200, "application/json", "[]");
	} else if (strncmp(p, "/containers/", 12) == 0 && strstr(p, "/logs")) {
		logs(fd, strcmp(m, "logclose") == 0);
	} else if (strncmp(p, "/containers/", 12) == 0 && strstr(p, "/json")) {
		sscanf(p + 12, "%79[^/]", id);
		inspect(fd, id, strcmp(m, "noname") != 0);
	} else if (strcmp(method, "POST") == 0 && strncmp(p, "/containers/create", 18) == 0) {
		answer(
		    fd, 201, "application/json",
		    "{\"Id\":\"fakenew0123456789abcdef0123456789abcdef0123456789abcdef01234567\"}");
	} else if (strcmp(method, "DELETE") == 0 && strcmp(m, "rmfail") == 0) {
		answer(fd, 500, "application/json", "{\"message\":\"fake: cannot remove\"}");
	} else if (strcmp(method, "POST") == 0 && strncmp(p, "/containers/", 12) == 0) {
		answer(fd, 204, "text/plain", "");
	} else {
		answer(fd, 404, "application/json", "{\"message\":\"page not found\"}");
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int lfd;

	if (argc != 4 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: fakedocker SOCKET MODEFILE INSTANCE\n");
		return 2;
	}
	modefile = argv[2];
	instance = argv[3];
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

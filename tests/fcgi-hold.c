/*
 * tests/fcgi-hold.c - a FastCGI client that does not hang up, for
 * tests/integ/skeleton.sh: it checks that a worker is free for the next
 * request as soon as it has answered, without waiting for its client to
 * close (libfcgi's lingering close waits up to 2 s for that).
 *
 *   fcgi-hold SOCKET METHOD PATH BODYLEN HOLD
 *
 * Sends METHOD PATH with BODYLEN bytes of JSON-ish body and reads the answer
 * to its END_REQUEST.  HOLD 1 keeps that connection open and then times a
 * second request (GET /api/v1/health) on a new connection; HOLD 0 closes
 * first.  Prints "status=NNN complete=0|1 next_ms=N" and exits 0 when both
 * answers were read to their ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { BEGIN = 1, END = 3, PARAMS = 4, STDIN = 5, STDOUT = 6 };

static int
dial(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("fcgi-hold: connect");
		exit(2);
	}
	return fd;
}

static void
put_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n <= 0) {
			perror("fcgi-hold: write");
			exit(2);
		}
		p += n;
		len -= (size_t)n;
	}
}

static void
record(int fd, int type, const void *data, size_t len)
{
	unsigned char h[8] = {
	    1, (unsigned char)type, 0, 1, (unsigned char)(len >> 8), (unsigned char)len, 0, 0};

	put_all(fd, h, sizeof(h));
	if (len)
		put_all(fd, data, len);
}

/* One name-value pair, both under 128 bytes (one-byte lengths). */
static size_t
pair(unsigned char *out, const char *name, const char *value)
{
	size_t n = strlen(name), v = strlen(value);

	out[0] = (unsigned char)n;
	out[1] = (unsigned char)v;
	memcpy(out + 2, name, n);
	memcpy(out + 2 + n, value, v);
	return 2 + n + v;
}

static void
send_request(int fd, const char *method, const char *path, size_t bodylen)
{
	static const unsigned char begin[8] = {0, 1, 0, 0,
	                                       0, 0, 0, 0}; /* responder, no keep-conn */
	unsigned char params[512];
	char clen[32], chunk[8192];
	size_t n = 0;

	snprintf(clen, sizeof(clen), "%zu", bodylen);
	n += pair(params + n, "REQUEST_METHOD", method);
	n += pair(params + n, "REQUEST_URI", path);
	n += pair(params + n, "CONTENT_TYPE", "application/json");
	n += pair(params + n, "CONTENT_LENGTH", clen);
	record(fd, BEGIN, begin, sizeof(begin));
	record(fd, PARAMS, params, n);
	record(fd, PARAMS, NULL, 0);
	memset(chunk, ' ', sizeof(chunk));
	chunk[0] = '{';
	for (size_t sent = 0; sent < bodylen;) {
		size_t k = bodylen - sent < sizeof(chunk) ? bodylen - sent : sizeof(chunk);
		record(fd, STDIN, chunk, k);
		chunk[0] = ' ';
		sent += k;
	}
	record(fd, STDIN, NULL, 0);
}

static int
get_all(int fd, unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t n = read(fd, buf, len);
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads records to END_REQUEST; returns 1 when it came, the status in *status. */
static int
read_answer(int fd, int *status)
{
	unsigned char h[8], body[65536 + 256];
	int first = 1;

	*status = 0;
	while (get_all(fd, h, sizeof(h)) == 0) {
		size_t len = ((size_t)h[4] << 8 | h[5]) + h[6];

		if (get_all(fd, body, len) < 0)
			return 0;
		if (h[1] == STDOUT && first && len > 8) {
			body[len] = '\0';
			if (strncmp((char *)body, "Status: ", 8) == 0)
				*status = atoi((char *)body + 8);
			first = 0;
		}
		if (h[1] == END)
			return 1;
	}
	return 0;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	int a, b, status, health, complete, next_ok;
	double t0, next_ms;

	if (argc != 6) {
		fprintf(stderr, "usage: fcgi-hold SOCKET METHOD PATH BODYLEN HOLD\n");
		return 2;
	}
	a = dial(argv[1]);
	send_request(a, argv[2], argv[3], (size_t)strtoul(argv[4], NULL, 10));
	complete = read_answer(a, &status);
	if (atoi(argv[5]) == 0)
		close(a);
	t0 = now_ms();
	b = dial(argv[1]);
	send_request(b, "GET", "/api/v1/health", 0);
	next_ok = read_answer(b, &health);
	next_ms = now_ms() - t0;
	printf("status=%d complete=%d next_ms=%.0f\n", status, complete, next_ms);
	return complete && next_ok ? 0 : 1;
}

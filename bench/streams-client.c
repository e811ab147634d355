/*
 * streams-client.c - holds many log follows at once for bench/run's streams
 * figure, cheaply (plain epoll, one process), and checks what they carry.
 *
 *   streams-client PORT SPECFILE [docker]
 *
 * SPECFILE has one stream a line: "AUTH PATH", AUTH a Basic credential
 * (base64) or "-" for none.  Each is a GET (Host: 127.0.0.1:PORT, as berth-up's
 * nginx wants it) over HTTP/1.0 to 127.0.0.1:PORT,
 * so the body needs no dechunking and ends with the connection.  The body is
 * numbered lines (the bench's containers print 1, 2, 3, ...); with "docker"
 * it is Docker's multiplexed log stream (8-byte frame heads) and the frames
 * are taken apart first.  Once every stream has its status line it prints
 * "ready ok=N failed=M" on stdout; at SIGTERM it prints "done streams=N
 * ok=N lines=N gaps=N empty=N ended=N min_last=N" and exits: gaps counts
 * lines that did not follow the one before, min_last is the smallest last
 * line any stream has seen; stderr gets "INDEX LAST" for each stream.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
	int fd;
	char *req; /* the request, until sent */
	size_t reqlen, sent;
	int status;    /* 0 until the status line came */
	int inbody;    /* past the head */
	int hdrstate;  /* how much of "\r\n\r\n" we matched */
	char line[32]; /* the line being read */
	size_t ll;
	unsigned char fh[8]; /* docker: the frame head being read */
	size_t fhl;
	unsigned long long fleft; /* docker: payload bytes left in this frame */
	long long last;           /* last number seen, -1 none */
	long long lines, gaps;
	int ended;
};

static volatile sig_atomic_t stop;
static int docker;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* One byte of body text: numbered lines. */
static void
text_byte(struct conn *c, char ch)
{
	if (ch != '\n') {
		if (c->ll < sizeof(c->line) - 1)
			c->line[c->ll++] = ch;
		return;
	}
	c->line[c->ll] = '\0';
	c->ll = 0;
	long long v = strtoll(c->line, NULL, 10);
	if (c->last >= 0 && v != c->last + 1)
		c->gaps++;
	c->last = v;
	c->lines++;
}

static void
body(struct conn *c, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!docker) {
			text_byte(c, buf[i]);
			continue;
		}
		if (c->fleft == 0) {
			c->fh[c->fhl++] = (unsigned char)buf[i];
			if (c->fhl == 8) {
				c->fleft = ((unsigned long long)c->fh[4] << 24) | (c->fh[5] << 16) |
				           (c->fh[6] << 8) | c->fh[7];
				c->fhl = 0;
			}
			continue;
		}
		text_byte(c, buf[i]);
		c->fleft--;
	}
}

/* Bytes of the answer: the status line's code, the end of the head, then body. */
static void
feed(struct conn *c, const char *buf, size_t n)
{
	static const char end[] = "\r\n\r\n";
	size_t i = 0;

	if (!c->status && n > 12 && strncmp(buf, "HTTP/1.", 7) == 0)
		c->status = atoi(buf + 9);
	while (!c->inbody && i < n) {
		if (buf[i++] == end[c->hdrstate]) {
			if (++c->hdrstate == 4)
				c->inbody = 1;
		} else {
			c->hdrstate = buf[i - 1] == '\r' ? 1 : 0;
		}
	}
	if (c->inbody && i < n && c->status == 200)
		body(c, buf + i, n - i);
}

static int
open_one(int ep, struct conn *c, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return -1;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS)
		return -1;
	return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void
finish_conn(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->ended = 1;
}

static void
on_ready(int ep, struct conn *c, unsigned ev)
{
	char buf[65536];
	ssize_t n;

	if ((ev & EPOLLOUT) && c->sent < c->reqlen) {
		n = write(c->fd, c->req + c->sent, c->reqlen - c->sent);
		if (n > 0)
			c->sent += (size_t)n;
		if (c->sent == c->reqlen) {
			struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
		}
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		while ((n = read(c->fd, buf, sizeof(buf))) > 0)
			feed(c, buf, (size_t)n);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			if (!c->status)
				c->status = -1;
			finish_conn(ep, c);
		}
	}
}

/* The status codes other than 200, "code=count" each (-1: no status line), to stdout. */
static void
print_codes(const struct conn *cs, size_t n)
{
	int seen[8] = {0}, count[8] = {0}, k = 0;

	for (size_t i = 0; i < n; i++) {
		int j;
		if (cs[i].status == 200)
			continue;
		for (j = 0; j < k && seen[j] != cs[i].status; j++)
			;
		if (j == k && k < 8)
			seen[k++] = cs[i].status;
		if (j < k)
			count[j]++;
	}
	for (int j = 0; j < k; j++)
		printf(" %d=%d", seen[j], count[j]);
	printf("\n");
}

static struct conn *
load(const char *file, int port, size_t *np)
{
	FILE *f = fopen(file, "r");
	char auth[512], path[1024];
	struct conn *cs = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL)
		return NULL;
	while (fscanf(f, "%511s %1023s", auth, path) == 2) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			cs = realloc(cs, cap * sizeof(*cs));
			if (cs == NULL)
				exit(1);
		}
		memset(&cs[n], 0, sizeof(cs[n]));
		cs[n].last = -1;
		if (strcmp(auth, "-") == 0)
			cs[n].reqlen = (size_t)asprintf(
			    &cs[n].req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n", path,
			    port);
		else
			cs[n].reqlen =
			    (size_t)asprintf(&cs[n].req,
			                     "GET %s HTTP/1.0\r\nHost: "
			                     "127.0.0.1:%d\r\nAuthorization: Basic %s\r\n\r\n",
			                     path, port, auth);
		n++;
	}
	fclose(f);
	*np = n;
	return cs;
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[256];
	struct rlimit rl;
	struct conn *cs;
	size_t n, i;
	int ep, port, ready = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: streams-client PORT SPECFILE [docker]\n");
		return 2;
	}
	port = atoi(argv[1]);
	docker = argc > 3 && strcmp(argv[3], "docker") == 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	cs = load(argv[2], port, &n);
	ep = epoll_create1(0);
	if (cs == NULL || ep < 0)
		return 1;
	for (i = 0; i < n; i++)
		if (open_one(ep, &cs[i], port) != 0) {
			cs[i].status = -1;
			cs[i].ended = 1;
		}
	while (!stop) {
		int k = epoll_wait(ep, evs, 256, 200);
		for (int j = 0; j < k; j++)
			on_ready(ep, evs[j].data.ptr, evs[j].events);
		if (!ready) {
			size_t have = 0, ok = 0;
			for (i = 0; i < n; i++) {
				have += cs[i].status != 0;
				ok += cs[i].status == 200;
			}
			if (have == n) {
				printf("ready ok=%zu failed=%zu", ok, n - ok);
				print_codes(cs, n);
				fflush(stdout);
				ready = 1;
			}
		}
	}
	long long lines = 0, gaps = 0, minlast = -1;
	size_t ok = 0, empty = 0, ended = 0;
	for (i = 0; i < n; i++) {
		ok += cs[i].status == 200;
		lines += cs[i].lines;
		gaps += cs[i].gaps;
		empty += cs[i].status == 200 && cs[i].lines == 0;
		ended += cs[i].ended;
		if (cs[i].status == 200 && (minlast < 0 || cs[i].last < minlast))
			minlast = cs[i].last;
	}
	for (i = 0; i < n; i++)
		fprintf(stderr, "%zu %lld\n", i, cs[i].last);
	printf("done streams=%zu ok=%zu lines=%lld gaps=%lld empty=%zu ended=%zu min_last=%lld\n",
	       n, ok, lines, gaps, empty, ended, minlast);
	return 0;
}

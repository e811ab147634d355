/*
 * thin-fcgi.c - the thinnest libfcgi responder, the baseline bench/run holds
 * berth's health endpoint against: N preforked processes on one unix socket,
 * each an FCGX accept loop answering the same small JSON.  No routing, no
 * logging, no allocation per request.  Not part of berth; built by bench/run.
 *
 * It closes each connection the way berth's workers do (src/edge/worker.c,
 * wk_release): once the request is read to its end it is detached from
 * libfcgi's lingering close, so the worker does not wait for nginx to hang
 * up.  That makes it a higher ceiling than libfcgi's default loop (about 6%
 * here), and the ratio measures berth's own work, not a libfcgi setting.
 *
 *   thin-fcgi SOCKET N      serve until SIGTERM
 */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define REPLY                                                                                      \
	"Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"                                 \
	"{\"status\":\"ok\",\"docker\":\"ok\",\"version\":\"0.0.0\"}\n"

static int
serve(int lfd)
{
	FCGX_Request fx;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&fx, lfd, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&fx) >= 0) {
		char sink[64];

		FCGX_PutStr(REPLY, (int)sizeof(REPLY) - 1, fx.out);
		FCGX_GetStr(sink, (int)sizeof(sink), fx.in);
		if (FCGX_HasSeenEOF(fx.in))
			FCGX_Detach(&fx);
		FCGX_Finish_r(&fx);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	pid_t kids[64];
	sigset_t set;
	int lfd, n, sig;

	if (argc != 3 || (n = atoi(argv[2])) < 1 || n > 64) {
		fprintf(stderr, "usage: thin-fcgi SOCKET N (1..64)\n");
		return 2;
	}
	unlink(argv[1]);
	lfd = FCGX_OpenSocket(argv[1], 128);
	if (lfd < 0) {
		fprintf(stderr, "thin-fcgi: cannot listen on %s\n", argv[1]);
		return 1;
	}
	chmod(argv[1], 0666);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			_exit(serve(lfd));
		}
	}
	sigwait(&set, &sig);
	for (int i = 0; i < n; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	unlink(argv[1]);
	return 0;
}

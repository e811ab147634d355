/*
 * worker.c - the accept loop of one worker.  A worker holds nothing between
 * requests but its config and the docker client's curl handle.
 */
#include "berth.h"
#include "lib/cfg.h"
#include "engine/engine.h"
#include "lib/log.h"
#include "edge/req.h"
#include "edge/route.h"
#include "store/state.h"
#include "edge/worker.h"

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop_flag, reload_flag;

static void
on_term(int sig)
{
	(void)sig;
	stop_flag = 1;
	/* Makes libfcgi's accept loop give up on EINTR instead of retrying. */
	FCGX_ShutdownPending();
}

static void
on_hup(int sig)
{
	(void)sig;
	reload_flag = 1;
}

int
wk_stopping(void)
{
	return stop_flag;
}

int
wk_reload(void)
{
	char err[512];
	struct cfg *c;

	c = cfg_load(g_cfg->path, err, sizeof(err));
	if (c == NULL) {
		log_error("reload_failed error=\"%s\" (keeping the previous config)", err);
		return -1;
	}
	if (st_init(c->state_dir) != 0) {
		log_error("reload_failed error=\"cannot use state_dir %s\"", c->state_dir);
		cfg_free(c);
		return -1;
	}
	cfg_free(g_cfg);
	g_cfg = c;
	log_set_level(c->log_debug ? LOG_DEBUG_ : LOG_INFO_);
	log_info("config_reloaded path=%s", c->path ? c->path : "(defaults)");
	return 0;
}

static void
signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_term; /* no SA_RESTART: accept() must see EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/*
 * libfcgi ends a connection with a lingering close: it shuts down its side,
 * then waits (up to 2 s per read) for nginx to close the other, so that
 * unread input cannot turn into a TCP reset that loses the answer.  nginx
 * already has the whole answer at END_REQUEST and closes in its own time, so
 * every worker sat idle for that round trip after every request: 170 us of
 * a 175 us cycle for health under load (docs/benchmarks.md).  Once the
 * request has been read to its end (the empty stdin record) a close can lose
 * nothing, on a unix or a TCP socket, so the request is detached from that
 * wait and closed at once.  Input left unread (a body a handler refused) is
 * drained up to 64 KiB; past that libfcgi lingers as before.
 */
static void
wk_release(FCGX_Request *fx)
{
	char sink[4096];
	int rounds = 0;

	if (fx->keepConnection)
		return;
	while (FCGX_GetStr(sink, (int)sizeof(sink), fx->in) > 0 && ++rounds < 16)
		;
	if (FCGX_HasSeenEOF(fx->in))
		FCGX_Detach(fx);
}

int
wk_run(int lfd)
{
	FCGX_Request fx;
	struct req r;

	signals();
	log_set_pid();
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fx, lfd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error("worker_start error=\"FastCGI init failed\"");
		return 1;
	}
	while (!stop_flag) {
		if (FCGX_Accept_r(&fx) < 0) {
			if (stop_flag)
				break;
			if (errno == EINTR || errno == 0)
				continue;
			log_error("accept_failed error=\"%s\"", strerror(errno));
			break;
		}
		if (reload_flag) {
			reload_flag = 0;
			wk_reload();
		}
		rq_init(&r, &fx);
		rt_dispatch(&r);
		rq_cleanup(&r);
		wk_release(&fx);
		FCGX_Finish_r(&fx);
	}
	FCGX_Free(&fx, 1);
	eng_cleanup();
	return 0;
}

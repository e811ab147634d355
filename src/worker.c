/*
 * worker.c - the accept loop of one worker.  A worker holds nothing between
 * requests but its config and the docker client's curl handle.
 */
#include "berth.h"
#include "cfg.h"
#include "docker.h"
#include "log.h"
#include "req.h"
#include "route.h"
#include "state.h"
#include "worker.h"

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
		FCGX_Finish_r(&fx);
	}
	FCGX_Free(&fx, 1);
	dk_cleanup();
	return 0;
}

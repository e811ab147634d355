/*
 * sup.c - the --workers supervisor.  It opens nothing per request: it forks
 * workers that share the listening socket, replaces any that die, forwards
 * SIGHUP after checking the new config itself, and on SIGTERM lets every
 * worker finish its request before exiting.  It also runs periodic work
 * (job sweeping) in a short-lived child so a crash there never hurts serving.
 */
#include "berth.h"
#include "store/audit.h"
#include "lib/cfg.h"
#include "lib/cov.h"
#include "lib/log.h"
#include "edge/module.h"
#include "edge/worker.h"
#include "relay/relay.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 256

static int parent_fd = -1; /* sup_watch_parent's pipe; -1 = nobody to outlive */

/*
 * A worker leaves with _exit: it must not run the supervisor's atexit work.
 * Under AddressSanitizer it uses exit() so LeakSanitizer checks every worker;
 * a coverage build writes its gcov counters first (lib/cov.h).
 */
#if defined(__SANITIZE_ADDRESS__)
#define WORKER_EXIT_CHECKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORKER_EXIT_CHECKS 1
#endif
#endif

static _Noreturn void
worker_exit(int status)
{
#ifdef WORKER_EXIT_CHECKS
	exit(status);
#else
	cov_exit(status);
#endif
}

void
sup_watch_parent(int fd)
{
	parent_fd = fd;
}

/* 1 once the starter's end of the pipe is closed: it died, so must we. */
static int
parent_gone(void)
{
	struct pollfd p = {.fd = parent_fd, .events = POLLIN};
	char c;

	if (parent_fd < 0 || poll(&p, 1, 0) != 1)
		return 0;
	/* Only EOF counts; a stray byte someone wrote is read and ignored. */
	return (p.revents & (POLLHUP | POLLERR)) || read(parent_fd, &c, 1) == 0;
}

/* In a forked child: the supervisor's watch is none of its business. */
static void
child_start(const sigset_t *old)
{
	cov_child_start();
	sigprocmask(SIG_SETMASK, old, NULL);
	if (parent_fd >= 0)
		close(parent_fd);
}

/* The relay's listening socket and the tickets' receiving end (-1: no relay). */
static int relay_lfd = -1, relay_tfd = -1;

void
sup_set_relay(int lfd, int tfd)
{
	relay_lfd = lfd;
	relay_tfd = tfd;
}

static pid_t
spawn(int lfd, const sigset_t *old)
{
	pid_t pid = fork();

	if (pid == 0) {
		child_start(old);
		/* A worker only sends tickets. */
		if (relay_lfd >= 0)
			close(relay_lfd), close(relay_tfd);
		worker_exit(wk_run(lfd));
	}
	if (pid < 0)
		log_error("fork_failed error=\"%s\"", strerror(errno));
	return pid;
}

/* The stream relay: one process for every held stream (relay/relay.h). */
static pid_t
spawn_relay(int lfd, const sigset_t *old)
{
	pid_t pid;

	if (relay_lfd < 0)
		return 0;
	pid = fork();
	if (pid == 0) {
		child_start(old);
		if (lfd >= 0)
			close(lfd); /* FastCGI is the workers' */
		if (tk_fd >= 0)
			close(tk_fd);
		/* ps and the tests tell it from the workers by name. */
		prctl(PR_SET_NAME, "berth-relay");
		worker_exit(rl_run(relay_lfd, relay_tfd));
	}
	if (pid < 0)
		log_error("fork_failed error=\"%s\" (relay)", strerror(errno));
	return pid > 0 ? pid : 0;
}

int
sup_relay_alone(void)
{
	sigset_t none;
	pid_t pid;

	sigemptyset(&none);
	pid = fork();
	if (pid == 0) {
		/* No supervisor: the lone worker is its parent, and its end is the relay's. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(0);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (tk_fd >= 0)
			close(tk_fd);
		prctl(PR_SET_NAME, "berth-relay");
		worker_exit(rl_run(relay_lfd, relay_tfd));
	}
	return pid;
}

static pid_t
spawn_periodic(const sigset_t *old)
{
	pid_t pid = fork();

	if (pid == 0) {
		child_start(old);
		signal(SIGTERM, SIG_DFL);
		cov_hold_term();
		mod_periodic();
		cov_exit(0);
	}
	return pid;
}

static void
signal_all(pid_t *pids, int n, int sig)
{
	for (int i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], sig);
}

static int
live(pid_t *pids, int n)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += pids[i] > 0;
	return c;
}

int
sup_run(int lfd, int n, const char *sock_path)
{
	pid_t pids[MAX_WORKERS] = {0}, sweeper = 0, relay = 0;
	time_t born[MAX_WORKERS] = {0}, last_sweep = time(NULL), deadline = 0, relay_born;
	sigset_t set, old;
	int stopping = 0;

	if (n < 1 || n > MAX_WORKERS)
		n = n < 1 ? 1 : MAX_WORKERS;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < n; i++) {
		pids[i] = spawn(lfd, &old);
		born[i] = time(NULL);
	}
	relay = spawn_relay(lfd, &old);
	relay_born = time(NULL);
	log_info("supervisor_started workers=%d socket=%s", n, sock_path ? sock_path : "fd");
	for (;;) {
		struct timespec ts = {1, 0};
		siginfo_t si;
		int sig = sigtimedwait(&set, &si, &ts);
		pid_t pid;
		int status;

		if (sig == SIGTERM || sig == SIGINT || (!stopping && parent_gone())) {
			if (!stopping) {
				log_info("supervisor_stopping draining=%d reason=%s", live(pids, n),
				         sig == SIGTERM || sig == SIGINT ? "signal"
				                                         : "parent_gone");
				stopping = 1;
				deadline = time(NULL) + 30;
				signal_all(pids, n, SIGTERM);
				if (sweeper > 0)
					kill(sweeper, SIGTERM);
				if (relay > 0)
					kill(relay, SIGTERM);
			}
		} else if (sig == SIGHUP && !stopping) {
			if (wk_reload() == 0) {
				signal_all(pids, n, SIGHUP);
				if (relay > 0)
					kill(relay, SIGHUP);
			}
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == sweeper) {
				sweeper = 0;
				continue;
			}
			if (pid == relay) {
				relay = 0;
				if (stopping)
					continue;
				log_warn("relay_died pid=%d status=%d signal=%d", (int)pid,
				         WIFEXITED(status) ? WEXITSTATUS(status) : -1,
				         WIFSIGNALED(status) ? WTERMSIG(status) : 0);
				if (time(NULL) - relay_born < 1)
					sleep(1);
				relay = spawn_relay(lfd, &old);
				relay_born = time(NULL);
				continue;
			}
			for (int i = 0; i < n; i++) {
				if (pids[i] != pid)
					continue;
				pids[i] = 0;
				if (stopping)
					break;
				if (WIFSIGNALED(status) || WEXITSTATUS(status) != 0)
					log_warn("worker_died pid=%d status=%d signal=%d", (int)pid,
					         WIFEXITED(status) ? WEXITSTATUS(status) : -1,
					         WIFSIGNALED(status) ? WTERMSIG(status) : 0);
				/* A worker that dies at once every time must not spin the CPU. */
				if (time(NULL) - born[i] < 1)
					sleep(1);
				pids[i] = spawn(lfd, &old);
				born[i] = time(NULL);
			}
		}
		if (stopping) {
			if (live(pids, n) == 0 && sweeper == 0 && relay == 0)
				break;
			if (time(NULL) > deadline) {
				log_warn("supervisor_drain_timeout killing=%d", live(pids, n));
				signal_all(pids, n, SIGKILL);
				if (sweeper > 0)
					kill(sweeper, SIGKILL);
				if (relay > 0)
					kill(relay, SIGKILL);
			}
			continue;
		}
		if (sweeper == 0 && time(NULL) - last_sweep >= g_cfg->sweep_interval) {
			last_sweep = time(NULL);
			sweeper = spawn_periodic(&old);
		}
	}
	if (sock_path)
		unlink(sock_path);
	au_flush(1); /* refusals held back still get their summary line */
	log_info("supervisor_stopped");
	return 0;
}

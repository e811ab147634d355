/*
 * main.c - berth-fcgi start-up, in slowcgi's order: make sure fds 0-2 are
 * sane, load and check the config, open the listening socket, drop
 * privileges, then serve (one worker on fd 0, or the --workers supervisor).
 * Maintenance subcommands (reconcile, sweep, check-config) share the start-up.
 */
#include "berth.h"
#include "store/audit.h"
#include "edge/module.h"
#include "res/jobs.h"
#include "res/system.h"
#include "lib/cfg.h"
#include "engine/engine.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "store/state.h"
#include "edge/worker.h"
#include "relay/ticket.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_CONFIG "/etc/berth/berth.conf"

struct opts {
	const char *config;
	const char *listen;
	const char *user, *group, *socket_group;
	int workers;
	int allow_root;
	int parent_fd;     /* --parent-fd: stop when it reads end of file; -1 = none */
	const char *relay; /* --relay-socket */
	const char *cmd;
};

static int
cmd_ping(void)
{
	struct op o;
	int rc = 0;

	op_system(&o);
	if (eng_ping(&o) != B_OK) {
		fprintf(stderr, "no answer on %s (%s)\n", g_cfg->docker_socket, o.msg);
		rc = 1;
	} else {
		printf("dockerd answers on %s\n", g_cfg->docker_socket);
	}
	op_done(&o);
	return rc;
}

/* Prints a TCP port on 127.0.0.1 that is free right now (berth-up picks with it). */
static int
cmd_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		perror("berth-fcgi: free-port");
		return 1;
	}
	printf("%d\n", ntohs(sa.sin_port));
	close(fd);
	return 0;
}

static int
cmd_reconcile(void)
{
	return mod_reconcile(1) == 0 ? 0 : 1;
}

/* Swarm services go before containers (modules run in reverse), or Swarm would replace them. */
static int
cmd_cleanup(void)
{
	return mod_cleanup() == 0 ? 0 : 1;
}

/* Prints the OpenAPI document (docs/gen-api.sh renders docs/api.md from it). */
static int
cmd_openapi(void)
{
	json_object *o = sys_openapi();

	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	                                           JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

static int
cmd_sweep(void)
{
	return job_sweep() == 0 ? 0 : 1;
}

static int
cmd_check(void)
{
	printf("%s: ok\n", g_cfg->path ? g_cfg->path : "(built-in defaults)");
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
	const char *help;
} commands[] = {
    {"check-config", cmd_check, "load the config and the state dir, report every error, exit"},
    {"reconcile", cmd_reconcile, "rebuild ownership records from container labels"},
    {"ping", cmd_ping, "check that dockerd answers on its socket"},
    {"openapi", cmd_openapi, "print the OpenAPI document of this build"},
    {"free-port", cmd_free_port, "print a free TCP port on 127.0.0.1"},
    {"cleanup", cmd_cleanup, "remove every container and swarm service of this instance"},
    {"sweep", cmd_sweep, "kill overdue jobs, remove finished jobs' containers (systemd timer)"},
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: berth-fcgi [--config PATH] [--listen PATH --workers N]\n"
	           "                  [--user USER] [--group GROUP] [--socket-group GROUP]\n"
	           "                  [--allow-root] [--state-dir DIR] [--instance NAME]\n"
	           "                  [--parent-fd FD] [--relay-socket PATH] [COMMAND]\n"
	           "Serves the berth API over FastCGI on fd 0 (spawn-fcgi, systemd) or on\n"
	           "the unix socket given with --listen.  Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "See berth-fcgi(8) and berth.conf(5).\n");
}

static void
sane_fds(void)
{
	/* A daemon started with 0-2 closed must not hand its socket to stdio. */
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);
			if (n != fd && n >= 0)
				close(n);
		}
	}
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {{"config", required_argument, NULL, 'c'},
	                                   {"listen", required_argument, NULL, 'l'},
	                                   {"workers", required_argument, NULL, 'w'},
	                                   {"user", required_argument, NULL, 'u'},
	                                   {"group", required_argument, NULL, 'g'},
	                                   {"socket-group", required_argument, NULL, 's'},
	                                   {"allow-root", no_argument, NULL, 'R'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {"state-dir", required_argument, NULL, 'S'},
	                                   {"instance", required_argument, NULL, 'I'},
	                                   {"parent-fd", required_argument, NULL, 'P'},
	                                   {"relay-socket", required_argument, NULL, 'r'},
	                                   {"version", no_argument, NULL, 'V'},
	                                   {NULL, 0, NULL, 0}};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "c:l:w:u:g:hV", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'l':
			o->listen = optarg;
			break;
		case 'w':
			o->workers = (int)strtol(optarg, &end, 10);
			if (*end || o->workers < 1 || o->workers > 256) {
				fprintf(stderr, "berth-fcgi: --workers must be 1..256\n");
				return 2;
			}
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'g':
			o->group = optarg;
			break;
		case 's':
			o->socket_group = optarg;
			break;
		case 'R':
			o->allow_root = 1;
			break;
		case 'S':
			cfg_over.state_dir = optarg;
			break;
		case 'I':
			cfg_over.instance = optarg;
			break;
		case 'P':
			o->parent_fd = (int)strtol(optarg, &end, 10);
			if (*end || o->parent_fd < 3 || fcntl(o->parent_fd, F_GETFD) == -1) {
				fprintf(stderr,
				        "berth-fcgi: --parent-fd needs an open descriptor\n");
				return 2;
			}
			break;
		case 'r':
			o->relay = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("berth-fcgi %s\n", BERTH_VERSION);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		o->cmd = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "berth-fcgi: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	return 0;
}

static int
open_listen(const char *path, const char *group)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "berth-fcgi: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	unlink(path);
	/*
	 * A deep queue (the kernel caps it at net.core.somaxconn): 1,000 follows
	 * opened at once overflowed 128 and nginx answered the rest 502.
	 */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 4096) != 0)
		goto fail;
	/* 0660 and the web server's group: only nginx may speak FastCGI to us. */
	if (chmod(path, 0660) != 0)
		goto fail;
	if (group) {
		struct group *gr = getgrnam(group);
		if (gr == NULL) {
			fprintf(stderr, "berth-fcgi: unknown socket group \"%s\"\n", group);
			close(fd);
			return -1;
		}
		if (chown(path, (uid_t)-1, gr->gr_gid) != 0)
			goto fail;
	}
	/* The workers set their own CLOEXEC-free copy via libfcgi; keep it inheritable. */
	fcntl(fd, F_SETFD, 0);
	return fd;
fail:
	fprintf(stderr, "berth-fcgi: cannot listen on %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* fd 0 (spawn-fcgi, StandardInput=socket) or fd 3 (systemd LISTEN_FDS). */
static int
inherited_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (pid && fds && atoi(pid) == (int)getpid() && atoi(fds) >= 1)
		return 3;
	if (getsockname(0, (struct sockaddr *)&ss, &len) == 0)
		return 0;
	return -1;
}

/*
 * The stream relay's socket (--relay-socket, berth.conf streams.socket; else relay.sock next
 * to --listen; else /run/berth-relay/relay.sock, systemd's RuntimeDirectory)
 * and the datagram pair workers send tickets on.  A relay that cannot start
 * where the config names it stops berth; on a default path berth runs on
 * without it and every stream answers 503 saying so.
 */
static int
open_relay(const struct opts *o, const char *group)
{
	char def[512] = "";
	const char *path = o->relay ? o->relay : g_cfg->streams.socket;
	int lfd, sv[2], rcv = 1 << 20;
	struct timeval tv = {2, 0};

	if (path == NULL && o->listen) {
		const char *slash = strrchr(o->listen, '/');
		snprintf(def, sizeof(def), "%.*srelay.sock",
		         slash ? (int)(slash - o->listen + 1) : 0, o->listen);
		path = def;
	} else if (path == NULL) {
		path = "/run/berth-relay/relay.sock";
	}
	lfd = open_listen(path, group);
	if (lfd < 0) {
		if (path != def && strcmp(path, "/run/berth-relay/relay.sock") != 0)
			return -1;
		fprintf(stderr, "berth-fcgi: warning: no stream relay (streams answer 503); set "
		                "streams.socket in berth.conf\n");
		return 0;
	}
	fcntl(lfd, F_SETFD, FD_CLOEXEC);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0) {
		fprintf(stderr, "berth-fcgi: socketpair: %s\n", strerror(errno));
		close(lfd);
		return -1;
	}
	/* A burst of stream opens queues here, not in a worker's send. */
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	tk_fd = sv[0];
	sup_set_relay(lfd, sv[1]);
	return 0;
}

static int
drop_privileges(const struct opts *o)
{
	const char *user = o->user ? o->user : g_cfg->run_user;
	const char *group = o->group ? o->group : g_cfg->run_group;
	struct passwd *pw;
	gid_t gid;

	if (geteuid() != 0)
		return 0;
	if (user == NULL) {
		if (o->allow_root)
			return 0;
		fprintf(stderr, "berth-fcgi: refusing to run as root; give --user USER (a member "
		                "of the docker group) or --allow-root\n");
		return -1;
	}
	pw = getpwnam(user);
	if (pw == NULL) {
		fprintf(stderr, "berth-fcgi: unknown user \"%s\"\n", user);
		return -1;
	}
	gid = pw->pw_gid;
	if (group) {
		struct group *gr = getgrnam(group);
		if (gr == NULL) {
			fprintf(stderr, "berth-fcgi: unknown group \"%s\"\n", group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	/* The state tree st_init made as root is ours after the drop. */
	if (st_give(pw->pw_uid, gid) != 0)
		fprintf(stderr, "berth-fcgi: warning: cannot chown %s: %s\n", g_cfg->state_dir,
		        strerror(errno));
	if (initgroups(user, gid) != 0 || setgid(gid) != 0 || setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "berth-fcgi: cannot drop to %s: %s\n", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		fprintf(stderr, "berth-fcgi: privileges were not dropped\n");
		return -1;
	}
	return 0;
}

/* Prints each line of a multi-line error, every one prefixed like the first. */
static void
print_errors(const char *err)
{
	const char *nl;

	for (; *err; err = nl + 1) {
		nl = strchr(err, '\n');
		if (nl == NULL) {
			fprintf(stderr, "berth-fcgi: %s\n", err);
			return;
		}
		fprintf(stderr, "berth-fcgi: %.*s\n", (int)(nl - err), err);
	}
}

/* Root about to drop to --user (or berth.conf's user) may find the state dir already theirs. */
static void
trust_run_user(const struct opts *o)
{
	const char *user = o->user ? o->user : g_cfg->run_user;
	struct passwd *pw = geteuid() == 0 && user ? getpwnam(user) : NULL;

	if (pw)
		st_trust_uid(pw->pw_uid);
}

int
main(int argc, char **argv)
{
	struct opts o = {.parent_fd = -1};
	char err[4096];
	const char *cfgpath;
	int rc, lfd = -1;

	sane_fds();
	rc = parse(argc, argv, &o);
	if (rc)
		return rc;
	cfgpath = o.config;
	if (cfgpath == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		cfgpath = DEFAULT_CONFIG;
	mod_register();
	g_cfg = cfg_load(cfgpath, err, sizeof(err));
	if (g_cfg == NULL) {
		print_errors(err);
		return 2;
	}
	log_set_level(g_cfg->log_debug ? LOG_DEBUG_ : LOG_INFO_);
	trust_run_user(&o);
	if (st_init(g_cfg->state_dir) != 0) {
		fprintf(stderr, "berth-fcgi: cannot use state_dir %s: %s\n", g_cfg->state_dir,
		        st_why());
		return 1;
	}
	if (o.cmd) {
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			if (strcmp(o.cmd, commands[i].name) != 0)
				continue;
			rc = commands[i].fn();
			eng_cleanup();
			cfg_free(g_cfg);
			return rc;
		}
		fprintf(stderr, "berth-fcgi: unknown command \"%s\"\n", o.cmd);
		usage(stderr);
		return 2;
	}
	if (o.listen) {
		lfd = open_listen(o.listen, o.socket_group ? o.socket_group : g_cfg->socket_group);
	} else {
		lfd = inherited_socket();
		if (lfd < 0)
			fprintf(stderr, "berth-fcgi: no listening socket: run under spawn-fcgi or "
			                "systemd, or give --listen PATH\n");
	}
	if (lfd < 0)
		return 1;
	if (open_relay(&o, o.socket_group ? o.socket_group : g_cfg->socket_group) != 0)
		return 1;
	if (drop_privileges(&o) != 0)
		return 1;
	mt_init(g_cfg->state_dir);
	/* libcurl's global init (OpenSSL, libssh2) once, before fork: workers share it. */
	if (eng_init() != 0)
		log_warn("curl_init_failed (workers will retry)");
	if (o.parent_fd >= 0)
		sup_watch_parent(o.parent_fd);
	if (o.listen || o.workers > 1)
		rc = sup_run(lfd, o.workers ? o.workers : 1, o.listen);
	else if (tk_fd >= 0 && sup_relay_alone() < 0)
		rc = 1;
	else
		rc = wk_run(lfd);
	cfg_free(g_cfg);
	return rc;
}

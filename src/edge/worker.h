/*
 * worker.h - one FastCGI worker process and the supervisor that preforks them.
 */
#ifndef BERTH_WORKER_H
#define BERTH_WORKER_H

/* Serves requests from LFD until SIGTERM; returns the exit status. */
int wk_run(int lfd);
/* 1 once SIGTERM arrived: long streams end early so the worker can drain. */
int wk_stopping(void);
/* Re-reads the config file; keeps the old one (and says why) when the new one is bad. */
int wk_reload(void);

/* Preforks N workers on LFD, restarts dead ones, forwards SIGHUP, drains on SIGTERM. */
int sup_run(int lfd, int n, const char *sock_path);
/* The stream relay's listening socket and ticket inbox: sup_run keeps a relay on them. */
void sup_set_relay(int lfd, int tfd);
/* Without a supervisor (one worker on fd 0): a relay that ends with this process. */
int sup_relay_alone(void);
/*
 * Makes sup_run drain and exit, as on SIGTERM, once FD (the read end of a
 * pipe whose only writer is the process that started berth, e.g. berth-up)
 * reaches end of file: the starter died, even by SIGKILL.  Workers do not keep it.
 */
void sup_watch_parent(int fd);

#endif

/* log.h - one line per event on stderr (journald adds the time under systemd). */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

enum log_level { LOG_DEBUG_ = 0, LOG_INFO_, LOG_WARN_, LOG_ERROR_ };

void log_set_level(enum log_level lv);
void log_msg(enum log_level lv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The fields of one request's line (user-controlled ones are escaped). */
struct log_req {
	const char *id, *method, *path, *route, *user, *role, *error;
	int status;
	long us; /* duration in microseconds */
};
/* Writes the per-request line, built without printf: it runs on every request. */
void log_request(enum log_level lv, const struct log_req *q);
/* Remembers this process's pid for the lines it writes (call after fork). */
void log_set_pid(void);

#define log_info(...)  log_msg(LOG_INFO_, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN_, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR_, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG_, __VA_ARGS__)

#endif

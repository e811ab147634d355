/* log.h - one line per event on stderr (journald adds the time under systemd). */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

enum log_level { LOG_DEBUG_ = 0, LOG_INFO_, LOG_WARN_, LOG_ERROR_ };

void log_set_level(enum log_level lv);
void log_msg(enum log_level lv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_info(...)  log_msg(LOG_INFO_, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN_, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR_, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG_, __VA_ARGS__)

#endif

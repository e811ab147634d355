/*
 * log.c - logfmt-style lines on stderr.  Each line is built in one buffer and
 * written with one write(2) so lines from several workers never interleave.
 */
#include "berth.h"
#include "lib/log.h"
#include "lib/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO_;
static int my_pid; /* getpid() is a system call; a worker's pid never changes */
static const char *const names[] = {"debug", "info", "warn", "error"};

void
log_set_level(enum log_level lv)
{
	min_level = lv;
}

/*
 * The timestamp prefix changes once a second; formatting it with gmtime_r
 * on every line was most of a line's cost, so the text is kept per second.
 */
static const char *
stamp(void)
{
	static char text[64];
	static time_t at = -1;
	struct timespec ts;
	struct tm tm;
	int ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != at) {
		gmtime_r(&ts.tv_sec, &tm);
		snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
		         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		at = ts.tv_sec;
	}
	ms = (int)(ts.tv_nsec / 1000000) % 1000;
	text[19] = '.';
	text[20] = (char)('0' + ms / 100);
	text[21] = (char)('0' + ms / 10 % 10);
	text[22] = (char)('0' + ms % 10);
	text[23] = 'Z';
	text[24] = '\0';
	return text;
}

void
log_set_pid(void)
{
	my_pid = (int)getpid();
}

static int
pid(void)
{
	return my_pid ? my_pid : (int)getpid();
}

void
log_msg(enum log_level lv, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n, m;

	if (lv < min_level)
		return;
	n = snprintf(line, sizeof(line), "%s level=%s pid=%d ", stamp(), names[lv], pid());
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void
log_request(enum log_level lv, const struct log_req *q)
{
	char line[2048];
	struct sbuf l = SB_INIT(line);

	if (lv < min_level)
		return;
	sb_str(&l, stamp());
	sb_lit(&l, " level=");
	sb_str(&l, names[lv]);
	sb_lit(&l, " pid=");
	sb_num(&l, pid(), 1);
	sb_lit(&l, " request id=");
	sb_str(&l, q->id);
	sb_lit(&l, " method=");
	sb_esc(&l, q->method, 16);
	sb_lit(&l, " path=\"");
	sb_esc(&l, q->path, 200);
	sb_lit(&l, "\" route=\"");
	sb_str(&l, q->route);
	sb_lit(&l, "\" user=\"");
	sb_esc(&l, q->user, 128);
	sb_lit(&l, "\" role=");
	sb_str(&l, q->role);
	sb_lit(&l, " status=");
	sb_num(&l, q->status, 1);
	sb_lit(&l, " dur_ms=");
	sb_num(&l, q->us / 1000, 1);
	sb_lit(&l, ".");
	sb_num(&l, q->us % 1000, 3);
	if (q->error) {
		sb_lit(&l, " error=\"");
		sb_esc(&l, q->error, 400);
		sb_lit(&l, "\"");
	}
	(void)!write(STDERR_FILENO, line, sb_end(&l, '\n'));
}

/*
 * log.c - logfmt-style lines on stderr.  Each line is built in one buffer and
 * written with one write(2) so lines from several workers never interleave.
 */
#include "berth.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO_;
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

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != at) {
		gmtime_r(&ts.tv_sec, &tm);
		snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
		         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		at = ts.tv_sec;
	}
	snprintf(text + 19, sizeof(text) - 19, ".%03dZ", (int)(ts.tv_nsec / 1000000) % 1000);
	return text;
}

void
log_msg(enum log_level lv, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n, m;

	if (lv < min_level)
		return;
	n = snprintf(line, sizeof(line), "%s level=%s pid=%d ", stamp(), names[lv], (int)getpid());
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

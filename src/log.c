/*
 * log.c - logfmt-style lines on stderr.  Each line is built in one buffer and
 * written with one write(2) so lines from several workers never interleave.
 */
#include "berth.h"
#include "log.h"

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

struct lbuf {
	char b[2048];
	size_t n;
};

static void
lb_raw(struct lbuf *l, const char *s)
{
	size_t k = strlen(s);

	if (k > sizeof(l->b) - 2 - l->n)
		k = sizeof(l->b) - 2 - l->n;
	memcpy(l->b + l->n, s, k);
	l->n += k;
}

/* A value from the client: quotes, backslashes and control bytes are escaped. */
static void
lb_esc(struct lbuf *l, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; s && s[i] && i < max && l->n < sizeof(l->b) - 6; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			l->b[l->n++] = '\\';
			l->b[l->n++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			l->b[l->n++] = '\\';
			l->b[l->n++] = 'x';
			l->b[l->n++] = hex[c >> 4];
			l->b[l->n++] = hex[c & 15];
		} else {
			l->b[l->n++] = (char)c;
		}
	}
}

static void
lb_num(struct lbuf *l, long v, int min_digits)
{
	char d[24];
	int k = 0;

	if (v < 0) {
		lb_raw(l, "-");
		v = -v;
	}
	do {
		d[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && k < (int)sizeof(d));
	while (k < min_digits && k < (int)sizeof(d))
		d[k++] = '0';
	while (k > 0 && l->n < sizeof(l->b) - 2)
		l->b[l->n++] = d[--k];
}

void
log_request(enum log_level lv, const struct log_req *q)
{
	struct lbuf l;

	if (lv < min_level)
		return;
	l.n = 0;
	lb_raw(&l, stamp());
	lb_raw(&l, " level=");
	lb_raw(&l, names[lv]);
	lb_raw(&l, " pid=");
	lb_num(&l, pid(), 1);
	lb_raw(&l, " request id=");
	lb_raw(&l, q->id);
	lb_raw(&l, " method=");
	lb_esc(&l, q->method, 16);
	lb_raw(&l, " path=\"");
	lb_esc(&l, q->path, 200);
	lb_raw(&l, "\" route=\"");
	lb_raw(&l, q->route);
	lb_raw(&l, "\" user=\"");
	lb_esc(&l, q->user, 128);
	lb_raw(&l, "\" role=");
	lb_raw(&l, q->role);
	lb_raw(&l, " status=");
	lb_num(&l, q->status, 1);
	lb_raw(&l, " dur_ms=");
	lb_num(&l, q->us / 1000, 1);
	lb_raw(&l, ".");
	lb_num(&l, q->us % 1000, 3);
	if (q->error) {
		lb_raw(&l, " error=\"");
		lb_esc(&l, q->error, 400);
		lb_raw(&l, "\"");
	}
	l.b[l.n++] = '\n';
	(void)!write(STDERR_FILENO, l.b, l.n);
}

/*
 * log: logfmt lines, one write(2) each. Must stay async-signal-unsafe-free enough to be called
 * from any module; it never allocates.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *log_proc = "corral";
static enum log_level log_min = LOG_INFO;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level lvl)
{
	log_min = lvl;
}

void log_init(const char *proc)
{
	const char *env = getenv("CORRAL_LOG_LEVEL");

	log_proc = proc;
	if (!env)
		return;
	for (int i = 0; i <= LOG_ERROR; i++)
		if (strcmp(env, level_names[i]) == 0)
			log_min = (enum log_level)i;
}

void log_emit(enum log_level lvl, const char *mod, const char *ev, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int w;

	if (lvl < log_min)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	w = snprintf(line, sizeof(line),
		     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ lvl=%s proc=%s pid=%d mod=%s ev=%s",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (long)(tv.tv_usec / 1000), level_names[lvl], log_proc, (int)getpid(), mod, ev);
	n = w < 0 ? 0 : (size_t)w;
	if (fmt && *fmt && n < sizeof(line) - 2) {
		va_list ap;

		line[n++] = ' ';
		va_start(ap, fmt);
		w = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
		n += w < 0 ? 0 : (size_t)w;
	}
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

char *log_quote(char *out, size_t n, const char *s, size_t len)
{
	size_t o = 0;

	if (n < 3) {
		if (n)
			out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (size_t i = 0; i < len && i < LOG_QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 6 >= n)
			break;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	if (len > LOG_QUOTE_MAX && o + 5 < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

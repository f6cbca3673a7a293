/*
 * log: structured one-line logs in logfmt on stderr.
 * `ts=… lvl=info proc=corrald pid=4121 mod=job ev=job.started job=1724-0`
 * Each line is built in one buffer and written with one write(2) (≤ LOG_LINE_MAX bytes).
 * Never log secrets or env values; quote untrusted strings with log_quote().
 */
#ifndef CORRAL_LOG_H
#define CORRAL_LOG_H

#include <stddef.h>

#define LOG_LINE_MAX 4096
#define LOG_QUOTE_MAX 200	/* untrusted strings are cut to this many bytes */

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the process name printed as proc=, and the minimum level (from $CORRAL_LOG_LEVEL if set). */
void log_init(const char *proc);
void log_set_level(enum log_level lvl);

/* mod: module name; ev: stable dotted event name; fmt: further logfmt pairs (may be NULL). */
void log_emit(enum log_level lvl, const char *mod, const char *ev, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Writes s (len bytes, untrusted) as a quoted logfmt value into out (size n): escapes quotes,
 * backslashes and control bytes, cuts at LOG_QUOTE_MAX. Returns out. */
char *log_quote(char *out, size_t n, const char *s, size_t len);

#ifndef LOG_MOD
#define LOG_MOD "main"
#endif
#define log_debug(ev, ...) log_emit(LOG_DEBUG, LOG_MOD, ev, __VA_ARGS__)
#define log_info(ev, ...) log_emit(LOG_INFO, LOG_MOD, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_emit(LOG_WARN, LOG_MOD, ev, __VA_ARGS__)
#define log_error(ev, ...) log_emit(LOG_ERROR, LOG_MOD, ev, __VA_ARGS__)

#endif

/*
 * config_file: reads corrald's --config INI file with inih and hands each (section, key, value)
 * to a callback (config.c maps keys to its flags). It bounds the file (CONFIG_FILE_MAX bytes,
 * CONFIG_FILE_LINE_MAX per line) before parsing, turns inline comments and continuation lines
 * off (a secret may hold ';'), and stops at the first bad line, naming it. It must never put a
 * value into an error message: values may be secrets.
 */
#include "config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

struct ini_ctx {
	config_file_fn *fn;
	void *ud;
	struct errmsg *reterr;
	int err;
};

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *c = user;
	int r;

	r = c->fn(c->ud, section, name, value, c->reterr);
	if (r < 0) {
		c->err = r;
		return 0;	/* inih: stop, report this line */
	}
	return 1;
}

/* Reads the whole file (a regular file of at most CONFIG_FILE_MAX bytes) into *ret (NUL
 * terminated); *mode gets its permission bits. */
static int read_all(const char *path, char **ret, mode_t *mode, struct errmsg *reterr)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errmsg_set(reterr, -errno, "--config %.200s: %s", path, errno_name(-errno));
	if (fstat(fd, &st) < 0) {
		r = errmsg_set(reterr, -errno, "--config %.200s: %s", path, errno_name(-errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = errmsg_set(reterr, -EINVAL, "--config %.200s: not a regular file", path);
		goto out;
	}
	if (st.st_size > CONFIG_FILE_MAX) {
		r = errmsg_set(reterr, -EFBIG, "--config %.200s: larger than %d bytes", path,
			       CONFIG_FILE_MAX);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = errmsg_set(reterr, -errno, "--config %.200s: read: %s", path,
				       errno_name(-errno));
			goto out;
		}
		if (n == 0)
			break;	/* shrank meanwhile: parse what is there */
		got += (size_t)n;
	}
	text[got] = '\0';
	if (strlen(text) != got) {
		r = errmsg_set(reterr, -EINVAL, "--config %.200s: holds a NUL byte", path);
		goto out;
	}
	*mode = st.st_mode & 07777;
	*ret = text;
	text = NULL;
	r = 0;
out:
	if (text) {
		explicit_bzero(text, got);
		free(text);
	}
	close(fd);
	return r;
}

/* 1-based number of the first line longer than CONFIG_FILE_LINE_MAX, or 0. */
static int long_line(const char *text)
{
	int line = 1;

	for (const char *p = text; *p; line++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len > CONFIG_FILE_LINE_MAX)
			return line;
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

int config_file_load(const char *path, config_file_fn *fn, void *ud, mode_t *ret_mode,
		     struct errmsg *reterr)
{
	struct ini_ctx c = { .fn = fn, .ud = ud, .reterr = reterr };
	struct errmsg inner = { "" };
	char *text = NULL;
	mode_t mode = 0;
	int r, line;

	r = read_all(path, &text, &mode, reterr);
	if (r < 0)
		return r;
	line = long_line(text);
	if (line > 0) {
		r = errmsg_set(reterr, -EINVAL, "--config %.200s line %d: longer than %d bytes",
			       path, line, CONFIG_FILE_LINE_MAX);
		goto out;
	}
	/* Debian's inih takes its options at run time (ini.h); its heap line buffer starts at
	 * ini_initial_alloc and only grows (up to ini_max_line) with realloc allowed. Lines were
	 * bounded above, so no line is ever cut in two. */
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_initial_alloc = 256;
	ini_max_line = CONFIG_FILE_LINE_MAX + 3;	/* + "\r\n\0" */
	ini_allow_inline_comments = false;
	ini_allow_multiline = false;
	ini_allow_no_value = false;
	ini_stop_on_first_error = true;
	c.reterr = &inner;
	line = ini_parse_string(text, on_pair, &c);
	if (line == -2) {
		r = -ENOMEM;
		goto out;
	}
	if (line != 0) {
		r = c.err < 0 ? c.err : -EINVAL;
		r = errmsg_set(reterr, r, "--config %.200s line %d: %s", path, line,
			       inner.msg[0] ? inner.msg : "not a [section] or a key = value line");
		goto out;
	}
	if (ret_mode)
		*ret_mode = mode;
	r = 0;
out:
	explicit_bzero(text, strlen(text));
	free(text);
	return r;
}

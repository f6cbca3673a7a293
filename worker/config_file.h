/*
 * config_file: the --config INI file of corrald (inih). Reads one file, bounded, and calls fn for
 * every key = value pair in order; config.c gives the keys their meaning. No values are logged
 * or put in error messages (a [credentials] section holds secrets).
 */
#ifndef CORRALD_CONFIG_FILE_H
#define CORRALD_CONFIG_FILE_H

#include <sys/types.h>

#include "errmsg.h"

#define CONFIG_FILE_MAX (256 * 1024)	/* bytes of the whole file */
#define CONFIG_FILE_LINE_MAX 8192	/* bytes of one line */

/* section: "" before any [section] header. Returns 0, or -errno with reterr set (one line, no
 * value in it): parsing stops there. */
typedef int config_file_fn(void *ud, const char *section, const char *name, const char *value,
			   struct errmsg *reterr);

/* Parses path; *ret_mode (may be NULL) gets the file's permission bits, so the caller can refuse
 * secrets in a file others can read. 0, or -errno with reterr naming the file and the line. */
int config_file_load(const char *path, config_file_fn *fn, void *ud, mode_t *ret_mode,
		     struct errmsg *reterr);

#endif

/*
 * errmsg: formatting of one-line error messages and errno names. libc only, never allocates.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "errmsg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int errmsg_set(struct errmsg *reterr, int r, const char *fmt, ...)
{
	va_list ap;

	if (!reterr)
		return r;
	va_start(ap, fmt);
	vsnprintf(reterr->msg, sizeof(reterr->msg), fmt, ap);
	va_end(ap);
	return r;
}

const char *errno_name(int err)
{
	const char *name;

	if (err < 0)
		err = -err;
	name = strerrorname_np(err);
	return name ? name : "EUNKNOWN";
}

/*
 * script: runs a Lua script with EVALSHA, falling back to EVAL when the server answers NOSCRIPT
 * (its script cache is empty after a restart or failover), and reloads it. The script text is
 * the caller's static string; nothing else about Redis scripting leaks out of here.
 */
#ifndef CORRALD_SCRIPT_H
#define CORRALD_SCRIPT_H

#include <stddef.h>

#include "redis_conn.h"

#define SCRIPT_ARGS_MAX 32

struct script {
	const char *name;	/* for logs */
	const char *src;
	char sha[41];		/* "" until SCRIPT LOAD answered */
};

/* SCRIPT LOAD on a fresh connection (call from the up() hook). 0 or negative errno. */
int script_load(struct rconn *rc, struct script *s);
/* Runs the script with nkeys keys followed by the other args (args[0..nargs), binary-safe).
 * fn (may be NULL) gets the script's reply (or NULL when the outcome is unknown). The arguments are copied.
 * 0, or negative errno (fn is not called). */
int script_eval(struct rconn *rc, struct script *s, int nkeys, int nargs, const char **args,
		const size_t *lens, rconn_reply_fn *fn, void *priv);

#endif

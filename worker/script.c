/*
 * script: EVALSHA with NOSCRIPT fallback. It keeps a private copy of each call's arguments until
 * the reply came, so the fallback can re-send them; it must not interpret the script's reply.
 */
#define LOG_MOD "redis"
#include "script.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "log.h"

struct script_call {
	struct script *s;
	rconn_reply_fn *fn;
	void *priv;
	int nkeys, nargs;
	bool fell_back;
	const char *args[SCRIPT_ARGS_MAX];
	size_t lens[SCRIPT_ARGS_MAX];
	char data[];		/* the argument bytes, back to back */
};

static void on_load(struct rconn *rc, struct redisReply *reply, void *priv)
{
	struct script *s = priv;

	(void)rc;
	if (!reply)
		return;
	if (reply->type != REDIS_REPLY_STRING || reply->len != 40) {
		log_error("script.load_failed", "script=%s err=\"%.200s\"", s->name,
			  reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
		return;
	}
	memcpy(s->sha, reply->str, 40);
	s->sha[40] = '\0';
}

int script_load(struct rconn *rc, struct script *s)
{
	const char *argv[] = { "SCRIPT", "LOAD", s->src };
	size_t lens[] = { 6, 4, strlen(s->src) };

	return rconn_argv(rc, on_load, s, 3, argv, lens);
}

static int send_call(struct rconn *rc, struct script_call *c);

static void on_eval(struct rconn *rc, struct redisReply *reply, void *priv)
{
	struct script_call *c = priv;

	if (reply && reply->type == REDIS_REPLY_ERROR && !c->fell_back &&
	    strncmp(reply->str, "NOSCRIPT", 8) == 0) {
		log_info("script.noscript", "script=%s", c->s->name);
		c->s->sha[0] = '\0';
		c->fell_back = true;
		(void)script_load(rc, c->s);
		if (send_call(rc, c) == 0)
			return;
		reply = NULL;	/* could not re-send: outcome unknown */
	}
	if (c->fn)
		c->fn(rc, reply, c->priv);
	free(c);
}

static int send_call(struct rconn *rc, struct script_call *c)
{
	const char *argv[SCRIPT_ARGS_MAX + 3];
	size_t lens[SCRIPT_ARGS_MAX + 3];
	char nk[16];
	int n = 0;

	snprintf(nk, sizeof(nk), "%d", c->nkeys);
	if (c->s->sha[0] && !c->fell_back) {
		argv[n] = "EVALSHA";
		lens[n++] = 7;
		argv[n] = c->s->sha;
		lens[n++] = 40;
	} else {
		argv[n] = "EVAL";
		lens[n++] = 4;
		argv[n] = c->s->src;
		lens[n++] = strlen(c->s->src);
	}
	argv[n] = nk;
	lens[n++] = strlen(nk);
	for (int i = 0; i < c->nargs; i++) {
		argv[n] = c->args[i];
		lens[n++] = c->lens[i];
	}
	return rconn_argv(rc, on_eval, c, n, argv, lens);
}

int script_eval(struct rconn *rc, struct script *s, int nkeys, int nargs, const char **args,
		const size_t *lens, rconn_reply_fn *fn, void *priv)
{
	struct script_call *c;
	size_t total = 0, off = 0;
	int r;

	if (nargs < nkeys || nargs > SCRIPT_ARGS_MAX || nkeys < 0)
		return -E2BIG;
	for (int i = 0; i < nargs; i++)
		total += lens[i];
	c = malloc(sizeof(*c) + total + 1);
	if (!c)
		return -ENOMEM;
	c->s = s;
	c->fn = fn;
	c->priv = priv;
	c->nkeys = nkeys;
	c->nargs = nargs;
	c->fell_back = false;
	for (int i = 0; i < nargs; i++) {
		memcpy(c->data + off, args[i], lens[i]);
		c->args[i] = c->data + off;
		c->lens[i] = lens[i];
		off += lens[i];
	}
	r = send_call(rc, c);
	if (r < 0)
		free(c);
	return r;
}

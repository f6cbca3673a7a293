/*
 * template_cache: see template_cache.h. One HGETALL at a time; a load requested while one is in
 * flight runs right after it (so a job naming a template written a moment ago sees it). Each
 * record is decoded once per load: valid ones are kept decoded with their bytes (for copies),
 * invalid ones with the decode error, so a job can say why. A failed load keeps the previous
 * records. It logs added/changed/deleted records and invalid ones, once per load.
 */
#define LOG_MOD "template"
#include "template_cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <hiredis/hiredis.h>

#include "log.h"

struct tent {
	char name[WIRE_TEMPLATE_MAX + 1];
	struct wire_template *t;	/* NULL when invalid */
	uint8_t *raw;
	size_t len;
	char bad[ERRMSG_MAX];
};

struct tcache {
	struct ev_loop *loop;
	struct rconn *cmd;
	char key[TCACHE_KEY_MAX];
	struct tcache_hooks hooks;
	void *ud;
	struct tent *ents;
	size_t n;
	bool loaded, ok, in_flight, again;
	struct tcache_wait *waiting;	/* wait for the load in flight to end */
	struct tcache_wait *next_waiting;	/* wait for the next load */
	ev_timer refresh;
};

static void tents_free(struct tent *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		wire_template_free(e[i].t);
		free(e[i].raw);
	}
	free(e);
}

static struct tent *find(struct tent *e, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].name, name) == 0)
			return &e[i];
	return NULL;
}

/* Calls each waiter once; a done() may cancel waiters still in the list. */
static void run_waiters(struct tcache_wait **list)
{
	struct tcache_wait *local = *list;

	*list = NULL;
	if (local)
		local->pprev = &local;
	while (local) {
		struct tcache_wait *w = local;

		local = w->next;
		if (local)
			local->pprev = &local;
		w->next = NULL;
		w->pprev = NULL;
		w->done(w);
	}
}

static int load(struct tcache *c);

static void diff(struct tcache *c, struct tent *old, size_t nold)
{
	for (size_t i = 0; i < c->n; i++) {
		struct tent *e = &c->ents[i], *o = find(old, nold, e->name);
		uint32_t v = e->t ? e->t->version : 0, ov = o && o->t ? o->t->version : 0;

		if (o && v == ov && (e->t || strcmp(o->bad, e->bad) == 0))
			continue;
		if (e->t)
			log_info(o ? "template.changed" : "template.added",
				 "template=%s version=%u image=%s vcpus=%u memory_mib=%u",
				 e->name, (unsigned)v, e->t->image, (unsigned)e->t->vcpus,
				 (unsigned)e->t->memory_mib);
		else
			log_warn("template.invalid", "template=%s err=\"%.200s\"", e->name, e->bad);
		if (c->hooks.changed)
			c->hooks.changed(e->name, e->t, c->ud);
	}
	for (size_t i = 0; i < nold; i++)
		if (!find(c->ents, c->n, old[i].name)) {
			log_info("template.deleted", "template=%s", old[i].name);
			if (c->hooks.changed)
				c->hooks.changed(old[i].name, NULL, c->ud);
		}
}

static int parse(const redisReply *r, struct tent **ret, size_t *retn)
{
	size_t n = 0, cap = r->elements / 2;
	struct tent *e;

	if (cap > TCACHE_ENTRIES_MAX) {
		log_warn("template.too_many", "records=%zu kept=%d", cap, TCACHE_ENTRIES_MAX);
		cap = TCACHE_ENTRIES_MAX;
	}
	e = calloc(cap ? cap : 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i + 1 < r->elements && n < cap; i += 2) {
		const redisReply *f = r->element[i], *v = r->element[i + 1];
		struct errmsg em = { "" };
		struct tent *t = &e[n];

		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
		    f->len == 0 || f->len > WIRE_TEMPLATE_MAX || memchr(f->str, 0, f->len))
			continue;	/* not a template name: ignored */
		memcpy(t->name, f->str, f->len);
		t->name[f->len] = '\0';
		if (v->len > TCACHE_RECORD_MAX) {
			snprintf(t->bad, sizeof(t->bad), "record is %zu bytes, over %u", v->len,
				 TCACHE_RECORD_MAX);
		} else if (wire_template_decode(v->str, v->len, &t->t, &em) < 0) {
			t->t = NULL;
			snprintf(t->bad, sizeof(t->bad), "%s", em.msg[0] ? em.msg : "cannot decode");
		} else if (strcmp(t->t->name, t->name) != 0) {
			snprintf(t->bad, sizeof(t->bad), "record name '%.64s' differs from its field",
				 t->t->name);
			t->t = wire_template_free(t->t);
		} else if (!(t->raw = malloc(v->len))) {
			tents_free(e, n + 1);
			return -ENOMEM;
		} else {
			memcpy(t->raw, v->str, v->len);
			t->len = v->len;
		}
		n++;
	}
	*ret = e;
	*retn = n;
	return 0;
}

static void on_load(struct rconn *rc, struct redisReply *reply, void *priv)
{
	struct tcache *c = priv;
	struct tent *ents = NULL, *old;
	size_t n = 0, nold;
	bool first = !c->loaded;

	(void)rc;
	c->in_flight = false;
	c->ok = false;
	if (!reply) {
		/* connection lost: tcache_on_up() loads again; waiters hear now (they re-check) */
	} else if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2) {
		log_warn("template.load_failed", "key=%s err=\"%.200s\"", c->key,
			 reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
	} else if (parse(reply, &ents, &n) < 0) {
		log_warn("template.load_failed", "key=%s err=ENOMEM", c->key);
	} else {
		old = c->ents;
		nold = c->n;
		c->ents = ents;
		c->n = n;
		c->loaded = true;
		c->ok = true;
		diff(c, old, nold);
		tents_free(old, nold);
		if (first) {
			log_info("template.loaded", "key=%s records=%zu", c->key, n);
			if (c->hooks.loaded)
				c->hooks.loaded(c->ud);
		}
	}
	run_waiters(&c->waiting);
	if (c->again || c->next_waiting) {
		c->again = false;
		c->waiting = c->next_waiting;
		if (c->waiting)
			c->waiting->pprev = &c->waiting;
		c->next_waiting = NULL;
		if (load(c) < 0)
			run_waiters(&c->waiting);
	}
}

static int load(struct tcache *c)
{
	const char *argv[] = { "HGETALL", c->key };
	size_t lens[] = { 7, strlen(c->key) };
	int r;

	if (c->in_flight) {
		c->again = true;
		return 0;
	}
	if (!rconn_is_up(c->cmd))
		return -ENOTCONN;
	r = rconn_argv(c->cmd, on_load, c, 2, argv, lens);
	if (r == 0)
		c->in_flight = true;
	return r;
}

static void on_refresh(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	(void)load(w->data);
}

int tcache_new(struct ev_loop *loop, struct rconn *cmd, const char *prefix,
	       const struct tcache_hooks *hooks, void *ud, struct tcache **ret)
{
	struct tcache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	if ((size_t)snprintf(c->key, sizeof(c->key), "%stemplates", prefix) >= sizeof(c->key)) {
		free(c);
		return -ENAMETOOLONG;
	}
	c->loop = loop;
	c->cmd = cmd;
	c->hooks = *hooks;
	c->ud = ud;
	ev_timer_init(&c->refresh, on_refresh, TCACHE_REFRESH_MS / 1000.0,
		      TCACHE_REFRESH_MS / 1000.0);
	c->refresh.data = c;
	ev_timer_start(loop, &c->refresh);
	*ret = c;
	return 0;
}

struct tcache *tcache_free(struct tcache *c)
{
	if (!c)
		return NULL;
	ev_timer_stop(c->loop, &c->refresh);
	/* waiters are jobs, freed before us; nothing is called back */
	tents_free(c->ents, c->n);
	free(c);
	return NULL;
}

void tcache_on_up(struct tcache *c)
{
	c->in_flight = false;	/* a load in flight got its NULL reply already */
	if (load(c) < 0)
		run_waiters(&c->waiting);
}

bool tcache_loaded(const struct tcache *c)
{
	return c->loaded;
}

bool tcache_ok(const struct tcache *c)
{
	return c->ok;
}

const struct wire_template *tcache_find(const struct tcache *c, const char *name,
					const char **bad)
{
	struct tent *e = find(c->ents, c->n, name);

	if (bad)
		*bad = e && !e->t ? e->bad : "";
	return e ? e->t : NULL;
}

int tcache_copy(const struct tcache *c, const char *name, struct wire_template **ret,
		struct errmsg *reterr)
{
	struct tent *e = find(c->ents, c->n, name);

	if (!e)
		return -ENOENT;
	if (!e->t)
		return errmsg_set(reterr, -EINVAL, "template '%s' is invalid: %s", name, e->bad);
	return wire_template_decode(e->raw, e->len, ret, reterr);
}

void tcache_wait(struct tcache *c, struct tcache_wait *w)
{
	struct tcache_wait **list = c->in_flight ? &c->next_waiting : &c->waiting;

	w->next = *list;
	if (w->next)
		w->next->pprev = &w->next;
	w->pprev = list;
	*list = w;
	if (c->in_flight)
		return;
	if (load(c) < 0 && rconn_is_up(c->cmd))
		run_waiters(&c->waiting);	/* cannot send: answer now (they see !ok) */
	/* not connected: tcache_on_up() loads and answers */
}

void tcache_wait_cancel(struct tcache_wait *w)
{
	if (!w->pprev)
		return;
	*w->pprev = w->next;
	if (w->next)
		w->next->pprev = w->pprev;
	w->next = NULL;
	w->pprev = NULL;
}

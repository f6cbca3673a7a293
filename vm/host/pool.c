/*
 * pool: warm VMs of one template, ready to hand out. It owns a template (template.c; rebuilt
 * after a backoff when building fails, and when clones keep failing to restore), makes clones
 * in the background on the caller's loop (at most VM_POOL_INFLIGHT_MAX at once: QEMU spawn is
 * quick, the rest is callbacks), runs the warm-up command in each clone before it counts as
 * ready (the TCG translation cache is per QEMU process: the job must not pay for filling it),
 * and hands a ready VM over with vm_pool_acquire(): the VM's callbacks go to the new owner and
 * the agent gets a fresh INIT (wall clock, random seed), since every clone wakes with its
 * template's clock and RNG state. Without a template (not built yet, or failed) it boots cold.
 *
 * Size: between min and max. A claim that finds the pool empty raises the target by one; a
 * ready VM idle for idle_ms while the target is above min lowers it by one and is destroyed.
 * It must not know about jobs or Redis.
 */
#define LOG_MOD "pool"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "vm_int.h"

#define VM_POOL_TPL_RETRY_MS 5000u
#define VM_POOL_FALLBACKS_MAX 2u	/* consecutive failed restores → rebuild the template */
#define VM_POOL_TICK_MS 500u

enum pent_state { PENT_FREE, PENT_STARTING, PENT_WARMING, PENT_READY };

struct pent {
	struct vm_pool *pool;
	enum pent_state state;
	struct vm *vm;
	uint32_t exec_id;
	uint64_t t_start_ms, t_ready_ms;
};

struct vm_pool {
	struct vm_runtime *rt;
	struct ev_loop *loop;
	char name[40];
	char *warmup[33];
	char image[40];			/* the template's image */
	char rootfs[PATH_MAX];		/* its root disk for cold boots, "" = base */
	struct vm_template_cfg tcfg;
	struct vm_template *tpl;
	bool tpl_ok;
	unsigned min, max, target, inflight_max, idle_ms;
	unsigned fallbacks_in_row;
	struct {
		uint64_t mem_max, disk_max;
		uint32_t pids_max;
	} cfg_limits;			/* of the per-clone warm-up (vm_pool_cfg) */
	bool no_template;
	bool (*admit)(const struct vm_pool *p, void *ud);
	void *admit_ud;
	uint64_t last_miss_ms;
	struct pent ents[VM_POOL_MAX];
	struct vm_pool_stats st;
	ev_timer kick, tick, tpl_retry;
};

static void kick(struct vm_pool *p)
{
	if (!ev_is_active(&p->kick) && !ev_is_pending(&p->kick)) {
		ev_timer_set(&p->kick, 0., 0.);
		ev_timer_start(p->loop, &p->kick);
	}
}

static void count(const struct vm_pool *p, unsigned *ready, unsigned *busy)
{
	*ready = *busy = 0;
	for (unsigned i = 0; i < VM_POOL_MAX; i++) {
		if (p->ents[i].state == PENT_READY)
			(*ready)++;
		else if (p->ents[i].state != PENT_FREE)
			(*busy)++;
	}
}

static void pent_drop(struct pent *e)
{
	e->vm = vm_destroy(e->vm);
	e->state = PENT_FREE;
}

static void pent_ready(struct pent *e)
{
	struct vm_pool *p = e->pool;
	uint64_t now = time_mono_ms();

	e->state = PENT_READY;
	e->t_ready_ms = now;
	p->st.ready_ms_last = now - e->t_start_ms;
	log_debug("pool.vm_ready", "pool=%s vm=%u restored=%d ready_ms=%llu", p->name,
		  vm_id(e->vm), vm_restored(e->vm), (unsigned long long)p->st.ready_ms_last);
}

static void on_ready(struct vm *vm, void *ud)
{
	struct pent *e = ud;
	struct vm_pool *p = e->pool;
	struct vm_exec_req req = { .argv = p->warmup, .uid = VM_USER_UID, .gid = VM_USER_GID,
				   .mem_max = p->cfg_limits.mem_max,
				   .disk_max = p->cfg_limits.disk_max,
				   .pids_max = p->cfg_limits.pids_max };
	struct errmsg em = { "" };
	uint64_t ms = time_mono_ms() - e->t_start_ms;

	if (vm_restored(vm)) {
		p->st.clones++;
		p->st.clone_ms_last = ms;
		p->st.clone_ms_sum += ms;
		p->fallbacks_in_row = 0;
	} else {
		p->st.boots++;
		p->st.boot_ms_last = ms;
		p->st.boot_ms_sum += ms;
		if (vm_clone_fell_back(vm)) {
			p->st.clone_fallbacks++;
			if (++p->fallbacks_in_row >= VM_POOL_FALLBACKS_MAX && p->tpl &&
			    vm_template_ready(p->tpl)) {
				vm_template_invalidate(p->tpl);
				p->tpl_ok = false;
				ev_timer_set(&p->tpl_retry, 0., 0.);
				ev_timer_start(p->loop, &p->tpl_retry);
			}
		}
	}
	if (!p->warmup[0]) {
		pent_ready(e);
		return;
	}
	e->state = PENT_WARMING;
	if (vm_exec(vm, &req, &e->exec_id, &em) < 0) {
		log_warn("pool.warmup_failed", "pool=%s vm=%u msg=\"%s\"", p->name, vm_id(vm),
			 em.msg);
		p->st.failures++;
		pent_drop(e);
		kick(p);
	}
}

static void on_exited(struct vm *vm, uint32_t id, int code, int sig, void *ud)
{
	struct pent *e = ud;

	if (e->state != PENT_WARMING || id != e->exec_id)
		return;
	if (code != 0) {
		log_warn("pool.warmup_failed", "pool=%s vm=%u exit=%d signal=%d", e->pool->name,
			 vm_id(vm), code, sig);
		e->pool->st.failures++;
		pent_drop(e);
		kick(e->pool);
		return;
	}
	pent_ready(e);
	kick(e->pool);
}

static void on_exec_failed(struct vm *vm, uint32_t id, int err, const char *msg, void *ud)
{
	on_exited(vm, id, 127, 0, ud);
}

static void on_failed(struct vm *vm, int err, const char *why, void *ud)
{
	struct pent *e = ud;
	char q[LOG_QUOTE_MAX + 16];

	log_warn("pool.vm_failed", "pool=%s vm=%u err=%s reason=%s", e->pool->name, vm_id(vm),
		 errno_name(err), log_quote(q, sizeof(q), why, strlen(why)));
	e->pool->st.failures++;
	pent_drop(e);
	kick(e->pool);
}

static const struct vm_events pool_events = {
	.ready = on_ready,
	.exited = on_exited,
	.exec_failed = on_exec_failed,
	.failed = on_failed,
};

static int start_one(struct vm_pool *p)
{
	struct errmsg em = { "" };
	struct pent *e = NULL;
	int r;

	for (unsigned i = 0; i < VM_POOL_MAX && !e; i++)
		if (p->ents[i].state == PENT_FREE)
			e = &p->ents[i];
	if (!e)
		return -ENOSPC;
	*e = (struct pent){ .pool = p, .state = PENT_STARTING, .t_start_ms = time_mono_ms() };
	if (p->tpl_ok) {
		r = vm_clone(p->tpl, &pool_events, e, &e->vm, &em);
	} else {
		struct vm_spec spec = { .mem_mib = p->tcfg.mem_mib, .vcpus = p->tcfg.vcpus };

		snprintf(spec.rootfs, sizeof(spec.rootfs), "%s", p->rootfs);
		r = vm_start_spec(p->rt, &spec, &pool_events, e, &e->vm, &em);
	}
	if (r < 0) {
		e->state = PENT_FREE;
		e->vm = NULL;
		p->st.failures++;
		log_warn("pool.start_failed", "pool=%s err=%s msg=\"%s\"", p->name, errno_name(r),
			 em.msg);
	}
	return r;
}

static void kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vm_pool *p = w->data;
	unsigned ready, busy;

	/* While the template builds, cold boots would only slow it down (2 cores). */
	if (!p->tpl_ok && p->tpl && !p->no_template)
		return;
	count(p, &ready, &busy);
	while (ready + busy < p->target && busy < p->inflight_max) {
		if (p->admit && !p->admit(p, p->admit_ud))
			break;	/* over the caller's budget: the next tick asks again */
		if (start_one(p) < 0)
			break;
		busy++;
	}
}

/* Shrinks: one idle VM per tick past idle_ms, while above min and nobody missed lately. */
static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vm_pool *p = w->data;
	uint64_t now = time_mono_ms();
	struct pent *oldest = NULL;

	if (p->target > p->min && now - p->last_miss_ms > p->idle_ms) {
		for (unsigned i = 0; i < VM_POOL_MAX; i++) {
			struct pent *e = &p->ents[i];

			if (e->state == PENT_READY && now - e->t_ready_ms > p->idle_ms &&
			    (!oldest || e->t_ready_ms < oldest->t_ready_ms))
				oldest = e;
		}
		if (oldest) {
			p->target--;
			p->st.shrinks++;
			log_info("pool.shrink", "pool=%s target=%u", p->name, p->target);
			pent_drop(oldest);
		}
	}
	kick(p);
}

static void tpl_done(struct vm_template *t, int err, void *ud)
{
	struct vm_pool *p = ud;

	if (err < 0) {
		log_warn("pool.template_failed", "pool=%s err=%s retry_ms=%u fallback=boot", p->name,
			 errno_name(err), VM_POOL_TPL_RETRY_MS);
		p->st.template_failures++;
		p->tpl = vm_template_free(p->tpl);
		p->tpl_ok = false;
		ev_timer_set(&p->tpl_retry, VM_POOL_TPL_RETRY_MS / 1000.0, 0.);
		ev_timer_start(p->loop, &p->tpl_retry);
		return;
	}
	p->tpl_ok = true;
	p->fallbacks_in_row = 0;
	log_info("pool.template_ready", "pool=%s key=%s", p->name, vm_template_key(t));
	kick(p);
}

static void tpl_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vm_pool *p = w->data;
	struct errmsg em = { "" };
	int r;

	p->tpl = vm_template_free(p->tpl);
	p->tpl_ok = false;
	if (p->admit && !p->admit(p, p->admit_ud)) {	/* no room for the build VM yet */
		ev_timer_set(&p->tpl_retry, VM_POOL_TICK_MS / 1000.0, 0.);
		ev_timer_start(p->loop, &p->tpl_retry);
		return;
	}
	r = vm_template_new(p->rt, &p->tcfg, tpl_done, p, &p->tpl, &em);
	if (r < 0) {
		log_warn("pool.template_failed", "pool=%s err=%s msg=\"%s\"", p->name,
			 errno_name(r), em.msg);
		ev_timer_set(&p->tpl_retry, VM_POOL_TPL_RETRY_MS / 1000.0, 0.);
		ev_timer_start(p->loop, &p->tpl_retry);
	}
}

int vm_pool_new(struct vm_runtime *rt, const struct vm_pool_cfg *cfg, struct vm_pool **ret,
		struct errmsg *reterr)
{
	struct vm_pool *p;
	size_t n = 0;

	if (cfg->max == 0 || cfg->max > VM_POOL_MAX || cfg->min > cfg->max)
		return errmsg_set(reterr, -EINVAL, "pool size: need 0 <= min <= max, 1 <= max <= %d",
				  VM_POOL_MAX);
	while (cfg->tpl.warmup && cfg->tpl.warmup[n])
		n++;
	if (n > 32)
		return errmsg_set(reterr, -E2BIG, "warm-up: at most 32 args");
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->rt = rt;
	p->loop = rt->loop;
	snprintf(p->name, sizeof(p->name), "%s", cfg->tpl.name ? cfg->tpl.name : "default");
	if (cfg->tpl.image && cfg->tpl.image[0] && strcmp(cfg->tpl.image, "base") != 0) {
		int r = vm_image_rootfs(rt, cfg->tpl.image, p->rootfs, sizeof(p->rootfs), reterr);

		if (r < 0) {
			free(p);
			return r;
		}
	}
	snprintf(p->image, sizeof(p->image), "%s",
		 cfg->tpl.image && cfg->tpl.image[0] ? cfg->tpl.image : "base");
	for (size_t i = 0; i < n; i++)
		if (!(p->warmup[i] = strdup(cfg->tpl.warmup[i]))) {
			vm_pool_free(p);
			return -ENOMEM;
		}
	p->tcfg = cfg->tpl;
	p->tcfg.name = p->name;
	p->tcfg.image = p->image;
	p->tcfg.warmup = (const char *const *)p->warmup;
	p->min = cfg->min;
	p->max = cfg->max;
	p->target = cfg->min;
	p->inflight_max = cfg->inflight ? cfg->inflight : 2;
	p->cfg_limits.mem_max = cfg->warmup_mem_max;
	p->cfg_limits.disk_max = cfg->warmup_disk_max;
	p->cfg_limits.pids_max = cfg->warmup_pids_max;
	p->idle_ms = cfg->idle_ms ? cfg->idle_ms : 30000;
	ev_timer_init(&p->kick, kick_cb, 0., 0.);
	p->kick.data = p;
	ev_timer_init(&p->tick, tick_cb, VM_POOL_TICK_MS / 1000.0, VM_POOL_TICK_MS / 1000.0);
	p->tick.data = p;
	ev_timer_init(&p->tpl_retry, tpl_retry_cb, 0., 0.);
	p->tpl_retry.data = p;
	ev_timer_start(p->loop, &p->tick);
	p->no_template = cfg->no_template;
	p->admit = cfg->admit;
	p->admit_ud = cfg->admit_ud;
	if (cfg->no_template) {
		kick(p);
	} else {
		ev_timer_start(p->loop, &p->tpl_retry);	/* builds the template from the loop */
	}
	*ret = p;
	return 0;
}

struct vm_pool *vm_pool_free(struct vm_pool *p)
{
	if (!p)
		return NULL;
	for (unsigned i = 0; i < VM_POOL_MAX; i++)
		if (p->ents[i].state != PENT_FREE)
			pent_drop(&p->ents[i]);
	ev_timer_stop(p->loop, &p->kick);
	ev_timer_stop(p->loop, &p->tick);
	ev_timer_stop(p->loop, &p->tpl_retry);
	p->tpl = vm_template_free(p->tpl);
	for (size_t i = 0; i < 33; i++)
		free(p->warmup[i]);
	free(p);
	return NULL;
}

int vm_pool_acquire(struct vm_pool *p, const struct vm_events *ev, void *ud, struct vm **ret)
{
	struct errmsg em = { "" };
	struct pent *best = NULL;
	struct vm *vm;

	for (;;) {
		best = NULL;
		for (unsigned i = 0; i < VM_POOL_MAX; i++) {
			struct pent *e = &p->ents[i];

			if (e->state == PENT_READY && (!best || e->t_ready_ms < best->t_ready_ms))
				best = e;
		}
		if (!best) {
			p->st.misses++;
			p->last_miss_ms = time_mono_ms();
			if (p->target < p->max) {
				p->target++;
				p->st.grows++;
				log_info("pool.grow", "pool=%s target=%u", p->name, p->target);
			}
			kick(p);
			return -EAGAIN;
		}
		vm = best->vm;
		best->vm = NULL;
		best->state = PENT_FREE;
		/* Fresh clock and entropy for this VM alone. */
		if (vm_reinit(vm, &em) < 0) {
			log_warn("pool.reinit_failed", "pool=%s vm=%u msg=\"%s\"", p->name, vm_id(vm),
				 em.msg);
			vm_destroy(vm);
			p->st.failures++;
			continue;
		}
		break;
	}
	vm_set_events(vm, ev, ud);
	p->st.acquired++;
	kick(p);
	*ret = vm;
	return 0;
}

void vm_pool_get_stats(const struct vm_pool *p, struct vm_pool_stats *out)
{
	unsigned ready, busy;

	count(p, &ready, &busy);
	*out = p->st;
	out->ready = ready;
	out->starting = busy;
	out->target = p->target;
	out->min = p->min;
	out->max = p->max;
	out->template_ready = p->tpl_ok;
	out->template_building = p->tpl && !p->tpl_ok;
}

unsigned vm_pool_grow(struct vm_pool *p, unsigned n)
{
	unsigned room = p->max > p->target ? p->max - p->target : 0;

	if (n > room)
		n = room;
	if (n == 0)
		return 0;
	p->target += n;
	p->st.grows += n;
	p->last_miss_ms = time_mono_ms();	/* no shrink right after */
	log_info("pool.grow", "pool=%s target=%u by=%u why=lag", p->name, p->target, n);
	kick(p);
	return n;
}

int vm_pool_evict(struct vm_pool *p)
{
	struct pent *victim = NULL;

	for (unsigned i = 0; i < VM_POOL_MAX; i++) {
		struct pent *e = &p->ents[i];

		if (e->state == PENT_READY && (!victim || victim->state != PENT_READY ||
					       e->t_ready_ms < victim->t_ready_ms))
			victim = e;
		else if (e->state != PENT_FREE && e->state != PENT_READY && !victim)
			victim = e;
	}
	if (!victim)
		return 0;
	if (p->target > p->min)
		p->target--;
	p->st.shrinks++;
	log_info("pool.evict", "pool=%s vm=%u target=%u", p->name, vm_id(victim->vm), p->target);
	pent_drop(victim);
	return 1;
}

const char *vm_pool_name(const struct vm_pool *p)
{
	return p->name;
}

/* PIDs of the ready VMs' QEMUs (benchmarks read their smaps_rollup). Returns the count. */
size_t vm_pool_ready_pids(const struct vm_pool *p, int *out, size_t n)
{
	size_t k = 0;

	for (unsigned i = 0; i < VM_POOL_MAX && k < n; i++)
		if (p->ents[i].state == PENT_READY)
			out[k++] = vm_qemu_pid(p->ents[i].vm);
	return k;
}

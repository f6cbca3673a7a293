/*
 * wpool: see wpool.h. Holds the process's one pool, counts what the acquire site did (warm
 * hand-outs, cold boots for lack of a warm VM, their latencies in histograms) and renders the
 * metrics. It never blocks the loop: vm_pool does its work in callbacks.
 */
#define LOG_MOD "pool"
#include "wpool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

_Static_assert(CONFIG_POOL_MAX == VM_POOL_MAX, "config.h's CONFIG_POOL_MAX must match vm.h");

#define WPOOL_BUCKETS 10

static const unsigned wpool_bounds_ms[WPOOL_BUCKETS] = { 5,   10,   25,   50,   100,
							  250, 500, 1000, 2500, 5000 };

struct hist {
	uint64_t b[WPOOL_BUCKETS + 1];
	uint64_t count, sum_ms;
};

static struct {
	struct ev_loop *loop;
	struct vm_runtime *rt;
	struct vm_pool *pool;
	struct metrics *metrics;
	uint64_t warm, cold;
	struct hist acquire;	/* wpool_vm_start → VM handed out (warm) */
	struct hist clone;	/* pool VM ready (clone restore), from the pool's stats */
} wp;

static void hist_add(struct hist *h, uint64_t ms)
{
	unsigned i = 0;

	while (i < WPOOL_BUCKETS && ms > wpool_bounds_ms[i])
		i++;
	h->b[i]++;
	h->count++;
	h->sum_ms += ms;
}

static size_t put_hist(char *out, size_t n, const char *name, const char *help,
		       const struct hist *h)
{
	size_t o = 0;
	uint64_t cum = 0;

	o += (size_t)snprintf(out + o, n - o, "# HELP %s %s\n# TYPE %s histogram\n", name, help,
			      name);
	for (unsigned i = 0; i < WPOOL_BUCKETS && o < n; i++) {
		cum += h->b[i];
		o += (size_t)snprintf(out + o, n - o, "%s_bucket{le=\"%g\"} %llu\n", name,
				      wpool_bounds_ms[i] / 1000.0, (unsigned long long)cum);
	}
	if (o < n)
		o += (size_t)snprintf(out + o, n - o,
				      "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %g\n%s_count %llu\n", name,
				      (unsigned long long)h->count, name, h->sum_ms / 1000.0, name,
				      (unsigned long long)h->count);
	return o < n ? o : n;
}

static size_t render(char *out, size_t n)
{
	struct vm_pool_stats st = { 0 };
	const char *pn = wp.pool ? vm_pool_name(wp.pool) : "default";
	size_t o = 0;

	if (wp.pool)
		vm_pool_get_stats(wp.pool, &st);
#define P(...)                                                                      \
	do {                                                                        \
		if (o < n)                                                          \
			o += (size_t)snprintf(out + o, n - o, __VA_ARGS__);         \
	} while (0)
	P("# HELP corral_accel_info The accelerator the VMs run under.\n"
	  "# TYPE corral_accel_info gauge\ncorral_accel_info{accel=\"%s\"} 1\n",
	  vm_runtime_accel(wp.rt));
	P("# TYPE corral_pool_ready gauge\ncorral_pool_ready{template=\"%s\"} %u\n", pn, st.ready);
	P("# TYPE corral_pool_starting gauge\ncorral_pool_starting{template=\"%s\"} %u\n", pn,
	  st.starting);
	P("# TYPE corral_pool_target gauge\ncorral_pool_target{template=\"%s\"} %u\n", pn, st.target);
	P("# TYPE corral_pool_min gauge\ncorral_pool_min{template=\"%s\"} %u\n", pn, st.min);
	P("# TYPE corral_pool_max gauge\ncorral_pool_max{template=\"%s\"} %u\n", pn, st.max);
	P("# TYPE corral_pool_template_ready gauge\ncorral_pool_template_ready{template=\"%s\"} %d\n",
	  pn, st.template_ready);
	P("# TYPE corral_pool_clones_total counter\ncorral_pool_clones_total{template=\"%s\"} %llu\n",
	  pn, (unsigned long long)st.clones);
	P("# TYPE corral_pool_clone_fallbacks_total counter\n"
	  "corral_pool_clone_fallbacks_total{template=\"%s\"} %llu\n", pn,
	  (unsigned long long)st.clone_fallbacks);
	P("# TYPE corral_pool_boots_total counter\ncorral_pool_boots_total{template=\"%s\"} %llu\n",
	  pn, (unsigned long long)st.boots);
	P("# TYPE corral_pool_failures_total counter\n"
	  "corral_pool_failures_total{template=\"%s\"} %llu\n", pn, (unsigned long long)st.failures);
	P("# TYPE corral_pool_clone_seconds_sum counter\n"
	  "corral_pool_clone_seconds_sum{template=\"%s\"} %g\n", pn, st.clone_ms_sum / 1000.0);
	P("# TYPE corral_pool_boot_seconds_sum counter\n"
	  "corral_pool_boot_seconds_sum{template=\"%s\"} %g\n", pn, st.boot_ms_sum / 1000.0);
	P("# TYPE corral_pool_misses_total counter\ncorral_pool_misses_total{template=\"%s\"} %llu\n",
	  pn, (unsigned long long)st.misses);
	P("# TYPE corral_pool_grows_total counter\ncorral_pool_grows_total{template=\"%s\"} %llu\n",
	  pn, (unsigned long long)st.grows);
	P("# TYPE corral_pool_shrinks_total counter\ncorral_pool_shrinks_total{template=\"%s\"} %llu\n",
	  pn, (unsigned long long)st.shrinks);
	P("# TYPE corral_vm_warm_total counter\ncorral_vm_warm_total %llu\n",
	  (unsigned long long)wp.warm);
	P("# TYPE corral_vm_cold_total counter\ncorral_vm_cold_total %llu\n",
	  (unsigned long long)wp.cold);
#undef P
	if (o < n)
		o += put_hist(out + o, n - o, "corral_vm_acquire_seconds",
			      "From the acquire call to a VM handed to the job (warm only).",
			      &wp.acquire);
	return o < n ? o : n;
}

int wpool_init(struct ev_loop *loop, struct vm_runtime *rt, const struct config *cfg,
	       struct errmsg *reterr)
{
	static char *warmup[] = { "/bin/sh", "-c", NULL, NULL };
	static char *warmup_default[] = { "python3", "-c", "pass", NULL };
	struct vm_pool_cfg pc = { .tpl = { .name = "default" }, .min = cfg->pool_min,
				  .max = cfg->pool_max, .idle_ms = cfg->pool_idle_ms };
	int r;

	wp.loop = loop;
	wp.rt = rt;
	if (cfg->pool_warmup_set) {
		warmup[2] = (char *)cfg->pool_warmup;
		pc.tpl.warmup = cfg->pool_warmup[0] ? (const char *const *)warmup : NULL;
	} else {
		pc.tpl.warmup = (const char *const *)warmup_default;
	}
	if (!cfg->pool_off) {
		r = vm_pool_new(rt, &pc, &wp.pool, reterr);
		if (r < 0)
			return r;
		log_info("pool.started", "template=default min=%u max=%u warmup=%s", cfg->pool_min,
			 cfg->pool_max,
			 cfg->pool_warmup_set ? (cfg->pool_warmup[0] ? "custom" : "none") : "python3");
	}
	if (cfg->metrics_port) {
		r = metrics_new(loop, cfg->metrics_port, render, &wp.metrics, reterr);
		if (r < 0) {
			wp.pool = vm_pool_free(wp.pool);
			return r;
		}
	}
	return 0;
}

void wpool_state(char *out, size_t n)
{
	struct vm_pool_stats st = { 0 };

	if (!wp.pool) {
		snprintf(out, n, "off");
		return;
	}
	vm_pool_get_stats(wp.pool, &st);
	snprintf(out, n, "ready=%u starting=%u target=%u min=%u max=%u", st.ready, st.starting,
		 st.target, st.min, st.max);
}

void wpool_fini(void)
{
	wp.metrics = metrics_free(wp.metrics);
	wp.pool = vm_pool_free(wp.pool);
}

int wpool_vm_start(struct vm_runtime *rt, const struct vm_events *ev, void *ud, struct vm **ret,
		   struct errmsg *reterr)
{
	uint64_t t0 = time_mono_ms();
	int r;

	if (wp.pool) {
		r = vm_pool_acquire(wp.pool, ev, ud, ret);
		if (r == 0) {
			wp.warm++;
			hist_add(&wp.acquire, time_mono_ms() - t0);
			vm_post_ready(*ret);
			return 0;
		}
		log_info("pool.miss", "template=%s fallback=boot", vm_pool_name(wp.pool));
	}
	wp.cold++;
	return vm_start(rt, ev, ud, ret, reterr);
}

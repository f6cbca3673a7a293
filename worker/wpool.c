/*
 * wpool: see wpool.h. Holds the process's pools, one per served image (--image, default just
 * base), counts what the acquire site did per image (warm hand-outs, cold boots for lack of a
 * warm VM, their latencies in a histogram) and renders the metrics with template="<image>"
 * labels. A job naming an image without a pool boots it cold; an image whose file is not in the
 * images dir fails with "image 'x' not available on this worker". It never blocks the loop:
 * vm_pool does its work in callbacks. It must not know about jobs beyond the acquire site.
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
#define WPOOL_IMAGES_MAX CONFIG_SERVE_IMAGES_MAX
#define WPOOL_BASE "base"

static const unsigned wpool_bounds_ms[WPOOL_BUCKETS] = { 5,   10,   25,   50,   100,
							  250, 500, 1000, 2500, 5000 };

struct hist {
	uint64_t b[WPOOL_BUCKETS + 1];
	uint64_t count, sum_ms;
};

/* One served image. */
struct wimg {
	char name[CONFIG_IMAGE_NAME_MAX + 1];
	struct vm_pool *pool;		/* NULL with --no-pool */
	uint64_t warm, cold;
	struct hist acquire;		/* wpool_vm_start_image → VM handed out (warm) */
};

static struct {
	struct ev_loop *loop;
	struct vm_runtime *rt;
	struct metrics *metrics;
	bool pools_on;
	struct wimg img[WPOOL_IMAGES_MAX];
	unsigned nimg;
	uint64_t warm, cold;		/* every image, including those without a pool */
	uint64_t cold_other;		/* cold boots of images without a pool */
} wp;

/* The warm-up run in each image's template and in every clone before it counts as ready: the
 * Python start-up every job pays (TCG translation of the interpreter). python-data could warm
 * up with `import pandas`, but measured under TCG it does not make the first `import pandas` in
 * a clone faster (three imports in a row in one VM: 5.58, 5.44, 5.49 s; warm clone ~7.6-8 s
 * either way, cold boot ~7.4-8.3 s on a loaded host: the cost is emulated execution, not
 * translation or disk), while it costs every refill 5-8 s of a CPU. So every image gets the
 * same cheap warm-up; table kept for images where a heavier one pays. */
static const char *const *default_warmup(const char *image)
{
	static const char *const py_pass[] = { "python3", "-c", "pass", NULL };

	(void)image;
	return py_pass;
}

static struct wimg *find_img(const char *image)
{
	for (unsigned i = 0; i < wp.nimg; i++)
		if (strcmp(wp.img[i].name, image) == 0)
			return &wp.img[i];
	return NULL;
}

static void hist_add(struct hist *h, uint64_t ms)
{
	unsigned i = 0;

	while (i < WPOOL_BUCKETS && ms > wpool_bounds_ms[i])
		i++;
	h->b[i]++;
	h->count++;
	h->sum_ms += ms;
}

#define P(...)                                                                      \
	do {                                                                        \
		if (o < n)                                                          \
			o += (size_t)snprintf(out + o, n - o, __VA_ARGS__);         \
	} while (0)

static size_t put_hist(char *out, size_t n, const char *name, const char *help)
{
	size_t o = 0;

	P("# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (unsigned k = 0; k < wp.nimg; k++) {
		const struct wimg *w = &wp.img[k];
		uint64_t cum = 0;

		for (unsigned i = 0; i < WPOOL_BUCKETS; i++) {
			cum += w->acquire.b[i];
			P("%s_bucket{template=\"%s\",le=\"%g\"} %llu\n", name, w->name,
			  wpool_bounds_ms[i] / 1000.0, (unsigned long long)cum);
		}
		P("%s_bucket{template=\"%s\",le=\"+Inf\"} %llu\n%s_sum{template=\"%s\"} %g\n"
		  "%s_count{template=\"%s\"} %llu\n",
		  name, w->name, (unsigned long long)w->acquire.count, name, w->name,
		  w->acquire.sum_ms / 1000.0, name, w->name, (unsigned long long)w->acquire.count);
	}
	return o < n ? o : n;
}

/* The per-image gauges and counters: one # TYPE line, then one line per served image. */
enum stat_kind { S_READY, S_STARTING, S_TARGET, S_MIN, S_MAX, S_TPL_READY, S_CLONES,
		 S_FALLBACKS, S_BOOTS, S_FAILURES, S_CLONE_S, S_BOOT_S, S_MISSES, S_GROWS,
		 S_SHRINKS, S_WARM, S_COLD };

static const struct {
	const char *name, *type;
	enum stat_kind kind;
} stat_defs[] = {
	{ "corral_pool_ready", "gauge", S_READY },
	{ "corral_pool_starting", "gauge", S_STARTING },
	{ "corral_pool_target", "gauge", S_TARGET },
	{ "corral_pool_min", "gauge", S_MIN },
	{ "corral_pool_max", "gauge", S_MAX },
	{ "corral_pool_template_ready", "gauge", S_TPL_READY },
	{ "corral_pool_clones_total", "counter", S_CLONES },
	{ "corral_pool_clone_fallbacks_total", "counter", S_FALLBACKS },
	{ "corral_pool_boots_total", "counter", S_BOOTS },
	{ "corral_pool_failures_total", "counter", S_FAILURES },
	{ "corral_pool_clone_seconds_sum", "counter", S_CLONE_S },
	{ "corral_pool_boot_seconds_sum", "counter", S_BOOT_S },
	{ "corral_pool_misses_total", "counter", S_MISSES },
	{ "corral_pool_grows_total", "counter", S_GROWS },
	{ "corral_pool_shrinks_total", "counter", S_SHRINKS },
	{ "corral_image_vm_warm_total", "counter", S_WARM },
	{ "corral_image_vm_cold_total", "counter", S_COLD },
};

static double stat_value(const struct wimg *w, const struct vm_pool_stats *st, enum stat_kind k)
{
	switch (k) {
	case S_READY: return st->ready;
	case S_STARTING: return st->starting;
	case S_TARGET: return st->target;
	case S_MIN: return st->min;
	case S_MAX: return st->max;
	case S_TPL_READY: return st->template_ready;
	case S_CLONES: return (double)st->clones;
	case S_FALLBACKS: return (double)st->clone_fallbacks;
	case S_BOOTS: return (double)st->boots;
	case S_FAILURES: return (double)st->failures;
	case S_CLONE_S: return st->clone_ms_sum / 1000.0;
	case S_BOOT_S: return st->boot_ms_sum / 1000.0;
	case S_MISSES: return (double)st->misses;
	case S_GROWS: return (double)st->grows;
	case S_SHRINKS: return (double)st->shrinks;
	case S_WARM: return (double)w->warm;
	case S_COLD: return (double)w->cold;
	}
	return 0;
}

static size_t render(char *out, size_t n)
{
	struct vm_pool_stats st[WPOOL_IMAGES_MAX];
	size_t o = 0;

	memset(st, 0, sizeof(st));
	for (unsigned k = 0; k < wp.nimg; k++)
		if (wp.img[k].pool)
			vm_pool_get_stats(wp.img[k].pool, &st[k]);
	P("# HELP corral_accel_info The accelerator the VMs run under.\n"
	  "# TYPE corral_accel_info gauge\ncorral_accel_info{accel=\"%s\"} 1\n",
	  vm_runtime_accel(wp.rt));
	for (size_t d = 0; d < sizeof(stat_defs) / sizeof(stat_defs[0]); d++) {
		P("# TYPE %s %s\n", stat_defs[d].name, stat_defs[d].type);
		for (unsigned k = 0; k < wp.nimg; k++)
			P("%s{template=\"%s\"} %.15g\n", stat_defs[d].name, wp.img[k].name,
			  stat_value(&wp.img[k], &st[k], stat_defs[d].kind));
	}
	P("# TYPE corral_vm_warm_total counter\ncorral_vm_warm_total %llu\n",
	  (unsigned long long)wp.warm);
	P("# TYPE corral_vm_cold_total counter\ncorral_vm_cold_total %llu\n",
	  (unsigned long long)wp.cold);
	P("# HELP corral_vm_cold_unpooled_total Cold boots of images served without a pool.\n"
	  "# TYPE corral_vm_cold_unpooled_total counter\ncorral_vm_cold_unpooled_total %llu\n",
	  (unsigned long long)wp.cold_other);
	if (o < n)
		o += put_hist(out + o, n - o, "corral_vm_acquire_seconds",
			      "From the acquire call to a VM handed to the job (warm only).");
	return o < n ? o : n;
}

#undef P

static int start_pool(struct wimg *w, const struct config *cfg, struct errmsg *reterr)
{
	static char *custom[] = { "/bin/sh", "-c", NULL, NULL };
	struct vm_pool_cfg pc = { .tpl = { .name = w->name, .image = w->name },
				  .min = cfg->pool_min, .max = cfg->pool_max,
				  .idle_ms = cfg->pool_idle_ms };
	int r;

	if (cfg->pool_warmup_set) {
		custom[2] = (char *)cfg->pool_warmup;
		pc.tpl.warmup = cfg->pool_warmup[0] ? (const char *const *)custom : NULL;
	} else {
		pc.tpl.warmup = default_warmup(w->name);
	}
	r = vm_pool_new(wp.rt, &pc, &w->pool, reterr);
	if (r < 0)
		return r;
	log_info("pool.started", "template=%s image=%s min=%u max=%u warmup=%s", w->name, w->name,
		 cfg->pool_min, cfg->pool_max,
		 cfg->pool_warmup_set ? (cfg->pool_warmup[0] ? "custom" : "none")
				      : "python3");
	return 0;
}

int wpool_init(struct ev_loop *loop, struct vm_runtime *rt, const struct config *cfg,
	       struct errmsg *reterr)
{
	int r;

	wp.loop = loop;
	wp.rt = rt;
	wp.pools_on = !cfg->pool_off;
	wp.nimg = 0;
	for (unsigned i = 0; i < cfg->nserve_images && i < WPOOL_IMAGES_MAX; i++) {
		struct wimg *w = &wp.img[wp.nimg++];

		*w = (struct wimg){ 0 };
		snprintf(w->name, sizeof(w->name), "%s", cfg->serve_images[i]);
		if (!wp.pools_on)
			continue;
		r = start_pool(w, cfg, reterr);
		if (r < 0)
			goto fail;
	}
	if (cfg->metrics_port) {
		r = metrics_new(loop, cfg->metrics_port, render, &wp.metrics, reterr);
		if (r < 0)
			goto fail;
	}
	return 0;
fail:
	wpool_fini();
	return r;
}

void wpool_state(char *out, size_t n)
{
	size_t o = 0;

	if (n == 0)
		return;
	out[0] = '\0';
	if (!wp.pools_on || wp.nimg == 0) {
		snprintf(out, n, "off");
		return;
	}
	/* one pool: "ready=2 starting=1 target=2 min=1 max=4"; several: "base: ...; build: ..." */
	for (unsigned k = 0; k < wp.nimg && o < n; k++) {
		struct vm_pool_stats st = { 0 };

		if (!wp.img[k].pool)
			continue;
		vm_pool_get_stats(wp.img[k].pool, &st);
		o += (size_t)snprintf(out + o, n - o, "%s%s%sready=%u starting=%u target=%u min=%u "
				      "max=%u", k ? "; " : "", wp.nimg > 1 ? wp.img[k].name : "",
				      wp.nimg > 1 ? ": " : "", st.ready, st.starting, st.target,
				      st.min, st.max);
	}
}

void wpool_fini(void)
{
	wp.metrics = metrics_free(wp.metrics);
	for (unsigned k = 0; k < wp.nimg; k++)
		wp.img[k].pool = vm_pool_free(wp.img[k].pool);
	wp.nimg = 0;
}

int wpool_vm_start_image(struct vm_runtime *rt, const char *image, const struct vm_events *ev,
			 void *ud, struct vm **ret, struct errmsg *reterr)
{
	uint64_t t0 = time_mono_ms();
	struct wimg *w;
	int r;

	if (!image || !image[0])
		image = WPOOL_BASE;
	w = find_img(image);
	if (w && w->pool) {
		r = vm_pool_acquire(w->pool, ev, ud, ret);
		if (r == 0) {
			w->warm++;
			wp.warm++;
			hist_add(&w->acquire, time_mono_ms() - t0);
			vm_post_ready(*ret);
			return 0;
		}
		log_info("pool.miss", "template=%s fallback=boot", w->name);
	}
	r = vm_start_image(rt, image, ev, ud, ret, reterr);
	if (r == -ENOENT)
		return errmsg_set(reterr, r, "image '%s' not available on this worker", image);
	if (r < 0)
		return r;
	wp.cold++;
	if (w)
		w->cold++;
	else
		wp.cold_other++;
	return 0;
}

int wpool_vm_start(struct vm_runtime *rt, const struct vm_events *ev, void *ud, struct vm **ret,
		   struct errmsg *reterr)
{
	return wpool_vm_start_image(rt, WPOOL_BASE, ev, ud, ret, reterr);
}

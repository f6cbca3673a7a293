/*
 * wpool: see wpool.h. Holds the served templates (each with at most one live pool, made from
 * its current record), the budget, per-template counters of what the acquire site did (warm
 * hand-outs, cold boots, latencies) and the job latency histograms, and renders the metrics with
 * template="<name>" labels. A job whose template is not served (or whose image, vCPUs or memory
 * differ from every pool) boots cold with its own settings. Pool VMs are charged by scanning the
 * pools (ready + starting + a template build); job VMs by an explicit charge. It never blocks
 * the loop: vm_pool does its work in callbacks. It must not know about jobs beyond the acquire
 * site.
 */
#define LOG_MOD "pool"
#include "wpool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "budget.h"
#include "latency.h"
#include "log.h"
#include "util.h"

_Static_assert(CONFIG_POOL_MAX == VM_POOL_MAX, "config.h's CONFIG_POOL_MAX must match vm.h");
_Static_assert(CONFIG_TEMPLATE_NAME_MAX == WIRE_TEMPLATE_MAX, "template name limits differ");

#define WPOOL_BUCKETS 10
#define WPOOL_SERVED_MAX CONFIG_SERVE_TEMPLATES_MAX

static const unsigned wpool_bounds_ms[WPOOL_BUCKETS] = { 5,   10,   25,   50,   100,
							  250, 500, 1000, 2500, 5000 };

struct hist {
	uint64_t b[WPOOL_BUCKETS + 1];
	uint64_t count, sum_ms;
};

/* One served template. */
struct wtpl {
	char name[WIRE_TEMPLATE_MAX + 1];
	char vmname[33];		/* the pool's and snapshot's name (tmpl_vm_name) */
	bool sugar;			/* --image NAME: built-in image NAME when no record */
	bool from_redis;		/* the pool's settings came from a record */
	bool missing;			/* served, but no record and no built-in */
	uint32_t version;
	char image[WIRE_IMAGE_MAX + 1];
	unsigned mem_mib, vcpus;
	struct vm_pool *pool;		/* NULL with --no-pool or before the first load */
	uint64_t warm, cold, demand;
	struct hist acquire;		/* wpool_vm_start_tpl → VM handed out (warm) */
};

static struct {
	struct ev_loop *loop;
	struct vm_runtime *rt;
	const struct config *cfg;
	struct metrics *metrics;
	bool pools_on, loaded;
	struct wtpl tpl[WPOOL_SERVED_MAX];
	unsigned ntpl;
	struct budget budget;
	uint64_t warm, cold;		/* every template, served or not */
	uint64_t cold_other;		/* cold boots of templates without a pool */
	uint64_t budget_waits, evictions;
	struct latency lat;
} wp;

static struct wtpl *find_tpl(const char *name)
{
	for (unsigned i = 0; i < wp.ntpl; i++)
		if (strcmp(wp.tpl[i].name, name) == 0)
			return &wp.tpl[i];
	return NULL;
}

bool wpool_is_sugar(const char *name)
{
	const struct wtpl *w = find_tpl(name);

	return w && w->sugar;
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

/* ---- budget ---- */

/* Memory and vCPUs held by pool VMs (ready, starting, a template build). */
static void pools_held(uint64_t *mem, uint64_t *cpus)
{
	*mem = *cpus = 0;
	for (unsigned i = 0; i < wp.ntpl; i++) {
		struct vm_pool_stats st;
		unsigned n;

		if (!wp.tpl[i].pool)
			continue;
		vm_pool_get_stats(wp.tpl[i].pool, &st);
		n = st.ready + st.starting + (st.template_building ? 1u : 0u);
		*mem += (uint64_t)n * wp.tpl[i].mem_mib;
		*cpus += (uint64_t)n * wp.tpl[i].vcpus;
	}
}

static bool pool_admit(const struct vm_pool *p, void *ud)
{
	struct wtpl *w = ud;
	uint64_t mem, cpus;

	(void)p;
	pools_held(&mem, &cpus);
	return budget_fits(&wp.budget, mem, cpus,
			   (struct budget_vm){ .mem_mib = w->mem_mib, .vcpus = w->vcpus });
}

void wpool_uncharge(struct wpool_charge *c)
{
	if (!c->held)
		return;
	budget_uncharge(&wp.budget, (struct budget_vm){ .mem_mib = c->mem_mib, .vcpus = c->vcpus });
	c->held = false;
}

static void charge(struct wpool_charge *c, unsigned mem_mib, unsigned vcpus)
{
	c->mem_mib = mem_mib;
	c->vcpus = vcpus;
	c->held = true;
	budget_charge(&wp.budget, (struct budget_vm){ .mem_mib = mem_mib, .vcpus = vcpus });
}

/* Destroys idle (then starting) VMs of other pools until vm fits; true if it fits. Pools whose
 * size is vm's are asked last: another job of theirs may want the warm VM. The job's own pool
 * (mine) is never evicted: its VM being made is the job's, soon. */
static bool make_room(struct budget_vm vm, const struct wtpl *mine)
{
	uint64_t mem, cpus;

	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < wp.ntpl; i++) {
			struct wtpl *w = &wp.tpl[i];
			bool same = w->mem_mib == vm.mem_mib && w->vcpus == vm.vcpus;

			if (!w->pool || w == mine || same != (pass == 1))
				continue;
			for (;;) {
				pools_held(&mem, &cpus);
				if (budget_fits(&wp.budget, mem, cpus, vm))
					return true;
				if (vm_pool_evict(w->pool) <= 0)
					break;
				wp.evictions++;
			}
		}
	pools_held(&mem, &cpus);
	return budget_fits(&wp.budget, mem, cpus, vm);
}

unsigned wpool_startable(unsigned cap)
{
	struct budget_vm vm = { .mem_mib = WIRE_TEMPLATE_MEMORY_DEFAULT,
				.vcpus = WIRE_TEMPLATE_VCPUS_DEFAULT };

	/* the smallest served size; pool VMs count as free: they are handed out or evicted */
	for (unsigned i = 0; i < wp.ntpl; i++)
		if (wp.tpl[i].pool && wp.tpl[i].mem_mib && wp.tpl[i].mem_mib < vm.mem_mib) {
			vm.mem_mib = wp.tpl[i].mem_mib;
			vm.vcpus = wp.tpl[i].vcpus;
		}
	return budget_count(&wp.budget, 0, 0, vm, cap);
}

void wpool_on_lag(unsigned long long lag)
{
	struct wtpl *best = NULL;
	uint64_t mem, cpus;
	unsigned n;

	for (unsigned i = 0; i < wp.ntpl; i++) {
		struct wtpl *w = &wp.tpl[i];

		if (w->pool && (!best || w->demand > best->demand))
			best = w;
		w->demand /= 2;	/* recent demand counts most */
	}
	if (!best || lag == 0)
		return;
	pools_held(&mem, &cpus);
	n = budget_count(&wp.budget, mem, cpus,
			 (struct budget_vm){ .mem_mib = best->mem_mib, .vcpus = best->vcpus },
			 lag > VM_POOL_MAX ? VM_POOL_MAX : (unsigned)lag);
	if (n > 0)
		(void)vm_pool_grow(best->pool, n);
}

void wpool_observe(const struct wire_timings *t)
{
	latency_observe(&wp.lat, t);
}

/* ---- pools ---- */

static size_t render(char *out, size_t n);

static int start_pool(struct wtpl *w, const struct wire_template *t)
{
	static const char *const none[] = { NULL };
	char *warmup[] = { "/bin/sh", "-c", NULL, NULL };
	const char *cmd = t->warmup;
	struct errmsg em = { "" };
	struct vm_pool_cfg pc = {
		.tpl = { .name = w->vmname, .image = t->image, .mem_mib = t->memory_mib,
			 .vcpus = t->vcpus },
		.min = wp.cfg->pool_min, .max = wp.cfg->pool_max, .idle_ms = wp.cfg->pool_idle_ms,
		.admit = pool_admit, .admit_ud = w,
	};
	int r;

	w->pool = vm_pool_free(w->pool);	/* the old version's idle VMs go now */
	snprintf(w->image, sizeof(w->image), "%s", t->image);
	w->mem_mib = t->memory_mib;
	w->vcpus = t->vcpus;
	w->version = t->version;
	if (!w->from_redis && wp.cfg->pool_warmup_set)
		cmd = wp.cfg->pool_warmup;	/* --pool-warmup: built-in templates only */
	warmup[2] = (char *)cmd;
	pc.tpl.warmup = cmd && cmd[0] ? (const char *const *)warmup : none;
	tmpl_exec_limits(t->memory_mib, t->disk_mib, t->pids_max, &pc.warmup_mem_max,
			 &pc.warmup_disk_max, &pc.warmup_pids_max);
	if (!wp.pools_on)
		return 0;
	r = vm_pool_new(wp.rt, &pc, &w->pool, &em);
	if (r < 0) {
		w->pool = NULL;
		log_error("pool.start_failed", "template=%s image=%s err=%s msg=\"%s\"", w->name,
			  t->image, errno_name(r), em.msg);
		return r;
	}
	log_info("pool.started",
		 "template=%s version=%u source=%s image=%s vcpus=%u memory_mib=%u min=%u max=%u "
		 "warmup=%s",
		 w->name, (unsigned)t->version, w->from_redis ? "redis" : "builtin", t->image,
		 (unsigned)t->vcpus, (unsigned)t->memory_mib, wp.cfg->pool_min, wp.cfg->pool_max,
		 cmd && cmd[0] ? "yes" : "none");
	return 0;
}

/* (Re)starts w's pool from t (a record), or from its built-in when t is NULL. */
static void serve(struct wtpl *w, const struct wire_template *t)
{
	struct wire_template *b = NULL;

	if (!t) {
		b = tmpl_builtin(w->name, w->sugar);
		if (!b) {
			if (!w->missing)
				log_warn("pool.template_missing", "template=%s", w->name);
			w->missing = true;
			w->from_redis = false;
			w->pool = vm_pool_free(w->pool);
			return;
		}
		t = b;
		if (w->pool && !w->from_redis) {	/* the built-in is already served */
			wire_template_free(b);
			return;
		}
		w->from_redis = false;
	} else {
		if (w->pool && w->from_redis && w->version == t->version)
			return;
		w->from_redis = true;
	}
	w->missing = false;
	(void)start_pool(w, t);
	wire_template_free(b);
}

void wpool_templates_loaded(void)
{
	wp.loaded = true;
	for (unsigned i = 0; i < wp.ntpl; i++)
		if (!wp.tpl[i].pool && !wp.tpl[i].missing)
			serve(&wp.tpl[i], NULL);
}

void wpool_template_changed(const char *name, const struct wire_template *t)
{
	struct wtpl *w = find_tpl(name);

	if (!w)
		return;
	serve(w, t);
}

int wpool_init(struct ev_loop *loop, struct vm_runtime *rt, const struct config *cfg,
	       struct errmsg *reterr)
{
	uint64_t mem = cfg->mem_budget_mib, cpus = cfg->cpu_budget, kib = 0;
	char info[BUDGET_MEMINFO_MAX];
	int r;

	wp.loop = loop;
	wp.rt = rt;
	wp.cfg = cfg;
	wp.pools_on = !cfg->pool_off;
	wp.ntpl = 0;
	if (!mem) {
		int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, info, sizeof(info) - 1) : -1;

		fd_close(fd);
		if (n > 0 && budget_parse_meminfo(info, (size_t)n, &kib) == 0)
			mem = budget_default_mem_mib(kib);
		else
			mem = 4096;	/* cannot read it: a modest guess, logged */
	}
	if (!cpus)
		cpus = budget_default_cpus(sysconf(_SC_NPROCESSORS_ONLN));
	budget_init(&wp.budget, mem, cpus);
	log_info("budget.set", "mem_mib=%llu vcpus=%llu source=%s", (unsigned long long)mem,
		 (unsigned long long)cpus, cfg->mem_budget_mib ? "flag" : kib ? "meminfo" : "guess");
	for (unsigned i = 0; i < cfg->nserve_templates && i < WPOOL_SERVED_MAX; i++) {
		struct wtpl *w = &wp.tpl[wp.ntpl++];

		*w = (struct wtpl){ 0 };
		snprintf(w->name, sizeof(w->name), "%s", cfg->serve_templates[i]);
		tmpl_vm_name(w->name, w->vmname);
		for (unsigned k = 0; cfg->images_given && k < cfg->nserve_images; k++)
			if (strcmp(cfg->serve_images[k], w->name) == 0)
				w->sugar = true;
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

void wpool_fini(void)
{
	wp.metrics = metrics_free(wp.metrics);
	for (unsigned k = 0; k < wp.ntpl; k++)
		wp.tpl[k].pool = vm_pool_free(wp.tpl[k].pool);
	wp.ntpl = 0;
}

/* ---- acquire ---- */

static struct wtpl *pool_for(const struct wire_template *t, const struct tmpl_eff *eff)
{
	struct wtpl *w = find_tpl(t->name);

	if (w && w->pool && strcmp(w->image, eff->image) == 0 && w->mem_mib == eff->memory_mib &&
	    w->vcpus == eff->vcpus)
		return w;
	for (unsigned i = 0; i < wp.ntpl; i++) {
		w = &wp.tpl[i];
		if (w->pool && strcmp(w->image, eff->image) == 0 && w->mem_mib == eff->memory_mib &&
		    w->vcpus == eff->vcpus)
			return w;
	}
	return NULL;
}

int wpool_vm_start_tpl(struct vm_runtime *rt, const struct wire_template *t,
		       const struct tmpl_eff *eff, const struct vm_events *ev, void *ud,
		       struct vm **ret, struct wpool_charge *ch, uint64_t waited_ms,
		       struct errmsg *reterr)
{
	struct vm_start_cfg sc = { .image = eff->image, .mem_mib = eff->memory_mib,
				   .vcpus = eff->vcpus };
	struct budget_vm size = { .mem_mib = eff->memory_mib, .vcpus = eff->vcpus };
	uint64_t t0 = time_mono_ms();
	struct wtpl *w = pool_for(t, eff), *own = find_tpl(t->name);
	int r;

	if (w) {
		struct vm_pool_stats st;

		w->demand++;
		r = vm_pool_acquire(w->pool, ev, ud, ret);
		if (r == 0) {
			w->warm++;
			wp.warm++;
			hist_add(&w->acquire, time_mono_ms() - t0);
			charge(ch, w->mem_mib, w->vcpus);
			vm_post_ready(*ret);
			return 0;
		}
		/* a clone is on its way, or the pool can make one now (the miss kicked it): a
		 * clone is ready in well under a second where a cold boot takes seconds of CPU, so
		 * wait for it, up to WPOOL_POOL_WAIT_MS */
		vm_pool_get_stats(w->pool, &st);
		if (waited_ms < WPOOL_POOL_WAIT_MS &&
		    (st.starting || (st.template_ready && pool_admit(w->pool, w)))) {
			if (waited_ms == 0)
				log_debug("pool.wait", "template=%s starting=%u", w->name, st.starting);
			return -EAGAIN;
		}
	} else if (own) {
		own->demand++;
	}
	if (!make_room(size, waited_ms < WPOOL_POOL_WAIT_MS ? w : NULL)) {
		if (wp.budget_waits++ % 20 == 0)
			log_info("budget.wait", "template=%s mem_mib=%u vcpus=%u used_mem_mib=%llu "
				 "total_mem_mib=%llu", t->name, (unsigned)eff->memory_mib,
				 (unsigned)eff->vcpus, (unsigned long long)wp.budget.job_mem_mib,
				 (unsigned long long)wp.budget.mem_mib);
		return -EAGAIN;
	}
	if (wp.pools_on)	/* --no-pool: every boot is cold, nothing missed */
		log_info("pool.miss", "template=%s reason=%s fallback=boot", t->name,
			 w ? "empty" : "not_served");
	r = vm_start_with(rt, &sc, ev, ud, ret, reterr);
	if (r == -ENOENT)
		return errmsg_set(reterr, r, "image '%s' not available on this worker", eff->image);
	if (r < 0)
		return r;
	charge(ch, eff->memory_mib, eff->vcpus);
	wp.cold++;
	if (w)
		w->cold++;
	else if (own)
		own->cold++;
	else
		wp.cold_other++;
	return 0;
}

/* ---- registry strings ---- */

void wpool_state(char *out, size_t n)
{
	size_t o = 0;

	if (n == 0)
		return;
	out[0] = '\0';
	if (!wp.pools_on || wp.ntpl == 0) {
		snprintf(out, n, "off");
		return;
	}
	for (unsigned k = 0; k < wp.ntpl && o < n; k++) {
		struct vm_pool_stats st = { 0 };

		if (!wp.tpl[k].pool)
			continue;
		vm_pool_get_stats(wp.tpl[k].pool, &st);
		o += (size_t)snprintf(out + o, n - o, "%s%s@%u: ready=%u starting=%u target=%u "
				      "min=%u max=%u", o ? "; " : "", wp.tpl[k].name,
				      (unsigned)(wp.tpl[k].from_redis ? wp.tpl[k].version : 0),
				      st.ready, st.starting, st.target, st.min, st.max);
	}
}

void wpool_templates(char *out, size_t n)
{
	size_t o = 0;

	if (n == 0)
		return;
	out[0] = '\0';
	for (unsigned k = 0; k < wp.ntpl && o < n; k++) {
		const struct wtpl *w = &wp.tpl[k];

		if (w->missing)
			o += (size_t)snprintf(out + o, n - o, "%s%s!", k ? "," : "", w->name);
		else
			o += (size_t)snprintf(out + o, n - o, "%s%s@%u", k ? "," : "", w->name,
					      (unsigned)(w->from_redis ? w->version : 0));
	}
}

void wpool_budget_state(char *out, size_t n)
{
	uint64_t mem, cpus;

	pools_held(&mem, &cpus);
	snprintf(out, n, "mem=%llu/%llu cpu=%llu/%llu",
		 (unsigned long long)(mem + wp.budget.job_mem_mib),
		 (unsigned long long)wp.budget.mem_mib,
		 (unsigned long long)(cpus + wp.budget.job_cpus), (unsigned long long)wp.budget.cpus);
}

/* ---- metrics ---- */

#define P(...)                                                                      \
	do {                                                                        \
		if (o < n)                                                          \
			o += (size_t)snprintf(out + o, n - o, __VA_ARGS__);         \
	} while (0)

static size_t put_hist(char *out, size_t n, const char *name, const char *help)
{
	size_t o = 0;

	P("# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (unsigned k = 0; k < wp.ntpl; k++) {
		const struct wtpl *w = &wp.tpl[k];
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

/* The per-template gauges and counters: one # TYPE line, then one line per served template. */
enum stat_kind { S_READY, S_STARTING, S_TARGET, S_MIN, S_MAX, S_TPL_READY, S_CLONES,
		 S_FALLBACKS, S_BOOTS, S_FAILURES, S_CLONE_S, S_BOOT_S, S_MISSES, S_GROWS,
		 S_SHRINKS, S_WARM, S_COLD, S_VERSION, S_MEM, S_VCPUS };

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
	{ "corral_template_version", "gauge", S_VERSION },
	{ "corral_template_memory_mib", "gauge", S_MEM },
	{ "corral_template_vcpus", "gauge", S_VCPUS },
};

static double stat_value(const struct wtpl *w, const struct vm_pool_stats *st, enum stat_kind k)
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
	case S_VERSION: return w->from_redis ? w->version : 0;
	case S_MEM: return w->mem_mib;
	case S_VCPUS: return w->vcpus;
	}
	return 0;
}

static size_t render(char *out, size_t n)
{
	struct vm_pool_stats st[WPOOL_SERVED_MAX];
	uint64_t mem, cpus;
	size_t o = 0;

	memset(st, 0, sizeof(st));
	for (unsigned k = 0; k < wp.ntpl; k++)
		if (wp.tpl[k].pool)
			vm_pool_get_stats(wp.tpl[k].pool, &st[k]);
	P("# HELP corral_accel_info The accelerator the VMs run under.\n"
	  "# TYPE corral_accel_info gauge\ncorral_accel_info{accel=\"%s\"} 1\n",
	  vm_runtime_accel(wp.rt));
	for (size_t d = 0; d < sizeof(stat_defs) / sizeof(stat_defs[0]); d++) {
		P("# TYPE %s %s\n", stat_defs[d].name, stat_defs[d].type);
		for (unsigned k = 0; k < wp.ntpl; k++)
			P("%s{template=\"%s\"} %.15g\n", stat_defs[d].name, wp.tpl[k].name,
			  stat_value(&wp.tpl[k], &st[k], stat_defs[d].kind));
	}
	pools_held(&mem, &cpus);
	P("# HELP corral_budget_memory_mib VM memory budget: total, held by pools, charged to "
	  "jobs.\n# TYPE corral_budget_memory_mib gauge\n"
	  "corral_budget_memory_mib{kind=\"total\"} %llu\n"
	  "corral_budget_memory_mib{kind=\"pools\"} %llu\n"
	  "corral_budget_memory_mib{kind=\"jobs\"} %llu\n",
	  (unsigned long long)wp.budget.mem_mib, (unsigned long long)mem,
	  (unsigned long long)wp.budget.job_mem_mib);
	P("# TYPE corral_budget_vcpus gauge\ncorral_budget_vcpus{kind=\"total\"} %llu\n"
	  "corral_budget_vcpus{kind=\"pools\"} %llu\ncorral_budget_vcpus{kind=\"jobs\"} %llu\n",
	  (unsigned long long)wp.budget.cpus, (unsigned long long)cpus,
	  (unsigned long long)wp.budget.job_cpus);
	P("# TYPE corral_budget_waits_total counter\ncorral_budget_waits_total %llu\n"
	  "# TYPE corral_pool_evictions_total counter\ncorral_pool_evictions_total %llu\n",
	  (unsigned long long)wp.budget_waits, (unsigned long long)wp.evictions);
	P("# TYPE corral_vm_warm_total counter\ncorral_vm_warm_total %llu\n",
	  (unsigned long long)wp.warm);
	P("# TYPE corral_vm_cold_total counter\ncorral_vm_cold_total %llu\n",
	  (unsigned long long)wp.cold);
	P("# HELP corral_vm_cold_unpooled_total Cold boots of templates served without a pool.\n"
	  "# TYPE corral_vm_cold_unpooled_total counter\ncorral_vm_cold_unpooled_total %llu\n",
	  (unsigned long long)wp.cold_other);
	if (o < n)
		o += put_hist(out + o, n - o, "corral_vm_acquire_seconds",
			      "From the acquire call to a VM handed to the job (warm only).");
	if (o < n)
		o += latency_render(&wp.lat, out + o, n - o);
	return o < n ? o : n;
}

#undef P

/*
 * wpool: corrald's warm VM pools (vm/host's vm_pool), one per served template (--template NAME,
 * repeatable; an --image X is served as a template X with image X; default just `default`),
 * the memory/vCPU budget every VM is charged against (budget.h), and the metrics endpoint.
 * A pool is made from its template's record (image, vcpus, memory, warm-up run as /bin/sh -c)
 * once the template cache has loaded; a record whose version changes gets a new pool (the old
 * one's idle VMs are destroyed, VMs already handed out stay with their jobs). Pools grow on
 * misses and on queue lag, shrink when idle, and never start a VM the budget has no room for.
 * It must not know about jobs beyond handing out (and charging) a VM at the acquire site.
 */
#ifndef CORRALD_WPOOL_H
#define CORRALD_WPOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "errmsg.h"
#include "tmpl_resolve.h"
#include "vm.h"
#include "wire.h"

struct ev_loop;

#define WPOOL_STATE_MAX 400
#define WPOOL_TEMPLATES_MAX 400		/* bytes of the registry's templates field */

/* What a job's VM is charged; wpool_uncharge() gives it back (idempotent). */
struct wpool_charge {
	unsigned mem_mib, vcpus;
	bool held;
};

/* Sets up the budget (cfg's, else 75 % of MemTotal / 4 × CPUs) and the metrics listener. Pools
 * start in wpool_templates_loaded(). */
int wpool_init(struct ev_loop *loop, struct vm_runtime *rt, const struct config *cfg,
	       struct errmsg *reterr);
void wpool_fini(void);
/* template_cache hooks (worker.c wires them): the first load is done; a record changed (t NULL:
 * deleted). */
void wpool_templates_loaded(void);
void wpool_template_changed(const char *name, const struct wire_template *t);
/* True when name is served as the image sugar of --image (template name = image, no record). */
bool wpool_is_sugar(const char *name);
/* The pools' state for the worker registry: "default@1: ready=2 starting=1 target=2 min=1 max=4;
 * ..." or "off" (--no-pool). Always NUL-terminates out (cut at n). */
void wpool_state(char *out, size_t n);
/* The served templates for the registry: "default@1,python@3" (version; @0 = built-in, "!" =
 * served but no record). */
void wpool_templates(char *out, size_t n);
/* "mem=512/18000 cpu=2/8" (MiB and vCPUs used/total) for the registry. */
void wpool_budget_state(char *out, size_t n);
#define WPOOL_POOL_WAIT_MS 3000u	/* a job waits this long for its pool's clone at most */
/* The acquire site: a warm VM from the pool serving t (same name and version, or any pool whose
 * image, vCPUs and memory equal eff's), its ready() posted to the loop; otherwise a cold boot
 * with eff's image, vCPUs and memory (ev=pool.miss reason=empty|not_served). The VM is charged
 * to *charge. -EAGAIN (call again later; waited_ms = how long the caller has been retrying):
 * the pool is making a clone (waited for up to WPOOL_POOL_WAIT_MS), or the budget has no room
 * even after evicting other pools' idle VMs; -ENOENT with "image 'x' not available on this
 * worker"; -EINVAL a bad image name; else as vm_start(). */
int wpool_vm_start_tpl(struct vm_runtime *rt, const struct wire_template *t,
		       const struct tmpl_eff *eff, const struct vm_events *ev, void *ud,
		       struct vm **ret, struct wpool_charge *charge, uint64_t waited_ms,
		       struct errmsg *reterr);
void wpool_uncharge(struct wpool_charge *charge);
/* How many jobs could get a VM now (warm or within the budget, idle pool VMs evictable),
 * at most cap. The claim asks for no more than this. */
unsigned wpool_startable(unsigned cap);
/* The queue's consumer-group lag (entries nobody has read): grows the most-demanded pool by up
 * to lag VMs within the budget. */
void wpool_on_lag(unsigned long long lag);
/* Records a finished job's timings in the latency histograms. */
void wpool_observe(const struct wire_timings *t);

/* metrics.c: the Prometheus text endpoint; render() writes the body. */
struct metrics;
int metrics_new(struct ev_loop *loop, unsigned port, size_t (*render)(char *out, size_t n),
		struct metrics **ret, struct errmsg *reterr);
struct metrics *metrics_free(struct metrics *m);

#endif

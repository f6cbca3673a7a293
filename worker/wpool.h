/*
 * wpool: corrald's warm VM pool (vm/host's vm_pool) and its metrics endpoint. One pool, the
 * "default" template (base image, the runtime's memory and vCPUs, warm-up `python3 -c pass`).
 * Its settings come from config.c (--pool-min, --pool-max, --pool-warmup, --pool-idle-ms,
 * --no-pool, --metrics-port; see `corrald --help`).
 * It must not know about jobs beyond handing out a VM at the acquire site.
 */
#ifndef CORRALD_WPOOL_H
#define CORRALD_WPOOL_H

#include <stddef.h>

#include "config.h"
#include "errmsg.h"
#include "vm.h"

struct ev_loop;

#define WPOOL_STATE_MAX 96

/* Starts the pool (template build in the background) and the metrics listener. */
int wpool_init(struct ev_loop *loop, struct vm_runtime *rt, const struct config *cfg,
	       struct errmsg *reterr);
void wpool_fini(void);
/* The pool's state for the worker registry, e.g. "ready=2 starting=1 target=2 min=1 max=4",
 * or "off" (--no-pool or before wpool_init). Always NUL-terminates out. */
void wpool_state(char *out, size_t n);
/* The acquire site: a warm VM from the pool, its ready() posted to the loop; when the pool is
 * empty (or off) a cold boot, logged ev=pool.miss fallback=boot. Same contract as vm_start(). */
int wpool_vm_start(struct vm_runtime *rt, const struct vm_events *ev, void *ud, struct vm **ret,
		   struct errmsg *reterr);

/* metrics.c: the Prometheus text endpoint; render() writes the body. */
struct metrics;
int metrics_new(struct ev_loop *loop, unsigned port, size_t (*render)(char *out, size_t n),
		struct metrics **ret, struct errmsg *reterr);
struct metrics *metrics_free(struct metrics *m);

#endif

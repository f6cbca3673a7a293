/*
 * wpool: corrald's warm VM pools (vm/host's vm_pool) and its metrics endpoint. One pool per
 * served image (--image NAME, repeatable; default just base), template named after the image,
 * with the runtime's memory and vCPUs and a warm-up suited to the image (today `python3 -c
 * pass` for all: an `import pandas` warm-up was measured not to help, see wpool.c). Every pool
 * has the same --pool-min, --pool-max, --pool-idle-ms; --pool-warmup replaces every pool's
 * warm-up; --no-pool turns them all off; --metrics-port serves the metrics (corrald --help).
 * It must not know about jobs beyond handing out a VM at the acquire site.
 */
#ifndef CORRALD_WPOOL_H
#define CORRALD_WPOOL_H

#include <stddef.h>

#include "config.h"
#include "errmsg.h"
#include "vm.h"

struct ev_loop;

#define WPOOL_STATE_MAX 400

/* Starts the pool (template build in the background) and the metrics listener. */
int wpool_init(struct ev_loop *loop, struct vm_runtime *rt, const struct config *cfg,
	       struct errmsg *reterr);
void wpool_fini(void);
/* The pools' state for the worker registry: one pool "ready=2 starting=1 target=2 min=1 max=4",
 * several "base: ready=...; python-data: ready=...", or "off" (--no-pool or before wpool_init).
 * Always NUL-terminates out (cut at n). */
void wpool_state(char *out, size_t n);
/* The acquire site: a warm VM from the pool of image (NULL or "" = base), its ready() posted to
 * the loop; when that pool is empty, or the image has no pool, a cold boot of the image (a miss
 * is logged ev=pool.miss fallback=boot). Same contract as vm_start(); an image whose file is not
 * in the images dir: -ENOENT, reterr "image 'x' not available on this worker"; a bad name:
 * -EINVAL. */
int wpool_vm_start_image(struct vm_runtime *rt, const char *image, const struct vm_events *ev,
			 void *ud, struct vm **ret, struct errmsg *reterr);
/* = wpool_vm_start_image(rt, "base", ...). */
int wpool_vm_start(struct vm_runtime *rt, const struct vm_events *ev, void *ud, struct vm **ret,
		   struct errmsg *reterr);

/* metrics.c: the Prometheus text endpoint; render() writes the body. */
struct metrics;
int metrics_new(struct ev_loop *loop, unsigned port, size_t (*render)(char *out, size_t n),
		struct metrics **ret, struct errmsg *reterr);
struct metrics *metrics_free(struct metrics *m);

#endif

/*
 * wpool: corrald's warm VM pool (vm/host's vm_pool) and its metrics endpoint. One pool, the
 * "default" template (base image, the runtime's memory and vCPUs, warm-up `python3 -c pass`).
 * Its flags are taken out of argv before config_parse() sees them, so config.c stays untouched
 * while another change edits it (fold them into config.c later):
 *   --pool-min N (default 1), --pool-max N (default 4), --pool-warmup CMD ("" = none),
 *   --pool-idle-ms N (a ready VM idle this long shrinks the pool toward min; default 30000),
 *   --no-pool (cold boots only), --metrics-port N (Prometheus text on 127.0.0.1; 0 = off).
 * It must not know about jobs beyond handing out a VM at the acquire site.
 */
#ifndef CORRALD_WPOOL_H
#define CORRALD_WPOOL_H

#include "errmsg.h"
#include "vm.h"

struct ev_loop;

#define WPOOL_METRICS_PORT_MAX 65535u

/* Removes the flags above from argv (argc updated). 0 or -EINVAL with reterr. */
int wpool_args(int *argc, char **argv, struct errmsg *reterr);
/* Starts the pool (template build in the background) and the metrics listener. */
int wpool_init(struct ev_loop *loop, struct vm_runtime *rt, struct errmsg *reterr);
void wpool_fini(void);
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

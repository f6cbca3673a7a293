/*
 * job_priv: the inside of struct job, shared by job.c (Redis, VM lifecycle, exec, result) and
 * job_stage.c (repo fetch, put batch, artefact collection). Nothing outside those two files
 * includes it.
 */
#ifndef CORRALD_JOB_PRIV_H
#define CORRALD_JOB_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "buf.h"
#include "job.h"
#include "job_sm.h"
#include "output.h"
#include "template_cache.h"
#include "tmpl_resolve.h"
#include "wire.h"
#include "wpool.h"

struct egress;
struct job_put;
struct job_get;
struct repo_op;
struct vm;

/* An in-flight Redis request of a job; the job may be freed before the reply comes. */
struct job_ticket {
	struct job *job;
	struct job_ticket **slot;	/* &job->ticket or &job->hb_ticket */
};

enum job_retry { RETRY_NONE, RETRY_LOOKUP, RETRY_FINAL, RETRY_HANDBACK };

/* Where the job's template stands (job.c, resolve_template). */
enum job_tpl { JOB_TPL_PENDING, JOB_TPL_OK, JOB_TPL_FAILED };
#define JOB_TPL_WAITS_MAX 3	/* loads of the template cache that may fail before giving up */
#define JOB_VMWAIT_MS 50u	/* re-try a VM start: a clone on its way, or no room in the budget */

#define JOB_PREPARE_TIMEOUT_S 300u	/* putok not seen by then: infrastructure failure */
#define JOB_GUEST_HOME "/home/corral"	/* a repo job's checkout is <home>/<subdir> */

struct job {
	const struct job_env *env;
	char entry_id[CLAIM_ENTRY_ID_MAX + 1];
	char id[WIRE_ID_MAX + 1];	/* "" when none could be read */
	struct wire_job *wj;		/* NULL when invalid */
	uint8_t *raw;			/* the entry's bytes, for the dead stream */
	size_t raw_len;
	struct job_sm sm;
	struct output out;
	bool out_ready;
	struct vm *vm;
	uint32_t exec_id;
	struct wire_timings t;
	struct buf result_enc, final_enc;
	struct job_ticket *ticket;	/* lookup, final or handback script in flight */
	struct job_ticket *hb_ticket;	/* renew script in flight */
	char claim_reason[WIRE_REASON_MAX + 1];
	enum job_retry retry_what;
	ev_timer timeout, retry, post, heartbeat, prepare;
	struct job_sm_in posted;
	char posted_text[WIRE_REASON_MAX + 1];
	/* job_stage.c: repo, files, artefacts */
	struct repo_op *fetch;		/* in flight; NULL once done() ran or cancelled */
	int checkout_fd;		/* the fetched checkout's PUT stream until put, else -1 */
	char commit[WIRE_COMMIT_HEX + 1];
	uint64_t fetch_start_ms, put_start_ms, get_start_ms;	/* monotonic */
	struct job_put *put;
	struct job_get *get;
	struct egress *egress;		/* egress.c: the guest proxy's streams, NULL until used */
	struct wire_artefact *arts;	/* collected, owned until the result is encoded */
	size_t narts;
	bool arts_truncated;
	/* templates and budget (job.c, issue 4) */
	struct wire_template *tpl;	/* owned copy; set once resolved */
	struct tmpl_eff eff;		/* effective image, size, limits, timeout */
	enum job_tpl tpl_state;
	char tpl_fail[WIRE_REASON_MAX + 1];
	bool tpl_fail_transient;
	bool vm_wanted;			/* START_VM came before the template was resolved */
	unsigned tpl_waits;
	struct tcache_wait twait;
	struct wpool_charge charge;	/* the budget held by j->vm */
	ev_timer vmwait;
	bool vmwait_logged;
	uint64_t vmwait_since;		/* monotonic ms of the first VM start try */
	char **exec_env;		/* template env + job env, for the exec */
	size_t exec_envc;
};

/* job.c */
void job_feed(struct job *j, const struct job_sm_in *in, int fd, const uint8_t *data);
void job_feed_kind(struct job *j, enum job_input kind);
/* Feeds an input from a zero timer: for failures found while carrying out an action. */
void job_post(struct job *j, enum job_input kind, const char *text, bool transient);

/* job_stage.c: the actions JOB_ACT_FETCH, PUT, COLLECT; frames for put/get; cleanup on STOP. */
void job_stage_init(struct job *j);
void job_stage_fetch(struct job *j);
void job_stage_put(struct job *j);
void job_stage_collect(struct job *j);
void job_stage_frame(struct job *j, const struct wire_frame *f);
/* Cancels the fetch, the put and the get (keeping artefacts already collected). */
void job_stage_stop(struct job *j);
void job_stage_free(struct job *j);
/* Needs of a decoded job (JOB_NEED_*). */
unsigned job_stage_needs(const struct wire_job *wj);
/* The exec's cwd: the job's, else the checkout for a repo job, else NULL (home). */
const char *job_stage_cwd(const struct job *j, char *buf, size_t n);
/* Moves commit, artefacts and their timings into a result about to be encoded. */
void job_stage_result(struct job *j, struct wire_result *res);

#endif

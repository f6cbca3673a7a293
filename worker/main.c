/*
 * corrald: wires the modules together and runs the libev loop. Parses the configuration, sets up
 * logging and signals, creates the VM runtime (which probes the accelerator) and the worker, runs
 * until the worker has drained. No job logic lives here.
 */
#define LOG_MOD "main"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "config.h"
#include "egress.h"
#include "log.h"
#include "repo.h"
#include "vm.h"
#include "worker.h"
#include "wpool.h"

/* corral-jail next to this binary, when --jail says to use it. 0 with *ret NULL: unjailed. */
static int jail_path(const struct config *cfg, char *buf, size_t n, const char **ret,
		     struct errmsg *reterr)
{
	ssize_t len = readlink("/proc/self/exe", buf, n - 1);
	char *slash;
	bool have;

	*ret = NULL;
	if (strcmp(cfg->jail, "off") == 0)
		return 0;
	if (len < 0 || (size_t)len + sizeof("/corral-jail") > n)
		return errmsg_set(reterr, -ENAMETOOLONG, "--jail: cannot find corrald's directory");
	buf[len] = '\0';
	slash = strrchr(buf, '/');
	strcpy(slash + 1, "corral-jail");
	have = access(buf, X_OK) == 0 && geteuid() == 0;
	if (strcmp(cfg->jail, "on") == 0 && !have)
		return errmsg_set(reterr, -EPERM, "--jail on: needs root and %s", buf);
	if (have)
		*ret = buf;
	return 0;
}

/* The repo policy from the configuration; logs the allow patterns and the credential hosts,
 * never a secret. */
static int repo_setup(struct ev_loop *loop, const struct config *cfg, struct errmsg *reterr)
{
	static struct repo_policy pol;	/* repo.c may keep pointers into it */
	char q[LOG_QUOTE_MAX + 8], host[CONFIG_REPO_HOST_MAX + 1];

	pol = (struct repo_policy){
		.allow = cfg->repo_allow,
		.nallow = cfg->nrepo_allow,
		.creds = cfg->repo_creds,
		.ncreds = cfg->nrepo_creds,
		.cache_max = cfg->repo_cache_max,
		.max_bytes = cfg->repo_max_bytes,
		.max_files = CONFIG_REPO_MAX_FILES_DEFAULT,
		.max_file = CONFIG_REPO_MAX_FILE_DEFAULT,
		.timeout_ms = cfg->repo_timeout_s * 1000u,
		.run_dir = cfg->run_dir,
	};
	snprintf(pol.cache_dir, sizeof(pol.cache_dir), "%s", cfg->repo_cache);
	for (size_t i = 0; i < cfg->nrepo_allow; i++) {
		log_quote(q, sizeof(q), cfg->repo_allow[i], strlen(cfg->repo_allow[i]));
		log_info("worker.repo_allow", "pattern=%s", q);
	}
	for (size_t i = 0; i < cfg->nrepo_creds; i++) {
		const char *v = cfg->repo_creds[i] + strcspn(cfg->repo_creds[i], "=");

		config_cred_host(cfg->repo_creds[i], host, sizeof(host));
		log_info("worker.repo_cred", "host=%s secret_file=%d", host,
			 (int)(v[0] == '=' && v[1] == '@'));
	}
	log_info("worker.repo", "cache=%s cache_max=%llu max_bytes=%llu timeout_s=%u", pol.cache_dir,
		 (unsigned long long)pol.cache_max, (unsigned long long)pol.max_bytes,
		 cfg->repo_timeout_s);
	return repo_init(loop, &pol, reterr);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	log_info("worker.signal", "signal=%d", w->signum);
	worker_shutdown(w->data);
}

int main(int argc, char **argv)
{
	static struct config cfg;
	struct errmsg err = { "" };
	struct vm_runtime *rt = NULL;
	struct worker *w = NULL;
	struct ev_loop *loop;
	ev_signal sigterm, sigint;
	struct vm_config vmcfg;
	static char jail[PATH_MAX];
	int r;

	log_init("corrald");
	r = config_parse(argc, argv, &cfg, &err);
	if (r == CONFIG_HELP) {
		config_usage(stdout);
		return 0;
	}
	if (r == CONFIG_VERSION) {
		printf("corrald %s\n", CORRAL_VERSION);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "corrald: %s\n", err.msg);
		config_free(&cfg);
		return 2;
	}
	log_set_level(cfg.log_level);
	egress_configure(&cfg.egress);
	signal(SIGPIPE, SIG_IGN);
	loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		fprintf(stderr, "corrald: cannot initialise libev\n");
		return 1;
	}
	vmcfg = (struct vm_config){
		.images_dir = cfg.images,
		.run_dir = cfg.run_dir,
		.accel = cfg.accel,
	};
	r = jail_path(&cfg, jail, sizeof(jail), &vmcfg.jail, &err);
	if (r < 0) {
		log_error("worker.jail_failed", "err=%s why=\"%s\"", errno_name(r), err.msg);
		return 1;
	}
	log_info("worker.jail", "jail=%s", vmcfg.jail ? vmcfg.jail : "off");
	r = vm_runtime_new(loop, &vmcfg, &rt, &err);
	if (r < 0) {
		log_error("worker.vm_failed", "err=%s why=\"%s\"", errno_name(r), err.msg);
		return 1;
	}
	r = repo_setup(loop, &cfg, &err);
	if (r < 0) {
		log_error("worker.repo_failed", "err=%s why=\"%s\"", errno_name(r), err.msg);
		vm_runtime_free(rt);
		return 1;
	}
	r = wpool_init(loop, rt, &cfg, &err);
	if (r < 0) {
		log_error("worker.pool_failed", "err=%s why=\"%s\"", errno_name(r), err.msg);
		repo_fini();
		vm_runtime_free(rt);
		return 1;
	}
	r = worker_new(loop, &cfg, rt, &w, &err);
	if (r < 0) {
		log_error("worker.start_failed", "err=%s why=\"%s\"", errno_name(r), err.msg);
		wpool_fini();
		repo_fini();
		vm_runtime_free(rt);
		return 1;
	}
	ev_signal_init(&sigterm, on_signal, SIGTERM);
	sigterm.data = w;
	ev_signal_start(loop, &sigterm);
	ev_signal_init(&sigint, on_signal, SIGINT);
	sigint.data = w;
	ev_signal_start(loop, &sigint);
	ev_run(loop, 0);
	ev_signal_stop(loop, &sigterm);
	ev_signal_stop(loop, &sigint);
	worker_free(w);
	wpool_fini();
	repo_fini();
	vm_runtime_free(rt);
	config_free(&cfg);
	return 0;
}

/*
 * corral-repo-drive: a test driver of worker/repo.c without corrald. It starts every URL/REF
 * pair given at once on the default libev loop (so concurrent requests of one URL share a
 * flight), and prints one line per completion:
 *   done <i> err=<e> transient=<0|1> commit=<hex> mirror_hit=<0|1> files=<n> bytes=<n>
 *        stream=<bytes in the fd> ms=<n> why="<text>"
 * With --cancel I, request I is cancelled right after it starts (it must print nothing).
 * Used by tests/integration/test_repo_fetch.sh; not installed, not part of corrald.
 */
#include <ev.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "repo.h"
#include "util.h"

#define DRIVE_MAX 16

static int pending;

static void done(void *ud, int err, bool transient, const struct repo_checkout *co,
		 const char *why)
{
	struct stat st = { 0 };
	int i = (int)(intptr_t)ud;

	if (co)
		(void)fstat(co->fd, &st);
	printf("done %d err=%d transient=%d commit=%s mirror_hit=%d files=%" PRIu64
	       " bytes=%" PRIu64 " stream=%lld ms=%" PRIu64 " pos=%lld why=\"%s\"\n",
	       i, err, transient, co ? co->commit : "-", co ? co->mirror_hit : 0,
	       co ? co->files : 0, co ? co->bytes : 0, (long long)st.st_size,
	       co ? co->fetch_ms : 0, co ? (long long)lseek(co->fd, 0, SEEK_CUR) : -1LL,
	       why ? why : "");
	fflush(stdout);
	if (co)
		fd_close(co->fd);
	if (--pending == 0)
		ev_break(EV_DEFAULT, EVBREAK_ALL);
}

int main(int argc, char **argv)
{
	static char *allow[64], *creds[16];
	struct repo_policy pol = { .cache_max = 2ull << 30, .max_bytes = 64u << 20,
				   .max_files = 20000, .max_file = 32u << 20,
				   .timeout_ms = 120000, .allow = allow, .creds = creds };
	static const struct option opts[] = {
		{ "cache", 1, NULL, 'c' },	{ "run-dir", 1, NULL, 'r' },
		{ "allow", 1, NULL, 'a' },	{ "cred", 1, NULL, 'k' },
		{ "timeout-ms", 1, NULL, 't' }, { "max-bytes", 1, NULL, 'b' },
		{ "bin", 1, NULL, 'x' },	{ "cancel", 1, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct wire_repo reqs[DRIVE_MAX];
	struct repo_op *ops[DRIVE_MAX];
	struct errmsg e = { "" };
	int c, n = 0, cancel = -1;

	log_init("repo-drive");
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': snprintf(pol.cache_dir, sizeof(pol.cache_dir), "%s", optarg); break;
		case 'r': pol.run_dir = optarg; break;
		case 'a': if (pol.nallow < 64) allow[pol.nallow++] = optarg; break;
		case 'k': if (pol.ncreds < 16) creds[pol.ncreds++] = optarg; break;
		case 't': pol.timeout_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'b': pol.max_bytes = strtoull(optarg, NULL, 10); break;
		case 'x': pol.fetch_bin = optarg; break;
		case 'C': cancel = atoi(optarg); break;
		default: return 2;
		}
	}
	if (repo_init(EV_DEFAULT, &pol, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	for (; optind + 1 < argc && n < DRIVE_MAX; optind += 2, n++) {
		reqs[n] = (struct wire_repo){ .url = argv[optind], .ref = argv[optind + 1],
					      .subdir = "repo" };
		if (repo_fetch(&reqs[n], done, (void *)(intptr_t)n, &ops[n], &e) < 0) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
		pending++;
	}
	if (cancel >= 0 && cancel < n) {
		repo_cancel(ops[cancel]);
		pending--;
	}
	if (pending)
		ev_run(EV_DEFAULT, 0);
	repo_fini();
	return 0;
}

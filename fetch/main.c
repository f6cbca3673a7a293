/*
 * corral-fetch: the jailed git helper of corrald (fetch/README.md has the whole contract).
 *   corral-fetch fetch  --cache DIR --url URL [--allow PAT]... [--cred-fd N] [--repo-max BYTES]
 *                       [--objects-max N] [--cache-max BYTES] [--depth N] [--timeout-ms MS]
 *                       [--hide DIR]...
 *   corral-fetch export --cache DIR --url URL --ref REF [--subdir DIR] [--max-bytes N]
 *                       [--max-files N] [--max-file N] [--timeout-ms MS] [--hide DIR]...
 *   corral-fetch selftest --cache DIR --url URL [--probe PATH]... [--hide DIR]...
 * It checks the URL policy before anything else, enters the jail, then runs the mode. stdout
 * carries only the export's PUT frames; the last line on stderr is the JSON summary (exit 0)
 * or the error, one line starting "repo: ". Exit codes: fetch_proto.h. It must never print or
 * log a credential: they arrive on --cred-fd as "USER:SECRET" and are wiped at exit.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"
#include "util.h"
#include "wire.h"

#define MIB (1024ull * 1024u)
#define SUMMARY_MAX 4096

static struct fetch_args args;

static void wipe(void)
{
	explicit_bzero(args.user, sizeof(args.user));
	explicit_bzero(args.secret, sizeof(args.secret));
}

__attribute__((noreturn)) static void finish(int code, const char *line)
{
	wipe();
	fflush(stdout);
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
	/* _exit: LeakSanitizer's exit-time check needs ptrace, which the seccomp filter denies */
	_exit(code);
}

static void on_alarm(int sig)
{
	static const char msg[] = "repo: fetch timed out\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(FETCH_EXIT_TIMEOUT);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

enum { O_CACHE = 256, O_URL, O_ALLOW, O_CRED, O_REF, O_SUBDIR, O_MAXB, O_MAXF, O_MAXFILE,
       O_REPOMAX, O_OBJMAX, O_CACHEMAX, O_DEPTH, O_TIMEOUT, O_HIDE, O_PROBE };

static const struct option opts[] = {
	{ "cache", required_argument, NULL, O_CACHE },
	{ "url", required_argument, NULL, O_URL },
	{ "allow", required_argument, NULL, O_ALLOW },
	{ "cred-fd", required_argument, NULL, O_CRED },
	{ "ref", required_argument, NULL, O_REF },
	{ "subdir", required_argument, NULL, O_SUBDIR },
	{ "max-bytes", required_argument, NULL, O_MAXB },
	{ "max-files", required_argument, NULL, O_MAXF },
	{ "max-file", required_argument, NULL, O_MAXFILE },
	{ "repo-max", required_argument, NULL, O_REPOMAX },
	{ "objects-max", required_argument, NULL, O_OBJMAX },
	{ "cache-max", required_argument, NULL, O_CACHEMAX },
	{ "depth", required_argument, NULL, O_DEPTH },
	{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
	{ "hide", required_argument, NULL, O_HIDE },
	{ "probe", required_argument, NULL, O_PROBE },
	{ NULL, 0, NULL, 0 },
};

static int parse_opt(int c, const char *v, struct errmsg *reterr)
{
	uint64_t n = 0;

	switch (c) {
	case O_CACHE: args.cache = v; return v[0] == '/' ? 0 : -EINVAL;
	case O_URL: args.url = v; return 0;
	case O_REF: args.ref = v; return 0;
	case O_SUBDIR: args.subdir = v; return 0;
	case O_ALLOW:
		if (args.nallow == POLICY_ALLOW_MAX)
			return -E2BIG;
		args.allow[args.nallow++] = v;
		return 0;
	case O_HIDE:
		if (args.nhide == FETCH_HIDE_MAX || v[0] != '/')
			return -EINVAL;
		args.hide[args.nhide++] = v;
		return 0;
	case O_PROBE:
		if (args.nprobe == FETCH_PROBE_MAX)
			return -E2BIG;
		args.probe[args.nprobe++] = v;
		return 0;
	}
	if (parse_u64(v, &n) < 0)
		return -EINVAL;
	switch (c) {
	case O_CRED:
		if (n < 3 || n > 1023)
			return -EINVAL;
		args.cred_fd = (int)n;
		break;
	case O_MAXB: args.max_bytes = n; break;
	case O_MAXF: args.max_files = n; break;
	case O_MAXFILE: args.max_file = n; break;
	case O_REPOMAX: args.repo_max = n; break;
	case O_OBJMAX: args.objects_max = n; break;
	case O_CACHEMAX: args.cache_max = n; break;
	case O_DEPTH: if (n > 2147483648u) return -ERANGE; args.depth = (uint32_t)n; break;
	case O_TIMEOUT: if (n > 86400000u) return -ERANGE; args.timeout_ms = (unsigned)n; break;
	default: return errmsg_set(reterr, -EINVAL, "unknown option");
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct errmsg *reterr)
{
	struct errmsg why;
	int c;

	args.cred_fd = -1;
	args.subdir = "repo";
	if (argc < 2)
		return errmsg_set(reterr, FETCH_EXIT_USAGE, "repo: usage: corral-fetch "
				  "fetch|export|selftest --cache DIR --url URL ...");
	args.mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == '?' || parse_opt(c, optarg, reterr) < 0)
			return errmsg_set(reterr, FETCH_EXIT_USAGE, "repo: bad option %s",
					  argv[optind - 1]);
	}
	if (optind != argc || !args.cache || !args.url)
		return errmsg_set(reterr, FETCH_EXIT_USAGE,
				  "repo: --cache (absolute) and --url are required");
	if (strcmp(args.mode, "export") == 0) {
		if (!args.ref)
			return errmsg_set(reterr, FETCH_EXIT_USAGE, "repo: export needs --ref");
		if (wire_check_ref("ref", args.ref, strlen(args.ref), &why) < 0)
			return errmsg_set(reterr, FETCH_EXIT_REF, "repo: invalid ref: %s", why.msg);
		if (wire_check_subdir("subdir", args.subdir, strlen(args.subdir), &why) < 0)
			return errmsg_set(reterr, FETCH_EXIT_USAGE, "repo: invalid subdir: %s",
					  why.msg);
	} else if (strcmp(args.mode, "fetch") != 0 && strcmp(args.mode, "selftest") != 0) {
		return errmsg_set(reterr, FETCH_EXIT_USAGE, "repo: unknown mode (fetch, export, "
				  "selftest)");
	}
	return 0;
}

/* "USER:SECRET" from the pipe; the fd is closed either way. */
static int read_cred(struct errmsg *reterr)
{
	char buf[FETCH_CRED_MAX + 1];
	size_t len = 0;
	char *colon;
	ssize_t n;
	int r = 0;

	while (len < sizeof(buf) - 1) {
		n = read(args.cred_fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	fd_close(args.cred_fd);
	args.cred_fd = -1;
	buf[len] = '\0';
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	colon = strchr(buf, ':');
	if (!colon || len >= FETCH_CRED_MAX || colon == buf) {
		r = errmsg_set(reterr, FETCH_EXIT_AUTH, "repo: malformed credentials (want "
			       "USER:SECRET)");
	} else {
		*colon = '\0';
		/* both fit: len < FETCH_CRED_MAX; the second copy takes the NUL along */
		memcpy(args.user, buf, (size_t)(colon - buf) + 1);
		memcpy(args.secret, colon + 1, len - (size_t)(colon - buf));
		args.has_cred = true;
	}
	explicit_bzero(buf, sizeof(buf));
	return r;
}

static int policy_code(int r)
{
	if (r == -ENOENT)
		return FETCH_EXIT_NOTFOUND;
	if (r == -EAGAIN)
		return FETCH_EXIT_NETWORK;
	return FETCH_EXIT_POLICY;
}

static int run_fetch(char *summary, struct errmsg *reterr, const struct url_parts *u,
		     bool need_dns)
{
	struct fetch_paths p;
	uint64_t t0 = time_mono_ms();
	struct fetch_stats st = { .existed = false };
	int r, evicted;

	if (need_dns) {
		r = policy_check_host(u->host, reterr);
		if (r < 0)
			return policy_code(r);
	}
	r = fetch_git_init(reterr);
	if (!r)
		r = fetch_paths_of(args.cache, args.url, &p, reterr);
	if (!r)
		r = fetch_mirror(&args, &st, reterr);
	if (r)
		return r;
	evicted = fetch_evict(args.cache, args.cache_max, p.key);
	snprintf(summary, SUMMARY_MAX,
		 "{\"mirror\":\"%s\",\"existed\":%s,\"ms\":%" PRIu64 ",\"received_bytes\":%" PRIu64
		 ",\"received_objects\":%" PRIu64 ",\"evicted\":%d,\"depth\":%u,\"shallow\":false}",
		 p.key, st.existed ? "true" : "false", time_mono_ms() - t0, st.received_bytes,
		 st.received_objects, evicted, args.depth);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction alrm = { .sa_handler = on_alarm };
	static char summary[SUMMARY_MAX];
	struct url_parts u;
	struct errmsg err = { "" };
	bool need_dns = false;
	int r;

	r = parse_args(argc, argv, &err);
	if (r)
		finish(r, err.msg);
	if (args.cred_fd >= 0 && (r = read_cred(&err)) != 0)
		finish(r, err.msg);
	r = policy_check_url(args.allow, args.nallow, args.url, &u, &need_dns, &err);
	if (r < 0)
		finish(policy_code(r), err.msg);
	r = fetch_jail(&args, &err);
	if (r)
		finish(r, err.msg);
	(void)sigaction(SIGXCPU, &alrm, NULL);	/* pid 1 of its namespace ignores SIG_DFL ones */
	if (args.timeout_ms) {
		(void)sigaction(SIGALRM, &alrm, NULL);
		(void)alarm((args.timeout_ms + 999) / 1000);
	}
	if (strcmp(args.mode, "fetch") == 0) {
		r = run_fetch(summary, &err, &u, need_dns);
	} else if (strcmp(args.mode, "export") == 0) {
		r = fetch_git_init(&err);
		if (!r)
			r = fetch_export(&args, STDOUT_FILENO, summary, sizeof(summary), &err);
	} else {
		r = fetch_selftest(&args, &err);
		snprintf(summary, sizeof(summary), "{\"selftest\":\"ok\"}");
	}
	if (r)
		finish(r, err.msg);
	finish(0, summary);
}

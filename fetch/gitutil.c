/*
 * gitutil: libgit2 set-up for corral-fetch and the translation of libgit2 errors into exit codes
 * (fetch_proto.h). The set-up ignores every system/global/XDG git config (a url.insteadOf there
 * could reroute a fetch around the policy) and bounds libgit2's memory maps. The classification
 * is conservative: unknown failures are network (transient) unless they are clearly about the
 * data (corrupt objects: hostile) or the host (memory, disk: internal).
 */
#include <errno.h>
#include <git2.h>
#include <stdio.h>
#include <string.h>

#include "fetch.h"

#define GIT_MWINDOW_SIZE_BYTES (32u * 1024u * 1024u)
#define GIT_MWINDOW_MAPPED_BYTES (256u * 1024u * 1024u)
#define GIT_OBJECT_CACHE_BYTES (64 * 1024 * 1024)

int fetch_git_init(struct errmsg *reterr)
{
	static const int levels[] = { GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
				      GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA };

	if (git_libgit2_init() < 0)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: libgit2 init failed");
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "") < 0)
			return errmsg_set(reterr, FETCH_EXIT_INTERNAL,
					  "repo: libgit2 search path reset failed");
	}
	if (git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)GIT_MWINDOW_SIZE_BYTES) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT,
			     (size_t)GIT_MWINDOW_MAPPED_BYTES) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)GIT_OBJECT_CACHE_BYTES) < 0 ||
	    /* a file:// source belongs to another uid than the jail's; libgit2 runs no hooks */
	    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0) < 0 ||
	    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 1) < 0 ||
	    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_USER_AGENT, "corral-fetch/" CORRAL_VERSION) < 0)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: libgit2 options failed");
	return 0;
}

/* Keeps a libgit2 message to one printable line. */
static void clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static int classify(int gerr, int klass, const char *msg)
{
	if (gerr == GIT_EAUTH || strstr(msg, "401") || strstr(msg, "403") ||
	    strstr(msg, "authentication"))
		return FETCH_EXIT_AUTH;
	if (gerr == GIT_ECERTIFICATE || klass == GIT_ERROR_SSL)
		return FETCH_EXIT_POLICY;
	if (gerr == GIT_ENOTFOUND || strstr(msg, "404") || strstr(msg, "not found") ||
	    strstr(msg, "not exported") || strstr(msg, "not appear to be a git repository") ||
	    strstr(msg, "could not find repository") || strstr(msg, "failed to resolve path"))
		return FETCH_EXIT_NOTFOUND;
	switch (klass) {
	case GIT_ERROR_NOMEMORY:
	case GIT_ERROR_OS:
	case GIT_ERROR_FILESYSTEM:
		return FETCH_EXIT_INTERNAL;
	case GIT_ERROR_ZLIB:
	case GIT_ERROR_ODB:
	case GIT_ERROR_INDEXER:
	case GIT_ERROR_OBJECT:
	case GIT_ERROR_TREE:
		return FETCH_EXIT_HOSTILE;
	default:
		return FETCH_EXIT_NETWORK;
	}
}

int fetch_git_fail(int gerr, const char *what, struct errmsg *reterr)
{
	const git_error *e = git_error_last();
	char msg[200];
	int code;

	snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "unknown error");
	clean(msg);
	code = classify(gerr, e ? e->klass : 0, msg);
	return errmsg_set(reterr, code, "repo: %s: %s", what, msg);
}

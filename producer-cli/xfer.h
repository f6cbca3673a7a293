/*
 * xfer: the file flags of `corral run`/`submit`: --put LOCAL:REMOTE (reads the local file into
 * the job's files, mode from the local file), --get REMOTE:LOCAL (adds REMOTE to the job's
 * outputs and, after the result arrives, writes the matching artefacts), and --repo/--ref/
 * --depth/--subdir, --image, --artefacts-max. Errors are printed naming the flag; nothing is
 * queued when one fails. Parsing and matching are pure except reading the --put files.
 */
#ifndef CORRAL_XFER_H
#define CORRAL_XFER_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#include "wire.h"

#define XFER_HOME "/home/corral"

#define XFER_USAGE                                                                                \
	"  --put LOCAL:REMOTE  copy a local file into the guest before the command runs (mode\n"   \
	"                   kept; REMOTE absolute or relative to " XFER_HOME "; repeatable;\n"        \
	"                   768 KiB in total)\n"                                                      \
	"  --get REMOTE:LOCAL  after the run, save the guest file(s) REMOTE (a path or glob) to\n" \
	"                   LOCAL (a directory when REMOTE is a glob or LOCAL ends in '/')\n"      \
	"  --artefacts-max N   bytes of --get files kept (default 4M, at most 32M; k/M ok)\n"      \
	"  --repo URL       check out a git repository at " XFER_HOME "/repo (the default cwd)\n" \
	"  --ref REF        branch, tag or commit of --repo (default HEAD)\n"                      \
	"  --depth N        shallow history depth of --repo (default full)\n"                       \
	"  --subdir DIR     checkout directory under " XFER_HOME " (default repo)\n"                 \
	"  --image NAME     root filesystem image (default: the template's)\n"

/* Expands a REMOTE argument: absolute as is, else below XFER_HOME. Malloc()ed or NULL. */
char *xfer_remote_path(const char *remote);
/* --put LOCAL:REMOTE: reads LOCAL (a regular file) and appends it to job->files, checking the
 * count and the 768 KiB total. 0 or -errno (printed). */
int xfer_put(struct cli *cli, struct wire_job *job, const char *arg);
/* --get REMOTE[:LOCAL]: records the get in cli and REMOTE in job->outputs. 0 or -errno. */
int xfer_get(struct cli *cli, struct wire_job *job, const char *arg, bool need_local);
/* --repo URL / --ref / --depth / --subdir. 0 or -errno (printed). */
int xfer_repo_opt(struct cli *cli, struct wire_job *job, const char *flag, const char *arg);
/* After parsing: --ref etc. need --repo. 0 or -EINVAL (printed). */
int xfer_finish(struct cli *cli, const struct wire_job *job);
/* True when artefact path a is matched by the get's REMOTE (exact path or glob(3) match). */
bool xfer_matches(const struct cli_get *g, const char *path);
/* Writes the artefacts matching each get to its LOCAL; warns on stderr about truncated ones and
 * gets that matched nothing. 0, or -errno when a file could not be written (printed). */
int xfer_save(const struct cli *cli, const struct wire_result *res, FILE *warn);

#endif

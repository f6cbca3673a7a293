/*
 * verbs: the entry points of the `corral` verbs (one file each) and the one helper two of them
 * share (reading a result record). Each returns the process exit code.
 */
#ifndef CORRAL_VERBS_H
#define CORRAL_VERBS_H

#include "cli.h"
#include "wire.h"

struct redisContext;

int cmd_run(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_result(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_workers(int argc, char **argv);
int cmd_queue(int argc, char **argv);
int cmd_template(int argc, char **argv);

/* GETs and decodes the result of job id. 1 found, 0 not (yet), negative errno (printed). */
int result_fetch(const struct cli *cli, struct redisContext *ctx, const char *id,
		 struct wire_result *out);

#endif

/*
 * seccomp: loads the QEMU allowlist (qemu.seccomp, compiled into jail_seccomp_rules[] at build
 * time by seccomp_gen.cmake) with libseccomp: default action kill-process, one rule per line.
 * A name libseccomp does not know or a malformed line is an error, never skipped: the policy is
 * reviewed data and must mean exactly what it says. It must not add rules of its own.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jail.h"
#include "seccomp_rules.h"	/* generated: jail_seccomp_rules[], NULL-terminated */

static int errno_by_name(const char *name)
{
	static const struct { const char *n; int e; } tab[] = {
		{ "EPERM", EPERM }, { "ENOSYS", ENOSYS }, { "ENOTTY", ENOTTY },
		{ "EACCES", EACCES }, { "EINVAL", EINVAL },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].n, name) == 0)
			return tab[i].e;
	return -1;
}

/* One rule "NAME [errno=E | arg0-eq=N | arg0-clear=M]". */
static int add_rule(scmp_filter_ctx ctx, const char *rule, char *detail)
{
	char name[64], opt[64] = "";
	unsigned long long v;
	char *end;
	int nr, r, e;

	if (sscanf(rule, "%63s %63s", name, opt) < 1)
		goto bad;
	nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR) {
		snprintf(detail, JAIL_DETAIL_MAX, "qemu.seccomp: unknown syscall '%s'", name);
		return -ENOENT;
	}
	if (!opt[0]) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	} else if (strncmp(opt, "errno=", 6) == 0) {
		if ((e = errno_by_name(opt + 6)) < 0)
			goto bad;
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(e), nr, 0);
	} else if (strncmp(opt, "arg0-eq=", 8) == 0 || strncmp(opt, "arg0-clear=", 11) == 0) {
		bool eq = opt[4] == 'e';

		errno = 0;
		v = strtoull(opt + (eq ? 8 : 11), &end, 0);
		if (errno || *end)
			goto bad;
		if (eq)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, v));
		else
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					     SCMP_A0(SCMP_CMP_MASKED_EQ, v, 0));
	} else {
		goto bad;
	}
	if (r < 0)
		snprintf(detail, JAIL_DETAIL_MAX, "seccomp_rule_add '%s'", rule);
	return r;
bad:
	snprintf(detail, JAIL_DETAIL_MAX, "qemu.seccomp: malformed rule '%s'", rule);
	return -EINVAL;
}

int jail_seccomp(struct jail *j, char *detail)
{
	scmp_filter_ctx ctx;
	int r = 0;

	if (!j->seccomp)
		return 0;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(detail, JAIL_DETAIL_MAX, "seccomp_init");
		return -ENOMEM;
	}
	for (size_t i = 0; jail_seccomp_rules[i] && r >= 0; i++)
		r = add_rule(ctx, jail_seccomp_rules[i], detail);
	if (r >= 0 && (r = seccomp_load(ctx)) < 0)
		snprintf(detail, JAIL_DETAIL_MAX, "seccomp_load");
	seccomp_release(ctx);
	return r;
}

void jail_seccomp_print(void)
{
	for (size_t i = 0; jail_seccomp_rules[i]; i++)
		printf("%s\n", jail_seccomp_rules[i]);
}

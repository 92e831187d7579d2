/* SPDX-License-Identifier: MIT */
/* The sandbox's lifetime: build the filters and the Landlock ruleset, restrict the process, enter a role's filter. */
#include <errno.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox_internal.h"

const char *sandbox_role_name(enum sandbox_role role)
{
	switch (role) {
	case SANDBOX_ROLE_MAIN:
		return "main";
	case SANDBOX_ROLE_VCPU:
		return "vCPU";
	case SANDBOX_ROLE_IO:
		return "drive I/O";
	case SANDBOX_NROLES:
		break;
	}
	return "?";
}

int sandbox_create(const struct sandbox_params *p, struct sandbox **out)
{
	struct sandbox_env env;
	struct sandbox *sb;
	int r;

	if (!p || !out)
		return -EINVAL;
	env = (struct sandbox_env){ .pid = getpid(), .stats_dir_fd = p->stats_dir_fd };
	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->ruleset_fd = -1;
	for (unsigned int i = 0; i < SANDBOX_NROLES; i++) {
		r = sandbox_filter_build((enum sandbox_role)i, &env, &sb->progs[i]);
		if (r < 0)
			goto destroy;
	}
	sb->landlock_abi = sandbox_landlock_abi_query();
	if (sb->landlock_abi > 0) {
		r = sandbox_landlock_ruleset(sb->landlock_abi, &env);
		if (r < 0)
			goto destroy;
		sb->ruleset_fd = r;
	} else if (sb->landlock_abi != -ENOSYS && sb->landlock_abi != -EOPNOTSUPP) {
		r = sb->landlock_abi;
		goto destroy;
	}
	r = sandbox_trap_install();
	if (r < 0)
		goto destroy;
	*out = sb;
	return 0;
destroy:
	sandbox_destroy(sb);
	return r;
}

int sandbox_restrict(const struct sandbox *sb)
{
	if (!sb)
		return -EINVAL;
	/* Landlock and seccomp both need it of a thread without CAP_SYS_ADMIN; set-uid files stop working too. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (sb->ruleset_fd >= 0)
		return sandbox_landlock_restrict(sb->ruleset_fd);
	return 0;
}

int sandbox_enter(const struct sandbox *sb, enum sandbox_role role)
{
	if (!sb)
		return 0;
	if ((unsigned int)role >= SANDBOX_NROLES)
		return -EINVAL;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* Before the filter: from its first call on, a trap must know whose line it writes. */
	sandbox_trap_role_set(role);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &sb->progs[role]) < 0)
		return -errno;
	return 0;
}

int sandbox_landlock_abi(const struct sandbox *sb)
{
	return sb ? sb->landlock_abi : -EINVAL;
}

unsigned int sandbox_filter_len(const struct sandbox *sb, enum sandbox_role role)
{
	if (!sb || (unsigned int)role >= SANDBOX_NROLES)
		return 0;
	return sb->progs[role].len;
}

void sandbox_destroy(struct sandbox *sb)
{
	if (!sb)
		return;
	for (unsigned int i = 0; i < SANDBOX_NROLES; i++)
		free(sb->progs[i].filter);
	if (sb->ruleset_fd >= 0)
		close(sb->ruleset_fd);
	free(sb);
}

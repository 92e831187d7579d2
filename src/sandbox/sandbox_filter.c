/* SPDX-License-Identifier: MIT */
/* A role's seccomp filter: its tables handed to libseccomp, compiled to BPF in vmm's memory for seccomp(2) to load. */
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sandbox_internal.h"

/* The kernel's limit on one filter's length (BPF_MAXINSNS). */
#define FILTER_MAX_INSNS 4096

/* Whether rule can apply in env: one that names the --stats directory is left out without one. */
static bool filter_rule_applies(const struct sandbox_rule *rule, const struct sandbox_env *env)
{
	for (unsigned int i = 0; i < rule->nargs; i++) {
		if (rule->args[i].from == SANDBOX_VAL_STATS_DIR && env->stats_dir_fd < 0)
			return false;
	}
	return true;
}

static uint64_t filter_arg_value(const struct sandbox_arg *a, const struct sandbox_env *env)
{
	switch (a->from) {
	case SANDBOX_VAL_PID:
		return (uint64_t)env->pid;
	case SANDBOX_VAL_STATS_DIR:
		return (uint64_t)env->stats_dir_fd;
	default:
		return a->value;
	}
}

/* Add rule (allow, or fail with its errno, when its checks hold). 0 or -errno. */
static int filter_rule_add(scmp_filter_ctx ctx, const struct sandbox_rule *rule, const struct sandbox_env *env)
{
	struct scmp_arg_cmp cmp[SANDBOX_RULE_ARGS];

	for (unsigned int i = 0; i < rule->nargs; i++) {
		const struct sandbox_arg *a = &rule->args[i];
		uint64_t v = filter_arg_value(a, env);

		if (a->mask == ~0ull)
			cmp[i] = (struct scmp_arg_cmp){ .arg = a->index, .op = SCMP_CMP_EQ, .datum_a = v };
		else
			cmp[i] = (struct scmp_arg_cmp){ .arg = a->index, .op = SCMP_CMP_MASKED_EQ, .datum_a = a->mask,
							.datum_b = v };
	}
	/* A call this architecture lacks (a negative pseudo number: epoll_wait on aarch64) makes no rule. */
	return seccomp_rule_add_array(ctx, rule->fail ? SCMP_ACT_ERRNO(rule->fail) : SCMP_ACT_ALLOW, rule->nr,
				      rule->nargs, cmp);
}

/* Whether the call of rule i of table t has a rule earlier in tables. */
static bool filter_seen(const struct sandbox_table *tables, unsigned int t, unsigned int i)
{
	int nr = tables[t].rules[i].nr;

	for (unsigned int u = 0; u <= t; u++) {
		for (unsigned int j = 0; j < (u == t ? i : tables[u].n); j++) {
			if (tables[u].rules[j].nr == nr)
				return true;
		}
	}
	return false;
}

/* libseccomp 2.5 writes BPF only to an fd: through a memfd into memory. 0 or -errno. */
static int filter_export(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	struct sock_filter *insns = NULL;
	size_t done = 0;
	off_t len;
	int fd, r;

	fd = memfd_create("vmm-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		goto close_fd;
	len = lseek(fd, 0, SEEK_END);
	if (len < 0) {
		r = -errno;
		goto close_fd;
	}
	if (len == 0 || len % sizeof(*insns)) {
		r = -EIO;
		goto close_fd;
	}
	if ((size_t)len / sizeof(*insns) > FILTER_MAX_INSNS) {
		r = -E2BIG;
		goto close_fd;
	}
	insns = malloc((size_t)len);
	if (!insns) {
		r = -ENOMEM;
		goto close_fd;
	}
	while (done < (size_t)len) {
		ssize_t n = pread(fd, (char *)insns + done, (size_t)len - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			free(insns);
			goto close_fd;
		}
		done += (size_t)n;
	}
	prog->filter = insns;
	prog->len = (unsigned short)(len / sizeof(*insns));
	r = 0;
close_fd:
	close(fd);
	return r;
}

int sandbox_filter_build(enum sandbox_role role, const struct sandbox_env *env, struct sock_fprog *prog)
{
	struct sandbox_table tables[SANDBOX_MAX_TABLES];
	unsigned int ntables = sandbox_rules_tables(role, tables), pos = 0;
	scmp_filter_ctx ctx;
	int r;

	if (!ntables)
		return -EINVAL;
	/* Anything else traps: the handler names the call and ends vmm (sandbox_trap.c). */
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	/* A call through another ABI (int 0x80, x32) is refused the same way, not killed silently. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	if (r < 0)
		goto release;
	for (unsigned int t = 0; t < ntables; t++) {
		for (unsigned int i = 0; i < tables[t].n; i++) {
			const struct sandbox_rule *rule = &tables[t].rules[i];

			if (!filter_rule_applies(rule, env))
				continue;
			/*
			 * Table order is frequency order: a call's first rule gives it
			 * its place, the most frequent call first. (Within one call,
			 * libseccomp orders the argument checks itself.)
			 */
			if (rule->nr >= 0 && !filter_seen(tables, t, i)) {
				r = seccomp_syscall_priority(ctx, rule->nr, (uint8_t)(254 - pos));
				if (r < 0)
					goto release;
				if (pos < 253)
					pos++;
			}
			r = filter_rule_add(ctx, rule, env);
			if (r < 0)
				goto release;
		}
	}
	r = filter_export(ctx, prog);
release:
	seccomp_release(ctx);
	return r;
}

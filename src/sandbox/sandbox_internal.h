/* SPDX-License-Identifier: MIT */
/* The sandbox module's own: the shape of the rule tables, struct sandbox, and what its rooms offer each other. */
#ifndef VMM_SANDBOX_INTERNAL_H
#define VMM_SANDBOX_INTERNAL_H

#ifndef VMM_MODULE_SANDBOX
#error "sandbox_internal.h is private to src/sandbox: include sandbox.h"
#endif

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox.h"

/* Sanitizer builds (test builds only) extend the tables: sandbox_rules_sanitizer, docs/security.md. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define SANDBOX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SANDBOX_TSAN 1
#endif
#endif

/* Where a compared value comes from: the table itself, or set-up. */
enum sandbox_val {
	SANDBOX_VAL_CONST,
	SANDBOX_VAL_PID,        /* vmm's own pid (getpid at sandbox_create) */
	SANDBOX_VAL_STATS_DIR,  /* sandbox_params.stats_dir_fd: a rule that names it is left out without --stats */
};

/* One check of a system call argument: (arg & mask) == value. */
struct sandbox_arg {
	uint8_t index;   /* which argument, 0 to 5 */
	uint8_t from;    /* enum sandbox_val: where value comes from */
	uint64_t mask;   /* ~0: the whole argument */
	uint64_t value;  /* SANDBOX_VAL_CONST */
};

#define SANDBOX_RULE_ARGS 3

/*
 * One rule: the call is allowed when every one of its checks holds (none:
 * always), or, with fail set, refused with that errno instead of trapping.
 */
struct sandbox_rule {
	int nr;          /* SCMP_SYS(name): this build's number, or libseccomp's pseudo number where the arch lacks it */
	uint16_t fail;   /* 0: allow; else the errno the call fails with, having done nothing */
	uint8_t nargs;
	struct sandbox_arg args[SANDBOX_RULE_ARGS];
};

struct sandbox_table {
	const struct sandbox_rule *rules;
	unsigned int n;
};

#define SANDBOX_MAX_TABLES 4

/*
 * The allow-lists role's filter is made of (sandbox_rules.c), in order:
 * the role's own table, the runtime's (what every thread may need from glibc
 * and the kernel: locks, malloc, signals, exit), and in sanitizer builds
 * what the sanitizer's runtime adds. Each is ordered by how often the call is
 * expected, most frequent first, and the filter tests calls in that order.
 * Fills t, returns how many tables (at most SANDBOX_MAX_TABLES; 0 for a bad
 * role).
 */
unsigned int sandbox_rules_tables(enum sandbox_role role, struct sandbox_table t[SANDBOX_MAX_TABLES]);

/* What the rules' set-up values are taken from. */
struct sandbox_env {
	pid_t pid;
	int stats_dir_fd;
};

/*
 * role's filter as a BPF program (prog->filter malloc'd, the caller frees
 * it): default action SIGSYS (SECCOMP_RET_TRAP), also for a call of another
 * architecture's ABI. 0, or -errno (-E2BIG: over the kernel's 4096
 * instructions).
 */
int sandbox_filter_build(enum sandbox_role role, const struct sandbox_env *env, struct sock_fprog *prog);

/*
 * The SIGSYS handler and the table of call names it uses (built once per
 * process, kept until exit: a late trap can still name its call). 0 or -errno.
 */
int sandbox_trap_install(void);
/* The calling thread's role, for the handler's line. */
void sandbox_trap_role_set(enum sandbox_role role);

/* The running kernel's Landlock ABI version (>= 1), or -ENOSYS / -EOPNOTSUPP. */
int sandbox_landlock_abi_query(void);
/* A ruleset for that ABI that allows only what env names (see sandbox_landlock.c): its fd, or -errno. */
int sandbox_landlock_ruleset(int abi, const struct sandbox_env *env);
/* Enforce ruleset_fd on the calling thread (no_new_privs must be set). 0 or -errno. */
int sandbox_landlock_restrict(int ruleset_fd);

struct sandbox {
	struct sock_fprog progs[SANDBOX_NROLES];
	int landlock_abi;   /* >= 1, or -ENOSYS / -EOPNOTSUPP */
	int ruleset_fd;     /* -1 without Landlock */
};

#endif

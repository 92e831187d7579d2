/* SPDX-License-Identifier: MIT */
/* The sandbox: a seccomp filter per thread role, no_new_privs, Landlock, and the drop to --user (docs/security.md). */
#ifndef VMM_SANDBOX_H
#define VMM_SANDBOX_H

#include <errno.h>
#include <sys/types.h>

/*
 * How the pieces are used, in this order (docs/security.md):
 *
 *   1. main, before any thread is created: sandbox_user_resolve (at
 *      configuration time), then, once every file vmm needs is open,
 *      sandbox_ids_drop (--user) and sandbox_create + sandbox_restrict.
 *      Threads created afterwards inherit no_new_privs and the Landlock
 *      domain; one created before would escape Landlock.
 *   2. each vCPU and drive I/O thread, first thing, on itself:
 *      sandbox_enter(sb, its role), before any guest-driven work.
 *   3. main, once every other thread has entered (and before any vCPU runs
 *      the guest's first instruction): sandbox_enter(sb, SANDBOX_ROLE_MAIN).
 *
 * From then on a system call outside a thread's filter ends vmm at once:
 * the SIGSYS handler writes one line on stderr naming the thread's role and
 * the call, then exits with SANDBOX_EXIT_STATUS. That line is the one thing
 * this module writes: the process cannot return to main.c to print it.
 */

/* The exit status after a forbidden system call: 128 + SIGSYS, as a shell reports a process SIGSYS killed. */
#define SANDBOX_EXIT_STATUS 159

/* What a thread does decides what its filter allows (sandbox_rules.c has the tables). */
enum sandbox_role {
	SANDBOX_ROLE_MAIN,   /* the event loop, the stop, --stats and teardown */
	SANDBOX_ROLE_VCPU,   /* KVM_RUN and the port and MMIO exits it serves */
	SANDBOX_ROLE_IO,     /* a drive's I/O thread: virtqueue, io_uring or the synchronous engine */
	SANDBOX_NROLES,
};

/* "main", "vCPU" or "drive I/O", as the SIGSYS line names the thread; "?" for anything else. */
const char *sandbox_role_name(enum sandbox_role role);

/* ---- --user ---- */

struct sandbox_ids {
	uid_t uid;
	gid_t gid;
};

/*
 * sandbox_user_resolve's refusals. Any other code is the -errno of a user
 * database lookup that failed (-ENOMEM, -EIO: an error code of the lookup's
 * that is one of these is given as -EIO).
 */
#define SANDBOX_USER_NOT_ROOT  (-EPERM)    /* euid is not 0: only root can switch users */
#define SANDBOX_USER_UNKNOWN   (-ESRCH)    /* no such user name */
#define SANDBOX_GROUP_UNKNOWN  (-ENXIO)    /* no such group name */
#define SANDBOX_USER_NO_GROUP  (-ENODATA)  /* a numeric uid with no user entry to take a group from, and no GROUP */
#define SANDBOX_USER_IS_ROOT   (-EDOM)     /* the user or the group is root's (0): nothing would be dropped */
#define SANDBOX_USER_MALFORMED (-EINVAL)   /* not USER or USER:GROUP, or a number out of range */

/*
 * spec is USER or USER:GROUP, each a name or a number; without GROUP, the
 * user's primary group. euid is the caller's effective uid (geteuid(); a
 * parameter so tests can say who they are): only 0 may switch. 0 and *out,
 * or one of the codes above. Looks names up in the user and group databases
 * (NSS), so it belongs to set-up, long before any filter.
 */
int sandbox_user_resolve(const char *spec, uid_t euid, struct sandbox_ids *out);

/*
 * Become ids for good: no supplementary groups, then real, effective and
 * saved gid, then uid; then checks that it all stuck (getresuid/getresgid,
 * no groups left) and that neither setuid(0) nor setgid(0) works any more.
 * glibc makes every thread of the process change with it, through a signal
 * each thread handles itself: call it before any thread has entered its
 * filter. 0, -errno of the call that failed, or -EPERM if a check failed
 * (then the process must not go on).
 */
int sandbox_ids_drop(const struct sandbox_ids *ids);

/* ---- the filters and Landlock ---- */

/* What set-up knows that the filters and the Landlock ruleset depend on. */
struct sandbox_params {
	/*
	 * --stats: the directory the stats file goes to, opened before the
	 * sandbox (O_PATH or O_RDONLY, O_DIRECTORY), or -1 without --stats. The
	 * main thread may then create, rename and remove files in it, relative
	 * to this fd and nowhere else.
	 */
	int stats_dir_fd;
};

struct sandbox;

/*
 * Build every role's filter (in memory, as BPF), the Landlock ruleset, and
 * the table of system call names the SIGSYS line uses; install the SIGSYS
 * handler (process-wide; nothing traps before a filter is entered). Changes
 * nothing else. 0 and *out, or -errno (-ENOMEM, -EINVAL for bad params, or
 * what libseccomp or the kernel said). A kernel without Landlock is not a
 * failure: see sandbox_landlock_abi.
 */
int sandbox_create(const struct sandbox_params *p, struct sandbox **out);

/*
 * On the calling thread and every thread it creates afterwards:
 * no_new_privs, then the Landlock domain (no file can be opened, created or
 * removed but under the paths sandbox_params names). Call it in main before
 * any other thread is created. 0, or -errno from prctl or Landlock.
 */
int sandbox_restrict(const struct sandbox *sb);

/*
 * Load role's filter on the calling thread (with no_new_privs first, which
 * seccomp requires of a thread without CAP_SYS_ADMIN). Filters stack and
 * cannot be undone: call it once per thread, after that thread's set-up and
 * before its first guest-driven work. sb NULL (--sandbox off): nothing, 0.
 * 0, or -EINVAL (bad role), or -errno of prctl or seccomp(2).
 */
int sandbox_enter(const struct sandbox *sb, enum sandbox_role role);

/*
 * The Landlock ABI version sandbox_restrict enforces (1 or more), or why there
 * is none: -ENOSYS (a kernel built without Landlock), -EOPNOTSUPP (built in
 * but not enabled at boot, see lsm=). vmm runs without it; main logs this
 * under -v.
 */
int sandbox_landlock_abi(const struct sandbox *sb);

/* The number of BPF instructions in role's filter (at most 4096, the kernel's limit); 0 for a bad role. */
unsigned int sandbox_filter_len(const struct sandbox *sb, enum sandbox_role role);

/* Free what sandbox_create made (the filters already entered stay on their threads). NULL is fine. */
void sandbox_destroy(struct sandbox *sb);

#endif

/* SPDX-License-Identifier: MIT */
/* Landlock: after set-up vmm opens, creates and removes no file but where a feature still needs to, named here. */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox_internal.h"

/*
 * glibc has no wrappers, and the installed <linux/landlock.h> may predate the
 * rights a newer kernel offers: the values below are the kernel's UAPI, each
 * asked for only when the running kernel's ABI version has it.
 */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ull << 13)            /* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ull << 14)         /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ull << 15)        /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ull << 0)         /* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ull << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ull << 0)  /* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL (1ull << 1)
#endif

/* Every file system right of ABI 1. */
#define LL_FS_V1 (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
		  LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
		  LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |      \
		  LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |   \
		  LANDLOCK_ACCESS_FS_MAKE_SYM)

/* struct landlock_ruleset_attr as of ABI 6; an older kernel is given the part it knows. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;   /* ABI 4 */
	uint64_t scoped;               /* ABI 6 */
};

int sandbox_landlock_abi_query(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return v < 0 ? -errno : (int)v;
}

/* Every file system right the running kernel's ABI knows: all of them are refused but where a rule grants one. */
static uint64_t ll_fs_rights(int abi)
{
	uint64_t r = LL_FS_V1;

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return r;
}

/* Grant rights beneath the directory dir_fd. 0 or -errno. */
static int ll_allow_beneath(int ruleset_fd, int dir_fd, uint64_t rights)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = rights, .parent_fd = dir_fd };

	if (syscall(SYS_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		return -errno;
	return 0;
}

#if defined(SANDBOX_ASAN) || defined(SANDBOX_TSAN)
/* Sanitizer builds: LeakSanitizer reads /proc/self (maps, task) at exit (sandbox_rules.c). */
static int ll_allow_sanitizer(int ruleset_fd)
{
	int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = ll_allow_beneath(ruleset_fd, fd, LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR);
	close(fd);
	return r;
}
#endif

int sandbox_landlock_ruleset(int abi, const struct sandbox_env *env)
{
	struct ll_ruleset_attr attr = { .handled_access_fs = ll_fs_rights(abi) };
	size_t size = sizeof(attr.handled_access_fs);
	int fd, r;

	if (abi >= 4) {
		/* No TCP bind or connect at all (seccomp refuses socket(2) already). */
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
		size = 2 * sizeof(uint64_t);
	}
	if (abi >= 6) {
		/* No signal to, and no abstract socket of, a process outside vmm's domain. */
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0)
		return -errno;
	/*
	 * --stats: the stats file is created under a temporary name in its
	 * directory, written, and renamed over the target (replacing it), or
	 * removed if writing failed. Nothing else in that directory, and no
	 * other path at all.
	 */
	if (env->stats_dir_fd >= 0) {
		r = ll_allow_beneath(fd, env->stats_dir_fd, LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_WRITE_FILE |
						LANDLOCK_ACCESS_FS_REMOVE_FILE);
		if (r < 0)
			goto close_fd;
	}
#if defined(SANDBOX_ASAN) || defined(SANDBOX_TSAN)
	r = ll_allow_sanitizer(fd);
	if (r < 0)
		goto close_fd;
#endif
	return fd;
close_fd:
	close(fd);
	return r;
}

int sandbox_landlock_restrict(int ruleset_fd)
{
	if (syscall(SYS_landlock_restrict_self, ruleset_fd, 0) < 0)
		return -errno;
	return 0;
}

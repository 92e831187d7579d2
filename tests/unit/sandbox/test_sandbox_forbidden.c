/* SPDX-License-Identifier: MIT */
/* Unit tests of the seccomp filters' refusals: a call outside a role's list ends the child with status 159 and one line. */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/kvm.h>
#include <sched.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"
#define UNIT_TMPDIR_NAME "vmm-sandbox-test"
#include "../unit_tmpdir.h"

#include "sandbox_test_util.h"

/* A call no role may make, or one a role may make only with other arguments. */
enum call {
	CALL_OPENAT,            /* any path from the cwd, to write */
	CALL_OPENAT_STATS_READ, /* the --stats directory, but to read */
	CALL_EXECVE,
	CALL_SOCKET,
	CALL_IOCTL_TIOCSTI,     /* a terminal request no role makes */
	CALL_IOCTL_CREATE_VM,   /* a KVM request of set-up */
	CALL_MMAP_EXEC,
	CALL_MMAP_FILE,
	CALL_MPROTECT_EXEC,
	CALL_TGKILL_OTHER,      /* a signal to another process */
	CALL_SETUID,
	CALL_IO_URING_SETUP,
	CALL_IO_URING_REGISTER_FILES,
	CALL_CLONE,
	CALL_RT_SIGACTION,
};

struct forbidden {
	enum sandbox_role role;
	enum call call;
	long nr;            /* the call's number, as the line gives it */
	const char *name;   /* and its name */
	bool sanitizer;     /* allowed in sanitizer builds (LeakSanitizer's exit check needs it in main) */
};

static const struct forbidden cases[] = {
	{ SANDBOX_ROLE_VCPU, CALL_OPENAT, SYS_openat, "openat", false },
	{ SANDBOX_ROLE_VCPU, CALL_EXECVE, SYS_execve, "execve", false },
	{ SANDBOX_ROLE_VCPU, CALL_SOCKET, SYS_socket, "socket", false },
	{ SANDBOX_ROLE_VCPU, CALL_IOCTL_TIOCSTI, SYS_ioctl, "ioctl", false },
	{ SANDBOX_ROLE_VCPU, CALL_IOCTL_CREATE_VM, SYS_ioctl, "ioctl", false },
	{ SANDBOX_ROLE_VCPU, CALL_MMAP_EXEC, SYS_mmap, "mmap", false },
	{ SANDBOX_ROLE_VCPU, CALL_MPROTECT_EXEC, SYS_mprotect, "mprotect", false },
	{ SANDBOX_ROLE_VCPU, CALL_SETUID, SYS_setuid, "setuid", false },
	{ SANDBOX_ROLE_VCPU, CALL_IO_URING_SETUP, SYS_io_uring_setup, "io_uring_setup", false },
	{ SANDBOX_ROLE_IO, CALL_OPENAT, SYS_openat, "openat", false },
	{ SANDBOX_ROLE_IO, CALL_EXECVE, SYS_execve, "execve", false },
	{ SANDBOX_ROLE_IO, CALL_SOCKET, SYS_socket, "socket", false },
	{ SANDBOX_ROLE_IO, CALL_IOCTL_CREATE_VM, SYS_ioctl, "ioctl", false },
	{ SANDBOX_ROLE_IO, CALL_MMAP_FILE, SYS_mmap, "mmap", false },
	{ SANDBOX_ROLE_IO, CALL_IO_URING_SETUP, SYS_io_uring_setup, "io_uring_setup", false },
	{ SANDBOX_ROLE_IO, CALL_IO_URING_REGISTER_FILES, SYS_io_uring_register, "io_uring_register", false },
	{ SANDBOX_ROLE_IO, CALL_TGKILL_OTHER, SYS_tgkill, "tgkill", false },
	{ SANDBOX_ROLE_MAIN, CALL_OPENAT, SYS_openat, "openat", false },
	{ SANDBOX_ROLE_MAIN, CALL_OPENAT_STATS_READ, SYS_openat, "openat", true },
	{ SANDBOX_ROLE_MAIN, CALL_EXECVE, SYS_execve, "execve", false },
	{ SANDBOX_ROLE_MAIN, CALL_SOCKET, SYS_socket, "socket", false },
	{ SANDBOX_ROLE_MAIN, CALL_IOCTL_TIOCSTI, SYS_ioctl, "ioctl", false },
	{ SANDBOX_ROLE_MAIN, CALL_MPROTECT_EXEC, SYS_mprotect, "mprotect", false },
	{ SANDBOX_ROLE_MAIN, CALL_TGKILL_OTHER, SYS_tgkill, "tgkill", false },
	{ SANDBOX_ROLE_MAIN, CALL_CLONE, SYS_clone, "clone", true },
	{ SANDBOX_ROLE_MAIN, CALL_RT_SIGACTION, SYS_rt_sigaction, "rt_sigaction", true },
	{ SANDBOX_ROLE_IO, CALL_CLONE, SYS_clone, "clone", false },
	{ SANDBOX_ROLE_VCPU, CALL_RT_SIGACTION, SYS_rt_sigaction, "rt_sigaction", false },
};

/* Make the call; it returns only if the filter let it through. */
static void call_make(enum call c, int stats_fd)
{
	static char *const argv[] = { "/bin/true", NULL };
	char byte = 'x';
	void *page;

	switch (c) {
	case CALL_OPENAT:
		syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_WRONLY | O_CLOEXEC);
		break;
	case CALL_OPENAT_STATS_READ:
		syscall(SYS_openat, stats_fd, "x", O_RDONLY);
		break;
	case CALL_EXECVE:
		syscall(SYS_execve, argv[0], argv, environ);
		break;
	case CALL_SOCKET:
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
		break;
	case CALL_IOCTL_TIOCSTI:
		syscall(SYS_ioctl, STDIN_FILENO, TIOCSTI, &byte);
		break;
	case CALL_IOCTL_CREATE_VM:
		syscall(SYS_ioctl, -1, KVM_CREATE_VM, 0);
		break;
	case CALL_MMAP_EXEC:
		syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case CALL_MMAP_FILE:
		syscall(SYS_mmap, NULL, 4096, PROT_READ, MAP_PRIVATE, stats_fd, 0);
		break;
	case CALL_MPROTECT_EXEC:
		/* malloc'd before the filter: the mmap itself is allowed. */
		page = aligned_alloc(4096, 4096);
		syscall(SYS_mprotect, page, 4096, PROT_READ | PROT_EXEC);
		break;
	case CALL_TGKILL_OTHER:
		/* No such process: were it let through, it would fail with ESRCH and harm nothing. */
		syscall(SYS_tgkill, 0x3ffffff0, 0x3ffffff0, SIGABRT);
		break;
	case CALL_SETUID:
		syscall(SYS_setuid, 0);
		break;
	case CALL_IO_URING_SETUP:
		syscall(SYS_io_uring_setup, 4, NULL);
		break;
	case CALL_IO_URING_REGISTER_FILES:
		syscall(SYS_io_uring_register, -1, IORING_REGISTER_FILES, NULL, 0);
		break;
	case CALL_CLONE:
		/* Invalid flags: were it let through, it would fail with EINVAL and make no process. */
		syscall(SYS_clone, CLONE_THREAD, NULL, NULL, NULL, 0);
		break;
	case CALL_RT_SIGACTION:
		syscall(SYS_rt_sigaction, SIGSYS, NULL, NULL, 8);
		break;
	}
}

static int forbidden_child(void *arg)
{
	const struct forbidden *f = arg;
	struct sandbox_params p = { .stats_dir_fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) };
	struct sandbox *sb;

	CHILD_CHECK(p.stats_dir_fd >= 0);
	CHILD_CHECK(sandbox_create(&p, &sb) == 0);
	CHILD_CHECK(sandbox_enter(sb, f->role) == 0);
	call_make(f->call, p.stats_dir_fd);
	child_say("the call came back\n");
	return 3;
}

/* Each case: status 159 and exactly the documented line, naming the role and the call. */
static void test_forbidden_calls(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct forbidden *f = &cases[i];
		char err[1024], want[512], st[32];
		int status;

#if defined(SANITIZER_BUILD)
		if (f->sanitizer) {
			print_message("case %zu (%s, %s): allowed in sanitizer builds, not run\n", i,
				      sandbox_role_name(f->role), f->name);
			continue;
		}
#endif
		snprintf(want, sizeof(want), "vmm: sandbox: the %s thread made system call %s (%ld), which its seccomp "
			 "filter forbids; vmm stops with status 159 (see docs/security.md)\n",
			 sandbox_role_name(f->role), f->name, f->nr);
		assert_int_equal(child_run(forbidden_child, (void *)f, &status, err, sizeof(err)), 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != SANDBOX_EXIT_STATUS || strcmp(err, want) != 0)
			fail_msg("case %zu (%s, %s): %s, stderr:\n%s", i, sandbox_role_name(f->role), f->name,
				 child_status_text(status, st, sizeof(st)), err);
	}
}

#if defined(__x86_64__)
static int foreign_abi_child(void *arg)
{
	struct sandbox_params p = { .stats_dir_fd = -1 };
	struct sandbox *sb;
	long ret;

	(void)arg;
	CHILD_CHECK(sandbox_create(&p, &sb) == 0);
	CHILD_CHECK(sandbox_enter(sb, SANDBOX_ROLE_VCPU) == 0);
	/* getpid through the 32-bit entry: allowed natively, refused as another ABI. */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
	child_say("the call came back: %ld\n", ret);
	return 3;
}

/* A call through the i386 entry is refused as such, with the same status. */
static void test_foreign_abi(void **state)
{
	char err[1024], st[32];
	int status;

	(void)state;
	assert_int_equal(child_run(foreign_abi_child, NULL, &status, err, sizeof(err)), 0);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
		skip();   /* a kernel without 32-bit emulation has no such entry: int 0x80 faults */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != SANDBOX_EXIT_STATUS ||
	    strcmp(err, "vmm: sandbox: the vCPU thread made system call number 20 of the foreign ABI 0x40000003, "
			"which its seccomp filter forbids; vmm stops with status 159 (see docs/security.md)\n") != 0)
		fail_msg("%s, stderr:\n%s", child_status_text(status, st, sizeof(st)), err);
}
#endif

/* Each role's filter is there, within the kernel's limit; the sizes go in the test log (docs/security.md). */
static void test_filter_sizes(void **state)
{
	struct sandbox_params with = { .stats_dir_fd = -1 }, without = { .stats_dir_fd = -1 };
	struct sandbox *a, *b;

	(void)state;
	with.stats_dir_fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(with.stats_dir_fd >= 0);
	assert_int_equal(sandbox_create(&with, &a), 0);
	assert_int_equal(sandbox_create(&without, &b), 0);
	for (int r = 0; r < SANDBOX_NROLES; r++) {
		unsigned int la = sandbox_filter_len(a, (enum sandbox_role)r), lb = sandbox_filter_len(b, r);

		print_message("%s filter: %u BPF instructions (%u without --stats)\n",
			      sandbox_role_name((enum sandbox_role)r), la, lb);
		assert_true(la > 10 && la <= 4096);
		assert_true(lb > 10 && lb <= la);
	}
	/* Only main's filter knows the --stats directory. */
	assert_true(sandbox_filter_len(b, SANDBOX_ROLE_MAIN) < sandbox_filter_len(a, SANDBOX_ROLE_MAIN));
	assert_int_equal(sandbox_filter_len(a, SANDBOX_ROLE_VCPU), sandbox_filter_len(b, SANDBOX_ROLE_VCPU));
	assert_int_equal(sandbox_filter_len(a, SANDBOX_NROLES), 0);
	assert_int_equal(sandbox_enter(a, SANDBOX_NROLES), -EINVAL);
	assert_int_equal(sandbox_enter(NULL, SANDBOX_ROLE_MAIN), 0);   /* --sandbox off */
	assert_string_equal(sandbox_role_name(SANDBOX_ROLE_IO), "drive I/O");
	assert_string_equal(sandbox_role_name(SANDBOX_NROLES), "?");
	sandbox_destroy(a);
	sandbox_destroy(b);
	sandbox_destroy(NULL);
	close(with.stats_dir_fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_sizes),
		cmocka_unit_test(test_forbidden_calls),
#if defined(__x86_64__)
		cmocka_unit_test(test_foreign_abi),
#endif
	};

	return cmocka_run_group_tests(tests, tmpdir_make, tmpdir_remove);
}

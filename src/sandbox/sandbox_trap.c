/* SPDX-License-Identifier: MIT */
/* A forbidden system call: the SIGSYS handler writes one line naming the thread's role and the call, then ends vmm. */
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox_internal.h"

/* Call numbers the name table covers; above it (x32's, say) the line gives the number alone. */
#define TRAP_NAMES_MAX 512u

/*
 * Set once by sandbox_trap_install, before any filter exists, and kept to the
 * end of the process: the handler reads them and must find them whole.
 * Threads created afterwards see them through pthread_create's ordering.
 */
static char **trap_names;
static uint32_t trap_arch;
static bool trap_installed;

/* The calling thread's role; -1 until it enters a filter. */
static __thread int trap_role = -1;

void sandbox_trap_role_set(enum sandbox_role role)
{
	trap_role = (int)role;
}

/* Append s to buf (size n) at *len, as far as it fits. Async-signal-safe. */
static void trap_put(char *buf, size_t n, size_t *len, const char *s)
{
	while (*s && *len < n)
		buf[(*len)++] = *s++;
}

/* Append v in base (10 or 16). Async-signal-safe. */
static void trap_put_uint(char *buf, size_t n, size_t *len, unsigned long v, unsigned int base)
{
	char digits[24];
	size_t i = sizeof(digits);

	digits[--i] = '\0';
	do {
		digits[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && i);
	trap_put(buf, n, len, &digits[i]);
}

/*
 * SECCOMP_RET_TRAP: the call did not run. Only write(2) and exit_group(2),
 * which every role's filter allows, and no libc state: the thread may have
 * been anywhere (inside malloc, holding a stdio lock) when it trapped.
 */
static void trap_handler(int sig, siginfo_t *si, void *uctx)
{
	char line[256];
	size_t len = 0, n = sizeof(line) - 1;   /* room for the newline */
	unsigned int nr = (unsigned int)si->si_syscall;
	const char *name = NULL;

	(void)sig;
	(void)uctx;
	if (si->si_arch == trap_arch && nr < TRAP_NAMES_MAX && trap_names)
		name = trap_names[nr];
	trap_put(line, n, &len, "vmm: sandbox: the ");
	trap_put(line, n, &len, trap_role < 0 ? "unfiltered" : sandbox_role_name((enum sandbox_role)trap_role));
	trap_put(line, n, &len, " thread made system call ");
	if (name) {
		trap_put(line, n, &len, name);
		trap_put(line, n, &len, " (");
		trap_put_uint(line, n, &len, nr, 10);
		trap_put(line, n, &len, ")");
	} else {
		trap_put(line, n, &len, "number ");
		trap_put_uint(line, n, &len, nr, 10);
	}
	if (si->si_arch != trap_arch) {
		trap_put(line, n, &len, " of the foreign ABI 0x");
		trap_put_uint(line, n, &len, si->si_arch, 16);
	}
	trap_put(line, n, &len, ", which its seccomp filter forbids; vmm stops with status ");
	trap_put_uint(line, n, &len, SANDBOX_EXIT_STATUS, 10);
	trap_put(line, n, &len, " (see docs/security.md)");
	line[len++] = '\n';
	/* Raw calls: a sanitizer's interceptors are no place to be now. */
	(void)syscall(SYS_write, STDERR_FILENO, line, len);
	syscall(SYS_exit_group, SANDBOX_EXIT_STATUS);
}

/* Each call's name, by number, for this architecture; NULL where libseccomp knows none. */
static int trap_names_build(void)
{
	char **names = calloc(TRAP_NAMES_MAX, sizeof(*names));

	if (!names)
		return -ENOMEM;
	for (unsigned int nr = 0; nr < TRAP_NAMES_MAX; nr++)
		names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);
	trap_names = names;
	return 0;
}

int sandbox_trap_install(void)
{
	struct sigaction sa = { .sa_sigaction = trap_handler, .sa_flags = SA_SIGINFO };
	int r;

	if (!trap_installed) {
		r = trap_names_build();
		if (r < 0)
			return r;
		trap_arch = seccomp_arch_native();
		trap_installed = true;
	}
	/* Nothing may interleave with the line or run after it. */
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	return 0;
}

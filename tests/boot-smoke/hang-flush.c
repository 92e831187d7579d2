/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD shim for stop-deadline.sh: fdatasync never returns, as on a
 * host whose storage hangs, so vmm's stop (the exit flush of each writable
 * drive) never ends by itself. It waits on a futex, a call every sandbox
 * filter allows, so the shim works with the sandbox on.
 */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

static int never;

int fdatasync(int fd)
{
	(void)fd;
	for (;;)
		syscall(SYS_futex, &never, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD shim for stop-deadline.sh: fdatasync never returns, as on a
 * host whose storage hangs, so vmm's stop (the exit flush of each writable
 * drive) never ends by itself. It reads a pipe nobody writes to: read is a
 * call every sandbox filter that flushes allows, and one TSan knows blocks,
 * so a signal still reaches its handler in a TSan build.
 */
#include <unistd.h>

static int hang_pipe[2] = { -1, -1 };

/* Made before any of vmm's threads exist (and before any filter). */
__attribute__((constructor)) static void hang_init(void)
{
	if (pipe(hang_pipe) < 0)
		hang_pipe[0] = -1;
}

int fdatasync(int fd)
{
	char c;

	(void)fd;
	for (;;)
		if (read(hang_pipe[0], &c, 1) < 0 && hang_pipe[0] < 0)
			pause();  /* no pipe: still never return */
}

/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD shim for console-stuck.sh: holds a write to stdout for 3 s when
 * stdout is a full pipe, then makes it. A signal cuts the wait short, and the
 * write that follows then blocks on the full pipe. That is a stop kick landing
 * after a vCPU left KVM_RUN and before it blocked in its console write, a
 * window of a few instructions in vmm, made wide enough to hit every time.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int stdout_pipe_full(void)
{
	int size = fcntl(STDOUT_FILENO, F_GETPIPE_SZ), queued = 0;

	return size > 0 && ioctl(STDOUT_FILENO, FIONREAD, &queued) == 0 && queued >= size;
}

static ssize_t (*real_write)(int, const void *, size_t);

/* Looked up once, before any of vmm's threads exist. */
__attribute__((constructor)) static void late_write_init(void)
{
	real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
}

ssize_t write(int fd, const void *buf, size_t len)
{
	if (fd == STDOUT_FILENO && stdout_pipe_full()) {
		struct timespec hold = { .tv_sec = 3 };

		nanosleep(&hold, NULL);
	}
	return real_write(fd, buf, len);
}

/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD shim for sandbox-probe.sh: the first epoll_wait any vmm thread
 * makes (main's event loop or a drive's I/O thread, both after that thread
 * entered its filter) first tries to open the file $VMM_PROBE_PATH, read-only
 * or, with VMM_PROBE_CREATE set, to create it, and says on stderr what came
 * of it. The sandbox must refuse both: EACCES for the read, a SIGSYS stop
 * (status 159) for the creation.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static int (*real_epoll_wait)(int, struct epoll_event *, int, int);
static int probed;

/* Looked up once, before any of vmm's threads exist. */
__attribute__((constructor)) static void probe_init(void)
{
	real_epoll_wait = (int (*)(int, struct epoll_event *, int, int))dlsym(RTLD_NEXT, "epoll_wait");
}

static void say(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0)
		return;
}

int epoll_wait(int ep, struct epoll_event *evs, int n, int ms)
{
	const char *path = getenv("VMM_PROBE_PATH");

	if (path && !__atomic_exchange_n(&probed, 1, __ATOMIC_SEQ_CST)) {
		int flags = getenv("VMM_PROBE_CREATE") ? O_WRONLY | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC;
		int fd = openat(AT_FDCWD, path, flags, 0600);

		if (fd >= 0) {
			say("probe: opened\n");
			close(fd);
		} else {
			say(errno == EACCES ? "probe: EACCES\n" : "probe: another error\n");
		}
	}
	return real_epoll_wait(ep, evs, n, ms);
}

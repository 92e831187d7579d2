/* SPDX-License-Identifier: MIT */
/* The sandbox tests' child runner: a filter or a Landlock domain cannot be undone, so each goes on in a forked child. */
#ifndef VMM_SANDBOX_TEST_UTIL_H
#define VMM_SANDBOX_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Sanitizer builds extend the filters (docs/security.md): the checks that see it say so. */
#if defined(__SANITIZE_THREAD__)
#define TSAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN_BUILD 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(TSAN_BUILD)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif

/*
 * In a child: fail with a line on stderr (which the parent shows) unless cond
 * holds. snprintf and write(2): dprintf would lseek, which no filter allows.
 */
#define CHILD_CHECK(cond)                                                                            \
	do {                                                                                          \
		if (!(cond)) {                                                                        \
			child_say("check failed at %s:%d: %s (errno %d)\n", __FILE__, __LINE__,       \
				  #cond, errno);                                                      \
			return 1;                                                                     \
		}                                                                                     \
	} while (0)

/* A line on stderr without stdio's stream machinery (which may lseek or fstat). */
static inline __attribute__((format(printf, 1, 2))) void child_say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(STDERR_FILENO, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/*
 * Run fn(arg) in a forked child with stderr on a pipe; the child _exits with
 * fn's return value (unless something ends it first). *status as waitpid
 * gives it; out gets what the child wrote on stderr (NUL-terminated, at most
 * n - 1 bytes). 0, or -1 if the child could not be run.
 */
static inline int child_run(int (*fn)(void *), void *arg, int *status, char *out, size_t n)
{
	size_t len = 0;
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		_exit(fn(arg));
	}
	close(p[1]);
	for (;;) {
		char buf[512];
		ssize_t r = read(p[0], buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r && len + 1 < n; i++)
			out[len++] = buf[i];
	}
	out[len] = '\0';
	close(p[0]);
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* "exit 159", "signal 31", for messages. */
static inline const char *child_status_text(int status, char *buf, size_t n)
{
	if (WIFEXITED(status))
		snprintf(buf, n, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, n, "signal %d", WTERMSIG(status));
	else
		snprintf(buf, n, "status 0x%x", status);
	return buf;
}

#endif

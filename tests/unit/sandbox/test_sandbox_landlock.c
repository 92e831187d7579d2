/* SPDX-License-Identifier: MIT */
/* Unit tests of the Landlock domain: after sandbox_restrict no file opens, but in the --stats directory, as vmm writes there. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"
#define UNIT_TMPDIR_NAME "vmm-sandbox-test"
#include "../unit_tmpdir.h"
#include "sandbox_test_util.h"

static char statsdir[128];
static char otherdir[128];

/* The scratch directory, and in it the --stats directory and another one. */
static int dirs_make(void **state)
{
	if (tmpdir_make(state) < 0)
		return -1;
	snprintf(statsdir, sizeof(statsdir), "%s/stats", tmpdir);
	snprintf(otherdir, sizeof(otherdir), "%s/other", tmpdir);
	return mkdir(statsdir, 0700) == 0 && mkdir(otherdir, 0700) == 0 ? 0 : -1;
}

/* Whether the running kernel offers Landlock at all; says why not when it does not. */
static bool landlock_here(void)
{
	struct sandbox *sb;
	int abi;

	if (sandbox_create(&(struct sandbox_params){ .stats_dir_fd = -1 }, &sb) < 0) {
		fprintf(stderr, "sandbox_create failed\n");
		exit(1);
	}
	abi = sandbox_landlock_abi(sb);
	sandbox_destroy(sb);
	if (abi > 0)
		return true;
	/* Not a failure of vmm's: it runs without Landlock, and -v says so. */
	printf("skipped: this kernel has no Landlock (%s)\n",
	       abi == -EOPNOTSUPP ? "built in, not enabled at boot: see lsm=" : strerror(-abi));
	return false;
}

/* Opening any file outside the --stats directory, in any mode: EACCES. */
static int outside_refused(void)
{
	char path[192];
	int fd;

	fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	CHILD_CHECK(fd < 0 && errno == EACCES);
	snprintf(path, sizeof(path), "%s/new", otherdir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHILD_CHECK(fd < 0 && errno == EACCES);
	snprintf(path, sizeof(path), "%s/../other/new", statsdir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHILD_CHECK(fd < 0 && errno == EACCES);
	return 0;
}

/* Created, written, renamed over an old file and removed, in the --stats directory only; never read. */
static int stats_dir_allowed(int dfd)
{
	int fd = openat(dfd, "old", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	CHILD_CHECK(fd >= 0 && write(fd, "{}\n", 3) == 3 && close(fd) == 0);
	fd = openat(dfd, ".tmp", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHILD_CHECK(fd >= 0 && write(fd, "{}\n", 3) == 3 && close(fd) == 0);
	CHILD_CHECK(renameat(dfd, ".tmp", dfd, "old") == 0);
	fd = openat(dfd, ".tmp2", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHILD_CHECK(fd >= 0 && close(fd) == 0 && unlinkat(dfd, ".tmp2", 0) == 0);
	fd = openat(dfd, "old", O_RDONLY | O_CLOEXEC);
	CHILD_CHECK(fd < 0 && errno == EACCES);
	CHILD_CHECK(mkdirat(dfd, "sub", 0700) < 0 && errno == EACCES);
	return 0;
}

static void *thread_outside(void *arg)
{
	*(int *)arg = outside_refused();
	return NULL;
}

static int restrict_child(void *arg)
{
	int dfd = open(statsdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int kept = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	int result = -1;
	struct sandbox *sb;
	pthread_t t;
	char b;

	(void)arg;
	CHILD_CHECK(dfd >= 0 && kept >= 0);
	CHILD_CHECK(sandbox_create(&(struct sandbox_params){ .stats_dir_fd = dfd }, &sb) == 0);
	CHILD_CHECK(sandbox_restrict(sb) == 0);
	CHILD_CHECK(outside_refused() == 0);
	CHILD_CHECK(stats_dir_allowed(dfd) == 0);
	/* What set-up opened stays usable. */
	CHILD_CHECK(pread(kept, &b, 1, 0) == 1);
	/* A thread created afterwards is in the same domain. */
	CHILD_CHECK(pthread_create(&t, NULL, thread_outside, &result) == 0 && pthread_join(t, NULL) == 0);
	CHILD_CHECK(result == 0);
	sandbox_destroy(sb);
	return 0;
}

/* After sandbox_restrict: no file can be opened or made but in the --stats directory, in this thread or a later one. */
static void test_restrict(void **state)
{
	char err[1024], st[32];
	int status;

	(void)state;
	assert_int_equal(child_run(restrict_child, NULL, &status, err, sizeof(err)), 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || err[0])
		fail_msg("%s, stderr:\n%s", child_status_text(status, st, sizeof(st)), err);
}

static int enter_child(void *arg)
{
	int dfd = open(statsdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct sandbox *sb;
	int fd;

	(void)arg;
	CHILD_CHECK(dfd >= 0);
	CHILD_CHECK(sandbox_create(&(struct sandbox_params){ .stats_dir_fd = dfd }, &sb) == 0);
	CHILD_CHECK(sandbox_restrict(sb) == 0);
	CHILD_CHECK(sandbox_enter(sb, SANDBOX_ROLE_MAIN) == 0);
	/*
	 * The one open seccomp lets main make (the --stats directory, its flags),
	 * with a path that climbs out of the directory: Landlock refuses it.
	 */
	fd = openat(dfd, "../other/escaped", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHILD_CHECK(fd < 0 && errno == EACCES);
	fd = openat(dfd, "stats.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHILD_CHECK(fd >= 0);
	return 0;
}

/* Under main's filter too: an open seccomp lets through still cannot leave the --stats directory. */
static void test_enter_then_escape(void **state)
{
	char err[1024], st[32], path[192];
	int status;

	(void)state;
	assert_int_equal(child_run(enter_child, NULL, &status, err, sizeof(err)), 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || err[0])
		fail_msg("%s, stderr:\n%s", child_status_text(status, st, sizeof(st)), err);
	snprintf(path, sizeof(path), "%s/escaped", otherdir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/stats.json", statsdir);
	assert_int_equal(access(path, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restrict),
		cmocka_unit_test(test_enter_then_escape),
	};

	if (!landlock_here())
		return 77;
	return cmocka_run_group_tests(tests, dirs_make, tmpdir_remove);
}

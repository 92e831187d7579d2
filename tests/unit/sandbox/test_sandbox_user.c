/* SPDX-License-Identifier: MIT */
/* Unit tests of --user: USER[:GROUP] looked up (names, numbers, the user's own group, each mistake its own code), and the drop. */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"
#include "sandbox_test_util.h"

/* Debian and most systems have "nobody"; the test takes its ids from the user database rather than guess them. */
static struct sandbox_ids nobody;
static char nobody_group[64];

static int nobody_find(void **state)
{
	struct passwd *pw = getpwnam("nobody");
	struct group *gr;

	(void)state;
	if (!pw)
		return -1;
	nobody = (struct sandbox_ids){ .uid = pw->pw_uid, .gid = pw->pw_gid };
	gr = getgrgid(pw->pw_gid);
	if (!gr)
		return -1;
	snprintf(nobody_group, sizeof(nobody_group), "%s", gr->gr_name);
	return 0;
}

static int resolve(const char *spec, uid_t euid, struct sandbox_ids *ids)
{
	*ids = (struct sandbox_ids){ .uid = 1, .gid = 1 };
	return sandbox_user_resolve(spec, euid, ids);
}

static void test_resolve_names_and_numbers(void **state)
{
	struct sandbox_ids ids;
	char spec[128];

	(void)state;
	assert_int_equal(resolve("nobody", 0, &ids), 0);
	assert_int_equal(ids.uid, nobody.uid);
	assert_int_equal(ids.gid, nobody.gid);   /* the user's primary group */
	snprintf(spec, sizeof(spec), "nobody:%s", nobody_group);
	assert_int_equal(resolve(spec, 0, &ids), 0);
	assert_int_equal(ids.gid, nobody.gid);
	snprintf(spec, sizeof(spec), "%u", (unsigned int)nobody.uid);
	assert_int_equal(resolve(spec, 0, &ids), 0);   /* a number with a user entry: its group */
	assert_int_equal(ids.uid, nobody.uid);
	assert_int_equal(ids.gid, nobody.gid);
	assert_int_equal(resolve("nobody:4242", 0, &ids), 0);
	assert_int_equal(ids.gid, 4242);
	/* Numbers need no entry, as long as the group is given. */
	assert_int_equal(resolve("4000000000:4000000001", 0, &ids), 0);
	assert_int_equal(ids.uid, 4000000000u);
	assert_int_equal(ids.gid, 4000000001u);
}

static void test_resolve_refusals(void **state)
{
	static const struct {
		const char *spec;
		int want;
	} cases[] = {
		{ "vmm-no-such-user-x", SANDBOX_USER_UNKNOWN },
		{ "nobody:vmm-no-such-group-x", SANDBOX_GROUP_UNKNOWN },
		{ "4000000000", SANDBOX_USER_NO_GROUP },   /* no entry to take a group from */
		{ "root", SANDBOX_USER_IS_ROOT },
		{ "0", SANDBOX_USER_IS_ROOT },
		{ "nobody:0", SANDBOX_USER_IS_ROOT },
		{ "nobody:root", SANDBOX_USER_IS_ROOT },
		{ "", SANDBOX_USER_MALFORMED },
		{ ":", SANDBOX_USER_MALFORMED },
		{ "nobody:", SANDBOX_USER_MALFORMED },
		{ ":nobody", SANDBOX_USER_MALFORMED },
		{ "a:b:c", SANDBOX_USER_MALFORMED },
		{ "4294967295", SANDBOX_USER_MALFORMED },   /* (uid_t)-1 means "unchanged" to setresuid */
		{ "99999999999:1", SANDBOX_USER_MALFORMED },
		{ "nobody:99999999999", SANDBOX_USER_MALFORMED },
	};
	struct sandbox_ids ids;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = resolve(cases[i].spec, 0, &ids);

		if (r != cases[i].want)
			fail_msg("\"%s\": %d, expected %d", cases[i].spec, r, cases[i].want);
		/* Nothing is returned on failure. */
		assert_int_equal(ids.uid, 1);
	}
	assert_int_equal(sandbox_user_resolve(NULL, 0, &ids), SANDBOX_USER_MALFORMED);
}

/* Only root may switch users: whoever else runs vmm is told so, whatever the user named. */
static void test_resolve_not_root(void **state)
{
	struct sandbox_ids ids;

	(void)state;
	assert_int_equal(resolve("nobody", 1000, &ids), SANDBOX_USER_NOT_ROOT);
	assert_int_equal(resolve("vmm-no-such-user-x", 1000, &ids), SANDBOX_USER_NOT_ROOT);
	assert_int_equal(resolve("nobody", nobody.uid, &ids), SANDBOX_USER_NOT_ROOT);
	assert_int_equal(ids.uid, 1);
}

struct drop_world {
	pthread_barrier_t dropped;
	uid_t thread_ids[3];
};

/* A thread that exists while main drops: its own credentials (the kernel's, per thread) must follow. */
static void *bystander(void *arg)
{
	struct drop_world *w = arg;

	pthread_barrier_wait(&w->dropped);
	syscall(SYS_getresuid, &w->thread_ids[0], &w->thread_ids[1], &w->thread_ids[2]);
	return NULL;
}

static int drop_child(void *arg)
{
	struct drop_world w;
	uid_t r, e, s;
	gid_t rg, eg, sg;
	pthread_t t;

	(void)arg;
	CHILD_CHECK(pthread_barrier_init(&w.dropped, NULL, 2) == 0);
	CHILD_CHECK(pthread_create(&t, NULL, bystander, &w) == 0);
	CHILD_CHECK(sandbox_ids_drop(&nobody) == 0);
	pthread_barrier_wait(&w.dropped);
	CHILD_CHECK(pthread_join(t, NULL) == 0);
	CHILD_CHECK(getresuid(&r, &e, &s) == 0 && r == nobody.uid && e == nobody.uid && s == nobody.uid);
	CHILD_CHECK(getresgid(&rg, &eg, &sg) == 0 && rg == nobody.gid && eg == nobody.gid && sg == nobody.gid);
	CHILD_CHECK(w.thread_ids[0] == nobody.uid && w.thread_ids[1] == nobody.uid && w.thread_ids[2] == nobody.uid);
	CHILD_CHECK(getgroups(0, NULL) == 0);
	/* No way back. */
	CHILD_CHECK(setuid(0) < 0 && errno == EPERM);
	CHILD_CHECK(setgid(0) < 0 && errno == EPERM);
	CHILD_CHECK(seteuid(0) < 0 && errno == EPERM);
	return 0;
}

/* As root: drop to nobody, every id and every thread, with no way back. */
static void test_drop(void **state)
{
	char err[1024], st[32];
	int status;

	(void)state;
	if (geteuid() != 0) {
		print_message("skipped: dropping privileges needs root, and this test runs as uid %u\n",
			      (unsigned int)geteuid());
		skip();
	}
	assert_int_equal(child_run(drop_child, NULL, &status, err, sizeof(err)), 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || err[0])
		fail_msg("%s, stderr:\n%s", child_status_text(status, st, sizeof(st)), err);
}

/* Dropping to root is no drop: refused before anything changes. */
static void test_drop_refuses_root(void **state)
{
	uid_t r, e, s;

	(void)state;
	getresuid(&r, &e, &s);
	assert_int_equal(sandbox_ids_drop(&(struct sandbox_ids){ .uid = 0, .gid = nobody.gid }), -EINVAL);
	assert_int_equal(sandbox_ids_drop(&(struct sandbox_ids){ .uid = nobody.uid, .gid = 0 }), -EINVAL);
	assert_int_equal(sandbox_ids_drop(NULL), -EINVAL);
	assert_int_equal(geteuid(), e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_names_and_numbers),
		cmocka_unit_test(test_resolve_refusals),
		cmocka_unit_test(test_resolve_not_root),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_drop_refuses_root),
	};

	return cmocka_run_group_tests(tests, nobody_find, NULL);
}

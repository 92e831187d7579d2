/* SPDX-License-Identifier: MIT */
/* Unit tests: kernel command line assembly around the "--" init-argument separator. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot.h"

static void expect_line(const char *user, const char *vmm, const char *want)
{
	char out[BOOT_CMDLINE_MAX];

	assert_int_equal(boot_cmdline_build(out, sizeof(out), user, vmm), (int)strlen(want));
	assert_string_equal(out, want);
}

/* No user line (the core passes the arch's default instead, e.g. "console=ttyS0" on x86). */
static void test_default(void **state)
{
	(void)state;
	expect_line(NULL, "reboot=k panic=-1", "reboot=k panic=-1");
	expect_line(NULL, NULL, "");
	expect_line("console=ttyS0", "reboot=k panic=-1", "console=ttyS0 reboot=k panic=-1");
}

static void test_user_plain(void **state)
{
	(void)state;
	expect_line("console=ttyS0 quiet", "reboot=k", "console=ttyS0 quiet reboot=k");
	expect_line("root=/dev/vda  ", "reboot=k", "root=/dev/vda reboot=k");
	expect_line("", "reboot=k", "reboot=k");
	expect_line("quiet", "", "quiet");
}

static void test_separator(void **state)
{
	(void)state;
	expect_line("console=ttyS0 -- /bin/sh -c 'x'", "reboot=k panic=-1",
		    "console=ttyS0 reboot=k panic=-1 -- /bin/sh -c 'x'");
	/* Only the first "--" separates; later ones are init's. */
	expect_line("a -- b -- c", "v", "a v -- b -- c");
	/* A line that is all init arguments. */
	expect_line("-- init-arg", "v", "v -- init-arg");
	/* "--" with nothing after it is still the separator. */
	expect_line("a --", "v", "a v --");
}

static void test_not_separator(void **state)
{
	(void)state;
	/* "--x" and "x--" are ordinary tokens; a quoted " -- " is inside a value. */
	expect_line("a --x b-- c", "v", "a --x b-- c v");
	expect_line("foo=\"a -- b\" c", "v", "foo=\"a -- b\" c v");
}

static void test_overflow(void **state)
{
	char out[16];

	(void)state;
	/* "0123456789 abcd" is 15 bytes: fits exactly with its NUL. */
	assert_int_equal(boot_cmdline_build(out, sizeof(out), "0123456789", "abcd"), 15);
	assert_string_equal(out, "0123456789 abcd");
	memset(out, 'x', sizeof(out));
	assert_int_equal(boot_cmdline_build(out, sizeof(out), "0123456789", "abcde"), -ENAMETOOLONG);
	assert_string_equal(out, "");
	assert_int_equal(boot_cmdline_build(out, sizeof(out), "0123456789abcdef", NULL),
			 -ENAMETOOLONG);
	assert_int_equal(boot_cmdline_build(out, sizeof(out), "a -- 0123456789", "v"),
			 -ENAMETOOLONG);
	assert_int_equal(boot_cmdline_build(out, 0, "a", NULL), -ENAMETOOLONG);
	assert_int_equal(boot_cmdline_build(out, 1, "", NULL), 0);
	assert_int_equal(boot_cmdline_build(out, 1, "a", NULL), -ENAMETOOLONG);
}

static void test_kernel_limit(void **state)
{
	static char big[BOOT_CMDLINE_MAX + 1];
	char out[BOOT_CMDLINE_MAX];

	(void)state;
	memset(big, 'a', BOOT_CMDLINE_MAX - 1);
	big[BOOT_CMDLINE_MAX - 1] = '\0';
	assert_int_equal(boot_cmdline_build(out, sizeof(out), big, NULL), BOOT_CMDLINE_MAX - 1);
	assert_int_equal(boot_cmdline_build(out, sizeof(out), big, "x"), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_user_plain),
		cmocka_unit_test(test_separator),
		cmocka_unit_test(test_not_separator),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_kernel_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Unit tests of the config module's leaf alone: value parsers and one-line messages (linked without the rest). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config_value_internal.h"

static void test_size_parse(void **state)
{
	static const struct {
		const char *s;
		uint64_t bytes;
	} good[] = {
		{ "512M", 512ull << 20 }, { "2G", 2ull << 30 }, { "64", 64ull << 20 },
		{ "1024K", 1ull << 20 }, { "1T", 1ull << 40 }, { "3g", 3ull << 30 },
		{ "1", 1ull << 20 },
	};
	static const struct {
		const char *s;
		int ret;
	} bad[] = {
		{ "", -EINVAL }, { "12X", -EINVAL }, { "-1", -EINVAL }, { "1.5G", -EINVAL },
		{ " 1G", -EINVAL }, { "1GB", -EINVAL }, { "G", -EINVAL }, { "0", -ERANGE },
		{ "0G", -ERANGE }, { "99999999999999999999", -ERANGE }, { "17179869184G", -ERANGE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 0;

		assert_int_equal(vm_config_parse_size(good[i].s, &v), 0);
		assert_int_equal(v, good[i].bytes);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 7;

		assert_int_equal(vm_config_parse_size(bad[i].s, &v), bad[i].ret);
		assert_int_equal(v, 7);
	}
}

/* Each checker sets its output on success and leaves a phrase (no place, no key) on failure. */
static void test_checkers(void **state)
{
	char why[300];
	uint64_t bytes = 0;
	unsigned int u = 0;
	bool b = false;
	enum blk_cache_mode cache = BLK_CACHE_WRITEBACK;
	enum vm_serial_mode mode = VM_SERIAL_STDIO;
	const char *path = "x";

	(void)state;
	assert_int_equal(config_memory_parse("2G", &bytes, why, sizeof(why)), 0);
	assert_int_equal(bytes, 2ull << 30);
	assert_int_equal(config_memory_parse("32M", &bytes, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "32M is out of range (expected 64M to 1T)");
	assert_int_equal(config_memory_parse("65537K", &bytes, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "65537K is not a whole number of MiB (e.g. use 65M)");
	assert_int_equal(config_uint_parse("7", 1, 8, &u, why, sizeof(why)), 0);
	assert_int_equal(u, 7);
	assert_int_equal(config_uint_parse("9", 1, 8, &u, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "9 is out of range (expected 1 to 8)");
	assert_int_equal(config_bool_parse("YES", &b, why, sizeof(why)), 0);
	assert_true(b);
	assert_int_equal(config_bool_parse("maybe", &b, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "\"maybe\" is not on or off (yes/no and true/false work too)");
	assert_int_equal(config_cache_parse("unsafe", &cache, why, sizeof(why)), 0);
	assert_int_equal(cache, BLK_CACHE_UNSAFE);
	assert_int_equal(config_cache_parse("wb", &cache, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "unknown cache mode \"wb\" (expected writeback, none, writethrough, "
			    "directsync or unsafe)");
	assert_int_equal(config_serial_parse("file:log", &mode, &path, why, sizeof(why)), 0);
	assert_int_equal(mode, VM_SERIAL_FILE);
	assert_string_equal(path, "log");
	assert_int_equal(config_serial_parse("none", &mode, &path, why, sizeof(why)), 0);
	assert_null(path);
	assert_int_equal(config_serial_parse("file:", &mode, &path, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "file: needs a path (e.g. file:console.log)");
	assert_int_equal(config_id_check("data-1_x", why, sizeof(why)), 0);
	assert_int_equal(config_id_check("a.b", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "drive id \"a.b\" has a '.' (use only letters, digits, '_' and '-')");
	assert_int_equal(config_drive_serial_check("SN-1", why, sizeof(why)), 0);
	assert_int_equal(config_drive_serial_check("a,b", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "serial \"a,b\" has a character other than printable ASCII without blanks, "
			    "',' or ';'");
}

/* --sandbox takes on and off only; --user is USER or USER:GROUP in printable ASCII without blanks or ';'. */
static void test_security_values(void **state)
{
	char why[400], long_user[VM_USER_MAX + 2];
	bool on = true;

	(void)state;
	assert_int_equal(config_sandbox_parse("off", &on, why, sizeof(why)), 0);
	assert_false(on);
	assert_int_equal(config_sandbox_parse("on", &on, why, sizeof(why)), 0);
	assert_true(on);
	for (const char *const *v = (const char *const[]){ "yes", "ON", "", "maybe", NULL }; *v; v++) {
		char want[300];

		on = true;
		assert_int_equal(config_sandbox_parse(*v, &on, why, sizeof(why)), -EINVAL);
		snprintf(want, sizeof(want), "\"%s\" is neither on nor off (the sandbox is on by default; off is for "
			 "debugging a filter, see docs/security.md)", *v);
		assert_string_equal(why, want);
		assert_true(on);
	}

	for (const char *const *v = (const char *const[]){ "nobody", "nobody:nogroup", "1000:1000", "ad\\user@x",
							   NULL }; *v; v++)
		assert_int_equal(config_user_check(*v, why, sizeof(why)), 0);
	assert_int_equal(config_user_check("", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "user is empty (give USER or USER:GROUP, by name or number)");
	for (const char *const *v = (const char *const[]){ ":", "nobody:", ":nogroup", "a:b:c", NULL }; *v; v++) {
		char want[300];

		assert_int_equal(config_user_check(*v, why, sizeof(why)), -EINVAL);
		snprintf(want, sizeof(want), "\"%s\" is not USER or USER:GROUP (each a name or a number)", *v);
		assert_string_equal(why, want);
	}
	for (const char *const *v = (const char *const[]){ "a b", "a;b", "caf\xc3\xa9", "a\tb", NULL }; *v; v++) {
		char want[300];

		assert_int_equal(config_user_check(*v, why, sizeof(why)), -EINVAL);
		snprintf(want, sizeof(want), "user \"%s\" has a character other than printable ASCII without blanks or "
			 "';'", *v);
		assert_string_equal(why, want);
	}
	memset(long_user, 'u', VM_USER_MAX + 1);
	long_user[VM_USER_MAX + 1] = '\0';
	assert_int_equal(config_user_check(long_user, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "...\" is 257 bytes, longer than the 256 vmm takes"));
	long_user[VM_USER_MAX] = '\0';
	assert_int_equal(config_user_check(long_user, why, sizeof(why)), 0);
}

/* A long value is quoted as its first CONFIG_QUOTE_MAX bytes and "...". */
static void test_quote(void **state)
{
	char value[CONFIG_QUOTE_MAX + 2], want[CONFIG_QUOTE_MAX + 64], why[300];
	unsigned int u;

	(void)state;
	memset(value, '7', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	snprintf(want, sizeof(want), "%.*s... is out of range (expected 0 to 9)", CONFIG_QUOTE_MAX, value);
	assert_int_equal(config_uint_parse(value, 0, 9, &u, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, want);
	value[CONFIG_QUOTE_MAX] = '\0';
	snprintf(want, sizeof(want), "%s is out of range (expected 0 to 9)", value);
	assert_int_equal(config_uint_parse(value, 0, 9, &u, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, want);
}

static void test_msg_char(void **state)
{
	static const struct {
		unsigned char c;
		const char *out;
	} cases[] = {
		{ 'a', "a" }, { ' ', " " }, { '\n', "\\n" }, { '\r', "\\r" }, { '\t', "\\t" },
		{ 0x1b, "\\x1b" }, { 0x00, "\\x00" }, { 0x7f, "\\x7f" }, { 0xc3, "\xc3" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[5];
		size_t n = vm_config_msg_char(cases[i].c, out);

		assert_int_equal(n, strlen(cases[i].out));
		assert_memory_equal(out, cases[i].out, n);
	}
}

static void test_err_set_escapes(void **state)
{
	struct vm_config_error err;

	(void)state;
	config_err_set(&err, "bad \"%s\" (fix: %d)", "a\nb\x1b[2J", 3);
	assert_string_equal(err.msg, "bad \"a\\nb\\x1b[2J\" (fix: 3)");
	config_err_set(NULL, "%s", "nowhere to go");
}

/*
 * A message longer than the buffer keeps its first 2/5 and as much of its end as fits
 * after " ... ", one byte short of the buffer.
 */
static void test_err_set_cuts_middle(void **state)
{
	const size_t max = sizeof(((struct vm_config_error *)0)->msg) - 2, head = max * 2 / 5;
	struct vm_config_error err;
	char raw[1200], want[sizeof(err.msg)];

	(void)state;
	memset(raw, 'H', 600);
	memset(raw + 600, 'T', 599);
	raw[1199] = '\0';
	config_err_set(&err, "%s", raw);
	memset(want, 'H', head);
	memcpy(want + head, " ... ", 5);
	memset(want + head + 5, 'T', max - head - 5);
	want[max] = '\0';
	assert_string_equal(err.msg, want);
}

/* The cut falls between escapes and between UTF-8 characters, never inside one. */
static void test_err_set_cut_boundaries(void **state)
{
	const size_t max = sizeof(((struct vm_config_error *)0)->msg) - 2, head = max * 2 / 5;
	struct vm_config_error err;
	char raw[1200], *p;
	size_t len;

	(void)state;
	/* 300 bytes that each become a 4-byte escape: whole escapes on both sides of the cut. */
	memset(raw, 0x01, 300);
	raw[300] = '\0';
	config_err_set(&err, "%s", raw);
	len = strlen(err.msg);
	p = strstr(err.msg, " ... ");
	assert_non_null(p);
	assert_int_equal((size_t)(p - err.msg), head / 4 * 4);
	assert_int_equal((len - (size_t)(p - err.msg) - 5) % 4, 0);
	for (size_t i = 0; i < len; i += 4) {
		if (err.msg + i == p)
			i += 5;
		assert_memory_equal(err.msg + i, "\\x01", 4);
	}
	/* "a", 400 two-byte characters and "z": neither side starts or ends inside a character. */
	p = raw;
	*p++ = 'a';
	for (int i = 0; i < 400; i++) {
		*p++ = (char)0xc3;
		*p++ = (char)0xa9;
	}
	*p++ = 'z';
	*p = '\0';
	config_err_set(&err, "%s", raw);
	len = strlen(err.msg);
	assert_true(len <= max);
	p = strstr(err.msg, " ... ");
	assert_non_null(p);
	assert_int_equal((unsigned char)p[-1], 0xa9);
	assert_int_equal((unsigned char)p[5], 0xc3);
	assert_int_equal(err.msg[len - 1], 'z');
	assert_int_equal((size_t)(p - err.msg) % 2, 1);   /* "a" and whole characters */
	assert_int_equal((len - (size_t)(p - err.msg) - 5) % 2, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_parse),
		cmocka_unit_test(test_checkers),
		cmocka_unit_test(test_security_values),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_msg_char),
		cmocka_unit_test(test_err_set_escapes),
		cmocka_unit_test(test_err_set_cuts_middle),
		cmocka_unit_test(test_err_set_cut_boundaries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

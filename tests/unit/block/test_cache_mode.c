/* SPDX-License-Identifier: MIT */
/* Unit tests for the cache-mode table: flags per mode, parse/name round trip, bad names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "blk_backend.h"

struct cache_expect {
	enum blk_cache_mode mode;
	const char *name;
	bool direct, wce, flush_noop;
};

/* QEMU's meaning, restated independently of cache_mode.c's table. */
static const struct cache_expect expected[] = {
	{ BLK_CACHE_WRITEBACK, "writeback", false, true, false },
	{ BLK_CACHE_NONE, "none", true, true, false },
	{ BLK_CACHE_WRITETHROUGH, "writethrough", false, false, false },
	{ BLK_CACHE_DIRECTSYNC, "directsync", true, false, false },
	{ BLK_CACHE_UNSAFE, "unsafe", false, true, true },
};

static void test_props_all_modes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		struct blk_cache_props p = blk_cache_mode_props(expected[i].mode);

		assert_int_equal(p.direct, expected[i].direct);
		assert_int_equal(p.wce, expected[i].wce);
		assert_int_equal(p.flush_noop, expected[i].flush_noop);
	}
}

static void test_writeback_is_default(void **state)
{
	(void)state;
	assert_int_equal(BLK_CACHE_WRITEBACK, 0);
}

static void test_parse_name_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		enum blk_cache_mode m = (enum blk_cache_mode)99;

		assert_string_equal(blk_cache_mode_name(expected[i].mode), expected[i].name);
		assert_int_equal(blk_cache_mode_parse(expected[i].name, &m), 0);
		assert_int_equal(m, expected[i].mode);
		assert_int_equal(blk_cache_mode_parse(blk_cache_mode_name(m), &m), 0);
		assert_int_equal(m, expected[i].mode);
	}
}

static void test_parse_bad_names(void **state)
{
	static const char *const bad[] = { "", "Writeback", "NONE", "write-back", "unsafe ", " none",
					   "directsyncx", "off", "volatile" };
	enum blk_cache_mode m = BLK_CACHE_UNSAFE;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(blk_cache_mode_parse(bad[i], &m), -EINVAL);
		/* A failed parse leaves the output alone. */
		assert_int_equal(m, BLK_CACHE_UNSAFE);
	}
	assert_int_equal(blk_cache_mode_parse(NULL, &m), -EINVAL);
}

static void test_name_out_of_range(void **state)
{
	struct blk_cache_props p = blk_cache_mode_props((enum blk_cache_mode)42);

	(void)state;
	assert_null(blk_cache_mode_name((enum blk_cache_mode)42));
	/* Out of range falls to the safe side: no hidden cache, no skipped flush. */
	assert_false(p.wce);
	assert_false(p.flush_noop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_props_all_modes),
		cmocka_unit_test(test_writeback_is_default),
		cmocka_unit_test(test_parse_name_round_trip),
		cmocka_unit_test(test_parse_bad_names),
		cmocka_unit_test(test_name_out_of_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Unit tests for the MMIO bus: which window an access lands in, overlaps refused, the top of the address space. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bus.h"

static void dev_read(void *ctx, uint64_t off, void *data, unsigned int len)
{
	(void)ctx;
	(void)off;
	(void)data;
	(void)len;
}

static void dev_write(void *ctx, uint64_t off, const void *data, unsigned int len)
{
	(void)ctx;
	(void)off;
	(void)data;
	(void)len;
}

static int add(struct bus *b, uint64_t base, uint64_t size)
{
	struct bus_range r = { .base = base, .size = size, .read = dev_read, .write = dev_write, .ctx = b };

	return bus_add(b, &r);
}

static void test_find(void **state)
{
	struct bus b = { .n = 0 };
	const struct bus_range *r;

	(void)state;
	assert_int_equal(add(&b, 0xd0000000, 0x200), 0);
	assert_int_equal(add(&b, 0xd0001000, 0x200), 0);
	r = bus_find(&b, 0xd0001000, 4);
	assert_non_null(r);
	assert_int_equal(r->base, 0xd0001000);
	assert_non_null(bus_find(&b, 0xd00001fc, 4));          /* the window's last 4 bytes */
	assert_null(bus_find(&b, 0xd00001fe, 4));              /* straddles its end */
	assert_null(bus_find(&b, 0xd0000200, 1));              /* the gap between windows */
	assert_null(bus_find(&b, 0xcfffffff, 2));              /* starts before the first */
	assert_null(bus_find(&b, 0xd0000000, UINT64_MAX));     /* a length that would wrap */
	assert_null(bus_find(&b, UINT64_MAX, 8));
}

static void test_add_refused(void **state)
{
	struct bus b = { .n = 0 };
	struct bus_range no_read = { .base = 0x1000, .size = 0x100, .write = dev_write };

	(void)state;
	assert_int_equal(add(&b, 0x1000, 0x100), 0);
	assert_int_equal(add(&b, 0x10ff, 0x10), -EEXIST);      /* overlaps its last byte */
	assert_int_equal(add(&b, 0x0f00, 0x101), -EEXIST);     /* overlaps its first byte */
	assert_int_equal(add(&b, 0x0f00, 0x400), -EEXIST);     /* holds it whole */
	assert_int_equal(add(&b, 0x1100, 0x10), 0);            /* right after it is fine */
	assert_int_equal(add(&b, 0x2000, 0), -EINVAL);
	assert_int_equal(add(&b, UINT64_MAX - 0xf, 0x20), -EINVAL);
	assert_int_equal(bus_add(&b, &no_read), -EINVAL);
	assert_int_equal(b.n, 2);
}

static void test_top_of_address_space(void **state)
{
	struct bus b = { .n = 0 };

	(void)state;
	assert_int_equal(add(&b, UINT64_MAX - 0xfff, 0x1000), 0);
	assert_non_null(bus_find(&b, UINT64_MAX, 1));
	assert_null(bus_find(&b, UINT64_MAX, 2));
	assert_int_equal(add(&b, UINT64_MAX, 1), -EEXIST);
}

static void test_full(void **state)
{
	struct bus b = { .n = 0 };

	(void)state;
	for (unsigned int i = 0; i < BUS_MAX_RANGES; i++)
		assert_int_equal(add(&b, 0x1000 * (i + 1), 0x100), 0);
	assert_int_equal(add(&b, 0x100000, 0x100), -ENOSPC);
	for (unsigned int i = 0; i < BUS_MAX_RANGES; i++)
		assert_non_null(bus_find(&b, 0x1000 * (i + 1) + 0xff, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_add_refused),
		cmocka_unit_test(test_top_of_address_space),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

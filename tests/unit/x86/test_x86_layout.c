/* SPDX-License-Identifier: MIT */
/* Unit tests: RAM split around the MMIO hole, e820 map, and the fixed layout's consistency. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "x86_boot.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static void test_ram_layout_small(void **state)
{
	struct gmem_region r[2];

	(void)state;
	assert_int_equal(x86_ram_layout(256 * MiB, r), 1);
	assert_int_equal(r[0].gpa, 0);
	assert_int_equal(r[0].size, 256 * MiB);
	assert_null(r[0].host);
}

static void test_ram_layout_exactly_3g(void **state)
{
	struct gmem_region r[2];

	(void)state;
	assert_int_equal(x86_ram_layout(3 * GiB, r), 1);
	assert_int_equal(r[0].size, 3 * GiB);
}

static void test_ram_layout_split(void **state)
{
	struct gmem_region r[2];

	(void)state;
	assert_int_equal(x86_ram_layout(4 * GiB, r), 2);
	assert_int_equal(r[0].gpa, 0);
	assert_int_equal(r[0].size, 3 * GiB);
	assert_int_equal(r[1].gpa, 4 * GiB);
	assert_int_equal(r[1].size, 1 * GiB);
	assert_null(r[1].host);
}

static void check_entry(const struct x86_e820_entry *e, uint64_t addr, uint64_t size, uint32_t type)
{
	assert_int_equal(e->addr, addr);
	assert_int_equal(e->size, size);
	assert_int_equal(e->type, type);
}

static void test_e820_small(void **state)
{
	struct x86_e820_entry e[8];

	(void)state;
	assert_int_equal(x86_e820_build(256 * MiB, e, 8), 3);
	check_entry(&e[0], 0, 0x9FC00, X86_E820_RAM);
	check_entry(&e[1], 0x9FC00, 0x100000 - 0x9FC00, X86_E820_RESERVED);
	check_entry(&e[2], 0x100000, 256 * MiB - 0x100000, X86_E820_RAM);
}

static void test_e820_exactly_3g(void **state)
{
	struct x86_e820_entry e[8];

	(void)state;
	assert_int_equal(x86_e820_build(3 * GiB, e, 8), 3);
	check_entry(&e[2], 0x100000, 3 * GiB - 0x100000, X86_E820_RAM);
}

static void test_e820_4g_split(void **state)
{
	struct x86_e820_entry e[8];

	(void)state;
	assert_int_equal(x86_e820_build(4 * GiB, e, 8), 4);
	check_entry(&e[2], 0x100000, 3 * GiB - 0x100000, X86_E820_RAM);
	check_entry(&e[3], 4 * GiB, 1 * GiB, X86_E820_RAM);
}

static void test_e820_nospace(void **state)
{
	struct x86_e820_entry e[8];

	(void)state;
	assert_int_equal(x86_e820_build(4 * GiB, e, 3), -ENOSPC);
	assert_int_equal(x86_e820_build(256 * MiB, e, 2), -ENOSPC);
	assert_int_equal(x86_e820_build(256 * MiB, e, 0), -ENOSPC);
	assert_int_equal(x86_e820_build(256 * MiB, e, 3), 3);
}

static void test_e820_too_small(void **state)
{
	struct x86_e820_entry e[8];

	(void)state;
	assert_int_equal(x86_e820_build(0, e, 8), -EINVAL);
	assert_int_equal(x86_e820_build(1 * MiB, e, 8), -EINVAL);
}

/* The boot data and ACPI area must lie in what e820 tells the guest, as intended. */
static void test_layout_consistency(void **state)
{
	struct x86_e820_entry e[8];

	(void)state;
	assert_int_equal(x86_e820_build(256 * MiB, e, 8), 3);
	/* Boot structures are in usable RAM below the EBDA (Linux copies what it keeps). */
	assert_true(X86_ZERO_PAGE_ADDR + 4096 <= e[0].size);
	assert_true(X86_PD_ADDR + X86_PD_COUNT * 4096 <= e[0].size);
	assert_true(X86_CMDLINE_ADDR + X86_CMDLINE_MAX <= e[0].size);
	/* ACPI tables sit inside the reserved range. */
	assert_true(X86_ACPI_START >= e[1].addr);
	assert_true(X86_ACPI_END <= e[1].addr + e[1].size);
	/* Every virtio-mmio window is in the hole and clear of the IOAPIC. */
	assert_true(X86_VIRTIO_MMIO_ADDR(0) >= X86_MMIO_HOLE_START);
	assert_true(X86_VIRTIO_MMIO_ADDR(X86_VIRTIO_MMIO_MAX - 1) + X86_VIRTIO_MMIO_SIZE <=
		    X86_IOAPIC_BASE);
	assert_int_equal(X86_VIRTIO_MMIO_ADDR(3), 0xD0003000ULL);
	assert_int_equal(X86_VIRTIO_MMIO_GSI(3), 19);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ram_layout_small),
		cmocka_unit_test(test_ram_layout_exactly_3g),
		cmocka_unit_test(test_ram_layout_split),
		cmocka_unit_test(test_e820_small),
		cmocka_unit_test(test_e820_exactly_3g),
		cmocka_unit_test(test_e820_4g_split),
		cmocka_unit_test(test_e820_nospace),
		cmocka_unit_test(test_e820_too_small),
		cmocka_unit_test(test_layout_consistency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Unit tests: where the initrd goes, and which bound stops it. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "x86_test_kernel.h"

static struct x86_kernel fake_kernel(uint64_t load, uint64_t init_size, uint64_t end,
				     uint64_t initrd_max)
{
	struct x86_kernel k;

	memset(&k, 0, sizeof(k));
	k.load_addr = load;
	k.init_size = init_size;
	k.load_end = end;
	k.initrd_addr_max = initrd_max;
	return k;
}

static void test_initrd_top(void **state)
{
	struct x86_kernel k = fake_kernel(0x1000000, 4 * MiB, 0x1200000, 0x7FFFFFFF);
	uint64_t gpa = 1;

	(void)state;
	assert_int_equal(x86_initrd_place(&test_guest, &k, 10 * MiB, &gpa), 0);
	assert_int_equal(gpa, 54 * MiB);
	assert_int_equal(x86_initrd_place(&test_guest, &k, 10 * MiB + 1, &gpa), 0);
	assert_int_equal(gpa % 4096, 0);
	assert_true(gpa + 10 * MiB + 1 <= 64 * MiB);
	assert_true(gpa + 4096 + 10 * MiB + 1 > 64 * MiB);   /* the highest such page */
	assert_int_equal(x86_initrd_place(&test_guest, &k, 0, &gpa), 0);
	assert_int_equal(gpa, 0);
}

static void test_initrd_addr_max(void **state)
{
	struct x86_kernel k = fake_kernel(0x1000000, 4 * MiB, 0x1200000, 32 * MiB - 1);
	uint64_t gpa;

	(void)state;
	assert_int_equal(x86_initrd_place(&test_guest, &k, 1 * MiB, &gpa), 0);
	assert_int_equal(gpa, 31 * MiB);
}

static void test_initrd_below_kernel(void **state)
{
	/* Kernel occupies the top of RAM: its init_size reaches beyond load_end. */
	struct x86_kernel k = fake_kernel(40 * MiB, 24 * MiB, 41 * MiB, 0x7FFFFFFF);
	uint64_t gpa;

	(void)state;
	assert_int_equal(x86_initrd_place(&test_guest, &k, 8 * MiB, &gpa), 0);
	assert_int_equal(gpa, 32 * MiB);
	/* load_end beyond init_size counts too (ELF with a large bss). */
	k = fake_kernel(40 * MiB, 1 * MiB, 64 * MiB, 0x7FFFFFFF);
	assert_int_equal(x86_initrd_place(&test_guest, &k, 8 * MiB, &gpa), 0);
	assert_int_equal(gpa, 32 * MiB);
}

static void test_initrd_no_room(void **state)
{
	struct x86_kernel k = fake_kernel(16 * MiB, 40 * MiB, 17 * MiB, 0x7FFFFFFF);
	uint64_t gpa;

	(void)state;
	/* 8 MiB above the kernel, 15 MiB below it. */
	assert_int_equal(x86_initrd_place(&test_guest, &k, 8 * MiB, &gpa), 0);
	assert_int_equal(gpa, 56 * MiB);
	assert_int_equal(x86_initrd_place(&test_guest, &k, 15 * MiB, &gpa), 0);
	assert_int_equal(gpa, 1 * MiB);
	assert_int_equal(x86_initrd_place(&test_guest, &k, 15 * MiB + 1, &gpa), -ENOMEM);
	assert_int_equal(x86_initrd_place(&test_guest, &k, 1ULL << 62, &gpa), -ENOMEM);
}

static void test_initrd_big_guest(void **state)
{
	/* Placement reads only the region geometry, so a 5 GiB guest needs no backing. */
	struct gmem big = { .nregions = 0 };
	struct x86_kernel k = fake_kernel(0x1000000, 64 * MiB, 0x2000000, 0xFFFFFFFFULL);
	uint64_t gpa;

	(void)state;
	big.nregions = x86_ram_layout(5 * GiB, big.regions);
	assert_int_equal(big.nregions, 2);
	/* Low RAM ends at 3 GiB even though initrd_addr_max allows 4 GiB. */
	assert_int_equal(x86_initrd_place(&big, &k, 16 * MiB, &gpa), 0);
	assert_int_equal(gpa, 3 * GiB - 16 * MiB);
	k.initrd_addr_max = 0x7FFFFFFF;
	assert_int_equal(x86_initrd_place(&big, &k, 16 * MiB, &gpa), 0);
	assert_int_equal(gpa, 2 * GiB - 16 * MiB);
	/* Nothing holds 1 MiB: no low RAM to place into. */
	big.regions[0].gpa = 2 * MiB;
	assert_int_equal(x86_initrd_place(&big, &k, 16 * MiB, &gpa), -ENOMEM);
}

static void test_initrd_top_which(void **state)
{
	struct gmem lay = { .nregions = 0 };
	struct x86_kernel k = fake_kernel(0x1000000, 64 * MiB, 0x2000000, 0x7FFFFFFF);
	enum x86_initrd_limit which;

	(void)state;
	/* A small guest: RAM is the bound, and more RAM would raise it. */
	lay.nregions = x86_ram_layout(256 * MiB, lay.regions);
	assert_int_equal(x86_initrd_top(&lay, &k, &which), 256 * MiB);
	assert_int_equal(which, X86_INITRD_LIMIT_RAM);
	/* 3 GiB of RAM: the kernel's 2 GiB initrd_addr_max is the bound. */
	lay.nregions = x86_ram_layout(3 * GiB, lay.regions);
	assert_int_equal(x86_initrd_top(&lay, &k, &which), 2 * GiB);
	assert_int_equal(which, X86_INITRD_LIMIT_KERNEL);
	/* A kernel that takes 4 GiB in a big guest: low RAM (the 3 GiB hole) is the bound. */
	k.initrd_addr_max = 0xFFFFFFFF;
	lay.nregions = x86_ram_layout(8 * GiB, lay.regions);
	assert_int_equal(x86_initrd_top(&lay, &k, &which), 3 * GiB);
	assert_int_equal(which, X86_INITRD_LIMIT_RAM);
	assert_int_equal(x86_initrd_top(&lay, &k, NULL), 3 * GiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initrd_top),
		cmocka_unit_test(test_initrd_addr_max),
		cmocka_unit_test(test_initrd_below_kernel),
		cmocka_unit_test(test_initrd_no_room),
		cmocka_unit_test(test_initrd_big_guest),
		cmocka_unit_test(test_initrd_top_which),
	};

	return cmocka_run_group_tests(tests, test_guest_setup, test_guest_teardown);
}

/* SPDX-License-Identifier: MIT */
/* Unit tests: the zero page, checked at the raw byte offsets the boot protocol documents. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "x86_boot.h"
#include "x86_test_guest.h"

#define ZP  X86_ZERO_PAGE_ADDR

static uint64_t zp(uint64_t off, unsigned int n)
{
	return test_guest_read(&test_guest, ZP + off, n);
}

static struct x86_kernel elf_kernel(void)
{
	struct x86_kernel k;

	memset(&k, 0, sizeof(k));
	k.is_elf = true;
	k.entry = k.load_addr = 0x1000000;
	k.load_end = 0x3000000;
	k.init_size = 0x2000000;
	k.initrd_addr_max = 0x7FFFFFFF;
	k.cmdline_cap = X86_CMDLINE_MAX;
	return k;
}

static struct x86_kernel bz_kernel(void)
{
	struct x86_kernel k = elf_kernel();

	k.is_elf = false;
	k.entry = 0x1000200;
	k.hdr.boot_flag = X86_BOOT_FLAG;
	k.hdr.header = X86_SETUP_MAGIC;
	k.hdr.version = 0x020F;
	k.hdr.loadflags = X86_LOADED_HIGH;
	k.hdr.xloadflags = X86_XLF_KERNEL_64;
	k.hdr.kernel_version = 0x4321;
	k.hdr.pref_address = 0x1000000;
	k.hdr.init_size = 0x2000000;
	return k;
}

static void test_elf_synthesised_header(void **state)
{
	struct x86_kernel k = elf_kernel();

	(void)state;
	/* Garbage first: the build must start from a clean page. */
	memset(gmem_ptr(&test_guest, ZP, 4096), 0xA5, 4096);
	assert_int_equal(x86_boot_params_build(&test_guest, &k, 64 * MiB, X86_CMDLINE_ADDR,
					       48 * MiB, 5 * MiB + 17, 0xE0000), 0);
	assert_int_equal(zp(0x1FE, 2), 0xAA55);
	assert_int_equal(zp(0x202, 4), 0x53726448);    /* "HdrS" */
	assert_int_equal(zp(0x206, 2), 0x020F);
	assert_int_equal(zp(0x210, 1), 0xFF);
	assert_int_equal(zp(0x211, 1), X86_LOADED_HIGH | X86_CAN_USE_HEAP);
	assert_int_equal(zp(0x224, 2), 0xFE00);
	assert_int_equal(zp(0x228, 4), X86_CMDLINE_ADDR);
	assert_int_equal(zp(0x0C8, 4), 0);
	assert_int_equal(zp(0x218, 4), 48 * MiB);
	assert_int_equal(zp(0x21C, 4), 5 * MiB + 17);
	assert_int_equal(zp(0x0C0, 4), 0);
	assert_int_equal(zp(0x0C4, 4), 0);
	assert_int_equal(zp(0x22C, 4), 0x7FFFFFFF);
	assert_int_equal(zp(0x238, 4), 2047);
	assert_int_equal(zp(0x070, 8), 0xE0000);
	assert_int_equal(zp(0x1EF, 1), 0);   /* sentinel */
	assert_int_equal(zp(0x000, 8), 0);
	assert_int_equal(zp(0xFF8, 8), 0);
}

static void test_e820_in_zero_page(void **state)
{
	struct x86_kernel k = elf_kernel();

	(void)state;
	assert_int_equal(x86_boot_params_build(&test_guest, &k, 64 * MiB, X86_CMDLINE_ADDR, 0, 0, 0), 0);
	assert_int_equal(zp(0x1E8, 1), 3);
	/* entry i at 0x2D0 + 20 * i: addr (8), size (8), type (4) */
	assert_int_equal(zp(0x2D0, 8), 0);
	assert_int_equal(zp(0x2D8, 8), 0x9FC00);
	assert_int_equal(zp(0x2E0, 4), X86_E820_RAM);
	assert_int_equal(zp(0x2E4, 8), 0x9FC00);
	assert_int_equal(zp(0x2F4, 4), X86_E820_RESERVED);
	assert_int_equal(zp(0x2F8, 8), 0x100000);
	assert_int_equal(zp(0x300, 8), 64 * MiB - 0x100000);
	assert_int_equal(zp(0x308, 4), X86_E820_RAM);
	assert_int_equal(zp(0x30C, 8), 0);   /* nothing after the last entry */
	/* No initrd: the ramdisk fields stay zero. */
	assert_int_equal(zp(0x218, 4), 0);
	assert_int_equal(zp(0x21C, 4), 0);
	assert_int_equal(zp(0x070, 8), 0);
}

/* Fields the loader owns are vmm's, whatever the image's header holds in them. */
static void test_loader_fields_not_from_image(void **state)
{
	struct x86_kernel k = bz_kernel();

	(void)state;
	k.hdr.ramdisk_image = 0x2000000;
	k.hdr.ramdisk_size = 0x100000;
	k.hdr.setup_data = 0x3000000;
	k.hdr.hardware_subarch = 2;
	k.hdr.hardware_subarch_data = 0x4000000;
	assert_int_equal(x86_boot_params_build(&test_guest, &k, 64 * MiB, X86_CMDLINE_ADDR, 0, 0, 0), 0);
	assert_int_equal(zp(0x218, 4), 0);   /* ramdisk_image */
	assert_int_equal(zp(0x21C, 4), 0);   /* ramdisk_size */
	assert_int_equal(zp(0x250, 8), 0);   /* setup_data */
	assert_int_equal(zp(0x23C, 4), 0);   /* hardware_subarch */
	assert_int_equal(zp(0x240, 8), 0);   /* hardware_subarch_data */
}

static void test_bzimage_header_copied(void **state)
{
	struct x86_kernel k = bz_kernel();

	(void)state;
	assert_int_equal(x86_boot_params_build(&test_guest, &k, 64 * MiB, X86_CMDLINE_ADDR, 0, 0, 0xF0000), 0);
	assert_int_equal(zp(0x20E, 2), 0x4321);           /* kernel_version from the image */
	assert_int_equal(zp(0x258, 8), 0x1000000);        /* pref_address */
	assert_int_equal(zp(0x260, 4), 0x2000000);        /* init_size */
	assert_int_equal(zp(0x236, 2), X86_XLF_KERNEL_64);
	assert_int_equal(zp(0x210, 1), 0xFF);
	assert_int_equal(zp(0x211, 1), X86_LOADED_HIGH | X86_CAN_USE_HEAP);
	assert_int_equal(zp(0x228, 4), X86_CMDLINE_ADDR);
	assert_int_equal(zp(0x070, 8), 0xF0000);
}

/* A guest with a small fake high region, so addresses above 4 GiB are "RAM". */
static void test_initrd_above_4g(void **state)
{
	static uint8_t high[2 * 4096];
	struct gmem mem = test_guest;
	struct x86_kernel k = bz_kernel();
	uint64_t initrd = 0x100000000ULL + 4096;

	(void)state;
	mem.regions[mem.nregions++] = (struct gmem_region){
		.gpa = 0x100000000ULL, .size = sizeof(high), .host = high,
	};
	/* Not allowed without XLF_CAN_BE_LOADED_ABOVE_4G. */
	assert_int_equal(x86_boot_params_build(&mem, &k, 5 * GiB, X86_CMDLINE_ADDR, initrd, 100, 0),
			 -EINVAL);
	k.hdr.xloadflags |= X86_XLF_CAN_BE_LOADED_ABOVE_4G;
	assert_int_equal(x86_boot_params_build(&mem, &k, 5 * GiB, X86_CMDLINE_ADDR, initrd, 100, 0), 0);
	assert_int_equal(zp(0x218, 4), 4096);
	assert_int_equal(zp(0x0C0, 4), 1);
	assert_int_equal(zp(0x21C, 4), 100);
	assert_int_equal(zp(0x0C4, 4), 0);
	assert_int_equal(zp(0x1E8, 1), 4);
	assert_int_equal(zp(0x2D0 + 3 * 20, 8), 0x100000000ULL);
	assert_int_equal(zp(0x2D0 + 3 * 20 + 8, 8), 2 * GiB);
	/* A cmdline above 4 GiB goes through ext_cmd_line_ptr. */
	k = elf_kernel();
	assert_int_equal(x86_boot_params_build(&mem, &k, 5 * GiB, 0x100000010ULL, 0, 0, 0), 0);
	assert_int_equal(zp(0x228, 4), 0x10);
	assert_int_equal(zp(0x0C8, 4), 1);
}

static void test_errors(void **state)
{
	static uint8_t small[4096];
	struct gmem tiny = { .nregions = 1, .regions = { { .gpa = 0, .size = sizeof(small), .host = small } } };
	struct x86_kernel k = elf_kernel();

	(void)state;
	/* Zero page at 0x7000 is not in a 4 KiB guest. */
	assert_int_equal(x86_boot_params_build(&tiny, &k, 64 * MiB, 0x100, 0, 0, 0), -EFAULT);
	/* cmdline outside RAM, initrd outside RAM. */
	assert_int_equal(x86_boot_params_build(&test_guest, &k, 64 * MiB, 64 * MiB, 0, 0, 0), -EFAULT);
	assert_int_equal(x86_boot_params_build(&test_guest, &k, 64 * MiB, X86_CMDLINE_ADDR,
					       60 * MiB, 8 * MiB, 0), -EFAULT);
	assert_int_equal(x86_boot_params_build(&test_guest, &k, 64 * MiB, X86_CMDLINE_ADDR,
					       UINT64_MAX - 10, 100, 0), -EFAULT);
	/* mem_bytes too small for an e820 map. */
	assert_int_equal(x86_boot_params_build(&test_guest, &k, 4096, X86_CMDLINE_ADDR, 0, 0, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf_synthesised_header),
		cmocka_unit_test(test_e820_in_zero_page),
		cmocka_unit_test(test_bzimage_header_copied),
		cmocka_unit_test(test_loader_fields_not_from_image),
		cmocka_unit_test(test_initrd_above_4g),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, test_guest_setup, test_guest_teardown);
}

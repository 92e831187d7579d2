/* SPDX-License-Identifier: MIT */
/* Unit tests: bzImage loading from synthetic (valid and lying) images, and files that are not kernels. */
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

static void test_bz_valid(void **state)
{
	struct bz_opts o = bz_default();
	struct x86_kernel k;
	const uint8_t *p;

	(void)state;
	assert_int_equal(bz_load(&o, &k), 0);
	assert_false(k.is_elf);
	assert_int_equal(k.load_addr, 0x1000000);
	assert_int_equal(k.entry, 0x1000200);
	assert_int_equal(k.load_end, 0x1000000 + 64 * 1024);
	assert_int_equal(k.init_size, 1 * MiB);
	assert_int_equal(k.initrd_addr_max, 0x7FFFFFFF);
	assert_int_equal(k.cmdline_cap, 0x800);
	assert_int_equal(k.hdr.kernel_version, 0x1234);
	assert_int_equal(k.hdr.version, 0x020F);
	p = gmem_ptr(&test_guest, 0x1000000, 64 * 1024);
	assert_non_null(p);
	for (size_t i = 0; i < 64 * 1024; i += 997)
		assert_int_equal(p[i], pm_byte(i));
	assert_int_equal(p[64 * 1024 - 1], pm_byte(64 * 1024 - 1));
}

static void test_bz_setup_sects_zero_means_four(void **state)
{
	struct bz_opts o = bz_default();
	struct x86_kernel k;

	(void)state;
	o.hdr.setup_sects = 0;   /* image still has 4 setup sectors */
	assert_int_equal(bz_load(&o, &k), 0);
	assert_int_equal(*(uint8_t *)gmem_ptr(&test_guest, 0x1000000, 1), pm_byte(0));
}

static void test_bz_default_address_and_small_cmdline(void **state)
{
	struct bz_opts o = bz_default();
	struct x86_kernel k;

	(void)state;
	o.hdr.pref_address = 0;
	o.hdr.cmdline_size = 255;
	assert_int_equal(bz_load(&o, &k), 0);
	assert_int_equal(k.load_addr, 0x100000);
	assert_int_equal(k.entry, 0x100200);
	assert_int_equal(k.cmdline_cap, 256);
}

static void test_bz_too_old(void **state)
{
	struct bz_opts o = bz_default();
	struct x86_kernel k;

	(void)state;
	o.hdr.version = 0x0205;
	assert_refused(bz_load(&o, &k), k, -EPROTONOSUPPORT, X86_KF_OLD_PROTOCOL);
	assert_int_equal(k.fault.val, 0x0205);
	o.hdr.version = 0x020B;   /* 2.11 has no xloadflags */
	assert_refused(bz_load(&o, &k), k, -EPROTONOSUPPORT, X86_KF_OLD_PROTOCOL);
	o = bz_default();
	o.hdr.xloadflags = X86_XLF_CAN_BE_LOADED_ABOVE_4G;   /* 32-bit only kernel */
	assert_refused(bz_load(&o, &k), k, -EPROTONOSUPPORT, X86_KF_NOT_64BIT);
	assert_non_null(strstr(k.fault.what, "XLF_KERNEL_64"));
	o = bz_default();
	o.hdr.loadflags = 0;   /* zImage, loaded low */
	assert_refused(bz_load(&o, &k), k, -EPROTONOSUPPORT, X86_KF_NOT_64BIT);
	assert_non_null(strstr(k.fault.what, "LOADED_HIGH"));
}

static void test_bz_not_kernel(void **state)
{
	struct bz_opts o = bz_default();
	struct x86_kernel k;
	uint8_t junk[4096];

	(void)state;
	memset(junk, 0x5A, sizeof(junk));
	assert_refused(load(&test_guest, junk, sizeof(junk), &k), k, -ENOEXEC, X86_KF_UNKNOWN);
	assert_refused(load(&test_guest, junk, 0, &k), k, -ENOEXEC, X86_KF_UNKNOWN);
	assert_refused(load(&test_guest, junk, 3, &k), k, -ENOEXEC, X86_KF_UNKNOWN);
	o.hdr.header = 0x53726449;   /* "IdrS" */
	assert_refused(bz_load(&o, &k), k, -ENOEXEC, X86_KF_UNKNOWN);
	o = bz_default();
	o.hdr.boot_flag = 0;
	assert_refused(bz_load(&o, &k), k, -ENOEXEC, X86_KF_UNKNOWN);
}

/* Files often given in a kernel's place are named, so the message can say what to do instead. */
static void test_not_kernel_named(void **state)
{
	static const struct {
		size_t off;
		const char *magic;
		size_t len;
		enum x86_kernel_fault_kind kind;
		const char *what;
	} cases[] = {
		{ 0, "\x1f\x8b\x08\x00", 4, X86_KF_COMPRESSED, "gzip" },
		{ 0, "\xfd" "7zXZ\0\0", 7, X86_KF_COMPRESSED, "xz" },
		{ 0, "\x28\xb5\x2f\xfd", 4, X86_KF_COMPRESSED, "zstd" },
		{ 0, "BZh9", 4, X86_KF_COMPRESSED, "bzip2" },
		{ 0, "\x02\x21\x4c\x18", 4, X86_KF_COMPRESSED, "lz4" },
		{ 0, "\x04\x22\x4d\x18", 4, X86_KF_COMPRESSED, "lz4" },
		{ 0x38, "ARM\x64", 4, X86_KF_OTHER_ARCH, "an arm64 Image" },
		{ 0x30, "RISCV\0\0\0RSC\x05", 12, X86_KF_OTHER_ARCH, "a RISC-V Image" },
		/* One byte short of a magic is unknown. */
		{ 0, "\xfd" "7zXZ\x01", 6, X86_KF_UNKNOWN, NULL },
		{ 0x38, "ARM\x65", 4, X86_KF_UNKNOWN, NULL },
	};
	uint8_t img[256];
	struct x86_kernel k;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(img, 0, sizeof(img));
		memcpy(img + cases[i].off, cases[i].magic, cases[i].len);
		assert_refused(load(&test_guest, img, sizeof(img), &k), k, -ENOEXEC, cases[i].kind);
		if (cases[i].what)
			assert_string_equal(k.fault.what, cases[i].what);
		/* Cut inside the magic, it is not recognised. */
		assert_refused(load(&test_guest, img, cases[i].off + 1, &k), k, -ENOEXEC, X86_KF_UNKNOWN);
	}
}

static void test_bz_truncated(void **state)
{
	struct bz_opts o = bz_default();
	struct x86_kernel k;
	size_t size;
	uint8_t *img = bz_build(&o, &size);

	(void)state;
	/* Cut inside the setup header: it needs the header's end, 0x202 + 0x6A. */
	assert_refused(load(&test_guest, img, 0x230, &k), k, -EINVAL, X86_KF_TRUNCATED);
	assert_int_equal(k.fault.val, 0x26C);
	/* Inside the setup sectors, right at the pm part: it needs the payload's end. */
	assert_refused(load(&test_guest, img, 0x800, &k), k, -EINVAL, X86_KF_TRUNCATED);
	assert_int_equal(k.fault.val, 5 * 512 + 0x1100);
	assert_refused(load(&test_guest, img, 5 * 512, &k), k, -EINVAL, X86_KF_TRUNCATED);
	/* Cut inside the payload: payload_offset + length now lie past the end. */
	assert_refused(load(&test_guest, img, 5 * 512 + 0x200, &k), k, -EINVAL, X86_KF_TRUNCATED);
	assert_int_equal(k.fault.val, 5 * 512 + 0x1100);
	/* What syssize says the pm part was built to, when that is more. */
	((struct x86_setup_header *)(img + X86_SETUP_HDR_OFFSET))->syssize = 0x1000;   /* 64 KiB */
	assert_refused(load(&test_guest, img, 5 * 512 + 0x200, &k), k, -EINVAL, X86_KF_TRUNCATED);
	assert_int_equal(k.fault.val, 5 * 512 + 0x10000);
	/* A header that ends before init_size although it claims 2.15. */
	img[0x201] = 0x30;
	assert_refused(load(&test_guest, img, size, &k), k, -EINVAL, X86_KF_MALFORMED);
	free(img);
}

static void test_bz_lying_sizes(void **state)
{
	struct bz_opts o = bz_default();
	struct x86_kernel k;

	(void)state;
	o.setup_sects = 200;   /* sectors that the file does not have */
	o.hdr.setup_sects = 200;
	o.pm_size = 0;
	assert_refused(bz_load(&o, &k), k, -EINVAL, X86_KF_TRUNCATED);
	o = bz_default();
	o.hdr.setup_sects = 255;   /* claims more setup than the file holds */
	assert_refused(bz_load(&o, &k), k, -EINVAL, X86_KF_TRUNCATED);
	o = bz_default();
	o.hdr.payload_length = 0xFFFFF000;   /* ends just below 4 GiB: a copy cut short */
	assert_refused(bz_load(&o, &k), k, -EINVAL, X86_KF_TRUNCATED);
	assert_int_equal(k.fault.val, 5 * 512 + 0xFFFFF100ULL);
	o.hdr.payload_length = 0xFFFFFFFF;   /* past 4 GiB: no kernel file is that long, the header is garbage */
	assert_refused(bz_load(&o, &k), k, -EINVAL, X86_KF_MALFORMED);
	assert_non_null(strstr(k.fault.what, "4 GiB"));
	o = bz_default();
	o.hdr.payload_offset = 0xFFFFFF00;
	o.hdr.payload_length = 0x200;   /* wraps a 32-bit sum */
	assert_refused(bz_load(&o, &k), k, -EINVAL, X86_KF_MALFORMED);
	o = bz_default();
	o.hdr.init_size = 1000;   /* smaller than what it ships */
	assert_refused(bz_load(&o, &k), k, -EINVAL, X86_KF_MALFORMED);
	o = bz_default();
	o.pm_size = 0x200;   /* ends where the 64-bit entry point would be */
	o.hdr.payload_offset = 0;
	o.hdr.payload_length = 0x100;
	assert_refused(bz_load(&o, &k), k, -EINVAL, X86_KF_TRUNCATED);
	assert_int_equal(k.fault.val, 5 * 512 + 0x201);
	o.pm_size = 0x201;   /* one byte of entry code */
	assert_int_equal(bz_load(&o, &k), 0);
	assert_int_equal(k.entry, k.load_end - 1);
	o = bz_default();
	o.hdr.kernel_alignment = 0x3000;
	assert_refused(bz_load(&o, &k), k, -EINVAL, X86_KF_MALFORMED);
	o = bz_default();
	o.hdr.pref_address = 0x7000;   /* would overwrite the zero page */
	assert_refused(bz_load(&o, &k), k, -EINVAL, X86_KF_LOW);
	assert_int_equal(k.fault.val, 0x7000);
}

static void test_bz_does_not_fit(void **state)
{
	struct bz_opts o = bz_default();
	struct x86_kernel k;

	(void)state;
	o.hdr.init_size = 60 * MiB;   /* 16 MiB + 60 MiB > 64 MiB of RAM */
	assert_refused(bz_load(&o, &k), k, -ENOMEM, X86_KF_NO_RAM);
	assert_int_equal(k.fault.val, 76 * MiB);
	o = bz_default();
	o.hdr.pref_address = 0xFFFFFFFFFFFFF000ULL;
	assert_refused(bz_load(&o, &k), k, -ENOMEM, X86_KF_ABOVE_4G);
	assert_int_equal(k.fault.val, UINT64_MAX);   /* the end, saturated */
	o = bz_default();
	o.hdr.pref_address = 5 * GiB;   /* beyond the identity map */
	assert_refused(bz_load(&o, &k), k, -ENOMEM, X86_KF_ABOVE_4G);
	assert_int_equal(k.fault.val, 5 * GiB + MiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bz_valid),
		cmocka_unit_test(test_bz_setup_sects_zero_means_four),
		cmocka_unit_test(test_bz_default_address_and_small_cmdline),
		cmocka_unit_test(test_bz_too_old),
		cmocka_unit_test(test_bz_not_kernel),
		cmocka_unit_test(test_not_kernel_named),
		cmocka_unit_test(test_bz_truncated),
		cmocka_unit_test(test_bz_lying_sizes),
		cmocka_unit_test(test_bz_does_not_fit),
	};

	return cmocka_run_group_tests(tests, test_guest_setup, test_guest_teardown);
}

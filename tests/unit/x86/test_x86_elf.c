/* SPDX-License-Identifier: MIT */
/* Unit tests: ELF64 vmlinux loading from synthetic (valid and lying) images. */
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

static void test_elf_valid(void **state)
{
	static struct elf_img e;
	struct x86_kernel k;
	uint8_t *bss;

	(void)state;
	elf_default(&e);
	/* Stale bytes where the bss goes: the loader must clear them. */
	bss = gmem_ptr(&test_guest, 0x2000000, 0x10000);
	memset(bss, 0xEE, 0x10000);
	assert_int_equal(elf_load(&e, sizeof(e), &k), 0);
	assert_true(k.is_elf);
	assert_int_equal(k.entry, 0x1000000);
	assert_int_equal(k.load_addr, 0x1000000);
	assert_int_equal(k.load_end, 0x2010000);
	assert_int_equal(k.init_size, 0x1010000);
	assert_int_equal(k.initrd_addr_max, 0x7FFFFFFF);
	assert_int_equal(k.cmdline_cap, X86_CMDLINE_MAX);
	assert_int_equal(test_guest_read(&test_guest, 0x1000000, 1), 0xC3);
	assert_int_equal(test_guest_read(&test_guest, 0x1000FFF, 1), 0xC3);
	assert_int_equal(test_guest_read(&test_guest, 0x2000FFF, 1), 0xD4);
	assert_int_equal(test_guest_read(&test_guest, 0x2001000, 8), 0);
	assert_int_equal(test_guest_read(&test_guest, 0x200FFF8, 8), 0);
}

static void test_elf_virtual_entry(void **state)
{
	static struct elf_img e;
	struct x86_kernel k;

	(void)state;
	elf_default(&e);
	e.eh.e_entry = 0xFFFFFFFF81000040ULL;
	assert_int_equal(elf_load(&e, sizeof(e), &k), 0);
	assert_int_equal(k.entry, 0x1000040);
	e.eh.e_entry = 0x3000000;   /* in no segment at all */
	assert_refused(elf_load(&e, sizeof(e), &k), k, -EINVAL, X86_KF_MALFORMED);
}

/* The entry point must be a byte the file supplies: bss would be zeroes, executed as code. */
static void test_elf_entry_in_bss(void **state)
{
	static struct elf_img e;
	struct x86_kernel k;

	(void)state;
	elf_default(&e);
	e.eh.e_entry = 0x2001000;   /* first byte of ph[2]'s bss */
	assert_refused(elf_load(&e, sizeof(e), &k), k, -EINVAL, X86_KF_MALFORMED);
	assert_non_null(strstr(k.fault.what, "entry point"));
	e.eh.e_entry = 0xFFFFFFFF82001000ULL;   /* the same byte by its virtual address */
	assert_refused(elf_load(&e, sizeof(e), &k), k, -EINVAL, X86_KF_MALFORMED);
	e.eh.e_entry = 0x2000FFF;   /* last byte from the file */
	assert_int_equal(elf_load(&e, sizeof(e), &k), 0);
	assert_int_equal(k.entry, 0x2000FFF);
	e.eh.e_entry = 0xFFFFFFFF82000FFFULL;
	assert_int_equal(elf_load(&e, sizeof(e), &k), 0);
	assert_int_equal(k.entry, 0x2000FFF);
}

static void test_elf_not_64bit(void **state)
{
	static struct elf_img e;
	struct x86_kernel k;

	(void)state;
	elf_default(&e);
	e.eh.e_ident[EI_CLASS] = ELFCLASS32;
	assert_refused(elf_load(&e, sizeof(e), &k), k, -EPROTONOSUPPORT, X86_KF_NOT_64BIT);
	elf_default(&e);
	e.eh.e_machine = EM_AARCH64;
	assert_refused(elf_load(&e, sizeof(e), &k), k, -ENOEXEC, X86_KF_OTHER_ARCH);
	assert_string_equal(k.fault.what, "an ELF file for arm64");
	e.eh.e_machine = 0x7777;   /* a machine without a name */
	assert_refused(elf_load(&e, sizeof(e), &k), k, -ENOEXEC, X86_KF_OTHER_ARCH);
	assert_null(k.fault.what);
	assert_int_equal(k.fault.val, 0x7777);
	elf_default(&e);
	e.eh.e_type = ET_REL;
	assert_refused(elf_load(&e, sizeof(e), &k), k, -ENOEXEC, X86_KF_ELF_TYPE);
	assert_non_null(strstr(k.fault.what, "relocatable"));
	e.eh.e_type = ET_DYN;
	assert_refused(elf_load(&e, sizeof(e), &k), k, -ENOEXEC, X86_KF_ELF_TYPE);
	assert_non_null(strstr(k.fault.what, "shared object"));
	elf_default(&e);
	e.eh.e_ident[EI_DATA] = ELFDATA2MSB;
	assert_refused(elf_load(&e, sizeof(e), &k), k, -ENOEXEC, X86_KF_OTHER_ARCH);
	assert_string_equal(k.fault.what, "a big-endian ELF file");
	e.eh.e_ident[EI_DATA] = ELFDATANONE;   /* no byte order at all: not an ELF file vmm can read */
	assert_refused(elf_load(&e, sizeof(e), &k), k, -ENOEXEC, X86_KF_UNKNOWN);
	elf_default(&e);
	e.eh.e_ident[EI_CLASS] = ELFCLASSNONE;
	assert_refused(elf_load(&e, sizeof(e), &k), k, -ENOEXEC, X86_KF_UNKNOWN);
	/* A 32-bit ELF is named by its machine (the field sits where a 64-bit header has it). */
	e.eh.e_ident[EI_CLASS] = ELFCLASS32;
	e.eh.e_machine = EM_386;
	assert_refused(elf_load(&e, sizeof(e), &k), k, -EPROTONOSUPPORT, X86_KF_NOT_64BIT);
	e.eh.e_machine = EM_ARM;
	assert_refused(elf_load(&e, sizeof(e), &k), k, -ENOEXEC, X86_KF_OTHER_ARCH);
	assert_string_equal(k.fault.what, "an ELF file for 32-bit Arm");
	e.eh.e_ident[EI_CLASS] = ELFCLASS64;
	e.eh.e_machine = EM_386;   /* a 64-bit header that says i386 */
	assert_refused(elf_load(&e, sizeof(e), &k), k, -ENOEXEC, X86_KF_OTHER_ARCH);
	assert_string_equal(k.fault.what, "an ELF file for i386");
}

static void test_elf_lying(void **state)
{
	static struct elf_img e;
	struct x86_kernel k;
	uint8_t *text = gmem_ptr(&test_guest, 0x1000000, 1);

	(void)state;
	*text = 0x11;
	elf_default(&e);
	assert_refused(elf_load(&e, sizeof(e.eh) - 1, &k), k, -EINVAL, X86_KF_TRUNCATED);   /* truncated ehdr */
	assert_int_equal(k.fault.val, sizeof(e.eh));
	assert_refused(elf_load(&e, 4, &k), k, -EINVAL, X86_KF_TRUNCATED);
	assert_refused(elf_load(&e, sizeof(e) - 1, &k), k, -EINVAL, X86_KF_TRUNCATED);   /* last byte of data */
	assert_int_equal(k.fault.val, sizeof(e));
	elf_default(&e);
	e.ph[2].p_offset = 0xFFFFFFFFFFFFF000ULL;   /* offset + filesz wraps */
	assert_refused(elf_load(&e, sizeof(e), &k), k, -EINVAL, X86_KF_MALFORMED);
	elf_default(&e);
	e.ph[2].p_memsz = 0x800;   /* filesz > memsz, though the file holds filesz */
	assert_refused(elf_load(&e, sizeof(e), &k), k, -EINVAL, X86_KF_MALFORMED);
	elf_default(&e);
	e.eh.e_phoff = sizeof(e) - 8;
	assert_refused(elf_load(&e, sizeof(e), &k), k, -EINVAL, X86_KF_TRUNCATED);
	elf_default(&e);
	e.eh.e_phoff = 0xFFFFFFFFFFFFFFF0ULL;
	assert_refused(elf_load(&e, sizeof(e), &k), k, -EINVAL, X86_KF_MALFORMED);
	elf_default(&e);
	e.eh.e_phnum = 0xFFFF;
	e.eh.e_phentsize = 0xFFFF;
	assert_refused(elf_load(&e, sizeof(e), &k), k, -EINVAL, X86_KF_TRUNCATED);
	elf_default(&e);
	e.eh.e_phentsize = 8;
	assert_refused(elf_load(&e, sizeof(e), &k), k, -EINVAL, X86_KF_MALFORMED);
	elf_default(&e);
	e.ph[2].p_paddr = 0xFFFFFFFFFFFFF000ULL;   /* paddr + memsz wraps */
	assert_refused(elf_load(&e, sizeof(e), &k), k, -EINVAL, X86_KF_MALFORMED);
	elf_default(&e);
	e.ph[0].p_paddr = 0x7000;   /* over the zero page */
	assert_refused(elf_load(&e, sizeof(e), &k), k, -EINVAL, X86_KF_LOW);
	assert_int_equal(k.fault.val, 0x7000);
	elf_default(&e);
	e.ph[0].p_type = PT_NULL;
	e.ph[2].p_type = PT_NULL;
	assert_refused(elf_load(&e, sizeof(e), &k), k, -EINVAL, X86_KF_MALFORMED);
	/* None of the rejected files wrote a byte of their first segment. */
	assert_int_equal(*text, 0x11);
}

static void test_elf_does_not_fit(void **state)
{
	static struct elf_img e;
	struct x86_kernel k;

	(void)state;
	elf_default(&e);
	e.ph[2].p_paddr = 64 * MiB - 0x8000;   /* bss runs past the end of RAM */
	assert_refused(elf_load(&e, sizeof(e), &k), k, -ENOMEM, X86_KF_NO_RAM);
	assert_int_equal(k.fault.val, 64 * MiB + 0x8000);
	elf_default(&e);
	e.ph[2].p_paddr = 6 * GiB;
	assert_refused(elf_load(&e, sizeof(e), &k), k, -ENOMEM, X86_KF_ABOVE_4G);

	/* Between 3 and 4 GiB there is no RAM however much --memory gives: a reason of its own. */
	struct gmem lay = { .nregions = 0 };

	lay.nregions = x86_ram_layout(8 * GiB, lay.regions);
	elf_default(&e);
	e.ph[2].p_paddr = 0xD0000000;
	assert_refused(check(&lay, &e, sizeof(e), &k), k, -ENOMEM, X86_KF_IN_HOLE);
	assert_int_equal(k.fault.val, 0xD0010000);
	e.ph[2].p_paddr = 3 * GiB - 0x10000;   /* ends at 3 GiB exactly: fits */
	assert_int_equal(check(&lay, &e, sizeof(e), &k), 0);
	e.ph[2].p_paddr += 1;
	assert_refused(check(&lay, &e, sizeof(e), &k), k, -ENOMEM, X86_KF_IN_HOLE);
}

/* An ELF unpacked from a bzImage keeps that bzImage's setup header and limits; a refused bzImage refuses it. */
static void test_elf_unpacked_from_bzimage(void **state)
{
	struct bz_opts o = bz_default();
	struct boot_file ef, pf;
	struct elf_img e;
	struct x86_kernel k;
	uint8_t *bz;
	size_t bz_size;

	(void)state;
	elf_default(&e);
	o.hdr.cmdline_size = 1023;
	o.hdr.initrd_addr_max = 0x3FFFFFFF;
	o.hdr.loadflags |= X86_KASLR_FLAG;   /* a crafted file's: an ELF was never randomised */
	bz = bz_build(&o, &bz_size);
	assert_non_null(bz);
	boot_file_mem(&pf, bz, bz_size);
	boot_file_mem(&ef, &e, sizeof(e));
	ef.packed = &pf;
	assert_int_equal(x86_kernel_load(&test_guest, &ef, &k), 0);
	assert_true(k.is_elf);
	assert_true(k.hdr_packed);
	assert_int_equal(k.entry, e.eh.e_entry);
	assert_int_equal(k.cmdline_cap, 1024);
	assert_int_equal(k.initrd_addr_max, 0x3FFFFFFF);
	assert_int_equal(k.hdr.version, o.hdr.version);
	assert_int_equal(x86_boot_params_build(&test_guest, &k, TEST_GUEST_BYTES, X86_CMDLINE_ADDR, 0, 0, 0), 0);
	assert_int_equal(test_guest_read(&test_guest, X86_ZERO_PAGE_ADDR + 0x238, 4), 1023);
	assert_int_equal(test_guest_read(&test_guest, X86_ZERO_PAGE_ADDR + 0x211, 1) & X86_KASLR_FLAG, 0);
	/* The bzImage refused (too old a protocol): so is the ELF it was unpacked to. */
	bz[0x206] = 0x01;
	assert_int_equal(x86_kernel_check(&test_guest, &ef, &k), -EPROTONOSUPPORT);
	free(bz);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf_valid),
		cmocka_unit_test(test_elf_unpacked_from_bzimage),
		cmocka_unit_test(test_elf_virtual_entry),
		cmocka_unit_test(test_elf_entry_in_bss),
		cmocka_unit_test(test_elf_not_64bit),
		cmocka_unit_test(test_elf_lying),
		cmocka_unit_test(test_elf_does_not_fit),
	};

	return cmocka_run_group_tests(tests, test_guest_setup, test_guest_teardown);
}

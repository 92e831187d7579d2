/* SPDX-License-Identifier: MIT */
/* Unit tests: bzImage and ELF64 loading from synthetic (valid and lying) images, real kernels, initrd placement. */
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

#include "x86_boot.h"
#include "x86_test_guest.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static struct gmem guest;   /* 64 MiB, remapped per test */

static int guest_setup(void **state)
{
	(void)state;
	return test_guest_map(&guest, 64 * MiB);
}

static int guest_teardown(void **state)
{
	(void)state;
	test_guest_unmap(&guest);
	return 0;
}

/* The loader over an image in memory, with the head a file read gives it. */
static int load(const struct gmem *mem, const void *img, size_t size, struct x86_kernel *k)
{
	struct boot_file f;

	boot_file_mem(&f, img, size);
	return x86_kernel_load(mem, &f, k);
}

static int check(const struct gmem *mem, const void *img, size_t size, struct x86_kernel *k)
{
	struct boot_file f;

	boot_file_mem(&f, img, size);
	return x86_kernel_check(mem, &f, k);
}

/* A refusal: the -errno, and the reason the loader gives in k.fault. */
#define assert_refused(ret, k, err, want)                 \
	do {                                              \
		assert_int_equal((ret), (err));           \
		assert_int_equal((k).fault.kind, (want)); \
	} while (0)

/* ---- synthetic bzImage ---- */

struct bz_opts {
	unsigned int setup_sects;
	uint8_t hdr_end_byte;     /* second byte of the jump: header ends at 0x202 + this */
	struct x86_setup_header hdr;
	size_t pm_size;
};

static struct bz_opts bz_default(void)
{
	struct bz_opts o;

	memset(&o, 0, sizeof(o));
	o.setup_sects = 4;
	o.hdr_end_byte = 0x6A;    /* 0x26C: the whole 2.15 header */
	o.pm_size = 64 * 1024;
	o.hdr.setup_sects = 4;
	o.hdr.boot_flag = X86_BOOT_FLAG;
	o.hdr.header = X86_SETUP_MAGIC;
	o.hdr.version = 0x020F;
	o.hdr.loadflags = X86_LOADED_HIGH;
	o.hdr.xloadflags = X86_XLF_KERNEL_64 | X86_XLF_CAN_BE_LOADED_ABOVE_4G;
	o.hdr.kernel_alignment = 0x200000;
	o.hdr.relocatable_kernel = 1;
	o.hdr.initrd_addr_max = 0x7FFFFFFF;
	o.hdr.cmdline_size = 0x7FF;
	o.hdr.pref_address = 0x1000000;
	o.hdr.init_size = 1 * MiB;
	o.hdr.payload_offset = 0x100;
	o.hdr.payload_length = 0x1000;
	o.hdr.kernel_version = 0x1234;
	return o;
}

static uint8_t pm_byte(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/* Build the image into a malloc'd buffer; *size gets its length. */
static uint8_t *bz_build(const struct bz_opts *o, size_t *size)
{
	size_t pm_off = ((size_t)o->setup_sects + 1) * 512;
	uint8_t *img = calloc(1, pm_off + o->pm_size);

	assert_non_null(img);
	memcpy(img + X86_SETUP_HDR_OFFSET, &o->hdr, sizeof(o->hdr));
	img[0x200] = 0xEB;              /* a short jmp, as real images have */
	img[0x201] = o->hdr_end_byte;
	for (size_t i = 0; i < o->pm_size; i++)
		img[pm_off + i] = pm_byte(i);
	*size = pm_off + o->pm_size;
	return img;
}

static int bz_load(const struct bz_opts *o, struct x86_kernel *k)
{
	size_t size;
	uint8_t *img = bz_build(o, &size);
	int ret = load(&guest, img, size, k);

	free(img);
	return ret;
}

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
	p = gmem_ptr(&guest, 0x1000000, 64 * 1024);
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
	assert_int_equal(*(uint8_t *)gmem_ptr(&guest, 0x1000000, 1), pm_byte(0));
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
	assert_refused(load(&guest, junk, sizeof(junk), &k), k, -ENOEXEC, X86_KF_UNKNOWN);
	assert_refused(load(&guest, junk, 0, &k), k, -ENOEXEC, X86_KF_UNKNOWN);
	assert_refused(load(&guest, junk, 3, &k), k, -ENOEXEC, X86_KF_UNKNOWN);
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
		assert_refused(load(&guest, img, sizeof(img), &k), k, -ENOEXEC, cases[i].kind);
		if (cases[i].what)
			assert_string_equal(k.fault.what, cases[i].what);
		/* Cut inside the magic, it is not recognised. */
		assert_refused(load(&guest, img, cases[i].off + 1, &k), k, -ENOEXEC, X86_KF_UNKNOWN);
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
	assert_refused(load(&guest, img, 0x230, &k), k, -EINVAL, X86_KF_TRUNCATED);
	assert_int_equal(k.fault.val, 0x26C);
	/* Inside the setup sectors, right at the pm part: it needs the payload's end. */
	assert_refused(load(&guest, img, 0x800, &k), k, -EINVAL, X86_KF_TRUNCATED);
	assert_int_equal(k.fault.val, 5 * 512 + 0x1100);
	assert_refused(load(&guest, img, 5 * 512, &k), k, -EINVAL, X86_KF_TRUNCATED);
	/* Cut inside the payload: payload_offset + length now lie past the end. */
	assert_refused(load(&guest, img, 5 * 512 + 0x200, &k), k, -EINVAL, X86_KF_TRUNCATED);
	assert_int_equal(k.fault.val, 5 * 512 + 0x1100);
	/* What syssize says the pm part was built to, when that is more. */
	((struct x86_setup_header *)(img + X86_SETUP_HDR_OFFSET))->syssize = 0x1000;   /* 64 KiB */
	assert_refused(load(&guest, img, 5 * 512 + 0x200, &k), k, -EINVAL, X86_KF_TRUNCATED);
	assert_int_equal(k.fault.val, 5 * 512 + 0x10000);
	/* A header that ends before init_size although it claims 2.15. */
	img[0x201] = 0x30;
	assert_refused(load(&guest, img, size, &k), k, -EINVAL, X86_KF_MALFORMED);
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

/* ---- synthetic ELF64 ---- */

#define ELF_NPH 3

struct elf_img {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[ELF_NPH];
	uint8_t data[2][4096];
};

static void elf_default(struct elf_img *e)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
	e->eh.e_ident[EI_CLASS] = ELFCLASS64;
	e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	e->eh.e_ident[EI_VERSION] = EV_CURRENT;
	e->eh.e_type = ET_EXEC;
	e->eh.e_machine = EM_X86_64;
	e->eh.e_version = EV_CURRENT;
	e->eh.e_entry = 0x1000000;
	e->eh.e_phoff = offsetof(struct elf_img, ph);
	e->eh.e_ehsize = sizeof(Elf64_Ehdr);
	e->eh.e_phentsize = sizeof(Elf64_Phdr);
	e->eh.e_phnum = ELF_NPH;

	/* text: 4 KiB from the file */
	e->ph[0].p_type = PT_LOAD;
	e->ph[0].p_offset = offsetof(struct elf_img, data[0]);
	e->ph[0].p_vaddr = 0xFFFFFFFF81000000ULL;
	e->ph[0].p_paddr = 0x1000000;
	e->ph[0].p_filesz = 4096;
	e->ph[0].p_memsz = 4096;
	/* a note between the loads: must be skipped */
	e->ph[1].p_type = PT_NOTE;
	e->ph[1].p_offset = 0xFFFFFFFFFFFF0000ULL;
	e->ph[1].p_filesz = 0x100000;
	/* data + bss: 4 KiB from the file, 64 KiB in memory */
	e->ph[2].p_type = PT_LOAD;
	e->ph[2].p_offset = offsetof(struct elf_img, data[1]);
	e->ph[2].p_vaddr = 0xFFFFFFFF82000000ULL;
	e->ph[2].p_paddr = 0x2000000;
	e->ph[2].p_filesz = 4096;
	e->ph[2].p_memsz = 0x10000;
	memset(e->data[0], 0xC3, sizeof(e->data[0]));
	memset(e->data[1], 0xD4, sizeof(e->data[1]));
}

static int elf_load(const struct elf_img *e, size_t size, struct x86_kernel *k)
{
	return load(&guest, e, size, k);
}

static void test_elf_valid(void **state)
{
	static struct elf_img e;
	struct x86_kernel k;
	uint8_t *bss;

	(void)state;
	elf_default(&e);
	/* Stale bytes where the bss goes: the loader must clear them. */
	bss = gmem_ptr(&guest, 0x2000000, 0x10000);
	memset(bss, 0xEE, 0x10000);
	assert_int_equal(elf_load(&e, sizeof(e), &k), 0);
	assert_true(k.is_elf);
	assert_int_equal(k.entry, 0x1000000);
	assert_int_equal(k.load_addr, 0x1000000);
	assert_int_equal(k.load_end, 0x2010000);
	assert_int_equal(k.init_size, 0x1010000);
	assert_int_equal(k.initrd_addr_max, 0x7FFFFFFF);
	assert_int_equal(k.cmdline_cap, X86_CMDLINE_MAX);
	assert_int_equal(test_guest_read(&guest, 0x1000000, 1), 0xC3);
	assert_int_equal(test_guest_read(&guest, 0x1000FFF, 1), 0xC3);
	assert_int_equal(test_guest_read(&guest, 0x2000FFF, 1), 0xD4);
	assert_int_equal(test_guest_read(&guest, 0x2001000, 8), 0);
	assert_int_equal(test_guest_read(&guest, 0x200FFF8, 8), 0);
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
	uint8_t *text = gmem_ptr(&guest, 0x1000000, 1);

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

/* ---- initrd placement ---- */

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
	assert_int_equal(x86_initrd_place(&guest, &k, 10 * MiB, &gpa), 0);
	assert_int_equal(gpa, 54 * MiB);
	assert_int_equal(x86_initrd_place(&guest, &k, 10 * MiB + 1, &gpa), 0);
	assert_int_equal(gpa % 4096, 0);
	assert_true(gpa + 10 * MiB + 1 <= 64 * MiB);
	assert_true(gpa + 4096 + 10 * MiB + 1 > 64 * MiB);   /* the highest such page */
	assert_int_equal(x86_initrd_place(&guest, &k, 0, &gpa), 0);
	assert_int_equal(gpa, 0);
}

static void test_initrd_addr_max(void **state)
{
	struct x86_kernel k = fake_kernel(0x1000000, 4 * MiB, 0x1200000, 32 * MiB - 1);
	uint64_t gpa;

	(void)state;
	assert_int_equal(x86_initrd_place(&guest, &k, 1 * MiB, &gpa), 0);
	assert_int_equal(gpa, 31 * MiB);
}

static void test_initrd_below_kernel(void **state)
{
	/* Kernel occupies the top of RAM: its init_size reaches beyond load_end. */
	struct x86_kernel k = fake_kernel(40 * MiB, 24 * MiB, 41 * MiB, 0x7FFFFFFF);
	uint64_t gpa;

	(void)state;
	assert_int_equal(x86_initrd_place(&guest, &k, 8 * MiB, &gpa), 0);
	assert_int_equal(gpa, 32 * MiB);
	/* load_end beyond init_size counts too (ELF with a large bss). */
	k = fake_kernel(40 * MiB, 1 * MiB, 64 * MiB, 0x7FFFFFFF);
	assert_int_equal(x86_initrd_place(&guest, &k, 8 * MiB, &gpa), 0);
	assert_int_equal(gpa, 32 * MiB);
}

static void test_initrd_no_room(void **state)
{
	struct x86_kernel k = fake_kernel(16 * MiB, 40 * MiB, 17 * MiB, 0x7FFFFFFF);
	uint64_t gpa;

	(void)state;
	/* 8 MiB above the kernel, 15 MiB below it. */
	assert_int_equal(x86_initrd_place(&guest, &k, 8 * MiB, &gpa), 0);
	assert_int_equal(gpa, 56 * MiB);
	assert_int_equal(x86_initrd_place(&guest, &k, 15 * MiB, &gpa), 0);
	assert_int_equal(gpa, 1 * MiB);
	assert_int_equal(x86_initrd_place(&guest, &k, 15 * MiB + 1, &gpa), -ENOMEM);
	assert_int_equal(x86_initrd_place(&guest, &k, 1ULL << 62, &gpa), -ENOMEM);
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

/* ---- checking without loading ---- */

/* x86_kernel_check on a bare layout (host NULL) agrees with x86_kernel_load and writes nothing. */
static void test_check_matches_load(void **state)
{
	struct bz_opts o = bz_default();
	struct gmem lay = { .nregions = 0 };
	struct x86_kernel kc, kl;
	struct elf_img e;
	uint8_t *img;
	size_t size;

	(void)state;
	lay.nregions = x86_ram_layout(64 * MiB, lay.regions);
	img = bz_build(&o, &size);
	memset(gmem_ptr(&guest, 0x1000000, 64 * 1024), 0, 64 * 1024);
	assert_int_equal(check(&guest, img, size, &kc), 0);
	assert_int_equal(*(uint8_t *)gmem_ptr(&guest, 0x1000000 + 1, 1), 0);   /* pm_byte(1) is 10 */
	assert_int_equal(check(&lay, img, size, &kc), 0);
	assert_int_equal(load(&guest, img, size, &kl), 0);
	assert_memory_equal(&kc, &kl, sizeof(kc));
	/* The same verdicts as load, from the layout alone. */
	o.hdr.version = X86_BZIMAGE_MIN_PROTOCOL - 1;
	free(img);
	img = bz_build(&o, &size);
	assert_int_equal(check(&lay, img, size, &kc), -EPROTONOSUPPORT);
	o = bz_default();
	o.hdr.version = X86_BZIMAGE_MIN_PROTOCOL;
	o.hdr.init_size = 60 * MiB;   /* from 16 MiB: past the end of 64 MiB */
	free(img);
	img = bz_build(&o, &size);
	assert_int_equal(check(&lay, img, size, &kc), -ENOMEM);
	lay.nregions = x86_ram_layout(128 * MiB, lay.regions);
	assert_int_equal(check(&lay, img, size, &kc), 0);
	free(img);
	assert_refused(check(&lay, "not a kernel", 12, &kc), kc, -ENOEXEC, X86_KF_UNKNOWN);

	elf_default(&e);
	assert_int_equal(check(&lay, &e, sizeof(e), &kc), 0);
	assert_int_equal(load(&guest, &e, sizeof(e), &kl), 0);
	assert_memory_equal(&kc, &kl, sizeof(kc));
}

/* ---- reading the file: the head once, the rest into guest RAM ---- */

/* A file read through a log: every range asked for, and an error to return from the Nth read. */
struct read_log {
	struct boot_file mem;   /* the image in memory, whose read does the copy */
	unsigned int nreads;
	uint64_t off[8], len[8];
	unsigned int fail_at;         /* 1-based; 0: never */
	int fail_err;
};

static int logged_read(const struct boot_file *f, void *dst, uint64_t len, uint64_t off)
{
	struct read_log *log = (struct read_log *)f->ctx;

	assert_true(off <= f->size && len <= f->size - off);
	assert_true(log->nreads < 8);
	log->off[log->nreads] = off;
	log->len[log->nreads] = len;
	if (++log->nreads == log->fail_at)
		return log->fail_err;
	return log->mem.read(&log->mem, dst, len, off);
}

static void logged_file(struct read_log *log, struct boot_file *f, const void *img, size_t size)
{
	memset(log, 0, sizeof(*log));
	boot_file_mem(&log->mem, img, size);
	*f = log->mem;
	f->read = logged_read;
	f->ctx = log;
}

/* Checking reads nothing past the head; loading reads each loaded byte once, from where the headers say. */
static void test_reads_head_then_load_ranges(void **state)
{
	struct bz_opts o = bz_default();
	struct boot_file f;
	struct read_log log;
	struct x86_kernel k;
	struct elf_img e;
	size_t size;
	uint8_t *img = bz_build(&o, &size);

	(void)state;
	assert_true(size > BOOT_FILE_HEAD_MAX);   /* the pm part runs past the head */
	logged_file(&log, &f, img, size);
	assert_int_equal(f.head_len, BOOT_FILE_HEAD_MAX);
	assert_int_equal(x86_kernel_check(&guest, &f, &k), 0);
	assert_int_equal(log.nreads, 0);
	assert_int_equal(x86_kernel_load(&guest, &f, &k), 0);
	assert_int_equal(log.nreads, 1);
	assert_int_equal(log.off[0], 5 * 512);
	assert_int_equal(log.len[0], size - 5 * 512);
	assert_int_equal(k.file_off, 5 * 512);
	free(img);

	elf_default(&e);
	logged_file(&log, &f, &e, sizeof(e));
	assert_int_equal(x86_kernel_load(&guest, &f, &k), 0);
	/* The two PT_LOADs' file bytes; the PT_NOTE between them is not read. */
	assert_int_equal(log.nreads, 2);
	assert_int_equal(log.off[0], offsetof(struct elf_img, data[0]));
	assert_int_equal(log.off[1], offsetof(struct elf_img, data[1]));
	assert_int_equal(log.len[0], 4096);
	assert_int_equal(log.len[1], 4096);
}

/* A file that shrinks after its head was read: the read's error comes back, nothing is made up. */
static void test_read_error_is_returned(void **state)
{
	struct bz_opts o = bz_default();
	struct boot_file f;
	struct read_log log;
	struct x86_kernel k;
	struct elf_img e;
	size_t size;
	uint8_t *img = bz_build(&o, &size);

	(void)state;
	logged_file(&log, &f, img, size);
	log.fail_at = 1;
	log.fail_err = -ENODATA;
	assert_int_equal(x86_kernel_load(&guest, &f, &k), -ENODATA);
	free(img);

	elf_default(&e);
	logged_file(&log, &f, &e, sizeof(e));
	log.fail_at = 2;
	log.fail_err = -EIO;
	assert_int_equal(x86_kernel_load(&guest, &f, &k), -EIO);
	assert_int_equal(log.nreads, 2);
}

/* Every header must lie in the head: ELF program headers past BOOT_FILE_HEAD_MAX are refused. */
static void test_elf_phdrs_past_head(void **state)
{
	size_t tab = sizeof(Elf64_Phdr) * ELF_NPH;
	size_t size = BOOT_FILE_HEAD_MAX + 4096;
	uint8_t *img = calloc(1, size);
	struct x86_kernel k;
	struct elf_img e;

	(void)state;
	assert_non_null(img);
	elf_default(&e);
	memcpy(img, &e, sizeof(e));
	/* The table ends at the head's last byte: accepted. */
	memcpy(img + BOOT_FILE_HEAD_MAX - tab, e.ph, tab);
	((Elf64_Ehdr *)img)->e_phoff = BOOT_FILE_HEAD_MAX - tab;
	assert_int_equal(load(&guest, img, size, &k), 0);
	/* One byte further: it would be read from past the head. */
	memmove(img + BOOT_FILE_HEAD_MAX - tab + 1, img + BOOT_FILE_HEAD_MAX - tab, tab);
	((Elf64_Ehdr *)img)->e_phoff = BOOT_FILE_HEAD_MAX - tab + 1;
	assert_refused(load(&guest, img, size, &k), k, -EINVAL, X86_KF_MALFORMED);
	assert_non_null(strstr(k.fault.what, "64 KiB"));
	free(img);
}

/* ---- real kernels, when the environment names them ---- */

static uint8_t *file_read(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	buf = malloc((size_t)len);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*size = (size_t)len;
	return buf;
}

static void test_real_bzimage(void **state)
{
	const char *path = getenv("VMM_TEST_BZIMAGE");
	struct gmem mem;
	struct x86_kernel k;
	size_t size, pm_off;
	uint8_t *img;
	uint64_t initrd;

	(void)state;
	if (!path) {
		print_message("VMM_TEST_BZIMAGE not set: no real bzImage to load, skipping\n");
		skip();
	}
	img = file_read(path, &size);
	assert_int_equal(test_guest_map(&mem, 256 * MiB), 0);
	assert_int_equal(load(&mem, img, size, &k), 0);
	assert_false(k.is_elf);
	assert_true(k.hdr.version >= 0x020C);
	assert_int_equal(k.load_addr, k.hdr.pref_address);
	assert_int_equal(k.entry, k.hdr.pref_address + 0x200);
	assert_true(k.init_size >= k.load_end - k.load_addr);
	pm_off = ((size_t)(k.hdr.setup_sects ? k.hdr.setup_sects : 4) + 1) * 512;
	assert_int_equal(k.load_end - k.load_addr, size - pm_off);
	assert_memory_equal(gmem_ptr(&mem, k.load_addr, size - pm_off), img + pm_off, size - pm_off);
	assert_int_equal(x86_initrd_place(&mem, &k, 20 * MiB, &initrd), 0);
	assert_true(initrd >= k.load_addr + k.init_size || initrd + 20 * MiB <= k.load_addr);
	test_guest_unmap(&mem);
	free(img);
}

static void test_real_vmlinux(void **state)
{
	const char *path = getenv("VMM_TEST_VMLINUX");
	struct gmem mem;
	struct x86_kernel k;
	size_t size;
	uint8_t *img;

	(void)state;
	if (!path) {
		print_message("VMM_TEST_VMLINUX not set: no real vmlinux to load, skipping\n");
		skip();
	}
	img = file_read(path, &size);
	assert_int_equal(test_guest_map(&mem, 256 * MiB), 0);
	assert_int_equal(load(&mem, img, size, &k), 0);
	assert_true(k.is_elf);
	/* Debian's vmlinux: physical startup_64 at 16 MiB, the first PT_LOAD. */
	assert_int_equal(k.entry, 0x1000000);
	assert_int_equal(k.load_addr, 0x1000000);
	assert_true(k.load_end > k.load_addr + 16 * MiB);
	test_guest_unmap(&mem);
	free(img);
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
		cmocka_unit_test(test_elf_valid),
		cmocka_unit_test(test_elf_virtual_entry),
		cmocka_unit_test(test_elf_entry_in_bss),
		cmocka_unit_test(test_elf_not_64bit),
		cmocka_unit_test(test_elf_lying),
		cmocka_unit_test(test_elf_does_not_fit),
		cmocka_unit_test(test_initrd_top),
		cmocka_unit_test(test_initrd_addr_max),
		cmocka_unit_test(test_initrd_below_kernel),
		cmocka_unit_test(test_initrd_no_room),
		cmocka_unit_test(test_initrd_big_guest),
		cmocka_unit_test(test_initrd_top_which),
		cmocka_unit_test(test_check_matches_load),
		cmocka_unit_test(test_reads_head_then_load_ranges),
		cmocka_unit_test(test_read_error_is_returned),
		cmocka_unit_test(test_elf_phdrs_past_head),
		cmocka_unit_test(test_real_bzimage),
		cmocka_unit_test(test_real_vmlinux),
	};

	return cmocka_run_group_tests(tests, guest_setup, guest_teardown);
}

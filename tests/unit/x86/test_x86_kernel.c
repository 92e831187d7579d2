/* SPDX-License-Identifier: MIT */
/* Unit tests: checking without loading, reading the file (the head once, the rest into guest RAM), real kernels. */
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
	memset(gmem_ptr(&test_guest, 0x1000000, 64 * 1024), 0, 64 * 1024);
	assert_int_equal(check(&test_guest, img, size, &kc), 0);
	assert_int_equal(*(uint8_t *)gmem_ptr(&test_guest, 0x1000000 + 1, 1), 0);   /* pm_byte(1) is 10 */
	assert_int_equal(check(&lay, img, size, &kc), 0);
	assert_int_equal(load(&test_guest, img, size, &kl), 0);
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
	assert_int_equal(load(&test_guest, &e, sizeof(e), &kl), 0);
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
	assert_int_equal(x86_kernel_check(&test_guest, &f, &k), 0);
	assert_int_equal(log.nreads, 0);
	assert_int_equal(x86_kernel_load(&test_guest, &f, &k), 0);
	assert_int_equal(log.nreads, 1);
	assert_int_equal(log.off[0], 5 * 512);
	assert_int_equal(log.len[0], size - 5 * 512);
	assert_int_equal(k.file_off, 5 * 512);
	free(img);

	elf_default(&e);
	logged_file(&log, &f, &e, sizeof(e));
	assert_int_equal(x86_kernel_load(&test_guest, &f, &k), 0);
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
	assert_int_equal(x86_kernel_load(&test_guest, &f, &k), -ENODATA);
	free(img);

	elf_default(&e);
	logged_file(&log, &f, &e, sizeof(e));
	log.fail_at = 2;
	log.fail_err = -EIO;
	assert_int_equal(x86_kernel_load(&test_guest, &f, &k), -EIO);
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
	assert_int_equal(load(&test_guest, img, size, &k), 0);
	/* One byte further: it would be read from past the head. */
	memmove(img + BOOT_FILE_HEAD_MAX - tab + 1, img + BOOT_FILE_HEAD_MAX - tab, tab);
	((Elf64_Ehdr *)img)->e_phoff = BOOT_FILE_HEAD_MAX - tab + 1;
	assert_refused(load(&test_guest, img, size, &k), k, -EINVAL, X86_KF_MALFORMED);
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
		cmocka_unit_test(test_check_matches_load),
		cmocka_unit_test(test_reads_head_then_load_ranges),
		cmocka_unit_test(test_read_error_is_returned),
		cmocka_unit_test(test_elf_phdrs_past_head),
		cmocka_unit_test(test_real_bzimage),
		cmocka_unit_test(test_real_vmlinux),
	};

	return cmocka_run_group_tests(tests, test_guest_setup, test_guest_teardown);
}

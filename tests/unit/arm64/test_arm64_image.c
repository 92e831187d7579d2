/* SPDX-License-Identifier: MIT */
/* Unit tests: arm64 Image and Image.gz loading, refusals of lying headers and foreign kernels, placement. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "arm64_test_util.h"

#define RAM (16 * MiB)
#define FLAGS_4K_ANYWHERE 0xaULL   /* what Debian's arm64 kernel says: 4 KiB pages, anywhere */

struct loaded {
	struct gmem mem;
	struct arm64_kernel k;
	struct arm64_fault fault;
	int r;
};

/* Load len bytes at file into fresh RAM of ram bytes. */
static void load(struct loaded *l, const uint8_t *file, size_t len, uint64_t ram)
{
	struct boot_file f;

	ram_make(&l->mem, ram, 1);
	memset(&l->fault, 0, sizeof(l->fault));
	boot_file_mem(&f, file, len);
	l->r = arm64_kernel_load(&l->mem, &f, &l->k, &l->fault);
}

static void loaded_free(struct loaded *l)
{
	free(l->mem.regions[0].host);
}

static const uint8_t *ram_at(const struct loaded *l, uint64_t gpa)
{
	return (const uint8_t *)l->mem.regions[0].host + (gpa - ARM64_RAM_BASE);
}

static void test_plain_image_loads_at_text_offset(void **state)
{
	const uint64_t offsets[] = { 0, 0x80000 };

	(void)state;
	for (unsigned int i = 0; i < 2; i++) {
		uint8_t *img = image_make(100000, offsets[i], 200000, FLAGS_4K_ANYWHERE);
		struct loaded l;

		load(&l, img, 100000, RAM);
		assert_int_equal(l.r, 0);
		assert_int_equal(l.k.load_addr, ARM64_RAM_BASE + offsets[i]);
		assert_int_equal(l.k.image_size, 200000);
		assert_int_equal(l.k.text_offset, offsets[i]);
		assert_int_equal(l.k.page_kib, 4);
		assert_false(l.k.gzip);
		assert_memory_equal(ram_at(&l, l.k.load_addr), img, 100000);
		/* bss: nothing written past the file */
		assert_int_equal(ram_at(&l, l.k.load_addr)[100000], 0);
		loaded_free(&l);
		free(img);
	}
}

static void test_page_size_flags(void **state)
{
	const unsigned int kib[] = { 0, 4, 16, 64 };

	(void)state;
	for (unsigned int p = 0; p < 4; p++) {
		uint8_t *img = image_make(4096, 0, 8192, (uint64_t)p << 1);
		struct loaded l;

		load(&l, img, 4096, RAM);
		assert_int_equal(l.r, 0);
		assert_int_equal(l.k.page_kib, kib[p]);
		loaded_free(&l);
		free(img);
	}
}

/* A file longer than image_size (a signature appended): only image_size bytes are the kernel's. */
static void test_bytes_past_image_size_not_loaded(void **state)
{
	uint8_t *img = image_make(10000, 0, 6000, FLAGS_4K_ANYWHERE);
	struct loaded l;

	(void)state;
	load(&l, img, 10000, RAM);
	assert_int_equal(l.r, 0);
	assert_memory_equal(ram_at(&l, ARM64_RAM_BASE), img, 6000);
	assert_int_equal(ram_at(&l, ARM64_RAM_BASE)[6000], 0);
	loaded_free(&l);
	free(img);
}

/* Refused with err, the fault's words exactly what, and guest RAM untouched. */
static void expect_refused(const uint8_t *file, size_t len, uint64_t ram, int err, const char *what)
{
	struct loaded l;

	load(&l, file, len, ram);
	assert_int_equal(l.r, err);
	if (what)
		assert_string_equal(l.fault.what, what);
	assert_non_null(l.fault.fix);
	assert_true(ram_untouched(&l.mem));
	loaded_free(&l);
}

static void test_lying_headers_refused_before_writing(void **state)
{
	uint8_t *img;

	(void)state;
	img = image_make(4096, 0, 8192, 1);   /* big-endian */
	expect_refused(img, 4096, RAM, -EPROTONOSUPPORT, "is a big-endian arm64 kernel; vmm boots little-endian ones");
	free(img);
	img = image_make(4096, 0, 0, 0);   /* image_size 0: older than 3.17 */
	expect_refused(img, 4096, RAM, -EINVAL, NULL);
	free(img);
	img = image_make(4096, 0x80010, 8192, 0);   /* text_offset not a page multiple */
	expect_refused(img, 4096, RAM, -EINVAL,
		       "malformed arm64 Image: its text_offset 0x80010 is not a 4 KiB multiple below 2 MiB");
	free(img);
	img = image_make(4096, 0x200000, 8192, 0);   /* text_offset at 2 MiB */
	expect_refused(img, 4096, RAM, -EINVAL, NULL);
	free(img);
	img = image_make(4096, 0, 64, 0);   /* image_size no bigger than its header */
	expect_refused(img, 4096, RAM, -EINVAL, "malformed arm64 Image: its image_size 0x40 is no kernel's size");
	free(img);
	img = image_make(4096, 0x80000, 0xfffffffffffff000ULL, 0);   /* sizes that overflow */
	expect_refused(img, 4096, RAM, -EINVAL, NULL);
	free(img);
	img = image_make(4096, 0, 17 * MiB, 0);   /* needs more than the 16 MiB of RAM */
	expect_refused(img, 4096, RAM, -ENOMEM,
		       "needs 17 MiB of guest memory for itself, more than the 16 MiB there are");
	free(img);
	img = image_make(4096, 0x80000, 16 * MiB - 0x80000 + 1, 0);   /* one byte past RAM's end */
	expect_refused(img, 4096, RAM, -ENOMEM, NULL);
	free(img);
	img = image_make(64, 0, 8192, 0);
	expect_refused(img, 63, RAM, -EINVAL, "is cut short: an arm64 Image header needs 64 bytes and the file has 63");
	free(img);
}

/* The image fills RAM exactly: accepted. */
static void test_image_filling_ram_fits(void **state)
{
	uint8_t *img = image_make(4096, 0x80000, 16 * MiB - 0x80000, 0);
	struct loaded l;

	(void)state;
	load(&l, img, 4096, RAM);
	assert_int_equal(l.r, 0);
	loaded_free(&l);
	free(img);
}

/* What other files are called: the user gets one line naming the file's kind. */
static void test_foreign_files_named(void **state)
{
	static const struct {
		size_t off;
		const char *bytes;
		size_t n;
		const char *what;
	} cases[] = {
		{ 0x202, "HdrS", 4, "is an x86 bzImage; expected an arm64 Image" },
		{ 0, "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0", 20,
		  "is an x86-64 ELF vmlinux; expected an arm64 Image" },
		{ 0, "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\xb7\0", 20,
		  "is an arm64 ELF vmlinux, not the Image the kernel build makes from it; expected an arm64 Image" },
		{ 0, "\xfd" "7zXZ\0", 6, "is xz-compressed data; expected an arm64 Image" },
		{ 0, "\x28\xb5\x2f\xfd", 4, "is zstd-compressed data; expected an arm64 Image" },
		{ 0, "BZh9", 4, "is bzip2-compressed data; expected an arm64 Image" },
		{ 0, "070701", 6, "is a cpio archive (an initramfs?); expected an arm64 Image" },
		{ 0x38, "RSC\x05", 4, "is a RISC-V Image; expected an arm64 Image" },
		{ 0, "MZ\0\0zimg", 8, "is an EFI zboot image whose payload is not gzip; expected an arm64 Image" },
		{ 0, "\x27\x05\x19\x56", 4, "is a U-Boot uImage; expected an arm64 Image" },
		{ 0, "hello", 5, "is not an arm64 Image (no \"ARM\\x64\" magic at 0x38)" },
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t file[4096];

		memset(file, 0, sizeof(file));
		memcpy(file + cases[i].off, cases[i].bytes, cases[i].n);
		expect_refused(file, sizeof(file), RAM, -ENOEXEC, cases[i].what);
	}
}

static void test_gzip_image_inflates_into_ram(void **state)
{
	/* Larger than the loader's head buffer and its read chunk, so both continue. */
	size_t len = 300000, gzlen;
	uint8_t *img = image_make(len, 0x80000, 400000, FLAGS_4K_ANYWHERE);
	uint8_t *gz = gzip_make(img, len, &gzlen);
	struct loaded l;

	(void)state;
	load(&l, gz, gzlen, RAM);
	assert_int_equal(l.r, 0);
	assert_true(l.k.gzip);
	assert_int_equal(l.k.load_addr, ARM64_RAM_BASE + 0x80000);
	assert_memory_equal(ram_at(&l, l.k.load_addr), img, len);
	assert_int_equal(ram_at(&l, l.k.load_addr)[len], 0);
	loaded_free(&l);
	free(gz);
	free(img);
}

/* An Image smaller than the loader's 4 KiB head: the stream ends inside it. */
static void test_gzip_small_image(void **state)
{
	size_t gzlen;
	uint8_t *img = image_make(1000, 0, 5000, 0);
	uint8_t *gz = gzip_make(img, 1000, &gzlen);
	struct loaded l;

	(void)state;
	load(&l, gz, gzlen, RAM);
	assert_int_equal(l.r, 0);
	assert_memory_equal(ram_at(&l, ARM64_RAM_BASE), img, 1000);
	loaded_free(&l);
	free(gz);
	free(img);
}

static void test_gzip_refusals(void **state)
{
	size_t gzlen;
	uint8_t elf[4096] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	uint8_t *gz, *img;
	struct loaded l;

	(void)state;
	elf[18] = 0x3e;   /* EM_X86_64 */
	gz = gzip_make(elf, sizeof(elf), &gzlen);
	expect_refused(gz, gzlen, RAM, -ENOEXEC, "is gzip data holding an x86-64 ELF vmlinux; expected an arm64 Image");
	free(gz);

	/* The header inflates, and it lies: refused before RAM is touched. */
	img = image_make(100000, 0, 64 * MiB, 0);
	gz = gzip_make(img, 100000, &gzlen);
	expect_refused(gz, gzlen, RAM, -ENOMEM, NULL);
	free(gz);
	free(img);

	/* Cut short before the header's end. */
	img = image_make(100000, 0, 200000, 0);
	gz = gzip_make(img, 100000, &gzlen);
	expect_refused(gz, 20, RAM, -EINVAL, "is gzip data that is corrupt or cut short before its first 64 bytes");

	/* Cut short later: the head is judged, the copy reports the break. */
	load(&l, gz, gzlen / 2, RAM);
	assert_int_equal(l.r, -EINVAL);
	assert_non_null(strstr(l.fault.what, "is gzip data that is corrupt or cut short after "));
	loaded_free(&l);

	/* Corrupt in the middle (deflate data or CRC): refused, never a write past image_size. */
	gz[gzlen / 2] ^= 0x55;
	gz[gzlen / 2 + 1] ^= 0xaa;
	load(&l, gz, gzlen, RAM);
	assert_int_equal(l.r, -EINVAL);
	for (uint64_t i = 200000; i < RAM; i++)
		assert_int_equal(ram_at(&l, ARM64_RAM_BASE)[i], 0);
	loaded_free(&l);
	free(gz);
	free(img);
}

/* A gzip stream that inflates to more than image_size: the rest is no part of the kernel. */
static void test_gzip_longer_than_image_size(void **state)
{
	size_t gzlen;
	uint8_t *img = image_make(50000, 0, 20000, 0);
	uint8_t *gz = gzip_make(img, 50000, &gzlen);
	struct loaded l;

	(void)state;
	load(&l, gz, gzlen, RAM);
	assert_int_equal(l.r, 0);
	assert_memory_equal(ram_at(&l, ARM64_RAM_BASE), img, 20000);
	assert_int_equal(ram_at(&l, ARM64_RAM_BASE)[20000], 0);
	loaded_free(&l);
	free(gz);
	free(img);
}

/* An EFI zboot image: "MZ", "zimg", payload offset and size, "gzip" at 24. */
static void test_zboot_gzip(void **state)
{
	size_t gzlen;
	uint8_t *img = image_make(30000, 0, 40000, 0);
	uint8_t *gz = gzip_make(img, 30000, &gzlen);
	uint8_t *file = calloc(1, 512 + gzlen + 100);
	struct loaded l;

	(void)state;
	memcpy(file, "MZ\0\0zimg", 8);
	put_le64(file + 8, 512 | (uint64_t)gzlen << 32);   /* two le32: offset, size */
	memcpy(file + 24, "gzip", 5);
	memcpy(file + 512, gz, gzlen);
	load(&l, file, 512 + gzlen + 100, RAM);
	assert_int_equal(l.r, 0);
	assert_true(l.k.gzip);
	assert_memory_equal(ram_at(&l, ARM64_RAM_BASE), img, 30000);
	loaded_free(&l);

	put_le64(file + 8, 512 | (uint64_t)(gzlen + 101) << 32);   /* payload past the file */
	expect_refused(file, 512 + gzlen + 100, RAM, -EINVAL, NULL);
	free(file);
	free(gz);
	free(img);
}

static int read_eio(const struct boot_file *f, void *dst, uint64_t len, uint64_t off)
{
	(void)f;
	(void)dst;
	(void)len;
	(void)off;
	return -EIO;
}

/* A read error is the file's -errno, with no words of the loader's. */
static void test_read_error(void **state)
{
	uint8_t *img = image_make(8192, 0, 10000, 0);
	struct boot_file f;
	struct arm64_fault fault = { .fix = "x" };
	struct arm64_kernel k;
	struct gmem mem;

	(void)state;
	ram_make(&mem, RAM, 1);
	boot_file_mem(&f, img, 8192);
	f.head_len = 4096;
	f.read = read_eio;
	assert_int_equal(arm64_kernel_load(&mem, &f, &k, &fault), -EIO);
	assert_string_equal(fault.what, "");
	assert_null(fault.fix);
	free(mem.regions[0].host);
	free(img);
}

/* check() judges from a layout alone, with the same verdicts. */
static void test_check_on_layout(void **state)
{
	uint8_t *img = image_make(4096, 0, 40 * MiB, 0);
	struct boot_file f;
	struct arm64_fault fault;
	struct arm64_kernel k;
	struct gmem mem;

	(void)state;
	ram_make(&mem, 256 * MiB, 0);
	boot_file_mem(&f, img, 4096);
	assert_int_equal(arm64_kernel_check(&mem, &f, &k, &fault), 0);
	assert_int_equal(k.load_addr, ARM64_RAM_BASE);
	ram_make(&mem, 32 * MiB, 0);
	assert_int_equal(arm64_kernel_check(&mem, &f, &k, &fault), -ENOMEM);
	free(img);
}

static void test_place_dtb_and_initrd(void **state)
{
	struct arm64_kernel k = { .load_addr = ARM64_RAM_BASE, .image_size = 40 * MiB };
	struct arm64_boot_place p;
	struct arm64_fault fault;
	struct gmem mem;

	(void)state;
	ram_make(&mem, 256 * MiB, 0);
	assert_int_equal(arm64_boot_place(&mem, &k, 0, &p, &fault), 0);
	assert_int_equal(p.dtb_addr, ARM64_RAM_BASE + 254 * MiB);
	assert_int_equal(p.initrd_addr, 0);

	assert_int_equal(arm64_boot_place(&mem, &k, 10 * MiB + 1, &p, &fault), 0);
	assert_int_equal(p.initrd_addr % 4096, 0);
	assert_true(p.initrd_addr + 10 * MiB + 1 <= p.dtb_addr);
	assert_true(p.dtb_addr - (p.initrd_addr + 10 * MiB + 1) < 4096);
	assert_true(p.initrd_addr >= ARM64_RAM_BASE + 40 * MiB);

	/* Exactly the room between the kernel and the device tree. */
	assert_int_equal(arm64_boot_place(&mem, &k, 214 * MiB, &p, &fault), 0);
	assert_int_equal(p.initrd_addr, ARM64_RAM_BASE + 40 * MiB);
	assert_int_equal(arm64_boot_place(&mem, &k, 214 * MiB + 1, &p, &fault), -ENOMEM);
	assert_string_equal(fault.what, "is 215 MiB, and guest memory has 214 MiB left beside the kernel and the device tree");
	assert_string_equal(fault.fix, "raise --memory");
}

static void test_place_kernel_and_dtb_too_big(void **state)
{
	struct arm64_kernel k = { .load_addr = ARM64_RAM_BASE, .image_size = 15 * MiB };
	struct arm64_boot_place p;
	struct arm64_fault fault;
	struct gmem mem;

	(void)state;
	ram_make(&mem, 16 * MiB, 0);
	assert_int_equal(arm64_boot_place(&mem, &k, 0, &p, &fault), -ENOMEM);
	assert_string_equal(fault.what,
			    "needs 17 MiB of guest memory for itself and its 2 MiB device tree, more than the 16 MiB there are");
	k.image_size = 14 * MiB;
	assert_int_equal(arm64_boot_place(&mem, &k, 0, &p, &fault), 0);
}

/* With more than 32 GiB of RAM the initrd stays inside the window that holds the kernel. */
static void test_place_initrd_window(void **state)
{
	struct arm64_kernel k = { .load_addr = ARM64_RAM_BASE, .image_size = 40 * MiB };
	struct arm64_boot_place p;
	struct arm64_fault fault;
	struct gmem mem;

	(void)state;
	ram_make(&mem, 64 * GiB, 0);
	assert_int_equal(arm64_boot_place(&mem, &k, 100 * MiB, &p, &fault), 0);
	assert_int_equal(p.dtb_addr, ARM64_RAM_BASE + 64 * GiB - 2 * MiB);
	assert_int_equal(p.initrd_addr + 100 * MiB, 2 * GiB + 32 * GiB);
	assert_int_equal(arm64_boot_place(&mem, &k, 33 * GiB, &p, &fault), -ENOMEM);
	assert_string_equal(fault.fix, "use a smaller initrd");
}

/* A real kernel, when the environment names one (tests/host-arm64/build.sh makes it). */
static void test_real_image(void **state)
{
	const char *path = getenv("VMM_TEST_ARM64_IMAGE");
	struct loaded l;
	struct stat st;
	uint8_t *buf;
	int fd;

	(void)state;
	if (!path || !*path)
		return;
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size);
	assert_int_equal(read(fd, buf, st.st_size), st.st_size);
	close(fd);
	load(&l, buf, st.st_size, 256 * MiB);
	assert_int_equal(l.r, 0);
	assert_int_equal(l.k.load_addr, ARM64_RAM_BASE + l.k.text_offset);
	assert_true(l.k.image_size >= (uint64_t)st.st_size || l.k.gzip);
	loaded_free(&l);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_image_loads_at_text_offset),
		cmocka_unit_test(test_page_size_flags),
		cmocka_unit_test(test_bytes_past_image_size_not_loaded),
		cmocka_unit_test(test_lying_headers_refused_before_writing),
		cmocka_unit_test(test_image_filling_ram_fits),
		cmocka_unit_test(test_foreign_files_named),
		cmocka_unit_test(test_gzip_image_inflates_into_ram),
		cmocka_unit_test(test_gzip_small_image),
		cmocka_unit_test(test_gzip_refusals),
		cmocka_unit_test(test_gzip_longer_than_image_size),
		cmocka_unit_test(test_zboot_gzip),
		cmocka_unit_test(test_read_error),
		cmocka_unit_test(test_check_on_layout),
		cmocka_unit_test(test_place_dtb_and_initrd),
		cmocka_unit_test(test_place_kernel_and_dtb_too_big),
		cmocka_unit_test(test_place_initrd_window),
		cmocka_unit_test(test_real_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

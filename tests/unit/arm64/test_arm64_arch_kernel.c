/* SPDX-License-Identifier: MIT */
/* Unit tests for the arm64 room's loader glue (arch_kernel_*, arch_initrd_place): refusals in words, placement, bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "arm64_arch.h"
#include "arm64_test_util.h"
#include "boot.h"

#define IMAGE_LEN (256 * 1024)

static void kernel_check_refuses_x86_bzimage_in_words(void **state)
{
	uint8_t *bz = calloc(1, 8192);
	struct vm_error err = { .kernel_why = "" };
	struct arch_kernel *k = NULL;
	struct boot_file f;
	struct gmem mem;

	(void)state;
	bz[0x1fe] = 0x55;
	bz[0x1ff] = 0xaa;
	memcpy(bz + 0x202, "HdrS", 4);
	boot_file_mem(&f, bz, 8192);
	ram_make(&mem, 256 * MiB, 0);
	assert_int_equal(arch_kernel_check(&mem, 256 * MiB, &f, &k, &err), -ENOEXEC);
	assert_null(k);
	assert_string_equal(err.kernel_why, "is an x86 bzImage; expected an arm64 Image (give an arm64 Image, "
			    "e.g. /boot/vmlinuz-*-arm64 from Debian's linux-image-arm64)");
	free(bz);
}

static void kernel_check_needs_room_for_the_device_tree(void **state)
{
	/* The Image (62 MiB with its bss) fits in 64 MiB, the 2 MiB device tree beside it does not. */
	uint8_t *img = image_make(IMAGE_LEN, 0, 63 * MiB, 0);
	struct vm_error err = { .kernel_why = "" };
	struct arch_kernel *k = NULL;
	struct boot_file f;
	struct gmem mem;

	(void)state;
	boot_file_mem(&f, img, IMAGE_LEN);
	ram_make(&mem, 64 * MiB, 1);
	assert_int_equal(arch_kernel_load(&mem, 64 * MiB, &f, &k, &err), -ENOMEM);
	assert_null(k);
	assert_non_null(strstr(err.kernel_why, "device tree"));
	assert_non_null(strstr(err.kernel_why, "(raise --memory)"));
	/* Refused before the copy: guest RAM is untouched. */
	assert_true(ram_untouched(&mem));
	free(mem.regions[0].host);
	free(img);
}

static void kernel_load_places_the_image_and_the_initrd(void **state)
{
	uint8_t *img = image_make(IMAGE_LEN, 0, 2 * MiB, 0);
	struct vm_error err = { .kernel_why = "" };
	struct arch_kernel *k = NULL;
	struct boot_file f;
	struct gmem mem;
	uint64_t gpa = 1;

	(void)state;
	boot_file_mem(&f, img, IMAGE_LEN);
	ram_make(&mem, 128 * MiB, 1);
	assert_int_equal(arch_kernel_load(&mem, 128 * MiB, &f, &k, &err), 0);
	assert_non_null(k);
	assert_memory_equal(mem.regions[0].host, img, IMAGE_LEN);
	assert_int_equal(arch_kernel_cmdline_cap(k), 2048);
	assert_int_equal(arch_initrd_place(k, &mem, 128 * MiB, 0, &gpa, &err), 0);
	assert_int_equal(gpa, 0);
	/* Page-aligned, above the kernel, below the device tree in the top 2 MiB. */
	assert_int_equal(arch_initrd_place(k, &mem, 128 * MiB, 10 * MiB + 5, &gpa, &err), 0);
	assert_int_equal(gpa % 4096, 0);
	assert_true(gpa >= ARM64_RAM_BASE + 2 * MiB);
	assert_true(gpa + 10 * MiB + 5 <= ARM64_RAM_BASE + 126 * MiB);
	arch_kernel_free(k);
	free(mem.regions[0].host);
	free(img);
}

static void initrd_too_big_for_ram_names_the_ram_bound(void **state)
{
	uint8_t *img = image_make(IMAGE_LEN, 0, 2 * MiB, 0);
	struct vm_error err = { .kernel_why = "" };
	struct arch_kernel *k = NULL;
	struct boot_file f;
	struct gmem mem;
	uint64_t gpa = 0;

	(void)state;
	boot_file_mem(&f, img, IMAGE_LEN);
	ram_make(&mem, 64 * MiB, 0);
	assert_int_equal(arch_kernel_check(&mem, 64 * MiB, &f, &k, &err), 0);
	assert_int_equal(arch_initrd_place(k, &mem, 64 * MiB, 61 * MiB, &gpa, &err), -ENOMEM);
	assert_int_equal(err.bound, VM_INITRD_BOUND_RAM);
	assert_int_equal(err.size, 61 * MiB);
	assert_int_equal(err.limit, ARM64_RAM_BASE + 62 * MiB);   /* the device tree's start */
	arch_kernel_free(k);
	free(img);
}

static void initrd_past_the_boot_window_cannot_be_helped_by_memory(void **state)
{
	uint8_t *img = image_make(IMAGE_LEN, 0, 2 * MiB, 0);
	struct vm_error err = { .kernel_why = "" };
	struct arch_kernel *k = NULL;
	struct boot_file f;
	struct gmem mem;
	uint64_t gpa = 0;

	(void)state;
	boot_file_mem(&f, img, IMAGE_LEN);
	ram_make(&mem, 40 * GiB, 0);
	assert_int_equal(arch_kernel_check(&mem, 40 * GiB, &f, &k, &err), 0);
	/* The window is 32 GiB from the kernel's 1 GiB aligned base, 2 GiB: it ends at 34 GiB. */
	assert_int_equal(arch_initrd_place(k, &mem, 40 * GiB, 33 * GiB, &gpa, &err), -ENOMEM);
	assert_int_equal(err.bound, VM_INITRD_BOUND_LOWMEM);
	assert_int_equal(err.limit, 34 * GiB);
	arch_kernel_free(k);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kernel_check_refuses_x86_bzimage_in_words),
		cmocka_unit_test(kernel_check_needs_room_for_the_device_tree),
		cmocka_unit_test(kernel_load_places_the_image_and_the_initrd),
		cmocka_unit_test(initrd_too_big_for_ram_names_the_ram_bound),
		cmocka_unit_test(initrd_past_the_boot_window_cannot_be_helped_by_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

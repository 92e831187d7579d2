/* SPDX-License-Identifier: MIT */
/* Test fixture for the x86 loader tests: the loader over images in memory, and synthetic bzImages and ELFs. */
#ifndef VMM_X86_TEST_KERNEL_H
#define VMM_X86_TEST_KERNEL_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#include "x86_test_guest.h"

/* x86_kernel_load and x86_kernel_check over an image in memory, with the head a file read gives them. */
int load(const struct gmem *mem, const void *img, size_t size, struct x86_kernel *k);
int check(const struct gmem *mem, const void *img, size_t size, struct x86_kernel *k);

/* A refusal: the -errno, and the reason the loader gives in k.fault. */
#define assert_refused(ret, k, err, want)                 \
	do {                                              \
		assert_int_equal((ret), (err));           \
		assert_int_equal((k).fault.kind, (want)); \
	} while (0)

/* A synthetic bzImage: its setup header, and a protected-mode part of pm_size bytes. */
struct bz_opts {
	unsigned int setup_sects;
	uint8_t hdr_end_byte;     /* second byte of the jump: header ends at 0x202 + this */
	struct x86_setup_header hdr;
	size_t pm_size;
};

/* A valid 2.15 bzImage that loads at 16 MiB, 64 KiB of protected-mode part. */
struct bz_opts bz_default(void);
/* Byte i of the protected-mode part bz_build writes. */
uint8_t pm_byte(size_t i);
/* Build the image into a malloc'd buffer; *size gets its length. */
uint8_t *bz_build(const struct bz_opts *o, size_t *size);
/* Build and load it into test_guest. */
int bz_load(const struct bz_opts *o, struct x86_kernel *k);

/* A synthetic ELF64 vmlinux: text at 16 MiB, a note, data + bss at 32 MiB. */
#define ELF_NPH 3

struct elf_img {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[ELF_NPH];
	uint8_t data[2][4096];
};

void elf_default(struct elf_img *e);
/* Load the first size bytes of e into test_guest. */
int elf_load(const struct elf_img *e, size_t size, struct x86_kernel *k);

#endif

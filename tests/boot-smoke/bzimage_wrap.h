/* SPDX-License-Identifier: MIT */
/* Synthetic bzImages for the kernel cache's tests: an ELF packed as a bzImage payload, with code at the 64-bit entry. */
#ifndef VMM_TEST_BZIMAGE_WRAP_H
#define VMM_TEST_BZIMAGE_WRAP_H

#include <stddef.h>
#include <stdint.h>

#include "boot_unpack.h"

/*
 * A bzImage (protocol 2.15, 64-bit entry) whose protected-mode part holds
 * code at its entry (offset 0x200: what a boot with --kernel-cache off runs)
 * and, as its payload, elf packed by kind (gzip, xz or zstd) followed by
 * Linux's size trailer (elf_len, le32). init_size is 1 MiB or more. The
 * payload's range in the file is *pay_off, *pay_len (may be NULL). Returns a
 * malloc'd image of *len bytes, or NULL.
 */
uint8_t *bzimage_wrap(enum boot_pack kind, const uint8_t *elf, size_t elf_len, const uint8_t *code, size_t code_len,
		      size_t *len, size_t *pay_off, size_t *pay_len);

/* The setup header field offsets the tests change. */
#define BZW_PAYLOAD_OFFSET 0x248
#define BZW_PAYLOAD_LENGTH 0x24C
#define BZW_INIT_SIZE      0x260
#define BZW_PM_OFF         0x400   /* setup_sects 1: the protected-mode part starts here */

#endif

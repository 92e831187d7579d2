/* SPDX-License-Identifier: MIT */
/* Names a file given as an arm64 kernel that is something else: an x86 kernel, a compressed stream, another format. */
#include <elf.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arm64_boot.h"

static bool has(const uint8_t *b, size_t len, size_t off, const char *magic, size_t n)
{
	return off <= len && n <= len - off && memcmp(b + off, magic, n) == 0;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static const char *elf_name(const uint8_t *b, size_t len)
{
	uint16_t machine;

	/* e_machine is at 18 in both ELF classes; a big-endian ELF is no kernel of ours either way. */
	if (len < 20 || b[EI_DATA] != ELFDATA2LSB)
		return "an ELF file for a big-endian machine";
	machine = le16(b + 18);
	switch (machine) {
	case EM_X86_64:  return "an x86-64 ELF vmlinux";
	case EM_386:     return "an ELF file for i386";
	case EM_AARCH64: return "an arm64 ELF vmlinux, not the Image the kernel build makes from it";
	case EM_ARM:     return "an ELF file for 32-bit Arm";
	case EM_RISCV:   return "an ELF file for RISC-V";
	default:         return "an ELF file for another machine";
	}
}

const char *arm64_kernel_identify(const void *head, size_t len)
{
	const uint8_t *b = head;

	if (has(b, len, 0, "\x7f" "ELF", 4))
		return elf_name(b, len);
	/* The x86 boot protocol's setup header signature; a bzImage is also a PE file ("MZ"). */
	if (has(b, len, 0x202, "HdrS", 4))
		return "an x86 bzImage";
	if (has(b, len, 0, "MZ", 2) && has(b, len, 4, "zimg", 4))
		return "an EFI zboot image whose payload is not gzip";
	if (has(b, len, 0x38, "RSC\x05", 4))
		return "a RISC-V Image";
	if (has(b, len, 0x24, "\x18\x28\x6f\x01", 4))
		return "a 32-bit Arm zImage";
	if (has(b, len, 0, "\x27\x05\x19\x56", 4))
		return "a U-Boot uImage";
	if (has(b, len, 0, "MZ", 2))
		return "a PE executable that is not an arm64 Image";
	if (has(b, len, 0, "\x1f\x8b", 2))
		return "gzip data that holds no arm64 Image";
	if (has(b, len, 0, "\xfd" "7zXZ", 5))
		return "xz-compressed data";
	if (has(b, len, 0, "\x28\xb5\x2f\xfd", 4))
		return "zstd-compressed data";
	if (has(b, len, 0, "BZh", 3))
		return "bzip2-compressed data";
	if (has(b, len, 0, "\x02\x21\x4c\x18", 4) || has(b, len, 0, "\x04\x22\x4d\x18", 4))
		return "lz4-compressed data";
	if (has(b, len, 0, "\x89LZO", 4))
		return "lzo-compressed data";
	if (has(b, len, 0, "\x5d\x00\x00", 3))
		return "lzma-compressed data";
	if (has(b, len, 0, "070701", 6) || has(b, len, 0, "070702", 6))
		return "a cpio archive (an initramfs?)";
	return NULL;
}

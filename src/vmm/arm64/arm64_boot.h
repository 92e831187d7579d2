/* SPDX-License-Identifier: MIT */
/* arm64 Linux boot: Image (or Image.gz) loading, and where the initrd and the device tree go in RAM. */
#ifndef VMM_ARM64_BOOT_H
#define VMM_ARM64_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "gmem.h"

/*
 * The arm64 boot protocol (Linux Documentation/arch/arm64/booting.rst): the
 * Image starts with a 64-byte header, all fields little-endian; the magic
 * "ARM\x64" sits at 0x38. The Image goes text_offset bytes above a 2 MiB
 * aligned base and owns image_size bytes from its start (its bss included);
 * x0 holds the device tree's address at entry, which is the Image's first
 * byte. The device tree is 8-byte aligned and at most 2 MiB. An initrd lies
 * wholly inside a 1 GiB aligned window of at most 32 GiB that also covers
 * the Image.
 */
#define ARM64_IMAGE_HDR_SIZE     64u
#define ARM64_IMAGE_MAGIC        0x644d5241u      /* "ARM\x64" read as a little-endian u32 */
#define ARM64_IMAGE_MAGIC_OFF    0x38u
#define ARM64_KIMG_ALIGN         0x200000ULL      /* the Image's base: 2 MiB aligned */
#define ARM64_DTB_MAX            0x200000ULL      /* the largest device tree the kernel maps */
#define ARM64_INITRD_WINDOW      (32ULL << 30)    /* ...of this size at most... */
#define ARM64_INITRD_WINDOW_ALIGN (1ULL << 30)    /* ...aligned so */

/* The flags field: bit 0 big-endian, bits 1-2 page size, bit 3 "anywhere in RAM". */
#define ARM64_IMAGE_FLAG_BE      0x1ULL
#define ARM64_IMAGE_FLAG_PAGE(f) (((f) >> 1) & 0x3u)
#define ARM64_IMAGE_FLAG_ANYWHERE 0x8ULL

/*
 * How much of the file's start the loader's caller puts in head: this much,
 * or the whole file when it is shorter. It holds every header the loader
 * reads to name a file that is not an arm64 Image (an x86 bzImage's is at
 * 0x202, an ELF's program headers follow its 64-byte header).
 */
#define ARM64_KERNEL_HEAD_MIN    4096u

/* The kernel parameters vmm adds on arm64: a panic resets the guest, so vmm ends with 123. */
#define ARM64_KERNEL_PARAMS      "panic=-1"
/* The arm64 kernel's COMMAND_LINE_SIZE, the NUL included. */
#define ARM64_CMDLINE_MAX        2048u

/*
 * Why the loader refused a file, in words that need no knowledge of arm64
 * to print: "FILE: <what> (<fix>)". what is empty when the refusal is the
 * plain -errno of reading the file (then print strerror).
 */
struct arm64_fault {
	char what[192];   /* e.g. "is an x86 bzImage; expected an arm64 Image" */
	const char *fix;  /* static, e.g. "give an arm64 Image, e.g. /boot/vmlinuz-*-arm64" */
};

/*
 * The loader takes a kernel file as the core hands it (struct boot_file,
 * untrusted): its head, the file's first min(size, BOOT_FILE_HEAD_MAX)
 * bytes, holds at least ARM64_KERNEL_HEAD_MIN of them where the file has
 * that many, read once, so what is checked is what is loaded.
 */
_Static_assert(BOOT_FILE_HEAD_MAX >= ARM64_KERNEL_HEAD_MIN, "a boot file's head holds the Image's first page");

/* The header fields, in host order. */
struct arm64_image_header {
	uint64_t text_offset;
	uint64_t image_size;
	uint64_t flags;
};

/* A kernel the loader accepted. */
struct arm64_kernel {
	uint64_t load_addr;     /* guest-physical: the Image's first byte, also its entry point */
	uint64_t image_size;    /* bytes from load_addr the kernel owns */
	uint64_t text_offset;
	unsigned int page_kib;  /* the kernel's page size in KiB: 4, 16 or 64; 0 if the Image does not say */
	bool gzip;              /* the file is a gzip stream holding the Image */
};

/*
 * Read the 64-byte header at hdr (len bytes available) into *h. Pure.
 * Returns 0; -ENOEXEC without the magic; -EINVAL when fewer than 64 bytes
 * are given, or the header cannot be a kernel's: image_size 0 (a kernel
 * older than Linux 3.17, whose header vmm cannot trust), text_offset not a
 * multiple of 4 KiB or not below 2 MiB, image_size not larger than the
 * header, or the two together past 4 GiB; -EPROTONOSUPPORT for a
 * big-endian kernel. fault (may be NULL) says which.
 */
int arm64_image_header_parse(const void *hdr, size_t len, struct arm64_image_header *h,
			     struct arm64_fault *fault);

/*
 * Name a file that is not an arm64 Image from its first len bytes, for a
 * refusal: "an x86 bzImage", "an x86-64 ELF vmlinux", "xz-compressed data",
 * an EFI zboot image... Returns a static phrase, or NULL when nothing is
 * recognised. Pure.
 */
const char *arm64_kernel_identify(const void *head, size_t len);

/*
 * Judge a kernel file: an arm64 Image, or a gzip stream holding one (only
 * its first 4 KiB are inflated, into a private buffer). The Image goes at
 * the start of the RAM region holding ARM64_RAM_BASE plus text_offset, and
 * all image_size bytes must lie in that region. Reads only the regions' gpa
 * and size (host may be NULL), and the file through f. Fills *out.
 * Returns 0; -ENOEXEC for a file that is no arm64 Image (fault names what it
 * is); -EINVAL or -EPROTONOSUPPORT as arm64_image_header_parse; -EINVAL for a
 * file cut short or a broken gzip header; -ENOMEM when it does not fit;
 * or f->read's -errno (fault->what empty).
 */
int arm64_kernel_check(const struct gmem *mem, const struct boot_file *f, struct arm64_kernel *out,
		       struct arm64_fault *fault);

/*
 * arm64_kernel_check, then copy the Image to out->load_addr: the file's
 * bytes, or the gzip stream's, up to image_size (anything past image_size
 * is no part of the kernel, e.g. a signature appended to the file).
 * Every check of arm64_kernel_check runs before the first byte is written.
 * What only the copy can find, a gzip stream that is corrupt or ends
 * inside the header's 64 bytes, or a read error, returns -EINVAL or -errno
 * with the load range partly written, never anything outside it.
 */
int arm64_kernel_load(const struct gmem *mem, const struct boot_file *f, struct arm64_kernel *out,
		      struct arm64_fault *fault);

/* Where the boot data goes. */
struct arm64_boot_place {
	uint64_t dtb_addr;      /* ARM64_DTB_MAX bytes reserved for the device tree: the top 2 MiB of RAM */
	uint64_t initrd_addr;   /* 0 without an initrd */
};

/*
 * Place the device tree and an initrd of initrd_size bytes (0 = none) for
 * kernel k: the device tree in the last ARM64_DTB_MAX bytes of k's RAM
 * region, the initrd page-aligned as high as it goes below the device tree
 * and the end of the initrd window (1 GiB aligned, 32 GiB, holding the
 * Image), above the kernel's image_size bytes. Reads only the regions' gpa
 * and size. Returns 0; -ENOMEM when RAM has no room (fault says how much
 * there is and is needed).
 */
int arm64_boot_place(const struct gmem *mem, const struct arm64_kernel *k, uint64_t initrd_size,
		     struct arm64_boot_place *out, struct arm64_fault *fault);

#endif

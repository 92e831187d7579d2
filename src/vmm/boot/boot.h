/* SPDX-License-Identifier: MIT */
/* Arch-neutral boot inputs: a kernel or initrd file as loaders read it, and the kernel command line's assembly. */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <stddef.h>
#include <stdint.h>

/*
 * How much of a kernel file's start the core reads before any loader judges
 * it: every header an arch's loader looks at (x86: a bzImage's setup header,
 * an ELF's file and program headers) must lie in these bytes. A real kernel
 * needs less than 1 KiB of them.
 */
#define BOOT_FILE_HEAD_MAX 65536u

/* The longest kernel command line vmm builds, in bytes with the NUL; a kernel's own limit may be lower. */
#define BOOT_CMDLINE_MAX 2048u

/*
 * A kernel or initrd file (untrusted) as a loader sees it. The headers come
 * from head alone, read once, so what is checked is what is loaded; the bytes
 * the headers point at (a bzImage's protected-mode part, ELF segments, an
 * initrd) are read straight into guest RAM with read, once the headers passed.
 */
struct boot_file {
	const void *head;   /* the file's first head_len bytes */
	size_t head_len;    /* min(size, BOOT_FILE_HEAD_MAX), or less; no more than size */
	uint64_t size;      /* the file's size */
	/*
	 * Copy len bytes at file offset off into dst: 0, or -errno, -ENODATA if
	 * the file ends first. Only called for ranges inside [0, size).
	 */
	int (*read)(const struct boot_file *f, void *dst, uint64_t len, uint64_t off);
	const void *ctx;    /* read's own: the image, a file descriptor */
	/*
	 * The file this one was unpacked from (a bzImage whose payload the host
	 * decompressed: docs/guest.md), whose headers the loader may still
	 * take what the unpacked file lacks from; NULL for a file given as it is.
	 */
	const struct boot_file *packed;
};

/*
 * A kernel's compressed payload, as its arch names it: bytes [off, off + len)
 * of the file, which unpack to at most max_out bytes.
 */
struct boot_payload {
	uint64_t off;
	uint64_t len;
	uint64_t max_out;
};

/* f over an image wholly in memory (size bytes at image); f keeps the pointer. */
void boot_file_mem(struct boot_file *f, const void *image, size_t size);

/*
 * Assemble the kernel command line into out (cap bytes incl. NUL; pass the
 * kernel's limit). user (NULL: none) is the user's line; vmm_params (may be
 * NULL or empty) are appended after the user's kernel parameters but before a
 * "--" token if the user line has one, so everything after "--" (init's argv)
 * stays last. Tokens split at blanks outside double quotes, as the kernel's
 * parser does. Returns the string length, -ENAMETOOLONG (and out "") if it
 * does not fit.
 */
int boot_cmdline_build(char *out, size_t cap, const char *user, const char *vmm_params);

#endif

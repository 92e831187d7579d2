/* SPDX-License-Identifier: MIT */
/* Streaming decompression of a range of a boot file (gzip, xz, zstd), and SHA-256 for naming what came out. */
#ifndef VMM_BOOT_UNPACK_H
#define VMM_BOOT_UNPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot.h"

/* The compressors a stream may come from, told by its first bytes. */
enum boot_pack {
	BOOT_PACK_NONE,     /* no compressor's magic */
	BOOT_PACK_GZIP,     /* 1F 8B */
	BOOT_PACK_XZ,       /* FD 37 7A 58 5A 00 */
	BOOT_PACK_ZSTD,     /* 28 B5 2F FD */
	BOOT_PACK_OTHER,    /* bzip2, lzma, lzo or lz4: known, not unpacked by vmm */
};

/* Which compressor made the stream whose first len bytes are p. Pure. */
enum boot_pack boot_pack_detect(const void *p, size_t len);

/* "gzip", "xz", "zstd", "bzip2, lzma, lzo or lz4", or "no known compressor". Static. */
const char *boot_pack_name(enum boot_pack kind);

struct boot_unpack;

/*
 * Start unpacking the kind stream in bytes [off, off + len) of f (inside
 * f->size). 0 and *out, -ENOMEM, -EINVAL (a decoder that will not start),
 * or -ENOTSUP for BOOT_PACK_NONE / BOOT_PACK_OTHER.
 */
int boot_unpack_open(enum boot_pack kind, const struct boot_file *f, uint64_t off, uint64_t len,
		     struct boot_unpack **out);

/*
 * Unpack up to len bytes into dst; *got says how many came out, fewer than
 * len only where the stream ended. Bytes after the stream's end in the range
 * are not read (Linux appends the unpacked size there). Returns 0; -EINVAL
 * for corrupt data, a failed check (CRC) or a stream cut short by the end
 * of the range; -ENOMEM; or f->read's -errno.
 */
int boot_unpack_read(struct boot_unpack *u, void *dst, uint64_t len, uint64_t *got);

/* Whether the stream has ended (and its checks passed). */
bool boot_unpack_ended(const struct boot_unpack *u);

/* Free the decoder; NULL is fine. */
void boot_unpack_close(struct boot_unpack *u);

/* FIPS 180-4 SHA-256, fed in pieces. */
struct boot_sha256 {
	uint32_t h[8];
	uint64_t bytes;
	uint8_t block[64];
	size_t fill;
};

#define BOOT_SHA256_LEN 32u

void boot_sha256_init(struct boot_sha256 *s);
void boot_sha256_update(struct boot_sha256 *s, const void *p, size_t len);
void boot_sha256_final(struct boot_sha256 *s, uint8_t digest[BOOT_SHA256_LEN]);

#endif

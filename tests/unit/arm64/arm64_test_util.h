/* SPDX-License-Identifier: MIT */
/* Helpers for the arm64 unit tests: fake Images, gzip streams and a guest RAM region at 2 GiB. */
#ifndef VMM_ARM64_TEST_UTIL_H
#define VMM_ARM64_TEST_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "arm64_boot.h"
#include "arm64_layout.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static inline void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A fake Image of len bytes (>= 64): header fields as given, body bytes (i * 7 + 3) & 0xff. Caller frees. */
static inline uint8_t *image_make(size_t len, uint64_t text_offset, uint64_t image_size, uint64_t flags)
{
	uint8_t *b = malloc(len);

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 7 + 3);
	memset(b, 0, ARM64_IMAGE_HDR_SIZE);
	b[0] = 'M';
	b[1] = 'Z';
	put_le64(b + 8, text_offset);
	put_le64(b + 16, image_size);
	put_le64(b + 24, flags);
	memcpy(b + ARM64_IMAGE_MAGIC_OFF, "ARM\x64", 4);
	return b;
}

/* Gzip len bytes at src (one member, as gzip(1) writes); *out_len is its size. Caller frees. */
static inline uint8_t *gzip_make(const uint8_t *src, size_t len, size_t *out_len)
{
	z_stream z;
	size_t cap = len + len / 100 + 1024;
	uint8_t *out = malloc(cap);

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	z.next_in = (Bytef *)src;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	*out_len = z.total_out;
	deflateEnd(&z);
	return out;
}

/* Guest RAM of size bytes at ARM64_RAM_BASE, zeroed; with host false, a layout only (host NULL). */
static inline void ram_make(struct gmem *mem, uint64_t size, int host)
{
	memset(mem, 0, sizeof(*mem));
	mem->nregions = 1;
	mem->regions[0].gpa = ARM64_RAM_BASE;
	mem->regions[0].size = size;
	mem->regions[0].host = host ? calloc(1, size) : NULL;
}

/* 1 if all of guest RAM is still zero. */
static inline int ram_untouched(const struct gmem *mem)
{
	const uint8_t *p = mem->regions[0].host;

	for (uint64_t i = 0; i < mem->regions[0].size; i++)
		if (p[i])
			return 0;
	return 1;
}

#endif

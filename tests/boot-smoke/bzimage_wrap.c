/* SPDX-License-Identifier: MIT */
/* Synthetic bzImages for the kernel cache's tests (see bzimage_wrap.h). */
#include <stdlib.h>
#include <string.h>

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "bzimage_wrap.h"

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Pack src by kind into a malloc'd buffer: its length, or 0. */
static size_t pack(enum boot_pack kind, const uint8_t *src, size_t n, uint8_t **out)
{
	size_t cap = n + n / 2 + 1024, len = 0;
	uint8_t *buf = malloc(cap);

	if (!buf)
		return 0;
	if (kind == BOOT_PACK_GZIP) {
		z_stream z = { 0 };

		if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK) {
			z.next_in = (Bytef *)src;
			z.avail_in = (uInt)n;
			z.next_out = buf;
			z.avail_out = (uInt)cap;
			if (deflate(&z, Z_FINISH) == Z_STREAM_END)
				len = z.total_out;
			deflateEnd(&z);
		}
	} else if (kind == BOOT_PACK_XZ) {
		if (lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, src, n, buf, &len, cap) != LZMA_OK)
			len = 0;
	} else if (kind == BOOT_PACK_ZSTD) {
		len = ZSTD_compress(buf, cap, src, n, 19);
		if (ZSTD_isError(len))
			len = 0;
	}
	if (len == 0)
		free(buf);
	else
		*out = buf;
	return len;
}

uint8_t *bzimage_wrap(enum boot_pack kind, const uint8_t *elf, size_t elf_len, const uint8_t *code, size_t code_len,
		      size_t *len, size_t *pay_off, size_t *pay_len)
{
	uint8_t *packed = NULL, *img;
	size_t plen = pack(kind, elf, elf_len, &packed);
	size_t code_end = 0x200 + code_len, poff = (code_end + 15) & ~(size_t)15;
	size_t pm_size, size;

	if (plen == 0)
		return NULL;
	pm_size = poff + plen + 4;
	size = BZW_PM_OFF + pm_size;
	img = calloc(1, size);
	if (!img) {
		free(packed);
		return NULL;
	}
	img[0x1F1] = 1;                               /* setup_sects */
	put32(img + 0x1F4, (uint32_t)(pm_size / 16)); /* syssize */
	put16(img + 0x1FE, 0xAA55);
	img[0x200] = 0xEB;                            /* jmp over the header, which ends at 0x26C */
	img[0x201] = 0x6A;
	memcpy(img + 0x202, "HdrS", 4);
	put16(img + 0x206, 0x020F);
	img[0x211] = 0x01;                            /* loadflags: LOADED_HIGH */
	put32(img + 0x22C, 0x7FFFFFFF);               /* initrd_addr_max */
	put32(img + 0x230, 0x200000);                 /* kernel_alignment */
	put16(img + 0x236, 0x01);                     /* xloadflags: XLF_KERNEL_64 */
	put32(img + 0x238, 2047);                     /* cmdline_size */
	put32(img + BZW_PAYLOAD_OFFSET, (uint32_t)poff);
	put32(img + BZW_PAYLOAD_LENGTH, (uint32_t)(plen + 4));
	put64(img + 0x258, 0x100000);                 /* pref_address */
	put32(img + BZW_INIT_SIZE, (uint32_t)(elf_len > pm_size ? elf_len : pm_size) + 0x100000);
	memcpy(img + BZW_PM_OFF + 0x200, code, code_len);
	memcpy(img + BZW_PM_OFF + poff, packed, plen);
	put32(img + BZW_PM_OFF + poff + plen, (uint32_t)elf_len);
	free(packed);
	*len = size;
	if (pay_off)
		*pay_off = BZW_PM_OFF + poff;
	if (pay_len)
		*pay_len = plen + 4;
	return img;
}

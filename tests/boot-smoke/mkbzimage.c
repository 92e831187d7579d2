/* SPDX-License-Identifier: MIT */
/* mkbzimage gzip|xz|zstd IN.elf OUT: wrap a tiny ELF guest (mkelf.py's) in a synthetic bzImage for the kernel cache's tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bzimage_wrap.h"

int main(int argc, char **argv)
{
	static uint8_t elf[1 << 20];
	enum boot_pack kind;
	uint64_t code_off, code_len;
	size_t n, len;
	uint8_t *img;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: mkbzimage gzip|xz|zstd IN.elf OUT\n");
		return 2;
	}
	kind = !strcmp(argv[1], "gzip") ? BOOT_PACK_GZIP : !strcmp(argv[1], "xz") ? BOOT_PACK_XZ
	       : !strcmp(argv[1], "zstd") ? BOOT_PACK_ZSTD : BOOT_PACK_NONE;
	f = fopen(argv[2], "rb");
	if (!f)
		return perror(argv[2]), 1;
	n = fread(elf, 1, sizeof(elf), f);
	fclose(f);
	/* The first program header's file range (mkelf.py writes one PT_LOAD): its code, run at the bzImage's entry. */
	if (n < 64 + 56)
		return fprintf(stderr, "%s: too short\n", argv[2]), 1;
	memcpy(&code_off, elf + 64 + 8, 8);
	memcpy(&code_len, elf + 64 + 32, 8);
	if (code_off > n || code_len > n - code_off)
		return fprintf(stderr, "%s: not mkelf.py's\n", argv[2]), 1;
	img = bzimage_wrap(kind, elf, n, elf + code_off, code_len, &len, NULL, NULL);
	if (!img)
		return fprintf(stderr, "mkbzimage: cannot pack with %s\n", argv[1]), 1;
	f = fopen(argv[3], "wb");
	if (!f || fwrite(img, 1, len, f) != len || fclose(f) != 0)
		return perror(argv[3]), 1;
	free(img);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* A boot file over an image in memory: what tests and fuzz targets hand a loader. */
#include <errno.h>
#include <string.h>

#include "boot.h"

static int mem_read(const struct boot_file *f, void *dst, uint64_t len, uint64_t off)
{
	if (off > f->size || len > f->size - off)
		return -ENODATA;
	memcpy(dst, (const uint8_t *)f->ctx + off, len);
	return 0;
}

void boot_file_mem(struct boot_file *f, const void *image, size_t size)
{
	f->head = image;
	f->head_len = size < BOOT_FILE_HEAD_MAX ? size : BOOT_FILE_HEAD_MAX;
	f->size = size;
	f->read = mem_read;
	f->ctx = image;
	f->packed = NULL;
}

/* SPDX-License-Identifier: MIT */
/* Streaming gunzip of a range of a kernel file, so an Image.gz inflates straight into guest RAM. */
#ifndef VMM_ARM64_GZIP_H
#define VMM_ARM64_GZIP_H

#include <stdbool.h>
#include <stdint.h>

#include <zlib.h>

#include "arm64_boot.h"

struct arm64_gunzip {
	z_stream z;
	const struct arm64_kernel_file *f;
	uint64_t off;       /* the next compressed byte to read from the file */
	uint64_t end;       /* one past the last compressed byte */
	bool ended;         /* the gzip stream ended (its CRC checked) */
	uint8_t in[32768];
};

/* Start inflating the gzip stream in bytes [off, off + len) of f. Returns 0, -ENOMEM or -EINVAL. */
int arm64_gunzip_begin(struct arm64_gunzip *g, const struct arm64_kernel_file *f, uint64_t off, uint64_t len);

/*
 * Inflate up to len bytes into dst; *got is how many came out, fewer than
 * len only where the stream ended. Returns 0; -EINVAL for a corrupt stream,
 * one cut short or a bad CRC; -ENOMEM; or f->read's -errno.
 */
int arm64_gunzip_read(struct arm64_gunzip *g, void *dst, uint64_t len, uint64_t *got);

/* Free zlib's state. Safe after a failed begin. */
void arm64_gunzip_end(struct arm64_gunzip *g);

#endif

/* SPDX-License-Identifier: MIT */
/* Streaming gunzip of a range of a kernel file (zlib), bounded by the caller's buffer. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "arm64_gzip.h"

/* windowBits 15 plus 16: zlib reads a gzip wrapper (and checks its CRC) instead of a zlib one. */
#define GUNZIP_WBITS (15 + 16)

int arm64_gunzip_begin(struct arm64_gunzip *g, const struct arm64_kernel_file *f, uint64_t off, uint64_t len)
{
	int r;

	memset(&g->z, 0, sizeof(g->z));
	g->f = f;
	g->off = off;
	g->end = off + len;
	g->ended = false;
	r = inflateInit2(&g->z, GUNZIP_WBITS);
	if (r == Z_OK)
		return 0;
	/* inflateEnd on a stream whose init failed is a harmless Z_STREAM_ERROR. */
	return r == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
}

/* Give zlib the next chunk of compressed bytes: 0, or -EINVAL when none are left, or f->read's -errno. */
static int gunzip_feed(struct arm64_gunzip *g)
{
	uint64_t n = g->end - g->off;
	int r;

	if (n == 0)
		return -EINVAL;   /* the stream needs more than the file holds: cut short */
	if (n > sizeof(g->in))
		n = sizeof(g->in);
	r = g->f->read(g->f, g->in, n, g->off);
	if (r < 0)
		return r;
	g->off += n;
	g->z.next_in = g->in;
	g->z.avail_in = (uInt)n;
	return 0;
}

int arm64_gunzip_read(struct arm64_gunzip *g, void *dst, uint64_t len, uint64_t *got)
{
	uint64_t done = 0;
	int r = 0;

	while (done < len && !g->ended) {
		uint64_t want = len - done;

		if (g->z.avail_in == 0) {
			r = gunzip_feed(g);
			if (r < 0)
				break;
		}
		g->z.next_out = (Bytef *)dst + done;
		g->z.avail_out = want > UINT_MAX ? UINT_MAX : (uInt)want;
		r = inflate(&g->z, Z_NO_FLUSH);
		done += (want > UINT_MAX ? UINT_MAX : want) - g->z.avail_out;
		if (r == Z_STREAM_END) {
			g->ended = true;
			r = 0;
		} else if (r == Z_MEM_ERROR) {
			r = -ENOMEM;
			break;
		} else if (r == Z_BUF_ERROR && g->z.avail_in == 0) {
			r = 0;   /* no progress only for want of input: feed more */
		} else if (r != Z_OK) {
			r = -EINVAL;   /* Z_DATA_ERROR (corrupt, bad CRC), Z_NEED_DICT, Z_STREAM_ERROR */
			break;
		}
	}
	*got = done;
	return r < 0 ? r : 0;
}

void arm64_gunzip_end(struct arm64_gunzip *g)
{
	inflateEnd(&g->z);
}

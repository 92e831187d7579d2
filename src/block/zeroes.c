/* SPDX-License-Identifier: MIT */
/* The steps of a WRITE_ZEROES request, shared by the io_uring and synchronous backends (blk_internal.h). */
#include <errno.h>
#include <linux/falloc.h>

#include "blk_internal.h"

/*
 * The source of every WRITE step, in every backend. Never written: its pages
 * are the kernel's shared zero page when read, so it costs next to no memory.
 */
static uint8_t zero_buf[BLK_ZERO_CHUNK] __attribute__((aligned(BLK_ZERO_ALIGN)));

int blk_zero_step_mode(enum blk_zero_step step)
{
	switch (step) {
	case BLK_ZERO_RANGE:
		return FALLOC_FL_ZERO_RANGE;
	case BLK_ZERO_PUNCH:
		return FALLOC_FL_PUNCH_HOLE;
	default:
		return 0;
	}
}

/* req's range can be written from zero_buf: under O_DIRECT every chunk must be aligned for g. */
static bool zero_write_ok(const struct blk_geom *g, const struct blk_req *req)
{
	if (req->len == 0 || req->offset > UINT64_MAX - req->len)
		return false;
	if (!g->direct)
		return true;
	return g->mem_align <= BLK_ZERO_ALIGN && g->off_align <= BLK_ZERO_CHUNK &&
	       !((req->offset | req->len) & (g->off_align - 1));
}

enum blk_zero_step blk_zero_step_first(const struct blk_zero_host *h, const struct blk_geom *g,
				       const struct blk_req *req)
{
	if (h->no_punch && zero_write_ok(g, req))
		return BLK_ZERO_WRITE;
	return h->no_zero_range ? BLK_ZERO_PUNCH : BLK_ZERO_RANGE;
}

enum blk_zero_step blk_zero_step_next(enum blk_zero_step step, int *res, uint64_t *done, const struct blk_req *req,
				      const struct blk_geom *g, struct blk_zero_host *h)
{
	switch (step) {
	case BLK_ZERO_RANGE:
		if (*res == -EOPNOTSUPP) {
			h->no_zero_range = true;
			return BLK_ZERO_PUNCH;
		}
		break;
	case BLK_ZERO_PUNCH:
		if (*res == -EOPNOTSUPP) {
			h->no_punch = true;
			if (zero_write_ok(g, req)) {
				*res = 0;
				*done = 0;
				return BLK_ZERO_WRITE;
			}
			break;
		}
		if (*res == 0 && !req->unmap)
			return BLK_ZERO_ALLOC;
		break;
	case BLK_ZERO_ALLOC:
		if (*res == -EOPNOTSUPP)
			*res = 0;
		break;
	case BLK_ZERO_WRITE:
		if (*res < 0)
			break;
		if (*res == 0) {
			/* No progress: retrying would spin. */
			*res = -EIO;
			break;
		}
		*done += (uint64_t)*res;
		*res = 0;
		if (*done < req->len)
			return BLK_ZERO_WRITE;
		break;
	case BLK_ZERO_SYNC:
	case BLK_ZERO_DONE:
		return BLK_ZERO_DONE;
	}
	return *res == 0 && req->durable ? BLK_ZERO_SYNC : BLK_ZERO_DONE;
}

size_t blk_zero_chunk(const struct blk_req *req, uint64_t done, const void **buf)
{
	uint64_t left = done < req->len ? req->len - done : 0;

	*buf = zero_buf;
	return left < BLK_ZERO_CHUNK ? (size_t)left : BLK_ZERO_CHUNK;
}

/* SPDX-License-Identifier: MIT */
/* The steps of a WRITE_ZEROES request, shared by the io_uring and synchronous backends (blk_internal.h). */
#include <errno.h>
#include <linux/falloc.h>

#include "blk_internal.h"

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

enum blk_zero_step blk_zero_step_first(bool no_zero_range)
{
	return no_zero_range ? BLK_ZERO_PUNCH : BLK_ZERO_RANGE;
}

enum blk_zero_step blk_zero_step_next(enum blk_zero_step step, int *res, const struct blk_req *req,
				      bool *no_zero_range)
{
	switch (step) {
	case BLK_ZERO_RANGE:
		if (*res == -EOPNOTSUPP) {
			*no_zero_range = true;
			return BLK_ZERO_PUNCH;
		}
		break;
	case BLK_ZERO_PUNCH:
		if (*res == 0 && !req->unmap)
			return BLK_ZERO_ALLOC;
		break;
	case BLK_ZERO_ALLOC:
		if (*res == -EOPNOTSUPP)
			*res = 0;
		break;
	case BLK_ZERO_SYNC:
	case BLK_ZERO_DONE:
		return BLK_ZERO_DONE;
	}
	return *res == 0 && req->durable ? BLK_ZERO_SYNC : BLK_ZERO_DONE;
}

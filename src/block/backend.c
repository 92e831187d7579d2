/* SPDX-License-Identifier: MIT */
/* Which engine runs a drive: the overlay engine for a sparse snapshot, else io_uring, else the synchronous engine. */
#include <errno.h>

#include "blk_internal.h"
#include "overlay_internal.h"

int blk_file_backend_create(const struct blk_image *img, unsigned int queue_depth,
			    blk_complete_fn complete, void *ctx, struct blk_backend **out)
{
	int r = blk_uring_create(img, queue_depth, complete, ctx, out);

	/* Where io_uring is unavailable or disabled, the synchronous engine keeps the drive usable. */
	if (r == -ENOSYS || r == -EPERM)
		r = blk_sync_create(img, queue_depth, complete, ctx, out);
	return r;
}

int blk_backend_create(const struct blk_image *img, unsigned int queue_depth,
		       blk_complete_fn complete, void *ctx, struct blk_backend **out)
{
	if (img && img->overlay && !img->overlay->reflink)
		return blk_overlay_engine_create(img, queue_depth, complete, ctx, out);
	return blk_file_backend_create(img, queue_depth, complete, ctx, out);
}

struct blk_cache_props blk_image_cache_props(const struct blk_image *img)
{
	struct blk_cache_props p = blk_cache_mode_props(img->cache);

	if (img->overlay)
		p.flush_noop = true;
	return p;
}

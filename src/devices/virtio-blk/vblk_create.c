/* SPDX-License-Identifier: MIT */
/* vblk_create: the one place the device calls into src/block (cache-mode row, backend), so tests can inject a fake. */
#include <errno.h>

#include "vblk_internal.h"

int vblk_create(const struct vblk_params *p, const struct gmem *mem, struct vblk_dev **out)
{
	if (!p || !p->image)
		return -EINVAL;

	struct blk_cache_props props = blk_image_cache_props(p->image);
	struct vblk_dev *dev;
	struct blk_backend *be;
	int r = vblk_dev_alloc(p, mem, &props, &dev);

	if (r < 0)
		return r;
	r = blk_backend_create(p->image, dev->queue_size, vblk_backend_complete, dev, &be);
	if (r < 0)
		goto free_dev;
	vblk_dev_attach(dev, be);
	*out = dev;
	return 0;

free_dev:
	vblk_dev_free(dev);
	return r;
}

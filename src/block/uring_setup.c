/* SPDX-License-Identifier: MIT */
/* The io_uring block backend's set-up: the ring with the cheapest flags the kernel takes, its registered file and eventfd, and the memory behind them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "uring_internal.h"

void uring_free(struct blk_uring *u)
{
	for (unsigned int i = 0; u->slots && i < u->depth; i++) {
		if (u->slots[i].bounced)
			blk_bounce_release(&u->slots[i].bounce);
		free(u->slots[i].rest);
	}
	free(u->slots);
	free(u->free_slots);
	free(u);
}

/* Set the ring up with the cheapest flags this kernel takes, falling back to none. */
static int uring_ring_init(struct blk_uring *u)
{
	static const unsigned int tries[] = {
		/*
		 * One thread drives the ring; COOP_TASKRUN spares it an IPI per
		 * completion and TASKRUN_FLAG lets peek know when to enter. R_DISABLED
		 * defers picking the single issuer to the first kick, which runs on the
		 * device's I/O thread rather than the thread that created us.
		 */
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_R_DISABLED | IORING_SETUP_COOP_TASKRUN |
			IORING_SETUP_TASKRUN_FLAG,
		IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
		0,
	};
	int ret = -EINVAL;

	for (unsigned int i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		p.flags = tries[i];
		ret = io_uring_queue_init_params(u->depth, &u->ring, &p);
		if (ret == 0) {
			u->need_enable = (tries[i] & IORING_SETUP_R_DISABLED) != 0;
			u->taskrun_flag = (tries[i] & IORING_SETUP_TASKRUN_FLAG) != 0;
			return 0;
		}
		if (ret != -EINVAL)
			return ret;
	}
	return ret;
}

int blk_uring_create(const struct blk_image *img, unsigned int queue_depth,
		     blk_complete_fn complete, void *ctx, struct blk_backend **out)
{
	struct blk_uring *u;
	int ret;

	if (!img || img->fd < 0 || !complete || !out || queue_depth == 0 || queue_depth > URING_MAX_DEPTH)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->depth = queue_depth;
	u->slots = calloc(queue_depth, sizeof(*u->slots));
	u->free_slots = calloc(queue_depth, sizeof(*u->free_slots));
	if (!u->slots || !u->free_slots) {
		ret = -ENOMEM;
		goto free_backend;
	}
	for (unsigned int i = 0; i < queue_depth; i++)
		u->free_slots[i] = queue_depth - 1 - i;
	u->nfree = queue_depth;
	blk_geom_init(&u->geom, img);

	u->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->efd < 0) {
		ret = -errno;
		goto free_backend;
	}
	ret = uring_ring_init(u);
	if (ret)
		goto close_eventfd;
	ret = io_uring_register_files(&u->ring, &img->fd, 1);
	if (ret)
		goto exit_ring;
	ret = io_uring_register_eventfd(&u->ring, u->efd);
	if (ret)
		goto exit_ring;

	u->be.ops = &uring_ops;
	u->be.complete = complete;
	u->be.complete_ctx = ctx;
	*out = &u->be;
	return 0;

exit_ring:
	io_uring_queue_exit(&u->ring);
close_eventfd:
	close(u->efd);
free_backend:
	uring_free(u);
	return ret;
}

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

/*
 * On a ring created disabled, before it is enabled: only the opcodes this
 * image's requests use (a read-only image: reads, and the FSYNC of a FLUSH),
 * and every request on the registered image (IOSQE_FIXED_FILE required), so
 * a hijacked I/O thread cannot have the ring open, read or write anything
 * else (docs/security.md). No register operation is allowed once the ring
 * runs. A ring created enabled (a kernel before 5.10) cannot be restricted.
 */
static int uring_ring_restrict(struct blk_uring *u, const struct blk_image *img)
{
	static const uint8_t ops_ro[] = { IORING_OP_READV, IORING_OP_FSYNC };
	static const uint8_t ops_rw[] = { IORING_OP_READV,  IORING_OP_WRITEV,    IORING_OP_WRITE,
					  IORING_OP_FSYNC, IORING_OP_FALLOCATE };
	const uint8_t *ops = img->readonly ? ops_ro : ops_rw;
	unsigned int nops = img->readonly ? sizeof(ops_ro) : sizeof(ops_rw);
	struct io_uring_restriction res[8];
	unsigned int n = 0;

	if (!u->need_enable)
		return 0;
	memset(res, 0, sizeof(res));
	for (unsigned int i = 0; i < nops; i++) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = ops[i];
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[n++].sqe_flags = IOSQE_FIXED_FILE;
	return io_uring_register_restrictions(&u->ring, res, n);
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
	ret = uring_ring_restrict(u, img);
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

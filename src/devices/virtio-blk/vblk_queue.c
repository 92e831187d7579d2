/* SPDX-License-Identifier: MIT */
/* The virtio-blk device model's request path: pop a chain, answer it at once or start it on the backend, finish it on the used ring. */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>

#include "vblk_internal.h"

/* Everything here runs with dev->lock held. */

static void req_free(struct vblk_dev *dev, struct vblk_req *req)
{
	req->next = dev->free_list;
	dev->free_list = req;
	dev->inflight--;
	if (dev->inflight == 0)
		pthread_cond_broadcast(&dev->idle);
}

static void req_finish(struct vblk_dev *dev, struct vblk_req *req, uint8_t status, uint32_t used_len)
{
	if (req->status) {
		*req->status = status;
	} else {
		used_len = 0;
	}
	if (status != VIRTIO_BLK_S_OK)
		vblk_stat_add(&dev->stats.errors, 1);
	virtq_push(&dev->vq, req->elem.head, used_len);
	dev->need_irq_check = true;
	req_free(dev, req);
}

void vblk_dev_signal_irq(struct vblk_dev *dev, uint32_t bits)
{
	vblk_stat_add(&dev->stats.interrupts, 1);
	virtio_mmio_raise_irq(&dev->mmio, bits);
	/* eventfd_write only fails on counter overflow, which means the interrupt is pending anyway. */
	(void)eventfd_write(dev->irq_fd, 1);
}

void vblk_dev_interrupt_locked(struct vblk_dev *dev)
{
	if (!dev->need_irq_check || !dev->active)
		return;
	dev->need_irq_check = false;
	if (virtq_should_notify(&dev->vq))
		vblk_dev_signal_irq(dev, VIRTIO_MMIO_INT_VRING);
}

/* Without a guest-visible write cache a completed write must already be stable (unsafe: never). */
static bool req_durable(const struct vblk_dev *dev)
{
	return !vblk_dev_wce(dev) && !dev->props.flush_noop;
}

static struct vblk_limits dev_limits(const struct vblk_dev *dev)
{
	return (struct vblk_limits){
		.capacity = dev->capacity,
		.readonly = dev->image->readonly,
		.discard = dev->features & (1ull << VIRTIO_BLK_F_DISCARD),
		.write_zeroes = dev->features & (1ull << VIRTIO_BLK_F_WRITE_ZEROES),
		.max_dwz_sectors = VBLK_MAX_DWZ_SECTORS,
		.max_dwz_seg = VBLK_MAX_DWZ_SEG,
		.max_data = VBLK_MAX_DATA,
	};
}

static void iov_fill(const struct iovec *iov, unsigned int n, const uint8_t *src, uint64_t len)
{
	for (unsigned int i = 0; i < n && len > 0; i++) {
		uint64_t take = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(iov[i].iov_base, src, take);
		src += take;
		len -= take;
	}
}

/* Answer at once what needs no backend: an IN/OUT without data, FLUSH under cache=unsafe, GET_ID. True when it did. */
static bool req_answer_now(struct vblk_dev *dev, struct vblk_req *req, const struct vblk_parsed *p)
{
	switch (p->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (p->data_len)
			return false;
		req_finish(dev, req, VIRTIO_BLK_S_OK, 1);
		return true;
	case VIRTIO_BLK_T_FLUSH:
		if (!dev->props.flush_noop)
			return false;
		vblk_stat_add(&dev->stats.flushes, 1);
		vblk_stat_add(&dev->stats.flushes_skipped, 1);
		req_finish(dev, req, VIRTIO_BLK_S_OK, 1);
		return true;
	case VIRTIO_BLK_T_GET_ID:
		iov_fill(p->iov, p->iovcnt, dev->serial, VBLK_ID_BYTES);
		req_finish(dev, req, VIRTIO_BLK_S_OK, VBLK_ID_BYTES + 1);
		return true;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return false;
	default:
		/* vblk_req_parse accepted it, so this cannot happen; fail safe. */
		req_finish(dev, req, VIRTIO_BLK_S_UNSUPP, 1);
		return true;
	}
}

/* Describe p (IN with data, OUT with data, FLUSH, DISCARD, WRITE_ZEROES) as req's backend request. */
static void req_describe(struct vblk_dev *dev, struct vblk_req *req, const struct vblk_parsed *p)
{
	struct blk_req *b = &req->breq;

	switch (p->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		b->op = p->type == VIRTIO_BLK_T_IN ? BLK_OP_READ : BLK_OP_WRITE;
		b->offset = p->offset;
		b->len = p->data_len;
		b->iov = req->iov;
		b->iovcnt = p->iovcnt;
		b->durable = p->type == VIRTIO_BLK_T_OUT && req_durable(dev);
		break;
	case VIRTIO_BLK_T_FLUSH:
		b->op = BLK_OP_FLUSH;
		break;
	default:
		b->op = p->type == VIRTIO_BLK_T_DISCARD ? BLK_OP_DISCARD : BLK_OP_WRITE_ZEROES;
		b->offset = p->offset;
		b->len = p->len;
		b->unmap = p->type == VIRTIO_BLK_T_WRITE_ZEROES && p->unmap;
		/* Zeroes are data the guest reads back; a discarded range has no contents to keep (as QEMU). */
		b->durable = p->type == VIRTIO_BLK_T_WRITE_ZEROES && req_durable(dev);
		break;
	}
}

/*
 * Hand req to the backend. 0 submitted; -EAGAIN backend full with requests in
 * flight (retry after a completion); other -errno: the request failed.
 */
static int req_submit(struct vblk_dev *dev, struct vblk_req *req)
{
	int r = blk_backend_submit(dev->be, &req->breq);

	if (r == 0) {
		dev->be_inflight++;
		req->submit_ns = vblk_sched_now_locked(dev);
		return 0;
	}
	/* -EAGAIN with nothing in flight would wait for a completion that never comes. */
	if (r == -EAGAIN && dev->be_inflight == 0)
		return -EIO;
	return r;
}

enum start_result { STARTED, DONE, BACKPRESSURE };

/* Turn a popped, good chain into a backend request or an immediate completion. */
static enum start_result req_start(struct vblk_dev *dev, struct vblk_req *req)
{
	struct vblk_limits lim = dev_limits(dev);
	struct vblk_parsed p;
	enum vblk_parse_err err = vblk_req_parse(&lim, &req->elem, req->iov, VIRTQ_ELEM_MAX_SEGS, &p);
	int r;

	req->status = p.status;
	req->type = p.type;
	if (err != VBLK_PARSE_OK) {
		req_finish(dev, req, vblk_req_parse_status(err), 1);
		return DONE;
	}
	memset(&req->breq, 0, sizeof(req->breq));
	req->breq.opaque = req;
	req->data_len = p.data_len;
	if (req_answer_now(dev, req, &p))
		return DONE;
	req_describe(dev, req, &p);
	r = req_submit(dev, req);
	if (r == -EAGAIN)
		return BACKPRESSURE;   /* counted when it is popped again */
	if (req->breq.op == BLK_OP_FLUSH)
		vblk_stat_add(&dev->stats.flushes, 1);
	if (r < 0) {
		req_finish(dev, req, VIRTIO_BLK_S_IOERR, 1);
		return DONE;
	}
	return STARTED;
}

/* Put req's chain back in the ring, untouched: the backend is full. */
static void req_unpop(struct vblk_dev *dev, struct vblk_req *req)
{
	virtq_unpop(&dev->vq);
	vblk_stat_add(&dev->stats.requests, (uint64_t)-1);
	dev->inflight--;
	req->next = dev->free_list;
	dev->free_list = req;
	dev->blocked = true;
	dev->resume = true;
}

struct vblk_round vblk_dev_pop_locked(struct vblk_dev *dev, unsigned int budget)
{
	struct vblk_round rd = { 0 };
	bool submitted = false;

	/* A broken ring was reported once (NEEDS_RESET); further kicks change nothing until a reset. */
	if (!vblk_dev_may_pop(dev))
		return rd;
	for (;;) {
		struct vblk_req *req = dev->free_list;

		if (rd.popped >= budget) {
			rd.capped = true;
			break;
		}
		if (!req) {
			/* A guest re-offering in-flight heads can outrun our slots; wait for a completion. */
			dev->blocked = true;
			dev->resume = true;
			break;
		}
		int r = virtq_pop(&dev->vq, &req->elem);

		if (r == 0) {
			rd.dry = true;
			break;
		}
		if (r == -EPROTO) {
			virtio_mmio_set_needs_reset(&dev->mmio);
			vblk_dev_signal_irq(dev, 0);
			break;
		}
		dev->free_list = req->next;
		dev->inflight++;
		req->generation = dev->generation;
		req->status = NULL;
		rd.popped++;
		vblk_stat_add(&dev->stats.requests, 1);
		if (r < 0) {
			/* Malformed chain: give it back unread so the driver is not left waiting. */
			vblk_stat_add(&dev->stats.errors, 1);
			virtq_push(&dev->vq, req->elem.head, 0);
			dev->need_irq_check = true;
			req_free(dev, req);
			continue;
		}
		enum start_result s = req_start(dev, req);

		if (s == BACKPRESSURE) {
			req_unpop(dev, req);
			rd.popped--;
			break;
		}
		if (s == STARTED)
			submitted = true;
	}
	rd.need_kick = submitted || dev->blocked;
	return rd;
}

bool vblk_dev_resume_due_locked(struct vblk_dev *dev)
{
	if (!dev->resume || dev->blocked)
		return false;
	dev->resume = false;
	return true;
}

/*
 * What the backend did instead of punching holes, copied into the device's
 * counters. On the I/O thread, the backend's own, so its counters are read
 * where they are written; stored whole for vblk_get_stats on other threads.
 */
static void stat_mirror_zeroing(struct vblk_dev *dev)
{
	struct blk_backend_counters c;

	blk_backend_counters_get(dev->be, &c);
	__atomic_store_n(&dev->stats.discards_ignored, c.discards_ignored, __ATOMIC_RELAXED);
	__atomic_store_n(&dev->stats.zeroes_written, c.zeroes_written, __ATOMIC_RELAXED);
}

/* The status of a backend request that completed with res, counted in the stats. */
static uint8_t req_result(struct vblk_dev *dev, const struct vblk_req *req, int res)
{
	const struct blk_req *breq = &req->breq;
	bool rw = breq->op == BLK_OP_READ || breq->op == BLK_OP_WRITE;
	/*
	 * A READ/WRITE's result is all of its bytes or -errno (blk_complete_fn):
	 * the backend resumed any short transfer. Any other count breaks that
	 * contract, and the request fails rather than report bytes never moved.
	 */
	bool ok = res >= 0 && (!rw || (uint64_t)res == breq->len);

	switch (breq->op) {
	case BLK_OP_READ:
		if (ok) {
			vblk_stat_add(&dev->stats.reads, 1);
			vblk_stat_add(&dev->stats.read_bytes, req->data_len);
		}
		break;
	case BLK_OP_WRITE:
		if (ok) {
			vblk_stat_add(&dev->stats.writes, 1);
			vblk_stat_add(&dev->stats.write_bytes, req->data_len);
			if (breq->durable)
				vblk_stat_add(&dev->stats.durable_writes, 1);
		}
		break;
	case BLK_OP_FLUSH:
		vblk_stat_add(&dev->stats.host_flushes, 1);
		/* Once a buffered flush failed, every later one does (flush_err). */
		ok = ok && !dev->flush_err;
		break;
	case BLK_OP_DISCARD:
		if (ok)
			vblk_stat_add(&dev->stats.discards, 1);
		stat_mirror_zeroing(dev);
		break;
	case BLK_OP_WRITE_ZEROES:
		if (ok)
			vblk_stat_add(&dev->stats.write_zeroes, 1);
		stat_mirror_zeroing(dev);
		break;
	}
	return ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
}

void vblk_backend_complete(void *ctx, struct blk_req *breq, int res)
{
	struct vblk_dev *dev = ctx;
	struct vblk_req *req = breq->opaque;
	uint8_t status;

	dev->be_inflight--;
	/*
	 * Kept even when the request itself is dropped below: the host's page
	 * cache outlives a reset. Only a failure the kernel reported of the
	 * write-back itself: -EAGAIN and -EINTR (an engine that gave up
	 * retrying) say the flush did not run, not that pages were lost.
	 */
	if (breq->op == BLK_OP_FLUSH && res < 0 && res != -EAGAIN && res != -EINTR && !dev->props.direct &&
	    !dev->flush_err)
		dev->flush_err = res;
	/* Any completion frees backend capacity: a queue stopped by back-pressure may go on. */
	dev->blocked = false;
	vblk_sched_backend_done_locked(dev, req->submit_ns);
	if (req->generation != dev->generation || !dev->active) {
		req_free(dev, req);   /* popped before a reset: the rings it came from are gone */
		return;
	}
	status = req_result(dev, req, res);
	/* The used length covers what the device wrote: a read's data, and the status byte. */
	req_finish(dev, req, status,
		   status == VIRTIO_BLK_S_OK && breq->op == BLK_OP_READ ? (uint32_t)req->data_len + 1 : 1);
}

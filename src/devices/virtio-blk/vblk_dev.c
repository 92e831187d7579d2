/* SPDX-License-Identifier: MIT */
/* The virtio-blk device: features, config space, queue processing, completions, the I/O thread and stats. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vblk_internal.h"

static uint64_t clock_ns(void)
{
	struct timespec ts;

	/* A vDSO read with a TSC clocksource; a syscall otherwise (see vblk_poll). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The clock, read at most once per processing round (dev->lock held): each read may be a syscall. */
static uint64_t round_now(struct vblk_dev *dev)
{
	if (!dev->now_ns)
		dev->now_ns = clock_ns();
	return dev->now_ns;
}

static void stat_add(struct vblk_dev *dev, uint64_t *field, uint64_t v)
{
	(void)dev;
	/* Relaxed: counters order nothing; readers only want each value whole. */
	__atomic_fetch_add(field, v, __ATOMIC_RELAXED);
}

static bool wce_get(const struct vblk_dev *dev)
{
	return __atomic_load_n(&dev->wce, __ATOMIC_RELAXED);
}

/* Without a guest-visible write cache a completed write must already be stable (unsafe: never). */
static bool req_durable(const struct vblk_dev *dev)
{
	return !wce_get(dev) && !dev->props.flush_noop;
}

/* ---- transport hooks (vCPU threads, mmio.lock held) ---- */

static void put_le(uint8_t *cfg, unsigned int off, uint64_t v, unsigned int size)
{
	for (unsigned int i = 0; i < size; i++)
		cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static void cfg_read(void *ctx, uint32_t off, void *data, unsigned int len)
{
	struct vblk_dev *dev = ctx;
	uint8_t cfg[VBLK_CFG_SIZE];
	uint32_t dwz_align = dev->image->logical_block / VBLK_SECTOR;

	/* Built on every read: only `writeback` changes, and this is not a hot path. */
	memset(cfg, 0, sizeof(cfg));
	put_le(cfg, VBLK_CFG_CAPACITY, dev->capacity, 8);
	put_le(cfg, VBLK_CFG_SIZE_MAX, VBLK_SIZE_MAX, 4);
	put_le(cfg, VBLK_CFG_SEG_MAX, VBLK_SEG_MAX, 4);
	put_le(cfg, VBLK_CFG_BLK_SIZE, dev->image->logical_block, 4);
	cfg[VBLK_CFG_WRITEBACK] = wce_get(dev);
	if (!dev->image->readonly) {
		put_le(cfg, VBLK_CFG_MAX_DISCARD_SECTORS, VBLK_MAX_DWZ_SECTORS, 4);
		put_le(cfg, VBLK_CFG_MAX_DISCARD_SEG, VBLK_MAX_DWZ_SEG, 4);
		put_le(cfg, VBLK_CFG_DISCARD_ALIGN, dwz_align ? dwz_align : 1, 4);
		put_le(cfg, VBLK_CFG_MAX_WZ_SECTORS, VBLK_MAX_DWZ_SECTORS, 4);
		put_le(cfg, VBLK_CFG_MAX_WZ_SEG, VBLK_MAX_DWZ_SEG, 4);
		/* A WRITE_ZEROES with the unmap flag may leave a hole (blk_internal.h, enum blk_zero_step). */
		cfg[VBLK_CFG_WZ_MAY_UNMAP] = 1;
	}
	/* The transport checked off + len <= VBLK_CFG_SIZE. */
	memcpy(data, cfg + off, len);
}

static void cfg_write(void *ctx, uint32_t off, const void *data, unsigned int len)
{
	struct vblk_dev *dev = ctx;

	/* Only `writeback` is writable, and only when CONFIG_WCE was negotiated (as QEMU does). */
	if (off != VBLK_CFG_WRITEBACK || len != 1)
		return;
	uint64_t features = virtio_mmio_features(&dev->mmio);

	if (!(features & (1ull << VIRTIO_BLK_F_CONFIG_WCE)))
		return;
	/* A driver that cannot flush cannot have a write cache (hook_features_ok). */
	if (!(features & (1ull << VIRTIO_BLK_F_FLUSH)))
		return;
	uint8_t v = *(const uint8_t *)data;

	__atomic_store_n(&dev->wce, v ? 1 : 0, __ATOMIC_RELAXED);
}

static void signal_irq(struct vblk_dev *dev, uint32_t bits)
{
	stat_add(dev, &dev->stats.interrupts, 1);
	virtio_mmio_raise_irq(&dev->mmio, bits);
	/* eventfd_write only fails on counter overflow, which means the interrupt is pending anyway. */
	(void)eventfd_write(dev->irq_fd, 1);
}

static void kick_io_thread(struct vblk_dev *dev)
{
	(void)eventfd_write(dev->notify_fd, 1);
}

static void hook_driver_ok(void *ctx, struct virtio_mmio *t)
{
	struct vblk_dev *dev = ctx;
	const struct virtio_mmio_queue *q = &t->queues[0];

	pthread_mutex_lock(&dev->lock);
	if (dev->active || !q->ready || !(__atomic_load_n(&t->status, __ATOMIC_RELAXED) & VIRTIO_STATUS_DRIVER_OK))
		goto out_unlock;
	uint64_t features = virtio_mmio_features(t);

	if (virtq_init(&dev->vq, dev->mem, q->num, q->desc, q->driver, q->device, features) < 0) {
		/* Rings outside RAM or a bad size: the guest has to reset the device. */
		virtio_mmio_set_needs_reset(t);
		signal_irq(dev, 0);
		goto out_unlock;
	}
	virtq_set_max_segs(&dev->vq, VBLK_SEG_MAX + 2);
	dev->features = features;
	dev->active = true;
	dev->blocked = false;
	/* Buffers made available before DRIVER_OK had their kicks ignored; look now. */
	kick_io_thread(dev);
out_unlock:
	pthread_mutex_unlock(&dev->lock);
}

/*
 * A driver that did not take FLUSH can never flush, so its writes must be
 * durable as they complete: the write cache is off, whatever the mode
 * (virtio 1.x, 5.2.5.2: with CONFIG_WCE but not FLUSH negotiated, the
 * device initialises `writeback` to 0). Set here, at FEATURES_OK, because
 * the driver reads `writeback` before DRIVER_OK; cfg_write keeps it at 0.
 * A driver without CONFIG_WCE takes FLUSH as the sign of a write cache, as
 * Linux does; QEMU also turns the cache on for such a driver, but here the
 * mode's setting is the most the guest gets.
 */
static int hook_features_ok(void *ctx, uint64_t features)
{
	struct vblk_dev *dev = ctx;

	if (!(features & (1ull << VIRTIO_BLK_F_FLUSH)))
		__atomic_store_n(&dev->wce, 0, __ATOMIC_RELAXED);
	return 0;
}

static void req_free(struct vblk_dev *dev, struct vblk_req *req)
{
	req->next = dev->free_list;
	dev->free_list = req;
	dev->inflight--;
	if (dev->inflight == 0)
		pthread_cond_broadcast(&dev->idle);
}

static void hook_reset(void *ctx)
{
	struct vblk_dev *dev = ctx;

	pthread_mutex_lock(&dev->lock);
	dev->active = false;
	dev->blocked = false;
	dev->resume = false;
	/* Requests popped before the reset must not reach the (new) rings: their results are dropped. */
	dev->generation++;
	/*
	 * Requests inside the backend may still write into guest RAM, which the
	 * driver reuses after a reset; with an I/O thread to reap them, wait.
	 * Without one (unit tests) nobody else can complete them.
	 */
	while (dev->thread_running && dev->inflight > 0)
		pthread_cond_wait(&dev->idle, &dev->lock);
	dev->need_irq_check = false;
	dev->kicks_off = false;   /* the rings they concerned are gone */
	dev->parked_until_ns = 0;
	dev->streaming = false;
	__atomic_store_n(&dev->wce, dev->props.wce ? 1 : 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&dev->lock);
}

static void hook_queue_notify(void *ctx, uint32_t queue)
{
	(void)queue;
	kick_io_thread(ctx);
}

static const struct virtio_mmio_ops vblk_mmio_ops = {
	.config_read = cfg_read,
	.config_write = cfg_write,
	.features_ok = hook_features_ok,
	.driver_ok = hook_driver_ok,
	.reset = hook_reset,
	.queue_notify = hook_queue_notify,
};

/* ---- request processing (dev->lock held) ---- */

static void req_finish(struct vblk_dev *dev, struct vblk_req *req, uint8_t status, uint32_t used_len)
{
	if (req->status) {
		*req->status = status;
	} else {
		used_len = 0;
	}
	if (status != VIRTIO_BLK_S_OK)
		stat_add(dev, &dev->stats.errors, 1);
	virtq_push(&dev->vq, req->elem.head, used_len);
	dev->need_irq_check = true;
	req_free(dev, req);
}

static void maybe_interrupt(struct vblk_dev *dev)
{
	if (!dev->need_irq_check || !dev->active)
		return;
	dev->need_irq_check = false;
	if (virtq_should_notify(&dev->vq))
		signal_irq(dev, VIRTIO_MMIO_INT_VRING);
}

/*
 * Hand the backend's queued requests to the host. A kick that fails (an
 * io_uring_submit that the kernel, short of memory, answers with -EAGAIN)
 * leaves them queued, and no guest kick need ever come for them: the I/O
 * thread tries again within VBLK_KICK_RETRY_NS (vblk_wake_by) until one goes.
 */
static int be_kick_locked(struct vblk_dev *dev)
{
	int r = blk_backend_kick(dev->be);

	dev->kick_owed = r < 0;
	return r;
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

/*
 * Hand req to the backend. 0 submitted; -EAGAIN backend full with requests in
 * flight (retry after a completion); other -errno: the request failed.
 */
static int req_submit(struct vblk_dev *dev, struct vblk_req *req)
{
	int r = blk_backend_submit(dev->be, &req->breq);

	if (r == 0) {
		dev->be_inflight++;
		req->submit_ns = round_now(dev);
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

	struct blk_req *b = &req->breq;

	memset(b, 0, sizeof(*b));
	b->opaque = req;
	req->data_len = p.data_len;

	switch (p.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (p.data_len == 0) {
			req_finish(dev, req, VIRTIO_BLK_S_OK, 1);
			return DONE;
		}
		b->op = p.type == VIRTIO_BLK_T_IN ? BLK_OP_READ : BLK_OP_WRITE;
		b->offset = p.offset;
		b->len = p.data_len;
		b->iov = req->iov;
		b->iovcnt = p.iovcnt;
		b->durable = p.type == VIRTIO_BLK_T_OUT && req_durable(dev);
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (dev->props.flush_noop) {
			stat_add(dev, &dev->stats.flushes, 1);
			stat_add(dev, &dev->stats.flushes_skipped, 1);
			req_finish(dev, req, VIRTIO_BLK_S_OK, 1);
			return DONE;
		}
		b->op = BLK_OP_FLUSH;
		break;
	case VIRTIO_BLK_T_GET_ID:
		iov_fill(p.iov, p.iovcnt, dev->serial, VBLK_ID_BYTES);
		req_finish(dev, req, VIRTIO_BLK_S_OK, VBLK_ID_BYTES + 1);
		return DONE;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		b->op = p.type == VIRTIO_BLK_T_DISCARD ? BLK_OP_DISCARD : BLK_OP_WRITE_ZEROES;
		b->offset = p.offset;
		b->len = p.len;
		b->unmap = p.type == VIRTIO_BLK_T_WRITE_ZEROES && p.unmap;
		/* Zeroes are data the guest reads back; a discarded range has no contents to keep (as QEMU). */
		b->durable = p.type == VIRTIO_BLK_T_WRITE_ZEROES && req_durable(dev);
		break;
	default:
		/* vblk_req_parse accepted it, so this cannot happen; fail safe. */
		req_finish(dev, req, VIRTIO_BLK_S_UNSUPP, 1);
		return DONE;
	}

	r = req_submit(dev, req);
	if (r == -EAGAIN)
		return BACKPRESSURE;   /* counted when it is popped again */
	if (b->op == BLK_OP_FLUSH)
		stat_add(dev, &dev->stats.flushes, 1);
	if (r < 0) {
		req_finish(dev, req, VIRTIO_BLK_S_IOERR, 1);
		return DONE;
	}
	return STARTED;
}

uint64_t vblk_park_window(uint64_t lat_ns)
{
	uint64_t w = lat_ns / 8;

	return w < VBLK_PARK_MIN_NS ? VBLK_PARK_MIN_NS : w > VBLK_PARK_MAX_NS ? VBLK_PARK_MAX_NS : w;
}

/*
 * The ring ran dry while requests are in the backend: leave guest kicks off
 * ("parked") instead of re-enabling them, and look at the ring whenever a
 * completion wakes the thread (process_completions_locked). Each kick costs
 * the guest a VM exit, and a guest that keeps many requests in flight adds
 * them one or two at a time, so with kicks on nearly every request cost one;
 * where exits are dear (nested virtualization, docs/benchmarks.md) they are
 * what limits the guest's I/O rate. A request made available meanwhile waits
 * for the next completion, and for no longer than the park window, 1/8 of
 * the backend's average latency within [VBLK_PARK_MIN_NS, VBLK_PARK_MAX_NS]:
 * then the I/O thread wakes by itself and looks (vblk_wake_by). That
 * bound matters when the requests in flight are slow ones, a long FLUSH or
 * DISCARD. Every look that finds the ring dry while the backend is still
 * busy parks again; once the backend is empty kicks go back on.
 *
 * Kicks are parked only while the guest streams (dev->streaming): it added
 * requests to a backend that was busy already, and no park window has run
 * out since with nothing new in the ring. A guest that fills the queue in
 * one go and then waits for all of it (lock-step batches, as the
 * device-model bench runs) adds nothing until its interrupt, so parking
 * would only buy it a timer wake-up per window (measured: a third more
 * device CPU per request, and a tenth fewer requests); its kicks stay on.
 * True when kicks are parked.
 */
static bool park_kicks(struct vblk_dev *dev)
{
	if (!dev->streaming || dev->be_inflight == 0)
		return false;
	dev->parked_until_ns = round_now(dev) + vblk_park_window(dev->lat_ns);
	virtq_notify_disable(&dev->vq);   /* without EVENT_IDX; with it, avail_event simply stays behind */
	dev->kicks_off = true;
	return true;
}

/* Pop and start what the guest made available, within the current round (its clock, dev->now_ns, stays). */
static int process_queue_round_locked(struct vblk_dev *dev)
{
	int popped = 0;
	bool submitted = false;
	bool was_busy = dev->be_inflight > 0;

	/* A broken ring was reported once (NEEDS_RESET); further kicks change nothing until a reset. */
	if (!dev->active || dev->blocked || dev->stopping || dev->vq.broken)
		return 0;
	for (;;) {
		struct vblk_req *req = dev->free_list;

		/*
		 * Requests that end at once (malformed, GET_ID, unsafe FLUSH) free
		 * their slot again, so a guest that keeps the ring topped up could
		 * hold the round, and the lock the vCPUs' reset needs, for as long as
		 * it likes. A round takes at most a ring's worth; the I/O thread
		 * comes straight back for the rest (round_capped).
		 */
		if ((unsigned int)popped >= dev->vq.size) {
			dev->round_capped = true;
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
			/*
			 * Re-check after re-enabling notifications, so a buffer added
			 * meanwhile is not stranded. Not while busy-polling: the poll
			 * loop looks at the ring itself, and re-enables (and re-checks)
			 * before the thread may sleep. Not while the backend is busy
			 * either, while the guest streams into it: kicks are parked
			 * (park_kicks).
			 */
			if (was_busy && popped > 0)
				dev->streaming = true;
			if (dev->polling || park_kicks(dev))
				break;
			dev->kicks_off = false;
			dev->parked_until_ns = 0;
			if (virtq_notify_enable(&dev->vq))
				continue;
			break;
		}
		if (r == -EPROTO) {
			virtio_mmio_set_needs_reset(&dev->mmio);
			signal_irq(dev, 0);
			break;
		}
		dev->free_list = req->next;
		dev->inflight++;
		req->generation = dev->generation;
		req->status = NULL;
		popped++;
		stat_add(dev, &dev->stats.requests, 1);
		if (r < 0) {
			/* Malformed chain: give it back unread so the driver is not left waiting. */
			stat_add(dev, &dev->stats.errors, 1);
			virtq_push(&dev->vq, req->elem.head, 0);
			dev->need_irq_check = true;
			req_free(dev, req);
			continue;
		}
		enum start_result s = req_start(dev, req);

		if (s == BACKPRESSURE) {
			virtq_unpop(&dev->vq);
			stat_add(dev, &dev->stats.requests, (uint64_t)-1);
			popped--;
			dev->inflight--;
			req->next = dev->free_list;
			dev->free_list = req;
			dev->blocked = true;
			dev->resume = true;
			break;
		}
		if (s == STARTED)
			submitted = true;
	}

	int ret = popped;

	if (submitted || dev->blocked) {
		/* One kick for the whole batch (and a full backend needs its queue handed over to drain). */
		int r = be_kick_locked(dev);

		if (r < 0)
			ret = r;
	}
	maybe_interrupt(dev);
	return ret;
}

/* The same, as a round of its own. */
static int process_queue_locked(struct vblk_dev *dev)
{
	dev->now_ns = 0;
	return process_queue_round_locked(dev);
}

int vblk_process_queue(struct vblk_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	int r = process_queue_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	return r;
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

void vblk_backend_complete(void *ctx, struct blk_req *breq, int res)
{
	struct vblk_dev *dev = ctx;
	struct vblk_req *req = breq->opaque;

	dev->be_inflight--;
	/* Kept even when the request itself is dropped below: the host's page cache outlives a reset. */
	if (breq->op == BLK_OP_FLUSH && res < 0 && !dev->props.direct && !dev->flush_err)
		dev->flush_err = res;
	/* Any completion frees backend capacity: a queue stopped by back-pressure may go on. */
	dev->blocked = false;
	/* Backend latency, into the moving average (weight 1/8) that sizes the park window. */
	dev->lat_ns += ((int64_t)(round_now(dev) - req->submit_ns) - (int64_t)dev->lat_ns) / 8;
	if (req->generation != dev->generation || !dev->active) {
		req_free(dev, req);   /* popped before a reset: the rings it came from are gone */
		return;
	}

	bool rw = breq->op == BLK_OP_READ || breq->op == BLK_OP_WRITE;
	uint8_t status = VIRTIO_BLK_S_OK;
	uint32_t used = 1;

	/*
	 * A READ/WRITE's result is all of its bytes or -errno (blk_complete_fn):
	 * the backend resumed any short transfer. Any other count breaks that
	 * contract, and the request fails rather than report bytes never moved.
	 */
	if (res < 0 || (rw && (uint64_t)res != breq->len))
		status = VIRTIO_BLK_S_IOERR;
	switch (breq->op) {
	case BLK_OP_READ:
		if (status == VIRTIO_BLK_S_OK) {
			stat_add(dev, &dev->stats.reads, 1);
			stat_add(dev, &dev->stats.read_bytes, req->data_len);
			used = (uint32_t)req->data_len + 1;
		}
		break;
	case BLK_OP_WRITE:
		if (status == VIRTIO_BLK_S_OK) {
			stat_add(dev, &dev->stats.writes, 1);
			stat_add(dev, &dev->stats.write_bytes, req->data_len);
			if (breq->durable)
				stat_add(dev, &dev->stats.durable_writes, 1);
		}
		break;
	case BLK_OP_FLUSH:
		stat_add(dev, &dev->stats.host_flushes, 1);
		if (dev->flush_err)
			status = VIRTIO_BLK_S_IOERR;
		break;
	case BLK_OP_DISCARD:
		if (status == VIRTIO_BLK_S_OK)
			stat_add(dev, &dev->stats.discards, 1);
		stat_mirror_zeroing(dev);
		break;
	case BLK_OP_WRITE_ZEROES:
		if (status == VIRTIO_BLK_S_OK)
			stat_add(dev, &dev->stats.write_zeroes, 1);
		stat_mirror_zeroing(dev);
		break;
	}
	req_finish(dev, req, status, used);
}

static bool kicks_rearm_locked(struct vblk_dev *dev);

static int process_completions_locked(struct vblk_dev *dev)
{
	dev->now_ns = 0;

	int n = blk_backend_poll(dev->be);

	/* poll queues a request's next step (a short transfer's rest, a WRITE_ZEROES step) and kicks it itself. */
	if (n < 0)
		dev->kick_owed = true;
	maybe_interrupt(dev);
	/*
	 * Chains left in the avail ring by back-pressure had their kick already;
	 * nobody will kick for them again, so pick them up here.
	 */
	if (dev->resume && !dev->blocked) {
		dev->resume = false;
		process_queue_round_locked(dev);
	} else if (dev->parked_until_ns) {
		/* Kicks are parked: the guest did not announce what it added meanwhile. */
		if (dev->be_inflight == 0)
			kicks_rearm_locked(dev);
		else if (dev->active && !dev->vq.broken && virtq_has_avail(&dev->vq))
			process_queue_round_locked(dev);
	}
	return n;
}

int vblk_process_completions(struct vblk_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	int r = process_completions_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	return r;
}

/* ---- busy-polling ---- */

uint64_t vblk_poll_window_next(uint64_t cur, uint64_t max, uint64_t waited_ns)
{
	if (max == 0)
		return 0;
	if (cur > max)
		cur = max;
	if (waited_ns <= cur)
		return cur;
	if (waited_ns > max) {
		cur /= 2;
		return cur < VBLK_POLL_START_NS ? 0 : cur;
	}
	if (cur < VBLK_POLL_START_NS)
		return max < VBLK_POLL_START_NS ? max : VBLK_POLL_START_NS;
	return cur > max / 2 ? max : cur * 2;
}

bool vblk_poll_wanted_locked(const struct vblk_dev *dev, bool guest_recent)
{
	if (!dev->poll_max_ns || !dev->active || dev->stopping || dev->vq.broken)
		return false;
	return dev->be_inflight > 0 || guest_recent;
}

bool vblk_poll_once_locked(struct vblk_dev *dev)
{
	bool found = false;

	/* A backend error is not work: treating it as such would spin for ever. */
	if (dev->be_inflight > 0 && blk_backend_poll_events(dev->be) > 0 &&
	    process_completions_locked(dev) > 0)
		found = true;
	if (dev->active && !dev->blocked && !dev->stopping && !dev->vq.broken &&
	    virtq_has_avail(&dev->vq) && process_queue_locked(dev) > 0)
		found = true;
	return found;
}

static void cpu_relax(void)
{
	/* Tells the core we are spinning: saves power and yields to a hyperthread sibling. */
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/*
 * Kicks back on if a poll left them off, and look once more (the enable
 * orders its store before that look): a buffer the guest added while kicks
 * were off would otherwise wait for a kick that never comes. True when that
 * look found work (and did it).
 */
static bool kicks_rearm_locked(struct vblk_dev *dev)
{
	if (!dev->kicks_off || (dev->parked_until_ns && dev->be_inflight > 0))
		return false;
	dev->kicks_off = false;
	dev->parked_until_ns = 0;
	return dev->active && !dev->vq.broken && virtq_notify_enable(&dev->vq) && process_queue_locked(dev) > 0;
}

bool vblk_poll(struct vblk_dev *dev, uint64_t window_ns)
{
	uint64_t deadline = clock_ns() + window_ns;
	bool found = false;

	pthread_mutex_lock(&dev->lock);
	/*
	 * Guest kicks off while we watch the ring ourselves: each would only
	 * cost the guest an exit and us a stale eventfd. (Under EVENT_IDX they
	 * are off already: avail_event stays where the last enable put it.)
	 */
	if (dev->active)
		virtq_notify_disable(&dev->vq);
	dev->polling = true;
	for (unsigned int looks = 1;; looks++) {
		if (!vblk_poll_wanted_locked(dev, true))
			break;
		found = vblk_poll_once_locked(dev);
		if (found)
			break;
		/* Dropped between looks so vCPU threads (register accesses, reset) are not held off. */
		pthread_mutex_unlock(&dev->lock);
		/*
		 * The clock only every VBLK_POLL_CLOCK_EVERY looks: where the
		 * clocksource is not the TSC (HPET in a nested or emulated host),
		 * each read is a syscall and an emulated device access, and reading
		 * it per look made polling cost more than it saved.
		 */
		bool expired = looks % VBLK_POLL_CLOCK_EVERY == 0 && clock_ns() >= deadline;

		if (!expired)
			cpu_relax();
		pthread_mutex_lock(&dev->lock);
		if (expired)
			break;
	}
	dev->polling = false;
	/*
	 * Work found: the thread will most likely poll again straight away, so
	 * kicks stay off (re-arming them here made the guest kick for every
	 * request of a QD1 stream the thread was polling for anyway). Otherwise
	 * the thread may sleep: kicks back on now.
	 */
	dev->kicks_off = true;
	if (!found)
		found = kicks_rearm_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	return found;
}

int vblk_park_expired_locked(struct vblk_dev *dev)
{
	/*
	 * A look that finds new requests parks again; one that finds none
	 * means the guest no longer streams, and kicks go back on. One that
	 * cannot run (backend full, broken ring) must not leave an expired
	 * deadline behind, or io_wait would return at once for ever: the
	 * re-arm before sleeping then turns kicks back on instead.
	 */
	dev->parked_until_ns = 0;
	dev->streaming = false;
	return process_queue_locked(dev);
}

uint64_t vblk_wake_by(struct vblk_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	uint64_t t = dev->parked_until_ns;

	if (dev->kick_owed) {
		uint64_t retry = clock_ns() + VBLK_KICK_RETRY_NS;

		if (!t || retry < t)
			t = retry;
	}
	pthread_mutex_unlock(&dev->lock);
	return t;
}

bool vblk_kicks_rearm(struct vblk_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	bool found = kicks_rearm_locked(dev);

	pthread_mutex_unlock(&dev->lock);
	return found;
}

/* ---- I/O thread ---- */

enum { EV_NOTIFY = 1, EV_BACKEND, EV_STOP };

/* Sleep until an event, or until parked kicks or a failed kick are due (vblk_wake_by). epoll_wait's result. */
static int io_wait(struct vblk_dev *dev, struct epoll_event *evs, int max)
{
	uint64_t until = vblk_wake_by(dev);

	if (!until)
		return epoll_wait(dev->epoll_fd, evs, max, -1);

	uint64_t now = clock_ns();
	uint64_t left = until > now ? until - now : 0;
	struct timespec ts = { .tv_sec = (time_t)(left / 1000000000u), .tv_nsec = (long)(left % 1000000000u) };
	int n = epoll_pwait2(dev->epoll_fd, evs, max, &ts, NULL);

	if (n < 0 && errno == ENOSYS)   /* before Linux 5.11: whole milliseconds, rounded up */
		n = epoll_wait(dev->epoll_fd, evs, max, (int)((left + 999999) / 1000000));
	return n;
}

static void *io_thread(void *arg)
{
	struct vblk_dev *dev = arg;
	bool stop = false;
	uint64_t window = 0;      /* busy-poll window for the next wait, ns (adaptive, <= poll_max_ns) */
	uint64_t wait_start = 0;  /* when the current wait for work began; 0: none begun */
	bool worked = false;      /* the last round did work for the guest */
	bool again = false;       /* the last round stopped at its cap with more in the ring */

	for (;;) {
		struct epoll_event evs[4];
		bool notify = again, comp = false, found = false;
		int reaped = 0, popped = 0;
		eventfd_t v;
		int n = 0;

		/* After a capped round there is work waiting: no poll, re-arm or sleep first. */
		if (!again) {
			if (!wait_start) {
				/* At most one poll per wait: a wake-up with nothing to do (stale eventfd, EINTR) goes back to sleep. */
				wait_start = clock_ns();
				pthread_mutex_lock(&dev->lock);
				bool want = window > 0 && vblk_poll_wanted_locked(dev, worked);

				pthread_mutex_unlock(&dev->lock);
				if (want)
					found = vblk_poll(dev, window);
			}
			if (!found && vblk_kicks_rearm(dev))
				found = true;
			if (!found)
				n = io_wait(dev, evs, 4);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* epoll on our own fds cannot fail otherwise; keep serving via the stop path. */
			n = 0;
		}
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case EV_NOTIFY:
				/* The count is how many QueueNotify writes KVM turned into signals since the last read. */
				if (eventfd_read(dev->notify_fd, &v) == 0)
					stat_add(dev, &dev->stats.kicks, v);
				notify = true;
				break;
			case EV_BACKEND:
				(void)eventfd_read(blk_backend_event_fd(dev->be), &v);
				comp = true;
				break;
			case EV_STOP:
				(void)eventfd_read(dev->stop_fd, &v);
				stop = true;
				break;
			}
		}
		pthread_mutex_lock(&dev->lock);
		if (dev->kick_owed)
			be_kick_locked(dev);
		if (comp)
			reaped = process_completions_locked(dev);
		if (notify) {
			popped = process_queue_locked(dev);
		} else if (!comp && dev->parked_until_ns && clock_ns() >= dev->parked_until_ns) {
			/* The park window is up (a completion would have looked already). */
			popped = vblk_park_expired_locked(dev);
		}
		bool done = stop && dev->inflight == 0;
		uint64_t max = dev->poll_max_ns;

		again = dev->round_capped;
		dev->round_capped = false;
		pthread_mutex_unlock(&dev->lock);
		if (done)
			break;
		worked = found || reaped > 0 || popped > 0;
		if (worked) {
			/* The wait is over: size the next window by how long this one took. */
			window = vblk_poll_window_next(window, max, clock_ns() - wait_start);
			wait_start = 0;
		}
	}
	return NULL;
}

static int epoll_add(int epfd, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int vblk_start(struct vblk_dev *dev)
{
	int r;

	if (dev->thread_running)
		return -EBUSY;
	dev->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (dev->epoll_fd < 0)
		return -errno;
	dev->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dev->stop_fd < 0) {
		r = -errno;
		goto close_epoll;
	}
	if ((r = epoll_add(dev->epoll_fd, dev->notify_fd, EV_NOTIFY)) < 0 ||
	    (r = epoll_add(dev->epoll_fd, blk_backend_event_fd(dev->be), EV_BACKEND)) < 0 ||
	    (r = epoll_add(dev->epoll_fd, dev->stop_fd, EV_STOP)) < 0)
		goto close_stop;
	pthread_mutex_lock(&dev->lock);
	dev->stopping = false;
	r = -pthread_create(&dev->thread, NULL, io_thread, dev);
	dev->thread_running = r == 0;
	pthread_mutex_unlock(&dev->lock);
	if (r < 0)
		goto close_stop;
	return 0;

close_stop:
	close(dev->stop_fd);
	dev->stop_fd = -1;
close_epoll:
	close(dev->epoll_fd);
	dev->epoll_fd = -1;
	return r;
}

int vblk_stop(struct vblk_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	/* Stop accepting: nothing more is popped; what is in flight still completes. */
	dev->stopping = true;
	bool running = dev->thread_running;
	pthread_mutex_unlock(&dev->lock);

	if (running) {
		(void)eventfd_write(dev->stop_fd, 1);
		pthread_join(dev->thread, NULL);
		pthread_mutex_lock(&dev->lock);
		dev->thread_running = false;
		pthread_mutex_unlock(&dev->lock);
		close(dev->stop_fd);
		close(dev->epoll_fd);
		dev->stop_fd = -1;
		dev->epoll_fd = -1;
	}
	/* The SIGTERM path: what the guest wrote reaches stable storage, except under cache=unsafe. */
	if (!dev->props.flush_noop && !dev->image->readonly && dev->image->fd >= 0) {
		stat_add(dev, &dev->stats.exit_flushes, 1);
		if (fdatasync(dev->image->fd) < 0)
			return -errno;
	}
	/* A flush failed earlier: what it should have written may be lost, whatever this one says. */
	return dev->flush_err;
}

/* ---- lifetime and the public interface ---- */

int vblk_notify_fd(const struct vblk_dev *dev)
{
	return dev->notify_fd;
}

int vblk_irq_fd(const struct vblk_dev *dev)
{
	return dev->irq_fd;
}

void vblk_mmio_read(struct vblk_dev *dev, uint64_t off, void *data, unsigned int len)
{
	virtio_mmio_read(&dev->mmio, off, data, len);
}

void vblk_mmio_write(struct vblk_dev *dev, uint64_t off, const void *data, unsigned int len)
{
	virtio_mmio_write(&dev->mmio, off, data, len);
}

void vblk_get_stats(const struct vblk_dev *dev, struct vblk_stats *out)
{
	const uint64_t *src = (const uint64_t *)&dev->stats;
	uint64_t *dst = (uint64_t *)out;

	/* struct vblk_stats is all uint64_t; each is read whole, the set is not a snapshot. */
	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

static uint64_t features_for(const struct blk_image *img)
{
	uint64_t f = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) |
		     (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_BLK_F_FLUSH) |
		     (1ull << VIRTIO_BLK_F_CONFIG_WCE) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
		     (1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE);

	/* GET_ID has no feature bit: it is always served. */
	if (img->readonly)
		f |= 1ull << VIRTIO_BLK_F_RO;
	else
		f |= (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

int vblk_dev_alloc(const struct vblk_params *p, const struct gmem *mem,
		   const struct blk_cache_props *props, struct vblk_dev **out)
{
	unsigned int qs = p->queue_size ? p->queue_size : VBLK_DEFAULT_QUEUE_SIZE;
	int r;

	if (!p->image || !mem || qs > VIRTQ_MAX_SIZE || (qs & (qs - 1)) != 0 ||
	    p->image->size % VBLK_SECTOR != 0 || p->image->logical_block < VBLK_SECTOR)
		return -EINVAL;

	struct vblk_dev *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return -ENOMEM;
	dev->mem = mem;
	dev->image = p->image;
	dev->props = *props;
	dev->queue_size = qs;
	/*
	 * Whole logical blocks only. With O_DIRECT the block is the host's
	 * alignment, and a partial last block could not be written without
	 * growing the image (bounce.c refuses that): the guest does not see it.
	 */
	dev->capacity = (p->image->size - p->image->size % p->image->logical_block) / VBLK_SECTOR;
	dev->offered = features_for(p->image);
	dev->wce = props->wce ? 1 : 0;
	dev->stop_fd = -1;
	dev->epoll_fd = -1;
	dev->poll_max_ns = p->poll_max_ns < 0 ? 0 : p->poll_max_ns ? (uint64_t)p->poll_max_ns : VBLK_POLL_MAX_NS_DEFAULT;
	/* NUL-padded, and not terminated when it is all 20 bytes: the GET_ID format. */
	if (p->serial)
		memcpy(dev->serial, p->serial, strnlen(p->serial, VBLK_ID_BYTES));

	dev->reqs = calloc(qs, sizeof(*dev->reqs));
	if (!dev->reqs) {
		r = -ENOMEM;
		goto free_dev;
	}
	for (unsigned int i = 0; i < qs; i++) {
		dev->reqs[i].dev = dev;
		dev->reqs[i].next = i + 1 < qs ? &dev->reqs[i + 1] : NULL;
	}
	dev->free_list = &dev->reqs[0];

	dev->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dev->notify_fd < 0) {
		r = -errno;
		goto free_reqs;
	}
	dev->irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dev->irq_fd < 0) {
		r = -errno;
		goto close_notify;
	}
	r = pthread_mutex_init(&dev->lock, NULL);
	if (r != 0) {
		r = -r;
		goto close_irq;
	}
	r = pthread_cond_init(&dev->idle, NULL);
	if (r != 0) {
		r = -r;
		goto destroy_lock;
	}
	r = virtio_mmio_init(&dev->mmio, VIRTIO_ID_BLOCK, dev->offered, 1, (uint16_t)qs,
			     VBLK_CFG_SIZE, &vblk_mmio_ops, dev);
	if (r < 0)
		goto destroy_cond;
	*out = dev;
	return 0;

destroy_cond:
	pthread_cond_destroy(&dev->idle);
destroy_lock:
	pthread_mutex_destroy(&dev->lock);
close_irq:
	close(dev->irq_fd);
close_notify:
	close(dev->notify_fd);
free_reqs:
	free(dev->reqs);
free_dev:
	free(dev);
	return r;
}

void vblk_dev_attach(struct vblk_dev *dev, struct blk_backend *be)
{
	dev->be = be;
}

void vblk_dev_free(struct vblk_dev *dev)
{
	virtio_mmio_destroy(&dev->mmio);
	pthread_cond_destroy(&dev->idle);
	pthread_mutex_destroy(&dev->lock);
	close(dev->irq_fd);
	close(dev->notify_fd);
	free(dev->reqs);
	free(dev);
}

int vblk_create_with_backend(const struct vblk_params *p, const struct gmem *mem,
			     const struct blk_cache_props *props, struct blk_backend *be,
			     struct vblk_dev **out)
{
	struct vblk_dev *dev;
	int r = vblk_dev_alloc(p, mem, props, &dev);

	if (r < 0)
		return r;
	be->complete = vblk_backend_complete;
	be->complete_ctx = dev;
	vblk_dev_attach(dev, be);
	*out = dev;
	return 0;
}

void vblk_destroy(struct vblk_dev *dev)
{
	if (!dev)
		return;
	if (dev->thread_running)
		(void)vblk_stop(dev);
	if (dev->be)
		blk_backend_destroy(dev->be);
	vblk_dev_free(dev);
}

/* SPDX-License-Identifier: MIT */
/* The virtio-blk device model's face: features, config space, the transport's hooks, lifetime, start and stop, stats. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vblk_internal.h"

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
	cfg[VBLK_CFG_WRITEBACK] = vblk_dev_wce(dev);
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
		vblk_dev_signal_irq(dev, 0);
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

static void hook_reset(void *ctx)
{
	struct vblk_dev *dev = ctx;

	pthread_mutex_lock(&dev->lock);
	dev->active = false;
	dev->blocked = false;
	dev->resume = false;
	/* Requests popped before the reset must not reach the (new) rings: their results are dropped. */
	dev->generation++;
	/* Those inside the backend may still write into guest RAM, which the driver reuses after a reset. */
	vblk_sched_reset_locked(dev);
	dev->need_irq_check = false;
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

int vblk_start(struct vblk_dev *dev)
{
	/* Serving (again, after a stop); the scheduler refuses a second thread. */
	pthread_mutex_lock(&dev->lock);
	dev->stopping = false;
	pthread_mutex_unlock(&dev->lock);
	return vblk_sched_thread_start(dev);
}

int vblk_stop(struct vblk_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	/* Stop accepting: nothing more is popped; what is in flight still completes. */
	dev->stopping = true;
	pthread_mutex_unlock(&dev->lock);
	vblk_sched_thread_stop(dev);
	/* The SIGTERM path: what the guest wrote reaches stable storage, except under cache=unsafe. */
	if (!dev->props.flush_noop && !dev->image->readonly && dev->image->fd >= 0) {
		vblk_stat_add(&dev->stats.exit_flushes, 1);
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

/* The eventfds, the lock and its condition of a new dev. 0 or -errno, with none of them left. */
static int dev_signals_init(struct vblk_dev *dev)
{
	int r;

	dev->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dev->notify_fd < 0)
		return -errno;
	dev->irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dev->irq_fd < 0) {
		r = -errno;
		goto close_notify;
	}
	r = -pthread_mutex_init(&dev->lock, NULL);
	if (r < 0)
		goto close_irq;
	r = -pthread_cond_init(&dev->idle, NULL);
	if (r < 0)
		goto destroy_lock;
	return 0;

destroy_lock:
	pthread_mutex_destroy(&dev->lock);
close_irq:
	close(dev->irq_fd);
close_notify:
	close(dev->notify_fd);
	return r;
}

static void dev_signals_fini(struct vblk_dev *dev)
{
	pthread_cond_destroy(&dev->idle);
	pthread_mutex_destroy(&dev->lock);
	close(dev->irq_fd);
	close(dev->notify_fd);
}

int vblk_dev_alloc(const struct vblk_params *p, const struct gmem *mem,
		   const struct blk_cache_props *props, struct vblk_dev **out)
{
	unsigned int qs = p->queue_size ? p->queue_size : VBLK_DEFAULT_QUEUE_SIZE;
	uint64_t poll_max = p->poll_max_ns < 0 ? 0
			    : p->poll_max_ns ? (uint64_t)p->poll_max_ns : VBLK_POLL_MAX_NS_DEFAULT;
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
	vblk_sched_init(&dev->sched, poll_max);
	dev->sched.thread_enter = p->thread_enter;
	dev->sched.thread_enter_ctx = p->thread_enter_ctx;
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
	r = dev_signals_init(dev);
	if (r < 0)
		goto free_reqs;
	r = virtio_mmio_init(&dev->mmio, VIRTIO_ID_BLOCK, dev->offered, 1, (uint16_t)qs,
			     VBLK_CFG_SIZE, &vblk_mmio_ops, dev);
	if (r < 0)
		goto fini_signals;
	*out = dev;
	return 0;

fini_signals:
	dev_signals_fini(dev);
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
	dev_signals_fini(dev);
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
	if (vblk_sched_thread_running(dev))
		(void)vblk_stop(dev);
	if (dev->be)
		blk_backend_destroy(dev->be);
	vblk_dev_free(dev);
}

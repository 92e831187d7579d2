/* SPDX-License-Identifier: MIT */
/* virtio-mmio register semantics: feature negotiation, queue setup, status and interrupt registers. */
#include "virtio_mmio.h"

#include <errno.h>
#include <string.h>

#include "virtqueue.h"

/*
 * Locking: vCPU threads come in through virtio_mmio_read/write and take
 * t->lock for the whole access. The device's I/O thread never takes t->lock;
 * the two fields it touches (interrupt_status and the NEEDS_RESET bit of
 * status) are accessed atomically everywhere.
 */

int virtio_mmio_init(struct virtio_mmio *t, uint32_t device_id, uint64_t device_features,
		     unsigned int nqueues, uint16_t queue_num_max, uint32_t config_size,
		     const struct virtio_mmio_ops *ops, void *ctx)
{
	if (nqueues == 0 || nqueues > VIRTIO_MMIO_MAX_QUEUES || queue_num_max == 0 ||
	    !(device_features & (1ull << VIRTIO_F_VERSION_1)) ||
	    config_size > 0x100 /* the window ends at 0x200 */)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	int r = pthread_mutex_init(&t->lock, NULL);
	if (r != 0)
		return -r;
	t->device_id = device_id;
	t->device_features = device_features;
	t->config_size = config_size;
	t->nqueues = nqueues;
	for (unsigned int i = 0; i < nqueues; i++)
		t->queues[i].num_max = queue_num_max;
	t->ops = ops;
	t->ctx = ctx;
	return 0;
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	pthread_mutex_destroy(&t->lock);
}

void virtio_mmio_raise_irq(struct virtio_mmio *t, uint32_t bits)
{
	/* Release: whatever the device published (used ring) precedes the bit the guest's handler reads. */
	__atomic_fetch_or(&t->interrupt_status, bits, __ATOMIC_RELEASE);
}

uint32_t virtio_mmio_irq_status(struct virtio_mmio *t)
{
	return __atomic_load_n(&t->interrupt_status, __ATOMIC_ACQUIRE);
}

void virtio_mmio_set_needs_reset(struct virtio_mmio *t)
{
	/* Relaxed: no other memory is published with this bit; the irq bit below is what the guest reads first. */
	__atomic_fetch_or(&t->status, VIRTIO_STATUS_NEEDS_RESET, __ATOMIC_RELAXED);
	__atomic_fetch_add(&t->config_generation, 1, __ATOMIC_RELAXED);
	virtio_mmio_raise_irq(t, VIRTIO_MMIO_INT_CONFIG);
}

uint64_t virtio_mmio_features(const struct virtio_mmio *t)
{
	return t->driver_features;
}

static struct virtio_mmio_queue *cur_queue(struct virtio_mmio *t)
{
	return t->queue_sel < t->nqueues ? &t->queues[t->queue_sel] : NULL;
}

static uint32_t status_load(struct virtio_mmio *t)
{
	return __atomic_load_n(&t->status, __ATOMIC_RELAXED);
}

static uint32_t reg_read(struct virtio_mmio *t, uint64_t off)
{
	struct virtio_mmio_queue *q = cur_queue(t);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return t->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (t->device_features_sel > 1)
			return 0;
		return (uint32_t)(t->device_features >> (32 * t->device_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? q->num_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return virtio_mmio_irq_status(t);
	case VIRTIO_MMIO_STATUS:
		return status_load(t);
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return __atomic_load_n(&t->config_generation, __ATOMIC_RELAXED);
	/* The spec makes the rest write-only; reading them returns 0 rather than stale state. */
	default:
		return 0;
	}
}

static void do_reset(struct virtio_mmio *t)
{
	/* The device quiesces first, so nothing uses the queue addresses we clear below. */
	if (t->ops && t->ops->reset)
		t->ops->reset(t->ctx);
	t->driver_features = 0;
	t->device_features_sel = 0;
	t->driver_features_sel = 0;
	t->queue_sel = 0;
	for (unsigned int i = 0; i < t->nqueues; i++) {
		uint16_t max = t->queues[i].num_max;

		memset(&t->queues[i], 0, sizeof(t->queues[i]));
		t->queues[i].num_max = max;
	}
	__atomic_store_n(&t->interrupt_status, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&t->status, 0, __ATOMIC_RELAXED);
}

static bool features_acceptable(struct virtio_mmio *t)
{
	uint64_t f = t->driver_features;

	if (!(f & (1ull << VIRTIO_F_VERSION_1)))
		return false;   /* modern only: a legacy driver gets FEATURES_OK refused */
	if (f & ~t->device_features)
		return false;   /* the driver accepted something we did not offer */
	if (t->ops && t->ops->features_ok && t->ops->features_ok(t->ctx, f) < 0)
		return false;
	return true;
}

static void status_write(struct virtio_mmio *t, uint32_t val)
{
	uint32_t old = status_load(t);

	if (val == 0) {
		do_reset(t);
		return;
	}
	/*
	 * Bits only accumulate until a reset: the driver must not clear one
	 * (virtio 1.2, 2.1.2), and a device that let it would go on serving
	 * rings and features the status no longer admits. The device owns
	 * NEEDS_RESET; the driver cannot set or clear it.
	 */
	val = (val & ~VIRTIO_STATUS_NEEDS_RESET) | old;
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		/* The driver reads Status back to learn that we refused. */
		if (!features_acceptable(t))
			val &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	/* DRIVER_OK without accepted features would run the device with nothing negotiated. */
	if (!(val & VIRTIO_STATUS_FEATURES_OK))
		val &= ~VIRTIO_STATUS_DRIVER_OK;
	/* An OR, not a store: NEEDS_RESET may be set by the I/O thread meanwhile. */
	__atomic_fetch_or(&t->status, val, __ATOMIC_RELAXED);
	if ((val & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) &&
	    t->ops && t->ops->driver_ok)
		t->ops->driver_ok(t->ctx, t);
}

static void set_half(uint64_t *v, bool high, uint32_t val)
{
	if (high)
		*v = (*v & 0xffffffffull) | ((uint64_t)val << 32);
	else
		*v = (*v & ~0xffffffffull) | val;
}

static void reg_write(struct virtio_mmio *t, uint64_t off, uint32_t val)
{
	struct virtio_mmio_queue *q = cur_queue(t);
	uint32_t status = status_load(t);
	/* The spec forbids changing a queue's setup while it is ready; ignore such writes. */
	bool q_writable = q && !q->ready;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		t->device_features_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		/* Features are fixed once FEATURES_OK is set. */
		if (!(status & VIRTIO_STATUS_FEATURES_OK) && t->driver_features_sel <= 1)
			set_half(&t->driver_features, t->driver_features_sel == 1, val);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		t->driver_features_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		t->queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (q_writable)
			q->num = val > q->num_max ? 0 : (uint16_t)val;   /* 0 makes activation fail */
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (!q)
			break;
		if (val == 1 && !q->ready) {
			q->ready = true;
			/* A queue readied after DRIVER_OK is activated now. */
			if ((status & VIRTIO_STATUS_DRIVER_OK) && t->ops && t->ops->driver_ok)
				t->ops->driver_ok(t->ctx, t);
		} else if (val == 0 && !(status & VIRTIO_STATUS_DRIVER_OK)) {
			/*
			 * Without VIRTIO_F_RING_RESET (not offered) a live queue
			 * cannot be stopped on its own: the device would go on
			 * serving the old rings while the driver set up new ones.
			 * Only a device reset stops it; after one (or before
			 * DRIVER_OK) the write is taken, as Linux's del_vq does.
			 */
			q->ready = false;
		}
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (val < t->nqueues && t->ops && t->ops->queue_notify)
			t->ops->queue_notify(t->ctx, val);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		__atomic_fetch_and(&t->interrupt_status, ~val, __ATOMIC_RELAXED);
		break;
	case VIRTIO_MMIO_STATUS:
		status_write(t, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (q_writable)
			set_half(&q->desc, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		if (q_writable)
			set_half(&q->driver, off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		if (q_writable)
			set_half(&q->device, off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, val);
		break;
	default:
		break;   /* read-only or unknown: ignored */
	}
}

static bool config_access_ok(const struct virtio_mmio *t, uint64_t off, unsigned int len)
{
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return false;
	if (off < VIRTIO_MMIO_CONFIG)
		return false;
	uint64_t coff = off - VIRTIO_MMIO_CONFIG;
	return coff <= t->config_size && len <= t->config_size - coff;
}

void virtio_mmio_read(struct virtio_mmio *t, uint64_t off, void *data, unsigned int len)
{
	if (len == 0)
		return;
	memset(data, 0, len);
	if (off >= VIRTIO_MMIO_CONFIG) {
		if (!config_access_ok(t, off, len) || !t->ops || !t->ops->config_read)
			return;
		pthread_mutex_lock(&t->lock);
		t->ops->config_read(t->ctx, (uint32_t)(off - VIRTIO_MMIO_CONFIG), data, len);
		pthread_mutex_unlock(&t->lock);
		return;
	}
	if (len != 4 || (off & 3) != 0)
		return;
	pthread_mutex_lock(&t->lock);
	uint32_t v = reg_read(t, off);
	pthread_mutex_unlock(&t->lock);
	memcpy(data, &v, 4);   /* x86 hosts and virtio-mmio registers are both little-endian */
}

void virtio_mmio_write(struct virtio_mmio *t, uint64_t off, const void *data, unsigned int len)
{
	if (off >= VIRTIO_MMIO_CONFIG) {
		if (!config_access_ok(t, off, len) || !t->ops || !t->ops->config_write)
			return;
		pthread_mutex_lock(&t->lock);
		t->ops->config_write(t->ctx, (uint32_t)(off - VIRTIO_MMIO_CONFIG), data, len);
		pthread_mutex_unlock(&t->lock);
		return;
	}
	if (len != 4 || (off & 3) != 0)
		return;
	uint32_t v;

	memcpy(&v, data, 4);
	pthread_mutex_lock(&t->lock);
	reg_write(t, off, v);
	pthread_mutex_unlock(&t->lock);
}

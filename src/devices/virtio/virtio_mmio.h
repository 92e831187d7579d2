/* SPDX-License-Identifier: MIT */
/* The virtio-mmio transport (version 2, modern only): register file and status machine, generic over devices. */
#ifndef VMM_VIRTIO_MMIO_H
#define VMM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Register offsets (virtio 1.x, 4.2.2). */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC 0x74726976   /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x554d4551   /* "QEMU": what Linux guests commonly see; any value works */

/* InterruptStatus bits. */
#define VIRTIO_MMIO_INT_VRING 1u
#define VIRTIO_MMIO_INT_CONFIG 2u

/* Device status bits (virtio 1.x, 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u

#define VIRTIO_MMIO_MAX_QUEUES 4

/* What the driver programmed for one queue. */
struct virtio_mmio_queue {
	uint16_t num_max;   /* offered by the device; 0: the queue does not exist */
	uint16_t num;
	bool ready;
	uint64_t desc;
	uint64_t driver;    /* avail ring */
	uint64_t device;    /* used ring */
};

struct virtio_mmio;

/*
 * Device hooks. All are called with the transport lock held, from the vCPU
 * thread doing the register access; a hook must not call back into the
 * transport's register functions (it may use virtio_mmio_raise_irq and
 * virtio_mmio_set_needs_reset, which are lock-free). Any hook may be NULL.
 */
struct virtio_mmio_ops {
	/* Read/write the device config space; off is relative to 0x100 and off + len is within config_size. */
	void (*config_read)(void *ctx, uint32_t off, void *data, unsigned int len);
	void (*config_write)(void *ctx, uint32_t off, const void *data, unsigned int len);
	/* Driver set FEATURES_OK with these features (a subset of the offer, VERSION_1 included). 0 to accept, -errno to refuse. */
	int (*features_ok)(void *ctx, uint64_t features);
	/* Driver set DRIVER_OK: start serving the ready queues (their setup is in the transport). */
	void (*driver_ok)(void *ctx, struct virtio_mmio *t);
	/* Driver wrote 0 to Status: stop using the queues and drop in-flight results; return when quiesced. */
	void (*reset)(void *ctx);
	/* Driver wrote QueueNotify (only when the VMM did not turn that into an ioeventfd). */
	void (*queue_notify)(void *ctx, uint32_t queue);
};

struct virtio_mmio {
	pthread_mutex_t lock;        /* serialises register accesses from vCPU threads */
	uint32_t device_id;
	uint64_t device_features;
	uint64_t driver_features;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	uint32_t status;
	uint32_t interrupt_status;   /* atomic: set by the I/O thread, cleared by InterruptACK */
	uint32_t config_generation;
	uint32_t config_size;
	unsigned int nqueues;
	struct virtio_mmio_queue queues[VIRTIO_MMIO_MAX_QUEUES];
	const struct virtio_mmio_ops *ops;
	void *ctx;
};

/*
 * Set t up for a device. device_features must include VIRTIO_F_VERSION_1.
 * nqueues queues of up to queue_num_max entries each. 0, or -EINVAL (bad
 * counts, no VERSION_1), or -errno from pthread_mutex_init.
 */
int virtio_mmio_init(struct virtio_mmio *t, uint32_t device_id, uint64_t device_features,
		     unsigned int nqueues, uint16_t queue_num_max, uint32_t config_size,
		     const struct virtio_mmio_ops *ops, void *ctx);
void virtio_mmio_destroy(struct virtio_mmio *t);

/*
 * Register access of len bytes at off (relative to the window). Thread-safe.
 * Registers below 0x100 take only aligned 4-byte accesses; anything else is
 * ignored and reads as zeros. Config space takes 1/2/4/8-byte accesses that
 * lie inside it.
 */
void virtio_mmio_read(struct virtio_mmio *t, uint64_t off, void *data, unsigned int len);
void virtio_mmio_write(struct virtio_mmio *t, uint64_t off, const void *data, unsigned int len);

/* OR bits into InterruptStatus. Lock-free, any thread; the caller then signals the interrupt line. */
void virtio_mmio_raise_irq(struct virtio_mmio *t, uint32_t bits);
/* Current InterruptStatus. Lock-free. */
uint32_t virtio_mmio_irq_status(struct virtio_mmio *t);

/*
 * Mark the device as needing a reset (e.g. a corrupt ring) and raise a
 * config interrupt. Lock-free; the caller then signals the interrupt line.
 */
void virtio_mmio_set_needs_reset(struct virtio_mmio *t);

/* Negotiated features; meaningful once FEATURES_OK is set. Call with the lock held or from a hook. */
uint64_t virtio_mmio_features(const struct virtio_mmio *t);

#endif

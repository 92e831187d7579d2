/* SPDX-License-Identifier: MIT */
/* A virtio-blk device on virtio-mmio, served by its own I/O thread: the interface the VMM sees. */
#ifndef VMM_VIRTIO_BLK_H
#define VMM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "blk_backend.h"
#include "gmem.h"

/* Size of one virtio-mmio register window. */
#define VBLK_MMIO_SIZE 0x200
/* Offset of QueueNotify in the window: the VMM registers notify_fd there as a 4-byte ioeventfd. */
#define VBLK_MMIO_QUEUE_NOTIFY 0x50

struct vblk_params {
	const struct blk_image *image;  /* opened by the caller, outlives the device */
	const char *serial;             /* GET_ID string (<= 20 bytes used), or NULL */
	unsigned int queue_size;        /* max virtqueue size offered (power of two) */
	/*
	 * Cap of the I/O thread's adaptive busy-poll window, in ns: after doing
	 * work it looks at the avail ring and the backend for up to this long
	 * before sleeping, which saves a thread wake-up per batch (see
	 * docs/benchmarks.md). 0: VBLK_POLL_MAX_NS_DEFAULT; negative: never poll.
	 */
	int64_t poll_max_ns;
	/*
	 * Called first thing on the I/O thread, before it touches the queue
	 * (the VMM confines the thread there: docs/security.md). Non-zero: the
	 * thread ends at once and serves nothing. NULL: nothing to call.
	 */
	int (*thread_enter)(void *ctx);
	void *thread_enter_ctx;
};

/* The busy-poll cap a zero poll_max_ns gets. */
#define VBLK_POLL_MAX_NS_DEFAULT 64000

/* Counters, read at exit for --stats. */
struct vblk_stats {
	uint64_t requests;
	uint64_t read_bytes;
	uint64_t write_bytes;
	uint64_t reads;
	uint64_t writes;
	uint64_t durable_writes;    /* writes made durable before they completed (guest write cache off) */
	uint64_t flushes;           /* FLUSH requests received from the guest */
	uint64_t host_flushes;      /* fdatasyncs sent to the host */
	uint64_t flushes_skipped;   /* FLUSHes completed without a syscall (cache=unsafe) */
	uint64_t exit_flushes;      /* fdatasyncs vblk_stop made (one per stop, none under cache=unsafe) */
	uint64_t discards;
	uint64_t write_zeroes;
	uint64_t discards_ignored;  /* of the discards, those the host could not punch: completed OK, data kept */
	uint64_t zeroes_written;    /* of the write_zeroes, those done by writing zeros (no fallocate on the host) */
	uint64_t errors;            /* requests completed with IOERR or UNSUPP */
	uint64_t kicks;             /* queue notifications the I/O thread read (the guest's, plus one at DRIVER_OK) */
	uint64_t interrupts;        /* interrupts sent to the guest (used buffers, config, needs-reset) */
};

struct vblk_dev;

/* 0 and *out, or -errno. mem must outlive the device. */
int vblk_create(const struct vblk_params *p, const struct gmem *mem, struct vblk_dev **out);

/* eventfd signalled by KVM on a QueueNotify write (ioeventfd at window + VBLK_MMIO_QUEUE_NOTIFY). */
int vblk_notify_fd(const struct vblk_dev *dev);
/* eventfd the device signals to interrupt the guest (the VMM binds it as an irqfd to the drive's GSI). */
int vblk_irq_fd(const struct vblk_dev *dev);

/* Register accesses from a vCPU thread; off is relative to the window. Thread-safe. */
void vblk_mmio_read(struct vblk_dev *dev, uint64_t off, void *data, unsigned int len);
void vblk_mmio_write(struct vblk_dev *dev, uint64_t off, const void *data, unsigned int len);

/* Start the I/O thread. 0 or -errno. */
int vblk_start(struct vblk_dev *dev);
/*
 * Stop the I/O thread once in-flight requests have completed; then, unless the
 * cache mode is unsafe, fdatasync the image so that what the guest wrote is
 * durable (the SIGTERM path). 0, or -errno from the final flush or, when an
 * earlier host flush of a buffered image failed, that flush's error.
 */
int vblk_stop(struct vblk_dev *dev);
void vblk_get_stats(const struct vblk_dev *dev, struct vblk_stats *out);
void vblk_destroy(struct vblk_dev *dev);

#endif

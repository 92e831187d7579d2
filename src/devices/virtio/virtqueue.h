/* SPDX-License-Identifier: MIT */
/* The device side of a virtio 1.x split virtqueue over guest memory regions, with every guest value checked. */
#ifndef VMM_VIRTQUEUE_H
#define VMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "gmem.h"

/* Descriptor flags (virtio 1.x, 2.7.5). */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

/* Transport-independent feature bits. */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* The largest queue a split ring can have. */
#define VIRTQ_MAX_SIZE 32768
/* Capacity of one element: the most buffers (segments) one chain may carry. */
#define VIRTQ_ELEM_MAX_SEGS 128

/* Ring layout as the guest sees it (little-endian, as virtio 1.x requires). */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];   /* [size], then used_event */
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];  /* [size], then avail_event */
};

/*
 * One popped chain. iov[0 .. out_num) are the device-readable buffers in chain
 * order, iov[out_num .. out_num + in_num) the device-writable ones; every iov
 * points into guest RAM and was checked to lie wholly inside it.
 */
struct virtq_elem {
	uint16_t head;
	unsigned int out_num;
	unsigned int in_num;
	uint64_t out_len;   /* sum of the readable lengths */
	uint64_t in_len;    /* sum of the writable lengths */
	struct iovec iov[VIRTQ_ELEM_MAX_SEGS];
};

struct virtq {
	const struct gmem *mem;
	uint16_t size;
	bool event_idx;          /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;           /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool broken;             /* the ring itself is corrupt: pop refuses until re-init */
	unsigned int max_segs;   /* <= VIRTQ_ELEM_MAX_SEGS */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail_idx; /* next avail ring slot to read */
	uint16_t used_idx;       /* our copy of used->idx (only the device writes it) */
	uint16_t signalled_used; /* used_idx when virtq_should_notify last ran */
	bool signalled_used_valid;
};

/*
 * Set vq up over the rings the driver placed at desc_gpa/avail_gpa/used_gpa.
 * features are the negotiated ones (EVENT_IDX and INDIRECT_DESC are read).
 * 0, -EINVAL when size is not a power of two in [1, VIRTQ_MAX_SIZE] or a ring
 * is misaligned (desc 16, avail 2, used 4 bytes), -EFAULT when a ring does not
 * lie wholly inside guest RAM. Both ring indices start at 0, as for a queue
 * just made ready.
 */
int virtq_init(struct virtq *vq, const struct gmem *mem, uint16_t size,
	       uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa, uint64_t features);

/* Limit chains to max_segs buffers (clamped to [1, VIRTQ_ELEM_MAX_SEGS]). */
void virtq_set_max_segs(struct virtq *vq, unsigned int max_segs);

/*
 * Take the next available chain into elem.
 *   1  popped: elem is complete.
 *   0  nothing available.
 *   -EPROTO  the ring is corrupt (avail idx more than size ahead, or a head
 *            index >= size): nothing was consumed, elem->head is not valid,
 *            and vq->broken is set; the device should ask for a reset.
 *   Malformed chain (the chain WAS consumed and elem->head is valid, so the
 *   device returns it with virtq_push(vq, elem->head, 0) and carries on):
 *   -EFAULT  a buffer or indirect table is not wholly inside guest RAM
 *   -EINVAL  a next index >= size (or >= table length), a readable buffer
 *            after a writable one, or a bad indirect descriptor (length not a
 *            non-zero multiple of 16, nested, INDIRECT together with NEXT, or
 *            INDIRECT_DESC not negotiated)
 *   -ELOOP   the chain is longer than the queue, or an indirect one longer than
 *            its table or max(queue size, max_segs): a loop, or a hostile walk
 *   -E2BIG   more than max_segs buffers
 */
int virtq_pop(struct virtq *vq, struct virtq_elem *elem);

/* Give back the chain popped last (for back-pressure): the next pop returns it again. */
void virtq_unpop(struct virtq *vq);

/* Return chain head to the driver with len bytes written into its writable buffers; publishes used->idx. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);

/*
 * Whether the driver wants an interrupt for the entries pushed since the last
 * call: with EVENT_IDX, whether used->idx moved past used_event; otherwise
 * whether VIRTQ_AVAIL_F_NO_INTERRUPT is clear. False when nothing was pushed.
 */
bool virtq_should_notify(struct virtq *vq);

/*
 * Ask the driver not to kick for now. Under EVENT_IDX this is a no-op: pop
 * never moves avail_event, so once the driver has kicked for the first buffer
 * after virtq_notify_enable it does not kick again until the next enable.
 */
void virtq_notify_disable(struct virtq *vq);

/*
 * Ask the driver to kick for the next buffer it makes available, then look
 * again: true when buffers are already waiting (the caller must process them,
 * as their kick may have been suppressed).
 */
bool virtq_notify_enable(struct virtq *vq);

/* True when the driver has made buffers available that were not yet popped. */
bool virtq_has_avail(struct virtq *vq);

#endif

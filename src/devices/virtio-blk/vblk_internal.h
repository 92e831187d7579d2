/* SPDX-License-Identifier: MIT */
/* virtio-blk internals shared by the device's sources and its unit tests: wire format, request parser, device state, the model's side of the scheduler interface, test hooks. */
#ifndef VMM_VBLK_INTERNAL_H
#define VMM_VBLK_INTERNAL_H

#ifndef VMM_MODULE_VBLK
#error "vblk_internal.h is private to src/devices/virtio-blk: include virtio_blk.h"
#endif

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "blk_backend.h"
#include "gmem.h"
#include "virtio_blk.h"
#include "virtio_mmio.h"
#include "vblk_sched.h"
#include "virtqueue.h"

#define VIRTIO_ID_BLOCK 2

/* Feature bits (virtio 1.x, 5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_CONFIG_WCE 11
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_DWZ_F_UNMAP 1u   /* discard/write-zeroes segment flag */

#define VBLK_SECTOR 512ull
#define VBLK_HDR_SIZE 16
#define VBLK_DWZ_SEG_SIZE 16
#define VBLK_ID_BYTES 20

/* Limits we advertise. A chain carries header + seg_max data buffers + status. */
#define VBLK_SEG_MAX (VIRTQ_ELEM_MAX_SEGS - 2)
#define VBLK_SIZE_MAX (1u << 20)
/* seg_max * size_max: keeps every transfer far below INT_MAX, the most a completion can report. */
#define VBLK_MAX_DATA ((uint64_t)VBLK_SEG_MAX * VBLK_SIZE_MAX)
#define VBLK_MAX_DWZ_SECTORS (1u << 22)   /* 2 GiB per discard / write-zeroes */
#define VBLK_MAX_DWZ_SEG 1                /* one range per request keeps one backend op per request */
#define VBLK_DEFAULT_QUEUE_SIZE 256

/* struct virtio_blk_config offsets (little-endian fields). */
#define VBLK_CFG_CAPACITY 0
#define VBLK_CFG_SIZE_MAX 8
#define VBLK_CFG_SEG_MAX 12
#define VBLK_CFG_BLK_SIZE 20
#define VBLK_CFG_WRITEBACK 32
#define VBLK_CFG_MAX_DISCARD_SECTORS 36
#define VBLK_CFG_MAX_DISCARD_SEG 40
#define VBLK_CFG_DISCARD_ALIGN 44
#define VBLK_CFG_MAX_WZ_SECTORS 48
#define VBLK_CFG_MAX_WZ_SEG 52
#define VBLK_CFG_WZ_MAY_UNMAP 56
#define VBLK_CFG_SIZE 60

/* What the parser needs to know about the device and the negotiation. */
struct vblk_limits {
	uint64_t capacity;        /* sectors of 512 bytes */
	bool readonly;
	bool discard;             /* VIRTIO_BLK_F_DISCARD negotiated */
	bool write_zeroes;        /* VIRTIO_BLK_F_WRITE_ZEROES negotiated */
	uint32_t max_dwz_sectors;
	uint32_t max_dwz_seg;
	uint64_t max_data;        /* most data bytes in one IN/OUT */
};

/* A parsed request. iov points into the caller's array, which points into guest RAM. */
struct vblk_parsed {
	uint32_t type;
	uint64_t sector;          /* from the header (IN/OUT) */
	uint8_t *status;          /* the status byte, or NULL when the chain has none */
	struct iovec *iov;        /* IN/OUT: the data; GET_ID: the id buffer (VBLK_ID_BYTES) */
	unsigned int iovcnt;
	uint64_t data_len;        /* bytes in iov */
	uint64_t offset;          /* bytes: IN/OUT/DISCARD/WRITE_ZEROES */
	uint64_t len;             /* bytes: DISCARD/WRITE_ZEROES */
	bool unmap;               /* WRITE_ZEROES may deallocate */
};

/*
 * Why vblk_req_parse refused a chain: one value per distinct fault, so tests
 * and the fuzz target can tell them apart. Only VBLK_PARSE_UNSUPPORTED gets
 * the status UNSUPP; every other fault gets IOERR (vblk_req_parse_status).
 */
enum vblk_parse_err {
	VBLK_PARSE_OK = 0,
	VBLK_PARSE_NO_STATUS,        /* no device-writable byte for the status (out->status NULL) */
	VBLK_PARSE_SHORT_HEADER,     /* header shorter than 16 bytes */
	VBLK_PARSE_UNSUPPORTED,      /* unknown type, DISCARD/WRITE_ZEROES not negotiated, a reserved segment flag, UNMAP on a DISCARD */
	VBLK_PARSE_WRONG_DIRECTION,  /* IN with readable data after the header, OUT with writable bytes besides the status */
	VBLK_PARSE_PARTIAL_SECTOR,   /* IN/OUT data length not a multiple of 512 */
	VBLK_PARSE_TOO_LONG,         /* IN/OUT data longer than lim->max_data */
	VBLK_PARSE_PAST_END,         /* sector range past the end of the disk */
	VBLK_PARSE_READ_ONLY,        /* OUT/DISCARD/WRITE_ZEROES on a read-only drive */
	VBLK_PARSE_SEGMENT_COUNT,    /* DISCARD/WRITE_ZEROES payload not whole segments, none, or more than max_dwz_seg */
	VBLK_PARSE_SEGMENT_SECTORS,  /* a segment's num_sectors is zero or above max_dwz_sectors */
	VBLK_PARSE_ID_TOO_SHORT,     /* GET_ID buffer shorter than 20 bytes */
	VBLK_PARSE_IOV_FULL,         /* iov_cap too small (cannot happen with VIRTQ_ELEM_MAX_SEGS) */
	VBLK_PARSE_ERRORS            /* how many values there are, VBLK_PARSE_OK included */
};

/*
 * Parse the popped chain elem as a virtio-blk request. Pure: reads the header
 * and discard/write-zeroes segments from guest memory, writes nothing. Data
 * buffers are described into iov[0 .. iov_cap). out->status is set whenever
 * the chain has a writable last byte, also on error, so a status can be sent.
 * VBLK_PARSE_OK, or the fault (enum vblk_parse_err).
 */
enum vblk_parse_err vblk_req_parse(const struct vblk_limits *lim, const struct virtq_elem *elem,
				   struct iovec *iov, unsigned int iov_cap, struct vblk_parsed *out);

/* The virtio-blk status a parse fault maps to: UNSUPP for VBLK_PARSE_UNSUPPORTED, else IOERR. */
uint8_t vblk_req_parse_status(enum vblk_parse_err err);

/* One request slot: lives from pop to push. */
struct vblk_req {
	struct vblk_dev *dev;
	struct vblk_req *next;     /* free list */
	uint64_t generation;       /* dev->generation at pop; a reset makes it stale */
	uint64_t submit_ns;        /* when it went to the backend (vblk_sched_backend_done_locked) */
	uint32_t type;
	uint8_t *status;
	uint64_t data_len;         /* IN/OUT total */
	struct blk_req breq;
	struct virtq_elem elem;
	struct iovec iov[VIRTQ_ELEM_MAX_SEGS];
};

struct vblk_dev {
	const struct gmem *mem;
	const struct blk_image *image;
	struct blk_cache_props props;
	uint8_t serial[VBLK_ID_BYTES];
	unsigned int queue_size;
	uint64_t capacity;          /* sectors */
	uint64_t offered;           /* device features */
	struct virtio_mmio mmio;
	struct blk_backend *be;
	int notify_fd;
	int irq_fd;

	/*
	 * lock guards the queue and request state below, and the scheduler's.
	 * Taken by the I/O thread (or a test) while processing, and by vCPU
	 * threads in the transport hooks (which already hold mmio.lock: the order
	 * is mmio.lock, then lock).
	 */
	pthread_mutex_t lock;
	pthread_cond_t idle;        /* signalled when inflight reaches 0 */
	struct virtq vq;
	bool active;                /* vq set up and DRIVER_OK */
	uint64_t features;          /* negotiated, valid while active */
	bool blocked;               /* backend full or no free slot: pop nothing until a completion */
	bool resume;                /* chains were left in the avail ring by back-pressure: process the queue after completions */
	bool stopping;              /* vblk_stop: pop nothing more; what is in flight still completes */
	uint64_t generation;
	struct vblk_req *reqs;
	struct vblk_req *free_list;
	unsigned int inflight;      /* slots popped and not yet pushed or dropped */
	unsigned int be_inflight;   /* requests inside the backend */
	bool need_irq_check;        /* pushed since the last virtq_should_notify */
	struct vblk_sched sched;    /* the I/O thread's: the model never reads it (vblk_sched.h) */

	uint8_t wce;                /* atomic: guest-visible write cache on (config `writeback`) */
	/*
	 * The first failed host flush of a buffered image (under lock). The page
	 * cache may have dropped the pages that failed to write back, and the
	 * kernel reports that to one fdatasync only, so every later FLUSH fails
	 * too, as QEMU's file-posix does. O_DIRECT images keep nothing in the
	 * page cache, and a later flush there may really succeed.
	 */
	int flush_err;
	struct vblk_stats stats;    /* atomic fields */
};

/* Add v to a stats counter. Relaxed: counters order nothing; readers only want each value whole. */
static inline void vblk_stat_add(uint64_t *field, uint64_t v)
{
	__atomic_fetch_add(field, v, __ATOMIC_RELAXED);
}

/*
 * Build a device over an existing backend (tests use a fake). The backend's
 * complete/complete_ctx are set to the device's; the device owns be from here
 * on (vblk_destroy destroys it). props are the cache mode's. 0 or -errno;
 * on error be is not destroyed.
 */
int vblk_create_with_backend(const struct vblk_params *p, const struct gmem *mem,
			     const struct blk_cache_props *props, struct blk_backend *be,
			     struct vblk_dev **out);

/* The two halves of vblk_create_with_backend, for vblk_create (which needs dev before the backend exists). */
int vblk_dev_alloc(const struct vblk_params *p, const struct gmem *mem,
		   const struct blk_cache_props *props, struct vblk_dev **out);
void vblk_dev_attach(struct vblk_dev *dev, struct blk_backend *be);
void vblk_dev_free(struct vblk_dev *dev);

/* ---- the device model's side of the interface with the scheduler (vblk_sched.h); dev->lock held ---- */

/* What one vblk_dev_pop_locked did, for the scheduler to act on. */
struct vblk_round {
	unsigned int popped;        /* chains taken from the avail ring, bad ones and those answered at once included */
	bool dry;                   /* it stopped because the ring was empty: guest kicks are the scheduler's to re-arm */
	bool capped;                /* it stopped at its budget, maybe with more in the ring */
	bool need_kick;             /* requests went to the backend, or it is full: hand its queue to the host */
};

/*
 * Pop and start up to budget chains: parse each, answer at once what needs
 * no backend (a malformed chain, GET_ID, FLUSH under cache=unsafe, a parse
 * fault), submit the rest. Stops when the ring runs dry, at the budget, on
 * back-pressure (backend full or no free slot: the chain goes back to the
 * ring and nothing is popped until a completion, see
 * vblk_dev_resume_due_locked), or on a corrupt ring (NEEDS_RESET). Pops
 * nothing unless vblk_dev_may_pop. Never kicks the backend, never switches
 * guest notifications and never interrupts the guest for used buffers: the
 * scheduler does those once per round.
 */
struct vblk_round vblk_dev_pop_locked(struct vblk_dev *dev, unsigned int budget);

/* Interrupt the guest if it wants one for the buffers used since the last call (EVENT_IDX aware). */
void vblk_dev_interrupt_locked(struct vblk_dev *dev);

/*
 * Chains were left in the ring by back-pressure, which has since eased (a
 * completion came): nobody will kick for them again, so the scheduler must
 * run a round. True once per such stop.
 */
bool vblk_dev_resume_due_locked(struct vblk_dev *dev);

/* The guest's queue is set up (DRIVER_OK) and its ring not corrupt. */
static inline bool vblk_dev_ring_ready(const struct vblk_dev *dev)
{
	return dev->active && !dev->vq.broken;
}

/* The device takes requests: ring ready and not stopping. */
static inline bool vblk_dev_serving(const struct vblk_dev *dev)
{
	return vblk_dev_ring_ready(dev) && !dev->stopping;
}

/* A round would pop now: serving, and not held by back-pressure. */
static inline bool vblk_dev_may_pop(const struct vblk_dev *dev)
{
	return vblk_dev_serving(dev) && !dev->blocked;
}

/* ---- between the device model's sources ---- */

/* The backend's completion callback; ctx is the device. */
void vblk_backend_complete(void *ctx, struct blk_req *req, int res);

/* Raise bits in InterruptStatus and signal the guest's irqfd. */
void vblk_dev_signal_irq(struct vblk_dev *dev, uint32_t bits);

/* Guest-visible write cache on, as the guest last set it (config `writeback`). */
static inline bool vblk_dev_wce(const struct vblk_dev *dev)
{
	return __atomic_load_n(&dev->wce, __ATOMIC_RELAXED);
}

#endif

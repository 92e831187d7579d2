/* SPDX-License-Identifier: MIT */
/* virtio-blk internals shared by the device's sources and its unit tests: wire format, request parser, device state, test hooks. */
#ifndef VMM_VBLK_INTERNAL_H
#define VMM_VBLK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "blk_backend.h"
#include "gmem.h"
#include "virtio_blk.h"
#include "virtio_mmio.h"
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
#define VBLK_KICK_RETRY_NS (1000 * 1000ull)  /* a failed backend kick is tried again after 1 ms */

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
	uint64_t submit_ns;        /* when it went to the backend (for dev->lat_ns) */
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
	int stop_fd;
	int epoll_fd;

	/*
	 * lock guards the queue and request state below. Taken by the I/O thread
	 * (or a test) while processing, and by vCPU threads in the transport hooks
	 * (which already hold mmio.lock: the order is mmio.lock, then lock).
	 */
	pthread_mutex_t lock;
	pthread_cond_t idle;        /* signalled when inflight reaches 0 */
	struct virtq vq;
	bool active;                /* vq set up and DRIVER_OK */
	uint64_t features;          /* negotiated, valid while active */
	bool blocked;               /* backend full or no free slot: pop nothing until a completion */
	bool resume;                /* chains were left in the avail ring by back-pressure: process the queue after completions */
	bool stopping;
	bool round_capped;          /* a round stopped after a ring's worth of requests with more waiting */
	bool thread_running;
	pthread_t thread;
	uint64_t generation;
	struct vblk_req *reqs;
	struct vblk_req *free_list;
	unsigned int inflight;      /* slots popped and not yet pushed or dropped */
	unsigned int be_inflight;   /* requests inside the backend */
	bool need_irq_check;        /* pushed since the last virtq_should_notify */
	bool polling;               /* the I/O thread is busy-polling: leave guest kicks off when the ring runs dry */
	bool kicks_off;             /* guest kicks left off (a poll found work, or kicks are parked): vblk_kicks_rearm before sleeping */
	uint64_t parked_until_ns;   /* kicks parked while the backend is busy, until then at most; 0: not parked */
	bool kick_owed;             /* the last backend kick failed: the I/O thread retries it (be_kick_locked) */
	bool streaming;             /* the guest adds requests to a busy backend: park kicks (park_kicks) */
	uint64_t lat_ns;            /* moving average of the backend's latency, ns */
	uint64_t now_ns;            /* the clock, read once per processing round; 0: not read in this round */
	uint64_t poll_max_ns;       /* cap of the busy-poll window; 0: never poll */

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
/* The backend's completion callback; ctx is the device. */
void vblk_backend_complete(void *ctx, struct blk_req *req, int res);

/*
 * Pop and start every available request, one backend kick at the end, then
 * interrupt the guest if it wants one. What the I/O thread does on a notify;
 * tests call it directly instead of starting the thread. Count of chains
 * popped, or -errno from the backend kick.
 */
int vblk_process_queue(struct vblk_dev *dev);
/*
 * Reap backend completions, resume a queue blocked by back-pressure,
 * interrupt the guest if it wants one. Count of completions reaped, or
 * -errno from the backend poll.
 */
int vblk_process_completions(struct vblk_dev *dev);

/*
 * Kicks parked while the guest streams into a busy backend (see park_kicks): for at most 1/8 of
 * the backend's average latency, within [VBLK_PARK_MIN_NS, VBLK_PARK_MAX_NS].
 */
#define VBLK_PARK_MIN_NS 50000
#define VBLK_PARK_MAX_NS 10000000
/* How long kicks may stay parked for a backend latency of lat_ns. Pure. */
uint64_t vblk_park_window(uint64_t lat_ns);

/* The busy-poll window starts here when it first grows, and drops to 0 below it. */
#define VBLK_POLL_START_NS 4000
/* Poll looks between clock reads (a look plus a pause is well under 1 us). */
#define VBLK_POLL_CLOCK_EVERY 32

/*
 * The I/O thread's next busy-poll window (ns), as QEMU adapts its IOThreads'
 * poll-max-ns: cur is the window the last wait began with, waited_ns how long
 * that wait lasted until work arrived (polling included). Work that came
 * within the window keeps it; work that came after it but within max means a
 * longer window would have caught it: grow (from 0 to VBLK_POLL_START_NS,
 * then doubling, capped at max); work that came after max means polling
 * would have burnt the CPU for nothing: halve, to 0 below VBLK_POLL_START_NS.
 * Never above max; always 0 when max is 0. Pure.
 */
uint64_t vblk_poll_window_next(uint64_t cur, uint64_t max, uint64_t waited_ns);

/*
 * One busy-poll look without sleeping (dev->lock held): reap what the backend
 * finished, if requests are in it, and pop what the guest made available.
 * True when it did any of that. What the I/O thread repeats while its window
 * lasts.
 */
bool vblk_poll_once_locked(struct vblk_dev *dev);

/*
 * Whether the I/O thread should busy-poll now (dev->lock held): polling is
 * configured, the device is running, and there is work to wait for (requests
 * in the backend) or the guest was active just now (guest_recent). An idle
 * device sleeps.
 */
bool vblk_poll_wanted_locked(const struct vblk_dev *dev, bool guest_recent);

/*
 * Busy-poll for up to window_ns (takes dev->lock): vblk_poll_once_locked until
 * it finds work, the window ends, or polling is no longer wanted. Guest kicks
 * are off meanwhile. True when work was found (and done): kicks are then left
 * off, as the thread is likely to poll again at once, and the caller must call
 * vblk_kicks_rearm before it sleeps. False: kicks are back on (or parked,
 * see vblk_kicks_rearm), the ring was re-checked after that, and the caller
 * may sleep on the notify eventfd.
 */
bool vblk_poll(struct vblk_dev *dev, uint64_t window_ns);

/*
 * Before sleeping (takes dev->lock): if guest kicks were left off, turn them
 * back on and look at the ring once more, processing what a suppressed kick
 * would have announced. True when that found work. Parked kicks stay off
 * while requests are in the backend: their completions wake the thread, and
 * so does the end of the park window (vblk_wake_by); it looks at the
 * ring then.
 */
bool vblk_kicks_rearm(struct vblk_dev *dev);

/*
 * The park window ran out with no completion meanwhile: look at the ring
 * (the I/O thread calls this). Requests popped, or -errno as
 * vblk_process_queue.
 */
int vblk_park_expired_locked(struct vblk_dev *dev);

/*
 * When the I/O thread must wake even if no event comes (CLOCK_MONOTONIC ns):
 * the end of the park window, to look at the ring for parked kicks, or the
 * retry of a failed backend kick, whichever is first; 0: never (takes dev->lock).
 */
uint64_t vblk_wake_by(struct vblk_dev *dev);

#endif

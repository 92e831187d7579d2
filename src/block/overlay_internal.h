/* SPDX-License-Identifier: MIT */
/* The snapshot overlay's insides: its file, its cluster map and the engine's plan of a request. Not for other modules. */
#ifndef VMM_OVERLAY_INTERNAL_H
#define VMM_OVERLAY_INTERNAL_H

#ifndef VMM_MODULE_BLOCK
#error "overlay_internal.h is private to src/block: include blk_backend.h"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "blk_backend.h"

/*
 * The cluster: the unit the map tracks and copy-up copies. 4 KiB, for three
 * reasons. A guest's page cache writes whole, aligned 4 KiB pages, and a
 * write that covers its clusters whole needs no copy-up: with a larger
 * cluster (qcow2's 64 KiB) the first 4 KiB write to a cluster would read
 * 60 KiB of the base and write 64 KiB. It is the block of the filesystems
 * that hold overlays (ext4, xfs, btrfs, tmpfs), so a written cluster is one
 * block of the sparse file and an unwritten one allocates nothing. And the
 * map stays small: two bits per cluster, 4 MiB of address space for a
 * 64 GiB base, mapped lazily, so set-up does not grow with the base. Where
 * O_DIRECT needs more alignment than 4 KiB, the cluster grows to it, so a
 * copy-up is always an aligned write.
 */
#define OVL_CLUSTER_MIN 4096u
#define OVL_CLUSTER_MAX 65536u

/*
 * The piece the overlay's space is allocated in ahead of the guest's writes
 * (overlay_open.c says why): 1 MiB, 2^20 bytes. The first write to an
 * unwritten cluster of a piece allocates the whole piece in the file
 * (fallocate, no data written), once.
 */
#define OVL_PREALLOC_SHIFT 20u

/*
 * Which clusters the overlay holds, and which are being changed. Bitmaps of
 * one bit per cluster in anonymous mappings (MAP_NORESERVE): untouched pages
 * cost nothing, so a 64 GiB base costs what a 64 MiB one does.
 *
 *   data: the cluster's bytes are in the overlay (written, or zeroed there).
 *         Set only when a request that wrote the whole cluster in the overlay
 *         completed; never cleared.
 *   busy: a request that will make an unwritten cluster a data cluster is
 *         in flight. Set at its admission, cleared at its completion.
 *
 * And a third, one bit per 1 MiB piece of the disk (OVL_PREALLOC_SHIFT):
 *
 *   tried: space for the piece was allocated ahead in the overlay file, or
 *          that was tried and failed. Never cleared. Says nothing of what
 *          reads see: data alone routes them.
 */
struct ovl_map {
	uint64_t size;          /* bytes of the disk */
	unsigned int shift;     /* log2 of the cluster size */
	uint64_t nclusters;
	uint64_t *data;
	uint64_t *busy;
	uint64_t *tried;
	size_t words;           /* 64-bit words in data and in busy */
	size_t map_len;         /* bytes of the mapping that holds the three */
};

/* 0, or -EINVAL (cluster not a power of two in range, size 0), -ENOMEM. */
int ovl_map_init(struct ovl_map *m, uint64_t size, uint32_t cluster);
void ovl_map_free(struct ovl_map *m);

static inline bool ovl_bit(const uint64_t *bits, uint64_t i)
{
	return (bits[i >> 6] >> (i & 63)) & 1;
}

/* Set bits [first, first + n). */
void ovl_bits_set(uint64_t *bits, uint64_t first, uint64_t n);
/* Clear bits [first, first + n). */
void ovl_bits_clear(uint64_t *bits, uint64_t first, uint64_t n);
/* Whether a cluster of [first, first + n) is busy and not data: what makes a write wait. */
bool ovl_map_conflict(const struct ovl_map *m, uint64_t first, uint64_t n);
/* Whether a cluster of [first, first + n) is not data. */
bool ovl_map_any_unwritten(const struct ovl_map *m, uint64_t first, uint64_t n);
/* Mark the clusters of [first, first + n) that are not data busy. */
void ovl_map_hold(struct ovl_map *m, uint64_t first, uint64_t n);
/*
 * From cluster i (< limit), the number of clusters up to limit whose data bit
 * equals cluster i's; *data gets it. At least 1.
 */
uint64_t ovl_map_run(const struct ovl_map *m, uint64_t i, uint64_t limit, bool *data);

/* Mark piece p tried: whether it was not before. */
static inline bool ovl_piece_try(struct ovl_map *m, uint64_t p)
{
	uint64_t bit = 1ull << (p & 63);
	bool was = m->tried[p >> 6] & bit;

	m->tried[p >> 6] |= bit;
	return !was;
}

/* Bytes of the disk in cluster c: the cluster size, less for a short last cluster. */
static inline uint64_t ovl_cluster_end(const struct ovl_map *m, uint64_t c)
{
	uint64_t end = (c + 1) << m->shift;

	return end < m->size ? end : m->size;
}

/*
 * The plan of a request that writes (WRITE, WRITE_ZEROES, DISCARD) the range
 * [off, end): the parts of its first and last clusters that copy-up must read
 * from the base, and the clusters it holds busy.
 *
 * A cluster the request covers only in part and that is not yet data is
 * copied up: the bytes of it outside the range are read from the base
 * (head gap: from the cluster's start to off; tail gap: from end to the
 * cluster's end), and the whole cluster is then written to the overlay in
 * one write, the request's bytes (or zeros) between the gaps. So every write
 * to an unwritten cluster writes all of it, which is what lets the map set a
 * cluster's data bit without keeping anything finer.
 */
struct ovl_plan {
	uint64_t first, n;       /* clusters the range touches */
	uint64_t head_off, head_len;  /* head gap (len 0: none) */
	uint64_t tail_off, tail_len;  /* tail gap (len 0: none) */
	bool hold;               /* some cluster of the range is not data: hold them busy */
};

/* Plan a write-like request of [off, off + len) (len > 0, inside the disk). Pure. */
void ovl_plan_write(const struct ovl_map *m, uint64_t off, uint64_t len, struct ovl_plan *p);

/* What the engine did, for --stats and tests (written on the I/O thread, read after it stopped). */
struct ovl_counters {
	uint64_t copy_ups;        /* clusters copied up (a gap read from the base) */
	uint64_t base_reads;      /* read segments served by the base */
	uint64_t overlay_reads;   /* read segments served by the overlay */
	uint64_t waits;           /* writes that waited for another's copy-up of a cluster they share */
	uint64_t prealloc_pieces; /* pieces allocated ahead in the overlay file */
	uint64_t prealloc_fails;  /* pieces whose allocation ahead failed (ENOSPC, EOPNOTSUPP...): left to the writes */
};

/* ---- the engine's requests (overlay.c), planned by overlay_plan.c ---- */

/* One host operation of a request, on the base or the overlay engine. */
struct ovl_sub {
	struct blk_req req;       /* what the inner engine sees; req.opaque is this sub */
	struct ovl_slot *slot;
	unsigned int to;          /* OVL_BASE or OVL_OVERLAY */
	bool sets_data;           /* on success, its clusters become data */
	struct ovl_sub *next;     /* on the queue of subs waiting for an inner engine */
};

/* The engine's two inner engines. */
enum { OVL_BASE, OVL_OVERLAY, OVL_NINNER };

/* One request in flight. */
struct ovl_slot {
	struct blk_req *req;
	uint64_t total;           /* READ/WRITE bytes */
	struct ovl_plan plan;     /* write-like: its clusters */
	bool held;                /* holds its unwritten clusters busy */
	unsigned int nsubs, nfirst;  /* subs; the first nfirst are phase one (reads), the rest phase two */
	unsigned int pending;     /* subs of the running phase not completed yet */
	int res;                  /* 0 or the request's first error */
	struct ovl_sub *subs;
	unsigned int subs_cap;
	struct iovec *iov;
	unsigned int iov_cap;
	uint8_t *gap;             /* two clusters: the head and tail gaps a copy-up reads */
	struct ovl_slot *next;    /* on the blocked or done list */
};

/*
 * Turn s->req (a READ of s->total bytes) into subs: one per run of clusters
 * that come from one place, the data clusters' from the overlay and the
 * others' from the base; all phase one. 0, -ENOMEM, or -EAGAIN when that
 * takes more than max_subs subs (and nothing is planned).
 */
int ovl_slot_plan_read(const struct ovl_map *m, struct ovl_counters *c, struct ovl_slot *s, unsigned int max_subs);
/*
 * Turn s->req (WRITE of s->total bytes, WRITE_ZEROES, DISCARD), admitted
 * with s->plan, into subs: phase one reads the copy-up gaps from the base
 * into s->gap; phase two writes the overlay: for a WRITE one write of the
 * gaps and the data; for the others a write of gaps and zeros per partial
 * unwritten cluster, and the rest punched (DISCARD; WRITE_ZEROES where
 * zero_discard: the overlay cannot punch). 0 or -ENOMEM.
 */
int ovl_slot_plan_write(const struct ovl_map *m, struct ovl_counters *c, struct ovl_slot *s, bool zero_discard);

/* A snapshot drive's overlay (blk_image.overlay). */
struct blk_overlay {
	int fd;                   /* the overlay file, with no name; for a reflink clone, also img->fd */
	bool reflink;             /* a clone of the base: the drive runs on it as a plain file, no map */
	bool punch;               /* the overlay's filesystem punches holes (a DISCARD there reads zeros) */
	bool prealloc;            /* allocate the overlay's space ahead, in pieces (overlay_open.c) */
	struct ovl_map map;       /* sparse only */
	struct ovl_counters counters;
	bool engine;              /* an engine runs over it (one at a time: the map is its state) */
};

/*
 * Before a write to [off, off + len) (bytes, inside the disk) that touches
 * an unwritten cluster: allocate, in the overlay file, the pieces of that
 * range not tried yet and not covered whole by it. Never fails: what could
 * not be allocated ahead is allocated by the write itself, as without this;
 * after one failure it allocates nothing ahead any more. Counts it in
 * ov->counters. Does nothing unless ov->prealloc.
 */
void blk_overlay_prealloc(struct blk_overlay *ov, uint64_t off, uint64_t len);

/* Free what blk_image_snapshot made (img->overlay), closing the overlay file. */
void blk_overlay_free(struct blk_overlay *ov);

/* The overlay engine over img (a sparse snapshot image). Same contract as blk_uring_create. */
int blk_overlay_engine_create(const struct blk_image *img, unsigned int queue_depth,
			      blk_complete_fn complete, void *ctx, struct blk_backend **out);

/* io_uring over img, or the synchronous engine where io_uring is unavailable or disabled. */
int blk_file_backend_create(const struct blk_image *img, unsigned int queue_depth,
			    blk_complete_fn complete, void *ctx, struct blk_backend **out);

/* O_DIRECT alignment of fd (image.c): statx DIOALIGN, else a block device's block, else a page. */
void blk_image_dio_align(int fd, bool block_device, uint32_t *mem, uint32_t *off);

#endif

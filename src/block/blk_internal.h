/* SPDX-License-Identifier: MIT */
/* Helpers shared by the block backends: O_DIRECT bounce buffers, iovec arithmetic, the WRITE_ZEROES steps. Not for other modules. */
#ifndef VMM_BLK_INTERNAL_H
#define VMM_BLK_INTERNAL_H

#ifndef VMM_MODULE_BLOCK
#error "blk_internal.h is private to src/block: include blk_backend.h"
#endif

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "blk_backend.h"

/* The parts of an image a backend needs, copied at create time. */
struct blk_geom {
	int fd;
	uint64_t size;
	bool direct;
	uint32_t mem_align;   /* power of two, >= 1 */
	uint32_t off_align;   /* power of two, >= 1 */
};

/* An aligned stand-in for a READ/WRITE that O_DIRECT would refuse as is. */
struct blk_bounce {
	void *buf;
	uint64_t start;       /* file offset of buf[0], aligned */
	uint64_t len;         /* bytes in buf, aligned */
	uint64_t need;        /* bytes from start that must be transferred for the request to be done */
	uint64_t skip;        /* where the request's bytes begin inside buf */
	uint64_t total;       /* the request's own byte count */
};

/* Fill geom from img. */
void blk_geom_init(struct blk_geom *g, const struct blk_image *img);

/* Sum of iov lengths, or UINT64_MAX if it overflows. */
uint64_t blk_iov_total(const struct iovec *iov, unsigned int cnt);

/*
 * The checks every engine makes of a request before it takes it: a known op,
 * and for READ/WRITE a non-empty iov whose byte count fits past the offset.
 * 0 with *total the READ/WRITE's byte count (0 for the other ops), or -EINVAL.
 */
int blk_req_check(const struct blk_req *req, uint64_t *total);

/*
 * Write into out (room for cnt entries) the part of iov that follows its first
 * skip bytes. Number of entries written (0 when skip covers everything).
 */
unsigned int blk_iov_rest(const struct iovec *iov, unsigned int cnt, uint64_t skip, struct iovec *out);

/* true when req (READ/WRITE of total bytes) cannot be given to an O_DIRECT fd as is. */
bool blk_bounce_needed(const struct blk_geom *g, const struct blk_req *req, uint64_t total);

/* true when a WRITE needs the blocks around it read first (offset or end unaligned). */
bool blk_bounce_is_rmw(const struct blk_geom *g, const struct blk_req *req, uint64_t total);

/*
 * Set up b for req (READ/WRITE of total bytes): allocate an aligned buffer over
 * the aligned range; for a WRITE, read the partial head/tail blocks with pread
 * and copy the request's data in. 0, -ENOMEM, -EIO if a WRITE would have to
 * extend the image or a block read came back short, or -errno from pread.
 * On error nothing is left allocated.
 */
int blk_bounce_prepare(struct blk_bounce *b, const struct blk_geom *g, const struct blk_req *req, uint64_t total);

/* After a READ into b completed: copy the request's bytes out to req->iov. */
void blk_bounce_copy_out(const struct blk_bounce *b, const struct blk_req *req);

/* Free b's buffer (if any). */
void blk_bounce_release(struct blk_bounce *b);

/*
 * WRITE_ZEROES is a chain of host operations, the same in every backend.
 * First FALLOC_FL_ZERO_RANGE, which keeps the blocks allocated. Where the
 * filesystem has none (tmpfs, for one), FALLOC_FL_PUNCH_HOLE; and unless the
 * guest set the unmap flag, which lets the range be deallocated, then a plain
 * fallocate that allocates the range again, so a preallocated image does not
 * turn sparse under a guest that asked it not to (a filesystem that cannot
 * preallocate leaves the hole, which still reads as zeros). Where the host
 * cannot punch holes either (ramfs, vfat, some NFS and FUSE filesystems), the
 * range is written with zeros from a shared, never-written buffer, one chunk
 * of at most BLK_ZERO_CHUNK bytes at a time. Last, for a durable request, an
 * fdatasync: fallocate changes metadata only, and a buffered write is only in
 * the page cache; without a write cache the guest expects the zeros stable at
 * completion.
 */
enum blk_zero_step {
	BLK_ZERO_RANGE,   /* fallocate ZERO_RANGE */
	BLK_ZERO_PUNCH,   /* fallocate PUNCH_HOLE */
	BLK_ZERO_ALLOC,   /* fallocate 0: allocate the punched range again */
	BLK_ZERO_WRITE,   /* write zeros over [offset + done, offset + len), a chunk per step */
	BLK_ZERO_SYNC,    /* fdatasync */
	BLK_ZERO_DONE,
};

/*
 * The largest write of the WRITE step and the alignment of its buffer. Under
 * O_DIRECT the step is taken only when the image's alignment divides both
 * (and the request's offset and length), so every chunk is an aligned write.
 */
#define BLK_ZERO_CHUNK (1u << 20)
#define BLK_ZERO_ALIGN 4096u

/* What a backend has learned of its host's fallocate, for its later WRITE_ZEROES (zero-initialised). */
struct blk_zero_host {
	bool no_zero_range;   /* FALLOC_FL_ZERO_RANGE said EOPNOTSUPP */
	bool no_punch;        /* FALLOC_FL_PUNCH_HOLE said EOPNOTSUPP too */
};

/* The fallocate mode of a RANGE, PUNCH or ALLOC step; the caller adds FALLOC_FL_KEEP_SIZE. */
int blk_zero_step_mode(enum blk_zero_step step);

/*
 * A backend's first step for req (a WRITE_ZEROES) on its image g: what the
 * host has not refused yet. WRITE once the host can neither zero nor punch
 * and req may be written (not when O_DIRECT alignment forbids it: then PUNCH,
 * which fails again), PUNCH once it has no ZERO_RANGE, else RANGE.
 */
enum blk_zero_step blk_zero_step_first(const struct blk_zero_host *h, const struct blk_geom *g,
				       const struct blk_req *req);

/*
 * The step of req (a WRITE_ZEROES) after one that gave *res (bytes written,
 * for a WRITE step). *done is the bytes of the range written so far (the
 * caller zeroes it at submit). BLK_ZERO_DONE ends the request with *res as its
 * result: an error ends it, except RANGE's -EOPNOTSUPP (on to PUNCH), PUNCH's
 * (on to WRITE, unless O_DIRECT alignment forbids writing req: then the
 * request fails with it), and ALLOC's (the hole reads as zeros: *res becomes
 * 0). A WRITE that moved no bytes is -EIO; one that leaves bytes to write is
 * followed by another WRITE. What the host refused is noted in *h.
 */
enum blk_zero_step blk_zero_step_next(enum blk_zero_step step, int *res, uint64_t *done, const struct blk_req *req,
				      const struct blk_geom *g, struct blk_zero_host *h);

/* The next write of a WRITE step, done bytes into req's range: its length, and *buf (zeros, BLK_ZERO_ALIGN-aligned). */
size_t blk_zero_chunk(const struct blk_req *req, uint64_t done, const void **buf);

/* req is one the backend makes durable before completing it: what counters.durable_writes counts. */
static inline bool blk_req_durable(const struct blk_req *req)
{
	return (req->op == BLK_OP_WRITE || req->op == BLK_OP_WRITE_ZEROES) && req->durable;
}

#endif

/* SPDX-License-Identifier: MIT */
/* The block backend interface: an ops table the virtio-blk device drives, plus cache-mode semantics. */
#ifndef VMM_BLK_BACKEND_H
#define VMM_BLK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

/* QEMU's five cache modes (see docs/cache-modes.md and DESIGN notes). */
enum blk_cache_mode {
	BLK_CACHE_WRITEBACK = 0, /* default */
	BLK_CACHE_NONE,
	BLK_CACHE_WRITETHROUGH,
	BLK_CACHE_DIRECTSYNC,
	BLK_CACHE_UNSAFE,
};

/* What a cache mode means, as a table the device and backend both read. */
struct blk_cache_props {
	bool direct;        /* open with O_DIRECT (bypass host page cache) */
	bool wce;           /* guest sees a volatile write cache at start (virtio-blk config `writeback`) */
	bool flush_noop;    /* guest FLUSH completes at once with OK and no syscall (unsafe) */
};

/* 0 and *out set, or -EINVAL for an unknown name. */
int blk_cache_mode_parse(const char *name, enum blk_cache_mode *out);
/* Never NULL for a valid mode. */
const char *blk_cache_mode_name(enum blk_cache_mode mode);
/* The row of the cache-mode table for mode. */
struct blk_cache_props blk_cache_mode_props(enum blk_cache_mode mode);

enum blk_op {
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,         /* fdatasync: covers every write completed before it was submitted */
	BLK_OP_DISCARD,       /* punch a hole */
	BLK_OP_WRITE_ZEROES,  /* zero a range */
};

/*
 * One request. The owner (the device) keeps it alive until complete() is
 * called for it. iov points into guest RAM (already bounds-checked).
 */
struct blk_req {
	enum blk_op op;
	uint64_t offset;           /* bytes; READ/WRITE/DISCARD/WRITE_ZEROES */
	uint64_t len;              /* bytes; DISCARD/WRITE_ZEROES (READ/WRITE: sum of iov) */
	const struct iovec *iov;   /* READ/WRITE */
	unsigned int iovcnt;
	bool durable;              /* WRITE: must be on stable storage before completion (RWF_DSYNC) */
	void *opaque;              /* owner's cookie */
};

struct blk_backend;

/* res: bytes transferred (READ/WRITE), 0 (others), or -errno. */
typedef void (*blk_complete_fn)(void *ctx, struct blk_req *req, int res);

struct blk_backend_ops {
	/* Queue req. 0, or -EAGAIN when the backend is full (retry after a completion), or -errno. */
	int (*submit)(struct blk_backend *be, struct blk_req *req);
	/* Hand queued requests to the kernel. 0 or -errno. */
	int (*kick)(struct blk_backend *be);
	/* Reap finished requests, calling complete() once for each. Count reaped, or -errno. Never blocks. */
	int (*poll)(struct blk_backend *be);
	/* An fd that becomes readable when poll() has work; the caller reads (drains) it before poll(). */
	int (*event_fd)(struct blk_backend *be);
	void (*destroy)(struct blk_backend *be);
};

struct blk_backend {
	const struct blk_backend_ops *ops;
	blk_complete_fn complete;
	void *complete_ctx;
};

static inline int blk_backend_submit(struct blk_backend *be, struct blk_req *req) { return be->ops->submit(be, req); }
static inline int blk_backend_kick(struct blk_backend *be) { return be->ops->kick(be); }
static inline int blk_backend_poll(struct blk_backend *be) { return be->ops->poll(be); }
static inline int blk_backend_event_fd(struct blk_backend *be) { return be->ops->event_fd(be); }
static inline void blk_backend_destroy(struct blk_backend *be) { be->ops->destroy(be); }

/* A drive image, opened and checked. */
struct blk_image {
	int fd;
	uint64_t size;             /* bytes, a multiple of 512 */
	bool readonly;
	enum blk_cache_mode cache;
	uint32_t dio_mem_align;    /* O_DIRECT buffer alignment (1 when not direct) */
	uint32_t dio_offset_align; /* O_DIRECT offset/length alignment (1 when not direct) */
	uint32_t logical_block;    /* what the device advertises as BLK_SIZE (>= 512) */
};

/*
 * Open path for a drive with the cache mode's flags and learn its geometry.
 * Errors are distinct so the caller can name the fix:
 *   -ENOENT missing, -EISDIR a directory, -EACCES/-EROFS not writable and
 *   !readonly, -EINVAL size not a multiple of 512 (or zero), -ENOTSUP O_DIRECT
 *   refused by the host filesystem, other -errno from open/fstat.
 */
int blk_image_open(const char *path, enum blk_cache_mode cache, bool readonly, struct blk_image *img);
void blk_image_close(struct blk_image *img);

/*
 * An io_uring backend over an open image (fd stays owned by img). queue_depth
 * is the most requests in flight. complete/ctx are stored into the backend.
 */
int blk_uring_create(const struct blk_image *img, unsigned int queue_depth,
		     blk_complete_fn complete, void *ctx, struct blk_backend **out);

#endif

/* SPDX-License-Identifier: MIT */
/* The block backend interface: an ops table the virtio-blk device drives, plus cache-mode semantics. */
#ifndef VMM_BLK_BACKEND_H
#define VMM_BLK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * QEMU's five cache modes, with QEMU's meaning: the QEMU patches that
 * introduced cache=unsafe and cache=directsync define them, and
 * docs/cache-modes.md tables what each one promises the guest.
 */
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
	/*
	 * fdatasync (IORING_OP_FSYNC with IORING_FSYNC_DATASYNC): covers every
	 * write completed before the FLUSH was submitted. Why that holds without
	 * IOSQE_IO_DRAIN: a write's completion means its data has reached the
	 * host page cache (buffered) or the device (O_DIRECT); fdatasync writes
	 * back everything dirty in the page cache for the file and then issues a
	 * device cache flush, so anything that had completed before it started
	 * is on stable storage when it returns. Writes still in flight when the
	 * FLUSH is submitted are not covered, and virtio-blk does not ask for
	 * that (the guest waits for the writes it wants covered before sending
	 * FLUSH), so no drain/ordering of the ring is needed.
	 */
	BLK_OP_FLUSH,
	BLK_OP_DISCARD,       /* punch a hole; a host that cannot (EOPNOTSUPP) leaves the data, and it is still OK */
	BLK_OP_WRITE_ZEROES,  /* zero a range: fallocate, else write zeros (blk_internal.h) */
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
	bool durable;              /* WRITE: on stable storage before completion (RWF_DSYNC); WRITE_ZEROES: fdatasync after */
	bool unmap;                /* WRITE_ZEROES: the range may be left deallocated */
	void *opaque;              /* owner's cookie */
};

struct blk_backend;

/* What a backend did on the host, for the device's --stats and for tests. */
struct blk_backend_counters {
	uint64_t submitted;       /* requests accepted by submit() */
	uint64_t host_flushes;    /* fdatasyncs that reached the host (FLUSH completions, any result) */
	uint64_t durable_writes;  /* WRITEs issued with RWF_DSYNC, WRITE_ZEROES followed by an fdatasync (req->durable) */
	uint64_t bounced;         /* READ/WRITEs copied through an aligned buffer for O_DIRECT */
	uint64_t inline_writes;   /* buffered WRITEs done with pwritev2 in kick(), not through the ring */
	uint64_t zeroes_written;  /* WRITE_ZEROES the host could not fallocate, done by writing zeros */
	uint64_t discards_ignored; /* DISCARDs completed OK without effect: the host cannot punch holes */
};

/*
 * The one result a request gets. READ/WRITE: req->len, every byte moved, or
 * -errno; never a part. A host call that moves fewer bytes than asked is the
 * backend's to resume where it stopped, and one that moves none is -EIO (a
 * retry would spin), so short transfers end in the layer that meets them.
 * FLUSH, DISCARD, WRITE_ZEROES: 0 or -errno.
 */
typedef void (*blk_complete_fn)(void *ctx, struct blk_req *req, int res);

/*
 * Threading: a backend is not thread-safe. submit/kick/poll/poll_events must all be called
 * from one thread; for the io_uring backend that is the first thread that calls
 * kick() (the ring may be created SINGLE_ISSUER; another thread's kick gets
 * -EEXIST). destroy() may run on another thread once nothing is in flight.
 */
struct blk_backend_ops {
	/*
	 * Queue req; nothing reaches the kernel before kick(). 0; or -EAGAIN when
	 * the backend is full (queue_depth requests in flight, or an unaligned
	 * O_DIRECT write needs read-modify-write and must wait for in-flight
	 * requests to finish, or the bounce buffers in flight are at their cap):
	 * kick, and retry after a completion; or -EINVAL for a
	 * malformed req (unknown op, READ/WRITE with no bytes); or -ENOMEM, or
	 * -errno from reading the blocks around an unaligned O_DIRECT write, or
	 * -EIO when such a write would have to extend the image. On any error
	 * complete() is not called for req.
	 */
	int (*submit)(struct blk_backend *be, struct blk_req *req);
	/* Hand queued requests to the kernel. 0 or -errno. */
	int (*kick)(struct blk_backend *be);
	/*
	 * Reap finished requests, calling complete() once for each with its
	 * result (blk_complete_fn). Count completed, or -errno. Never blocks. A
	 * request with a next step (the rest of a short transfer, WRITE_ZEROES'
	 * next host operation) is not completed: the step is queued and kicked
	 * here; -errno can mean that kick failed, and the step then stays queued
	 * until the caller kicks again.
	 */
	int (*poll)(struct blk_backend *be);
	/* An fd that becomes readable when poll() has work; the caller reads (drains) it before poll(). */
	int (*event_fd)(struct blk_backend *be);
	/*
	 * Optional (NULL: callers treat it as always 1). For a caller that busy-
	 * polls instead of sleeping on event_fd: without blocking, make requests
	 * the host has finished visible to poll() and say whether there are any.
	 * 1 when poll() has completions to reap (or may have: a backend that
	 * cannot tell cheaply), 0 when none yet, or -errno. Reaps nothing and
	 * calls no complete(); cheap enough to call in a loop (the io_uring
	 * backend enters the kernel only when the ring says task work is pending:
	 * under COOP_TASKRUN a CQE is posted only when the submitter enters).
	 */
	int (*poll_events)(struct blk_backend *be);
	/*
	 * Free the backend. Requests still in flight are waited for (their
	 * buffers may be in use by the kernel) but complete() is not called.
	 */
	void (*destroy)(struct blk_backend *be);
};

struct blk_backend {
	const struct blk_backend_ops *ops;
	blk_complete_fn complete;
	void *complete_ctx;
	struct blk_backend_counters counters;  /* updated by the backend; zero for a fake */
};

static inline int blk_backend_submit(struct blk_backend *be, struct blk_req *req) { return be->ops->submit(be, req); }
static inline int blk_backend_kick(struct blk_backend *be) { return be->ops->kick(be); }
static inline int blk_backend_poll(struct blk_backend *be) { return be->ops->poll(be); }
static inline int blk_backend_event_fd(struct blk_backend *be) { return be->ops->event_fd(be); }
static inline int blk_backend_poll_events(struct blk_backend *be) { return be->ops->poll_events ? be->ops->poll_events(be) : 1; }
static inline void blk_backend_destroy(struct blk_backend *be) { be->ops->destroy(be); }
/* Copy the backend's counters into *out. */
static inline void blk_backend_counters_get(const struct blk_backend *be, struct blk_backend_counters *out) { *out = be->counters; }

/* A drive image, opened and checked. */
struct blk_image {
	int fd;
	uint64_t size;             /* bytes, a multiple of 512 */
	bool readonly;
	enum blk_cache_mode cache;
	uint32_t dio_mem_align;    /* O_DIRECT buffer alignment (1 when not direct) */
	uint32_t dio_offset_align; /* O_DIRECT offset/length alignment (1 when not direct) */
	uint32_t logical_block;    /* what the device advertises as BLK_SIZE (>= 512): the O_DIRECT offset
	                            * alignment, and a block device's logical block size in every mode */
	bool block_device;         /* path is a block device (size from BLKGETSIZE64) */
	bool locked;               /* lock_fd holds the image's flock and, for a writable block device, its
	                            * O_EXCL claim (image.c); not lock_fd >= 0, as images built
	                            * field by field (tests) leave lock_fd 0, which is not theirs to close */
	int lock_fd;
	struct blk_overlay *overlay;  /* a snapshot drive's private overlay (blk_image_snapshot), else NULL */
};

/*
 * Open path for a drive with the cache mode's flags and learn its geometry.
 * Errors are distinct so the caller can name the fix:
 *   -ENOENT missing, -EISDIR a directory, -ENOTBLK neither a regular file
 *   nor a block device (checked before opening, so a FIFO cannot block the
 *   open), -EACCES/-EROFS not writable and !readonly, -EINVAL size not a
 *   multiple of 512 (or zero), -ENOTSUP O_DIRECT refused by the host
 *   filesystem, -EBUSY locked by another open (below) or, for a writable
 *   block device, mounted or held by another exclusive opener (O_EXCL),
 *   other -errno from open/fstat.
 * A writable block device is claimed (O_EXCL) on the lock's own fd, not on
 *   img->fd, so closing the image releases it at once even while an io_uring
 *   ring's deferred teardown still holds img->fd.
 * The image is locked until blk_image_close: shared when readonly, else
 *   exclusive (flock, non-blocking), so a writer excludes every other opener
 *   of the file, in this process or another, and readers exclude writers.
 * The file is never created, truncated or written by opening it.
 */
int blk_image_open(const char *path, enum blk_cache_mode cache, bool readonly, struct blk_image *img);
/*
 * The name of the disk-image format whose header starts head (len bytes from
 * offset 0), or NULL: qcow, qcow2, qed, vmdk, vhdx, vhd (dynamic), vdi,
 * parallels, bochs. None of them is a raw disk: a guest would see the format's
 * metadata as its sectors, and its writes would corrupt the image. A raw disk
 * that begins with such bytes is possible (a disk holding one of these
 * images), so the caller offers an override (format=raw). Pure.
 */
const char *blk_image_format_of(const void *head, size_t len);

/*
 * Read the start of an open image and name its format as
 * blk_image_format_of does: 0 with *format NULL (raw, as far as vmm can
 * tell) or the name; -errno if it cannot be read. It reads, never writes.
 */
int blk_image_probe(const struct blk_image *img, const char **format);

/* Close img->fd (if open) and the lock's own fd, and set it to -1. Safe to call twice. */
void blk_image_close(struct blk_image *img);

/*
 * An io_uring backend over an open image (fd stays owned by img). queue_depth
 * is the most requests in flight. complete/ctx are stored into the backend.
 * img is copied from (not kept), but its fd must stay open until destroy.
 * 0 and *out, or -EINVAL (queue_depth 0 or above 4096, no complete), -ENOMEM,
 * or -errno from io_uring setup / registration (-ENOSYS or -EPERM when
 * io_uring is unavailable or disabled on the host).
 */
int blk_uring_create(const struct blk_image *img, unsigned int queue_depth,
		     blk_complete_fn complete, void *ctx, struct blk_backend **out);

/*
 * A synchronous backend (preadv/pwritev2/fdatasync/fallocate) with the same
 * contract: a test oracle and a fallback where io_uring is unavailable. The
 * work is done in kick(), which then signals the eventfd; complete() is
 * still only called from poll(). Same returns as blk_uring_create (minus
 * the io_uring ones).
 */
int blk_sync_create(const struct blk_image *img, unsigned int queue_depth,
		    blk_complete_fn complete, void *ctx, struct blk_backend **out);

/*
 * Snapshot drives (snapshot=on): the image stays as it is, and the guest's
 * writes go to a private overlay that dies with the VM.
 *
 * blk_image_snapshot makes img, opened read-only by blk_image_open (so the
 * base holds a shared lock and is never written), a writable snapshot drive.
 * The overlay is a file with no name in dir (NULL: blk_overlay_dir()), made
 * with O_TMPFILE, or unlinked the instant it is made where the filesystem
 * has no O_TMPFILE, so nothing is left behind however vmm ends. Nothing is
 * copied, whatever the base's size:
 *   - a regular file whose filesystem can clone extents into dir (FICLONE:
 *     XFS, btrfs; dir on the base's filesystem): the overlay is a reflink
 *     clone of it, and img->fd becomes the clone, a plain file;
 *   - otherwise (ext4, tmpfs, another filesystem, a block device): the
 *     overlay is a sparse file of the base's size, img->fd stays the base,
 *     and blk_backend_create runs the overlay engine over both.
 * Reads of the base follow the cache mode (O_DIRECT under none and
 * directsync), and so do a reflink clone's writes; a sparse overlay is
 * buffered in every mode: it is never flushed and dies with the VM. 0, or -EINVAL (img not opened read-only, or already a
 * snapshot), -errno of the overlay's creation: -ENOENT / -ENOTDIR (dir is
 * not a directory), -EACCES / -EPERM / -EROFS (dir cannot be written),
 * -ENOSPC, -EDQUOT, -EFBIG (dir's filesystem cannot hold a file that
 * large), -ENOMEM. img is unchanged on error.
 */
int blk_image_snapshot(struct blk_image *img, const char *dir);

/* Where overlays go when not told: $TMPDIR if set and not empty, else /var/tmp (QEMU's rule). Never NULL. */
const char *blk_overlay_dir(void);

/* What a snapshot drive's overlay holds, for --stats. */
struct blk_snapshot_info {
	bool reflink;              /* a reflink clone of the base, else a sparse overlay */
	uint64_t overlay_bytes;    /* host bytes the overlay holds of its own: its allocated blocks,
	                            * written or allocated ahead (sparse: up to 1 MiB for each MiB
	                            * written in), its extents not shared with the base (reflink) */
	uint32_t cluster;          /* sparse: the map's granularity, bytes */
	uint64_t copy_ups;         /* sparse: clusters whose unwritten part was copied from the base */
};

/* 0 and *out, -EINVAL if img is not a snapshot drive, or -errno of fstat / FIEMAP. */
int blk_image_snapshot_info(const struct blk_image *img, struct blk_snapshot_info *out);

/*
 * The cache-mode row a device must follow for img: its mode's, except that
 * a snapshot drive never flushes (flush_noop): its overlay dies with the
 * VM, so a FLUSH or a durable write would buy nothing (as QEMU's temporary
 * snapshot overlays, which it opens with cache.no-flush).
 */
struct blk_cache_props blk_image_cache_props(const struct blk_image *img);

/*
 * The backend for img: the overlay engine for a sparse snapshot drive (one at
 * a time per image: -EBUSY), else io_uring, else (io_uring unavailable or
 * disabled: -ENOSYS, -EPERM) the synchronous engine. Same contract and
 * returns as blk_uring_create.
 */
int blk_backend_create(const struct blk_image *img, unsigned int queue_depth,
		       blk_complete_fn complete, void *ctx, struct blk_backend **out);

#endif

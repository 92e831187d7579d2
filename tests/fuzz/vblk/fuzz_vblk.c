/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: a hostile guest against the virtio-blk device (virtio-mmio registers, split virtqueue,
 * request parsing, completions), and the block backend below it.
 *
 * Guest RAM is 64 KiB in two regions that are contiguous in guest-physical space but not on the host,
 * each with PROT_NONE pages on both sides: any access the device makes outside RAM, or across the
 * region boundary as if it were one buffer, faults in every build.
 *
 * The backend is a fake that completes as the script says (within the backend contract of
 * blk_complete_fn, or, on purpose, outside it: a READ/WRITE completed with 0 bytes or more than it asked
 * for, which the device must fail), or (header bit 0x80) a real one over a
 * memfd, the synchronous engine or io_uring's, with O_DIRECT's alignment rules, behind the same checks:
 * guest buffers at any address and sectors off the block size then go through the bounce buffers of
 * src/block.
 *
 * The input is a 6-byte header, then a script of operations (see the OP_ list): pokes into RAM,
 * descriptors, avail ring entries, register reads and writes, kicks, backend completions with any
 * result, and the I/O thread's own entry points. The test thread plays the I/O thread (no thread is
 * started). After the script the backend completes everything and the I/O thread's loop runs until
 * nothing moves. virtq_pop/push/unpop/init are wrapped (-Wl,--wrap) so every chain the device takes
 * and every used entry it writes is checked against the guest's side. Invariants (abort() on breach):
 *
 *   - every buffer the device takes from a chain, or hands to the backend, lies in one RAM region;
 *   - the device writes to guest RAM only in the used ring and in buffers the guest made writable;
 *   - a used entry names a head the device popped in this generation and has not returned yet, with
 *     a length within that chain's writable bytes, 0 only for a malformed chain or one without a
 *     writable byte, and the status byte it covers is 0/1/2 (0 when data came with it);
 *   - used->idx and the entry in RAM are what the device pushed; never more slots in use than it has;
 *   - the backend is asked only for whole ranges inside the disk, never to write a read-only drive,
 *     never for a request it already holds, and the device leaves a request alone while it is there;
 *     each chain goes to the backend at most once per pop (a short transfer is the backend's to
 *     resume: the fake moves part of a request's bytes and keeps it, as the engines do);
 *   - with the real backend: guest RAM and the image end up as the requests say (a plain model of
 *     each batch), and the image never changes size;
 *   - no round pops more than a ring's worth; an interrupt the guest asked for is raised;
 *   - a guest that plays by the rules (kicks when the device asks, leaves the rings alone) gets every
 *     request it made available completed once the backend has finished, within a bounded number
 *     of wake-ups, and no request slot leaks;
 *   - the stats add up (requests popped, errors, bytes at most what the backend moved).
 */
#include <endian.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vblk_internal.h"

#define CHECK(cond, ...)                                                                          \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "fuzz_vblk: invariant broken (%s:%d): %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                             \
			fputc('\n', stderr);                                                      \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

/* ---- guest RAM: region A then region B, contiguous in gpa, apart on the host ---- */

#define RAM_GPA 0x100000ull
#define RA_SIZE 0xc000u
#define RB_SIZE 0x4000u
#define RAM_SIZE (RA_SIZE + RB_SIZE)

static uint8_t *ra, *rb;
static struct gmem mem;
static uint8_t snap[RAM_SIZE];         /* RAM as the harness last saw it */
static uint8_t wmap[RAM_SIZE / 8];     /* bytes the device may write: writable buffers popped, used rings */

static void ram_map(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t total = 3 * pg + RA_SIZE + RB_SIZE;
	uint8_t *m;

	if (ra)
		return;
	m = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED, "mmap");
	ra = m + pg;
	rb = ra + RA_SIZE + pg;
	CHECK(mprotect(ra, RA_SIZE, PROT_READ | PROT_WRITE) == 0, "mprotect");
	CHECK(mprotect(rb, RB_SIZE, PROT_READ | PROT_WRITE) == 0, "mprotect");
	mem.nregions = 2;
	mem.regions[0] = (struct gmem_region){ .gpa = RAM_GPA, .size = RA_SIZE, .host = ra };
	mem.regions[1] = (struct gmem_region){ .gpa = RAM_GPA + RA_SIZE, .size = RB_SIZE, .host = rb };
}

/* Host address of linear RAM offset off (< RAM_SIZE). */
static uint8_t *lin(uint64_t off)
{
	return off < RA_SIZE ? ra + off : rb + (off - RA_SIZE);
}

/* Linear offset of host range [p, p + len) when it lies in one region, else -1. */
static int64_t host_off(const void *p, uint64_t len)
{
	const uint8_t *b = p;

	if (b >= ra && b <= ra + RA_SIZE && len <= (uint64_t)(ra + RA_SIZE - b))
		return b - ra;
	if (b >= rb && b <= rb + RB_SIZE && len <= (uint64_t)(rb + RB_SIZE - b))
		return RA_SIZE + (b - rb);
	return -1;
}

/* The guest writes bytes at gpa; bytes outside RAM are dropped. */
static void ram_write(uint64_t gpa, const void *src, uint64_t len)
{
	const uint8_t *s = src;

	for (uint64_t i = 0; i < len; i++) {
		uint64_t a = gpa + i;

		if (a >= RAM_GPA && a - RAM_GPA < RAM_SIZE) {
			*lin(a - RAM_GPA) = s[i];
			snap[a - RAM_GPA] = s[i];
		}
	}
}

static void ram_zero(uint64_t gpa, uint64_t len)
{
	static const uint8_t zero[256];

	for (uint64_t done = 0; done < len && done < RAM_SIZE + 256; done += sizeof(zero))
		ram_write(gpa + done, zero, len - done < sizeof(zero) ? len - done : sizeof(zero));
}

/* The guest reads a little-endian value at gpa; 0 for bytes outside RAM. */
static uint64_t ram_read(uint64_t gpa, unsigned int len)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < len; i++) {
		uint64_t a = gpa + i;

		if (a >= RAM_GPA && a - RAM_GPA < RAM_SIZE)
			v |= (uint64_t)*lin(a - RAM_GPA) << (8 * i);
	}
	return v;
}

static bool gpa_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

static void wmap_mark(int64_t off, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		wmap[(off + i) / 8] |= 1u << ((off + i) % 8);
}

static bool wmap_any(int64_t off, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		if (wmap[(off + i) / 8] >> ((off + i) % 8) & 1)
			return true;
	return false;
}

/* Every byte the device changed since the last look must be one it may write. */
static void ram_check_writes(const char *what)
{
	/* Whole chunks first: most of RAM is unchanged at most looks. */
	for (uint64_t c = 0; c < RAM_SIZE; c += 1024) {
		if (memcmp(lin(c), snap + c, 1024) == 0)
			continue;
		for (uint64_t j = c; j < c + 1024; j++)
			CHECK(*lin(j) == snap[j] || (wmap[j / 8] >> (j % 8) & 1),
			      "%s: the device wrote gpa 0x%llx, which no writable buffer or used ring covers", what,
			      (unsigned long long)(RAM_GPA + j));
		memcpy(snap + c, lin(c), 1024);
	}
}

/* ---- the backend: checks every request, completes when the script says ---- */

#define BE_MAX 512

struct be_slot {
	struct blk_req *req;
	struct blk_req copy;   /* the request as submitted: the device must leave it alone meanwhile */
	uint64_t moved;        /* READ/WRITE: bytes moved so far (a short transfer the fake resumes) */
};

struct fz_backend {
	struct blk_backend be;
	int efd;
	struct be_slot pending[BE_MAX];
	unsigned int npending;
	struct blk_req *done[BE_MAX];
	int done_res[BE_MAX];
	unsigned int ndone;
	unsigned int capacity;   /* -EAGAIN at this many in flight; 0: no limit */
	int fail_next;           /* the next submit returns this */
	/*
	 * Set: a real backend (the synchronous one, over a memfd) does the work instead, and this one only
	 * checks what goes in and comes out; completions are whatever the host gives.
	 */
	struct blk_backend *inner;
	unsigned int inner_inflight;
	struct blk_req *batch[BE_MAX];   /* submitted to inner since its last kick, in order */
	uint64_t batch_sum[BE_MAX];      /* WRITE: its data when submitted (io_uring's bounce copies it then) */
	unsigned int nbatch;
	/*
	 * inner is the io_uring backend: kick waits until the kernel has finished the batch, and holds
	 * the completions (in done[]) for the next poll, so that the device sees the same as with the
	 * synchronous one: every request done by the time kick returns.
	 */
	bool uring;
	bool stashing;
	bool no_model;   /* a kick failed: what ran is unknown */
};

static struct {
	uint64_t disk_bytes;   /* what the device may address: its capacity */
	bool readonly;
	uint64_t read_bytes, write_bytes;    /* moved for requests of any generation, completed or not */
	uint64_t reads_full, writes_full;    /* completions with res == len */
	uint64_t flush_done, discard_done, wz_done;
	uint64_t submits;
	uint8_t sink;
	/* The real backend's reference model: the image as it must be, and its O_DIRECT rules. */
	int fd;
	uint64_t img_size;
	uint8_t *shadow;       /* img_size bytes, sparse */
	bool direct;
	uint32_t mem_align, off_align;
} bst;

static uint8_t model_ram[RAM_SIZE];

static struct fz_backend *be_of(struct blk_backend *be)
{
	return (struct fz_backend *)be;
}

static void check_iov_in_ram(const struct iovec *iov, unsigned int n, const char *what)
{
	for (unsigned int i = 0; i < n; i++)
		CHECK(iov[i].iov_len > 0 && host_off(iov[i].iov_base, iov[i].iov_len) >= 0,
		      "%s: iov %u (%p, %zu bytes) is not inside one guest RAM region", what, i, iov[i].iov_base,
		      iov[i].iov_len);
}

/* Per request slot: its chain was popped since the slot last went to the backend. */
#define SLOTS_MAX 512

static bool fresh[SLOTS_MAX];
static struct vblk_dev *cur_dev;

static bool *fresh_of_slot(const struct vblk_req *r)
{
	ptrdiff_t i = r - cur_dev->reqs;

	CHECK(i >= 0 && i < (ptrdiff_t)cur_dev->queue_size && i < SLOTS_MAX, "not one of the device's request slots");
	return &fresh[i];
}

static bool *fresh_of(const struct blk_req *req)
{
	const struct vblk_req *r = req->opaque;
	bool *f = fresh_of_slot(r);

	CHECK(&r->breq == req, "a backend request that is not its slot's");
	return f;
}

/* Bytes a backend moved for req (for the stats checks). */
static void account_bytes(const struct blk_req *req, uint64_t n)
{
	if (req->op == BLK_OP_READ)
		bst.read_bytes += n;
	else if (req->op == BLK_OP_WRITE)
		bst.write_bytes += n;
}

/* What a completion tells the stats checks. */
static void account(const struct blk_req *req, int res)
{
	switch (req->op) {
	case BLK_OP_READ: bst.reads_full += res > 0 && (uint64_t)res == req->len; break;
	case BLK_OP_WRITE: bst.writes_full += res > 0 && (uint64_t)res == req->len; break;
	case BLK_OP_FLUSH: bst.flush_done++; break;
	case BLK_OP_DISCARD: bst.discard_done += res >= 0; break;
	case BLK_OP_WRITE_ZEROES: bst.wz_done += res >= 0; break;
	}
}

/* A hash of a WRITE's data. */
static uint64_t iov_sum(const struct blk_req *req)
{
	uint64_t h = 0xcbf29ce484222325ull;

	if (req->op != BLK_OP_WRITE)
		return 0;
	for (unsigned int i = 0; i < req->iovcnt; i++)
		for (size_t j = 0; j < req->iov[i].iov_len; j++)
			h = (h ^ ((const uint8_t *)req->iov[i].iov_base)[j]) * 0x100000001b3ull;
	return h;
}

static int fz_submit(struct blk_backend *be, struct blk_req *req)
{
	struct fz_backend *fb = be_of(be);

	bst.submits++;
	CHECK(req->op <= BLK_OP_WRITE_ZEROES, "unknown op %d", (int)req->op);
	for (unsigned int i = 0; i < fb->npending; i++)
		CHECK(fb->pending[i].req != req, "request %p submitted while the backend still holds it", (void *)req);
	for (unsigned int i = 0; i < fb->ndone; i++)
		CHECK(fb->done[i] != req, "request %p submitted before its completion was reaped", (void *)req);
	if (bst.readonly)
		CHECK(req->op == BLK_OP_READ || req->op == BLK_OP_FLUSH, "op %d on a read-only drive", (int)req->op);
	if (req->op != BLK_OP_FLUSH) {
		CHECK(req->len > 0 && req->offset <= bst.disk_bytes && req->len <= bst.disk_bytes - req->offset,
		      "op %d at [%llu, +%llu) is not inside the disk (%llu bytes)", (int)req->op,
		      (unsigned long long)req->offset, (unsigned long long)req->len,
		      (unsigned long long)bst.disk_bytes);
	}
	if (req->op == BLK_OP_READ || req->op == BLK_OP_WRITE) {
		uint64_t sum = 0;

		CHECK(req->iovcnt >= 1 && req->iovcnt <= VIRTQ_ELEM_MAX_SEGS, "iovcnt %u", req->iovcnt);
		check_iov_in_ram(req->iov, req->iovcnt, "backend request");
		for (unsigned int i = 0; i < req->iovcnt; i++)
			sum += req->iov[i].iov_len;
		CHECK(sum == req->len, "iov total %llu != len %llu", (unsigned long long)sum,
		      (unsigned long long)req->len);
	}
	/* Refused (-EAGAIN), a chain goes back to the ring and comes out fresh again. */
	CHECK(*fresh_of(req), "op %d went to the backend twice for one pop", (int)req->op);
	*fresh_of(req) = false;
	if (req->op == BLK_OP_DISCARD || req->op == BLK_OP_WRITE_ZEROES)
		CHECK(req->len % VBLK_SECTOR == 0 && req->len <= (uint64_t)VBLK_MAX_DWZ_SECTORS * VBLK_SECTOR,
		      "discard/write-zeroes of %llu bytes", (unsigned long long)req->len);
	if (fb->fail_next) {
		int r = fb->fail_next;

		fb->fail_next = 0;
		return r;
	}
	if (fb->inner) {
		if (fb->capacity && fb->inner_inflight >= fb->capacity)
			return -EAGAIN;
		int r = blk_backend_submit(fb->inner, req);

		/* -EIO: io_uring's bounce set-up refuses a write that would grow the image; -EINVAL: malformed. */
		CHECK(r == 0 || r == -EAGAIN || r == -EIO || r == -ENOMEM, "the backend refused a checked request: %d", r);
		if (r == 0) {
			fb->inner_inflight++;
			fb->batch_sum[fb->nbatch] = iov_sum(req);
			fb->batch[fb->nbatch++] = req;
		}
		return r;
	}
	if ((fb->capacity && fb->npending + fb->ndone >= fb->capacity))
		return -EAGAIN;
	CHECK(fb->npending + fb->ndone < BE_MAX, "more requests in the backend than the device has slots");
	fb->pending[fb->npending].req = req;
	fb->pending[fb->npending].copy = *req;
	fb->pending[fb->npending].moved = 0;
	fb->npending++;
	return 0;
}

/* Whether the synchronous backend will refuse req: an O_DIRECT write that would grow the image. */
static bool model_write_fails(const struct blk_req *req)
{
	uint64_t om = bst.off_align - 1, mm = bst.mem_align - 1;
	bool bounce = false;

	if (!bst.direct)
		return false;
	bounce = ((req->offset | req->len) & om) != 0;
	for (unsigned int i = 0; i < req->iovcnt; i++)
		bounce |= ((uintptr_t)req->iov[i].iov_base & mm) || (req->iov[i].iov_len & om);
	if (!bounce)
		return false;
	return ((req->offset + req->len + om) & ~om) > bst.img_size;
}

/*
 * What a batch of requests must do, done the plain way on copies of guest RAM and the image, in the
 * order the backend runs them; after the real backend has run them, RAM and image must match.
 */
static void model_batch(struct fz_backend *fb)
{
	for (uint64_t off = 0; off < RAM_SIZE; off += RA_SIZE)
		memcpy(model_ram + off, lin(off), off ? RB_SIZE : RA_SIZE);
	for (unsigned int k = 0; k < fb->nbatch; k++) {
		const struct blk_req *req = fb->batch[k];
		uint64_t pos = req->offset;

		switch (req->op) {
		case BLK_OP_READ:
		case BLK_OP_WRITE:
			if (req->op == BLK_OP_WRITE && model_write_fails(req))
				break;
			for (unsigned int i = 0; i < req->iovcnt; i++) {
				uint8_t *m = model_ram + host_off(req->iov[i].iov_base, req->iov[i].iov_len);

				if (req->op == BLK_OP_READ)
					memcpy(m, bst.shadow + pos, req->iov[i].iov_len);
				else
					memcpy(bst.shadow + pos, m, req->iov[i].iov_len);
				pos += req->iov[i].iov_len;
			}
			break;
		case BLK_OP_DISCARD:
		case BLK_OP_WRITE_ZEROES:
			/* A hole in a memfd reads as zeroes. */
			memset(bst.shadow + req->offset, 0, req->len);
			break;
		case BLK_OP_FLUSH:
			break;
		}
	}
}

static void model_check(struct fz_backend *fb)
{
	uint8_t buf[4096];

	for (uint64_t off = 0; off < RAM_SIZE; off += RA_SIZE)
		CHECK(memcmp(model_ram + off, lin(off), off ? RB_SIZE : RA_SIZE) == 0,
		      "guest RAM after the backend ran is not what the requests say");
	/* The image around each request, a block either side: what read-modify-write may touch. */
	for (unsigned int k = 0; k < fb->nbatch; k++) {
		const struct blk_req *req = fb->batch[k];
		uint64_t from, to;

		if (req->op == BLK_OP_READ || req->op == BLK_OP_FLUSH)
			continue;
		from = req->offset > 4096 ? (req->offset - 4096) & ~4095ull : 0;
		to = req->offset + req->len + 4096;
		to = to > bst.img_size ? bst.img_size : to;
		if (req->op != BLK_OP_WRITE && to - from > (1u << 20))
			to = from + (1u << 20);   /* a huge discard: its start is enough */
		for (uint64_t pos = from; pos < to; pos += sizeof(buf)) {
			uint64_t n = to - pos < sizeof(buf) ? to - pos : sizeof(buf);

			CHECK(pread(bst.fd, buf, n, (off_t)pos) == (ssize_t)n, "pread of the image");
			CHECK(memcmp(buf, bst.shadow + pos, n) == 0,
			      "image bytes [%llu, +%llu) are not what the requests wrote (op %d at %llu+%llu)",
			      (unsigned long long)pos, (unsigned long long)n, (int)req->op,
			      (unsigned long long)req->offset, (unsigned long long)req->len);
		}
	}
}

static bool req_writes_disk(const struct blk_req *r)
{
	return r->op == BLK_OP_WRITE || r->op == BLK_OP_DISCARD || r->op == BLK_OP_WRITE_ZEROES;
}

static bool iovs_overlap(const struct blk_req *a, const struct blk_req *b)
{
	if (!(a->op == BLK_OP_READ || a->op == BLK_OP_WRITE) || !(b->op == BLK_OP_READ || b->op == BLK_OP_WRITE))
		return false;
	for (unsigned int i = 0; i < a->iovcnt; i++)
		for (unsigned int j = 0; j < b->iovcnt; j++)
			if (gpa_overlaps(host_off(a->iov[i].iov_base, 1), a->iov[i].iov_len,
					 host_off(b->iov[j].iov_base, 1), b->iov[j].iov_len))
				return true;
	return false;
}

/* io_uring runs a batch in any order: two of its requests that touch the same bytes leave no one answer. */
static bool batch_conflicts(const struct fz_backend *fb)
{
	for (unsigned int i = 0; i < fb->nbatch; i++) {
		for (unsigned int j = i + 1; j < fb->nbatch; j++) {
			const struct blk_req *a = fb->batch[i], *b = fb->batch[j];

			if ((req_writes_disk(a) || req_writes_disk(b)) && a->op != BLK_OP_FLUSH &&
			    b->op != BLK_OP_FLUSH && gpa_overlaps(a->offset, a->len, b->offset, b->len))
				return true;
			if ((a->op == BLK_OP_READ || b->op == BLK_OP_READ) && iovs_overlap(a, b))
				return true;
		}
	}
	return false;
}

static bool stashed(const struct fz_backend *fb, const struct blk_req *req)
{
	for (unsigned int i = 0; i < fb->ndone; i++)
		if (fb->done[i] == req)
			return true;
	return false;
}

/* Reap from io_uring until every request of the batch has completed (kept for the next poll). */
static void uring_wait(struct fz_backend *fb)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned int tries = 0;; tries++) {
		unsigned int k = 0;

		fb->stashing = true;
		int r = blk_backend_poll(fb->inner);
		fb->stashing = false;
		CHECK(r >= 0, "io_uring poll: %d", r);
		while (k < fb->nbatch && stashed(fb, fb->batch[k]))
			k++;
		if (k == fb->nbatch)
			return;
		/* Reads and writes of a memfd finish inline; fsync and fallocate go to a kernel worker. */
		if (tries < 1000) {
			sched_yield();
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		CHECK(t.tv_sec - t0.tv_sec < 30, "io_uring has not finished %u requests after 30 s", fb->nbatch - k);
		usleep(50);
	}
}

static int fz_kick(struct blk_backend *be)
{
	struct fz_backend *fb = be_of(be);
	int r;

	if (!fb->inner)
		return 0;
	if (fb->uring && batch_conflicts(fb))
		fb->no_model = true;   /* and for good: the image is no longer known */
	/*
	 * io_uring takes a write's data when the kernel runs it, or (bounced) at submit: if the device
	 * changed it in between (a status byte in a data buffer), either is right.
	 */
	for (unsigned int k = 0; fb->uring && k < fb->nbatch; k++)
		if (iov_sum(fb->batch[k]) != fb->batch_sum[k])
			fb->no_model = true;
	if (!fb->no_model)
		model_batch(fb);
	r = blk_backend_kick(fb->inner);
	if (r < 0)
		fb->no_model = true;
	if (fb->uring && r == 0)
		uring_wait(fb);
	if (!fb->no_model)
		model_check(fb);
	fb->nbatch = 0;
	return r;
}

/* The real backend's completion callback (ctx: the checking backend). */
static void px_complete(void *ctx, struct blk_req *req, int res)
{
	struct fz_backend *fb = ctx;

	if (fb->stashing) {
		CHECK(fb->ndone < BE_MAX, "completions overflow");
		fb->done[fb->ndone] = req;
		fb->done_res[fb->ndone] = res;
		fb->ndone++;
		return;
	}
	CHECK(fb->inner_inflight > 0, "a completion for nothing in flight");
	fb->inner_inflight--;
	CHECK(res < 0 || (req->op != BLK_OP_READ && req->op != BLK_OP_WRITE) || (uint64_t)res == req->len,
	      "the backend completed %d of %llu bytes", res, (unsigned long long)req->len);
	account_bytes(req, res > 0 ? (uint64_t)res : 0);
	account(req, res);
	fb->be.complete(fb->be.complete_ctx, req, res);
}

static int fz_poll(struct blk_backend *be)
{
	struct fz_backend *fb = be_of(be);
	unsigned int n = fb->ndone;
	struct blk_req *done[BE_MAX];
	int res[BE_MAX];

	if (fb->inner && !fb->uring)
		return blk_backend_poll(fb->inner);
	memcpy(done, fb->done, n * sizeof(done[0]));
	memcpy(res, fb->done_res, n * sizeof(res[0]));
	fb->ndone = 0;
	for (unsigned int i = 0; i < n; i++) {
		if (fb->uring) {
			px_complete(fb, done[i], res[i]);
			continue;
		}
		account(done[i], res[i]);
		be->complete(be->complete_ctx, done[i], res[i]);
	}
	return (int)n;
}

static int fz_event_fd(struct blk_backend *be)
{
	return be_of(be)->inner ? blk_backend_event_fd(be_of(be)->inner) : be_of(be)->efd;
}

static int fz_poll_events(struct blk_backend *be)
{
	return be_of(be)->inner && !be_of(be)->uring ? be_of(be)->inner_inflight > 0 : be_of(be)->ndone > 0;
}

static void fz_destroy(struct blk_backend *be)
{
	struct fz_backend *fb = be_of(be);

	if (fb->inner)
		blk_backend_destroy(fb->inner);
	close(fb->efd);
	free(fb);
}

static const struct blk_backend_ops fz_ops = {
	.submit = fz_submit,
	.kick = fz_kick,
	.poll = fz_poll,
	.event_fd = fz_event_fd,
	.poll_events = fz_poll_events,
	.destroy = fz_destroy,
};

static const int errnos[] = { -EIO, -ENOSPC, -EAGAIN, -EINTR, -ENOMEM, -EINVAL, -EFBIG, -1 };

/* Move bytes [from, from + n) of pending READ/WRITE req: a pattern of the disk offset into a read's buffers; a write's are read (ASan sees every byte). */
static void be_move(struct blk_req *req, uint64_t from, uint64_t n)
{
	uint64_t off = req->offset + from;

	account_bytes(req, n);
	for (unsigned int k = 0; k < req->iovcnt && n > 0; k++) {
		uint8_t *p = req->iov[k].iov_base;
		uint64_t l = req->iov[k].iov_len;

		if (from >= l) {
			from -= l;
			continue;
		}
		uint64_t take = l - from < n ? l - from : n;

		for (uint64_t j = from; j < from + take; j++, off++) {
			if (req->op == BLK_OP_READ)
				p[j] = (uint8_t)(off * 7 + (off >> 9));
			else
				bst.sink ^= p[j];
		}
		from = 0;
		n -= take;
	}
}

/*
 * Let pending request i progress as the given kind says (see OP_FINISH): 0 all of it, 1 -EIO, 2 part of
 * a READ/WRITE's bytes (it stays pending: a short transfer the backend resumes), 3 a result of 0,
 * 4 more bytes than asked, 5 an errno. 3 and 4 break the contract for a READ/WRITE on purpose.
 */
static void be_finish(struct fz_backend *fb, unsigned int i, unsigned int kind, uint32_t arg)
{
	struct be_slot *sl = &fb->pending[i];
	struct blk_req *req = sl->req;
	const struct blk_req *c = &sl->copy;
	bool rw = req->op == BLK_OP_READ || req->op == BLK_OP_WRITE;
	uint64_t full = rw ? req->len : 0, left = full - sl->moved;
	int64_t res;

	CHECK(req->op == c->op && req->offset == c->offset && req->len == c->len && req->iov == c->iov &&
	      req->iovcnt == c->iovcnt && req->opaque == c->opaque,
	      "the device changed a request while the backend held it");
	switch (kind % 6) {
	case 0: res = full; break;
	case 1: res = -EIO; break;
	case 2:
		if (left > 1) {
			uint64_t n = 1 + arg % (left - 1);

			be_move(req, sl->moved, n);
			sl->moved += n;
			return;
		}
		res = full;
		break;
	case 3: res = 0; break;
	case 4: res = full + 1 + arg % 4096; break;
	default: res = errnos[arg % (sizeof(errnos) / sizeof(errnos[0]))]; break;
	}
	if (rw && res > 0)
		be_move(req, sl->moved, left);
	memmove(sl, sl + 1, (fb->npending - i - 1) * sizeof(*sl));
	fb->npending--;
	fb->done[fb->ndone] = req;
	fb->done_res[fb->ndone] = (int)res;
	fb->ndone++;
	(void)eventfd_write(fb->efd, 1);
}

/* ---- what the device popped and pushed (the wraps) ---- */

#define OUT_MAX 1024

struct outstanding {
	uint16_t head;
	bool bad;          /* virtq_pop said the chain was malformed */
	bool loose;        /* the guest had this head out twice: which push is whose is unknown */
	uint64_t in_len;
	uint8_t *status;   /* last writable byte, or NULL */
};

static struct {
	struct vblk_dev *dev;
	struct outstanding out[OUT_MAX];
	unsigned int nout;
	int last_pop;         /* index in out of the chain popped last, for unpop; -1 none */
	uint64_t consumed, unpops, pushes, errors;
	bool ambiguous;       /* a push could not be told apart from another (see loose) */
	bool polite;          /* the guest kept the rules, so every request must complete */
	/* The current rings (device side), for wmap and the overlap rules. */
	uint64_t avail_gpa, used_gpa, avail_len, used_len;
} ws;

int __real_virtq_pop(struct virtq *vq, struct virtq_elem *elem);
void __real_virtq_push(struct virtq *vq, uint16_t head, uint32_t len);
void __real_virtq_unpop(struct virtq *vq);
int __real_virtq_init(struct virtq *vq, const struct gmem *m, uint16_t size, uint64_t desc_gpa, uint64_t avail_gpa,
		      uint64_t used_gpa, uint64_t features);

int __wrap_virtq_init(struct virtq *vq, const struct gmem *m, uint16_t size, uint64_t desc_gpa, uint64_t avail_gpa,
		      uint64_t used_gpa, uint64_t features);
int __wrap_virtq_pop(struct virtq *vq, struct virtq_elem *elem);
void __wrap_virtq_push(struct virtq *vq, uint16_t head, uint32_t len);
void __wrap_virtq_unpop(struct virtq *vq);

int __wrap_virtq_init(struct virtq *vq, const struct gmem *m, uint16_t size, uint64_t desc_gpa, uint64_t avail_gpa,
		      uint64_t used_gpa, uint64_t features)
{
	int r = __real_virtq_init(vq, m, size, desc_gpa, avail_gpa, used_gpa, features);

	if (r < 0)
		return r;
	CHECK(size >= 1 && (size & (size - 1)) == 0, "virtq_init accepted size %u", size);
	CHECK(host_off(vq->desc, 16ull * size) >= 0, "descriptor table (gpa 0x%llx, %u entries) not in RAM",
	      (unsigned long long)desc_gpa, size);
	CHECK(host_off(vq->avail, 6 + 2ull * size) >= 0, "avail ring (gpa 0x%llx) not in RAM",
	      (unsigned long long)avail_gpa);
	CHECK(host_off(vq->used, 6 + 8ull * size) >= 0, "used ring (gpa 0x%llx) not in RAM",
	      (unsigned long long)used_gpa);
	ws.nout = 0;
	ws.last_pop = -1;
	ws.avail_gpa = avail_gpa;
	ws.avail_len = 6 + 2ull * size;
	ws.used_gpa = used_gpa;
	ws.used_len = 6 + 8ull * size;
	wmap_mark(host_off(vq->used, ws.used_len), ws.used_len);
	/* A device writing its used ring over the avail ring can make work for itself: not a polite guest. */
	if (gpa_overlaps(avail_gpa, ws.avail_len, used_gpa, ws.used_len))
		ws.polite = false;
	return r;
}

int __wrap_virtq_pop(struct virtq *vq, struct virtq_elem *elem)
{
	bool was_broken = vq->broken;
	int r = __real_virtq_pop(vq, elem);

	ws.last_pop = -1;
	if (r == 0)
		return r;
	if (r == -EPROTO) {
		CHECK(vq->broken, "-EPROTO without marking the ring broken");
		return r;
	}
	CHECK(!was_broken, "a broken ring popped a chain (%d)", r);
	CHECK(r == 1 || r == -EFAULT || r == -EINVAL || r == -ELOOP || r == -E2BIG, "virtq_pop returned %d", r);
	CHECK(elem->head < vq->size, "popped head %u >= queue size %u", elem->head, vq->size);
	CHECK(elem->out_num + elem->in_num <= vq->max_segs, "%u + %u segments > max %u", elem->out_num,
	      elem->in_num, vq->max_segs);
	check_iov_in_ram(elem->iov, elem->out_num + elem->in_num, "popped chain");

	uint64_t out_len = 0, in_len = 0;

	for (unsigned int i = 0; i < elem->out_num + elem->in_num; i++) {
		int64_t off = host_off(elem->iov[i].iov_base, elem->iov[i].iov_len);

		if (i < elem->out_num) {
			out_len += elem->iov[i].iov_len;
			continue;
		}
		in_len += elem->iov[i].iov_len;
		wmap_mark(off, elem->iov[i].iov_len);
		if (gpa_overlaps(RAM_GPA + off, elem->iov[i].iov_len, ws.avail_gpa, ws.avail_len) ||
		    gpa_overlaps(RAM_GPA + off, elem->iov[i].iov_len, ws.used_gpa, ws.used_len))
			ws.polite = false;
	}
	CHECK(out_len == elem->out_len && in_len == elem->in_len, "elem lengths %llu/%llu, iovs say %llu/%llu",
	      (unsigned long long)elem->out_len, (unsigned long long)elem->in_len, (unsigned long long)out_len,
	      (unsigned long long)in_len);
	CHECK(ws.nout < OUT_MAX, "outstanding chains overflow");

	struct outstanding *o = &ws.out[ws.nout];

	o->head = elem->head;
	o->bad = r < 0;
	o->loose = false;
	o->in_len = elem->in_len;
	o->status = NULL;
	if (elem->in_num > 0) {
		const struct iovec *last = &elem->iov[elem->out_num + elem->in_num - 1];

		o->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	}
	*fresh_of_slot((const struct vblk_req *)((const char *)elem - offsetof(struct vblk_req, elem))) = true;
	ws.last_pop = (int)ws.nout;
	ws.nout++;
	ws.consumed++;
	CHECK(ws.nout <= ws.dev->queue_size, "%u chains outstanding, the device has %u slots", ws.nout,
	      ws.dev->queue_size);
	return r;
}

void __wrap_virtq_unpop(struct virtq *vq)
{
	CHECK(ws.last_pop >= 0 && ws.last_pop == (int)ws.nout - 1 && !ws.out[ws.last_pop].bad,
	      "unpop without a good chain popped just before");
	ws.nout--;
	ws.last_pop = -1;
	ws.unpops++;
	__real_virtq_unpop(vq);
}

void __wrap_virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	struct vblk_dev *dev = ws.dev;
	int best = -1;

	ws.last_pop = -1;
	CHECK(vq == &dev->vq && dev->active, "push on a queue that is not the active one");
	CHECK(head < vq->size, "push of head %u >= queue size %u", head, vq->size);
	unsigned int same = 0;

	for (unsigned int i = 0; i < ws.nout; i++) {
		const struct outstanding *o = &ws.out[i];
		bool fits;

		if (o->head != head)
			continue;
		same++;
		if (o->loose)
			fits = len <= o->in_len;
		else if (len == 0)
			fits = o->bad || o->in_len == 0;
		else
			fits = !o->bad && o->status && len <= o->in_len &&
			       (len == 1 ? *o->status <= VIRTIO_BLK_S_UNSUPP : *o->status == VIRTIO_BLK_S_OK);
		if (fits && (best < 0 || o->in_len < ws.out[best].in_len))
			best = (int)i;
	}
	CHECK(best >= 0,
	      "used entry (id %u, len %u) matches no chain popped and not yet returned (%u outstanding)", head,
	      len, ws.nout);
	if (same > 1) {
		/* The same head popped twice while in flight (a guest bug the device must survive). */
		ws.ambiguous = true;
		for (unsigned int i = 0; i < ws.nout; i++)
			if (ws.out[i].head == head)
				ws.out[i].loose = true;
	}
	if (len == 0 || *ws.out[best].status != VIRTIO_BLK_S_OK)
		ws.errors++;
	ws.out[best] = ws.out[--ws.nout];
	ws.pushes++;
	__real_virtq_push(vq, head, len);

	const struct virtq_used_elem *e = &vq->used->ring[(uint16_t)(vq->used_idx - 1) & (vq->size - 1)];

	CHECK(le32toh(e->id) == head && le32toh(e->len) == len && le16toh(vq->used->idx) == vq->used_idx,
	      "the used ring in RAM does not hold what was pushed");
}

/* ---- the guest ---- */

struct guest {
	uint16_t num;          /* queue size it programmed */
	uint64_t desc, avail, used;
	uint16_t avail_idx;    /* its copy of avail->idx */
	bool event_idx;
	bool stopped;
};

static struct guest g;

static void guest_reset_view(void)
{
	g.avail_idx = 0;
}

static void mw32(uint64_t off, uint32_t v)
{
	uint64_t gen = ws.dev->generation;

	vblk_mmio_write(ws.dev, off, &v, 4);
	if (ws.dev->generation != gen) {
		/* Reset: what was in flight is dropped, never returned; the rings start over. */
		ws.nout = 0;
		ws.last_pop = -1;
		guest_reset_view();
	}
}

/* The Linux probe sequence, with a few ways to get it wrong (flags). */
static void guest_setup(uint8_t flags, uint64_t feat, uint16_t num, uint64_t desc, uint64_t avail, uint64_t used)
{
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	if (!(flags & 1))
		mw32(VIRTIO_MMIO_STATUS, 0);
	if (!(flags & 16) && num && (num & (num - 1)) == 0 && !ws.dev->active) {
		/* As a driver does: the rings it hands over start zeroed (flag 16: left as they are). */
		ram_zero(avail, 6 + 2ull * num);
		ram_zero(used, 6 + 8ull * num);
	}
	mw32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	mw32(VIRTIO_MMIO_STATUS, st);
	mw32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mw32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feat);
	mw32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mw32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
	if (!(flags & 2))
		st |= VIRTIO_STATUS_FEATURES_OK;
	mw32(VIRTIO_MMIO_STATUS, st);
	mw32(VIRTIO_MMIO_QUEUE_SEL, 0);
	mw32(VIRTIO_MMIO_QUEUE_NUM, num);
	mw32(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	mw32(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	mw32(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
	mw32(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
	mw32(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
	mw32(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
	if (!(flags & 12))
		mw32(VIRTIO_MMIO_QUEUE_READY, 1);
	mw32(VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
	if (flags & 4)
		mw32(VIRTIO_MMIO_QUEUE_READY, 1);   /* readied after DRIVER_OK */
	/* The driver hands over zeroed rings (index 0); one that does not is not playing by the rules. */
	if ((flags & ~(2 | 4 | 16)) || ram_read(avail + 2, 2) != 0 || ram_read(used, 4) != 0 ||
	    (num && ram_read(used + 4 + 8ull * num, 2) != 0))
		ws.polite = false;
	g.num = num;
	g.desc = desc;
	g.avail = avail;
	g.used = used;
	g.event_idx = feat & (1ull << VIRTIO_RING_F_EVENT_IDX);
	ram_check_writes("setup");
}

/* A plain store of the guest's; one into the rings (other than through OP_AVAIL/OP_EVENTS) breaks the rules. */
static void guest_write(uint64_t gpa, const void *src, uint64_t len)
{
	if (gpa_overlaps(gpa, len, g.avail, 6 + 2ull * g.num) || gpa_overlaps(gpa, len, g.used, 6 + 8ull * g.num) ||
	    gpa_overlaps(gpa, len, ws.avail_gpa, ws.avail_len) || gpa_overlaps(gpa, len, ws.used_gpa, ws.used_len))
		ws.polite = false;
	ram_write(gpa, src, len);
}

/* The I/O thread going back to sleep: re-arm kicks, and come straight back after a capped round. */
static void thread_sleep(void)
{
	for (unsigned int i = 0; i < 4; i++) {
		bool again;

		pthread_mutex_lock(&ws.dev->lock);
		again = ws.dev->sched.round_capped;
		ws.dev->sched.round_capped = false;
		pthread_mutex_unlock(&ws.dev->lock);
		if (again) {
			int n = vblk_sched_process_queue(ws.dev);

			CHECK(n <= (int)ws.dev->vq.size, "one round popped %d chains from a ring of %u", n,
			      ws.dev->vq.size);
			continue;
		}
		vblk_sched_kicks_rearm(ws.dev);
		break;
	}
}

/* What the guest expects of interrupts around one wake-up of the I/O thread. */
struct irq_watch {
	uint16_t used0, signalled0;
	bool valid0;
	uint64_t pushes0, irqs0;
	uint16_t flags0, event0;
};

static struct vblk_stats stats(void)
{
	struct vblk_stats s;

	vblk_get_stats(ws.dev, &s);
	return s;
}

static void irq_watch_begin(struct irq_watch *w)
{
	struct virtq *vq = &ws.dev->vq;

	memset(w, 0, sizeof(*w));
	w->used0 = vq->used_idx;
	w->signalled0 = vq->signalled_used;
	w->valid0 = vq->signalled_used_valid;
	w->pushes0 = ws.pushes;
	w->irqs0 = stats().interrupts;
	if (ws.dev->active) {
		w->flags0 = le16toh(vq->avail->flags);
		w->event0 = le16toh(vq->avail->ring[vq->size]);
	}
}

static void irq_watch_end(const struct irq_watch *w)
{
	struct virtq *vq = &ws.dev->vq;
	bool want;

	if (!ws.dev->active || ws.pushes == w->pushes0)
		return;
	/*
	 * Where the device may write what the guest asked for (avail ring over the used ring or a
	 * writable buffer), its own writes can change the answer midway: no clear expectation.
	 */
	if (wmap_any(host_off(&vq->avail->flags, 2), 2) || wmap_any(host_off(&vq->avail->ring[vq->size], 2), 2))
		return;
	if (le16toh(vq->avail->flags) != w->flags0 || le16toh(vq->avail->ring[vq->size]) != w->event0)
		return;
	if (!vq->event_idx)
		want = !(w->flags0 & VIRTQ_AVAIL_F_NO_INTERRUPT);
	else
		want = !w->valid0 || (uint16_t)(vq->used_idx - w->event0 - 1) < (uint16_t)(vq->used_idx - w->signalled0);
	CHECK(!want || stats().interrupts > w->irqs0,
	      "entries %u..%u were used and the guest asked for an interrupt (flags %#x, used_event %u), none came",
	      w->used0, vq->used_idx, w->flags0, w->event0);
}

/* A wake-up of the I/O thread: fn runs with the checks around it. */
enum wake { WAKE_KICK, WAKE_COMPLETION, WAKE_POLL, WAKE_PARK_TIMER };

static void thread_wake(enum wake why)
{
	struct irq_watch w;
	int n;

	irq_watch_begin(&w);
	switch (why) {
	case WAKE_KICK:
		n = vblk_sched_process_queue(ws.dev);
		CHECK(n <= (int)ws.dev->vq.size, "one round popped %d chains from a ring of %u", n, ws.dev->vq.size);
		break;
	case WAKE_COMPLETION:
		(void)vblk_sched_process_completions(ws.dev);
		break;
	case WAKE_POLL:
		(void)vblk_sched_poll(ws.dev, 0);
		break;
	case WAKE_PARK_TIMER:
		pthread_mutex_lock(&ws.dev->lock);
		if (ws.dev->sched.parked_until_ns)
			(void)vblk_sched_park_expired_locked(ws.dev);
		pthread_mutex_unlock(&ws.dev->lock);
		break;
	}
	thread_sleep();
	irq_watch_end(&w);
	ram_check_writes("I/O thread");
	CHECK(ws.consumed - ws.unpops == stats().requests, "stats.requests %llu, chains taken %llu",
	      (unsigned long long)stats().requests, (unsigned long long)(ws.consumed - ws.unpops));
}

/* The guest made entries available; a driver kicks when the device asks for it. */
static void guest_publish_and_kick(uint16_t old)
{
	bool kick;

	if (g.event_idx) {
		uint16_t ev = (uint16_t)ram_read(g.used + 4 + 8ull * g.num, 2);

		kick = (uint16_t)(g.avail_idx - ev - 1) < (uint16_t)(g.avail_idx - old);
	} else {
		kick = !(ram_read(g.used, 2) & VIRTQ_USED_F_NO_NOTIFY);
	}
	if (kick) {
		mw32(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		thread_wake(WAKE_KICK);
	}
}

/* ---- the input ---- */

struct in {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct in *in, unsigned int len)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < len; i++) {
		if (in->n) {
			v |= (uint64_t)in->p[0] << (8 * i);
			in->p++;
			in->n--;
		}
	}
	return v;
}

enum {
	OP_POKE,         /* off:u16 len:u8 bytes[len]: write guest RAM */
	OP_MMIO_WRITE,   /* off:u16 len:u8 val:u64: any register or config access */
	OP_MMIO_READ,    /* off:u16 len:u8 */
	OP_SETUP,        /* flags:u8 features:u64 num:u16 desc:u64 avail:u64 used:u64: reset, zero the rings, bring up */
	OP_DESC,         /* table:u16 idx:u16 addr:u64 len:u32 flags:u16 next:u16 (table 0xffff: the queue's) */
	OP_AVAIL,        /* n:u8 heads:u16[n]: make available, kick if the device asks */
	OP_KICK,         /* QueueNotify, the I/O thread processes the queue */
	OP_FINISH,       /* i:u8 kind:u8 arg:u32: pending request i progresses (be_finish) */
	OP_REAP,         /* the I/O thread reaps completions */
	OP_BACKEND,      /* capacity:u8 fail:u8 */
	OP_AVAIL_IDX,    /* idx:u16: set avail->idx to anything */
	OP_EVENTS,       /* avail_flags:u16 used_event:u16 */
	OP_POLL,         /* one busy-poll window of zero length */
	OP_STOP,         /* vblk_stop (no thread: stops accepting) */
	OP_PARK_TIMER,   /* the park window ran out */
	OP_COUNT
};

#define MAX_OPS 96

static void run_ops(struct in *in, struct fz_backend *fb)
{
	for (unsigned int k = 0; k < MAX_OPS && in->n; k++) {
		unsigned int op = take(in, 1) % OP_COUNT;

		switch (op) {
		case OP_POKE: {
			uint64_t off = take(in, 2);
			unsigned int len = take(in, 1);
			uint8_t buf[256];

			len = len < in->n ? len : (unsigned int)in->n;
			memcpy(buf, in->p, len);
			in->p += len;
			in->n -= len;
			guest_write(RAM_GPA + off, buf, len);
			break;
		}
		case OP_MMIO_WRITE: {
			uint64_t off = take(in, 2) & 0x3ff;
			unsigned int len = take(in, 1) % 9;
			uint64_t val = take(in, 8);
			uint64_t gen = ws.dev->generation;

			vblk_mmio_write(ws.dev, off, &val, len);
			if (ws.dev->generation != gen) {
				ws.nout = 0;
				ws.last_pop = -1;
				guest_reset_view();
			}
			ws.polite = false;
			ram_check_writes("register write");
			break;
		}
		case OP_MMIO_READ: {
			uint64_t off = take(in, 2) & 0x3ff;
			unsigned int len = take(in, 1) % 9;
			uint8_t buf[8];

			vblk_mmio_read(ws.dev, off, buf, len);
			if (off == VIRTIO_MMIO_MAGIC_VALUE && len == 4)
				CHECK(le32toh(*(uint32_t *)buf) == VIRTIO_MMIO_MAGIC, "magic");
			break;
		}
		case OP_SETUP: {
			uint8_t flags = take(in, 1);
			uint64_t feat = take(in, 8);
			uint16_t num = take(in, 2);
			uint64_t desc = take(in, 8), avail = take(in, 8), used = take(in, 8);

			guest_setup(flags, feat, num, desc, avail, used);
			break;
		}
		case OP_DESC: {
			uint16_t table = take(in, 2), idx = take(in, 2);
			uint8_t d[16];
			uint64_t base = table == 0xffff ? g.desc : RAM_GPA + table;

			for (unsigned int i = 0; i < 16; i++)
				d[i] = take(in, 1);
			guest_write(base + 16ull * idx, d, 16);
			break;
		}
		case OP_AVAIL: {
			unsigned int n = take(in, 1) % 64;
			uint16_t old = g.avail_idx;

			for (unsigned int i = 0; i < n; i++) {
				uint16_t h = htole16((uint16_t)take(in, 2));

				if (g.num && (g.num & (g.num - 1)) == 0)
					ram_write(g.avail + 4 + 2ull * (g.avail_idx & (g.num - 1)), &h, 2);
				g.avail_idx++;
			}
			uint16_t idx = htole16(g.avail_idx);

			ram_write(g.avail + 2, &idx, 2);
			guest_publish_and_kick(old);
			break;
		}
		case OP_KICK:
			mw32(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
			thread_wake(WAKE_KICK);
			break;
		case OP_FINISH: {
			unsigned int i = take(in, 1), kind = take(in, 1);
			uint32_t arg = take(in, 4);

			if (fb->npending)
				be_finish(fb, i % fb->npending, kind, arg);
			ram_check_writes("backend");
			break;
		}
		case OP_REAP:
			thread_wake(WAKE_COMPLETION);
			break;
		case OP_BACKEND: {
			unsigned int cap = take(in, 1), fail = take(in, 1);

			fb->capacity = cap % 8;
			fb->fail_next = fail % 2 ? errnos[(fail / 2) % (sizeof(errnos) / sizeof(errnos[0]))] : 0;
			break;
		}
		case OP_AVAIL_IDX: {
			uint16_t idx = htole16((uint16_t)take(in, 2));

			ram_write(g.avail + 2, &idx, 2);
			g.avail_idx = le16toh(idx);
			ws.polite = false;
			break;
		}
		case OP_EVENTS: {
			uint16_t fl = htole16((uint16_t)take(in, 2)), ev = htole16((uint16_t)take(in, 2));

			ram_write(g.avail, &fl, 2);
			if (g.num)
				ram_write(g.avail + 4 + 2ull * g.num, &ev, 2);
			break;
		}
		case OP_POLL:
			thread_wake(WAKE_POLL);
			break;
		case OP_STOP:
			if (!g.stopped) {
				int r = vblk_stop(ws.dev);

				CHECK(r == 0 || r == ws.dev->flush_err, "vblk_stop: %d", r);
				g.stopped = true;
			}
			break;
		case OP_PARK_TIMER:
			thread_wake(WAKE_PARK_TIMER);
			break;
		}
	}
}

/*
 * The guest adds nothing more; the backend finishes each request (in full, or, when shorts is set, a
 * READ/WRITE in two parts a round apart), and the I/O thread runs on its own wake-ups: completions and
 * the park timer.
 */
static bool drain(struct fz_backend *fb, bool shorts)
{
	for (unsigned int round = 0; round < 4 * ws.dev->queue_size + 64; round++) {
		bool moved = fb->npending > 0 || fb->inner_inflight > 0;

		/* In submission order; a request moved in part keeps its place. */
		for (unsigned int i = 0, n = fb->npending; n > 0; n--) {
			unsigned int before = fb->npending;

			be_finish(fb, i, shorts ? 2 : 0, 1 + round);
			if (fb->npending == before)
				i++;
		}
		shorts = false;
		ram_check_writes("backend");
		if (fb->ndone || fb->inner_inflight)
			thread_wake(WAKE_COMPLETION);
		if (ws.dev->sched.parked_until_ns) {
			moved = true;
			thread_wake(WAKE_PARK_TIMER);
		}
		if (!moved && fb->npending == 0 && fb->ndone == 0 && fb->inner_inflight == 0)
			return true;
	}
	return false;
}

static const char serial[] = "fuzz-serial-0123456789";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	uint8_t cfg = take(&in, 1), qsl = take(&in, 1), extra = take(&in, 1), drain_mode = take(&in, 1);
	uint16_t sectors = take(&in, 2);
	struct blk_image img = {
		.fd = -1,
		.size = (uint64_t)sectors * VBLK_SECTOR + (extra & 1 ? 100 : 0),
		.readonly = cfg & 1,
		.cache = (cfg >> 1 & 7) % 5,
		.dio_mem_align = 1,
		.dio_offset_align = 1,
		.logical_block = cfg & 16 ? 4096 : 512,
	};
	struct vblk_params p = {
		.image = &img,
		.serial = cfg & 64 ? serial : NULL,
		.queue_size = qsl % 10 == 9 ? 0 : 1u << (qsl % 10),
		.poll_max_ns = cfg & 32 ? -1 : 0,
	};
	struct blk_cache_props props = blk_cache_mode_props(img.cache);
	bool real = cfg & 128;
	struct fz_backend *fb;
	struct vblk_dev *dev;

	ram_map();
	memset(ra, 0, RA_SIZE);
	memset(rb, 0, RB_SIZE);
	memset(snap, 0, sizeof(snap));
	memset(wmap, 0, sizeof(wmap));
	memset(&ws, 0, sizeof(ws));
	memset(&g, 0, sizeof(g));
	memset(&bst, 0, sizeof(bst));
	ws.last_pop = -1;
	ws.polite = true;
	ws.avail_gpa = ws.used_gpa = UINT64_MAX / 2;

	fb = calloc(1, sizeof(*fb));
	CHECK(fb, "calloc");
	fb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK(fb->efd >= 0, "eventfd");
	fb->be.ops = &fz_ops;
	if (real) {
		/*
		 * The synchronous backend over a memfd, with O_DIRECT's alignment rules as the image would
		 * report them (extra bits 1-2), so that unaligned guest buffers and sectors go through the
		 * bounce buffers and read-modify-write. The memfd is not O_DIRECT; only the rules apply.
		 */
		static const uint32_t mem_al[] = { 1, 512, 4096, 4096 }, off_al[] = { 1, 512, 4096, 512 };

		img.dio_mem_align = mem_al[extra >> 1 & 3];
		img.dio_offset_align = off_al[extra >> 1 & 3];
		if (img.logical_block < img.dio_offset_align)
			img.logical_block = img.dio_offset_align;
		img.fd = memfd_create("fuzz-vblk", MFD_CLOEXEC);
		CHECK(img.fd >= 0 && ftruncate(img.fd, (off_t)img.size) == 0, "memfd");
		bst.fd = img.fd;
		bst.img_size = img.size;
		bst.direct = props.direct;
		bst.mem_align = img.dio_mem_align;
		bst.off_align = img.dio_offset_align;
		bst.shadow = mmap(NULL, img.size + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				  -1, 0);
		CHECK(bst.shadow != MAP_FAILED, "mmap");
		/* Data in the first 64 KiB, so that a byte read from or written to the wrong place shows. */
		for (uint64_t pos = 0; pos < img.size && pos < (1u << 16); pos += 4096) {
			uint64_t n = img.size - pos < 4096 ? img.size - pos : 4096;

			for (uint64_t i = 0; i < n; i++)
				bst.shadow[pos + i] = (uint8_t)((pos + i) * 7 + ((pos + i) >> 9) + 1);
			CHECK(pwrite(img.fd, bst.shadow + pos, n, (off_t)pos) == (ssize_t)n, "pwrite");
		}
		unsigned int depth = p.queue_size ? p.queue_size : VBLK_DEFAULT_QUEUE_SIZE;
		int r = -ENOSYS;

		/* extra bit 3: io_uring, where the host has it; else the synchronous engine, as vblk_create does. */
		if (extra & 8)
			r = blk_uring_create(&img, depth, px_complete, fb, &fb->inner);
		fb->uring = r == 0;
		if (r == -ENOSYS || r == -EPERM)
			r = blk_sync_create(&img, depth, px_complete, fb, &fb->inner);
		CHECK(r == 0, "creating the backend: %d", r);
	}
	if (vblk_create_with_backend(&p, &mem, &props, &fb->be, &dev) < 0) {
		CHECK(img.size % VBLK_SECTOR != 0, "vblk_create_with_backend refused a good image");
		fz_destroy(&fb->be);
		if (img.fd >= 0) {
			close(img.fd);
			munmap(bst.shadow, img.size + 1);
		}
		return 0;
	}
	CHECK(img.size % VBLK_SECTOR == 0, "an image of %llu bytes was accepted", (unsigned long long)img.size);
	ws.dev = dev;
	cur_dev = dev;
	memset(fresh, 0, sizeof(fresh));
	bst.disk_bytes = (img.size - img.size % img.logical_block);
	bst.readonly = img.readonly;

	run_ops(&in, fb);
	bool quiet = drain(fb, drain_mode & 1);

	struct vblk_stats s = stats();

	CHECK(s.requests == ws.consumed - ws.unpops, "stats.requests");
	CHECK(s.errors == ws.errors || (ws.ambiguous && s.errors <= s.requests), "stats.errors %llu, error completions seen %llu", (unsigned long long)s.errors,
	      (unsigned long long)ws.errors);
	CHECK(s.read_bytes <= bst.read_bytes && s.reads <= bst.reads_full, "reads %llu (%llu bytes) > moved",
	      (unsigned long long)s.reads, (unsigned long long)s.read_bytes);
	CHECK(s.write_bytes <= bst.write_bytes && s.writes <= bst.writes_full, "writes %llu (%llu bytes) > moved",
	      (unsigned long long)s.writes, (unsigned long long)s.write_bytes);
	CHECK(s.host_flushes <= bst.flush_done && s.flushes_skipped <= s.flushes, "flush counts");
	CHECK(s.discards <= bst.discard_done && s.write_zeroes <= bst.wz_done, "discard/write-zeroes counts");
	CHECK(s.durable_writes <= s.writes, "durable writes");
	if (quiet) {
		CHECK(dev->be_inflight == 0, "%u requests in the backend after it finished all", dev->be_inflight);
		/* Every slot is back, or only reset-dropped chains were never returned. */
		CHECK(dev->inflight == ws.nout || !dev->active, "%u slots in use, %u chains outstanding",
		      dev->inflight, ws.nout);
		if (ws.polite && dev->active && !dev->vq.broken && !g.stopped &&
		    !(__atomic_load_n(&dev->mmio.status, __ATOMIC_RELAXED) & VIRTIO_STATUS_NEEDS_RESET)) {
			CHECK(ws.nout == 0 && dev->inflight == 0, "%u requests were never completed", ws.nout);
			CHECK(dev->vq.last_avail_idx == g.avail_idx,
			      "the guest made %u entries available, the device took %u and went to sleep",
			      g.avail_idx, dev->vq.last_avail_idx);
		}
	} else {
		/* A guest that follows the rules cannot keep the device busy for ever. */
		CHECK(!ws.polite, "still working after %u wake-ups", 4 * dev->queue_size + 64);
	}
	if (getenv("FUZZ_VBLK_TRACE"))
		fprintf(stderr,
			"fuzz_vblk: active %d broken %d polite %d quiet %d: requests %llu errors %llu reads %llu (%llu B) "
			"writes %llu (%llu B) flushes %llu/%llu discards %llu wz %llu irqs %llu, avail %u taken %u\n",
			dev->active, dev->vq.broken, ws.polite, quiet, (unsigned long long)s.requests,
			(unsigned long long)s.errors, (unsigned long long)s.reads, (unsigned long long)s.read_bytes,
			(unsigned long long)s.writes, (unsigned long long)s.write_bytes, (unsigned long long)s.flushes,
			(unsigned long long)s.host_flushes, (unsigned long long)s.discards,
			(unsigned long long)s.write_zeroes, (unsigned long long)s.interrupts, g.avail_idx,
			dev->vq.last_avail_idx);
	vblk_destroy(dev);
	if (img.fd >= 0) {
		struct stat st;

		CHECK(fstat(img.fd, &st) == 0 && (uint64_t)st.st_size == img.size, "the image changed size");
		close(img.fd);
		munmap(bst.shadow, img.size + 1);
	}
	return 0;
}

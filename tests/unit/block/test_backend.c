/* SPDX-License-Identifier: MIT */
/* Unit tests for a block backend against real files; built once for io_uring and once for the sync engine. */
#include <linux/falloc.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <cmocka.h>

#include "blk_backend.h"
#include "blk_internal.h"
#include "blk_test_util.h"
#include "short_io.h"
#if BLK_TEST_URING
#include "uring_fault.h"
#include "uring_internal.h"
#endif

#ifndef BLK_TEST_URING
#error "build with -DBLK_TEST_URING=0 or 1"
#endif

#if BLK_TEST_URING
#define BACKEND_NAME "io_uring"
#define backend_create blk_uring_create
#else
#define BACKEND_NAME "sync"
#define backend_create blk_sync_create
#endif

#define IMG_SIZE (1u << 20)
#define MAX_DONE 64

/* One test's drive: image, backend and what complete() saw. */
struct bt {
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];
	struct blk_image img;
	struct blk_backend *be;
	unsigned int ndone;
	struct blk_req *done_req[MAX_DONE];
	int done_res[MAX_DONE];
};

static struct bt *bt_global;

static void bt_complete(void *ctx, struct blk_req *req, int res)
{
	struct bt *t = ctx;
	unsigned int *calls = req->opaque;

	/* complete() exactly once per request: the opaque counter must go 0 -> 1. */
	assert_non_null(calls);
	assert_int_equal(*calls, 0);
	(*calls)++;
	assert_true(t->ndone < MAX_DONE);
	t->done_req[t->ndone] = req;
	t->done_res[t->ndone] = res;
	t->ndone++;
}

static int bt_setup(void **state)
{
	struct bt *t = calloc(1, sizeof(*t));

	if (!t || blk_test_dir_make(t->dir, sizeof(t->dir)))
		return -1;
	snprintf(t->path, sizeof(t->path), "%s/disk.img", t->dir);
	t->img.fd = -1;
	bt_global = t;
	*state = t;
	return 0;
}

static int bt_teardown(void **state)
{
	struct bt *t = *state;

#if BLK_TEST_URING
	uring_fault_clear();
#endif
	if (t->be)
		blk_backend_destroy(t->be);
	blk_image_close(&t->img);
	unlink(t->path);
	rmdir(t->dir);
	free(t);
	return 0;
}

/* Fresh image with pattern seed, opened in mode, and a backend over it. */
static void bt_open(struct bt *t, enum blk_cache_mode mode, bool readonly, unsigned int depth)
{
	int ret;

	assert_int_equal(blk_test_file_make(t->path, IMG_SIZE, 1), 0);
	ret = blk_image_open(t->path, mode, readonly, &t->img);
	if (ret == -ENOTSUP) {
		print_message("skipping: %s refuses O_DIRECT\n", t->dir);
		skip();
	}
	assert_int_equal(ret, 0);
	assert_int_equal(backend_create(&t->img, depth, bt_complete, t, &t->be), 0);
	assert_true(blk_backend_event_fd(t->be) >= 0);
}

/* Kick, then wait on the eventfd (as the device's I/O thread does) until n completions arrived in all. */
static void bt_wait(struct bt *t, unsigned int n)
{
	int efd = blk_backend_event_fd(t->be);

	assert_int_equal(blk_backend_kick(t->be), 0);
	while (t->ndone < n) {
		struct pollfd pfd = { .fd = efd, .events = POLLIN };
		uint64_t v;
		int ret;

		ret = poll(&pfd, 1, 10000);
		assert_int_equal(ret, 1); /* 0 means the eventfd never fired */
		assert_true(read(efd, &v, sizeof(v)) == sizeof(v) || errno == EAGAIN);
		ret = blk_backend_poll(t->be);
		assert_true(ret >= 0);
	}
	assert_int_equal(t->ndone, n);
}

/* Submit one request, wait, and return its result. */
static int bt_run(struct bt *t, struct blk_req *req)
{
	unsigned int calls = 0;
	unsigned int before = t->ndone;

	req->opaque = &calls;
	assert_int_equal(blk_backend_submit(t->be, req), 0);
	bt_wait(t, before + 1);
	assert_ptr_equal(t->done_req[before], req);
	assert_int_equal(calls, 1);
	return t->done_res[before];
}

static int bt_rw(struct bt *t, enum blk_op op, uint64_t off, void *buf, size_t len, bool durable)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct blk_req req = { .op = op, .offset = off, .len = len, .iov = &iov, .iovcnt = 1, .durable = durable };

	return bt_run(t, &req);
}

static int bt_range(struct bt *t, enum blk_op op, uint64_t off, uint64_t len)
{
	struct blk_req req = { .op = op, .offset = off, .len = len };

	return bt_run(t, &req);
}

static void test_write_read(void **state)
{
	struct bt *t = *state;
	static uint8_t wbuf[8192], rbuf[8192], disk[8192];

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	blk_test_fill(wbuf, 4096, sizeof(wbuf), 9);
	assert_int_equal(bt_rw(t, BLK_OP_WRITE, 4096, wbuf, sizeof(wbuf), false), sizeof(wbuf));
	memset(rbuf, 0xee, sizeof(rbuf));
	assert_int_equal(bt_rw(t, BLK_OP_READ, 4096, rbuf, sizeof(rbuf), false), sizeof(rbuf));
	assert_memory_equal(rbuf, wbuf, sizeof(wbuf));
	/* And it is really in the file, neighbours untouched. */
	assert_int_equal(blk_test_file_read(t->path, 4096, disk, sizeof(disk)), 0);
	assert_memory_equal(disk, wbuf, sizeof(wbuf));
	assert_int_equal(blk_test_file_read(t->path, 0, disk, 4096), 0);
	for (unsigned int i = 0; i < 4096; i++)
		assert_int_equal(disk[i], blk_test_pattern(i, 1));
}

static void test_vectored(void **state)
{
	struct bt *t = *state;
	static uint8_t a[512], b[1024], c[2560], whole[4096], x[3000], y[1096];
	struct iovec wv[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	struct iovec rv[2] = { { x, sizeof(x) }, { y, sizeof(y) } };
	struct blk_req w = { .op = BLK_OP_WRITE, .offset = 65536, .len = 4096, .iov = wv, .iovcnt = 3 };
	struct blk_req r = { .op = BLK_OP_READ, .offset = 65536, .len = 4096, .iov = rv, .iovcnt = 2 };

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	blk_test_fill(whole, 65536, sizeof(whole), 4);
	memcpy(a, whole, 512);
	memcpy(b, whole + 512, 1024);
	memcpy(c, whole + 1536, 2560);
	assert_int_equal(bt_run(t, &w), 4096);
	assert_int_equal(bt_run(t, &r), 4096);
	assert_memory_equal(x, whole, sizeof(x));
	assert_memory_equal(y, whole + sizeof(x), sizeof(y));
}

static void test_durable_write(void **state)
{
	struct bt *t = *state;
	static uint8_t wbuf[4096], disk[4096];
	struct blk_backend_counters c;

	/* writethrough: WCE=0, the device marks every write durable. */
	bt_open(t, BLK_CACHE_WRITETHROUGH, false, 8);
	blk_test_fill(wbuf, 8192, sizeof(wbuf), 7);
	assert_int_equal(bt_rw(t, BLK_OP_WRITE, 8192, wbuf, sizeof(wbuf), true), sizeof(wbuf));
	assert_int_equal(bt_rw(t, BLK_OP_WRITE, 8192, wbuf, sizeof(wbuf), false), sizeof(wbuf));
	blk_backend_counters_get(t->be, &c);
	assert_int_equal(c.durable_writes, 1);
	assert_int_equal(c.submitted, 2);
	assert_int_equal(c.host_flushes, 0);
	assert_int_equal(blk_test_file_read(t->path, 8192, disk, sizeof(disk)), 0);
	assert_memory_equal(disk, wbuf, sizeof(wbuf));
}

static void test_flush_counted(void **state)
{
	struct bt *t = *state;
	static uint8_t wbuf[4096];
	struct blk_backend_counters c;

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	blk_backend_counters_get(t->be, &c);
	assert_int_equal(c.host_flushes, 0);
	blk_test_fill(wbuf, 0, sizeof(wbuf), 2);
	assert_int_equal(bt_rw(t, BLK_OP_WRITE, 0, wbuf, sizeof(wbuf), false), sizeof(wbuf));
	assert_int_equal(bt_range(t, BLK_OP_FLUSH, 0, 0), 0);
	assert_int_equal(bt_range(t, BLK_OP_FLUSH, 0, 0), 0);
	blk_backend_counters_get(t->be, &c);
	assert_int_equal(c.host_flushes, 2);
	assert_int_equal(c.submitted, 3);
}

/*
 * Durability is checked in the host page cache itself: cachestat(2) (Linux
 * 6.5) counts a file range's pages that are dirty or under writeback, so a
 * backend that skipped an fdatasync or RWF_DSYNC leaves them behind. The
 * counters above only say what the backend meant to do.
 */
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif
struct bt_cachestat_range {
	uint64_t off, len;
};
struct bt_cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

/* Pages of [off, off+len) (len 0: to the end) not yet on stable storage; skips the test without cachestat. */
static uint64_t bt_unstable_pages(struct bt *t, uint64_t off, uint64_t len)
{
	struct bt_cachestat_range r = { off, len };
	struct bt_cachestat cs;

	if (syscall(__NR_cachestat, t->img.fd, &r, &cs, 0) < 0) {
		print_message("skipping: no cachestat(2) to look at the page cache (%s)\n", strerror(errno));
		skip();
	}
	return cs.nr_dirty + cs.nr_writeback;
}

/* A buffered write at off leaves dirty pages the probe can see; if the kernel wrote them back already, it cannot judge. */
static void bt_dirty_write(struct bt *t, uint64_t off)
{
	static uint8_t wbuf[16384];

	blk_test_fill(wbuf, off, sizeof(wbuf), 3);
	assert_int_equal(bt_rw(t, BLK_OP_WRITE, off, wbuf, sizeof(wbuf), false), sizeof(wbuf));
	if (bt_unstable_pages(t, off, sizeof(wbuf)) == 0) {
		print_message("skipping: the host wrote the pages back on its own, nothing left to judge\n");
		skip();
	}
}

static void test_flush_reaches_disk(void **state)
{
	struct bt *t = *state;

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	assert_int_equal(fdatasync(t->img.fd), 0);
	bt_dirty_write(t, 0);
	bt_dirty_write(t, 65536);
	assert_int_equal(bt_range(t, BLK_OP_FLUSH, 0, 0), 0);
	assert_int_equal(bt_unstable_pages(t, 0, 0), 0);
}

static void test_durable_write_reaches_disk(void **state)
{
	struct bt *t = *state;
	static uint8_t wbuf[16384];

	bt_open(t, BLK_CACHE_WRITETHROUGH, false, 8);
	assert_int_equal(fdatasync(t->img.fd), 0);
	bt_dirty_write(t, 0);   /* the probe sees a plain write's pages */
	blk_test_fill(wbuf, 131072, sizeof(wbuf), 5);
	assert_int_equal(bt_rw(t, BLK_OP_WRITE, 131072, wbuf, sizeof(wbuf), true), sizeof(wbuf));
	assert_int_equal(bt_unstable_pages(t, 131072, sizeof(wbuf)), 0);
}

static void test_durable_write_zeroes_syncs(void **state)
{
	struct bt *t = *state;
	struct blk_req wz = { .op = BLK_OP_WRITE_ZEROES, .offset = 262144, .len = 8192, .durable = true };
	static uint8_t rbuf[8192];
	struct blk_backend_counters c;

	bt_open(t, BLK_CACHE_WRITETHROUGH, false, 8);
	assert_int_equal(fdatasync(t->img.fd), 0);
	/* fallocate leaves no dirty pages of its own: the fdatasync after it shows on an earlier plain write. */
	bt_dirty_write(t, 0);
	assert_int_equal(bt_run(t, &wz), 0);
	assert_int_equal(bt_unstable_pages(t, 0, 0), 0);
	blk_backend_counters_get(t->be, &c);
	assert_int_equal(c.durable_writes, 1);
	assert_int_equal(c.host_flushes, 0);
	assert_int_equal(bt_rw(t, BLK_OP_READ, 262144, rbuf, sizeof(rbuf), false), sizeof(rbuf));
	for (unsigned int i = 0; i < sizeof(rbuf); i++)
		assert_int_equal(rbuf[i], 0);
}

static void test_plain_write_zeroes_no_sync(void **state)
{
	struct bt *t = *state;

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	assert_int_equal(fdatasync(t->img.fd), 0);
	bt_dirty_write(t, 0);
	assert_int_equal(bt_range(t, BLK_OP_WRITE_ZEROES, 262144, 8192), 0);
	/* With a write cache the guest flushes when it wants to: the earlier write is still dirty. */
	assert_true(bt_unstable_pages(t, 0, 16384) > 0);
}

/* Write a pattern over [off, off+len), run op, and check the range reads back zero and the rest is kept. */
static void check_zeroing(struct bt *t, enum blk_op op)
{
	static uint8_t wbuf[65536], rbuf[65536];
	const uint64_t base = 131072, off = base + 8192, len = 16384;
	struct stat st;

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	blk_test_fill(wbuf, base, sizeof(wbuf), 6);
	assert_int_equal(bt_rw(t, BLK_OP_WRITE, base, wbuf, sizeof(wbuf), false), sizeof(wbuf));
	assert_int_equal(bt_range(t, op, off, len), 0);
	assert_int_equal(bt_rw(t, BLK_OP_READ, base, rbuf, sizeof(rbuf), false), sizeof(rbuf));
	for (uint64_t i = 0; i < sizeof(rbuf); i++) {
		uint64_t o = base + i;

		if (o >= off && o < off + len)
			assert_int_equal(rbuf[i], 0);
		else
			assert_int_equal(rbuf[i], wbuf[i]);
	}
	/* KEEP_SIZE: the image never changes size. */
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_size, IMG_SIZE);
}

static void test_discard(void **state)
{
	check_zeroing(*state, BLK_OP_DISCARD);
}

static void test_write_zeroes(void **state)
{
	check_zeroing(*state, BLK_OP_WRITE_ZEROES);
}

static void test_eagain_at_depth(void **state)
{
	struct bt *t = *state;
	static uint8_t bufs[5][4096];
	struct iovec iov[5];
	struct blk_req req[5];
	unsigned int calls[5] = { 0 };

	bt_open(t, BLK_CACHE_WRITEBACK, false, 4);
	for (unsigned int i = 0; i < 5; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		req[i] = (struct blk_req){ .op = BLK_OP_READ, .offset = i * 4096, .len = 4096, .iov = &iov[i],
					   .iovcnt = 1, .opaque = &calls[i] };
	}
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(blk_backend_submit(t->be, &req[i]), 0);
	assert_int_equal(blk_backend_submit(t->be, &req[4]), -EAGAIN);
	assert_int_equal(calls[4], 0);
	bt_wait(t, 4);
	/* Full again after recovery: the freed slots are reused. */
	assert_int_equal(blk_backend_submit(t->be, &req[4]), 0);
	bt_wait(t, 5);
	for (unsigned int i = 0; i < 5; i++) {
		assert_int_equal(calls[i], 1);
		for (unsigned int j = 0; j < 4096; j += 97)
			assert_int_equal(bufs[i][j], blk_test_pattern(i * 4096 + j, 1));
	}
	for (unsigned int i = 0; i < 5; i++)
		assert_int_equal(t->done_res[i], 4096);
}

static void test_many_in_flight(void **state)
{
	struct bt *t = *state;
	static uint8_t bufs[32][4096];
	struct iovec iov[32];
	struct blk_req req[32];
	unsigned int calls[32] = { 0 };

	bt_open(t, BLK_CACHE_WRITEBACK, false, 32);
	for (unsigned int i = 0; i < 32; i++) {
		blk_test_fill(bufs[i], i * 8192, 4096, 11);
		iov[i] = (struct iovec){ bufs[i], 4096 };
		req[i] = (struct blk_req){ .op = BLK_OP_WRITE, .offset = i * 8192, .len = 4096, .iov = &iov[i],
					   .iovcnt = 1, .opaque = &calls[i] };
		assert_int_equal(blk_backend_submit(t->be, &req[i]), 0);
	}
	bt_wait(t, 32);
	for (unsigned int i = 0; i < 32; i++) {
		uint8_t disk[4096];

		assert_int_equal(calls[i], 1);
		assert_int_equal(blk_test_file_read(t->path, i * 8192, disk, sizeof(disk)), 0);
		assert_memory_equal(disk, bufs[i], sizeof(disk));
	}
}

/* Unaligned O_DIRECT requests go through a bounce buffer and still give the right bytes. */
/*
 * The image's lock goes with blk_image_close, not some time after: vmm run
 * again at once on the same image must get it. (The image's own fd is
 * registered with io_uring, which lets go of it a moment after the ring is
 * gone, so the lock must not hang on that fd.)
 */
static void test_lock_released_at_close(void **state)
{
	struct bt *t = *state;
	static uint8_t rbuf[4096];

	assert_int_equal(blk_test_file_make(t->path, IMG_SIZE, 1), 0);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(blk_image_open(t->path, BLK_CACHE_WRITEBACK, false, &t->img), 0);
		assert_int_equal(backend_create(&t->img, 8, bt_complete, t, &t->be), 0);
		t->ndone = 0;
		assert_int_equal(bt_rw(t, BLK_OP_READ, 0, rbuf, sizeof(rbuf), false), sizeof(rbuf));
		blk_backend_destroy(t->be);
		t->be = NULL;
		blk_image_close(&t->img);
	}
}

/* Bounce buffers are the guest's to size: one request alone always goes, more wait past a cap (io_uring). */
#if BLK_TEST_URING
static void test_bounce_bytes_capped(void **state)
{
	struct bt *t = *state;
	static uint8_t raw[65536 + 64] __attribute__((aligned(4096)));
	static struct iovec v[1024];
	unsigned int c1 = 0, c2 = 0;
	/* 64 MiB through one misaligned 64 KiB buffer, as a hostile guest may: past the end, so it fails, later. */
	struct blk_req r1 = { .op = BLK_OP_READ, .offset = 0, .len = 64ull << 20, .iov = v, .iovcnt = 1024, .opaque = &c1 };
	struct blk_req r2 = r1;

	r2.opaque = &c2;
	for (unsigned int i = 0; i < 1024; i++)
		v[i] = (struct iovec){ raw + 1, 65536 };
	bt_open(t, BLK_CACHE_NONE, false, 8);
	assert_int_equal(blk_backend_submit(t->be, &r1), 0);
	assert_int_equal(blk_backend_submit(t->be, &r2), -EAGAIN);
	bt_wait(t, 1);
	assert_int_equal(t->done_res[0], -EIO);
	assert_int_equal(blk_backend_submit(t->be, &r2), 0);
	bt_wait(t, 2);
	assert_int_equal(t->done_res[1], -EIO);
}
#endif

static void test_direct_bounce(void **state)
{
	struct bt *t = *state;
	static uint8_t raw[3 * 8192 + 64] __attribute__((aligned(4096)));
	static uint8_t expect[IMG_SIZE];
	uint8_t *mis = raw + 1; /* misaligned for any dio_mem_align > 1 */
	struct blk_backend_counters c;

	bt_open(t, BLK_CACHE_NONE, false, 8);
	blk_test_fill(expect, 0, sizeof(expect), 1);

	/* Aligned offset and length, misaligned memory: write and read back. */
	blk_test_fill(mis, 16384, 8192, 21);
	memcpy(expect + 16384, mis, 8192);
	assert_int_equal(bt_rw(t, BLK_OP_WRITE, 16384, mis, 8192, false), 8192);
	memset(raw, 0, sizeof(raw));
	assert_int_equal(bt_rw(t, BLK_OP_READ, 16384, mis, 8192, false), 8192);
	assert_memory_equal(mis, expect + 16384, 8192);

	/* Unaligned offset and length: a read-modify-write that must keep the neighbours. */
	blk_test_fill(mis, 40000 + 3, 777, 22);
	memcpy(expect + 40003, mis, 777);
	assert_int_equal(bt_rw(t, BLK_OP_WRITE, 40003, mis, 777, true), 777);
	memset(raw, 0, sizeof(raw));
	assert_int_equal(bt_rw(t, BLK_OP_READ, 39000, mis, 3001, false), 3001);
	assert_memory_equal(mis, expect + 39000, 3001);

	/* Aligned memory, segment lengths the block size does not divide. */
	{
		struct iovec v[2] = { { raw, 1000 }, { raw + 4096, 3096 } };
		struct blk_req r = { .op = BLK_OP_READ, .offset = 0, .len = 4096, .iov = v, .iovcnt = 2 };

		assert_int_equal(bt_run(t, &r), 4096);
		assert_memory_equal(raw, expect, 1000);
		assert_memory_equal(raw + 4096, expect + 1000, 3096);
	}

	/* The file holds exactly what we expect (read through the page cache). */
	{
		static uint8_t disk[IMG_SIZE];

		assert_int_equal(blk_test_file_read(t->path, 0, disk, sizeof(disk)), 0);
		assert_memory_equal(disk, expect, sizeof(disk));
	}
	blk_backend_counters_get(t->be, &c);
	if (t->img.dio_mem_align > 1)
		assert_true(c.bounced >= 4);
	else
		assert_true(c.bounced >= 2);
	assert_true(c.bounced <= c.submitted);
}

/* While an unaligned O_DIRECT write (read-modify-write) is pending, nothing else is admitted. */
static void test_direct_rmw_runs_alone(void **state)
{
	struct bt *t = *state;
	static uint8_t a[4096] __attribute__((aligned(4096))), b[100];
	struct iovec va = { a, sizeof(a) }, vb = { b, sizeof(b) };
	unsigned int ca = 0, cb = 0;
	struct blk_req ra = { .op = BLK_OP_WRITE, .offset = 0, .len = 4096, .iov = &va, .iovcnt = 1, .opaque = &ca };
	struct blk_req rb = { .op = BLK_OP_WRITE, .offset = 4100, .len = 100, .iov = &vb, .iovcnt = 1, .opaque = &cb };
	int ret;

	bt_open(t, BLK_CACHE_DIRECTSYNC, false, 8);
	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	assert_int_equal(blk_backend_submit(t->be, &ra), 0);
	ret = blk_backend_submit(t->be, &rb);
#if BLK_TEST_URING
	/* The RMW would race the write in flight: -EAGAIN until it completes. */
	assert_int_equal(ret, -EAGAIN);
	bt_wait(t, 1);
	assert_int_equal(blk_backend_submit(t->be, &rb), 0);
	assert_int_equal(blk_backend_submit(t->be, &ra), -EAGAIN);
	bt_wait(t, 2);
#else
	/* The sync engine runs everything in order, so it has no reason to refuse. */
	assert_int_equal(ret, 0);
	bt_wait(t, 2);
#endif
	{
		uint8_t disk[8192];

		assert_int_equal(blk_test_file_read(t->path, 0, disk, sizeof(disk)), 0);
		for (unsigned int i = 0; i < sizeof(disk); i++) {
			uint8_t want = i < 4096 ? 0xaa : (i >= 4100 && i < 4200) ? 0xbb : blk_test_pattern(i, 1);

			assert_int_equal(disk[i], want);
		}
	}
}

static void test_error_is_errno(void **state)
{
	struct bt *t = *state;
	static uint8_t buf[4096];

	/*
	 * The fd is O_RDONLY, so the kernel itself refuses the write: EBADF from
	 * the file, or, for a request the io_uring engine puts on its ring
	 * rather than writing inline, EACCES from the ring, whose restrictions
	 * (a read-only image's ring takes no write or fallocate) come first.
	 */
	bt_open(t, BLK_CACHE_WRITEBACK, true, 8);
	for (int i = 0; i < 2; i++) {
		int r = i == 0 ? bt_rw(t, BLK_OP_WRITE, 0, buf, sizeof(buf), false) : bt_range(t, BLK_OP_DISCARD, 0, 4096);

#if BLK_TEST_URING
		if (r == -EACCES)
			continue;
#endif
		assert_int_equal(r, -EBADF);
	}
	/* Reads still work after an error. */
	assert_int_equal(bt_rw(t, BLK_OP_READ, 0, buf, sizeof(buf), false), sizeof(buf));
	assert_int_equal(buf[5], blk_test_pattern(5, 1));
}

static void test_read_past_end_is_eio(void **state)
{
	struct bt *t = *state;
	static uint8_t buf[4096];

	/* The first read is short (stops at end of file); the retry of the rest gets 0 bytes. */
	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	assert_int_equal(bt_rw(t, BLK_OP_READ, IMG_SIZE - 512, buf, sizeof(buf), false), -EIO);
}

/*
 * ---- Short transfers ----
 * A backend resumes a READ or WRITE that moved fewer bytes than asked where
 * it stopped, and complete() sees every byte or -errno (blk_backend.h). The
 * sync engine's preadv/pwritev2, and io_uring's inline pwritev2, are made
 * short by the wrappers of short_io.h; io_uring's ring reads, by ending the
 * image inside the request and growing it only once the short completion
 * has been posted and before poll() resumes it.
 */

#if BLK_TEST_URING
/* Wait until the eventfd says poll() has work (a completion was posted), and drain it. */
static void bt_event_wait(struct bt *t)
{
	struct pollfd pfd = { .fd = blk_backend_event_fd(t->be), .events = POLLIN };
	uint64_t v;

	assert_int_equal(poll(&pfd, 1, 10000), 1);
	assert_true(read(pfd.fd, &v, sizeof(v)) == sizeof(v) || errno == EAGAIN);
}

/* Append bytes [from, to) of pattern 1 to the image, which ends at from. */
static void bt_grow(struct bt *t, uint64_t from, uint64_t to)
{
	static uint8_t buf[8192];
	int fd = open(t->path, O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0 && to - from <= sizeof(buf));
	blk_test_fill(buf, from, to - from, 1);
	assert_int_equal(pwrite(fd, buf, to - from, (off_t)from), (ssize_t)(to - from));
	close(fd);
}
#endif

/* A READ comes back short twice, the second time mid-buffer: resumed, its bytes land in the right buffers. */
static void test_short_read_resumes(void **state)
{
	struct bt *t = *state;
	static uint8_t b0[512], b1[1024], b2[512], want[2048];
	struct iovec v[3] = { { b0, 512 }, { b1, 1024 }, { b2, 512 } };
	unsigned int calls = 0;
	struct blk_req r = { .op = BLK_OP_READ, .len = 2048, .iov = v, .iovcnt = 3, .opaque = &calls };

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
#if BLK_TEST_URING
	/* The image ends 700 bytes into the request, then 800, then after it. */
	r.offset = IMG_SIZE - 700;
	assert_int_equal(blk_backend_submit(t->be, &r), 0);
	assert_int_equal(blk_backend_kick(t->be), 0);
	bt_event_wait(t);
	bt_grow(t, IMG_SIZE, IMG_SIZE + 100);
	assert_int_equal(blk_backend_poll(t->be), 0);   /* 700 of 2048: resumed, not completed */
	bt_event_wait(t);
	bt_grow(t, IMG_SIZE + 100, IMG_SIZE + 1348);
	assert_int_equal(blk_backend_poll(t->be), 0);   /* 100 more */
	bt_wait(t, 1);
#else
	static const long caps[] = { 700, 100 };

	r.offset = 4 * 512;
	short_io_script(caps, 2);
	assert_int_equal(blk_backend_submit(t->be, &r), 0);
	bt_wait(t, 1);
	assert_int_equal(short_io_calls(), 3);
#endif
	assert_int_equal(calls, 1);
	assert_int_equal(t->done_res[0], 2048);
	blk_test_fill(want, r.offset, sizeof(want), 1);
	assert_memory_equal(b0, want, 512);
	assert_memory_equal(b1, want + 512, 1024);
	assert_memory_equal(b2, want + 1536, 512);
}

/* A WRITE comes back short mid-buffer (io_uring: its inline pwritev2; the ring writes the rest). */
static void test_short_write_resumes(void **state)
{
	struct bt *t = *state;
	static uint8_t wbuf[8192], disk[8192];
	static const long caps[] = { 5000 };
	struct iovec v[2] = { { wbuf, 4096 }, { wbuf + 4096, 4096 } };
	struct blk_req w = { .op = BLK_OP_WRITE, .offset = 16384, .len = 8192, .iov = v, .iovcnt = 2 };
	struct blk_backend_counters c;

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	blk_test_fill(wbuf, 16384, sizeof(wbuf), 9);
	short_io_script(caps, 1);
	assert_int_equal(bt_run(t, &w), 8192);
	assert_int_equal(blk_test_file_read(t->path, 16384, disk, sizeof(disk)), 0);
	assert_memory_equal(disk, wbuf, sizeof(disk));
	blk_backend_counters_get(t->be, &c);
#if BLK_TEST_URING
	assert_int_equal(short_io_calls(), 1);
	assert_int_equal(c.inline_writes, 1);
#else
	assert_int_equal(short_io_calls(), 2);
#endif
	assert_int_equal(c.submitted, 1);
}

/* A transfer that moved some bytes and then failed completes with the error, not with the bytes it moved. */
static void test_short_then_error(void **state)
{
	struct bt *t = *state;
	static uint8_t buf[512];
	/* The host copies the first buffer, then faults on the second (the zero page is never mapped). */
	struct iovec v[2] = { { buf, 512 }, { (void *)4096, 3584 } };
	struct blk_req r = { .op = BLK_OP_READ, .offset = 8192, .len = 4096, .iov = v, .iovcnt = 2 };
	struct blk_req w = { .op = BLK_OP_WRITE, .offset = 8192, .len = 4096, .iov = v, .iovcnt = 2 };

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	assert_int_equal(bt_run(t, &r), -EFAULT);
	assert_int_equal(bt_run(t, &w), -EFAULT);
#if !BLK_TEST_URING
	{
		static const long caps[] = { 512, -ENOSPC };
		static uint8_t big[2048];
		struct iovec g = { big, sizeof(big) };
		struct blk_req w2 = { .op = BLK_OP_WRITE, .offset = 0, .len = sizeof(big), .iov = &g, .iovcnt = 1 };

		/* Short, then an error that is not a fault; and short, then no progress at all. */
		short_io_script(caps, 2);
		assert_int_equal(bt_run(t, &w2), -ENOSPC);
		short_io_script((const long[]){ 100, 0 }, 2);
		assert_int_equal(bt_run(t, &w2), -EIO);
	}
#endif
}

/*
 * A short transfer keeps its place in the backend: its remainder needs no
 * free slot, and a request refused for want of one (-EAGAIN) goes once the
 * whole transfer is done. Two short transfers at once are each resumed.
 */
static void test_short_keeps_its_slot(void **state)
{
	struct bt *t = *state;
	static uint8_t a[1024], b[1024], want[2048];
	struct iovec va = { a, sizeof(a) }, vb = { b, sizeof(b) };
	unsigned int ca = 0, cb = 0;
	struct blk_req ra = { .op = BLK_OP_READ, .len = 1024, .iov = &va, .iovcnt = 1, .opaque = &ca };
	struct blk_req rb = { .op = BLK_OP_READ, .len = 1024, .iov = &vb, .iovcnt = 1, .opaque = &cb };

	bt_open(t, BLK_CACHE_WRITEBACK, false, 1);
#if BLK_TEST_URING
	ra.offset = IMG_SIZE - 300;
	rb.offset = IMG_SIZE - 600;
	assert_int_equal(blk_backend_submit(t->be, &ra), 0);
	assert_int_equal(blk_backend_submit(t->be, &rb), -EAGAIN);
	assert_int_equal(blk_backend_kick(t->be), 0);
	bt_event_wait(t);
	bt_grow(t, IMG_SIZE, IMG_SIZE + 724);
	assert_int_equal(blk_backend_poll(t->be), 0);   /* 300 of 1024: resumed in its own slot */
	assert_int_equal(blk_backend_submit(t->be, &rb), -EAGAIN);
	bt_wait(t, 1);
	/* Two at once: depth 2, both end past the image, both resumed by one poll. */
	blk_backend_destroy(t->be);
	assert_int_equal(backend_create(&t->img, 2, bt_complete, t, &t->be), 0);
	ra.offset = IMG_SIZE + 724 - 300;
	rb.offset = IMG_SIZE + 724 - 600;
	ca = 0;
	assert_int_equal(blk_backend_submit(t->be, &ra), 0);
	assert_int_equal(blk_backend_submit(t->be, &rb), 0);
	assert_int_equal(blk_backend_kick(t->be), 0);
	bt_event_wait(t);
	bt_grow(t, IMG_SIZE + 724, IMG_SIZE + 724 + 724);
	assert_true(blk_backend_poll(t->be) >= 0);   /* both resumed (reads of cached pages complete at submit) */
	bt_wait(t, 3);
	blk_test_fill(want, IMG_SIZE + 724 - 600, sizeof(want), 1);
	assert_memory_equal(b, want, 1024);
	assert_memory_equal(a, want + 300, 1024);
#else
	static const long caps[] = { 300, 1 << 20, 600 };

	ra.offset = 0;
	rb.offset = 4096;
	short_io_script(caps, 3);
	assert_int_equal(blk_backend_submit(t->be, &ra), 0);
	assert_int_equal(blk_backend_submit(t->be, &rb), -EAGAIN);
	bt_wait(t, 1);
	assert_int_equal(blk_backend_submit(t->be, &rb), 0);
	bt_wait(t, 2);   /* 600, then the rest */
	assert_int_equal(short_io_calls(), 4);
	blk_test_fill(want, 0, 1024, 1);
	assert_memory_equal(a, want, 1024);
	blk_test_fill(want, 4096, 1024, 1);
	assert_memory_equal(b, want, 1024);
#endif
	assert_int_equal(ca, 1);
	assert_int_equal(cb, 1);
	for (unsigned int i = 0; i < t->ndone; i++)
		assert_int_equal(t->done_res[i], 1024);
}

static void test_bad_requests(void **state)
{
	struct bt *t = *state;
	struct blk_req r = { .op = BLK_OP_READ, .offset = 0 };
	struct blk_req bad = { .op = (enum blk_op)77 };
	struct blk_backend *be;

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	assert_int_equal(blk_backend_submit(t->be, &r), -EINVAL);
	assert_int_equal(blk_backend_submit(t->be, &bad), -EINVAL);
	assert_int_equal(backend_create(&t->img, 0, bt_complete, t, &be), -EINVAL);
	assert_int_equal(backend_create(&t->img, 8, NULL, t, &be), -EINVAL);
	assert_int_equal(blk_backend_kick(t->be), 0);
	assert_int_equal(blk_backend_poll(t->be), 0);
	assert_int_equal(t->ndone, 0);
}

static void test_nothing_before_kick(void **state)
{
	struct bt *t = *state;
	static uint8_t buf[4096];
	struct iovec iov = { buf, sizeof(buf) };
	unsigned int calls = 0;
	struct blk_req w = { .op = BLK_OP_WRITE, .offset = 0, .len = 4096, .iov = &iov, .iovcnt = 1, .opaque = &calls };
	uint8_t disk[4096];

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(blk_backend_submit(t->be, &w), 0);
	/* submit() only queues: the file is unchanged and poll finds nothing. */
	assert_int_equal(blk_backend_poll(t->be), 0);
	assert_int_equal(calls, 0);
	assert_int_equal(blk_test_file_read(t->path, 0, disk, sizeof(disk)), 0);
	assert_int_equal(disk[0], blk_test_pattern(0, 1));
	bt_wait(t, 1);
	assert_int_equal(t->done_res[0], 4096);
	assert_int_equal(blk_test_file_read(t->path, 0, disk, sizeof(disk)), 0);
	assert_memory_equal(disk, buf, sizeof(disk));
}

/* A busy-polling caller: poll_events + poll, never the eventfd, still sees every completion. */
static void test_poll_events_busy_poll(void **state)
{
	struct bt *t = *state;
	static uint8_t buf[2][4096];
	struct iovec iov[2] = { { buf[0], 4096 }, { buf[1], 4096 } };
	unsigned int calls[2] = { 0, 0 };
	struct blk_req r[2] = {
		{ .op = BLK_OP_READ, .offset = 0, .len = 4096, .iov = &iov[0], .iovcnt = 1, .opaque = &calls[0] },
		{ .op = BLK_OP_READ, .offset = 8192, .len = 4096, .iov = &iov[1], .iovcnt = 1, .opaque = &calls[1] },
	};
	struct timespec start, now;

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
#if BLK_TEST_URING
	/* Nothing in flight: nothing to find, and no reason to enter the kernel. */
	assert_int_equal(blk_backend_poll_events(t->be), 0);
#endif
	assert_int_equal(blk_backend_submit(t->be, &r[0]), 0);
	assert_int_equal(blk_backend_submit(t->be, &r[1]), 0);
#if BLK_TEST_URING
	/* Queued, not kicked: the kernel has nothing yet. */
	assert_int_equal(blk_backend_poll_events(t->be), 0);
#endif
	assert_int_equal(blk_backend_kick(t->be), 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (t->ndone < 2) {
		int ret = blk_backend_poll_events(t->be);

		assert_true(ret >= 0);
		if (ret > 0)
			assert_true(blk_backend_poll(t->be) >= 0);
		clock_gettime(CLOCK_MONOTONIC, &now);
		assert_true(now.tv_sec - start.tv_sec < 10);
	}
	assert_int_equal(t->done_res[0], 4096);
	assert_int_equal(t->done_res[1], 4096);
	assert_int_equal(buf[0][0], blk_test_pattern(0, 1));
	assert_int_equal(buf[1][0], blk_test_pattern(8192, 1));
#if BLK_TEST_URING
	assert_int_equal(blk_backend_poll_events(t->be), 0);
#endif
}

#if BLK_TEST_URING
/* Submit w and r (either may be NULL) in that order as one batch, wait for both; return the inline-write count. */
static uint64_t inline_batch(struct bt *t, struct blk_req *first, struct blk_req *second)
{
	unsigned int calls[2] = { 0, 0 }, n = t->ndone;
	struct blk_backend_counters c;

	first->opaque = &calls[0];
	assert_int_equal(blk_backend_submit(t->be, first), 0);
	n++;
	if (second) {
		second->opaque = &calls[1];
		assert_int_equal(blk_backend_submit(t->be, second), 0);
		n++;
	}
	bt_wait(t, n);
	assert_int_equal(calls[0], 1);
	if (second)
		assert_int_equal(calls[1], 1);
	blk_backend_counters_get(t->be, &c);
	return c.inline_writes;
}

/*
 * Buffered, non-durable writes with nothing else in flight are written by
 * kick() itself (no io-wq hop); they complete through poll() and the eventfd
 * like any other, and only those qualify.
 */
static void test_inline_buffered_write(void **state)
{
	struct bt *t = *state;
	static uint8_t wbuf[8192], rbuf[4096], disk[8192];
	struct iovec wv[2] = { { wbuf, 4096 }, { wbuf + 4096, 4096 } };
	struct iovec rv = { rbuf, sizeof(rbuf) };
	struct blk_req w = { .op = BLK_OP_WRITE, .offset = 16384, .len = 8192, .iov = wv, .iovcnt = 2 };
	struct blk_req r = { .op = BLK_OP_READ, .offset = 0, .len = 4096, .iov = &rv, .iovcnt = 1 };

	bt_open(t, BLK_CACHE_UNSAFE, false, 8);
	blk_test_fill(wbuf, 16384, sizeof(wbuf), 5);
	/* Alone: inline, vectored, and in the file. */
	assert_int_equal(inline_batch(t, &w, NULL), 1);
	assert_int_equal(t->done_res[0], 8192);
	assert_int_equal(blk_test_file_read(t->path, 16384, disk, sizeof(disk)), 0);
	assert_memory_equal(disk, wbuf, sizeof(disk));
	/* First of a batch: inline; the read after it goes through the ring. */
	assert_int_equal(inline_batch(t, &w, &r), 2);
	assert_int_equal(t->done_res[2], 4096);
	assert_int_equal(rbuf[0], blk_test_pattern(0, 1));
	/* Behind a request already in flight: through the ring. */
	assert_int_equal(inline_batch(t, &r, &w), 2);
	assert_int_equal(t->done_res[4], 8192);
	/* A durable write never: it must wait for the disk, so the ring (and io-wq) take it. */
	w.durable = true;
	assert_int_equal(inline_batch(t, &w, NULL), 2);
	/* A host error is the write's result, as it would be from the ring. */
	struct iovec bad = { (void *)4096, 4096 };   /* the zero page is never mapped */

	w.durable = false;
	w.iov = &bad;
	w.iovcnt = 1;
	assert_int_equal(inline_batch(t, &w, NULL), 3);
	assert_int_equal(t->done_res[6], -EFAULT);
}

/* O_DIRECT writes always go through the ring. */
static void test_inline_not_direct(void **state)
{
	struct bt *t = *state;
	static uint8_t wbuf[4096] __attribute__((aligned(4096)));
	struct iovec wv = { wbuf, sizeof(wbuf) };
	struct blk_req w = { .op = BLK_OP_WRITE, .offset = 4096, .len = 4096, .iov = &wv, .iovcnt = 1 };

	bt_open(t, BLK_CACHE_NONE, false, 8);
	assert_int_equal(inline_batch(t, &w, NULL), 0);
	assert_int_equal(t->done_res[0], 4096);
}

/* destroy() with inline writes queued (not kicked) or done (not reaped) neither waits nor leaks. */
static void test_inline_destroy_pending(void **state)
{
	struct bt *t = *state;
	static uint8_t wbuf[4096];
	struct iovec wv = { wbuf, sizeof(wbuf) };
	unsigned int calls = 0;
	struct blk_req w = { .op = BLK_OP_WRITE, .offset = 0, .len = 4096, .iov = &wv, .iovcnt = 1, .opaque = &calls };

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	assert_int_equal(blk_backend_submit(t->be, &w), 0);
	blk_backend_destroy(t->be);
	t->be = NULL;
	assert_int_equal(backend_create(&t->img, 8, bt_complete, t, &t->be), 0);
	assert_int_equal(blk_backend_submit(t->be, &w), 0);
	assert_int_equal(blk_backend_kick(t->be), 0);
	assert_int_equal(blk_backend_poll_events(t->be), 1);
	blk_backend_destroy(t->be);
	t->be = NULL;
	assert_int_equal(calls, 0);
}

/* Writes one block of pattern 5 into a pipe after delay_ms, and notes when. */
struct late_writer {
	int fd;
	unsigned int delay_ms;
	struct timespec wrote;
	ssize_t res;
};

static void *late_write(void *arg)
{
	struct late_writer *w = arg;
	struct timespec d = { .tv_sec = w->delay_ms / 1000, .tv_nsec = (long)(w->delay_ms % 1000) * 1000000L };
	uint8_t buf[4096];

	blk_test_fill(buf, 0, sizeof(buf), 5);
	nanosleep(&d, NULL);
	clock_gettime(CLOCK_MONOTONIC, &w->wrote);
	w->res = write(w->fd, buf, sizeof(buf));
	return NULL;
}

static double ts_seconds(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

/*
 * destroy() with a request the kernel still holds must wait for it: the
 * kernel writes into the request's buffer (guest RAM, or a bounce buffer
 * destroy is about to free) until it completes. A pipe stands in for a slow
 * disk: a read from an empty pipe stays in flight until the writer comes.
 * With interrupted set, the first waits of destroy() return -EINTR (as when a
 * signal lands): it must wait again, not give up and free.
 */
static void destroy_waits_for_inflight(struct bt *t, bool interrupted)
{
	static uint8_t rbuf[4096], want[4096];
	static const int eintr[] = { -EINTR, -EINTR };
	struct iovec rv = { rbuf, sizeof(rbuf) };
	unsigned int calls = 0;
	struct blk_req r = { .op = BLK_OP_READ, .offset = 0, .len = 4096, .iov = &rv, .iovcnt = 1, .opaque = &calls };
	struct late_writer w = { .delay_ms = 200 };
	struct blk_image img = { .size = IMG_SIZE, .cache = BLK_CACHE_WRITEBACK, .logical_block = 512 };
	struct timespec returned;
	pthread_t th;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	img.fd = p[0];
	w.fd = p[1];
	memset(rbuf, 0, sizeof(rbuf));
	assert_int_equal(backend_create(&img, 4, bt_complete, t, &t->be), 0);
	assert_int_equal(blk_backend_submit(t->be, &r), 0);
	assert_int_equal(blk_backend_kick(t->be), 0);
	assert_int_equal(blk_backend_poll(t->be), 0);   /* the pipe is empty: still in flight */

	assert_int_equal(pthread_create(&th, NULL, late_write, &w), 0);
	uring_fault_wait(eintr, interrupted ? 2 : 0);
	blk_backend_destroy(t->be);
	t->be = NULL;
	clock_gettime(CLOCK_MONOTONIC, &returned);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.res, 4096);

	/* It returned only after the writer wrote, with the read finished and complete() not called. */
	assert_int_equal(uring_fault_wait_used(), interrupted ? 2 : 0);
	assert_true(ts_seconds(&returned) >= ts_seconds(&w.wrote));
	blk_test_fill(want, 0, sizeof(want), 5);
	assert_memory_equal(rbuf, want, sizeof(want));
	assert_int_equal(calls, 0);
	close(p[0]);
	close(p[1]);
}

static void test_destroy_waits_for_inflight(void **state)
{
	destroy_waits_for_inflight(*state, false);
}

static void test_destroy_wait_interrupted(void **state)
{
	destroy_waits_for_inflight(*state, true);
}

/*
 * ---- Not now: -EAGAIN and -EINTR ----
 * From io_uring they mean "try again", not "failed": a completion with one
 * goes back on the SQ (at most URING_RETRY_MAX times), io_uring_submit's
 * -EINTR is retried by kick and its -EAGAIN leaves the SQEs queued for the
 * caller's next kick, and an inline pwritev2 that says so hands the write to
 * the ring. The guest's request then completes with every byte. The faults
 * come from uring_fault.h and short_io.h.
 */

/* A vectored READ through the ring: the submit fails twice, its completions say "not now" twice, then short. */
static void test_not_now_read_resubmitted(void **state)
{
	struct bt *t = *state;
	static uint8_t b0[3072], b1[5120], want[8192];
	static const int submit_faults[] = { -EINTR, -EAGAIN };
	static const int cqe_faults[] = { -EAGAIN, -EINTR, 3000 };
	struct iovec v[2] = { { b0, sizeof(b0) }, { b1, sizeof(b1) } };
	unsigned int calls = 0;
	struct blk_req r = { .op = BLK_OP_READ, .offset = 4096, .len = 8192, .iov = v, .iovcnt = 2, .opaque = &calls };

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	uring_fault_submit(submit_faults, 2);
	uring_fault_cqe(cqe_faults, 3);
	assert_int_equal(blk_backend_submit(t->be, &r), 0);
	/* -EINTR is kick's to retry; -EAGAIN is the caller's (the device's I/O thread kicks again). */
	assert_int_equal(blk_backend_kick(t->be), -EAGAIN);
	assert_int_equal(uring_fault_submit_used(), 2);
	assert_int_equal(blk_backend_poll(t->be), 0);
	bt_wait(t, 1);
	assert_int_equal(uring_fault_cqe_used(), 3);
	assert_int_equal(calls, 1);
	assert_int_equal(t->done_res[0], 8192);
	blk_test_fill(want, 4096, sizeof(want), 1);
	assert_memory_equal(b0, want, sizeof(b0));
	assert_memory_equal(b1, want + sizeof(b0), sizeof(b1));
}

/* A durable WRITE (the ring's, never inline) and a FLUSH: "not now" twice each, then done, and counted once. */
static void test_not_now_write_flush_resubmitted(void **state)
{
	struct bt *t = *state;
	static uint8_t wbuf[8192], disk[8192];
	static const int cqe_faults[] = { -EINTR, -EAGAIN };
	struct iovec v = { wbuf, sizeof(wbuf) };
	struct blk_req w = { .op = BLK_OP_WRITE, .offset = 65536, .len = 8192, .iov = &v, .iovcnt = 1, .durable = true };
	struct blk_req fl = { .op = BLK_OP_FLUSH };
	struct blk_backend_counters c;

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	blk_test_fill(wbuf, 65536, sizeof(wbuf), 7);
	uring_fault_cqe(cqe_faults, 2);
	assert_int_equal(bt_run(t, &w), 8192);
	assert_int_equal(uring_fault_cqe_used(), 2);
	assert_int_equal(blk_test_file_read(t->path, 65536, disk, sizeof(disk)), 0);
	assert_memory_equal(disk, wbuf, sizeof(disk));
	uring_fault_cqe(cqe_faults, 2);
	assert_int_equal(bt_run(t, &fl), 0);
	assert_int_equal(uring_fault_cqe_used(), 2);
	blk_backend_counters_get(t->be, &c);
	assert_int_equal(c.host_flushes, 1);
	assert_int_equal(c.submitted, 2);
	assert_int_equal(c.inline_writes, 0);
}

/* A kernel that keeps saying "not now" cannot spin the engine: after URING_RETRY_MAX retries the result stands. */
static void test_not_now_bounded(void **state)
{
	struct bt *t = *state;
	static uint8_t buf[4096];
	int faults[URING_RETRY_MAX + 1];

	_Static_assert(URING_RETRY_MAX + 1 <= URING_FAULT_MAX, "the script holds every retry");
	for (unsigned int i = 0; i < URING_RETRY_MAX + 1; i++)
		faults[i] = i % 2 ? -EINTR : -EAGAIN;
	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	uring_fault_cqe(faults, URING_RETRY_MAX + 1);
	assert_int_equal(bt_rw(t, BLK_OP_READ, 0, buf, sizeof(buf), false), faults[URING_RETRY_MAX]);
	assert_int_equal(uring_fault_cqe_used(), URING_RETRY_MAX + 1);
	/* The count is per request: the next one starts afresh. */
	uring_fault_cqe(faults, URING_RETRY_MAX);
	assert_int_equal(bt_rw(t, BLK_OP_READ, 0, buf, sizeof(buf), false), 4096);
	assert_int_equal(buf[0], blk_test_pattern(0, 1));
}

/* An inline buffered write whose pwritev2 says "not now" goes through the ring instead, whole. */
static void test_not_now_inline_write_to_ring(void **state)
{
	struct bt *t = *state;
	static uint8_t wbuf[8192], disk[8192];
	static const long caps[][1] = { { -EINTR }, { -EAGAIN } };
	struct iovec v[2] = { { wbuf, 4096 }, { wbuf + 4096, 4096 } };
	struct blk_req w = { .op = BLK_OP_WRITE, .offset = 32768, .len = 8192, .iov = v, .iovcnt = 2 };
	struct blk_backend_counters c;

	bt_open(t, BLK_CACHE_WRITEBACK, false, 8);
	for (unsigned int i = 0; i < 2; i++) {
		blk_test_fill(wbuf, 32768, sizeof(wbuf), 11 + i);
		short_io_script(caps[i], 1);
		assert_int_equal(bt_run(t, &w), 8192);
		assert_int_equal(short_io_calls(), 1);   /* the one pwritev2 that failed; the ring wrote it */
		assert_int_equal(blk_test_file_read(t->path, 32768, disk, sizeof(disk)), 0);
		assert_memory_equal(disk, wbuf, sizeof(disk));
	}
	blk_backend_counters_get(t->be, &c);
	assert_int_equal(c.inline_writes, 0);
	assert_int_equal(c.submitted, 2);
}
#endif

/* tmpfs punches holes but has no FALLOC_FL_ZERO_RANGE: WRITE_ZEROES must fall back and still zero. */
static void test_write_zeroes_fallback(void **state)
{
	struct bt *t = *state;
	static uint8_t wbuf[16384], rbuf[16384];
	struct blk_req req = { .op = BLK_OP_WRITE_ZEROES, .offset = 12288, .len = 4096 };
	char shm[PATH_MAX];
	struct stat st;
	blkcnt_t blocks;
	int fd, zr;

	snprintf(shm, sizeof(shm), "/dev/shm/vmm-blk-zeroes-%d.img", (int)getpid());
	if (blk_test_file_make(shm, IMG_SIZE, 1) != 0) {
		print_message("skipping: no /dev/shm to test the ZERO_RANGE fallback on\n");
		skip();
	}
	fd = open(shm, O_RDWR);
	assert_true(fd >= 0);
	zr = fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, 4096) < 0 ? -errno : 0;
	assert_int_equal(fstat(fd, &st), 0);
	blocks = st.st_blocks;
	close(fd);
	if (zr != -EOPNOTSUPP)
		print_message("note: /dev/shm accepts ZERO_RANGE here (%d), the fallback is not exercised\n", zr);
	assert_int_equal(blk_image_open(shm, BLK_CACHE_WRITEBACK, false, &t->img), 0);
	unlink(shm);
	assert_int_equal(backend_create(&t->img, 8, bt_complete, t, &t->be), 0);
	blk_test_fill(wbuf, 0, sizeof(wbuf), 8);
	assert_int_equal(bt_rw(t, BLK_OP_WRITE, 0, wbuf, sizeof(wbuf), false), sizeof(wbuf));
	/*
	 * Twice: the first learns of EOPNOTSUPP, the second goes straight to
	 * punch-hole. The second is durable, so an fdatasync follows.
	 */
	assert_int_equal(bt_range(t, BLK_OP_WRITE_ZEROES, 4096, 4096), 0);
	req.durable = true;
	assert_int_equal(bt_run(t, &req), 0);
	assert_int_equal(bt_rw(t, BLK_OP_READ, 0, rbuf, sizeof(rbuf), false), sizeof(rbuf));
	for (unsigned int i = 0; i < sizeof(rbuf); i++) {
		bool zero = (i >= 4096 && i < 8192) || i >= 12288;

		assert_int_equal(rbuf[i], zero ? 0 : wbuf[i]);
	}
	/*
	 * Neither had the unmap flag: the zeroed blocks are allocated again.
	 * (Not SEEK_HOLE: tmpfs calls a preallocated page a hole.)
	 */
	assert_int_equal(fstat(t->img.fd, &st), 0);
	assert_int_equal(st.st_blocks, blocks);
	/* With it, the hole stays (where it is a fallback's hole): 4 KiB fewer. */
	req = (struct blk_req){ .op = BLK_OP_WRITE_ZEROES, .offset = 8192, .len = 4096, .unmap = true };
	assert_int_equal(bt_run(t, &req), 0);
	assert_int_equal(fstat(t->img.fd, &st), 0);
	assert_int_equal(st.st_blocks, zr == -EOPNOTSUPP ? blocks - 4096 / 512 : blocks);
	assert_int_equal(bt_rw(t, BLK_OP_READ, 8192, rbuf, 4096, false), 4096);
	for (unsigned int i = 0; i < 4096; i++)
		assert_int_equal(rbuf[i], 0);
}

/* The WRITE_ZEROES chain both engines walk: which step follows which result. */
/* What is left of an iovec after a short transfer of skip bytes: whole entries dropped, the first cut. */
static void test_iov_rest(void **state)
{
	static char buf[600];
	const struct iovec iov[3] = { { buf, 100 }, { buf + 100, 200 }, { buf + 300, 300 } };
	struct iovec out[3];

	(void)state;
	assert_int_equal(blk_iov_rest(iov, 3, 0, out), 3);
	assert_ptr_equal(out[0].iov_base, buf);
	assert_int_equal(out[2].iov_len, 300);
	assert_int_equal(blk_iov_rest(iov, 3, 99, out), 3);
	assert_ptr_equal(out[0].iov_base, buf + 99);
	assert_int_equal(out[0].iov_len, 1);
	/* Exactly the first entry done: the rest starts at the second. */
	assert_int_equal(blk_iov_rest(iov, 3, 100, out), 2);
	assert_ptr_equal(out[0].iov_base, buf + 100);
	assert_int_equal(out[0].iov_len, 200);
	assert_ptr_equal(out[1].iov_base, buf + 300);
	/* Past the first entry, inside the second. */
	assert_int_equal(blk_iov_rest(iov, 3, 150, out), 2);
	assert_ptr_equal(out[0].iov_base, buf + 150);
	assert_int_equal(out[0].iov_len, 150);
	assert_int_equal(out[1].iov_len, 300);
	/* Inside the last entry, and all of it. */
	assert_int_equal(blk_iov_rest(iov, 3, 599, out), 1);
	assert_ptr_equal(out[0].iov_base, buf + 599);
	assert_int_equal(out[0].iov_len, 1);
	assert_int_equal(blk_iov_rest(iov, 3, 600, out), 0);
}

static void test_zero_steps(void **state)
{
	static const struct {
		enum blk_zero_step step;
		int res;
		bool durable, unmap;
		enum blk_zero_step next;
		int res_after;
	} t[] = {
		{ BLK_ZERO_RANGE, 0, false, false, BLK_ZERO_DONE, 0 },
		{ BLK_ZERO_RANGE, 0, true, true, BLK_ZERO_SYNC, 0 },
		{ BLK_ZERO_RANGE, -EOPNOTSUPP, false, false, BLK_ZERO_PUNCH, -EOPNOTSUPP },
		{ BLK_ZERO_RANGE, -EOPNOTSUPP, true, true, BLK_ZERO_PUNCH, -EOPNOTSUPP },
		{ BLK_ZERO_RANGE, -ENOSPC, true, false, BLK_ZERO_DONE, -ENOSPC },
		/* Without the unmap flag the punched range is allocated again; with it the hole stays. */
		{ BLK_ZERO_PUNCH, 0, false, false, BLK_ZERO_ALLOC, 0 },
		{ BLK_ZERO_PUNCH, 0, true, false, BLK_ZERO_ALLOC, 0 },
		{ BLK_ZERO_PUNCH, 0, false, true, BLK_ZERO_DONE, 0 },
		{ BLK_ZERO_PUNCH, 0, true, true, BLK_ZERO_SYNC, 0 },
		/* No holes either: the zeros are written, with or without the unmap flag. */
		{ BLK_ZERO_PUNCH, -EOPNOTSUPP, true, false, BLK_ZERO_WRITE, 0 },
		{ BLK_ZERO_PUNCH, -EOPNOTSUPP, false, true, BLK_ZERO_WRITE, 0 },
		{ BLK_ZERO_PUNCH, -EINVAL, true, false, BLK_ZERO_DONE, -EINVAL },
		{ BLK_ZERO_ALLOC, 0, false, false, BLK_ZERO_DONE, 0 },
		{ BLK_ZERO_ALLOC, 0, true, false, BLK_ZERO_SYNC, 0 },
		/* A filesystem that cannot preallocate: the hole reads as zeros, which is what was asked. */
		{ BLK_ZERO_ALLOC, -EOPNOTSUPP, true, false, BLK_ZERO_SYNC, 0 },
		{ BLK_ZERO_ALLOC, -ENOSPC, true, false, BLK_ZERO_DONE, -ENOSPC },
		/* The range is 8192 bytes: a write of all of it ends the writing, durable or not. */
		{ BLK_ZERO_WRITE, 8192, false, false, BLK_ZERO_DONE, 0 },
		{ BLK_ZERO_WRITE, 8192, true, false, BLK_ZERO_SYNC, 0 },
		{ BLK_ZERO_WRITE, 4096, true, false, BLK_ZERO_WRITE, 0 },
		{ BLK_ZERO_WRITE, 0, true, false, BLK_ZERO_DONE, -EIO },
		{ BLK_ZERO_WRITE, -ENOSPC, true, false, BLK_ZERO_DONE, -ENOSPC },
		{ BLK_ZERO_SYNC, 0, true, false, BLK_ZERO_DONE, 0 },
		{ BLK_ZERO_SYNC, -EIO, true, true, BLK_ZERO_DONE, -EIO },
	};
	const struct blk_geom buffered = { .fd = -1, .size = 1 << 20, .direct = false, .mem_align = 1, .off_align = 1 };
	const struct blk_zero_host fresh = { false, false }, no_range = { true, false }, no_holes = { true, true };
	struct blk_req req = { .op = BLK_OP_WRITE_ZEROES, .offset = 4096, .len = 8192 };

	(void)state;
	assert_int_equal(blk_zero_step_mode(BLK_ZERO_RANGE), FALLOC_FL_ZERO_RANGE);
	assert_int_equal(blk_zero_step_mode(BLK_ZERO_PUNCH), FALLOC_FL_PUNCH_HOLE);
	assert_int_equal(blk_zero_step_mode(BLK_ZERO_ALLOC), 0);
	assert_int_equal(blk_zero_step_first(&fresh, &buffered, &req), BLK_ZERO_RANGE);
	assert_int_equal(blk_zero_step_first(&no_range, &buffered, &req), BLK_ZERO_PUNCH);
	assert_int_equal(blk_zero_step_first(&no_holes, &buffered, &req), BLK_ZERO_WRITE);
	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct blk_zero_host h = fresh;
		uint64_t done = t[i].step == BLK_ZERO_WRITE ? 0 : 12345;
		int res = t[i].res;

		req.durable = t[i].durable;
		req.unmap = t[i].unmap;
		assert_int_equal(blk_zero_step_next(t[i].step, &res, &done, &req, &buffered, &h), t[i].next);
		assert_int_equal(res, t[i].res_after);
		/* What the host refused is remembered, for the backend's later requests. */
		assert_int_equal(h.no_zero_range, t[i].step == BLK_ZERO_RANGE && t[i].res == -EOPNOTSUPP);
		assert_int_equal(h.no_punch, t[i].step == BLK_ZERO_PUNCH && t[i].res == -EOPNOTSUPP);
		/* Entering WRITE starts at the range's first byte; a WRITE counts what it moved. */
		if (t[i].next == BLK_ZERO_WRITE)
			assert_int_equal(done, t[i].step == BLK_ZERO_WRITE ? (uint64_t)t[i].res : 0);
	}
}

/*
 * Under O_DIRECT the zeros are written only in chunks the image takes as
 * they are: aligned buffer, offset and length. A range the alignment does
 * not allow keeps the host's error rather than a misaligned write.
 */
static void test_zero_write_direct(void **state)
{
	const struct blk_geom direct = { .fd = -1, .size = 64 << 20, .direct = true, .mem_align = 512, .off_align = 4096 };
	const struct blk_geom huge = { .fd = -1, .size = 64 << 20, .direct = true, .mem_align = 8192, .off_align = 8192 };
	const struct blk_zero_host no_holes = { true, true };
	struct blk_req req = { .op = BLK_OP_WRITE_ZEROES, .offset = 4096, .len = 3 * BLK_ZERO_CHUNK + 8192 };
	struct blk_zero_host h = { true, false };
	uint64_t done = 0, chunks = 0;
	int res;

	(void)state;
	/* Aligned: written chunk by chunk, each aligned, until the range is done. */
	res = -EOPNOTSUPP;
	assert_int_equal(blk_zero_step_next(BLK_ZERO_PUNCH, &res, &done, &req, &direct, &h), BLK_ZERO_WRITE);
	assert_int_equal(blk_zero_step_first(&h, &direct, &req), BLK_ZERO_WRITE);
	for (enum blk_zero_step step = BLK_ZERO_WRITE; step == BLK_ZERO_WRITE; chunks++) {
		const void *buf;
		size_t n = blk_zero_chunk(&req, done, &buf);

		assert_true(n > 0 && n <= BLK_ZERO_CHUNK);
		assert_int_equal((uintptr_t)buf % BLK_ZERO_ALIGN, 0);
		assert_int_equal((req.offset + done) % direct.off_align, 0);
		assert_int_equal(n % direct.off_align, 0);
		for (size_t i = 0; i < n; i += 4093)
			assert_int_equal(((const uint8_t *)buf)[i], 0);
		res = (int)n;
		step = blk_zero_step_next(step, &res, &done, &req, &direct, &h);
		assert_int_equal(res, 0);
	}
	assert_int_equal(done, req.len);
	assert_int_equal(chunks, 4);
	/* Unaligned offset or length, or an alignment the buffer cannot meet: no write, the error stays. */
	for (int i = 0; i < 3; i++) {
		struct blk_req bad = req;
		const struct blk_geom *g = i == 2 ? &huge : &direct;

		if (i == 0)
			bad.offset = 512;
		else if (i == 1)
			bad.len = 4096 + 512;
		h = (struct blk_zero_host){ true, false };
		res = -EOPNOTSUPP;
		assert_int_equal(blk_zero_step_next(BLK_ZERO_PUNCH, &res, &done, &bad, g, &h), BLK_ZERO_DONE);
		assert_int_equal(res, -EOPNOTSUPP);
		assert_true(h.no_punch);
		assert_int_equal(blk_zero_step_first(&no_holes, g, &bad), BLK_ZERO_PUNCH);
	}
}

struct thread_io {
	struct bt *t;
	uint8_t wbuf[4096], rbuf[4096];
	int wres, rres, kick_res;
};

/* The device creates the backend on the main thread and drives it from its I/O thread: do that here. */
static void *thread_io_run(void *arg)
{
	struct thread_io *io = arg;
	struct bt *t = io->t;
	struct iovec wv = { io->wbuf, sizeof(io->wbuf) }, rv = { io->rbuf, sizeof(io->rbuf) };
	unsigned int cw = 0, cr = 0;
	struct blk_req w = { .op = BLK_OP_WRITE, .offset = 12288, .len = 4096, .iov = &wv, .iovcnt = 1, .opaque = &cw };
	struct blk_req r = { .op = BLK_OP_READ, .offset = 12288, .len = 4096, .iov = &rv, .iovcnt = 1, .opaque = &cr };
	int efd = blk_backend_event_fd(t->be);

	io->wres = io->rres = io->kick_res = 1;
	if (blk_backend_submit(t->be, &w) || (io->kick_res = blk_backend_kick(t->be)) != 0)
		return NULL;
	for (int round = 0; round < 2; round++) {
		while (t->ndone < (unsigned int)round + 1) {
			struct pollfd pfd = { .fd = efd, .events = POLLIN };
			uint64_t v;

			if (poll(&pfd, 1, 10000) != 1)
				return NULL;
			if (read(efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				return NULL;
			if (blk_backend_poll(t->be) < 0)
				return NULL;
		}
		if (round == 0) {
			io->wres = t->done_res[0];
			if (blk_backend_submit(t->be, &r) || (io->kick_res = blk_backend_kick(t->be)) != 0)
				return NULL;
		} else {
			io->rres = t->done_res[1];
		}
	}
	return NULL;
}

static void test_io_on_other_thread(void **state)
{
	struct bt *t = *state;
	static struct thread_io io;
	pthread_t th;

	bt_open(t, BLK_CACHE_NONE, false, 8);
	io.t = t;
	blk_test_fill(io.wbuf, 12288, sizeof(io.wbuf), 31);
	assert_int_equal(pthread_create(&th, NULL, thread_io_run, &io), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(io.kick_res, 0);
	assert_int_equal(io.wres, 4096);
	assert_int_equal(io.rres, 4096);
	assert_memory_equal(io.rbuf, io.wbuf, sizeof(io.wbuf));
	/* destroy (in teardown) runs back on the creating thread with nothing in flight. */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_read, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_vectored, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_durable_write, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_flush_counted, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_flush_reaches_disk, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_durable_write_reaches_disk, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_durable_write_zeroes_syncs, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_plain_write_zeroes_no_sync, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_discard, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_write_zeroes, bt_setup, bt_teardown),
		cmocka_unit_test(test_zero_steps),
		cmocka_unit_test(test_zero_write_direct),
		cmocka_unit_test(test_iov_rest),
		cmocka_unit_test_setup_teardown(test_eagain_at_depth, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_many_in_flight, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_direct_bounce, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_lock_released_at_close, bt_setup, bt_teardown),
#if BLK_TEST_URING
		/* The sync engine bounces one request at a time. */
		cmocka_unit_test_setup_teardown(test_bounce_bytes_capped, bt_setup, bt_teardown),
#endif
		cmocka_unit_test_setup_teardown(test_direct_rmw_runs_alone, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_error_is_errno, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_read_past_end_is_eio, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_short_read_resumes, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_short_write_resumes, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_short_then_error, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_short_keeps_its_slot, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_nothing_before_kick, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_poll_events_busy_poll, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_io_on_other_thread, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_write_zeroes_fallback, bt_setup, bt_teardown),
#if BLK_TEST_URING
		cmocka_unit_test_setup_teardown(test_inline_buffered_write, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_inline_not_direct, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_inline_destroy_pending, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_waits_for_inflight, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_wait_interrupted, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_not_now_read_resubmitted, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_not_now_write_flush_resubmitted, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_not_now_bounded, bt_setup, bt_teardown),
		cmocka_unit_test_setup_teardown(test_not_now_inline_write_to_ring, bt_setup, bt_teardown),
#endif
	};

#if BLK_TEST_URING
	{
		/* Probe once: skip the whole program only if the host has no usable io_uring. */
		char dir[PATH_MAX], path[PATH_MAX + 32];
		struct blk_image img;
		struct blk_backend *be;
		int ret;

		if (blk_test_dir_make(dir, sizeof(dir)))
			return 1;
		snprintf(path, sizeof(path), "%s/probe.img", dir);
		if (blk_test_file_make(path, 4096, 0) || blk_image_open(path, BLK_CACHE_WRITEBACK, true, &img))
			return 1;
		ret = blk_uring_create(&img, 4, bt_complete, NULL, &be);
		blk_image_close(&img);
		unlink(path);
		rmdir(dir);
		if (ret == -ENOSYS || ret == -EPERM) {
			printf("skipping: io_uring unavailable on this host (%s)\n", strerror(-ret));
			return 77;
		}
		if (ret == 0)
			blk_backend_destroy(be);
	}
#endif
	(void)bt_global;
	return cmocka_run_group_tests_name(BACKEND_NAME, tests, NULL, NULL);
}

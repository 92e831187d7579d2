/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for a block backend on hosts that differ from a plain disk
 * filesystem: ramfs (no fallocate at all), block devices without discard, and
 * block devices with 4096-byte logical blocks. They need root (a mount, loop
 * devices) and skip, saying why, without it. Built once per engine.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>
#include <cmocka.h>

#include "blk_backend.h"
#include "blk_internal.h"
#include "blk_test_util.h"
#include "blk_test_host.h"

#ifndef BLK_TEST_URING
#error "build with -DBLK_TEST_URING=0 or 1"
#endif

#if BLK_TEST_URING
#define backend_create blk_uring_create
#else
#define backend_create blk_sync_create
#endif

#define IMG_SIZE (4u << 20)

/* One test's host set-up, image and backend; the teardown undoes whatever was made. */
struct ht {
	char ramfs[PATH_MAX];
	char dir[PATH_MAX];
	char backing[PATH_MAX + 32];
	struct blk_test_loop loop;
	struct blk_image img;
	struct blk_backend *be;
	unsigned int ndone;
	int res;
};

static void ht_complete(void *ctx, struct blk_req *req, int res)
{
	struct ht *t = ctx;

	(void)req;
	t->ndone++;
	t->res = res;
}

static int ht_setup(void **state)
{
	struct ht *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	t->img.fd = -1;
	t->loop.fd = -1;
	*state = t;
	return 0;
}

static void ht_close(struct ht *t)
{
	if (t->be)
		blk_backend_destroy(t->be);
	t->be = NULL;
	blk_image_close(&t->img);
}

static int ht_teardown(void **state)
{
	struct ht *t = *state;

	ht_close(t);
	blk_test_loop_detach(&t->loop);
	if (t->backing[0])
		unlink(t->backing);
	if (t->dir[0])
		rmdir(t->dir);
	blk_test_ramfs_umount(t->ramfs);
	free(t);
	return 0;
}

/* The backing file, pattern seed 5: on a fresh ramfs, or else in a scratch directory on disk. */
static void ht_backing(struct ht *t, bool ramfs)
{
	char why[256];

	if (ramfs) {
		if (blk_test_ramfs_mount(t->ramfs, sizeof(t->ramfs), why, sizeof(why)) < 0) {
			print_message("skipping: %s\n", why);
			skip();
		}
		snprintf(t->backing, sizeof(t->backing), "%s/disk.img", t->ramfs);
	} else {
		assert_int_equal(blk_test_dir_make(t->dir, sizeof(t->dir)), 0);
		snprintf(t->backing, sizeof(t->backing), "%s/disk.img", t->dir);
	}
	assert_int_equal(blk_test_file_make(t->backing, IMG_SIZE, 5), 0);
}

/* A loop device over the backing file with block_size-byte logical blocks. */
static void ht_loop(struct ht *t, unsigned int block_size)
{
	char why[256];

	if (blk_test_loop_attach(&t->loop, t->backing, block_size, why, sizeof(why)) < 0) {
		print_message("skipping: %s\n", why);
		skip();
	}
}

static void ht_open(struct ht *t, const char *path, enum blk_cache_mode mode)
{
	assert_int_equal(blk_image_open(path, mode, false, &t->img), 0);
	assert_int_equal(backend_create(&t->img, 8, ht_complete, t, &t->be), 0);
}

/* Submit one request, wait for it as the device's I/O thread does, and return its result. */
static int ht_run(struct ht *t, struct blk_req *req)
{
	int efd = blk_backend_event_fd(t->be);
	unsigned int before = t->ndone;

	assert_int_equal(blk_backend_submit(t->be, req), 0);
	assert_int_equal(blk_backend_kick(t->be), 0);
	while (t->ndone == before) {
		struct pollfd pfd = { .fd = efd, .events = POLLIN };
		uint64_t v;

		assert_int_equal(poll(&pfd, 1, 10000), 1);
		assert_true(read(efd, &v, sizeof(v)) == sizeof(v) || errno == EAGAIN);
		assert_true(blk_backend_poll(t->be) >= 0);
	}
	assert_int_equal(t->ndone, before + 1);
	return t->res;
}

static int ht_range(struct ht *t, enum blk_op op, uint64_t off, uint64_t len, bool unmap, bool durable)
{
	struct blk_req req = { .op = op, .offset = off, .len = len, .unmap = unmap, .durable = durable };

	return ht_run(t, &req);
}

/* Read path (the backing file, or the device) and check [off, off+len) is zero and the rest of [0, IMG_SIZE) the pattern, except keep. */
static void ht_check(const char *path, uint64_t off, uint64_t len, uint64_t keep_off, uint64_t keep_len)
{
	static uint8_t buf[IMG_SIZE];

	assert_int_equal(blk_test_file_read(path, 0, buf, sizeof(buf)), 0);
	for (uint64_t i = 0; i < sizeof(buf); i++) {
		if (i >= keep_off && i < keep_off + keep_len)
			continue;
		if (i >= off && i < off + len) {
			if (buf[i] != 0)
				fail_msg("byte %llu is %u, not zero", (unsigned long long)i, buf[i]);
		} else if (buf[i] != blk_test_pattern(i, 5)) {
			fail_msg("byte %llu outside the range changed", (unsigned long long)i);
		}
	}
}

/*
 * ramfs has no fallocate: neither ZERO_RANGE nor PUNCH_HOLE. WRITE_ZEROES must
 * still zero its range (by writing zeros), with and without the unmap flag,
 * across several chunks and at 512-byte granularity, and nothing else.
 */
static void test_write_zeroes_without_fallocate(void **state)
{
	struct ht *t = *state;
	const uint64_t big_off = 65536 + 512, big_len = 2 * BLK_ZERO_CHUNK + 1536;
	struct blk_backend_counters c;

	ht_backing(t, true);
	ht_open(t, t->backing, BLK_CACHE_WRITEBACK);
	assert_int_equal(ht_range(t, BLK_OP_WRITE_ZEROES, 8192, 4096, false, false), 0);
	ht_check(t->backing, 8192, 4096, 0, 0);
	/* The second goes straight to writing; durable (an fdatasync follows), unmap allowed. */
	assert_int_equal(ht_range(t, BLK_OP_WRITE_ZEROES, big_off, big_len, true, true), 0);
	ht_check(t->backing, big_off, big_len, 8192, 4096);
	blk_backend_counters_get(t->be, &c);
	assert_int_equal(c.zeroes_written, 2);
	assert_int_equal(c.durable_writes, 1);
	assert_int_equal(c.discards_ignored, 0);
}

/* A DISCARD is a hint (virtio-blk): on a host that cannot punch holes it completes OK and leaves the data. */
static void test_discard_without_fallocate(void **state)
{
	struct ht *t = *state;
	struct blk_backend_counters c;

	ht_backing(t, true);
	ht_open(t, t->backing, BLK_CACHE_WRITEBACK);
	assert_int_equal(ht_range(t, BLK_OP_DISCARD, 4096, 8192, false, false), 0);
	assert_int_equal(ht_range(t, BLK_OP_DISCARD, 1 << 20, 1 << 20, false, false), 0);
	ht_check(t->backing, 0, 0, 0, 0);
	blk_backend_counters_get(t->be, &c);
	assert_int_equal(c.discards_ignored, 2);
	assert_int_equal(c.zeroes_written, 0);
}

/*
 * A block device without discard (a loop device over a ramfs file): its
 * fallocate PUNCH_HOLE says EOPNOTSUPP. DISCARD completes OK; WRITE_ZEROES
 * (the kernel zeroes a block device's range itself) still zeroes.
 */
static void test_block_device_without_discard(void **state)
{
	struct ht *t = *state;
	struct blk_backend_counters c;

	ht_backing(t, true);
	ht_loop(t, 512);
	ht_open(t, t->loop.path, BLK_CACHE_WRITEBACK);
	assert_int_equal(ht_range(t, BLK_OP_DISCARD, 4096, 4096, false, false), 0);
	assert_int_equal(ht_range(t, BLK_OP_WRITE_ZEROES, 16384, 8192, true, true), 0);
	assert_int_equal(ht_range(t, BLK_OP_FLUSH, 0, 0, false, false), 0);
	ht_check(t->loop.path, 16384, 8192, 0, 0);
	blk_backend_counters_get(t->be, &c);
	assert_int_equal(c.discards_ignored, 1);
}

/*
 * A block device with 4096-byte logical blocks, in every cache mode: the image
 * advertises 4096 (so the guest sends whole blocks, which the kernel's
 * fallocate on the device insists on), and such a DISCARD and WRITE_ZEROES
 * succeed. Buffered modes once advertised 512 and a 512-byte request failed.
 */
static void test_block_device_4k_every_mode(void **state)
{
	struct ht *t = *state;

	ht_backing(t, false);
	ht_loop(t, 4096);
	for (int m = BLK_CACHE_WRITEBACK; m <= BLK_CACHE_UNSAFE; m++) {
		enum blk_cache_mode mode = (enum blk_cache_mode)m;

		ht_open(t, t->loop.path, mode);
		print_message("cache=%s: logical_block %u\n", blk_cache_mode_name(mode), t->img.logical_block);
		assert_true(t->img.block_device);
		assert_int_equal(t->img.logical_block, 4096);
		assert_int_equal(ht_range(t, BLK_OP_WRITE_ZEROES, 8192, 4096, false, false), 0);
		assert_int_equal(ht_range(t, BLK_OP_DISCARD, 65536, 4096, false, false), 0);
		ht_close(t);
	}
}

/* A file's image stays at 512 when buffered: only block devices have a logical block size to learn. */
static void test_file_block_size_buffered(void **state)
{
	struct ht *t = *state;

	ht_backing(t, false);
	ht_open(t, t->backing, BLK_CACHE_WRITEBACK);
	assert_false(t->img.block_device);
	assert_int_equal(t->img.logical_block, 512);
}

/*
 * Two vmm runs in a row on one block device: after the backend is destroyed
 * and the image closed, opening it again must succeed at once. The io_uring
 * engine's ring lets go of the registered fd a moment after it is closed, so
 * that fd must not be what claims the device. Several rounds, as the window
 * is short.
 */
static void test_block_device_reopen_at_once(void **state)
{
	struct ht *t = *state;
	static uint8_t buf[4096] __attribute__((aligned(4096)));

	ht_backing(t, false);
	ht_loop(t, 4096);
	for (int round = 0; round < 8; round++) {
		struct iovec iov = { buf, 4096 };
		struct blk_req w = { .op = BLK_OP_WRITE, .offset = 4096u * (unsigned int)round, .iov = &iov, .iovcnt = 1 };
		int ret;

		blk_test_fill(buf, w.offset, 4096, 9);
		ret = blk_image_open(t->loop.path, round % 2 ? BLK_CACHE_NONE : BLK_CACHE_WRITEBACK, false, &t->img);
		if (ret)
			fail_msg("round %d: open right after the last close gave %d", round, ret);
		assert_int_equal(backend_create(&t->img, 8, ht_complete, t, &t->be), 0);
		assert_int_equal(ht_run(t, &w), 4096);
		/* Still claimed while open: another exclusive opener is refused. */
		assert_true(open(t->loop.path, O_RDONLY | O_EXCL | O_CLOEXEC) < 0 && errno == EBUSY);
		ht_close(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_zeroes_without_fallocate, ht_setup, ht_teardown),
		cmocka_unit_test_setup_teardown(test_discard_without_fallocate, ht_setup, ht_teardown),
		cmocka_unit_test_setup_teardown(test_block_device_without_discard, ht_setup, ht_teardown),
		cmocka_unit_test_setup_teardown(test_block_device_reopen_at_once, ht_setup, ht_teardown),
		cmocka_unit_test_setup_teardown(test_block_device_4k_every_mode, ht_setup, ht_teardown),
		cmocka_unit_test_setup_teardown(test_file_block_size_buffered, ht_setup, ht_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

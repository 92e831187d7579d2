/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for snapshot drives: the overlay engine against a reference
 * model (a plain in-memory disk), over real engines and over a shuffling one
 * that finishes requests out of order, on ext4 (/var/tmp), tmpfs, a loop
 * device base and a full filesystem. Built twice: the sparse path here, and
 * with OVL_TEST_REFLINK the reflink path on an XFS made for it (root and
 * mkfs.xfs; otherwise that build exits 77 saying why).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "blk_backend.h"
#include "blk_test_util.h"
#include "blk_test_host.h"
#include "ovl_harness.h"
#include "overlay_internal.h"

#define SEED 3u
#define MAX_OPS 12u

struct ot {
	char dir[PATH_MAX];           /* the base lives here, and overlays unless told otherwise */
	char base[PATH_MAX + 32];
	char ovdir[PATH_MAX + 32];
	uint64_t size;
	struct blk_image img;
	struct ovl_runner r;
	struct ovl_model m;
	struct blk_test_loop loop;
	unsigned int entries;         /* entries of ovdir before the snapshot */
};

static char reflink_dir[1024];   /* OVL_TEST_REFLINK: the XFS mount */

/*
 * fallocate, wrapped at link time: the overlay's allocation ahead (mode
 * KEEP_SIZE alone) is counted, and fails with prealloc_errno when that is
 * set. Every other mode (punching, zeroing) goes through as it is.
 */
static unsigned int prealloc_calls;
static int prealloc_errno;

int __real_fallocate64(int fd, int mode, off_t off, off_t len);
int __wrap_fallocate64(int fd, int mode, off_t off, off_t len);

int __wrap_fallocate64(int fd, int mode, off_t off, off_t len)
{
	if (mode == FALLOC_FL_KEEP_SIZE) {
		prealloc_calls++;
		if (prealloc_errno) {
			errno = prealloc_errno;
			return -1;
		}
	}
	return __real_fallocate64(fd, mode, off, len);
}

static unsigned int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static int ot_setup(void **state)
{
	struct ot *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -1;
	ret = reflink_dir[0] ? (snprintf(t->dir, sizeof(t->dir), "%s/t-XXXXXX", reflink_dir), mkdtemp(t->dir) ? 0 : -1)
			     : blk_test_dir_make(t->dir, sizeof(t->dir));
	if (ret)
		return -1;
	snprintf(t->base, sizeof(t->base), "%s/base.img", t->dir);
	snprintf(t->ovdir, sizeof(t->ovdir), "%s", t->dir);
	t->img.fd = -1;
	t->loop.fd = -1;
	memset(&ovl_shuffle, 0, sizeof(ovl_shuffle));
	ovl_shuffle.rng = 0x1234567887654321ull;
	prealloc_calls = 0;
	prealloc_errno = 0;
	*state = t;
	return 0;
}

static void ot_close(struct ot *t)
{
	if (t->r.be)
		blk_backend_destroy(t->r.be);
	t->r.be = NULL;
	blk_image_close(&t->img);
}

static int ot_teardown(void **state)
{
	struct ot *t = *state;

	ot_close(t);
	blk_test_loop_detach(&t->loop);
	ovl_model_free(&t->m);
	unlink(t->base);
	rmdir(t->dir);
	ovl_shuffle.on = false;
	free(t);
	return 0;
}

/* Make the base (size bytes of the pattern, or the loop device over it), then open it as a snapshot drive. */
static void ot_open(struct ot *t, uint64_t size, enum blk_cache_mode mode, unsigned int depth, bool loop)
{
	const char *path = t->base;
	char why[256];
	int ret;

	t->size = size;
	assert_int_equal(blk_test_file_make(t->base, size, SEED), 0);
	assert_int_equal(ovl_model_init(&t->m, size, SEED), 0);
	if (loop) {
		if (blk_test_loop_attach(&t->loop, t->base, 512, why, sizeof(why)) < 0) {
			print_message("skipping: %s\n", why);
			skip();
		}
		path = t->loop.path;
	}
	ret = blk_image_open(path, mode, true, &t->img);
	if (ret == -ENOTSUP) {
		print_message("skipping: %s refuses O_DIRECT\n", t->dir);
		skip();
	}
	assert_int_equal(ret, 0);
	t->entries = dir_entries(t->ovdir);
	assert_int_equal(blk_image_snapshot(&t->img, t->ovdir), 0);
	assert_false(t->img.readonly);
	assert_true(blk_image_cache_props(&t->img).flush_noop);
	assert_int_equal(blk_backend_create(&t->img, depth, ovl_runner_complete, &t->r, &t->r.be), 0);
	/* The overlay has no name: nothing new in its directory, now or ever. */
	assert_int_equal(dir_entries(t->ovdir), t->entries);
}

static void ot_run(struct ot *t, struct ovl_op *ops, unsigned int n, bool allow_fail)
{
	char why[512];
	int ret = ovl_batch_run(&t->r, &t->m, ops, n, allow_fail, why, sizeof(why));

	for (unsigned int i = 0; i < n; i++)
		ovl_op_free(&ops[i]);
	if (ret < 0)
		fail_msg("%s", why);
}

static __attribute__((unused)) void ot_one(struct ot *t, enum blk_op kind, uint64_t off, uint64_t len, uint32_t split)
{
	struct ovl_op op;

	assert_int_equal(ovl_op_make(&op, kind, off, len, split, (unsigned int)ovl_rand()), 0);
	ot_run(t, &op, 1, false);
}

/* Kick, then poll the backend until op (submitted already) completes, once. */
static __attribute__((unused)) void ot_wait(struct ot *t, struct ovl_op *op)
{
	assert_int_equal(blk_backend_kick(t->r.be), 0);
	while (!op->calls) {
		struct pollfd p = { .fd = blk_backend_event_fd(t->r.be), .events = POLLIN };

		assert_int_equal(poll(&p, 1, 10000), 1);
		assert_true(blk_backend_poll(t->r.be) >= 0);
	}
	assert_int_equal(op->calls, 1);
}

/* The whole disk reads as the model says, and the base file is still the pattern. */
static void ot_check_end(struct ot *t)
{
	static uint8_t buf[1 << 16];
	char why[512];

	if (ovl_check_all(&t->r, &t->m, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	for (uint64_t off = 0; off < t->size; off += sizeof(buf)) {
		size_t n = t->size - off < sizeof(buf) ? (size_t)(t->size - off) : sizeof(buf);

		assert_int_equal(blk_test_file_read(t->base, off, buf, n), 0);
		for (size_t i = 0; i < n; i++) {
			if (buf[i] != blk_test_pattern(off + i, SEED))
				fail_msg("the base changed at byte %llu", (unsigned long long)(off + i));
		}
	}
	assert_int_equal(dir_entries(t->ovdir), t->entries);
}

/*
 * A batch of up to max requests, no byte in two: reads, writes, zeroes and
 * discards at any sector, many of them inside one hot cluster (two writes to
 * one cluster, a read beside a copy-up), others over runs of clusters
 * whole or in part.
 */
static unsigned int gen_batch(struct ot *t, struct ovl_op *ops, unsigned int max, uint64_t cluster)
{
	static const enum blk_op kinds[10] = { BLK_OP_READ, BLK_OP_READ, BLK_OP_READ, BLK_OP_READ, BLK_OP_WRITE,
					       BLK_OP_WRITE, BLK_OP_WRITE, BLK_OP_WRITE_ZEROES,
					       BLK_OP_WRITE_ZEROES, BLK_OP_DISCARD };
	uint64_t sectors = t->size / 512, per = cluster / 512, hot = (ovl_rand() % ((t->size + cluster - 1) / cluster));
	unsigned int want = 1 + (unsigned int)(ovl_rand() % max), n = 0;

	for (unsigned int tries = 0; n < want && tries < 4 * want; tries++) {
		enum blk_op kind = kinds[ovl_rand() % 10];
		uint64_t s, len;

		switch (ovl_rand() % 4) {
		case 0:
			s = hot * per + ovl_rand() % per;
			len = 1 + ovl_rand() % per;
			break;
		case 1:
			s = ovl_rand() % sectors;
			len = 1 + ovl_rand() % 16;
			break;
		case 2:
			s = (ovl_rand() % sectors) / per * per;
			len = per * (1 + ovl_rand() % 4);
			break;
		default:
			s = ovl_rand() % sectors;
			len = 1 + ovl_rand() % (64 * per);
			break;
		}
		if (s >= sectors)
			s = sectors - 1;
		if (len > sectors - s)
			len = sectors - s;
		if (ovl_ops_overlap(ops, n, s * 512, len * 512))
			continue;
		assert_int_equal(ovl_op_make(&ops[n], kind, s * 512, len * 512, (uint32_t)ovl_rand(),
					     (unsigned int)ovl_rand()), 0);
		n++;
	}
	return n;
}

static uint64_t ot_cluster(struct ot *t)
{
	struct blk_snapshot_info info;

	assert_int_equal(blk_image_snapshot_info(&t->img, &info), 0);
	return info.reflink ? 4096 : info.cluster;
}

static void ot_random(struct ot *t, unsigned int batches, bool allow_fail)
{
	uint64_t cluster = ot_cluster(t);

	for (unsigned int b = 0; b < batches; b++) {
		struct ovl_op ops[MAX_OPS];
		unsigned int n = gen_batch(t, ops, MAX_OPS, cluster);

		ot_run(t, ops, n, allow_fail);
	}
	ovl_shuffle.fail_pct = 0;
	ot_check_end(t);
}

#ifndef OVL_TEST_REFLINK
static void test_random_writeback(void **state)
{
	struct ot *t = *state;

	ot_open(t, 1u << 20, BLK_CACHE_WRITEBACK, 16, false);
	ot_random(t, 300, false);
}

static void test_random_direct(void **state)
{
	struct ot *t = *state;

	ot_open(t, 1u << 20, BLK_CACHE_NONE, 16, false);
	ot_random(t, 200, false);
}

/* A last cluster shorter than the others: copy-up stops at the disk's end. */
static void test_random_odd_size(void **state)
{
	struct ot *t = *state;

	ot_open(t, (256u << 10) + 1536, BLK_CACHE_WRITEBACK, 8, false);
	ot_random(t, 200, false);
}

/* Out of order: inner engines that land and complete requests in a random order, and refuse some (-EAGAIN). */
static void test_random_shuffled(void **state)
{
	struct ot *t = *state;

	ovl_shuffle.on = true;
	ovl_shuffle.eagain_pct = 30;
	ovl_shuffle.depth = 3;
	ot_open(t, 512u << 10, BLK_CACHE_WRITEBACK, 6, false);
	ot_random(t, 400, false);
}

/* Host errors: each failed request leaves its own range undefined, and nothing else. */
static void test_random_failures(void **state)
{
	struct ot *t = *state;

	ovl_shuffle.on = true;
	ovl_shuffle.fail_pct = 8;
	ot_open(t, 512u << 10, BLK_CACHE_WRITEBACK, 8, false);
	ot_random(t, 300, true);
}

/* Every head offset and length within two clusters, over unwritten and written ones, for each kind of write. */
static void test_alignments(void **state)
{
	static const enum blk_op kinds[3] = { BLK_OP_WRITE, BLK_OP_WRITE_ZEROES, BLK_OP_DISCARD };
	struct ot *t = *state;
	uint64_t region = 0;

	ot_open(t, 16u << 20, BLK_CACHE_WRITEBACK, 8, false);
	assert_int_equal(ot_cluster(t), 4096);
	for (unsigned int k = 0; k < 3; k++) {
		for (unsigned int written = 0; written < 4; written++) {
			for (uint64_t head = 0; head < 8; head++) {
				for (uint64_t len = 1; len <= 17; len += (len < 9 ? 1 : 4), region += 3 * 4096) {
					/* written: which of the region's first two clusters hold data already. */
					for (unsigned int c = 0; c < 2; c++) {
						if (written & (1u << c))
							ot_one(t, BLK_OP_WRITE, region + c * 4096, 4096, 0);
					}
					ot_one(t, kinds[k], region + head * 512, len * 512, (uint32_t)ovl_rand());
					ot_one(t, BLK_OP_READ, region, 3 * 4096, (uint32_t)ovl_rand());
				}
			}
		}
	}
	assert_true(region <= t->size);
	ot_check_end(t);
}

/* 4 KiB-aligned 4 KiB writes copy nothing up; a partial write copies its cluster up once. */
static void test_copy_up_counts(void **state)
{
	struct ot *t = *state;
	struct blk_snapshot_info info;

	ot_open(t, 1u << 20, BLK_CACHE_WRITEBACK, 8, false);
	for (unsigned int i = 0; i < 32; i++)
		ot_one(t, BLK_OP_WRITE, (ovl_rand() % 256) * 4096, 4096, 0);
	assert_int_equal(blk_image_snapshot_info(&t->img, &info), 0);
	assert_int_equal(info.copy_ups, 0);
	assert_true(info.overlay_bytes >= 4096);
	ot_one(t, BLK_OP_WRITE, 300 * 512 + 512, 512, 0);
	ot_one(t, BLK_OP_WRITE, 300 * 512 + 512, 512, 0);   /* the cluster is data now */
	assert_int_equal(blk_image_snapshot_info(&t->img, &info), 0);
	assert_false(info.reflink);
	assert_int_equal(info.cluster, 4096);
	assert_int_equal(info.copy_ups, 1);
	ot_check_end(t);
}

/*
 * A read scattered over more than 1024 runs of written and unwritten
 * clusters waits (-EAGAIN) while another request is in flight, and goes
 * alone: a guest cannot make the engine hold a queue of such plans at once.
 */
static void test_scattered_read_waits(void **state)
{
	struct ot *t = *state;
	struct ovl_op small, big, ops[MAX_OPS];
	unsigned int n = 0;
	char why[512];

	ot_open(t, 8u << 20, BLK_CACHE_WRITEBACK, 8, false);
	for (uint64_t c = 0; c < 2048; c += 2) {
		assert_int_equal(ovl_op_make(&ops[n++], BLK_OP_WRITE, c * 4096, 4096, 0, (unsigned int)c), 0);
		if (n == MAX_OPS || c + 2 >= 2048) {
			ot_run(t, ops, n, false);
			n = 0;
		}
	}
	assert_int_equal(ovl_op_make(&small, BLK_OP_READ, 0, 4096, 0, 0), 0);
	assert_int_equal(ovl_op_make(&big, BLK_OP_READ, 0, 8u << 20, 12345, 0), 0);
	assert_int_equal(blk_backend_submit(t->r.be, &small.req), 0);
	assert_int_equal(blk_backend_submit(t->r.be, &big.req), -EAGAIN);
	ot_wait(t, &small);
	assert_int_equal(small.res, 4096);
	ovl_op_free(&small);
	/* Alone now: it goes, and reads what the model holds. */
	if (ovl_batch_run(&t->r, &t->m, &big, 1, false, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	ovl_op_free(&big);
	ot_check_end(t);
}

/* A FLUSH costs nothing: no host flush, OK at once. */
static void test_flush(void **state)
{
	struct ot *t = *state;
	struct blk_backend_counters c;

	ot_open(t, 1u << 20, BLK_CACHE_WRITEBACK, 8, false);
	ot_one(t, BLK_OP_WRITE, 4096, 8192, 0);
	ot_one(t, BLK_OP_FLUSH, 0, 0, 0);
	blk_backend_counters_get(t->r.be, &c);
	assert_int_equal(c.host_flushes, 0);
	ot_check_end(t);
}

/* A base on a block device: opened read-only and shared, never written. */
static void test_block_device_base(void **state)
{
	struct ot *t = *state;
	struct blk_snapshot_info info;

	ot_open(t, 1u << 20, BLK_CACHE_WRITEBACK, 16, true);
	assert_true(t->img.block_device);
	assert_int_equal(blk_image_snapshot_info(&t->img, &info), 0);
	assert_false(info.reflink);
	ot_random(t, 150, false);
}

/* Overlays in tmpfs, where most CI machines keep /tmp. */
static void test_tmpfs_overlay(void **state)
{
	struct ot *t = *state;
	struct stat st;

	if (stat("/dev/shm", &st) < 0 || !S_ISDIR(st.st_mode)) {
		print_message("skipping: no /dev/shm\n");
		skip();
	}
	snprintf(t->ovdir, sizeof(t->ovdir), "/dev/shm");
	ot_open(t, 1u << 20, BLK_CACHE_WRITEBACK, 16, false);
	/* In memory, nothing is allocated ahead: it would take RAM and save nothing. */
	assert_false(t->img.overlay->prealloc);
	ot_random(t, 150, false);
	assert_int_equal(prealloc_calls, 0);
	assert_int_equal(t->img.overlay->counters.prealloc_pieces, 0);
}

/* A full overlay filesystem: those requests fail, the drive goes on, and what was written stays. */
static void test_enospc(void **state)
{
	struct ot *t = *state;
	char mnt[PATH_MAX + 8];
	struct ovl_op op;
	int fails = 0;

	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		print_message("skipping: cannot mount a small tmpfs (not root, or no mount namespace)\n");
		skip();
	}
	snprintf(mnt, sizeof(mnt), "%s/full", t->dir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	assert_int_equal(mount("vmm-test", mnt, "tmpfs", 0, "size=64k"), 0);
	snprintf(t->ovdir, sizeof(t->ovdir), "%s", mnt);
	ot_open(t, 1u << 20, BLK_CACHE_WRITEBACK, 8, false);
	for (unsigned int i = 0; i < 64; i++) {
		assert_int_equal(ovl_op_make(&op, BLK_OP_WRITE, i * 16384, 16384, 0, i + 1), 0);
		char why[512];
		int ret = ovl_batch_run(&t->r, &t->m, &op, 1, true, why, sizeof(why));

		ovl_op_free(&op);
		assert_int_equal(ret, 0);
		fails += op.res < 0;
		if (op.res < 0)
			assert_int_equal(op.res, -ENOSPC);
	}
	assert_true(fails > 0);
	ot_check_end(t);
	ot_close(t);
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
}

/* The errors that name the overlay's directory, and an image that is left as it was. */
static void test_bad_dir(void **state)
{
	struct ot *t = *state;
	char p[PATH_MAX + 64];

	assert_int_equal(blk_test_file_make(t->base, 1u << 20, SEED), 0);
	assert_int_equal(blk_image_open(t->base, BLK_CACHE_WRITEBACK, true, &t->img), 0);
	snprintf(p, sizeof(p), "%s/no-such-dir", t->dir);
	assert_int_equal(blk_image_snapshot(&t->img, p), -ENOENT);
	assert_int_equal(blk_image_snapshot(&t->img, t->base), -ENOTDIR);
	assert_true(t->img.readonly);
	assert_null(t->img.overlay);
	assert_int_equal(blk_image_snapshot(&t->img, t->dir), 0);
	assert_int_equal(blk_image_snapshot(&t->img, t->dir), -EINVAL);   /* already one */
	blk_image_close(&t->img);
	assert_int_equal(blk_image_open(t->base, BLK_CACHE_WRITEBACK, false, &t->img), 0);
	assert_int_equal(blk_image_snapshot(&t->img, t->dir), -EINVAL);   /* not read-only */
	assert_int_equal(dir_entries(t->dir), 1);
}

/* Submit op alone and wait for it, with no model (the disk is too big for one). */
static void ot_wait_one(struct ot *t, struct ovl_op *op)
{
	assert_int_equal(blk_backend_submit(t->r.be, &op->req), 0);
	ot_wait(t, op);
}

/* A 64 GiB sparse base: nothing is copied or allocated for its size; its last clusters work. */
static void test_huge_sparse_base(void **state)
{
	struct ot *t = *state;
	const uint64_t size = 64ull << 30;
	struct blk_snapshot_info info;
	struct ovl_op w, r;
	uint8_t want[8192];
	int fd = open(t->base, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
	assert_int_equal(blk_image_open(t->base, BLK_CACHE_WRITEBACK, true, &t->img), 0);
	assert_int_equal(blk_image_snapshot(&t->img, t->dir), 0);
	assert_int_equal(blk_backend_create(&t->img, 8, ovl_runner_complete, &t->r, &t->r.be), 0);
	/* 1 KiB across the boundary of the last two clusters: both copied up. */
	assert_int_equal(ovl_op_make(&w, BLK_OP_WRITE, size - 4096 - 512, 1024, 0, 5), 0);
	ot_wait_one(t, &w);
	assert_int_equal(w.res, 1024);
	assert_int_equal(ovl_op_make(&r, BLK_OP_READ, size - 8192, 8192, 4096 | (1000u << 16), 0), 0);
	ot_wait_one(t, &r);
	assert_int_equal(r.res, 8192);
	memset(want, 0, sizeof(want));
	memcpy(want + 4096 - 512, w.buf, 1024);
	assert_memory_equal(r.buf, want, sizeof(want));
	ovl_op_free(&w);
	ovl_op_free(&r);
	assert_int_equal(blk_image_snapshot_info(&t->img, &info), 0);
	/* The two clusters, and at most the 1 MiB piece they lie in, allocated ahead. */
	assert_true(info.overlay_bytes >= 8192 && info.overlay_bytes <= (1u << OVL_PREALLOC_SHIFT) + 64 * 1024);
	assert_int_equal(info.copy_ups, 2);
}

/*
 * The first write to an unwritten cluster of a 1 MiB piece allocates the
 * whole piece in the overlay (on a disk filesystem), once; the piece's
 * other clusters still read from the base, whose pattern is not the zeros
 * of the allocated blocks. A write that covers a piece whole allocates
 * nothing ahead.
 */
static void test_prealloc_reads_base(void **state)
{
	const uint64_t piece = 1u << OVL_PREALLOC_SHIFT;
	struct ot *t = *state;
	const struct ovl_counters *c;
	struct blk_snapshot_info info;
	struct ovl_op ops[4];

	ot_open(t, 4 * piece + 8192, BLK_CACHE_WRITEBACK, 8, false);
	c = &t->img.overlay->counters;
	if (!t->img.overlay->prealloc) {
		print_message("skipping: %s is in memory, where nothing is allocated ahead\n", t->ovdir);
		skip();
	}
	ot_one(t, BLK_OP_WRITE, piece + 8192, 4096, 0);
	assert_int_equal(prealloc_calls, 1);
	if (!c->prealloc_pieces) {
		/* A disk filesystem without fallocate: the write went on regardless, and nothing more is tried. */
		assert_int_equal(c->prealloc_fails, 1);
		assert_false(t->img.overlay->prealloc);
		print_message("skipping: %s cannot allocate ahead\n", t->ovdir);
		ot_check_end(t);
		skip();
	}
	assert_int_equal(blk_image_snapshot_info(&t->img, &info), 0);
	assert_true(info.overlay_bytes >= piece);
	/* The piece's unwritten clusters, either side of the written one, read as the base holds them. */
	assert_int_equal(ovl_op_make(&ops[0], BLK_OP_READ, piece, 8192, 0, 0), 0);
	assert_int_equal(ovl_op_make(&ops[1], BLK_OP_READ, piece + 8192, 4096, 0, 0), 0);
	assert_int_equal(ovl_op_make(&ops[2], BLK_OP_READ, piece + 12288, piece - 12288, 77, 0), 0);
	ot_run(t, ops, 3, false);
	/* Again in the same piece, a partial cluster (a copy-up from the base), and the last short piece. */
	ot_one(t, BLK_OP_WRITE, piece + 65536 + 512, 1024, 0);
	ot_one(t, BLK_OP_WRITE, 4 * piece + 4096, 512, 0);
	assert_int_equal(c->prealloc_pieces, 2);
	/* Pieces 2 and 3 written whole, with no allocation ahead. */
	ot_one(t, BLK_OP_WRITE, 2 * piece, 2 * piece, 0x1000u | (5000u << 16));
	assert_int_equal(c->prealloc_pieces, 2);
	assert_int_equal(prealloc_calls, 2);
	assert_int_equal(c->prealloc_fails, 0);
	ot_check_end(t);
}

/*
 * An allocation ahead that fails (a full filesystem, one without fallocate)
 * fails no write: the write allocates its own blocks as without it, and
 * nothing more is allocated ahead. The reference model checks every byte.
 */
static void prealloc_fail_check(void **state, int err)
{
	struct ot *t = *state;
	const struct ovl_counters *c;

	prealloc_errno = err;
	ot_open(t, 4u << 20, BLK_CACHE_WRITEBACK, 8, false);
	c = &t->img.overlay->counters;
	if (!t->img.overlay->prealloc) {
		print_message("skipping: %s is in memory, where nothing is allocated ahead\n", t->ovdir);
		skip();
	}
	ot_one(t, BLK_OP_WRITE, 12288, 4096, 0);
	assert_int_equal(prealloc_calls, 1);
	assert_int_equal(c->prealloc_fails, 1);
	assert_int_equal(c->prealloc_pieces, 0);
	assert_false(t->img.overlay->prealloc);
	ot_one(t, BLK_OP_WRITE, (2u << 20) + 512, 4096, 0);
	ot_random(t, 100, false);
	assert_int_equal(prealloc_calls, 1);
	assert_int_equal(c->prealloc_pieces, 0);
}

static void test_prealloc_enospc(void **state)
{
	prealloc_fail_check(state, ENOSPC);
}

static void test_prealloc_eopnotsupp(void **state)
{
	prealloc_fail_check(state, EOPNOTSUPP);
}

static const struct CMUnitTest sparse_tests[] = {
	cmocka_unit_test_setup_teardown(test_random_writeback, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_random_direct, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_random_odd_size, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_random_shuffled, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_random_failures, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_alignments, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_copy_up_counts, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_scattered_read_waits, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_flush, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_block_device_base, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_tmpfs_overlay, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_enospc, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_bad_dir, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_huge_sparse_base, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_prealloc_reads_base, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_prealloc_enospc, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_prealloc_eopnotsupp, ot_setup, ot_teardown),
};
#endif

#ifdef OVL_TEST_REFLINK
/* ---- the reflink path, on an XFS made for it ---- */

static char xfs_work[900], xfs_img[920];
static struct blk_test_loop xfs_loop = { .fd = -1 };

/* Base and overlay on the XFS: the overlay is a clone of the base, and the drive runs on it as a plain file. */
static void test_reflink_random(void **state)
{
	struct ot *t = *state;
	struct blk_snapshot_info info;

	ot_open(t, 1u << 20, BLK_CACHE_WRITEBACK, 16, false);
	assert_int_equal(blk_image_snapshot_info(&t->img, &info), 0);
	assert_true(info.reflink);
	assert_int_equal(info.overlay_bytes, 0);   /* every extent is the base's */
	ot_random(t, 300, false);
	assert_int_equal(blk_image_snapshot_info(&t->img, &info), 0);
	assert_true(info.overlay_bytes > 0 && info.overlay_bytes <= t->size);
}

static void test_reflink_direct(void **state)
{
	struct ot *t = *state;
	struct blk_snapshot_info info;

	ot_open(t, 1u << 20, BLK_CACHE_NONE, 16, false);
	assert_int_equal(blk_image_snapshot_info(&t->img, &info), 0);
	assert_true(info.reflink);
	ot_random(t, 200, false);
}

/* Overlays in another filesystem than the base's cannot share its extents: the sparse path, still correct. */
static void test_reflink_elsewhere(void **state)
{
	struct ot *t = *state;
	struct blk_snapshot_info info;

	if (blk_test_dir_make(t->ovdir, sizeof(t->ovdir)) < 0) {
		print_message("skipping: no disk directory for the overlay\n");
		skip();
	}
	ot_open(t, 1u << 20, BLK_CACHE_WRITEBACK, 16, false);
	assert_int_equal(blk_image_snapshot_info(&t->img, &info), 0);
	assert_false(info.reflink);
	ot_random(t, 100, false);
	ot_close(t);
	rmdir(t->ovdir);
}

static const struct CMUnitTest reflink_tests[] = {
	cmocka_unit_test_setup_teardown(test_reflink_random, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_reflink_direct, ot_setup, ot_teardown),
	cmocka_unit_test_setup_teardown(test_reflink_elsewhere, ot_setup, ot_teardown),
};

/* Make a 512 MiB XFS (reflink on) in a file, attach it to a loop device and mount it privately. 0 or -1 with why. */
static int xfs_make(char *why, size_t n)
{
	char cmd[PATH_MAX + 64];
	int fd;

	if (geteuid() != 0)
		return snprintf(why, n, "not root: cannot mount an XFS for the reflink path"), -1;
	if (system("command -v mkfs.xfs >/dev/null 2>&1") != 0)
		return snprintf(why, n, "mkfs.xfs is not installed (apt-get install xfsprogs)"), -1;
	if (blk_test_dir_make(xfs_work, sizeof(xfs_work)) < 0)
		return snprintf(why, n, "no disk directory under $TMPDIR or /var/tmp"), -1;
	snprintf(xfs_img, sizeof(xfs_img), "%s/xfs.img", xfs_work);
	fd = open(xfs_img, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 512 << 20) < 0)
		return snprintf(why, n, "cannot make %.200s: %s", xfs_img, strerror(errno)), -1;
	close(fd);
	snprintf(cmd, sizeof(cmd), "mkfs.xfs -q -m reflink=1 '%s' >/dev/null 2>&1", xfs_img);
	if (system(cmd) != 0)
		return snprintf(why, n, "mkfs.xfs -m reflink=1 failed"), -1;
	if (blk_test_loop_attach(&xfs_loop, xfs_img, 512, why, n) < 0)
		return -1;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return snprintf(why, n, "no mount namespace: %s", strerror(errno)), -1;
	snprintf(reflink_dir, sizeof(reflink_dir), "%s/mnt", xfs_work);
	if (mkdir(reflink_dir, 0700) < 0 || mount(xfs_loop.path, reflink_dir, "xfs", 0, NULL) < 0) {
		snprintf(why, n, "cannot mount the XFS: %s (no xfs in this kernel?)", strerror(errno));
		reflink_dir[0] = 0;
		return -1;
	}
	return 0;
}

static void xfs_unmake(void)
{
	char mnt[1024];

	snprintf(mnt, sizeof(mnt), "%s/mnt", xfs_work);
	if (reflink_dir[0])
		umount2(reflink_dir, MNT_DETACH);
	rmdir(mnt);
	blk_test_loop_detach(&xfs_loop);
	if (xfs_img[0])
		unlink(xfs_img);
	if (xfs_work[0])
		rmdir(xfs_work);
}

int main(void)
{
	char why[300];
	int ret;

	if (xfs_make(why, sizeof(why)) < 0) {
		xfs_unmake();
		printf("skip: the reflink path needs an XFS: %s\n", why);
		return 77;
	}
	ret = cmocka_run_group_tests(reflink_tests, NULL, NULL);
	xfs_unmake();
	return ret;
}
#else
int main(void)
{
	return cmocka_run_group_tests(sparse_tests, NULL, NULL);
}
#endif

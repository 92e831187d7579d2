/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the snapshot overlay engine (src/block/overlay*.c) against its reference model, a plain
 * in-memory disk (tests/unit/block/ovl_harness.c), which is the oracle.
 *
 * The base is a memfd of any size up to 1 MiB in 512-byte steps (so the last cluster may be short),
 * filled with a pattern; the overlay is a nameless file in a tmpfs directory. The inner engines are the
 * harness's shuffling engine, which lands and completes what it holds in an order the input chooses,
 * refuses some submits (-EAGAIN) and, when asked, fails some requests (a write moving part of its bytes
 * first), or the real engines (io_uring, or the synchronous one).
 *
 * Input: a 6-byte header, then 8-byte operations.
 *   header[0..1]  disk sectors - 1 (little-endian, mod 2048)
 *   header[2]     bit 0: real inner engines; bit 1: inject host failures
 *   header[3]     -EAGAIN percentage (mod 60)     header[4]  seed of the engine's choices
 *   header[5]     low nibble: the engine's queue depth - 1; high: the shuffler's depth - 1
 *   op[0]  & 7: 0-2 READ, 3-4 WRITE, 5 WRITE_ZEROES, 6 DISCARD, 7 end of batch
 *   op[1..3] first sector (mod the disk), op[4..5] sectors - 1 (mod 256, cut at the disk's end),
 *   op[6..7] where the buffer is split into iovecs (two points, any byte)
 * A batch holds up to 16 requests in flight together; one that shares a byte with an earlier one of
 * its batch is dropped (the model has one answer only for requests that do not overlap).
 *
 * Invariants (abort on breach): every request completes exactly once, with all its bytes or an error
 * (an error only where failures are injected); a read returns what the model holds; after the script
 * the whole disk reads as the model says; the base never changes; the overlay leaves no name in its
 * directory.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blk_test_util.h"
#include "ovl_harness.h"

#define CHECK(cond, ...)                                                                                  \
	do {                                                                                              \
		if (!(cond)) {                                                                            \
			fprintf(stderr, "fuzz_overlay: invariant broken (%s:%d): %s: ", __FILE__, __LINE__, \
				#cond);                                                                   \
			fprintf(stderr, __VA_ARGS__);                                                     \
			fputc('\n', stderr);                                                              \
			abort();                                                                          \
		}                                                                                         \
	} while (0)

#define SEED 7u
#define MAX_BATCH 16u
#define MAX_SECTORS 2048u

static char dir[64];

static void dir_remove(void)
{
	if (dir[0])
		rmdir(dir);
}

/* The overlays' directory: tmpfs if there is one (fast), made once and removed at exit. */
static void dir_make(void)
{
	if (dir[0])
		return;
	snprintf(dir, sizeof(dir), "/dev/shm/vmm-fuzz-ovl-XXXXXX");
	if (!mkdtemp(dir)) {
		snprintf(dir, sizeof(dir), "/tmp/vmm-fuzz-ovl-XXXXXX");
		CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	}
	atexit(dir_remove);
}

static bool dir_empty(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool empty = true;

	CHECK(d != NULL, "opendir %s", dir);
	while ((e = readdir(d)))
		empty &= !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

static uint32_t le(const uint8_t *p, unsigned int n)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

/* A memfd of size bytes holding the pattern: the base. */
static int base_make(uint64_t size)
{
	static uint8_t buf[MAX_SECTORS * 512];
	int fd = memfd_create("vmm-fuzz-base", MFD_CLOEXEC);

	CHECK(fd >= 0, "memfd_create: %s", strerror(errno));
	blk_test_fill(buf, 0, size, SEED);
	CHECK(pwrite(fd, buf, size, 0) == (ssize_t)size, "filling the base");
	return fd;
}

static void base_check(int fd, uint64_t size)
{
	static uint8_t buf[MAX_SECTORS * 512], want[MAX_SECTORS * 512];

	CHECK(pread(fd, buf, size, 0) == (ssize_t)size, "reading the base back");
	blk_test_fill(want, 0, size, SEED);
	CHECK(memcmp(buf, want, size) == 0, "the base changed");
}

/* Run the batch of n ops and free their buffers. */
static void batch(struct ovl_runner *r, struct ovl_model *m, struct ovl_op *ops, unsigned int n, bool fail)
{
	char why[512];
	int ret = ovl_batch_run(r, m, ops, n, fail, why, sizeof(why));

	for (unsigned int i = 0; i < n; i++)
		ovl_op_free(&ops[i]);
	CHECK(ret == 0, "%s", why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum blk_op kinds[7] = { BLK_OP_READ, BLK_OP_READ, BLK_OP_READ, BLK_OP_WRITE, BLK_OP_WRITE,
					      BLK_OP_WRITE_ZEROES, BLK_OP_DISCARD };
	struct ovl_runner r = { 0 };
	struct ovl_model m;
	struct blk_image img;
	struct ovl_op ops[MAX_BATCH];
	unsigned int n = 0;
	char path[64], why[512];
	uint64_t sectors, disk;
	bool fail;
	int fd;

	if (size < 6)
		return 0;
	dir_make();
	sectors = 1 + le(data, 2) % MAX_SECTORS;
	disk = sectors * 512;
	fail = data[2] & 2;
	memset(&ovl_shuffle, 0, sizeof(ovl_shuffle));
	ovl_shuffle.on = !(data[2] & 1);
	ovl_shuffle.rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)data[4] << 17) ^ sectors;
	ovl_shuffle.eagain_pct = data[3] % 60;
	ovl_shuffle.fail_pct = fail ? 1 + data[4] % 12 : 0;
	ovl_shuffle.depth = 1 + (data[5] >> 4);
	fail &= ovl_shuffle.on;

	fd = base_make(disk);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	CHECK(blk_image_open(path, BLK_CACHE_WRITEBACK, true, &img) == 0, "opening the base");
	CHECK(blk_image_snapshot(&img, dir) == 0, "making the overlay in %s", dir);
	CHECK(blk_backend_create(&img, 1 + (data[5] & 15), ovl_runner_complete, &r, &r.be) == 0, "the engine");
	CHECK(ovl_model_init(&m, disk, SEED) == 0, "the model");

	for (const uint8_t *p = data + 6; p + 8 <= data + size; p += 8) {
		uint64_t s = le(p + 1, 3) % sectors, len = 1 + le(p + 4, 2) % 256;

		if ((p[0] & 7) == 7 || n == MAX_BATCH) {
			batch(&r, &m, ops, n, fail);
			n = 0;
			if ((p[0] & 7) == 7)
				continue;
		}
		if (len > sectors - s)
			len = sectors - s;
		if (ovl_ops_overlap(ops, n, s * 512, len * 512))
			continue;
		CHECK(ovl_op_make(&ops[n], kinds[p[0] & 7], s * 512, len * 512, le(p + 6, 2) * 0x10001u ^ p[3],
				  p[0] >> 3) == 0, "out of memory");
		n++;
	}
	batch(&r, &m, ops, n, fail);
	ovl_shuffle.fail_pct = 0;
	CHECK(ovl_check_all(&r, &m, why, sizeof(why)) == 0, "%s", why);

	blk_backend_destroy(r.be);
	blk_image_close(&img);
	CHECK(dir_empty(), "the overlay left a name in %s", dir);
	base_check(fd, disk);
	close(fd);
	ovl_model_free(&m);
	return 0;
}

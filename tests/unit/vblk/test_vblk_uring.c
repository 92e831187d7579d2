/* SPDX-License-Identifier: MIT */
/* End-to-end tests through vblk_create with the real io_uring backend and the I/O thread, over a temp file under /var/tmp. */
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "uring_fault.h"
#include "vblk_test_util.h"

struct ufx {
	struct fx f;
	char path[64];
	int fd;
};

/* Kick the device through its notify eventfd (as KVM's ioeventfd would) and wait until n used entries exist. */
static void kick_and_wait(struct fx *f, uint16_t n)
{
	assert_int_equal(eventfd_write(vblk_notify_fd(f->dev), 1), 0);
	for (int i = 0; i < 500 && vtest_used_idx(&f->g) != n; i++) {
		struct pollfd p = { .fd = vblk_irq_fd(f->dev), .events = POLLIN };

		(void)poll(&p, 1, 20);
		fx_irq_fired(f);
	}
	assert_int_equal(vtest_used_idx(&f->g), n);
}

/* A device over the io_uring engine on a fresh image under /var/tmp, started; skips when mode needs O_DIRECT and gets none. */
static struct ufx *ufx_open(enum blk_cache_mode mode)
{
	struct ufx *u = calloc(1, sizeof(*u));
	struct fx *f = &u->f;

	assert_non_null(u);
	strcpy(u->path, "/var/tmp/vmm-vblk-test-XXXXXX");
	u->fd = mkstemp(u->path);
	assert_true(u->fd >= 0);
	assert_int_equal(ftruncate(u->fd, TDISK), 0);

	int r = blk_image_open(u->path, mode, false, &f->img);

	if (r == -ENOTSUP || r == -EINVAL) {
		/* This filesystem refuses O_DIRECT: nothing to test for a direct mode here. */
		unlink(u->path);
		close(u->fd);
		free(u);
		print_message("skipping: /var/tmp refuses O_DIRECT, which cache=%s needs\n", blk_cache_mode_name(mode));
		skip();
	}
	assert_int_equal(r, 0);
	assert_int_equal(vtest_guest_init(&f->g, TRAM, TQSIZE), 0);
	struct vblk_params p = { .image = &f->img, .serial = "uring", .queue_size = TQSIZE };

	assert_int_equal(vblk_create(&p, &f->g.mem, &f->dev), 0);
	fx_bringup(f, ALL_FEATURES);
	assert_int_equal(vblk_start(f->dev), 0);
	return u;
}

/* After vblk_stop: free the device, the guest and the image. */
static void ufx_close(struct ufx *u)
{
	vblk_destroy(u->f.dev);
	vtest_guest_fini(&u->f.g);
	blk_image_close(&u->f.img);
	unlink(u->path);
	close(u->fd);
	free(u);
}

static void run(enum blk_cache_mode mode)
{
	struct ufx *u = ufx_open(mode);
	struct fx *f = &u->f;
	uint8_t pattern[4096];

	for (int i = 0; i < 4096; i++)
		pattern[i] = (uint8_t)(i * 13 + 1);
	/* Write 4 KiB at sector 8. The buffer is only 16-byte aligned: under O_DIRECT the backend bounces it. */
	struct treq w = fx_submit_filled(f, VIRTIO_BLK_T_OUT, 8, 4096, pattern);

	kick_and_wait(f, 1);
	fx_expect_used(f, &w, 1, VIRTIO_BLK_S_OK);

	struct treq fl = fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);

	kick_and_wait(f, 2);
	fx_expect_used(f, &fl, 1, VIRTIO_BLK_S_OK);

	struct treq rd = fx_submit(f, VIRTIO_BLK_T_IN, 8, 4096);
	struct treq past = fx_submit(f, VIRTIO_BLK_T_IN, TDISK / 512, 512);

	kick_and_wait(f, 4);
	uint32_t id, len;

	/* Completion order is the backend's; find each by head. */
	for (int i = 0; i < 2; i++) {
		assert_true(vtest_used_pop(&f->g, &id, &len));
		if (id == rd.head)
			assert_int_equal(len, 4097);
		else
			assert_int_equal(id, past.head);
	}
	assert_int_equal(*gp(f, rd.st), VIRTIO_BLK_S_OK);
	assert_int_equal(*gp(f, past.st), VIRTIO_BLK_S_IOERR);
	assert_memory_equal(gp(f, rd.data), pattern, sizeof(pattern));

	assert_int_equal(vblk_stop(f->dev), 0);
	struct vblk_stats s = fx_stats(f);

	assert_int_equal(s.writes, 1);
	assert_int_equal(s.reads, 1);
	assert_int_equal(s.flushes, 1);
	assert_int_equal(s.host_flushes, mode == BLK_CACHE_UNSAFE ? 0 : 1);
	assert_int_equal(s.flushes_skipped, mode == BLK_CACHE_UNSAFE ? 1 : 0);
	assert_int_equal(s.exit_flushes, mode == BLK_CACHE_UNSAFE ? 0 : 1);
	assert_int_equal(s.durable_writes, !blk_cache_mode_props(mode).wce ? 1 : 0);
	assert_int_equal(s.errors, 1);
	/*
	 * Three notify writes and the device's own one at DRIVER_OK: the thread
	 * may find the last requests by polling and stop before it reads the
	 * last write, but never counts more. The first completion always
	 * interrupts; none can interrupt twice.
	 */
	assert_in_range(s.kicks, 1, 4);
	assert_in_range(s.interrupts, 1, 4);

	/* The bytes really are in the file. */
	uint8_t back[4096];

	assert_int_equal(pread(u->fd, back, sizeof(back), 8 * 512), (ssize_t)sizeof(back));
	assert_memory_equal(back, pattern, sizeof(back));

	ufx_close(u);
}

/*
 * The engine's attempts at a READ and a FLUSH say "not now": io_uring_submit
 * fails with -EINTR and -EAGAIN (the I/O thread kicks again by itself), and
 * completions carry -EAGAIN and -EINTR (the engine resubmits). The guest
 * sees OK and its bytes, and the FLUSH latches no error: the next one is OK.
 */
static void test_not_now_is_ok(void **state)
{
	static const int submit_faults[] = { -EINTR, -EAGAIN };
	static const int cqe_faults[] = { -EAGAIN, -EINTR };
	struct ufx *u = ufx_open(BLK_CACHE_WRITEBACK);
	struct fx *f = &u->f;
	uint8_t pattern[4096];

	(void)state;
	for (int i = 0; i < 4096; i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(pwrite(u->fd, pattern, sizeof(pattern), 16 * 512), (ssize_t)sizeof(pattern));

	/* Set while the I/O thread has nothing to submit: it reads them at its next io_uring_submit. */
	uring_fault_submit(submit_faults, 2);
	uring_fault_cqe(cqe_faults, 2);
	struct treq rd = fx_submit(f, VIRTIO_BLK_T_IN, 16, 4096);

	kick_and_wait(f, 1);
	fx_expect_used(f, &rd, 4097, VIRTIO_BLK_S_OK);
	assert_memory_equal(gp(f, rd.data), pattern, sizeof(pattern));
	assert_int_equal(uring_fault_submit_used(), 2);
	assert_int_equal(uring_fault_cqe_used(), 2);

	uring_fault_cqe((const int[]){ -EINTR, -EAGAIN }, 2);
	struct treq fl = fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);

	kick_and_wait(f, 2);
	fx_expect_used(f, &fl, 1, VIRTIO_BLK_S_OK);
	assert_int_equal(uring_fault_cqe_used(), 2);
	struct treq fl2 = fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);

	kick_and_wait(f, 3);
	fx_expect_used(f, &fl2, 1, VIRTIO_BLK_S_OK);

	assert_int_equal(vblk_stop(f->dev), 0);
	uring_fault_clear();
	struct vblk_stats s = fx_stats(f);

	assert_int_equal(s.reads, 1);
	assert_int_equal(s.flushes, 2);
	assert_int_equal(s.host_flushes, 2);
	assert_int_equal(s.errors, 0);
	ufx_close(u);
}

/* The stop's own fdatasync, counted apart from the guest's: one for a writable drive, none read-only. */
static void test_exit_flush(void **state)
{
	char path[] = "/var/tmp/vmm-vblk-test-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, TDISK), 0);
	for (int ro = 0; ro <= 1; ro++) {
		struct fx f;
		struct vblk_stats s;

		memset(&f, 0, sizeof(f));
		assert_int_equal(blk_image_open(path, BLK_CACHE_WRITEBACK, ro, &f.img), 0);
		assert_int_equal(vtest_guest_init(&f.g, TRAM, TQSIZE), 0);
		struct vblk_params p = { .image = &f.img, .serial = "exit", .queue_size = TQSIZE };

		assert_int_equal(vblk_create(&p, &f.g.mem, &f.dev), 0);
		fx_bringup(&f, ALL_FEATURES);
		assert_int_equal(vblk_start(f.dev), 0);
		assert_int_equal(vblk_stop(f.dev), 0);
		vblk_get_stats(f.dev, &s);
		assert_int_equal(s.exit_flushes, ro ? 0 : 1);
		assert_int_equal(s.host_flushes, 0);
		vblk_destroy(f.dev);
		vtest_guest_fini(&f.g);
		blk_image_close(&f.img);
	}
	unlink(path);
	close(fd);
}

static void test_writeback(void **state)
{
	(void)state;
	run(BLK_CACHE_WRITEBACK);
}

static void test_unsafe(void **state)
{
	(void)state;
	run(BLK_CACHE_UNSAFE);
}

static void test_none(void **state)
{
	(void)state;
	run(BLK_CACHE_NONE);
}

static void test_writethrough(void **state)
{
	(void)state;
	run(BLK_CACHE_WRITETHROUGH);
}

static void test_directsync(void **state)
{
	(void)state;
	run(BLK_CACHE_DIRECTSYNC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writeback),
		cmocka_unit_test(test_unsafe),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_writethrough),
		cmocka_unit_test(test_directsync),
		cmocka_unit_test(test_exit_flush),
		cmocka_unit_test(test_not_now_is_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

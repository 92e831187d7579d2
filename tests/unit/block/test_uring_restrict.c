/* SPDX-License-Identifier: MIT */
/* The io_uring engine's ring takes only its image's opcodes, on the registered file: others are refused (EACCES). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "blk_backend.h"
#include "blk_test_util.h"
#include "uring_internal.h"

struct rt {
	char dir[256], path[300];
	struct blk_image img;
	struct blk_backend *be;
	struct blk_uring *u;
};

static void rt_complete(void *ctx, struct blk_req *req, int res)
{
	(void)ctx, (void)req, (void)res;
}

static int rt_setup(void **state)
{
	static struct rt t;

	memset(&t, 0, sizeof(t));
	assert_int_equal(blk_test_dir_make(t.dir, sizeof(t.dir)), 0);
	snprintf(t.path, sizeof(t.path), "%s/img", t.dir);
	assert_int_equal(blk_test_file_make(t.path, 1 << 20, 3), 0);
	*state = &t;
	return 0;
}

static int rt_teardown(void **state)
{
	struct rt *t = *state;

	if (t->be)
		blk_backend_destroy(t->be);
	blk_image_close(&t->img);
	unlink(t->path);
	rmdir(t->dir);
	return 0;
}

/* The engine over the image, its ring enabled as the I/O thread's first kick would; skips without restrictions. */
static void rt_open(struct rt *t, bool readonly)
{
	int r;

	assert_int_equal(blk_image_open(t->path, BLK_CACHE_WRITEBACK, readonly, &t->img), 0);
	r = blk_uring_create(&t->img, 4, rt_complete, t, &t->be);
	if (r == -ENOSYS || r == -EPERM) {
		print_message("skipping: io_uring is not available (%s)\n", strerror(-r));
		skip();
	}
	assert_int_equal(r, 0);
	t->u = (struct blk_uring *)t->be;
	if (!t->u->need_enable) {
		print_message("skipping: this kernel cannot create a ring disabled, so it cannot restrict one\n");
		skip();
	}
	assert_int_equal(io_uring_enable_rings(&t->u->ring), 0);
	t->u->need_enable = false;
}

/* Submit one prepared SQE and return its completion's result. */
static int rt_run(struct rt *t, struct io_uring_sqe *sqe)
{
	struct io_uring_cqe *cqe;
	int res;

	(void)sqe;
	assert_int_equal(io_uring_submit(&t->u->ring), 1);
	assert_int_equal(io_uring_wait_cqe(&t->u->ring, &cqe), 0);
	res = cqe->res;
	io_uring_cqe_seen(&t->u->ring, cqe);
	return res;
}

/* One 512-byte READV or WRITEV at 0 on fd (the fixed table's index, or a plain fd): its result. */
static int rt_rw(struct rt *t, bool write, int fd, bool fixed)
{
	static char buf[512];
	struct iovec iov = { buf, sizeof(buf) };
	struct io_uring_sqe *sqe = io_uring_get_sqe(&t->u->ring);

	if (write)
		io_uring_prep_writev(sqe, fd, &iov, 1, 0);
	else
		io_uring_prep_readv(sqe, fd, &iov, 1, 0);
	if (fixed)
		sqe->flags |= IOSQE_FIXED_FILE;
	return rt_run(t, sqe);
}

static void test_fixed_read_works(void **state)
{
	struct rt *t = *state;

	rt_open(t, true);
	assert_int_equal(rt_rw(t, false, URING_FILE_INDEX, true), 512);
}

static void test_non_fixed_file_refused(void **state)
{
	struct rt *t = *state;

	rt_open(t, true);
	/* The image's own fd, but not through the registered table. */
	assert_int_equal(rt_rw(t, false, t->img.fd, false), -EACCES);
}

static void test_other_opcode_refused(void **state)
{
	struct rt *t = *state;
	struct io_uring_sqe *sqe;

	rt_open(t, false);
	/* An open, even flagged as on the fixed file: not an opcode the engine uses. */
	sqe = io_uring_get_sqe(&t->u->ring);
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	assert_int_equal(rt_run(t, sqe), -EACCES);
}

static void test_readonly_image_takes_no_write(void **state)
{
	struct rt *t = *state;

	rt_open(t, true);
	assert_int_equal(rt_rw(t, true, URING_FILE_INDEX, true), -EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fixed_read_works, rt_setup, rt_teardown),
		cmocka_unit_test_setup_teardown(test_non_fixed_file_refused, rt_setup, rt_teardown),
		cmocka_unit_test_setup_teardown(test_other_opcode_refused, rt_setup, rt_teardown),
		cmocka_unit_test_setup_teardown(test_readonly_image_takes_no_write, rt_setup, rt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

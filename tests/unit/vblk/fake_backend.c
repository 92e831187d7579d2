/* SPDX-License-Identifier: MIT */
/* The fake block backend (see fake_backend.h). */
#include "fake_backend.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static struct fake_backend *fb_of(struct blk_backend *be)
{
	return (struct fake_backend *)be;
}

static int fake_submit(struct blk_backend *be, struct blk_req *req)
{
	struct fake_backend *fb = fb_of(be);

	fb->submit_attempts++;
	if (fb->fail_next_submit) {
		int r = fb->fail_next_submit;

		fb->fail_next_submit = 0;
		return r;
	}
	if ((fb->capacity && fb->npending >= fb->capacity) || fb->npending >= FAKE_MAX_PENDING)
		return -EAGAIN;
	assert_true(fb->ncalls < FAKE_MAX_CALLS);
	uint64_t len = req->len;

	if (req->op == BLK_OP_READ || req->op == BLK_OP_WRITE) {
		/* The device promised len == the iov's total: check it. */
		uint64_t sum = 0;

		for (unsigned int i = 0; i < req->iovcnt; i++)
			sum += req->iov[i].iov_len;
		assert_int_equal(sum, req->len);
	}
	fb->calls[fb->ncalls++] = (struct fake_call){
		.op = req->op, .offset = req->offset, .len = len, .iovcnt = req->iovcnt, .durable = req->durable,
		.unmap = req->unmap,
	};
	fb->moved[fb->npending] = 0;
	fb->pending[fb->npending++] = req;
	pthread_cond_broadcast(&fb->changed);
	return 0;
}

static int fake_kick(struct blk_backend *be)
{
	struct fake_backend *fb = fb_of(be);

	fb->kicks++;
	pthread_cond_broadcast(&fb->changed);
	if (fb->fail_kicks) {
		fb->fail_kicks--;
		return -EAGAIN;
	}
	fb->kicked = fb->ncalls;
	return 0;
}

static int fake_poll(struct blk_backend *be)
{
	struct fake_backend *fb = fb_of(be);
	unsigned int n = fb->ndone;

	/* Take the list first: complete() may lead to new submits and finishes. */
	struct blk_req *done[FAKE_MAX_PENDING];
	int res[FAKE_MAX_PENDING];

	memcpy(done, fb->done, n * sizeof(done[0]));
	memcpy(res, fb->done_res, n * sizeof(res[0]));
	fb->ndone = 0;
	for (unsigned int i = 0; i < n; i++)
		be->complete(be->complete_ctx, done[i], res[i]);
	pthread_cond_broadcast(&fb->changed);
	if (fb->poll_fails) {
		int r = fb->poll_fails;

		fb->poll_fails = 0;
		return r;
	}
	return (int)n;
}

static int fake_event_fd(struct blk_backend *be)
{
	return fb_of(be)->efd;
}

static void fake_destroy(struct blk_backend *be)
{
	struct fake_backend *fb = fb_of(be);

	pthread_cond_destroy(&fb->changed);
	close(fb->efd);
	free(fb->disk);
	free(fb);
}

static const struct blk_backend_ops fake_ops = {
	.submit = fake_submit,
	.kick = fake_kick,
	.poll = fake_poll,
	.event_fd = fake_event_fd,
	.destroy = fake_destroy,
};

struct fake_backend *fake_backend_new(uint64_t disk_size)
{
	struct fake_backend *fb = calloc(1, sizeof(*fb));

	if (!fb)
		return NULL;
	pthread_condattr_t ca;

	fb->disk = calloc(1, disk_size);
	fb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	/* Timed waits on it are bounded in CLOCK_MONOTONIC, which no clock setting moves. */
	if (!fb->disk || fb->efd < 0 || pthread_condattr_init(&ca) != 0)
		goto free_fake;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 || pthread_cond_init(&fb->changed, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		goto free_fake;
	}
	pthread_condattr_destroy(&ca);
	fb->disk_size = disk_size;
	fb->be.ops = &fake_ops;
	return fb;

free_fake:
	if (fb->efd >= 0)
		close(fb->efd);
	free(fb->disk);
	free(fb);
	return NULL;
}

static bool is_rw(const struct blk_req *req)
{
	return req->op == BLK_OP_READ || req->op == BLK_OP_WRITE;
}

/* The result that finishes pending request i: what is left of a READ/WRITE, 0 for the other ops. */
static int rest_of(const struct fake_backend *fb, unsigned int i)
{
	return is_rw(fb->pending[i]) ? (int)(fb->pending[i]->len - fb->moved[i]) : 0;
}

/* Move bytes [from, from + n) of req between the disk and its iov. */
static void transfer(struct fake_backend *fb, struct blk_req *req, uint64_t from, uint64_t n)
{
	uint64_t off = req->offset + from;

	assert_true(req->offset <= fb->disk_size && from + n <= fb->disk_size - req->offset);
	for (unsigned int i = 0; i < req->iovcnt && n > 0; i++) {
		uint64_t take;

		if (from >= req->iov[i].iov_len) {
			from -= req->iov[i].iov_len;
			continue;
		}
		take = req->iov[i].iov_len - from < n ? req->iov[i].iov_len - from : n;
		if (req->op == BLK_OP_READ)
			memcpy((uint8_t *)req->iov[i].iov_base + from, fb->disk + off, take);
		else
			memcpy(fb->disk + off, (uint8_t *)req->iov[i].iov_base + from, take);
		from = 0;
		off += take;
		n -= take;
	}
}

struct blk_req *fake_backend_finish(struct fake_backend *fb, unsigned int i, int res)
{
	assert_true(i < fb->npending);
	struct blk_req *req = fb->pending[i];

	if (is_rw(req) && res >= 0) {
		uint64_t left = req->len - fb->moved[i];

		/* No progress is -EIO, and no host call moves more than asked. */
		assert_true(res > 0 && (uint64_t)res <= left);
		transfer(fb, req, fb->moved[i], (uint64_t)res);
		fb->moved[i] += (uint64_t)res;
		if (fb->moved[i] < req->len)
			return req;   /* short: resumed, still pending */
		res = (int)req->len;
	}
	assert_true(is_rw(req) || res <= 0);
	memmove(&fb->pending[i], &fb->pending[i + 1], (fb->npending - i - 1) * sizeof(fb->pending[0]));
	memmove(&fb->moved[i], &fb->moved[i + 1], (fb->npending - i - 1) * sizeof(fb->moved[0]));
	fb->npending--;
	if (req->op == BLK_OP_WRITE_ZEROES && res == 0)
		memset(fb->disk + req->offset, 0, req->len);
	fb->done[fb->ndone] = req;
	fb->done_res[fb->ndone] = res;
	fb->ndone++;
	(void)eventfd_write(fb->efd, 1);
	return req;
}

void fake_backend_finish_all(struct fake_backend *fb)
{
	while (fb->npending > 0)
		fake_backend_finish(fb, 0, rest_of(fb, 0));
}

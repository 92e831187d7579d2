/* SPDX-License-Identifier: MIT */
/* The synchronous block backend: plain syscalls done in kick(), completions delivered by poll(); a test oracle and fallback. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "blk_internal.h"

#define SYNC_MAX_DEPTH 4096u

struct sync_entry {
	struct blk_req *req;
	int res;
};

struct blk_sync {
	struct blk_backend be;  /* first: the ops receive &be */
	struct blk_geom geom;
	int efd;
	struct blk_zero_host zero_host;
	unsigned int depth;
	/* A ring of requests in submit order: the first ndone are finished, the rest wait for kick. */
	struct sync_entry *ents;
	unsigned int head;
	unsigned int count;
	unsigned int ndone;
};

static struct blk_sync *sync_of(struct blk_backend *be)
{
	return (struct blk_sync *)be;
}

/* preadv/pwritev2 until need bytes moved. Bytes moved, or -errno; a transfer of 0 bytes is -EIO. */
static int64_t sync_rw(struct blk_sync *s, bool write, const struct iovec *iov, unsigned int cnt,
		       uint64_t off, uint64_t need, bool durable)
{
	struct iovec *rest = NULL;
	const struct iovec *cur = iov;
	unsigned int curcnt = cnt;
	uint64_t done = 0;
	int64_t ret;

	while (done < need) {
		ssize_t n;

		if (write)
			n = pwritev2(s->geom.fd, cur, (int)curcnt, (off_t)(off + done), durable ? RWF_DSYNC : 0);
		else
			n = preadv(s->geom.fd, cur, (int)curcnt, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto free_rest;
		}
		if (n == 0) {
			ret = -EIO;
			goto free_rest;
		}
		done += (uint64_t)n;
		if (done < need) {
			/* Short transfer: the slow path may allocate. */
			if (!rest) {
				rest = malloc(cnt * sizeof(*rest));
				if (!rest) {
					ret = -ENOMEM;
					goto free_rest;
				}
			}
			curcnt = blk_iov_rest(iov, cnt, done, rest);
			cur = rest;
		}
	}
	ret = (int64_t)done;
free_rest:
	free(rest);
	return ret;
}

static int sync_do_rw(struct blk_sync *s, struct blk_req *req)
{
	uint64_t total = blk_iov_total(req->iov, req->iovcnt);
	bool write = req->op == BLK_OP_WRITE;
	struct blk_bounce b;
	struct iovec biov;
	int64_t n;
	int ret;

	if (!blk_bounce_needed(&s->geom, req, total)) {
		n = sync_rw(s, write, req->iov, req->iovcnt, req->offset, total, req->durable);
		if (n < 0)
			return (int)n;
		return total > INT32_MAX ? INT32_MAX : (int)total;
	}
	ret = blk_bounce_prepare(&b, &s->geom, req, total);
	if (ret)
		return ret;
	s->be.counters.bounced++;
	biov.iov_base = b.buf;
	biov.iov_len = b.len;
	n = sync_rw(s, write, &biov, 1, b.start, b.need, req->durable);
	if (n < 0) {
		ret = (int)n;
		goto release_bounce;
	}
	if (!write)
		blk_bounce_copy_out(&b, req);
	ret = total > INT32_MAX ? INT32_MAX : (int)total;
release_bounce:
	blk_bounce_release(&b);
	return ret;
}

static int sync_fallocate(struct blk_sync *s, int mode, uint64_t off, uint64_t len)
{
	int ret;

	do {
		ret = fallocate(s->geom.fd, mode | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

/* One WRITE step of a WRITE_ZEROES: bytes written, or -errno. */
static int sync_zero_write(struct blk_sync *s, const struct blk_req *req, uint64_t done)
{
	const void *buf;
	size_t n = blk_zero_chunk(req, done, &buf);
	ssize_t w;

	do {
		w = pwrite(s->geom.fd, buf, n, (off_t)(req->offset + done));
	} while (w < 0 && errno == EINTR);
	return w < 0 ? -errno : (int)w;
}

static int sync_write_zeroes(struct blk_sync *s, struct blk_req *req)
{
	enum blk_zero_step step = blk_zero_step_first(&s->zero_host, &s->geom, req);
	uint64_t done = 0;
	int ret;

	do {
		if (step == BLK_ZERO_SYNC) {
			ret = fdatasync(s->geom.fd) < 0 ? -errno : 0;
		} else if (step == BLK_ZERO_WRITE) {
			if (!done)
				s->be.counters.zeroes_written++;
			ret = sync_zero_write(s, req, done);
		} else {
			ret = sync_fallocate(s, blk_zero_step_mode(step), req->offset, req->len);
		}
		step = blk_zero_step_next(step, &ret, &done, req, &s->geom, &s->zero_host);
	} while (step != BLK_ZERO_DONE);
	return ret;
}

static int sync_do(struct blk_sync *s, struct blk_req *req)
{
	int ret;

	switch (req->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		return sync_do_rw(s, req);
	case BLK_OP_FLUSH:
		s->be.counters.host_flushes++;
		return fdatasync(s->geom.fd) < 0 ? -errno : 0;
	case BLK_OP_DISCARD:
		ret = sync_fallocate(s, FALLOC_FL_PUNCH_HOLE, req->offset, req->len);
		/* A hint the device may ignore (virtio-blk): a host without holes keeps the data. */
		if (ret == -EOPNOTSUPP) {
			s->be.counters.discards_ignored++;
			ret = 0;
		}
		return ret;
	case BLK_OP_WRITE_ZEROES:
		return sync_write_zeroes(s, req);
	}
	return -EINVAL;
}

static int sync_submit(struct blk_backend *be, struct blk_req *req)
{
	struct blk_sync *s = sync_of(be);
	uint64_t total;
	int r = blk_req_check(req, &total);

	if (r < 0)
		return r;
	if (s->count >= s->depth)
		return -EAGAIN;
	s->ents[(s->head + s->count) % s->depth] = (struct sync_entry){ .req = req, .res = 0 };
	s->count++;
	be->counters.submitted++;
	if (blk_req_durable(req))
		be->counters.durable_writes++;
	return 0;
}

static int sync_kick(struct blk_backend *be)
{
	struct blk_sync *s = sync_of(be);
	uint64_t one = 1;
	bool any = false;

	/* In submit order, which also keeps an unaligned read-modify-write from racing anything. */
	while (s->ndone < s->count) {
		struct sync_entry *e = &s->ents[(s->head + s->ndone) % s->depth];

		e->res = sync_do(s, e->req);
		s->ndone++;
		any = true;
	}
	if (any && write(s->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static int sync_poll(struct blk_backend *be)
{
	struct blk_sync *s = sync_of(be);
	int count = 0;

	while (s->ndone) {
		struct sync_entry e = s->ents[s->head];

		/* Pop before calling out, so complete() may submit again. */
		s->head = (s->head + 1) % s->depth;
		s->count--;
		s->ndone--;
		count++;
		be->complete(be->complete_ctx, e.req, e.res);
	}
	return count;
}

static int sync_event_fd(struct blk_backend *be)
{
	return sync_of(be)->efd;
}

static void sync_destroy(struct blk_backend *be)
{
	struct blk_sync *s = sync_of(be);

	if (!be)
		return;
	close(s->efd);
	free(s->ents);
	free(s);
}

static const struct blk_backend_ops sync_ops = {
	.submit = sync_submit,
	.kick = sync_kick,
	.poll = sync_poll,
	.event_fd = sync_event_fd,
	.destroy = sync_destroy,
};

int blk_sync_create(const struct blk_image *img, unsigned int queue_depth,
		    blk_complete_fn complete, void *ctx, struct blk_backend **out)
{
	struct blk_sync *s;
	int ret;

	if (!img || img->fd < 0 || !complete || !out || queue_depth == 0 || queue_depth > SYNC_MAX_DEPTH)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->depth = queue_depth;
	s->ents = calloc(queue_depth, sizeof(*s->ents));
	if (!s->ents) {
		ret = -ENOMEM;
		goto free_backend;
	}
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->efd < 0) {
		ret = -errno;
		goto free_entries;
	}
	blk_geom_init(&s->geom, img);
	s->be.ops = &sync_ops;
	s->be.complete = complete;
	s->be.complete_ctx = ctx;
	*out = &s->be;
	return 0;

free_entries:
	free(s->ents);
free_backend:
	free(s);
	return ret;
}

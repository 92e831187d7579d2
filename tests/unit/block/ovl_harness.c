/* SPDX-License-Identifier: MIT */
/* The overlay engine's test harness: reference model, shuffling inner engine (a link-time wrap), batch runner. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "blk_internal.h"
#include "blk_test_util.h"
#include "ovl_harness.h"

struct ovl_shuffle_ctl ovl_shuffle = { .rng = 0x9e3779b97f4a7c15ull };

uint64_t ovl_rand(void)
{
	uint64_t x = ovl_shuffle.rng ? ovl_shuffle.rng : 1;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	ovl_shuffle.rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

int ovl_model_init(struct ovl_model *m, uint64_t size, unsigned int seed)
{
	m->size = size;
	m->bytes = malloc(size);
	m->known = malloc(size);
	if (!m->bytes || !m->known) {
		ovl_model_free(m);
		return -ENOMEM;
	}
	if (seed)
		blk_test_fill(m->bytes, 0, size, seed);
	else
		memset(m->bytes, 0, size);
	memset(m->known, 1, size);
	return 0;
}

void ovl_model_free(struct ovl_model *m)
{
	free(m->bytes);
	free(m->known);
	m->bytes = m->known = NULL;
}

/* ---- the shuffling engine ---- */

struct shuf {
	struct blk_backend be;
	int fd, efd;
	unsigned int depth, n;
	struct blk_req **held;
};

/* Do req on fd with plain syscalls: the bytes moved, 0, or -errno (or an injected failure). */
static int shuf_do(struct shuf *s, struct blk_req *req)
{
	bool fail = ovl_shuffle.fail_pct && ovl_rand() % 100 < ovl_shuffle.fail_pct;
	uint64_t total = 0;
	ssize_t n;

	switch (req->op) {
	case BLK_OP_READ:
		if (fail)
			return -EIO;
		total = blk_iov_total(req->iov, req->iovcnt);
		n = preadv(s->fd, req->iov, (int)req->iovcnt, (off_t)req->offset);
		return n < 0 ? -errno : (uint64_t)n == total ? (int)n : -EIO;
	case BLK_OP_WRITE:
		total = blk_iov_total(req->iov, req->iovcnt);
		if (fail) {
			/* A full disk: some of the bytes land, then the error. */
			struct iovec part = req->iov[0];

			part.iov_len = part.iov_len / 2;
			if (part.iov_len && pwritev(s->fd, &part, 1, (off_t)req->offset) < 0)
				return -errno;
			return -ENOSPC;
		}
		n = pwritev(s->fd, req->iov, (int)req->iovcnt, (off_t)req->offset);
		return n < 0 ? -errno : (uint64_t)n == total ? (int)n : -EIO;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		if (fail)
			return -EIO;
		if (fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)req->offset,
			      (off_t)req->len) < 0)
			return -errno;
		return 0;
	case BLK_OP_FLUSH:
		return 0;
	}
	return -EINVAL;
}

static int shuf_submit(struct blk_backend *be, struct blk_req *req)
{
	struct shuf *s = (struct shuf *)be;

	if (s->n >= s->depth || (s->n && ovl_shuffle.eagain_pct && ovl_rand() % 100 < ovl_shuffle.eagain_pct))
		return -EAGAIN;
	s->held[s->n++] = req;
	be->counters.submitted++;
	return 0;
}

static int shuf_kick(struct blk_backend *be)
{
	struct shuf *s = (struct shuf *)be;

	return s->n && eventfd_write(s->efd, 1) < 0 ? -errno : 0;
}

static int shuf_poll(struct blk_backend *be)
{
	struct shuf *s = (struct shuf *)be;
	unsigned int todo = s->n ? 1 + (unsigned int)(ovl_rand() % s->n) : 0, count = 0;

	while (todo--) {
		unsigned int i = (unsigned int)(ovl_rand() % s->n);
		struct blk_req *req = s->held[i];
		int res = shuf_do(s, req);

		s->held[i] = s->held[--s->n];
		count++;
		be->complete(be->complete_ctx, req, res);
	}
	/* What is still held wants another poll. */
	if (s->n && eventfd_write(s->efd, 1) < 0)
		return -errno;
	return (int)count;
}

static int shuf_event_fd(struct blk_backend *be)
{
	return ((struct shuf *)be)->efd;
}

static int shuf_poll_events(struct blk_backend *be)
{
	return ((struct shuf *)be)->n ? 1 : 0;
}

static void shuf_destroy(struct blk_backend *be)
{
	struct shuf *s = (struct shuf *)be;

	close(s->efd);
	free(s->held);
	free(s);
}

static const struct blk_backend_ops shuf_ops = {
	.submit = shuf_submit, .kick = shuf_kick, .poll = shuf_poll, .event_fd = shuf_event_fd,
	.poll_events = shuf_poll_events, .destroy = shuf_destroy,
};

int __real_blk_file_backend_create(const struct blk_image *img, unsigned int queue_depth,
				   blk_complete_fn complete, void *ctx, struct blk_backend **out);
int __wrap_blk_file_backend_create(const struct blk_image *img, unsigned int queue_depth,
				   blk_complete_fn complete, void *ctx, struct blk_backend **out);

int __wrap_blk_file_backend_create(const struct blk_image *img, unsigned int queue_depth,
				   blk_complete_fn complete, void *ctx, struct blk_backend **out)
{
	struct shuf *s;

	if (!ovl_shuffle.on)
		return __real_blk_file_backend_create(img, queue_depth, complete, ctx, out);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->depth = ovl_shuffle.depth ? ovl_shuffle.depth : queue_depth;
	s->held = calloc(s->depth, sizeof(*s->held));
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!s->held || s->efd < 0) {
		if (s->efd >= 0)
			close(s->efd);
		free(s->held);
		free(s);
		return -ENOMEM;
	}
	s->fd = img->fd;
	s->be.ops = &shuf_ops;
	s->be.complete = complete;
	s->be.complete_ctx = ctx;
	*out = &s->be;
	return 0;
}

/* ---- batches ---- */

int ovl_op_make(struct ovl_op *op, enum blk_op kind, uint64_t off, uint64_t len, uint32_t split, unsigned int seed)
{
	memset(op, 0, sizeof(*op));
	op->op = kind;
	op->off = off;
	op->len = len;
	op->req.op = kind;
	op->req.offset = off;
	op->req.len = len;
	op->req.opaque = op;
	if (kind != BLK_OP_READ && kind != BLK_OP_WRITE)
		return 0;
	op->buf = malloc(len);
	if (!op->buf)
		return -ENOMEM;
	if (kind == BLK_OP_WRITE)
		blk_test_fill(op->buf, off, len, seed);
	else
		memset(op->buf, 0xa5, len);
	/* Up to three segments, cut where split says (any byte: bounce buffers and iovec slicing get tested). */
	uint64_t a = (split & 0xffff) % len, b = (split >> 16) % len;

	if (a > b) {
		uint64_t t = a;

		a = b;
		b = t;
	}
	op->iov[0] = (struct iovec){ op->buf, a ? a : b ? b : len };
	op->req.iovcnt = 1;
	if (a && b > a)
		op->iov[op->req.iovcnt++] = (struct iovec){ op->buf + a, b - a };
	if (b)
		op->iov[op->req.iovcnt++] = (struct iovec){ op->buf + b, len - b };
	op->req.iov = op->iov;
	return 0;
}

void ovl_op_free(struct ovl_op *op)
{
	free(op->buf);
	op->buf = NULL;
}

bool ovl_ops_overlap(const struct ovl_op *ops, unsigned int n, uint64_t off, uint64_t len)
{
	for (unsigned int i = 0; i < n; i++) {
		if (off < ops[i].off + ops[i].len && ops[i].off < off + len)
			return true;
	}
	return false;
}

void ovl_runner_complete(void *ctx, struct blk_req *req, int res)
{
	struct ovl_runner *r = ctx;
	struct ovl_op *op = req->opaque;

	if (!op || op->calls++) {
		r->bad = true;
		return;
	}
	op->res = res;
	r->completed++;
}

/* Wait for the backend and poll it once. 0, or -1 with why. */
static int runner_wait(struct ovl_runner *r, char *why, size_t whylen)
{
	struct pollfd p = { .fd = blk_backend_event_fd(r->be), .events = POLLIN };
	uint64_t v;
	int n;

	/* Busy-pollers look first (as the device's I/O thread does), then sleep. */
	if (blk_backend_poll_events(r->be) <= 0 && poll(&p, 1, 10000) != 1) {
		snprintf(why, whylen, "no completion within 10 s");
		return -1;
	}
	(void)eventfd_read(p.fd, &v);
	n = blk_backend_poll(r->be);
	if (n < 0 && blk_backend_kick(r->be) < 0) {
		snprintf(why, whylen, "poll failed: %s", strerror(-n));
		return -1;
	}
	return 0;
}

/* Check op's result and data against m, then apply it to m. 0, or -1 with why. */
static int batch_check(struct ovl_model *m, struct ovl_op *op, bool allow_fail, char *why, size_t whylen)
{
	int want = op->op == BLK_OP_READ || op->op == BLK_OP_WRITE ? (int)op->len : 0;

	if (op->res < 0 && allow_fail) {
		if (op->op != BLK_OP_READ)
			memset(m->known + op->off, 0, op->len);
		return 0;
	}
	if (op->res != want) {
		snprintf(why, whylen, "op %d at %llu+%llu: result %d, expected %d", (int)op->op,
			 (unsigned long long)op->off, (unsigned long long)op->len, op->res, want);
		return -1;
	}
	switch (op->op) {
	case BLK_OP_READ:
		for (uint64_t i = 0; i < op->len; i++) {
			if (m->known[op->off + i] && op->buf[i] != m->bytes[op->off + i]) {
				snprintf(why, whylen, "read at %llu+%llu: byte %llu is %#x, the model holds %#x",
					 (unsigned long long)op->off, (unsigned long long)op->len,
					 (unsigned long long)(op->off + i), op->buf[i], m->bytes[op->off + i]);
				return -1;
			}
		}
		break;
	case BLK_OP_WRITE:
		memcpy(m->bytes + op->off, op->buf, op->len);
		memset(m->known + op->off, 1, op->len);
		break;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		memset(m->bytes + op->off, 0, op->len);
		memset(m->known + op->off, 1, op->len);
		break;
	case BLK_OP_FLUSH:
		break;
	}
	return 0;
}

int ovl_batch_run(struct ovl_runner *r, struct ovl_model *m, struct ovl_op *ops, unsigned int n, bool allow_fail,
		  char *why, size_t whylen)
{
	unsigned int next = 0, target = r->completed + n;

	while (r->completed < target) {
		while (next < n) {
			int ret = blk_backend_submit(r->be, &ops[next].req);

			if (ret == -EAGAIN)
				break;
			if (ret < 0) {
				snprintf(why, whylen, "submit of op %u failed: %s", next, strerror(-ret));
				return -1;
			}
			next++;
		}
		int kr = blk_backend_kick(r->be);

		if (kr < 0) {
			snprintf(why, whylen, "kick failed: %s", strerror(-kr));
			return -1;
		}
		if (r->completed < target && runner_wait(r, why, whylen) < 0)
			return -1;
		if (r->bad) {
			snprintf(why, whylen, "complete() called twice for a request, or for an unknown one");
			return -1;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		if (ops[i].calls != 1) {
			snprintf(why, whylen, "op %u completed %u times", i, ops[i].calls);
			return -1;
		}
	}
	/* Reads first: no byte of a batch is in two requests, so each read sees the model from before it. */
	for (unsigned int i = 0; i < n; i++) {
		if (ops[i].op == BLK_OP_READ && batch_check(m, &ops[i], allow_fail, why, whylen) < 0)
			return -1;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (ops[i].op != BLK_OP_READ && batch_check(m, &ops[i], allow_fail, why, whylen) < 0)
			return -1;
	}
	return 0;
}

int ovl_check_all(struct ovl_runner *r, struct ovl_model *m, char *why, size_t whylen)
{
	const uint64_t chunk = 1u << 20;

	for (uint64_t off = 0; off < m->size; off += chunk) {
		struct ovl_op op;
		uint64_t len = m->size - off < chunk ? m->size - off : chunk;
		int ret;

		if (ovl_op_make(&op, BLK_OP_READ, off, len, 0, 0) < 0) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		ret = ovl_batch_run(r, m, &op, 1, false, why, whylen);
		ovl_op_free(&op);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* The io_uring block backend: READV/WRITEV/FSYNC/FALLOCATE on a registered fd, completions via an eventfd (set up in uring_setup.c). */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "uring_internal.h"

/*
 * Bounce buffers in flight, per backend. A guest chooses how big they get: a
 * request may name the same misaligned guest buffer in every segment, so
 * without a cap a full queue of them made the VMM allocate queue depth x the
 * largest request (31.5 GiB with 256 x 126 MiB). Past the cap a bounced
 * request waits (-EAGAIN) until others finish; one alone always goes.
 */
#define URING_BOUNCE_BUDGET (64ull << 20)

static void slot_list_add(struct uring_slot_list *l, struct uring_slot *s)
{
	s->next_inline = NULL;
	if (l->tail)
		l->tail->next_inline = s;
	else
		l->head = s;
	l->tail = s;
}

static struct uring_slot *slot_list_take(struct uring_slot_list *l)
{
	struct uring_slot *s = l->head;

	if (s) {
		l->head = s->next_inline;
		if (!l->head)
			l->tail = NULL;
	}
	return s;
}

static struct blk_uring *uring_of(struct blk_backend *be)
{
	return (struct blk_uring *)be;
}

static void uring_slot_put(struct blk_uring *u, struct uring_slot *s)
{
	if (s->bounced) {
		u->bounce_bytes -= s->bounce.len;
		blk_bounce_release(&s->bounce);
	}
	s->bounced = false;
	s->req = NULL;
	if (s->rmw)
		u->rmw_barrier = false;
	s->rmw = false;
	u->free_slots[u->nfree++] = (unsigned int)(s - u->slots);
}

/* The iovecs for the part of a READ/WRITE still to do. NULL and -ENOMEM only after a short transfer. */
static const struct iovec *uring_slot_iov(struct uring_slot *s, unsigned int *cnt)
{
	const struct iovec *iov = s->bounced ? &s->bounce_iov : s->req->iov;
	unsigned int n = s->bounced ? 1 : s->req->iovcnt;

	if (!s->done) {
		*cnt = n;
		return iov;
	}
	if (s->rest_cap < n) {
		struct iovec *r = realloc(s->rest, n * sizeof(*r));

		if (!r)
			return NULL;
		s->rest = r;
		s->rest_cap = n;
	}
	*cnt = blk_iov_rest(iov, n, s->done, s->rest);
	return s->rest;
}

/* Put the slot's (next) operation on the SQ. 0, -EAGAIN when the SQ is full, -ENOMEM. */
static int uring_slot_prep(struct blk_uring *u, struct uring_slot *s)
{
	struct blk_req *req = s->req;
	struct io_uring_sqe *sqe;
	const struct iovec *iov = NULL;
	const void *zeros;
	unsigned int cnt = 0;
	uint64_t off;
	size_t n;
	int mode;

	if (req->op == BLK_OP_READ || req->op == BLK_OP_WRITE) {
		iov = uring_slot_iov(s, &cnt);
		if (!iov)
			return -ENOMEM;
	}
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe)
		return -EAGAIN;

	switch (req->op == BLK_OP_WRITE_ZEROES && s->zero_step == BLK_ZERO_SYNC ? BLK_OP_FLUSH : req->op) {
	case BLK_OP_READ:
		off = (s->bounced ? s->bounce.start : req->offset) + s->done;
		io_uring_prep_readv(sqe, URING_FILE_INDEX, iov, cnt, off);
		break;
	case BLK_OP_WRITE:
		off = (s->bounced ? s->bounce.start : req->offset) + s->done;
		/* RWF_DSYNC per write, not O_DSYNC per fd, so a guest toggling WCE takes effect at once. */
		io_uring_prep_writev2(sqe, URING_FILE_INDEX, iov, cnt, off, req->durable ? RWF_DSYNC : 0);
		break;
	case BLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, URING_FILE_INDEX, IORING_FSYNC_DATASYNC);
		break;
	case BLK_OP_DISCARD:
		io_uring_prep_fallocate(sqe, URING_FILE_INDEX, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)req->offset, (off_t)req->len);
		break;
	case BLK_OP_WRITE_ZEROES:
		if (s->zero_step == BLK_ZERO_WRITE) {
			n = blk_zero_chunk(req, s->done, &zeros);
			io_uring_prep_write(sqe, URING_FILE_INDEX, zeros, (unsigned int)n, req->offset + s->done);
			if (!s->done)
				u->be.counters.zeroes_written++;
			break;
		}
		/* KEEP_SIZE: block devices insist on it, and a file must never grow. */
		mode = blk_zero_step_mode(s->zero_step);
		io_uring_prep_fallocate(sqe, URING_FILE_INDEX, mode | FALLOC_FL_KEEP_SIZE,
					(off_t)req->offset, (off_t)req->len);
		break;
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, s);
	return 0;
}

/*
 * Buffered writes that need not be durable (writeback, unsafe) are written by
 * kick() itself with pwritev2 when nothing else is in flight, instead of
 * going through the ring. Why: ext4 (up to at least 6.18) refuses
 * non-blocking buffered writes (RWF_NOWAIT gives EOPNOTSUPP), so io_uring
 * hands every one to an io-wq worker, and waking an idle worker costs more
 * than the copy into the page cache (about 40 us against a few on these
 * machines; it was 3/4 of a cache=unsafe write+FLUSH pair). The write does
 * the same work on our thread; its completion means what a ring write's
 * means (the data is in the host page cache), so FLUSH ordering is unchanged.
 * Only when nothing else is in flight: then there is nothing the thread could
 * overlap with the copy, and a stream of writes (which io-wq runs one at a
 * time per file anyway, its workers being busy then) still goes through the
 * ring. What is given up: new requests wait while the copy runs, including a
 * pause in the page cache's dirty throttling.
 */
static bool uring_write_inline_ok(const struct blk_uring *u, const struct blk_req *req)
{
	return req->op == BLK_OP_WRITE && !req->durable && !u->geom.direct && u->inflight == 0;
}

/* Write the slots on inline_q with pwritev2; they go to done_q, or to the SQ when interrupted. 0 or -errno. */
static int uring_write_inline(struct blk_uring *u)
{
	struct uring_slot *s;
	bool any = false;

	while ((s = slot_list_take(&u->inline_q))) {
		struct blk_req *req = s->req;
		ssize_t n = pwritev2(u->geom.fd, req->iov, (int)req->iovcnt, (off_t)req->offset, 0);

		if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
			/* Let the ring retry it rather than spin here. */
			int ret = uring_slot_prep(u, s);

			if (ret < 0) {
				s->inline_res = ret;
				slot_list_add(&u->done_q, s);
				any = true;
			}
			continue;
		}
		/* Short writes are finished through the ring by poll(), as for a ring write. */
		s->inline_res = n < 0 ? -errno : n > INT32_MAX ? INT32_MAX : (int)n;
		u->be.counters.inline_writes++;
		slot_list_add(&u->done_q, s);
		any = true;
	}
	/* The eventfd promises poll() has work; io_uring signals it for ring completions, we for these. */
	if (any && eventfd_write(u->efd, 1) < 0)
		return -errno;
	return 0;
}

/*
 * Check req and say what it needs: *total bytes (READ/WRITE), a bounce buffer,
 * a read-modify-write. 0, or -EINVAL for a malformed request.
 */
static int uring_req_check(const struct blk_uring *u, const struct blk_req *req, uint64_t *total, bool *bounce,
			   bool *rmw)
{
	int r = blk_req_check(req, total);

	*bounce = *rmw = false;
	if (r < 0 || (req->op != BLK_OP_READ && req->op != BLK_OP_WRITE))
		return r;
	*bounce = blk_bounce_needed(&u->geom, req, *total);
	*rmw = *bounce && blk_bounce_is_rmw(&u->geom, req, *total);
	return 0;
}

static int uring_submit(struct blk_backend *be, struct blk_req *req)
{
	struct blk_uring *u = uring_of(be);
	struct uring_slot *s;
	uint64_t total;
	bool bounce, rmw;
	int ret = uring_req_check(u, req, &total, &bounce, &rmw);

	if (ret < 0)
		return ret;
	if (u->inflight >= u->depth || u->rmw_barrier || !u->nfree)
		return -EAGAIN;
	/*
	 * A read-modify-write reads the neighbours of the request's blocks now and
	 * writes them back later: any other write to those blocks in between would
	 * be undone, so it runs alone.
	 */
	if (rmw && u->inflight)
		return -EAGAIN;
	if (bounce && u->inflight && u->bounce_bytes + total > URING_BOUNCE_BUDGET)
		return -EAGAIN;

	s = &u->slots[u->free_slots[--u->nfree]];
	s->req = req;
	s->total = total;
	s->done = 0;
	s->need = total;
	s->zero_step = req->op == BLK_OP_WRITE_ZEROES ? blk_zero_step_first(&u->zero_host, &u->geom, req) : BLK_ZERO_DONE;
	s->bounced = false;
	s->rmw = false;
	s->retries = 0;
	if (bounce) {
		ret = blk_bounce_prepare(&s->bounce, &u->geom, req, total);
		if (ret)
			goto put_slot;
		s->bounced = true;
		u->bounce_bytes += s->bounce.len;
		s->bounce_iov.iov_base = s->bounce.buf;
		s->bounce_iov.iov_len = s->bounce.len;
		s->need = s->bounce.need;
	}
	if (uring_write_inline_ok(u, req)) {
		slot_list_add(&u->inline_q, s);
	} else {
		ret = uring_slot_prep(u, s);
		if (ret)
			goto put_slot;
	}

	if (rmw) {
		s->rmw = true;
		u->rmw_barrier = true;
	}
	u->inflight++;
	be->counters.submitted++;
	if (s->bounced)
		be->counters.bounced++;
	if (blk_req_durable(req))
		be->counters.durable_writes++;
	return 0;

put_slot:
	uring_slot_put(u, s);
	return ret;
}

static int uring_kick(struct blk_backend *be)
{
	struct blk_uring *u = uring_of(be);
	int ret;

	if (u->need_enable) {
		/* Enabling from this thread makes it the ring's single issuer. */
		ret = io_uring_enable_rings(&u->ring);
		if (ret < 0)
			return ret;
		u->need_enable = false;
	}
	if (u->inline_q.head) {
		ret = uring_write_inline(u);
		if (ret < 0)
			return ret;
	}
	if (!io_uring_sq_ready(&u->ring))
		return 0;
	do {
		ret = io_uring_submit(&u->ring);
	} while (ret == -EINTR);
	return ret < 0 ? ret : 0;
}

/*
 * Account one CQE for s. Returns true when the request is finished (*res is
 * its result), false when its remainder went back on the SQ.
 */
static bool uring_slot_finish(struct blk_uring *u, struct uring_slot *s, int *res)
{
	struct blk_req *req = s->req;
	int ret;

	/*
	 * -EAGAIN and -EINTR say "not now", not "failed": the same step goes
	 * back on the SQ rather than failing the guest's request, a bounded
	 * number of times so a kernel that keeps saying so cannot spin us.
	 */
	if ((*res == -EAGAIN || *res == -EINTR) && s->retries < URING_RETRY_MAX) {
		s->retries++;
		ret = uring_slot_prep(u, s);
		if (ret == 0)
			return false;
		*res = ret;
		return true;
	}
	switch (req->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		if (*res < 0)
			return true;
		if (*res == 0) {
			/* No progress: end of file or a device that gives nothing; retrying would spin. */
			*res = -EIO;
			return true;
		}
		s->done += (uint64_t)*res;
		if (s->done < s->need) {
			ret = uring_slot_prep(u, s);
			if (ret == 0)
				return false;
			*res = ret;
			return true;
		}
		if (s->bounced && req->op == BLK_OP_READ)
			blk_bounce_copy_out(&s->bounce, req);
		/* The byte count fits: the device's requests are far below 2 GiB. */
		*res = s->total > INT32_MAX ? INT32_MAX : (int)s->total;
		return true;
	case BLK_OP_FLUSH:
		u->be.counters.host_flushes++;
		return true;
	case BLK_OP_WRITE_ZEROES:
		s->zero_step = blk_zero_step_next(s->zero_step, res, &s->done, req, &u->geom, &u->zero_host);
		if (s->zero_step == BLK_ZERO_DONE)
			return true;
		ret = uring_slot_prep(u, s);
		if (ret == 0)
			return false;
		*res = ret;
		return true;
	case BLK_OP_DISCARD:
		/* A hint the device may ignore (virtio-blk): a host without holes keeps the data. */
		if (*res == -EOPNOTSUPP) {
			u->be.counters.discards_ignored++;
			*res = 0;
		}
		return true;
	}
	return true;
}

/* Finish s with res: complete it, or note that its remainder went back on the SQ. */
static void uring_slot_done(struct blk_uring *u, struct uring_slot *s, int res, bool *resubmitted, int *count)
{
	if (!uring_slot_finish(u, s, &res)) {
		*resubmitted = true;
		return;
	}
	struct blk_req *req = s->req;

	/* Free the slot first so complete() may submit the next request into it. */
	u->inflight--;
	uring_slot_put(u, s);
	(*count)++;
	u->be.complete(u->be.complete_ctx, req, res);
}

static int uring_poll(struct blk_backend *be)
{
	struct blk_uring *u = uring_of(be);
	struct io_uring_cqe *cqe;
	struct uring_slot_list done = u->done_q;
	struct uring_slot *s;
	bool resubmitted = false;
	int count = 0, ret;

	/* Only the inline writes done so far: complete() may queue more, which wait for the next kick. */
	u->done_q = (struct uring_slot_list){ NULL, NULL };
	while ((s = slot_list_take(&done)))
		uring_slot_done(u, s, s->inline_res, &resubmitted, &count);
	for (;;) {
		int res;

		/* peek enters the kernel only when task work or an overflow is pending (COOP_TASKRUN). */
		ret = io_uring_peek_cqe(&u->ring, &cqe);
		if (ret == -EAGAIN || ret == -EINTR)
			break;
		if (ret < 0)
			return ret;
		s = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
		uring_slot_done(u, s, res, &resubmitted, &count);
	}
	if (resubmitted) {
		ret = uring_kick(be);
		if (ret < 0)
			return ret;
	}
	return count;
}

static int uring_poll_events(struct blk_backend *be)
{
	struct blk_uring *u = uring_of(be);
	int ret;

	if (u->done_q.head || io_uring_cq_ready(&u->ring))
		return 1;
	if (!u->inflight || u->need_enable)
		return 0;
	/*
	 * Under COOP_TASKRUN a finished request sits as task work until this
	 * thread enters the kernel; TASKRUN_FLAG makes the kernel say so in the
	 * SQ flags, which spares a syscall per look while nothing has finished.
	 * Relaxed: the flag only decides whether to enter; the CQ tail is read
	 * with acquire (io_uring_cq_ready) after the kernel ran the task work.
	 * Without the flag (the plain ring), completions are posted without our
	 * help, and the CQ check above is all there is to do.
	 */
	if (!u->taskrun_flag ||
	    !(__atomic_load_n(u->ring.sq.kflags, __ATOMIC_RELAXED) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)))
		return 0;
	ret = io_uring_get_events(&u->ring);
	if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
		return ret;
	return io_uring_cq_ready(&u->ring) ? 1 : 0;
}

static int uring_event_fd(struct blk_backend *be)
{
	return uring_of(be)->efd;
}

/* Forget the slots on l (destroy: complete() is not called). */
static void uring_slots_drop(struct blk_uring *u, struct uring_slot_list *l)
{
	struct uring_slot *s;

	while ((s = slot_list_take(l))) {
		u->inflight--;
		uring_slot_put(u, s);
	}
}

static void uring_destroy(struct blk_backend *be)
{
	struct blk_uring *u = uring_of(be);
	struct io_uring_cqe *cqe;

	if (!be)
		return;
	/* Inline writes are either done or were never started: nothing of the kernel's to wait for. */
	uring_slots_drop(u, &u->done_q);
	uring_slots_drop(u, &u->inline_q);
	/* The kernel may still be writing into bounce buffers or guest RAM: wait it out before freeing. */
	if (u->inflight && uring_kick(be) == 0) {
		while (u->inflight) {
			struct uring_slot *s;
			int res;

			int w = io_uring_wait_cqe(&u->ring, &cqe);

			/* A signal cuts the wait short: wait again, the requests are still running. */
			if (w == -EINTR || w == -EAGAIN)
				continue;
			if (w < 0)
				break;
			s = io_uring_cqe_get_data(cqe);
			res = cqe->res;
			io_uring_cqe_seen(&u->ring, cqe);
			if (uring_slot_finish(u, s, &res)) {
				u->inflight--;
				uring_slot_put(u, s);
			} else if (uring_kick(be) < 0) {
				break;
			}
		}
	}
	io_uring_queue_exit(&u->ring);
	close(u->efd);
	/*
	 * Requests the wait could not see finish (the ring failed): the kernel
	 * may still write into their bounce buffers after the ring is gone, so
	 * they stay allocated (the process is about to end anyway).
	 */
	if (!u->inflight)
		uring_free(u);
}

const struct blk_backend_ops uring_ops = {
	.submit = uring_submit,
	.kick = uring_kick,
	.poll = uring_poll,
	.event_fd = uring_event_fd,
	.poll_events = uring_poll_events,
	.destroy = uring_destroy,
};

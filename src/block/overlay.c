/* SPDX-License-Identifier: MIT */
/* The overlay engine: a snapshot drive as a backend over two engines, the read-only base and a sparse private overlay. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "blk_internal.h"
#include "overlay_internal.h"

/*
 * How requests stay in order with many in flight.
 *
 * Everything runs on the one thread that drives the backend, so the map
 * needs no lock: what has to be ordered is the host operations in flight.
 * A cluster is in one of two states, and only ever moves from the first to
 * the second: unwritten (its bytes are the base's) or data (its bytes are
 * the overlay's). Three rules keep every request as it would be on a plain
 * file, where requests in flight together may land in any order but one
 * that started after another completed sees its effect:
 *
 * 1. A read is routed at submit, cluster by cluster: data clusters from the
 *    overlay, the others from the base, which never changes. A cluster
 *    becomes data only when the whole cluster has been written to the
 *    overlay, so a read routed to the base gets the cluster's bytes as they
 *    were before any write still in flight, and one routed to the overlay
 *    gets bytes some completed write put there. Reads never wait.
 * 2. A write-like request (WRITE, WRITE_ZEROES, DISCARD) that touches an
 *    unwritten cluster holds all its unwritten clusters busy from admission
 *    to completion, and is admitted only when none of them is busy; else it
 *    waits, holding nothing, in a FIFO that is looked at again whenever a
 *    request completes. So two requests never change one unwritten cluster
 *    at once: without this, a copy-up, which writes the whole cluster with
 *    base bytes around its own, could land after another write to that
 *    cluster and undo it. Once the cluster is data, writes to it go to the
 *    overlay directly and concurrently, as on a plain file.
 * 3. A data bit is set only when a write of the whole cluster to the overlay
 *    has succeeded (a copy-up writes the gaps read from the base along with
 *    the request's bytes in one write), and before the request completes.
 *    A failed write leaves its clusters unwritten, and reads keep coming
 *    from the base.
 *
 * DISCARD reads back as zeros, like WRITE_ZEROES: on a plain file both punch
 * a hole. The overlay punches its clusters (or zeroes them, where its
 * filesystem cannot punch), and a discarded unwritten cluster becomes data,
 * so it no longer shows the base. Nothing here is made durable: the overlay
 * dies with the VM (a FLUSH completes at once, durable is ignored).
 */

#define OVL_KEEP_SUBS 64u     /* a slot keeps arrays up to this many subs between requests */
/*
 * The most subs a READ may take while others are in flight. A guest chooses
 * how scattered its reads are: a 126 MiB read over alternating written and
 * unwritten clusters is 32k subs (about 3 MiB), and a queue of them aliasing
 * one buffer would make the VMM allocate hundreds of MiB. Past this, a read
 * waits (-EAGAIN) until it is alone; one alone always goes.
 */
#define OVL_SHARED_SUBS 1024u

struct ovl_list {
	struct ovl_slot *head, *tail;
};

struct blk_ovl {
	struct blk_backend be;    /* first: the ops receive &be */
	struct blk_overlay *ov;
	struct ovl_map *map;
	struct blk_backend *inner[OVL_NINNER];
	unsigned int inner_inflight[OVL_NINNER];
	int epfd, efd;
	bool efd_set;             /* we wrote efd and poll() has not read it yet */
	bool zero_discard;        /* the overlay cannot punch: zero a discarded range instead */
	unsigned int depth, nfree;
	struct ovl_slot *slots;
	struct ovl_slot **free;
	struct ovl_list blocked;  /* admitted later: a cluster they need is busy */
	struct ovl_list done;     /* finished, for poll() to complete */
	struct ovl_sub *waitq_head, *waitq_tail;  /* subs an inner engine has not taken yet */
	uint64_t finished;        /* requests finished so far: when it moves, busy clusters may be free */
	uint64_t admit_seen;      /* finished when the blocked list was last looked at */
	int err;                  /* an inner engine's kick or poll failed: poll() reports it */
};

static struct blk_ovl *ovl_of(struct blk_backend *be)
{
	return (struct blk_ovl *)be;
}

/* Append x to the FIFO (head, tail), chained through x->next. */
#define FIFO_ADD(head, tail, x)                 \
	do {                                    \
		(x)->next = NULL;               \
		if (tail)                       \
			(tail)->next = (x);     \
		else                            \
			(head) = (x);           \
		(tail) = (x);                   \
	} while (0)

static void list_add(struct ovl_list *l, struct ovl_slot *s)
{
	FIFO_ADD(l->head, l->tail, s);
}

static void waitq_add(struct blk_ovl *o, struct ovl_sub *s)
{
	FIFO_ADD(o->waitq_head, o->waitq_tail, s);
}

/* Hand the subs [from, to) of s to the queue for their engines. */
static void slot_queue(struct blk_ovl *o, struct ovl_slot *s, unsigned int from, unsigned int to)
{
	s->pending = to - from;
	for (unsigned int i = from; i < to; i++)
		waitq_add(o, &s->subs[i]);
}

/* s is finished (s->res set): let go of its clusters and put it on the done list. */
static void slot_finish(struct blk_ovl *o, struct ovl_slot *s)
{
	if (s->held)
		ovl_bits_clear(o->map->busy, s->plan.first, s->plan.n);
	s->held = false;
	o->finished++;
	list_add(&o->done, s);
}

/*
 * Admit a write-like request: 1 when admitted (its subs queued, or finished
 * with an error), 0 when a cluster it needs is busy and it must wait.
 */
static int slot_admit(struct blk_ovl *o, struct ovl_slot *s)
{
	struct blk_req *req = s->req;
	int ret;

	ovl_plan_write(o->map, req->offset, req->op == BLK_OP_WRITE ? s->total : req->len, &s->plan);
	if (s->plan.hold && ovl_map_conflict(o->map, s->plan.first, s->plan.n))
		return 0;
	if (s->plan.hold) {
		ovl_map_hold(o->map, s->plan.first, s->plan.n);
		s->held = true;
		if (req->op == BLK_OP_WRITE)
			blk_overlay_prealloc(o->ov, req->offset, s->total);
	}
	ret = ovl_slot_plan_write(o->map, &o->ov->counters, s, o->zero_discard);
	if (ret < 0) {
		s->res = ret;
		slot_finish(o, s);
		return 1;
	}
	slot_queue(o, s, 0, s->nfirst ? s->nfirst : s->nsubs);
	return 1;
}

/* Admit what waits, oldest first; a request that still conflicts keeps its place. */
static void blocked_admit(struct blk_ovl *o)
{
	struct ovl_list still = { NULL, NULL };
	struct ovl_slot *s = o->blocked.head;

	o->blocked = still;
	while (s) {
		struct ovl_slot *next = s->next;

		if (!slot_admit(o, s))
			list_add(&still, s);
		s = next;
	}
	o->blocked = still;
}

/* An inner engine finished a sub: account it, and move its request on when its phase is over. */
static void ovl_sub_complete(void *ctx, struct blk_req *r, int res)
{
	struct blk_ovl *o = ctx;
	struct ovl_sub *sub = r->opaque;
	struct ovl_slot *s = sub->slot;

	o->inner_inflight[sub->to]--;
	/* READ/WRITE: all bytes or -errno (blk_complete_fn); anything else is a broken engine. */
	if (res >= 0 && (r->op == BLK_OP_READ || r->op == BLK_OP_WRITE) && (uint64_t)res != r->len)
		res = -EIO;
	if (res < 0 && !s->res)
		s->res = res;
	if (res >= 0 && sub->sets_data) {
		uint64_t first = r->offset >> o->map->shift;

		ovl_bits_set(o->map->data, first, ((r->offset + r->len - 1) >> o->map->shift) - first + 1);
	}
	if (--s->pending)
		return;
	if (s->nfirst && s->nfirst < s->nsubs && sub < &s->subs[s->nfirst] && !s->res) {
		/* The gaps are read: the copy-up writes may go. */
		slot_queue(o, s, s->nfirst, s->nsubs);
		return;
	}
	slot_finish(o, s);
}

/*
 * Give queued subs to their engines, in order per engine; kick those that
 * took any. A sub that fails at once completes here, and subs queued
 * meanwhile (at the tail) are tried in the same pass. 0 or -errno.
 */
static int waitq_pump(struct blk_ovl *o)
{
	bool full[OVL_NINNER] = { false }, took[OVL_NINNER] = { false };
	struct ovl_sub **pp = &o->waitq_head;
	int err = 0;

	while (*pp) {
		struct ovl_sub *s = *pp;
		int r = full[s->to] ? -EAGAIN : blk_backend_submit(o->inner[s->to], &s->req);

		/* -EAGAIN promises a completion to come; with nothing in flight none would. */
		if (r == -EAGAIN && !o->inner_inflight[s->to])
			r = -EIO;
		if (r == -EAGAIN) {
			full[s->to] = true;
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		if (o->waitq_tail == s)
			o->waitq_tail = pp == &o->waitq_head ? NULL :
					(struct ovl_sub *)((char *)pp - offsetof(struct ovl_sub, next));
		o->inner_inflight[s->to]++;
		if (r < 0)
			ovl_sub_complete(o, &s->req, r);   /* gives the count back */
		else
			took[s->to] = true;
	}
	for (unsigned int i = 0; i < OVL_NINNER; i++) {
		int r = took[i] ? blk_backend_kick(o->inner[i]) : 0;

		if (r < 0 && !err)
			err = r;
	}
	return err;
}

/* Requests can finish outside poll() (an error at once): make the caller look. 0 or -errno. */
static int done_signal(struct blk_ovl *o)
{
	if (!o->done.head || o->efd_set)
		return 0;
	if (eventfd_write(o->efd, 1) < 0)
		return -errno;
	o->efd_set = true;
	return 0;
}

/*
 * Read inner engine i's eventfd, as its caller must before polling it. Only
 * while it has something in flight: an idle engine's eventfd stays clear
 * (each poll that finds it idle after reaping reads it once more, for a
 * completion that signalled it after the first read), which spares a
 * syscall per poll for the engine a workload does not use.
 */
static void inner_drain(struct blk_ovl *o, unsigned int i)
{
	eventfd_t v;

	(void)eventfd_read(blk_backend_event_fd(o->inner[i]), &v);
}

/*
 * Move everything on: queued subs to their engines, then, while requests
 * keep finishing (which frees their clusters), the blocked requests that no
 * longer conflict. 0 or -errno of an engine's kick.
 */
static int ovl_pump(struct blk_ovl *o)
{
	int err = waitq_pump(o);

	while (o->blocked.head && o->finished != o->admit_seen) {
		int r;

		o->admit_seen = o->finished;
		blocked_admit(o);
		r = waitq_pump(o);
		if (r < 0 && !err)
			err = r;
	}
	return err;
}

static void slot_put(struct blk_ovl *o, struct ovl_slot *s)
{
	s->req = NULL;
	s->nsubs = s->nfirst = 0;
	s->res = 0;
	/* A hostile guest's scattered read may have grown these a lot: do not keep that per slot. */
	if (s->subs_cap > OVL_KEEP_SUBS) {
		free(s->subs);
		free(s->iov);
		s->subs = NULL;
		s->iov = NULL;
		s->subs_cap = s->iov_cap = 0;
	}
	o->free[o->nfree++] = s;
}

static int ovl_submit(struct blk_backend *be, struct blk_req *req)
{
	struct blk_ovl *o = ovl_of(be);
	struct ovl_slot *s;
	uint64_t total = 0, len = 0;
	int ret;

	if (!req)
		return -EINVAL;
	/* The bytes the request covers: READ/WRITE's buffers, the others' range (FLUSH: none). */
	if (req->op == BLK_OP_READ || req->op == BLK_OP_WRITE)
		len = total = req->iov && req->iovcnt ? blk_iov_total(req->iov, req->iovcnt) : 0;
	else if (req->op == BLK_OP_DISCARD || req->op == BLK_OP_WRITE_ZEROES)
		len = req->len;
	else if (req->op != BLK_OP_FLUSH)
		return -EINVAL;
	if (req->op != BLK_OP_FLUSH && (len == 0 || len > o->map->size || req->offset > o->map->size - len))
		return -EINVAL;
	if (!o->nfree)
		return -EAGAIN;
	s = o->free[--o->nfree];
	s->req = req;
	s->total = total;
	s->res = 0;
	s->nsubs = s->nfirst = 0;
	switch (req->op) {
	case BLK_OP_FLUSH:
		/* Nothing on the overlay outlives the VM: there is nothing to make durable. */
		list_add(&o->done, s);
		break;
	case BLK_OP_READ:
		/* The slot just taken is not one of those in flight. */
		ret = ovl_slot_plan_read(o->map, &o->ov->counters, s,
					 o->nfree + 1 < o->depth ? OVL_SHARED_SUBS : UINT32_MAX);
		if (ret < 0) {
			slot_put(o, s);
			return ret;
		}
		slot_queue(o, s, 0, s->nsubs);
		break;
	default:
		if (!slot_admit(o, s)) {
			o->ov->counters.waits++;
			list_add(&o->blocked, s);
		}
		break;
	}
	be->counters.submitted++;
	/* The request is taken: a failure to say it is done already shows at the next kick or poll. */
	ret = done_signal(o);
	if (ret < 0)
		o->err = ret;
	return 0;
}

static int ovl_kick(struct blk_backend *be)
{
	struct blk_ovl *o = ovl_of(be);
	int err = ovl_pump(o), r = done_signal(o);

	if (r < 0 && !err)
		err = r;
	/* Again for an engine whose earlier kick failed and that took nothing new. */
	for (unsigned int i = 0; i < OVL_NINNER; i++) {
		r = blk_backend_kick(o->inner[i]);
		if (r < 0 && !err)
			err = r;
	}
	if (o->err && !err)
		err = o->err;
	o->err = 0;
	return err;
}

/* The inner engines' counters, summed into ours for the device's --stats. */
static void counters_mirror(struct blk_ovl *o)
{
	struct blk_backend_counters b, v;

	blk_backend_counters_get(o->inner[OVL_BASE], &b);
	blk_backend_counters_get(o->inner[OVL_OVERLAY], &v);
	o->be.counters.bounced = b.bounced + v.bounced;
	o->be.counters.inline_writes = v.inline_writes;
	o->be.counters.zeroes_written = v.zeroes_written;
	o->be.counters.discards_ignored = v.discards_ignored;
}

static int ovl_poll(struct blk_backend *be)
{
	struct blk_ovl *o = ovl_of(be);
	struct ovl_slot *s;
	int count = 0, err = 0;
	eventfd_t v;

	if (o->efd_set) {
		(void)eventfd_read(o->efd, &v);
		o->efd_set = false;
	}
	for (unsigned int i = 0; i < OVL_NINNER; i++) {
		int r;

		if (!o->inner_inflight[i])
			continue;
		inner_drain(o, i);
		r = blk_backend_poll(o->inner[i]);
		if (r < 0 && !err)
			err = r;
		if (!o->inner_inflight[i])
			inner_drain(o, i);
	}
	int r = ovl_pump(o);

	if (r < 0 && !err)
		err = r;
	if (o->err && !err)
		err = o->err;
	o->err = 0;
	counters_mirror(o);
	while ((s = o->done.head)) {
		struct blk_req *req = s->req;
		int res = s->res ? s->res : req->op == BLK_OP_READ || req->op == BLK_OP_WRITE ?
			  (s->total > INT32_MAX ? INT32_MAX : (int)s->total) : 0;

		o->done.head = s->next;
		if (!o->done.head)
			o->done.tail = NULL;
		/* Free the slot first so complete() may submit into it. */
		slot_put(o, s);
		count++;
		be->complete(be->complete_ctx, req, res);
	}
	return err < 0 ? err : count;
}

static int ovl_poll_events(struct blk_backend *be)
{
	struct blk_ovl *o = ovl_of(be);
	int any = 0;

	if (o->done.head)
		return 1;
	for (unsigned int i = 0; i < OVL_NINNER; i++) {
		int r = o->inner_inflight[i] ? blk_backend_poll_events(o->inner[i]) : 0;

		if (r < 0)
			return r;
		any |= r > 0;
	}
	return any;
}

static int ovl_event_fd(struct blk_backend *be)
{
	return ovl_of(be)->epfd;
}

static void ovl_free(struct blk_ovl *o)
{
	for (unsigned int i = 0; i < OVL_NINNER; i++) {
		if (o->inner[i])
			blk_backend_destroy(o->inner[i]);
	}
	for (unsigned int i = 0; o->slots && i < o->depth; i++) {
		free(o->slots[i].subs);
		free(o->slots[i].iov);
		free(o->slots[i].gap);
	}
	if (o->epfd >= 0)
		close(o->epfd);
	if (o->efd >= 0)
		close(o->efd);
	if (o->ov)
		o->ov->engine = false;
	free(o->slots);
	free(o->free);
	free(o);
}

static void ovl_destroy(struct blk_backend *be)
{
	if (be)
		ovl_free(ovl_of(be));
}

static const struct blk_backend_ops ovl_ops = {
	.submit = ovl_submit, .kick = ovl_kick, .poll = ovl_poll,
	.event_fd = ovl_event_fd, .poll_events = ovl_poll_events, .destroy = ovl_destroy,
};

static int epoll_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* The inner engines: the base as opened, and the overlay file in the base's place. 0 or -errno. */
static int ovl_inner_create(struct blk_ovl *o, const struct blk_image *img)
{
	const struct blk_overlay *ov = img->overlay;
	struct blk_image base = *img, top = *img;
	int ret;

	base.overlay = NULL;
	base.readonly = true;
	top.overlay = NULL;
	top.fd = ov->fd;
	top.block_device = false;
	top.locked = false;
	top.lock_fd = -1;
	/* Buffered (overlay_open.c says why); no mode's flush or durability reaches it. */
	top.cache = BLK_CACHE_WRITEBACK;
	top.dio_mem_align = 1;
	top.dio_offset_align = 1;
	ret = blk_file_backend_create(&base, o->depth, ovl_sub_complete, o, &o->inner[OVL_BASE]);
	if (ret < 0)
		return ret;
	return blk_file_backend_create(&top, o->depth, ovl_sub_complete, o, &o->inner[OVL_OVERLAY]);
}

int blk_overlay_engine_create(const struct blk_image *img, unsigned int queue_depth,
			      blk_complete_fn complete, void *ctx, struct blk_backend **out)
{
	struct blk_ovl *o;
	int ret;

	if (!img || !img->overlay || img->overlay->reflink || !complete || !out || !queue_depth ||
	    queue_depth > 4096)
		return -EINVAL;
	if (img->overlay->engine)
		return -EBUSY;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->epfd = o->efd = -1;
	o->depth = queue_depth;
	o->slots = calloc(queue_depth, sizeof(*o->slots));
	o->free = calloc(queue_depth, sizeof(*o->free));
	if (!o->slots || !o->free) {
		ret = -ENOMEM;
		goto free_engine;
	}
	for (unsigned int i = 0; i < queue_depth; i++)
		o->free[o->nfree++] = &o->slots[queue_depth - 1 - i];
	o->ov = img->overlay;
	o->map = &img->overlay->map;
	o->zero_discard = !img->overlay->punch;
	ret = ovl_inner_create(o, img);
	if (ret < 0)
		goto free_engine;
	/* One fd for the caller to wait on: readable when either engine, or we, have something for poll(). */
	o->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	o->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (o->efd < 0 || o->epfd < 0) {
		ret = -errno;
		goto free_engine;
	}
	if ((ret = epoll_add(o->epfd, o->efd)) < 0 ||
	    (ret = epoll_add(o->epfd, blk_backend_event_fd(o->inner[OVL_BASE]))) < 0 ||
	    (ret = epoll_add(o->epfd, blk_backend_event_fd(o->inner[OVL_OVERLAY]))) < 0)
		goto free_engine;
	img->overlay->engine = true;
	o->be.ops = &ovl_ops;
	o->be.complete = complete;
	o->be.complete_ctx = ctx;
	*out = &o->be;
	return 0;

free_engine:
	o->ov = NULL;
	ovl_free(o);
	return ret;
}

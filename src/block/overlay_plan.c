/* SPDX-License-Identifier: MIT */
/* The overlay engine's plans: a request turned into host operations on the base and the overlay, by the cluster map. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "overlay_internal.h"

/* Zeros for the copy-up of a zeroed range: never written. */
static uint8_t ovl_zeros[OVL_CLUSTER_MAX] __attribute__((aligned(4096)));

/* Grow the array *p of *cap elements of size bytes to hold n. 0 or -ENOMEM. */
static int array_grow(void **p, unsigned int *cap, unsigned int n, size_t size)
{
	void *grown;

	if (n <= *cap)
		return 0;
	grown = realloc(*p, n * size);
	if (!grown)
		return -ENOMEM;
	*p = grown;
	*cap = n;
	return 0;
}

/* Room for n subs and niov iovecs in s. 0 or -ENOMEM. */
static int slot_reserve(struct ovl_slot *s, unsigned int n, unsigned int niov)
{
	if (array_grow((void **)&s->subs, &s->subs_cap, n, sizeof(*s->subs)) < 0)
		return -ENOMEM;
	return array_grow((void **)&s->iov, &s->iov_cap, niov, sizeof(*s->iov));
}

/* The next sub of s: op on inner engine `to` over [off, off + len); the caller gives it its iovecs. */
static struct ovl_sub *sub_init(struct ovl_slot *s, unsigned int to, enum blk_op op, uint64_t off, uint64_t len)
{
	struct ovl_sub *sub = &s->subs[s->nsubs++];

	memset(sub, 0, sizeof(*sub));
	sub->req.op = op;
	sub->req.offset = off;
	sub->req.len = len;
	sub->req.opaque = sub;
	sub->slot = s;
	sub->to = to;
	sub->sets_data = to == OVL_OVERLAY && op != BLK_OP_READ;
	return sub;
}

/*
 * Copy into out the iovecs of the next len bytes of (iov, cnt) from cursor
 * (*i, *skip), and advance it. Number of iovecs written.
 */
static unsigned int iov_take(const struct iovec *iov, unsigned int cnt, unsigned int *i, uint64_t *skip,
			     uint64_t len, struct iovec *out)
{
	unsigned int n = 0;

	while (len && *i < cnt) {
		uint64_t avail = iov[*i].iov_len - *skip;
		uint64_t take = avail < len ? avail : len;

		out[n].iov_base = (uint8_t *)iov[*i].iov_base + *skip;
		out[n].iov_len = take;
		n++;
		len -= take;
		*skip += take;
		if (*skip == iov[*i].iov_len) {
			(*i)++;
			*skip = 0;
		}
	}
	return n;
}

/* Plan a READ: one sub per run of clusters with one source. 0 or -ENOMEM. */
int ovl_slot_plan_read(const struct ovl_map *m, struct ovl_counters *c, struct ovl_slot *s, unsigned int max_subs)
{
	struct blk_req *req = s->req;
	uint64_t end = req->offset + s->total, last = (end - 1) >> m->shift;
	unsigned int nseg = 0, vi = 0, nv = 0;
	uint64_t cl, run, skip = 0, pos = req->offset;
	bool data;

	for (cl = req->offset >> m->shift; cl <= last; cl += run) {
		run = ovl_map_run(m, cl, last + 1, &data);
		nseg++;
	}
	if (nseg > max_subs)
		return -EAGAIN;
	if (slot_reserve(s, nseg, nseg > 1 ? req->iovcnt + nseg : 0) < 0)
		return -ENOMEM;
	for (cl = req->offset >> m->shift; cl <= last; cl += run) {
		uint64_t seg_end;
		struct ovl_sub *sub;

		run = ovl_map_run(m, cl, last + 1, &data);
		seg_end = (cl + run) << m->shift;
		if (seg_end > end)
			seg_end = end;
		sub = sub_init(s, data ? OVL_OVERLAY : OVL_BASE, BLK_OP_READ, pos, seg_end - pos);
		if (nseg == 1) {
			sub->req.iov = req->iov;
			sub->req.iovcnt = req->iovcnt;
		} else {
			sub->req.iov = &s->iov[nv];
			sub->req.iovcnt = iov_take(req->iov, req->iovcnt, &vi, &skip, seg_end - pos, &s->iov[nv]);
			nv += sub->req.iovcnt;
		}
		c->base_reads += !data;
		c->overlay_reads += data;
		pos = seg_end;
	}
	s->nfirst = s->nsubs;
	return 0;
}

/* The phase-one reads of s's copy-up gaps, into s->gap. 0 or -ENOMEM. */
static int plan_gaps(const struct ovl_map *m, struct ovl_counters *c, struct ovl_slot *s)
{
	const struct ovl_plan *p = &s->plan;
	uint64_t cluster = 1ull << m->shift;

	if (!p->head_len && !p->tail_len)
		return 0;
	if (!s->gap && posix_memalign((void **)&s->gap, 4096, 2 * cluster))
		return -ENOMEM;
	if (p->head_len) {
		struct ovl_sub *sub = sub_init(s, OVL_BASE, BLK_OP_READ, p->head_off, p->head_len);

		s->iov[s->nsubs - 1] = (struct iovec){ s->gap, p->head_len };
		sub->req.iov = &s->iov[s->nsubs - 1];
		sub->req.iovcnt = 1;
		c->copy_ups++;
	}
	if (p->tail_len) {
		struct ovl_sub *sub = sub_init(s, OVL_BASE, BLK_OP_READ, p->tail_off, p->tail_len);

		s->iov[s->nsubs - 1] = (struct iovec){ s->gap + cluster, p->tail_len };
		sub->req.iov = &s->iov[s->nsubs - 1];
		sub->req.iovcnt = 1;
		/* One cluster copied up once, even when both gaps lie in it. */
		c->copy_ups += !(p->head_len && p->n == 1);
	}
	s->nfirst = s->nsubs;
	return 0;
}

/*
 * An overlay WRITE at off of [head gap][middle][tail gap], the middle being
 * mid_len bytes: the request's data (data, ndata iovecs) or zeros (data
 * NULL). Its iovecs go in s->iov from index *at, which it advances.
 */
static void plan_overlay_write(const struct ovl_map *m, struct ovl_slot *s, uint64_t off, uint64_t head_len,
			       const struct iovec *data, unsigned int ndata, uint64_t mid_len, uint64_t tail_len,
			       unsigned int *at)
{
	uint64_t cluster = 1ull << m->shift;
	struct iovec *v = &s->iov[*at];
	unsigned int n = 0;
	struct ovl_sub *sub = sub_init(s, OVL_OVERLAY, BLK_OP_WRITE, off, head_len + mid_len + tail_len);

	if (head_len)
		v[n++] = (struct iovec){ s->gap, head_len };
	if (data) {
		memcpy(&v[n], data, ndata * sizeof(*v));
		n += ndata;
	} else {
		v[n++] = (struct iovec){ ovl_zeros, mid_len };
	}
	if (tail_len)
		v[n++] = (struct iovec){ s->gap + cluster, tail_len };
	sub->req.iov = v;
	sub->req.iovcnt = n;
	*at += n;
}

/* Plan a write-like request admitted with s->plan. 0 or -ENOMEM. */
int ovl_slot_plan_write(const struct ovl_map *m, struct ovl_counters *c, struct ovl_slot *s, bool zero_discard)
{
	struct blk_req *req = s->req;
	const struct ovl_plan *p = &s->plan;
	uint64_t off = req->offset, end = off + (req->op == BLK_OP_WRITE ? s->total : req->len);
	uint64_t last = p->first + p->n - 1;
	unsigned int at = 2;
	int ret;

	/* At most: two gap reads and three overlay operations; the gaps' iovecs first, then the writes'. */
	ret = slot_reserve(s, 5, 2 + (req->op == BLK_OP_WRITE ? req->iovcnt : 0) + 6);
	if (ret < 0)
		return ret;
	ret = plan_gaps(m, c, s);
	if (ret < 0)
		return ret;
	if (req->op == BLK_OP_WRITE) {
		if (!s->nfirst) {
			struct ovl_sub *sub = sub_init(s, OVL_OVERLAY, BLK_OP_WRITE, off, s->total);

			sub->req.iov = req->iov;
			sub->req.iovcnt = req->iovcnt;
			return 0;
		}
		plan_overlay_write(m, s, p->head_len ? p->head_off : off, p->head_len, req->iov, req->iovcnt, s->total,
				   p->tail_len, &at);
		return 0;
	}
	/* WRITE_ZEROES, DISCARD: copy-ups of the partial unwritten clusters, the rest zeroed in the overlay. */
	if (p->n == 1 && (p->head_len || p->tail_len)) {
		plan_overlay_write(m, s, p->head_off, p->head_len, NULL, 0, end - off, p->tail_len, &at);
		return 0;
	}
	if (p->head_len) {
		plan_overlay_write(m, s, p->head_off, p->head_len, NULL, 0, ovl_cluster_end(m, p->first) - off, 0, &at);
		off = ovl_cluster_end(m, p->first);
	}
	if (p->tail_len) {
		plan_overlay_write(m, s, last << m->shift, 0, NULL, 0, end - (last << m->shift), p->tail_len, &at);
		end = last << m->shift;
	}
	if (off < end) {
		/* Punched where the overlay can (a hole reads as zeros and gives the space back), else zeroed. */
		struct ovl_sub *sub = sub_init(s, OVL_OVERLAY, zero_discard ? BLK_OP_WRITE_ZEROES : BLK_OP_DISCARD,
					       off, end - off);

		sub->req.unmap = true;
	}
	return 0;
}

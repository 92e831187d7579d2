/* SPDX-License-Identifier: MIT */
/* Split virtqueue, device side: pop chains from the avail ring, push to the used ring, decide on interrupts. */
#include "virtqueue.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

/*
 * The guest writes the rings concurrently with us. Ring indices and entries
 * are read with single atomic loads (so each is read once, whole), and a
 * descriptor is copied out once and only the copy is checked and used, so the
 * guest cannot change a value between our check and our use of it.
 */
static inline uint16_t ld16(const uint16_t *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
}

static inline void st16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, htole16(v), __ATOMIC_RELAXED);
}

static inline void st32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, htole32(v), __ATOMIC_RELAXED);
}

static uint16_t *used_event_ptr(const struct virtq *vq)
{
	return &vq->avail->ring[vq->size];
}

static uint16_t *avail_event_ptr(const struct virtq *vq)
{
	/* Addressed by byte offset: it is a uint16_t after the ring, not part of a used element. */
	return (uint16_t *)((char *)vq->used + 4 + 8u * vq->size);
}

int virtq_init(struct virtq *vq, const struct gmem *mem, uint16_t size,
	       uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa, uint64_t features)
{
	/* A power of two that fits uint16_t is at most 32768 == VIRTQ_MAX_SIZE. */
	if (size == 0 || (size & (size - 1)) != 0)
		return -EINVAL;
	/* Alignments from the spec (2.7); the atomics below need natural alignment too. */
	if ((desc_gpa & 15) != 0 || (avail_gpa & 1) != 0 || (used_gpa & 3) != 0)
		return -EINVAL;

	uint64_t desc_len = 16ull * size;
	uint64_t avail_len = 6 + 2ull * size;   /* flags, idx, ring[size], used_event */
	uint64_t used_len = 6 + 8ull * size;    /* flags, idx, ring[size], avail_event */
	void *desc = gmem_ptr(mem, desc_gpa, desc_len);
	void *avail = gmem_ptr(mem, avail_gpa, avail_len);
	void *used = gmem_ptr(mem, used_gpa, used_len);

	if (!desc || !avail || !used)
		return -EFAULT;
	/* Host regions are page aligned in practice; refuse anything that would make the atomics unaligned. */
	if (((uintptr_t)desc & 15) != 0 || ((uintptr_t)avail & 1) != 0 || ((uintptr_t)used & 3) != 0)
		return -EINVAL;

	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	vq->size = size;
	vq->event_idx = (features >> VIRTIO_RING_F_EVENT_IDX) & 1;
	vq->indirect = (features >> VIRTIO_RING_F_INDIRECT_DESC) & 1;
	vq->max_segs = VIRTQ_ELEM_MAX_SEGS;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	/*
	 * A queue starts at index 0 on both rings (the driver hands over zeroed
	 * rings after a reset); memset above did that. Nothing is read back from
	 * the guest's used ring, which the guest could have filled with anything.
	 */
	return 0;
}

void virtq_set_max_segs(struct virtq *vq, unsigned int max_segs)
{
	if (max_segs < 1)
		max_segs = 1;
	if (max_segs > VIRTQ_ELEM_MAX_SEGS)
		max_segs = VIRTQ_ELEM_MAX_SEGS;
	vq->max_segs = max_segs;
}

/* Copy descriptor i out of a table that may sit at any byte address (indirect tables need not be aligned). */
static void desc_read(const void *table, unsigned int i, struct virtq_desc *d)
{
	memcpy(d, (const char *)table + 16ull * i, sizeof(*d));
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

/* Add one checked buffer to elem. 0 or -errno (see virtq_pop). */
static int elem_add(const struct virtq *vq, struct virtq_elem *elem, const struct virtq_desc *d)
{
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;

	if (!writable && elem->in_num > 0)
		return -EINVAL;   /* readable after writable: the spec forbids it */
	if (d->len == 0)
		return 0;         /* nothing to access; keep it out of the iov */
	if (elem->out_num + elem->in_num >= vq->max_segs)
		return -E2BIG;
	void *host = gmem_ptr(vq->mem, d->addr, d->len);
	if (!host)
		return -EFAULT;
	struct iovec *iov = &elem->iov[elem->out_num + elem->in_num];
	iov->iov_base = host;
	iov->iov_len = d->len;
	if (writable) {
		elem->in_num++;
		elem->in_len += d->len;
	} else {
		elem->out_num++;
		elem->out_len += d->len;
	}
	return 0;
}

/* Walk an indirect table described by d (already known to carry INDIRECT). 0 or -errno. */
static int walk_indirect(const struct virtq *vq, struct virtq_elem *elem, const struct virtq_desc *d)
{
	if (!vq->indirect || (d->flags & VIRTQ_DESC_F_NEXT))
		return -EINVAL;
	if (d->len == 0 || d->len % 16 != 0)
		return -EINVAL;
	const void *table = gmem_ptr(vq->mem, d->addr, d->len);
	if (!table)
		return -EFAULT;

	unsigned int n = d->len / 16;
	unsigned int i = 0;
	/*
	 * A table of n entries can hold a chain of at most n; more hops means a
	 * loop. And n can be in the millions (a table may span guest RAM), while
	 * zero-length entries take no segment: without a cap of its own, one such
	 * chain would hold the device for a second. No chain needs more hops
	 * than the queue has entries or a request has segments.
	 */
	unsigned int max_hops = vq->size > vq->max_segs ? vq->size : vq->max_segs;

	if (n < max_hops)
		max_hops = n;
	for (unsigned int hops = 0;; hops++) {
		struct virtq_desc t;

		if (hops >= max_hops)
			return -ELOOP;
		desc_read(table, i, &t);
		if (t.flags & VIRTQ_DESC_F_INDIRECT)
			return -EINVAL;   /* nested indirect */
		int r = elem_add(vq, elem, &t);
		if (r < 0)
			return r;
		if (!(t.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (t.next >= n)
			return -EINVAL;
		i = t.next;
	}
}

bool virtq_has_avail(struct virtq *vq)
{
	/* Acquire: buffers the driver made available before this idx are visible to our later reads. */
	uint16_t avail_idx = le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE));

	return avail_idx != vq->last_avail_idx;
}

int virtq_pop(struct virtq *vq, struct virtq_elem *elem)
{
	if (vq->broken)
		return -EPROTO;

	/*
	 * Acquire: orders this read of avail->idx before our reads of the ring
	 * entry and descriptors below, pairing with the driver's write barrier
	 * before it bumped idx.
	 */
	uint16_t avail_idx = le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE));
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail_idx);

	if (pending == 0)
		return 0;
	if (pending > vq->size) {
		vq->broken = true;
		return -EPROTO;
	}

	uint16_t head = ld16(&vq->avail->ring[vq->last_avail_idx & (vq->size - 1)]);

	if (head >= vq->size) {
		vq->broken = true;
		return -EPROTO;
	}
	/*
	 * avail_event is left alone: it moves only in virtq_notify_enable. While
	 * it lags behind, the driver's "did my new idx pass avail_event?" test
	 * fails, so a device busy with a batch (or busy-polling) is not kicked
	 * for each buffer added meanwhile; it re-arms, and looks again, only
	 * when it is about to wait.
	 */
	vq->last_avail_idx++;

	elem->head = head;
	elem->out_num = 0;
	elem->in_num = 0;
	elem->out_len = 0;
	elem->in_len = 0;

	unsigned int i = head;

	for (unsigned int hops = 0;; hops++) {
		struct virtq_desc d;
		int r;

		if (hops >= vq->size)
			return -ELOOP;
		desc_read(vq->desc, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			r = walk_indirect(vq, elem, &d);
			return r < 0 ? r : 1;
		}
		r = elem_add(vq, elem, &d);
		if (r < 0)
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 1;
		if (d.next >= vq->size)
			return -EINVAL;
		i = d.next;
	}
}

void virtq_unpop(struct virtq *vq)
{
	vq->last_avail_idx--;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	struct virtq_used_elem *e = &vq->used->ring[vq->used_idx & (vq->size - 1)];

	st32(&e->id, head);
	st32(&e->len, len);
	vq->used_idx++;
	/*
	 * Release: the used entry above and the data we wrote into the chain's
	 * buffers become visible to the driver before the new used->idx does.
	 */
	__atomic_store_n(&vq->used->idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
}

bool virtq_should_notify(struct virtq *vq)
{
	/*
	 * Full fence: our store of used->idx (in virtq_push) must be globally
	 * visible before we load used_event / avail->flags. Otherwise the driver
	 * could update used_event after reading the old used->idx while we read
	 * the old used_event, and both sides would wait for each other.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	uint16_t old = vq->signalled_used;
	uint16_t new = vq->used_idx;
	bool valid = vq->signalled_used_valid;

	vq->signalled_used = new;
	vq->signalled_used_valid = true;
	if (old == new)
		return false;
	if (!vq->event_idx)
		return !(ld16(&vq->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;

	uint16_t event = ld16(used_event_ptr(vq));

	/*
	 * Notify when used_event lies in [old, new): the driver asked to hear
	 * about entry used_event and that entry was pushed since the last check.
	 * Unsigned 16-bit differences make this correct across wrap-around.
	 */
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

void virtq_notify_disable(struct virtq *vq)
{
	if (!vq->event_idx)
		st16(&vq->used->flags, ld16(&vq->used->flags) | VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq_notify_enable(struct virtq *vq)
{
	if (vq->event_idx)
		st16(avail_event_ptr(vq), vq->last_avail_idx);
	else
		st16(&vq->used->flags, ld16(&vq->used->flags) & ~VIRTQ_USED_F_NO_NOTIFY);
	/*
	 * Full fence: the avail_event / flags store above must be visible before
	 * we re-read avail->idx, or a buffer the driver added meanwhile (without
	 * kicking, as it still saw notifications off) would sit there unnoticed.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtq_has_avail(vq);
}

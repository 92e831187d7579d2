/* SPDX-License-Identifier: MIT */
/* Unit tests for the split virtqueue: chain walking, guest-input checks, indirect tables, notification suppression. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virtqueue.h"
#include "vtest_guest.h"

#define QSIZE 16
#define RAM (1u << 20)

struct fix {
	struct vtest_guest g;
	struct virtq vq;
	struct virtq_elem elem;
};

static int setup_features(void **state, uint64_t features)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (!f || vtest_guest_init(&f->g, RAM, QSIZE) != 0)
		return -1;
	if (virtq_init(&f->vq, &f->g.mem, QSIZE, f->g.desc_gpa, f->g.avail_gpa, f->g.used_gpa, features) != 0)
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_features(state, (1ull << VIRTIO_RING_F_INDIRECT_DESC));
}

static int setup_event_idx(void **state)
{
	return setup_features(state, (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_RING_F_EVENT_IDX));
}

static int setup_plain(void **state)
{
	return setup_features(state, 0);
}

static int teardown(void **state)
{
	struct fix *f = *state;

	vtest_guest_fini(&f->g);
	free(f);
	return 0;
}

static const uint64_t RAM_END = VTEST_RAM_GPA + RAM;

static void test_init_checks(void **state)
{
	struct fix *f = *state;
	struct virtq vq;

	assert_int_equal(virtq_init(&vq, &f->g.mem, 0, f->g.desc_gpa, f->g.avail_gpa, f->g.used_gpa, 0), -EINVAL);
	assert_int_equal(virtq_init(&vq, &f->g.mem, 12, f->g.desc_gpa, f->g.avail_gpa, f->g.used_gpa, 0), -EINVAL);
	assert_int_equal(virtq_init(&vq, &f->g.mem, QSIZE, f->g.desc_gpa + 8, f->g.avail_gpa, f->g.used_gpa, 0), -EINVAL);
	assert_int_equal(virtq_init(&vq, &f->g.mem, QSIZE, f->g.desc_gpa, f->g.avail_gpa + 1, f->g.used_gpa, 0), -EINVAL);
	assert_int_equal(virtq_init(&vq, &f->g.mem, QSIZE, f->g.desc_gpa, f->g.avail_gpa, f->g.used_gpa + 2, 0), -EINVAL);
	/* Rings that straddle or miss RAM. */
	assert_int_equal(virtq_init(&vq, &f->g.mem, QSIZE, RAM_END - 16 * 8, f->g.avail_gpa, f->g.used_gpa, 0), -EFAULT);
	assert_int_equal(virtq_init(&vq, &f->g.mem, QSIZE, f->g.desc_gpa, 0, f->g.used_gpa, 0), -EFAULT);
	assert_int_equal(virtq_init(&vq, &f->g.mem, QSIZE, f->g.desc_gpa, f->g.avail_gpa, 0xfffffffffffffff0ull, 0), -EFAULT);
	/* The largest queue must fit in RAM: 32768 descriptors need 512 KiB. */
	assert_int_equal(virtq_init(&vq, &f->g.mem, 32768, VTEST_RAM_GPA, VTEST_RAM_GPA + 0x80000,
				    VTEST_RAM_GPA + 0x90000, 0), 0);
}

static void test_empty(void **state)
{
	struct fix *f = *state;

	assert_int_equal(virtq_pop(&f->vq, &f->elem), 0);
	assert_false(virtq_has_avail(&f->vq));
}

static void test_good_chain(void **state)
{
	struct fix *f = *state;
	uint64_t hdr = vtest_alloc(&f->g, 16), data = vtest_alloc(&f->g, 4096), st = vtest_alloc(&f->g, 1);
	struct vtest_seg segs[] = {
		{ hdr, 16, false }, { data, 4096, true }, { st, 1, true },
	};

	memset(vtest_ptr(&f->g, hdr), 0xab, 16);
	uint16_t head = vtest_submit(&f->g, segs, 3);

	assert_true(virtq_has_avail(&f->vq));
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	assert_int_equal(f->elem.head, head);
	assert_int_equal(f->elem.out_num, 1);
	assert_int_equal(f->elem.in_num, 2);
	assert_int_equal(f->elem.out_len, 16);
	assert_int_equal(f->elem.in_len, 4097);
	assert_ptr_equal(f->elem.iov[0].iov_base, vtest_ptr(&f->g, hdr));
	assert_ptr_equal(f->elem.iov[1].iov_base, vtest_ptr(&f->g, data));
	assert_int_equal(f->elem.iov[2].iov_len, 1);
	assert_int_equal(((uint8_t *)f->elem.iov[0].iov_base)[15], 0xab);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 0);

	virtq_push(&f->vq, head, 4097);
	uint32_t id, len;

	assert_true(vtest_used_pop(&f->g, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 4097);
	assert_false(vtest_used_pop(&f->g, &id, &len));
}

static void test_many_chains_wrap(void **state)
{
	struct fix *f = *state;
	uint64_t buf = vtest_alloc(&f->g, 64);
	struct vtest_seg seg = { buf, 64, false };

	/* Three times round the ring, so the 16-bit indices and slot masks wrap. */
	for (unsigned int round = 0; round < 3 * QSIZE; round++) {
		uint16_t head = vtest_submit(&f->g, &seg, 1);
		uint32_t id, len;

		assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
		assert_int_equal(f->elem.head, head);
		virtq_push(&f->vq, head, 0);
		assert_true(vtest_used_pop(&f->g, &id, &len));
		assert_int_equal(id, head);
	}
}

static void expect_bad_chain(struct fix *f, uint16_t head, int err)
{
	vtest_avail_push(&f->g, head);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), err);
	/* The chain is consumed and its head is known, so the device can return it. */
	assert_int_equal(f->elem.head, head);
	assert_false(f->vq.broken);
	virtq_push(&f->vq, f->elem.head, 0);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 0);
}

static void test_outside_ram(void **state)
{
	struct fix *f = *state;

	/* Wholly outside RAM. */
	vtest_desc_set(&f->g, 0, 0x1000, 16, 0, 0);
	expect_bad_chain(f, 0, -EFAULT);
	/* Straddling the end of RAM by one byte. */
	vtest_desc_set(&f->g, 1, RAM_END - 15, 16, 0, 0);
	expect_bad_chain(f, 1, -EFAULT);
	/* Straddling the start of RAM. */
	vtest_desc_set(&f->g, 2, VTEST_RAM_GPA - 1, 16, VIRTQ_DESC_F_WRITE, 0);
	expect_bad_chain(f, 2, -EFAULT);
	/* gpa + len overflows 64 bits and would wrap into RAM. */
	vtest_desc_set(&f->g, 3, 0xffffffffffffff00ull, 0x200, 0, 0);
	expect_bad_chain(f, 3, -EFAULT);
	/* A good first buffer does not excuse a bad second one. */
	vtest_desc_set(&f->g, 4, VTEST_RAM_GPA + 0x8000, 16, VIRTQ_DESC_F_NEXT, 5);
	vtest_desc_set(&f->g, 5, RAM_END, 1, VIRTQ_DESC_F_WRITE, 0);
	expect_bad_chain(f, 4, -EFAULT);
	/* Exactly up to the end of RAM is fine. */
	vtest_desc_set(&f->g, 6, RAM_END - 16, 16, 0, 0);
	vtest_avail_push(&f->g, 6);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
}

static void test_bad_next_and_loops(void **state)
{
	struct fix *f = *state;
	uint64_t buf = vtest_alloc(&f->g, 16);

	/* next index out of range. */
	vtest_desc_set(&f->g, 0, buf, 16, VIRTQ_DESC_F_NEXT, QSIZE);
	expect_bad_chain(f, 0, -EINVAL);
	/* A self-loop. */
	vtest_desc_set(&f->g, 1, buf, 16, VIRTQ_DESC_F_NEXT, 1);
	expect_bad_chain(f, 1, -ELOOP);
	/* A longer cycle 2 -> 3 -> 4 -> 2 with zero-length buffers (nothing else stops it). */
	vtest_desc_set(&f->g, 2, buf, 0, VIRTQ_DESC_F_NEXT, 3);
	vtest_desc_set(&f->g, 3, buf, 0, VIRTQ_DESC_F_NEXT, 4);
	vtest_desc_set(&f->g, 4, buf, 0, VIRTQ_DESC_F_NEXT, 2);
	expect_bad_chain(f, 2, -ELOOP);
}

static void test_full_length_chain(void **state)
{
	struct fix *f = *state;
	uint64_t buf = vtest_alloc(&f->g, 16);
	struct vtest_seg segs[QSIZE];

	/* A chain using every descriptor once is legal. */
	for (unsigned int i = 0; i < QSIZE; i++)
		segs[i] = (struct vtest_seg){ buf, 16, i >= QSIZE / 2 };
	vtest_submit(&f->g, segs, QSIZE);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	assert_int_equal(f->elem.out_num + f->elem.in_num, QSIZE);
}

static void test_too_many_segs(void **state)
{
	struct fix *f = *state;
	uint64_t buf = vtest_alloc(&f->g, 16);
	struct vtest_seg segs[5];

	virtq_set_max_segs(&f->vq, 4);
	for (unsigned int i = 0; i < 5; i++)
		segs[i] = (struct vtest_seg){ buf, 16, false };
	uint16_t head = vtest_chain_build(&f->g, segs, 5);

	expect_bad_chain(f, head, -E2BIG);
	vtest_submit(&f->g, segs, 4);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
}

static void test_out_after_in(void **state)
{
	struct fix *f = *state;
	uint64_t buf = vtest_alloc(&f->g, 16);
	struct vtest_seg segs[] = { { buf, 16, false }, { buf, 16, true }, { buf, 16, false } };
	uint16_t head = vtest_chain_build(&f->g, segs, 3);

	expect_bad_chain(f, head, -EINVAL);
}

static void test_avail_idx_jump(void **state)
{
	struct fix *f = *state;

	vtest_avail_idx_set(&f->g, QSIZE + 1);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), -EPROTO);
	assert_true(f->vq.broken);
	/* Sticky: a broken ring is not walked again. */
	vtest_avail_idx_set(&f->g, 1);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), -EPROTO);
}

static void test_avail_idx_exactly_full(void **state)
{
	struct fix *f = *state;
	uint64_t buf = vtest_alloc(&f->g, 16);
	struct vtest_seg seg = { buf, 16, false };

	for (unsigned int i = 0; i < QSIZE; i++)
		vtest_submit(&f->g, &seg, 1);
	for (unsigned int i = 0; i < QSIZE; i++)
		assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 0);
}

static void test_bad_head(void **state)
{
	struct fix *f = *state;

	vtest_avail_push(&f->g, QSIZE);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), -EPROTO);
	assert_true(f->vq.broken);
}

static void test_unpop(void **state)
{
	struct fix *f = *state;
	uint64_t buf = vtest_alloc(&f->g, 16);
	struct vtest_seg seg = { buf, 16, false };
	uint16_t h1 = vtest_submit(&f->g, &seg, 1);
	uint16_t h2 = vtest_submit(&f->g, &seg, 1);

	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	assert_int_equal(f->elem.head, h1);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	assert_int_equal(f->elem.head, h2);
	virtq_unpop(&f->vq);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	assert_int_equal(f->elem.head, h2);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 0);
}

static void test_zero_length_skipped(void **state)
{
	struct fix *f = *state;
	uint64_t buf = vtest_alloc(&f->g, 16);
	struct vtest_seg segs[] = { { buf, 16, false }, { 0, 0, false }, { buf, 8, true } };

	vtest_submit(&f->g, segs, 3);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	assert_int_equal(f->elem.out_num, 1);
	assert_int_equal(f->elem.in_num, 1);
}

static void test_indirect_good(void **state)
{
	struct fix *f = *state;
	uint64_t hdr = vtest_alloc(&f->g, 16), data = vtest_alloc(&f->g, 512), st = vtest_alloc(&f->g, 1);
	struct vtest_seg segs[] = { { hdr, 16, false }, { data, 512, true }, { st, 1, true } };
	uint16_t head = vtest_chain_build_indirect(&f->g, segs, 3);

	vtest_avail_push(&f->g, head);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	assert_int_equal(f->elem.head, head);
	assert_int_equal(f->elem.out_num, 1);
	assert_int_equal(f->elem.in_num, 2);
	assert_int_equal(f->elem.in_len, 513);
	assert_ptr_equal(f->elem.iov[1].iov_base, vtest_ptr(&f->g, data));
}

static void test_indirect_after_direct(void **state)
{
	struct fix *f = *state;
	uint64_t hdr = vtest_alloc(&f->g, 16), data = vtest_alloc(&f->g, 512);
	uint64_t table = vtest_alloc(&f->g, 16);

	vtest_table_desc_set(&f->g, table, 0, data, 512, VIRTQ_DESC_F_WRITE, 0);
	vtest_desc_set(&f->g, 0, hdr, 16, VIRTQ_DESC_F_NEXT, 1);
	vtest_desc_set(&f->g, 1, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
	vtest_avail_push(&f->g, 0);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	assert_int_equal(f->elem.out_num, 1);
	assert_int_equal(f->elem.in_num, 1);
}

static void test_indirect_bad(void **state)
{
	struct fix *f = *state;
	uint64_t buf = vtest_alloc(&f->g, 16);
	uint64_t table = vtest_alloc(&f->g, 64);

	vtest_table_desc_set(&f->g, table, 0, buf, 16, 0, 0);
	/* Length not a multiple of 16. */
	vtest_desc_set(&f->g, 0, table, 24, VIRTQ_DESC_F_INDIRECT, 0);
	expect_bad_chain(f, 0, -EINVAL);
	/* Zero length. */
	vtest_desc_set(&f->g, 1, table, 0, VIRTQ_DESC_F_INDIRECT, 0);
	expect_bad_chain(f, 1, -EINVAL);
	/* Table outside RAM, and straddling its end. */
	vtest_desc_set(&f->g, 2, 0x2000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	expect_bad_chain(f, 2, -EFAULT);
	vtest_desc_set(&f->g, 3, RAM_END - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_bad_chain(f, 3, -EFAULT);
	/* INDIRECT together with NEXT. */
	vtest_desc_set(&f->g, 4, table, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 5);
	vtest_desc_set(&f->g, 5, buf, 16, 0, 0);
	expect_bad_chain(f, 4, -EINVAL);
	/* Nested: the table points at another table. */
	vtest_table_desc_set(&f->g, table, 0, table + 16, 16, VIRTQ_DESC_F_INDIRECT, 0);
	vtest_table_desc_set(&f->g, table, 1, buf, 16, 0, 0);
	vtest_desc_set(&f->g, 6, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
	expect_bad_chain(f, 6, -EINVAL);
	/* A loop inside the table. */
	vtest_table_desc_set(&f->g, table, 0, buf, 16, VIRTQ_DESC_F_NEXT, 1);
	vtest_table_desc_set(&f->g, table, 1, buf, 16, VIRTQ_DESC_F_NEXT, 0);
	vtest_desc_set(&f->g, 7, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_bad_chain(f, 7, -ELOOP);
	/* next beyond the table. */
	vtest_table_desc_set(&f->g, table, 0, buf, 16, VIRTQ_DESC_F_NEXT, 2);
	vtest_desc_set(&f->g, 8, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_bad_chain(f, 8, -EINVAL);
	/* A buffer in the table outside RAM. */
	vtest_table_desc_set(&f->g, table, 0, RAM_END - 8, 16, 0, 0);
	vtest_desc_set(&f->g, 9, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
	expect_bad_chain(f, 9, -EFAULT);
	/* Direction mixing inside the table. */
	vtest_table_desc_set(&f->g, table, 0, buf, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vtest_table_desc_set(&f->g, table, 1, buf, 16, 0, 0);
	vtest_desc_set(&f->g, 10, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_bad_chain(f, 10, -EINVAL);
}

/*
 * A table may be far longer than any chain (up to all of guest RAM), and
 * zero-length entries take no segment: the walk stops after as many hops as
 * the queue has entries or a request segments, whichever is more.
 */
static void test_indirect_hops_capped(void **state)
{
	struct fix *f = *state;
	const unsigned int n = 1024, cap = VIRTQ_ELEM_MAX_SEGS;   /* > QSIZE */
	uint64_t buf = vtest_alloc(&f->g, 16);
	uint64_t table = vtest_alloc(&f->g, 16ull * n);

	assert_true(f->vq.max_segs == cap && cap > QSIZE && cap < n);
	/* cap - 1 empty entries, then a buffer: the longest chain there may be. */
	for (unsigned int i = 0; i + 1 < cap; i++)
		vtest_table_desc_set(&f->g, table, (uint16_t)i, buf, 0, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
	vtest_table_desc_set(&f->g, table, (uint16_t)(cap - 1), buf, 16, 0, 0);
	vtest_desc_set(&f->g, 0, table, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	vtest_avail_push(&f->g, 0);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	assert_int_equal(f->elem.out_num, 1);
	virtq_push(&f->vq, 0, 0);
	/* One more empty entry in front: refused, although the table would hold it. */
	for (unsigned int i = 0; i < cap; i++)
		vtest_table_desc_set(&f->g, table, (uint16_t)i, buf, 0, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
	vtest_table_desc_set(&f->g, table, (uint16_t)cap, buf, 16, 0, 0);
	expect_bad_chain(f, 0, -ELOOP);
	/* An empty entry that loops to itself in a big table. */
	vtest_table_desc_set(&f->g, table, 0, buf, 0, VIRTQ_DESC_F_NEXT, 0);
	expect_bad_chain(f, 0, -ELOOP);
}

static void test_indirect_not_negotiated(void **state)
{
	struct fix *f = *state;
	uint64_t buf = vtest_alloc(&f->g, 16);
	uint64_t table = vtest_alloc(&f->g, 16);

	vtest_table_desc_set(&f->g, table, 0, buf, 16, 0, 0);
	vtest_desc_set(&f->g, 0, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
	expect_bad_chain(f, 0, -EINVAL);
}

static void push_one(struct fix *f)
{
	uint64_t buf = vtest_alloc(&f->g, 16);
	struct vtest_seg seg = { buf, 16, false };

	vtest_submit(&f->g, &seg, 1);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	virtq_push(&f->vq, f->elem.head, 0);
}

static void test_notify_flags(void **state)
{
	struct fix *f = *state;

	assert_false(virtq_should_notify(&f->vq));   /* nothing pushed */
	push_one(f);
	assert_true(virtq_should_notify(&f->vq));
	assert_false(virtq_should_notify(&f->vq));   /* nothing new */
	vtest_avail_flags_set(&f->g, VIRTQ_AVAIL_F_NO_INTERRUPT);
	push_one(f);
	assert_false(virtq_should_notify(&f->vq));
	vtest_avail_flags_set(&f->g, 0);
	push_one(f);
	assert_true(virtq_should_notify(&f->vq));

	virtq_notify_disable(&f->vq);
	assert_int_equal(vtest_used_flags_get(&f->g) & VIRTQ_USED_F_NO_NOTIFY, VIRTQ_USED_F_NO_NOTIFY);
	assert_false(virtq_notify_enable(&f->vq));
	assert_int_equal(vtest_used_flags_get(&f->g) & VIRTQ_USED_F_NO_NOTIFY, 0);
}

/* Move both rings to a given 16-bit index, as if that many requests had passed. */
static void jump_indices(struct fix *f, uint16_t idx)
{
	f->g.avail_idx = idx;
	f->g.used_seen = idx;
	vtest_avail_idx_set(&f->g, idx);
	((struct virtq_used *)vtest_ptr(&f->g, f->g.used_gpa))->idx = idx;
	assert_int_equal(virtq_init(&f->vq, &f->g.mem, QSIZE, f->g.desc_gpa, f->g.avail_gpa, f->g.used_gpa,
				    (1ull << VIRTIO_RING_F_EVENT_IDX)), 0);
	/* As if idx requests had been served since the queue was made ready. */
	f->vq.last_avail_idx = idx;
	f->vq.used_idx = idx;
	f->vq.signalled_used = idx;
}

static void test_event_idx(void **state)
{
	struct fix *f = *state;

	/* The first check after init always notifies (nothing known about the driver yet). */
	vtest_used_event_set(&f->g, 0);
	push_one(f);   /* used idx 1 */
	assert_true(virtq_should_notify(&f->vq));
	/* Driver wants to hear when entry 3 is used (used idx goes past 3). */
	vtest_used_event_set(&f->g, 3);
	push_one(f);   /* 2 */
	assert_false(virtq_should_notify(&f->vq));
	push_one(f);   /* 3 */
	assert_false(virtq_should_notify(&f->vq));
	push_one(f);   /* 4: entry 3 now used */
	assert_true(virtq_should_notify(&f->vq));
	/* Batched: several pushes, one check, event inside the batch. */
	vtest_used_event_set(&f->g, 5);
	push_one(f);   /* 5 */
	push_one(f);   /* 6 */
	push_one(f);   /* 7 */
	assert_true(virtq_should_notify(&f->vq));
	/* Event already behind us: no interrupt until it comes round again. */
	push_one(f);   /* 8 */
	assert_false(virtq_should_notify(&f->vq));
	/* Edge: used_event == old - 1 was already covered by the previous interrupt window. */
	vtest_used_event_set(&f->g, 7);
	push_one(f);   /* 9: old 8, entries 8 only */
	assert_false(virtq_should_notify(&f->vq));
	/* Edge: used_event == old, the first entry of this batch. */
	vtest_used_event_set(&f->g, 9);
	push_one(f);   /* 10 */
	assert_true(virtq_should_notify(&f->vq));

	/* pop leaves avail_event alone; enable moves it to the next index we want a kick for. */
	assert_int_equal(vtest_avail_event_get(&f->g), 0);
	assert_false(virtq_notify_enable(&f->vq));
	assert_int_equal(vtest_avail_event_get(&f->g), 10);
}

/* What a driver decides after publishing avail idx new (was old): vring_need_event (virtio 1.x, 2.7.10). */
static bool driver_must_kick(struct fix *f, uint16_t old, uint16_t new)
{
	uint16_t event = vtest_avail_event_get(&f->g);

	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

/* Submit one 16-byte buffer as the driver would; returns whether it had to kick. */
static bool driver_submit(struct fix *f)
{
	uint64_t buf = vtest_alloc(&f->g, 16);
	struct vtest_seg seg = { buf, 16, false };
	uint16_t old = f->g.avail_idx;

	vtest_submit(&f->g, &seg, 1);
	return driver_must_kick(f, old, f->g.avail_idx);
}

static void test_event_idx_kicks_while_busy(void **state)
{
	struct fix *f = *state;

	/* Armed: the first buffer after an enable is kicked. */
	assert_false(virtq_notify_enable(&f->vq));
	assert_true(driver_submit(f));
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	/* The device is busy (popped, not re-armed): further buffers need no kick. */
	assert_false(driver_submit(f));
	assert_false(driver_submit(f));
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	assert_false(driver_submit(f));
	/* Unpop (back-pressure) does not re-arm either: the device resumes by itself. */
	virtq_unpop(&f->vq);
	assert_false(driver_submit(f));
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	/* About to wait: enable re-arms and reports the one still waiting, so it is not stranded. */
	assert_true(virtq_notify_enable(&f->vq));
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 0);
	assert_false(virtq_notify_enable(&f->vq));
	/* Re-armed at the new position: the next buffer is kicked again, once. */
	assert_true(driver_submit(f));
	assert_false(driver_submit(f));
}

static void test_event_idx_wrap(void **state)
{
	struct fix *f = *state;

	jump_indices(f, 0xfffd);
	vtest_used_event_set(&f->g, 0);
	push_one(f);   /* 0xfffe: first check notifies */
	assert_true(virtq_should_notify(&f->vq));
	/* Ask for entry 0x0000 (after the wrap): pushes 0xffff and 0x0000 don't reach it, 0x0001 does. */
	push_one(f);   /* used idx 0xffff */
	assert_false(virtq_should_notify(&f->vq));
	push_one(f);   /* 0x0000 */
	assert_false(virtq_should_notify(&f->vq));
	push_one(f);   /* 0x0001: entry 0 used */
	assert_true(virtq_should_notify(&f->vq));
	/* used_event 0xffff, which lies before old across the wrap: no interrupt. */
	vtest_used_event_set(&f->g, 0xffff);
	push_one(f);   /* 2 */
	assert_false(virtq_should_notify(&f->vq));
	/* A batch spanning the wrap that contains the event. */
	jump_indices(f, 0xfffe);
	vtest_used_event_set(&f->g, 0xfff0);
	push_one(f);
	assert_true(virtq_should_notify(&f->vq));   /* first check */
	vtest_used_event_set(&f->g, 0xffff);
	push_one(f);   /* 0x0000: entry 0xffff used */
	push_one(f);   /* 0x0001 */
	assert_true(virtq_should_notify(&f->vq));
}

static void test_avail_event_recheck(void **state)
{
	struct fix *f = *state;
	uint64_t buf = vtest_alloc(&f->g, 16);
	struct vtest_seg seg = { buf, 16, false };

	/* A buffer added while notifications were off is found by the re-check in enable. */
	vtest_submit(&f->g, &seg, 1);
	assert_true(virtq_notify_enable(&f->vq));
	assert_int_equal(vtest_avail_event_get(&f->g), 0);
	assert_int_equal(virtq_pop(&f->vq, &f->elem), 1);
	assert_int_equal(vtest_avail_event_get(&f->g), 0);   /* pop does not re-arm */
	assert_false(virtq_notify_enable(&f->vq));
	assert_int_equal(vtest_avail_event_get(&f->g), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_good_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_chains_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_next_and_loops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_length_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_segs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_after_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_idx_jump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_idx_exactly_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unpop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_length_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_after_direct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_hops_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_not_negotiated, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_notify_flags, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx, setup_event_idx, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_wrap, setup_event_idx, teardown),
		cmocka_unit_test_setup_teardown(test_avail_event_recheck, setup_event_idx, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_kicks_while_busy, setup_event_idx, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

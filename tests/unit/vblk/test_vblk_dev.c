/* SPDX-License-Identifier: MIT */
/* Unit tests for the virtio-blk device over a fake backend: every request type, bad requests, back-pressure, cache modes, registers. */
#include "vblk_test_util.h"

/* ---- registers, features, config ---- */

static void test_identity_and_features(void **state)
{
	(void)state;
	struct fx *f = fx_new(false);

	assert_int_equal(mmio_r32(f, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(mmio_r32(f, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(mmio_r32(f, VIRTIO_MMIO_DEVICE_ID), 2);
	assert_int_equal(mmio_r32(f, VIRTIO_MMIO_QUEUE_NUM_MAX), TQSIZE);

	uint64_t feat = offered_features(f);
	uint64_t want = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_FLUSH) |
			(1ull << VIRTIO_BLK_F_CONFIG_WCE) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
			(1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
			(1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES) |
			(1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VIRTIO_RING_F_INDIRECT_DESC);

	assert_int_equal(feat, want);
	fx_free(f);

	f = fx_new(true);
	feat = offered_features(f);
	assert_true(feat & (1ull << VIRTIO_BLK_F_RO));
	assert_false(feat & (1ull << VIRTIO_BLK_F_DISCARD));
	assert_false(feat & (1ull << VIRTIO_BLK_F_WRITE_ZEROES));
	fx_free(f);
}

static uint32_t cfg32(struct fx *f, unsigned int off)
{
	uint32_t v = 0;

	vblk_mmio_read(f->dev, VIRTIO_MMIO_CONFIG + off, &v, 4);
	return v;
}

static uint8_t cfg8(struct fx *f, unsigned int off)
{
	uint8_t v = 0xff;

	vblk_mmio_read(f->dev, VIRTIO_MMIO_CONFIG + off, &v, 1);
	return v;
}

static void test_config_space(void **state)
{
	struct fx *f = *state;
	uint64_t cap = 0;

	vblk_mmio_read(f->dev, VIRTIO_MMIO_CONFIG + VBLK_CFG_CAPACITY, &cap, 8);
	assert_int_equal(cap, TDISK / 512);
	assert_int_equal(cfg32(f, VBLK_CFG_SIZE_MAX), VBLK_SIZE_MAX);
	assert_int_equal(cfg32(f, VBLK_CFG_SEG_MAX), VBLK_SEG_MAX);
	assert_int_equal(cfg32(f, VBLK_CFG_BLK_SIZE), 512);
	assert_int_equal(cfg8(f, VBLK_CFG_WRITEBACK), 1);
	assert_int_equal(cfg32(f, VBLK_CFG_MAX_DISCARD_SECTORS), VBLK_MAX_DWZ_SECTORS);
	assert_int_equal(cfg32(f, VBLK_CFG_MAX_DISCARD_SEG), 1);
	assert_int_equal(cfg32(f, VBLK_CFG_MAX_WZ_SECTORS), VBLK_MAX_DWZ_SECTORS);
	assert_int_equal(cfg32(f, VBLK_CFG_MAX_WZ_SEG), 1);
	/* Past the config space: reads as zero, never crashes. */
	assert_int_equal(cfg32(f, VBLK_CFG_SIZE - 2), 0);
	assert_int_equal(cfg32(f, 0xfc), 0);
}

static void test_blk_size_from_image(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof(*f));
	struct blk_cache_props props = { .direct = true, .wce = true };

	assert_int_equal(vtest_guest_init(&f->g, TRAM, TQSIZE), 0);
	/* Three sectors past the last whole 4 KiB block: O_DIRECT could not write them without growing the file. */
	f->img = (struct blk_image){ .fd = -1, .size = TDISK + 3 * 512, .cache = BLK_CACHE_NONE, .logical_block = 4096,
				     .dio_mem_align = 4096, .dio_offset_align = 4096 };
	f->fb = fake_backend_new(TDISK + 3 * 512);
	struct vblk_params p = { .image = &f->img, .queue_size = TQSIZE };

	assert_int_equal(vblk_create_with_backend(&p, &f->g.mem, &props, &f->fb->be, &f->dev), 0);
	assert_int_equal(cfg32(f, VBLK_CFG_BLK_SIZE), 4096);
	assert_int_equal(cfg32(f, VBLK_CFG_DISCARD_ALIGN), 8);
	assert_int_equal(cfg32(f, VBLK_CFG_CAPACITY), TDISK / 512);
	fx_bringup(f, ALL_FEATURES);
	struct treq w = fx_submit(f, VIRTIO_BLK_T_OUT, TDISK / 512, 512);

	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	fx_expect_used(f, &w, 1, VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->fb->ncalls, 0);
	fx_free(f);
}

static void test_create_args(void **state)
{
	(void)state;
	struct vtest_guest g;
	struct blk_image img = { .fd = -1, .size = TDISK, .logical_block = 512 };
	struct blk_cache_props props = { 0 };
	struct fake_backend *fb = fake_backend_new(512);
	struct vblk_dev *dev;
	struct vblk_params p = { .image = &img, .queue_size = 12 };

	assert_int_equal(vtest_guest_init(&g, 1 << 16, 8), 0);
	assert_int_equal(vblk_create_with_backend(&p, &g.mem, &props, &fb->be, &dev), -EINVAL);
	p.queue_size = 65536;
	assert_int_equal(vblk_create_with_backend(&p, &g.mem, &props, &fb->be, &dev), -EINVAL);
	p.queue_size = 0;   /* default */
	img.size = 1000;
	assert_int_equal(vblk_create_with_backend(&p, &g.mem, &props, &fb->be, &dev), -EINVAL);
	img.size = TDISK;
	assert_int_equal(vblk_create_with_backend(&p, &g.mem, &props, &fb->be, &dev), 0);
	assert_int_equal(mmio_r32(&(struct fx){ .dev = dev }, VIRTIO_MMIO_QUEUE_NUM_MAX), VBLK_DEFAULT_QUEUE_SIZE);
	assert_true(vblk_notify_fd(dev) >= 0);
	assert_true(vblk_irq_fd(dev) >= 0);
	vblk_destroy(dev);
	vtest_guest_fini(&g);
}

static void test_queue_outside_ram_needs_reset(void **state)
{
	(void)state;
	struct fx *f = fx_new(false);

	f->g.used_gpa = VTEST_RAM_GPA + TRAM - 8;   /* used ring straddles the end of RAM */
	fx_bringup(f, ALL_FEATURES);
	assert_true(mmio_r32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(mmio_r32(f, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	/* Kicks are ignored, nothing touches the rings. */
	assert_int_equal(vblk_sched_process_queue(f->dev), 0);
	fx_free(f);
}

/* ---- request types ---- */

static void test_read(void **state)
{
	struct fx *f = *state;

	fill_disk(f);
	struct treq r = fx_submit(f, VIRTIO_BLK_T_IN, 3, 4096);

	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	assert_int_equal(f->fb->ncalls, 1);
	assert_int_equal(f->fb->calls[0].op, BLK_OP_READ);
	assert_int_equal(f->fb->calls[0].offset, 3 * 512);
	assert_int_equal(f->fb->calls[0].len, 4096);
	assert_int_equal(f->fb->kicks, 1);
	fx_expect_no_used(f);
	fx_complete_all(f);
	fx_expect_used(f, &r, 4097, VIRTIO_BLK_S_OK);
	assert_memory_equal(gp(f, r.data), f->fb->disk + 3 * 512, 4096);
	assert_true(fx_irq_fired(f));
	assert_int_equal(mmio_r32(f, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING, VIRTIO_MMIO_INT_VRING);

	struct vblk_stats s = fx_stats(f);

	assert_int_equal(s.requests, 1);
	assert_int_equal(s.reads, 1);
	assert_int_equal(s.read_bytes, 4096);
	assert_int_equal(s.errors, 0);
}

static void test_write(void **state)
{
	struct fx *f = *state;
	struct treq r = fx_submit(f, VIRTIO_BLK_T_OUT, 100, 1024);

	memset(gp(f, r.data), 0x5a, 1024);
	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	assert_int_equal(f->fb->calls[0].op, BLK_OP_WRITE);
	assert_false(f->fb->calls[0].durable);   /* writeback: the guest sees a write cache */
	fx_complete_all(f);
	fx_expect_used(f, &r, 1, VIRTIO_BLK_S_OK);
	for (int i = 0; i < 1024; i++)
		assert_int_equal(f->fb->disk[100 * 512 + i], 0x5a);
	struct vblk_stats s = fx_stats(f);

	assert_int_equal(s.writes, 1);
	assert_int_equal(s.write_bytes, 1024);
}

static void test_batch_one_kick(void **state)
{
	struct fx *f = *state;
	struct treq r[4];

	for (int i = 0; i < 4; i++)
		r[i] = fx_submit(f, VIRTIO_BLK_T_IN, (uint64_t)i * 8, 512);
	assert_int_equal(vblk_sched_process_queue(f->dev), 4);
	assert_int_equal(f->fb->ncalls, 4);
	assert_int_equal(f->fb->kicks, 1);
	fx_complete_all(f);
	for (int i = 0; i < 4; i++)
		fx_expect_used(f, &r[i], 513, VIRTIO_BLK_S_OK);
}

static void test_get_id(void **state)
{
	struct fx *f = *state;
	struct treq r = fx_submit(f, VIRTIO_BLK_T_GET_ID, 0, 20);

	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	assert_int_equal(f->fb->ncalls, 0);   /* served by the device itself */
	fx_expect_used(f, &r, 21, VIRTIO_BLK_S_OK);
	assert_memory_equal(gp(f, r.data), "vmm-serial-012345678", 20);   /* cut at 20 bytes */

	struct treq bad = fx_submit(f, VIRTIO_BLK_T_GET_ID, 0, 8);

	vblk_sched_process_queue(f->dev);
	fx_expect_used(f, &bad, 1, VIRTIO_BLK_S_IOERR);
}

static void test_discard_write_zeroes(void **state)
{
	struct fx *f = *state;

	fill_disk(f);
	struct treq d = fx_submit_dwz(f, VIRTIO_BLK_T_DISCARD, 16, 8, 0);
	struct treq z = fx_submit_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 32, 4, VIRTIO_BLK_DWZ_F_UNMAP);

	assert_int_equal(vblk_sched_process_queue(f->dev), 2);
	assert_int_equal(f->fb->ncalls, 2);
	assert_int_equal(f->fb->calls[0].op, BLK_OP_DISCARD);
	assert_int_equal(f->fb->calls[0].offset, 16 * 512);
	assert_int_equal(f->fb->calls[0].len, 8 * 512);
	assert_int_equal(f->fb->calls[1].op, BLK_OP_WRITE_ZEROES);
	assert_int_equal(f->fb->calls[1].offset, 32 * 512);
	assert_int_equal(f->fb->calls[1].len, 4 * 512);
	assert_false(f->fb->calls[0].unmap);
	assert_true(f->fb->calls[1].unmap);   /* the guest's flag reaches the backend */
	assert_int_equal(cfg8(f, VBLK_CFG_WZ_MAY_UNMAP), 1);
	fx_complete_all(f);
	fx_expect_used(f, &d, 1, VIRTIO_BLK_S_OK);
	fx_expect_used(f, &z, 1, VIRTIO_BLK_S_OK);
	for (int i = 0; i < 4 * 512; i++)
		assert_int_equal(f->fb->disk[32 * 512 + i], 0);
	struct vblk_stats s = fx_stats(f);

	assert_int_equal(s.discards, 1);
	assert_int_equal(s.write_zeroes, 1);
	assert_int_equal(s.discards_ignored, 0);
	assert_int_equal(s.zeroes_written, 0);

	/* Bad segments never reach the backend. */
	struct treq b1 = fx_submit_dwz(f, VIRTIO_BLK_T_DISCARD, 16, 8, VIRTIO_BLK_DWZ_F_UNMAP);
	struct treq b2 = fx_submit_dwz(f, VIRTIO_BLK_T_DISCARD, 16, 0, 0);
	struct treq b3 = fx_submit_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 2047, 2, 0);
	struct treq b4 = fx_submit_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 1, 0x80);
	struct treq b5 = fx_submit_dwz(f, VIRTIO_BLK_T_DISCARD, 0, VBLK_MAX_DWZ_SECTORS + 1, 0);

	assert_int_equal(vblk_sched_process_queue(f->dev), 5);
	assert_int_equal(f->fb->ncalls, 2);
	fx_expect_used(f, &b1, 1, VIRTIO_BLK_S_UNSUPP);
	fx_expect_used(f, &b2, 1, VIRTIO_BLK_S_IOERR);
	fx_expect_used(f, &b3, 1, VIRTIO_BLK_S_IOERR);
	fx_expect_used(f, &b4, 1, VIRTIO_BLK_S_UNSUPP);
	fx_expect_used(f, &b5, 1, VIRTIO_BLK_S_IOERR);

	/* A host without holes: the backend's own counts reach --stats as they complete. */
	d = fx_submit_dwz(f, VIRTIO_BLK_T_DISCARD, 16, 8, 0);
	z = fx_submit_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 32, 4, 0);
	assert_int_equal(vblk_sched_process_queue(f->dev), 2);
	f->fb->be.counters.discards_ignored = 1;
	f->fb->be.counters.zeroes_written = 1;
	fx_complete_all(f);
	fx_expect_used(f, &d, 1, VIRTIO_BLK_S_OK);
	fx_expect_used(f, &z, 1, VIRTIO_BLK_S_OK);
	s = fx_stats(f);
	assert_int_equal(s.discards, 2);
	assert_int_equal(s.discards_ignored, 1);
	assert_int_equal(s.write_zeroes, 2);
	assert_int_equal(s.zeroes_written, 1);
}

static void test_discard_not_negotiated(void **state)
{
	(void)state;
	struct fx *f = fx_new(false);

	fx_bringup(f, ~((1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES)));
	struct treq d = fx_submit_dwz(f, VIRTIO_BLK_T_DISCARD, 16, 8, 0);

	vblk_sched_process_queue(f->dev);
	assert_int_equal(f->fb->ncalls, 0);
	fx_expect_used(f, &d, 1, VIRTIO_BLK_S_UNSUPP);
	fx_free(f);
}

static void test_unknown_type(void **state)
{
	struct fx *f = *state;
	struct treq r = fx_submit(f, 0x1234, 0, 0);

	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	fx_expect_used(f, &r, 1, VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(f->fb->ncalls, 0);
	assert_int_equal(fx_stats(f).errors, 1);
}

static void test_read_only(void **state)
{
	struct fx *f = *state;
	struct treq w = fx_submit(f, VIRTIO_BLK_T_OUT, 0, 512);
	struct treq d = fx_submit_dwz(f, VIRTIO_BLK_T_DISCARD, 0, 8, 0);
	struct treq z = fx_submit_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0);
	struct treq r = fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);

	assert_int_equal(vblk_sched_process_queue(f->dev), 4);
	fx_expect_used(f, &w, 1, VIRTIO_BLK_S_IOERR);
	fx_expect_used(f, &d, 1, VIRTIO_BLK_S_UNSUPP);   /* not offered on a read-only drive */
	fx_expect_used(f, &z, 1, VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(f->fb->ncalls, 1);
	assert_int_equal(f->fb->calls[0].op, BLK_OP_READ);
	fx_complete_all(f);
	fx_expect_used(f, &r, 513, VIRTIO_BLK_S_OK);
	assert_int_equal(cfg8(f, VBLK_CFG_MAX_DISCARD_SEG), 0);
}

static void test_past_end(void **state)
{
	struct fx *f = *state;
	struct treq a = fx_submit(f, VIRTIO_BLK_T_IN, TDISK / 512, 512);
	struct treq b = fx_submit(f, VIRTIO_BLK_T_OUT, TDISK / 512 - 1, 1024);
	struct treq c = fx_submit(f, VIRTIO_BLK_T_IN, UINT64_MAX, 512);
	struct treq d = fx_submit(f, VIRTIO_BLK_T_IN, TDISK / 512 - 1, 512);   /* last sector: fine */

	assert_int_equal(vblk_sched_process_queue(f->dev), 4);
	fx_expect_used(f, &a, 1, VIRTIO_BLK_S_IOERR);
	fx_expect_used(f, &b, 1, VIRTIO_BLK_S_IOERR);
	fx_expect_used(f, &c, 1, VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->fb->ncalls, 1);
	fx_complete_all(f);
	fx_expect_used(f, &d, 513, VIRTIO_BLK_S_OK);
	assert_int_equal(fx_stats(f).errors, 3);
}

static void test_bad_requests_device_carries_on(void **state)
{
	struct fx *f = *state;

	/* Too-short header. */
	uint64_t hdr = fx_header(f, VIRTIO_BLK_T_IN, 0), st = vtest_alloc(&f->g, 1);
	struct vtest_seg s1[] = { { hdr, 8, false }, { st, 1, true } };
	struct treq r1 = { .head = vtest_submit(&f->g, s1, 2), .st = st };
	/* No status byte: nothing device-writable. */
	struct vtest_seg s2[] = { { fx_header(f, VIRTIO_BLK_T_FLUSH, 0), 16, false } };
	uint16_t h2 = vtest_submit(&f->g, s2, 1);
	/* Data length not a multiple of 512. */
	struct treq r3 = fx_submit(f, VIRTIO_BLK_T_IN, 0, 700);
	/* A chain pointing outside guest RAM. */
	struct vtest_seg s4[] = { { fx_header(f, VIRTIO_BLK_T_IN, 0), 16, false },
				  { VTEST_RAM_GPA + TRAM - 256, 512, true } };
	uint16_t h4 = vtest_submit(&f->g, s4, 2);
	/* A looping chain. */
	uint16_t h5 = f->g.next_desc;

	vtest_desc_set(&f->g, h5, hdr, 16, VIRTQ_DESC_F_NEXT, h5);
	f->g.next_desc = (uint16_t)(h5 + 1);
	vtest_avail_push(&f->g, h5);
	/* And a good one after all that. */
	struct treq ok = fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);

	assert_int_equal(vblk_sched_process_queue(f->dev), 6);
	uint32_t id, len;

	fx_expect_used(f, &r1, 1, VIRTIO_BLK_S_IOERR);
	assert_true(vtest_used_pop(&f->g, &id, &len));
	assert_int_equal(id, h2);
	assert_int_equal(len, 0);
	fx_expect_used(f, &r3, 1, VIRTIO_BLK_S_IOERR);
	assert_true(vtest_used_pop(&f->g, &id, &len));
	assert_int_equal(id, h4);
	assert_int_equal(len, 0);
	assert_true(vtest_used_pop(&f->g, &id, &len));
	assert_int_equal(id, h5);
	assert_int_equal(len, 0);
	fx_complete_all(f);
	fx_expect_used(f, &ok, 513, VIRTIO_BLK_S_OK);
	assert_int_equal(fx_stats(f).errors, 5);
}

static void test_corrupt_ring_needs_reset(void **state)
{
	struct fx *f = *state;

	vtest_avail_idx_set(&f->g, TQSIZE + 5);
	assert_int_equal(vblk_sched_process_queue(f->dev), 0);
	assert_true(mmio_r32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(fx_irq_fired(f));
	/* The driver resets and sets the device up again: it works. */
	memset(gp(f, f->g.avail_gpa), 0, 6 + 2 * TQSIZE);
	memset(gp(f, f->g.used_gpa), 0, 6 + 8 * TQSIZE);
	f->g.avail_idx = 0;
	f->g.used_seen = 0;
	fx_bringup(f, ALL_FEATURES);
	assert_false(mmio_r32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	struct treq r = fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);

	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	fx_complete_all(f);
	fx_expect_used(f, &r, 513, VIRTIO_BLK_S_OK);
}

static void test_indirect_request(void **state)
{
	struct fx *f = *state;

	fill_disk(f);
	uint64_t hdr = fx_header(f, VIRTIO_BLK_T_IN, 1);
	uint64_t d1 = vtest_alloc(&f->g, 512), d2 = vtest_alloc(&f->g, 512), st = vtest_alloc(&f->g, 1);
	struct vtest_seg segs[] = { { hdr, 16, false }, { d1, 512, true }, { d2, 512, true }, { st, 1, true } };
	struct treq r = { .st = st };

	r.head = vtest_chain_build_indirect(&f->g, segs, 4);
	vtest_avail_push(&f->g, r.head);
	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	assert_int_equal(f->fb->calls[0].iovcnt, 2);
	fx_complete_all(f);
	fx_expect_used(f, &r, 1025, VIRTIO_BLK_S_OK);
	assert_memory_equal(gp(f, d1), f->fb->disk + 512, 512);
	assert_memory_equal(gp(f, d2), f->fb->disk + 1024, 512);
}

/* ---- back-pressure and backend results ---- */

static void test_eagain_backpressure(void **state)
{
	struct fx *f = *state;
	struct treq r[5];

	f->fb->capacity = 2;
	for (int i = 0; i < 5; i++)
		r[i] = fx_submit(f, VIRTIO_BLK_T_IN, (uint64_t)i, 512);
	assert_int_equal(vblk_sched_process_queue(f->dev), 2);
	assert_int_equal(f->fb->ncalls, 2);
	assert_int_equal(f->fb->submit_attempts, 3);   /* the third was refused and un-popped */
	assert_int_equal(fx_stats(f).requests, 2);
	/* A new kick while blocked does not hammer the backend. */
	assert_int_equal(vblk_sched_process_queue(f->dev), 0);
	assert_int_equal(f->fb->submit_attempts, 3);

	/* One completion lets one more in. */
	fake_backend_finish(f->fb, 0, 512);
	assert_int_equal(vblk_sched_process_completions(f->dev), 1);
	fx_expect_used(f, &r[0], 513, VIRTIO_BLK_S_OK);
	assert_int_equal(f->fb->ncalls, 3);
	assert_int_equal(f->fb->calls[2].offset, 2 * 512);

	/* Drain the rest. */
	while (f->fb->npending > 0) {
		fake_backend_finish(f->fb, 0, 512);
		assert_true(vblk_sched_process_completions(f->dev) >= 1);
	}
	for (int i = 1; i < 5; i++)
		fx_expect_used(f, &r[i], 513, VIRTIO_BLK_S_OK);
	assert_int_equal(f->fb->ncalls, 5);
	assert_int_equal(fx_stats(f).requests, 5);
}

static void test_eagain_with_nothing_in_flight(void **state)
{
	struct fx *f = *state;

	/* A backend that says "full" while idle would never complete anything: fail the request, don't hang. */
	f->fb->fail_next_submit = -EAGAIN;
	struct treq r = fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);

	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	fx_expect_used(f, &r, 1, VIRTIO_BLK_S_IOERR);
}

/*
 * A guest that re-offers a head still in flight can have more requests out
 * than the device has slots (one per queue entry): the device stops popping,
 * leaves the rest in the avail ring, and takes one more per completion.
 */
static void test_reoffered_heads_outrun_slots(void **state)
{
	struct fx *f = *state;
	struct treq r = fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);
	unsigned int used = 0;
	uint32_t id, len;

	for (int i = 1; i < TQSIZE; i++)
		vtest_avail_push(&f->g, r.head);
	assert_int_equal(vblk_sched_process_queue(f->dev), TQSIZE);
	assert_int_equal(f->fb->npending, TQSIZE);
	/* The avail ring has room again, and the guest fills it with the same head. */
	for (int i = 0; i < TQSIZE; i++)
		vtest_avail_push(&f->g, r.head);
	assert_int_equal(vblk_sched_process_queue(f->dev), 0);
	assert_int_equal(f->fb->npending, TQSIZE);
	assert_int_equal(fx_stats(f).requests, TQSIZE);

	/* Each completion frees a slot, and the device takes the next offer at once. */
	fake_backend_finish(f->fb, 0, 512);
	assert_int_equal(vblk_sched_process_completions(f->dev), 1);
	assert_int_equal(f->fb->npending, TQSIZE);
	assert_int_equal(fx_stats(f).requests, TQSIZE + 1);
	while (f->fb->npending > 0) {
		fake_backend_finish(f->fb, 0, 512);
		assert_true(vblk_sched_process_completions(f->dev) >= 1);
		while (vtest_used_pop(&f->g, &id, &len)) {
			assert_int_equal(id, r.head);
			assert_int_equal(len, 513);
			used++;
		}
	}
	while (vtest_used_pop(&f->g, &id, &len))
		used++;
	assert_int_equal(used, 2 * TQSIZE);
	assert_int_equal(f->fb->ncalls, 2 * TQSIZE);
	assert_int_equal(fx_stats(f).requests, 2 * TQSIZE);
	assert_int_equal(fx_stats(f).errors, 0);
}

static void test_submit_error(void **state)
{
	struct fx *f = *state;

	f->fb->fail_next_submit = -ENOMEM;
	struct treq a = fx_submit(f, VIRTIO_BLK_T_OUT, 0, 512);
	struct treq b = fx_submit(f, VIRTIO_BLK_T_OUT, 1, 512);

	assert_int_equal(vblk_sched_process_queue(f->dev), 2);
	fx_expect_used(f, &a, 1, VIRTIO_BLK_S_IOERR);
	fx_complete_all(f);
	fx_expect_used(f, &b, 1, VIRTIO_BLK_S_OK);
}

static void test_host_errors(void **state)
{
	struct fx *f = *state;
	struct treq a = fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);
	struct treq b = fx_submit(f, VIRTIO_BLK_T_OUT, 1, 512);
	struct treq c = fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);
	struct treq d = fx_submit(f, VIRTIO_BLK_T_OUT, 2, 512);

	assert_int_equal(vblk_sched_process_queue(f->dev), 4);
	fake_backend_finish(f->fb, 0, -EIO);
	fake_backend_finish(f->fb, 0, -ENOSPC);
	fake_backend_finish(f->fb, 0, -EIO);
	fake_backend_finish(f->fb, 0, -ENXIO);
	assert_int_equal(vblk_sched_process_completions(f->dev), 4);
	fx_expect_used(f, &a, 1, VIRTIO_BLK_S_IOERR);
	fx_expect_used(f, &b, 1, VIRTIO_BLK_S_IOERR);
	fx_expect_used(f, &c, 1, VIRTIO_BLK_S_IOERR);
	fx_expect_used(f, &d, 1, VIRTIO_BLK_S_IOERR);
	struct vblk_stats s = fx_stats(f);

	assert_int_equal(s.errors, 4);
	assert_int_equal(s.reads, 0);
	assert_int_equal(s.writes, 0);
}

/* A write that moved some of its bytes and then failed: the error is its result (the backend resumed the rest). */
static void test_short_write_then_error(void **state)
{
	struct fx *f = *state;
	struct treq r = fx_submit(f, VIRTIO_BLK_T_OUT, 0, 4096);

	vblk_sched_process_queue(f->dev);
	fake_backend_finish(f->fb, 0, 512);
	vblk_sched_process_completions(f->dev);
	fake_backend_finish(f->fb, 0, -ENOSPC);
	vblk_sched_process_completions(f->dev);
	fx_expect_used(f, &r, 1, VIRTIO_BLK_S_IOERR);
}

static void test_out_of_order(void **state)
{
	struct fx *f = *state;

	fill_disk(f);
	struct treq r[3];

	for (int i = 0; i < 3; i++)
		r[i] = fx_submit(f, VIRTIO_BLK_T_IN, (uint64_t)i * 10, 512);
	vblk_sched_process_queue(f->dev);
	fake_backend_finish(f->fb, 2, 512);
	fake_backend_finish(f->fb, 1, 512);
	fake_backend_finish(f->fb, 0, 512);
	assert_int_equal(vblk_sched_process_completions(f->dev), 3);
	for (int i = 2; i >= 0; i--) {
		fx_expect_used(f, &r[i], 513, VIRTIO_BLK_S_OK);
		assert_memory_equal(gp(f, r[i].data), f->fb->disk + i * 10 * 512, 512);
	}
}

static void test_reset_drops_inflight(void **state)
{
	struct fx *f = *state;
	struct treq r = fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);

	vblk_sched_process_queue(f->dev);
	mmio_w32(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(mmio_r32(f, VIRTIO_MMIO_STATUS), 0);
	*gp(f, r.st) = 0xee;
	fx_complete_all(f);
	/* The result is dropped: no used entry, no status written, no interrupt. */
	fx_expect_no_used(f);
	assert_int_equal(*gp(f, r.st), 0xee);
	/* Kicks after reset and before DRIVER_OK do nothing. */
	fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);
	assert_int_equal(vblk_sched_process_queue(f->dev), 0);
}

static void test_many_requests_wrap_slots(void **state)
{
	struct fx *f = *state;

	/* More requests than queue entries, in rounds, so slots and ring indices are reused. */
	for (int round = 0; round < 5; round++) {
		struct treq r[TQSIZE / 4];

		for (unsigned int i = 0; i < TQSIZE / 4; i++)
			r[i] = fx_submit(f, VIRTIO_BLK_T_OUT, i, 512);
		assert_int_equal(vblk_sched_process_queue(f->dev), TQSIZE / 4);
		fx_complete_all(f);
		for (unsigned int i = 0; i < TQSIZE / 4; i++)
			fx_expect_used(f, &r[i], 1, VIRTIO_BLK_S_OK);
	}
	assert_int_equal(fx_stats(f).writes, 5 * TQSIZE / 4);
}

/* ---- interrupts ---- */

static void test_event_idx_suppresses_irq(void **state)
{
	struct fx *f = *state;
	struct treq r[2];

	/* Driver asks for an interrupt only once used entry 1 is written. */
	vtest_used_event_set(&f->g, 1);
	r[0] = fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);
	vblk_sched_process_queue(f->dev);
	fx_complete_all(f);
	/* First check after DRIVER_OK always interrupts. */
	assert_true(fx_irq_fired(f));
	r[1] = fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);
	vblk_sched_process_queue(f->dev);
	fx_complete_all(f);
	assert_true(fx_irq_fired(f));   /* entry 1 used now */
	vtest_used_event_set(&f->g, 5);
	struct treq r3 = fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);

	vblk_sched_process_queue(f->dev);
	fx_complete_all(f);
	assert_false(fx_irq_fired(f));   /* entry 2 used; the driver waits for 5 */
	fx_expect_used(f, &r[0], 1, VIRTIO_BLK_S_OK);
	fx_expect_used(f, &r[1], 1, VIRTIO_BLK_S_OK);
	fx_expect_used(f, &r3, 1, VIRTIO_BLK_S_OK);
	/* avail_event tells the driver to kick for the next buffer. */
	assert_int_equal(vtest_avail_event_get(&f->g), 3);
	/* Counted as sent, not as checked: three completions, two interrupts. */
	assert_int_equal(fx_stats(f).interrupts, 2);
}

static void test_no_interrupt_flag(void **state)
{
	struct fx *f = *state;

	vtest_avail_flags_set(&f->g, VIRTQ_AVAIL_F_NO_INTERRUPT);
	fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);
	vblk_sched_process_queue(f->dev);
	fx_complete_all(f);
	assert_false(fx_irq_fired(f));
	vtest_avail_flags_set(&f->g, 0);
	fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);
	vblk_sched_process_queue(f->dev);
	fx_complete_all(f);
	assert_true(fx_irq_fired(f));
	assert_int_equal(mmio_r32(f, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	mmio_w32(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(mmio_r32(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(fx_stats(f).interrupts, 1);
}

/* ---- cache modes ---- */

struct mode_case {
	enum blk_cache_mode mode;
	bool flush_sent;
	bool durable;
	uint8_t wce;
};

static void run_mode(const struct mode_case *c)
{
	struct blk_cache_props props = blk_cache_mode_props(c->mode);
	struct fx *f = fx_new_props(&props, c->mode, false);

	fx_bringup(f, ALL_FEATURES);
	assert_int_equal(cfg8(f, VBLK_CFG_WRITEBACK), c->wce);
	struct treq w = fx_submit(f, VIRTIO_BLK_T_OUT, 0, 512);
	struct treq fl = fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);

	assert_int_equal(vblk_sched_process_queue(f->dev), 2);
	assert_int_equal(f->fb->calls[0].op, BLK_OP_WRITE);
	assert_int_equal(f->fb->calls[0].durable, c->durable);
	if (c->flush_sent) {
		assert_int_equal(f->fb->ncalls, 2);
		assert_int_equal(f->fb->calls[1].op, BLK_OP_FLUSH);
		fx_expect_no_used(f);
		fx_complete_all(f);
		fx_expect_used(f, &w, 1, VIRTIO_BLK_S_OK);
		fx_expect_used(f, &fl, 1, VIRTIO_BLK_S_OK);
	} else {
		/* Completed at once, before the write it follows, with no backend call. */
		assert_int_equal(f->fb->ncalls, 1);
		fx_expect_used(f, &fl, 1, VIRTIO_BLK_S_OK);
		fx_complete_all(f);
		fx_expect_used(f, &w, 1, VIRTIO_BLK_S_OK);
	}
	struct vblk_stats s = fx_stats(f);

	assert_int_equal(s.flushes, 1);
	assert_int_equal(s.writes, 1);
	assert_int_equal(s.durable_writes, c->durable ? 1 : 0);
	assert_int_equal(s.host_flushes, c->flush_sent ? 1 : 0);
	assert_int_equal(s.flushes_skipped, c->flush_sent ? 0 : 1);
	fx_free(f);
}

static void test_cache_modes(void **state)
{
	(void)state;
	static const struct mode_case cases[] = {
		{ BLK_CACHE_WRITEBACK, true, false, 1 },
		{ BLK_CACHE_NONE, true, false, 1 },
		{ BLK_CACHE_WRITETHROUGH, true, true, 0 },
		{ BLK_CACHE_DIRECTSYNC, true, true, 0 },
		{ BLK_CACHE_UNSAFE, false, false, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_mode(&cases[i]);
}

static bool write_durable(struct fx *f)
{
	unsigned int n = f->fb->ncalls;

	fx_submit(f, VIRTIO_BLK_T_OUT, 0, 512);
	vblk_sched_process_queue(f->dev);
	assert_int_equal(f->fb->ncalls, n + 1);
	bool d = f->fb->calls[n].durable;

	fx_complete_all(f);
	return d;
}

static void set_wce(struct fx *f, uint8_t v)
{
	vblk_mmio_write(f->dev, VIRTIO_MMIO_CONFIG + VBLK_CFG_WRITEBACK, &v, 1);
}

static void test_wce_toggle(void **state)
{
	struct fx *f = *state;

	assert_false(write_durable(f));
	set_wce(f, 0);
	assert_int_equal(cfg8(f, VBLK_CFG_WRITEBACK), 0);
	assert_true(write_durable(f));
	set_wce(f, 1);
	assert_int_equal(cfg8(f, VBLK_CFG_WRITEBACK), 1);
	assert_false(write_durable(f));
	/* Writes elsewhere in config space, or of another size, change nothing. */
	uint32_t v = 0;

	vblk_mmio_write(f->dev, VIRTIO_MMIO_CONFIG + VBLK_CFG_WRITEBACK, &v, 4);
	vblk_mmio_write(f->dev, VIRTIO_MMIO_CONFIG + VBLK_CFG_CAPACITY, &v, 4);
	assert_int_equal(cfg8(f, VBLK_CFG_WRITEBACK), 1);
	assert_int_equal(cfg32(f, VBLK_CFG_CAPACITY), TDISK / 512);
	/* A reset brings back the cache mode's value. */
	set_wce(f, 0);
	mmio_w32(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(cfg8(f, VBLK_CFG_WRITEBACK), 1);
}

static void test_wce_needs_feature(void **state)
{
	(void)state;
	struct fx *f = fx_new(false);

	fx_bringup(f, ~(1ull << VIRTIO_BLK_F_CONFIG_WCE));
	set_wce(f, 0);
	assert_int_equal(cfg8(f, VBLK_CFG_WRITEBACK), 1);
	assert_false(write_durable(f));
	fx_free(f);
}

static void test_wce_on_writethrough(void **state)
{
	(void)state;
	struct blk_cache_props props = blk_cache_mode_props(BLK_CACHE_WRITETHROUGH);
	struct fx *f = fx_new_props(&props, BLK_CACHE_WRITETHROUGH, false);

	fx_bringup(f, ALL_FEATURES);
	assert_true(write_durable(f));
	set_wce(f, 1);   /* as in QEMU, the guest may turn the cache on */
	assert_false(write_durable(f));
	fx_free(f);
}

static void test_wce_off_under_unsafe(void **state)
{
	(void)state;
	struct blk_cache_props props = blk_cache_mode_props(BLK_CACHE_UNSAFE);
	struct fx *f = fx_new_props(&props, BLK_CACHE_UNSAFE, false);

	fx_bringup(f, ALL_FEATURES);
	set_wce(f, 0);
	assert_int_equal(cfg8(f, VBLK_CFG_WRITEBACK), 0);
	/* unsafe never pays for durability, whatever the guest asks. */
	assert_false(write_durable(f));
	fx_free(f);
}

/* A driver with neither FLUSH nor CONFIG_WCE never flushes: it gets durable writes, whatever the mode. */
static void test_no_flush_driver_gets_durable_writes(void **state)
{
	(void)state;
	struct fx *f = fx_new(false);

	fx_bringup(f, ~((1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_CONFIG_WCE)));
	assert_int_equal(cfg8(f, VBLK_CFG_WRITEBACK), 0);
	assert_true(write_durable(f));
	/* A reset brings back the mode's write cache for the next driver. */
	mmio_w32(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(cfg8(f, VBLK_CFG_WRITEBACK), 1);
	fx_free(f);

	/* unsafe stays unsafe: durability is what that mode gives up. */
	struct blk_cache_props props = blk_cache_mode_props(BLK_CACHE_UNSAFE);

	f = fx_new_props(&props, BLK_CACHE_UNSAFE, false);
	fx_bringup(f, ~((1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_CONFIG_WCE)));
	assert_false(write_durable(f));
	fx_free(f);
}

/*
 * CONFIG_WCE without FLUSH: the driver can read and set the cache but never
 * flush it, so `writeback` reads 0 from FEATURES_OK on (virtio 1.x, 5.2.5.2),
 * stays 0 when the driver sets it, and writes are durable.
 */
static void test_config_wce_without_flush(void **state)
{
	(void)state;
	struct fx *f = fx_new(false);
	uint64_t no_flush = ~(1ull << VIRTIO_BLK_F_FLUSH);

	fx_negotiate(f, no_flush);
	assert_int_equal(cfg8(f, VBLK_CFG_WRITEBACK), 0);   /* Linux reads it here, before DRIVER_OK */
	fx_bringup(f, no_flush);
	assert_int_equal(cfg8(f, VBLK_CFG_WRITEBACK), 0);
	set_wce(f, 1);
	assert_int_equal(cfg8(f, VBLK_CFG_WRITEBACK), 0);
	assert_true(write_durable(f));
	/* After a reset, a driver that takes FLUSH gets the mode's cache back. */
	fx_negotiate(f, ALL_FEATURES);
	assert_int_equal(cfg8(f, VBLK_CFG_WRITEBACK), 1);
	fx_free(f);
}

/* The durable flag the backend got for one request of type (DISCARD or WRITE_ZEROES). */
static bool dwz_durable(struct fx *f, uint32_t type)
{
	unsigned int n = f->fb->ncalls;

	fx_submit_dwz(f, type, 8, 8, 0);
	vblk_sched_process_queue(f->dev);
	assert_int_equal(f->fb->ncalls, n + 1);
	bool d = f->fb->calls[n].durable;

	fx_complete_all(f);
	return d;
}

/* WRITE_ZEROES writes data: without a write cache it is durable when it completes, as a write is. */
static void test_write_zeroes_durable_without_wce(void **state)
{
	(void)state;
	static const struct {
		enum blk_cache_mode mode;
		bool durable;
	} cases[] = {
		{ BLK_CACHE_WRITEBACK, false },
		{ BLK_CACHE_NONE, false },
		{ BLK_CACHE_WRITETHROUGH, true },
		{ BLK_CACHE_DIRECTSYNC, true },
		{ BLK_CACHE_UNSAFE, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct blk_cache_props props = blk_cache_mode_props(cases[i].mode);
		struct fx *f = fx_new_props(&props, cases[i].mode, false);

		fx_bringup(f, ALL_FEATURES);
		assert_int_equal(dwz_durable(f, VIRTIO_BLK_T_WRITE_ZEROES), cases[i].durable);
		assert_false(dwz_durable(f, VIRTIO_BLK_T_DISCARD));
		/* The guest's own choice counts too, except under unsafe. */
		set_wce(f, cases[i].durable ? 1 : 0);
		assert_int_equal(dwz_durable(f, VIRTIO_BLK_T_WRITE_ZEROES),
				 !cases[i].durable && cases[i].mode != BLK_CACHE_UNSAFE);
		fx_free(f);
	}
}

/* One FLUSH through the fake backend, finished with res; the status the guest saw. */
static uint8_t flush_status(struct fx *f, int res)
{
	struct treq fl = fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);

	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	assert_int_equal(f->fb->npending, 1);
	assert_non_null(fake_backend_finish(f->fb, 0, res));
	assert_true(vblk_sched_process_completions(f->dev) >= 0);
	return *gp(f, fl.st);
}

/*
 * A failed fdatasync of a buffered image may have lost dirty pages, and the
 * kernel says so once: every later FLUSH, and the flush at stop, must fail.
 */
static void test_flush_error_sticks_when_buffered(void **state)
{
	(void)state;
	struct fx *f = fx_new(false);

	fx_bringup(f, ALL_FEATURES);
	assert_int_equal(flush_status(f, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(flush_status(f, -EIO), VIRTIO_BLK_S_IOERR);
	assert_int_equal(flush_status(f, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(fx_stats(f).host_flushes, 3);
	/* Also across a reset: the host's page cache does not care about the guest's. */
	mmio_w32(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vblk_stop(f->dev), -EIO);
	fx_free(f);

	/* A flush that did not run (EAGAIN, EINTR) fails alone: it latches nothing. */
	f = fx_new(false);
	fx_bringup(f, ALL_FEATURES);
	assert_int_equal(flush_status(f, -EAGAIN), VIRTIO_BLK_S_IOERR);
	assert_int_equal(flush_status(f, -EINTR), VIRTIO_BLK_S_IOERR);
	assert_int_equal(flush_status(f, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(vblk_stop(f->dev), 0);
	fx_free(f);

	/* O_DIRECT keeps no dirty pages on the host: a later flush may really succeed. */
	struct blk_cache_props props = blk_cache_mode_props(BLK_CACHE_NONE);

	f = fx_new_props(&props, BLK_CACHE_NONE, false);
	fx_bringup(f, ALL_FEATURES);
	assert_int_equal(flush_status(f, -EIO), VIRTIO_BLK_S_IOERR);
	assert_int_equal(flush_status(f, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(vblk_stop(f->dev), 0);
	fx_free(f);
}

static void test_stop_without_thread(void **state)
{
	struct fx *f = *state;

	/* fd -1 (no image): nothing to sync, and stop is still clean. */
	assert_int_equal(vblk_stop(f->dev), 0);
	/* After stop no more requests are accepted. */
	fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);
	assert_int_equal(vblk_sched_process_queue(f->dev), 0);
	assert_int_equal(f->fb->ncalls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_and_features),
		cmocka_unit_test_setup_teardown(test_config_space, setup_rw, teardown),
		cmocka_unit_test(test_blk_size_from_image),
		cmocka_unit_test(test_create_args),
		cmocka_unit_test(test_queue_outside_ram_needs_reset),
		cmocka_unit_test_setup_teardown(test_read, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_write, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_batch_one_kick, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_get_id, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_discard_write_zeroes, setup_rw, teardown),
		cmocka_unit_test(test_discard_not_negotiated),
		cmocka_unit_test_setup_teardown(test_unknown_type, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup_ro, teardown),
		cmocka_unit_test_setup_teardown(test_past_end, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests_device_carries_on, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_ring_needs_reset, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_request, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_eagain_backpressure, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_reoffered_heads_outrun_slots, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_eagain_with_nothing_in_flight, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_submit_error, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_host_errors, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_short_write_then_error, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_reset_drops_inflight, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_many_requests_wrap_slots, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_suppresses_irq, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_no_interrupt_flag, setup_rw_no_event_idx, teardown),
		cmocka_unit_test(test_cache_modes),
		cmocka_unit_test_setup_teardown(test_wce_toggle, setup_rw, teardown),
		cmocka_unit_test(test_wce_needs_feature),
		cmocka_unit_test(test_wce_on_writethrough),
		cmocka_unit_test(test_wce_off_under_unsafe),
		cmocka_unit_test(test_config_wce_without_flush),
		cmocka_unit_test(test_no_flush_driver_gets_durable_writes),
		cmocka_unit_test(test_write_zeroes_durable_without_wce),
		cmocka_unit_test(test_flush_error_sticks_when_buffered),
		cmocka_unit_test_setup_teardown(test_stop_without_thread, setup_rw, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

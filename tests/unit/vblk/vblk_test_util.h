/* SPDX-License-Identifier: MIT */
/* Shared fixture for the virtio-blk tests: a guest (vtest_guest), a device over a fake backend, and request builders. */
#ifndef VMM_VBLK_TEST_UTIL_H
#define VMM_VBLK_TEST_UTIL_H

#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>

#include <cmocka.h>

#include "fake_backend.h"
#include "vblk_internal.h"
#include "vtest_guest.h"

#define TQSIZE 16
#define TRAM (4u << 20)
#define TDISK (1u << 20)   /* 2048 sectors */

/*
 * The device's clock in the tests (struct vblk_clock): it starts at 1 s and
 * moves on step ns at every read, so a busy-poll window or a deadline ends
 * after so many reads, however slow the machine; with step 0 it moves only
 * when a test moves it. Atomic: the I/O thread reads it.
 */
struct fake_clock {
	uint64_t now;
	uint64_t step;
};

#define FX_CLOCK_START 1000000000ull
#define FX_CLOCK_STEP 1000ull

static inline uint64_t fake_clock_read(void *ctx)
{
	struct fake_clock *c = ctx;

	/* Relaxed: the clock orders nothing; the device lock orders what the tests look at. */
	return __atomic_add_fetch(&c->now, __atomic_load_n(&c->step, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}

static inline void fake_clock_advance(struct fake_clock *c, uint64_t ns)
{
	__atomic_add_fetch(&c->now, ns, __ATOMIC_RELAXED);
}

static inline void fake_clock_step(struct fake_clock *c, uint64_t step)
{
	__atomic_store_n(&c->step, step, __ATOMIC_RELAXED);
}

struct fx {
	struct vtest_guest g;
	struct blk_image img;
	struct fake_backend *fb;
	struct vblk_dev *dev;
	struct fake_clock clock;
};

struct treq {
	uint16_t head;
	uint64_t hdr, data, st;
	uint32_t data_len;
};

static inline uint32_t mmio_r32(struct fx *f, uint64_t off)
{
	uint32_t v = 0;

	vblk_mmio_read(f->dev, off, &v, 4);
	return v;
}

static inline void mmio_w32(struct fx *f, uint64_t off, uint32_t v)
{
	vblk_mmio_write(f->dev, off, &v, 4);
}

static inline uint64_t offered_features(struct fx *f)
{
	mmio_w32(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = mmio_r32(f, VIRTIO_MMIO_DEVICE_FEATURES);

	mmio_w32(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return lo | ((uint64_t)mmio_r32(f, VIRTIO_MMIO_DEVICE_FEATURES) << 32);
}

/* The first half of the Linux driver's probe: reset, then negotiate (offered & mask) up to FEATURES_OK. */
static inline void fx_negotiate(struct fx *f, uint64_t mask)
{
	uint64_t feats = offered_features(f) & mask;

	mmio_w32(f, VIRTIO_MMIO_STATUS, 0);
	mmio_w32(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	mmio_w32(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_w32(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_w32(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feats);
	mmio_w32(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_w32(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feats >> 32));
	mmio_w32(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	assert_true(mmio_r32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
}

/* Play the Linux driver's probe: negotiate (offered & mask), set up queue 0, DRIVER_OK. */
static inline void fx_bringup(struct fx *f, uint64_t mask)
{
	fx_negotiate(f, mask);
	mmio_w32(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	mmio_w32(f, VIRTIO_MMIO_QUEUE_NUM, f->g.qsize);
	mmio_w32(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)f->g.desc_gpa);
	mmio_w32(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(f->g.desc_gpa >> 32));
	mmio_w32(f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)f->g.avail_gpa);
	mmio_w32(f, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(f->g.avail_gpa >> 32));
	mmio_w32(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)f->g.used_gpa);
	mmio_w32(f, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(f->g.used_gpa >> 32));
	mmio_w32(f, VIRTIO_MMIO_QUEUE_READY, 1);
	mmio_w32(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	assert_true(mmio_r32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK);
}

/* How long a test waits for the I/O thread before it fails (a bound on a failure, not a threshold). */
#define FX_WAIT_S 10

struct fx_wait {
	struct timespec end;   /* CLOCK_MONOTONIC */
};

static inline void fx_wait_begin(struct fx_wait *w)
{
	clock_gettime(CLOCK_MONOTONIC, &w->end);
	w->end.tv_sec += FX_WAIT_S;
}

/*
 * Let go of the device lock until something may have changed: the fake
 * backend's next call (it broadcasts at each), or a millisecond for what
 * changes elsewhere (a reset, the thread going to sleep). False once
 * FX_WAIT_S have passed.
 */
static inline bool fx_wait_more(struct fx *f, struct fx_wait *w)
{
	struct timespec now, next;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > w->end.tv_sec || (now.tv_sec == w->end.tv_sec && now.tv_nsec >= w->end.tv_nsec))
		return false;
	next = now;
	next.tv_nsec += 1000000;
	if (next.tv_nsec >= 1000000000) {
		next.tv_sec++;
		next.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&f->fb->changed, &f->dev->lock, &next);
	return true;
}

/*
 * With the device lock held: wait until cond holds (re-evaluated under the
 * lock), true; or false after FX_WAIT_S. Whether it holds never depends on
 * how fast the machine is, only when.
 */
#define FX_WAIT_LOCKED(f, cond)                                              \
	({                                                                   \
		struct fx_wait w_;                                           \
		bool ok_;                                                    \
									     \
		fx_wait_begin(&w_);                                          \
		while (!(ok_ = (cond)) && fx_wait_more((f), &w_)) {          \
		}                                                            \
		ok_;                                                         \
	})

/* The same, taking the device lock. */
#define FX_WAIT(f, cond)                                                     \
	({                                                                   \
		pthread_mutex_lock(&(f)->dev->lock);                         \
		bool r_ = FX_WAIT_LOCKED(f, cond);                           \
		pthread_mutex_unlock(&(f)->dev->lock);                       \
		r_;                                                          \
	})

/* Device over a fake backend with the given cache-mode props; the queue is not brought up. */
static inline struct fx *fx_new_props(const struct blk_cache_props *props, enum blk_cache_mode mode, bool readonly)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(vtest_guest_init(&f->g, TRAM, TQSIZE), 0);
	f->img = (struct blk_image){
		.fd = -1, .size = TDISK, .readonly = readonly, .cache = mode,
		.dio_mem_align = 1, .dio_offset_align = 1, .logical_block = 512,
	};
	f->fb = fake_backend_new(TDISK);
	assert_non_null(f->fb);
	struct vblk_params p = { .image = &f->img, .serial = "vmm-serial-0123456789", .queue_size = TQSIZE };

	assert_int_equal(vblk_create_with_backend(&p, &f->g.mem, props, &f->fb->be, &f->dev), 0);
	f->clock = (struct fake_clock){ .now = FX_CLOCK_START, .step = FX_CLOCK_STEP };
	vblk_sched_clock_set(f->dev, &(struct vblk_clock){ .now_ns = fake_clock_read, .ctx = &f->clock });
	return f;
}

static inline struct fx *fx_new(bool readonly)
{
	struct blk_cache_props props = { .direct = false, .wce = true, .flush_noop = false };

	return fx_new_props(&props, BLK_CACHE_WRITEBACK, readonly);
}

/*
 * With the device lock held: finish whatever the fake holds until nothing is
 * in flight (the I/O thread may still be submitting). False after FX_WAIT_S.
 */
static inline bool fx_drain_locked(struct fx *f)
{
	struct fx_wait w;

	fx_wait_begin(&w);
	do {
		fake_backend_finish_all(f->fb);
		if (f->dev->inflight == 0)
			return true;
	} while (fx_wait_more(f, &w));
	return false;
}

static inline void fx_free(struct fx *f)
{
	/* A stop waits for the requests in flight: a test that failed half-way may have left some. */
	if (vblk_sched_thread_running(f->dev)) {
		pthread_mutex_lock(&f->dev->lock);
		(void)fx_drain_locked(f);
		pthread_mutex_unlock(&f->dev->lock);
	}
	vblk_destroy(f->dev);
	vtest_guest_fini(&f->g);
	free(f);
}

static inline uint8_t *gp(struct fx *f, uint64_t gpa)
{
	return vtest_ptr(&f->g, gpa);
}

static inline uint64_t fx_header(struct fx *f, uint32_t type, uint64_t sector)
{
	uint64_t hdr = vtest_alloc(&f->g, 16);
	uint32_t t = htole32(type), z = 0;
	uint64_t s = htole64(sector);

	memcpy(gp(f, hdr), &t, 4);
	memcpy(gp(f, hdr) + 4, &z, 4);
	memcpy(gp(f, hdr) + 8, &s, 8);
	return hdr;
}

/*
 * Make a standard request available: header, data (data_len bytes, writable
 * for IN/GET_ID, readable otherwise; none when 0), status byte (0xee before).
 * fill, when not NULL, is copied into the data buffer before the request is
 * published: with the I/O thread running, the device may take the request
 * the moment it is in the avail ring, so a write's bytes must be there first.
 */
static inline struct treq fx_submit_filled(struct fx *f, uint32_t type, uint64_t sector, uint32_t data_len,
					   const void *fill)
{
	struct treq r = { .data_len = data_len };
	bool wr = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	struct vtest_seg segs[3];
	unsigned int n = 0;

	r.hdr = fx_header(f, type, sector);
	segs[n++] = (struct vtest_seg){ r.hdr, 16, false };
	if (data_len) {
		r.data = vtest_alloc(&f->g, data_len);
		if (fill)
			memcpy(gp(f, r.data), fill, data_len);
		segs[n++] = (struct vtest_seg){ r.data, data_len, wr };
	}
	r.st = vtest_alloc(&f->g, 1);
	*gp(f, r.st) = 0xee;
	segs[n++] = (struct vtest_seg){ r.st, 1, true };
	r.head = vtest_submit(&f->g, segs, n);
	return r;
}

static inline struct treq fx_submit(struct fx *f, uint32_t type, uint64_t sector, uint32_t data_len)
{
	return fx_submit_filled(f, type, sector, data_len, NULL);
}

/* A DISCARD / WRITE_ZEROES request with one segment. */
static inline struct treq fx_submit_dwz(struct fx *f, uint32_t type, uint64_t sector, uint32_t num, uint32_t flags)
{
	struct treq r = { 0 };
	uint64_t seg = vtest_alloc(&f->g, 16);
	uint64_t s = htole64(sector);
	uint32_t n = htole32(num), fl = htole32(flags);

	memcpy(gp(f, seg), &s, 8);
	memcpy(gp(f, seg) + 8, &n, 4);
	memcpy(gp(f, seg) + 12, &fl, 4);
	r.hdr = fx_header(f, type, 0);
	r.data = seg;
	r.st = vtest_alloc(&f->g, 1);
	*gp(f, r.st) = 0xee;
	struct vtest_seg segs[] = { { r.hdr, 16, false }, { seg, 16, false }, { r.st, 1, true } };

	r.head = vtest_submit(&f->g, segs, 3);
	return r;
}

/* Expect the next used entry to be r with used length len and status st. */
static inline void fx_expect_used(struct fx *f, const struct treq *r, uint32_t len, uint8_t st)
{
	uint32_t id, l;

	assert_true(vtest_used_pop(&f->g, &id, &l));
	assert_int_equal(id, r->head);
	assert_int_equal(l, len);
	assert_int_equal(*gp(f, r->st), st);
}

static inline void fx_expect_no_used(struct fx *f)
{
	uint32_t id, l;

	assert_false(vtest_used_pop(&f->g, &id, &l));
}

/* Whether the device signalled its irq eventfd since the last call (and drain it). */
static inline bool fx_irq_fired(struct fx *f)
{
	eventfd_t v;

	return eventfd_read(vblk_irq_fd(f->dev), &v) == 0 && v > 0;
}

/* Finish everything in the fake and let the device reap it. */
static inline void fx_complete_all(struct fx *f)
{
	fake_backend_finish_all(f->fb);
	assert_true(vblk_sched_process_completions(f->dev) >= 0);
}

static inline struct vblk_stats fx_stats(struct fx *f)
{
	struct vblk_stats s;

	vblk_get_stats(f->dev, &s);
	return s;
}

#define ALL_FEATURES (~0ull)
#define NO_EVENT_IDX (~(1ull << VIRTIO_RING_F_EVENT_IDX))

/* cmocka fixtures: a device with its queue up, read-write or read-only, with or without EVENT_IDX. */
static inline int setup_rw(void **state)
{
	struct fx *f = fx_new(false);

	fx_bringup(f, ALL_FEATURES);
	*state = f;
	return 0;
}

static inline int setup_rw_no_event_idx(void **state)
{
	struct fx *f = fx_new(false);

	fx_bringup(f, NO_EVENT_IDX);
	*state = f;
	return 0;
}

static inline int setup_ro(void **state)
{
	struct fx *f = fx_new(true);

	fx_bringup(f, ALL_FEATURES);
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	fx_free(*state);
	return 0;
}

static inline void fill_disk(struct fx *f)
{
	for (uint32_t i = 0; i < TDISK; i++)
		f->fb->disk[i] = (uint8_t)(i * 7 + (i >> 9));
}

#endif

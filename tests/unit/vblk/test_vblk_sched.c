/* SPDX-License-Identifier: MIT */
/* Unit tests for the virtio-blk scheduling over a fake backend: rounds, the I/O thread, busy-polling, parked kicks. */
#include "vblk_test_util.h"

/* ---- rounds ---- */

/* A guest that keeps the ring full of chains that end at once (buffers outside RAM), until `chains` came back. */
struct topup {
	struct fx *f;
	uint16_t chains;
	bool done;   /* atomic */
};

static void *topup_guest(void *arg)
{
	struct topup *t = arg;
	uint16_t *avail_idx = (uint16_t *)gp(t->f, t->f->g.avail_gpa + 2);
	uint16_t *used_idx = (uint16_t *)gp(t->f, t->f->g.used_gpa + 2);

	for (;;) {
		uint16_t used = le16toh(__atomic_load_n(used_idx, __ATOMIC_ACQUIRE));

		if (used >= t->chains)
			break;
		/* Every ring entry is head 0; a well-behaved driver never runs more than a ring ahead. */
		__atomic_store_n(avail_idx, htole16((uint16_t)(used + TQSIZE)), __ATOMIC_RELEASE);
	}
	__atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* However fast the guest refills, one round takes a ring's worth and lets go of the lock. */
static void test_round_capped(void **state)
{
	(void)state;
	struct fx *f = fx_new(false);
	struct topup t = { .f = f, .chains = 64 * TQSIZE };
	pthread_t th;
	unsigned int rounds = 0, total = 0;

	fx_bringup(f, ALL_FEATURES);
	vtest_desc_set(&f->g, 0, 0x10, 16, 0, 0);   /* below guest RAM: -EFAULT, pushed back with length 0 */
	assert_int_equal(pthread_create(&th, NULL, topup_guest, &t), 0);
	while (!__atomic_load_n(&t.done, __ATOMIC_ACQUIRE)) {
		int r = vblk_sched_process_queue(f->dev);

		assert_in_range(r, 0, TQSIZE);
		total += (unsigned int)r;
		rounds++;
	}
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(total >= t.chains && rounds >= t.chains / TQSIZE);
	assert_int_equal(fx_stats(f).errors, total);
	fx_free(f);
}

/* ---- the I/O thread ---- */

static void test_thread_with_fake(void **state)
{
	struct fx *f = *state;

	fill_disk(f);
	assert_int_equal(vblk_start(f->dev), 0);
	assert_int_equal(vblk_start(f->dev), -EBUSY);
	struct treq r = fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);

	/* The guest's QueueNotify write (no ioeventfd here) reaches the I/O thread. */
	mmio_w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	/* The fake completes nothing by itself; finish it from here once the thread submitted it. */
	pthread_mutex_lock(&f->dev->lock);
	assert_true(FX_WAIT_LOCKED(f, f->fb->npending == 1));
	fake_backend_finish(f->fb, 0, 512);
	pthread_mutex_unlock(&f->dev->lock);
	assert_int_equal(vblk_stop(f->dev), 0);
	fx_expect_used(f, &r, 513, VIRTIO_BLK_S_OK);
	assert_memory_equal(gp(f, r.data), f->fb->disk, 512);
}

/* Wait until a counter of the fake reaches n (FX_WAIT: it changes only in the fake's calls, under the device lock). */
static bool wait_fake(struct fx *f, const unsigned int *counter, unsigned int n)
{
	return FX_WAIT(f, *counter >= n);
}

/* Wait until the fake has n pending requests. */
static bool wait_pending(struct fx *f, unsigned int n)
{
	return wait_fake(f, &f->fb->npending, n);
}

/*
 * A kick the backend refuses (-EAGAIN) leaves the request queued in it; the
 * guest has kicked once and will not again. The I/O thread must try again by
 * itself, and the request then completes.
 */
static void test_failed_kick_retried(void **state)
{
	struct fx *f = *state;

	fill_disk(f);
	f->fb->fail_kicks = 2;
	assert_int_equal(vblk_start(f->dev), 0);
	struct treq r = fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);

	mmio_w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	/* The retries come on the thread's own wake-ups, VBLK_KICK_RETRY_NS apart on its clock. */
	assert_true(wait_fake(f, &f->fb->kicked, 1));
	/* Finished either way, so that stop (which waits for it) returns and the check below speaks. */
	pthread_mutex_lock(&f->dev->lock);
	assert_int_equal(f->fb->npending, 1);
	fake_backend_finish(f->fb, 0, 512);
	pthread_mutex_unlock(&f->dev->lock);
	assert_int_equal(vblk_stop(f->dev), 0);
	assert_int_equal(f->fb->kicked, 1);   /* handed over by a later kick of the thread's own */
	assert_true(f->fb->kicks >= 3);
	fx_expect_used(f, &r, 513, VIRTIO_BLK_S_OK);
}

static void *reset_thread(void *arg)
{
	struct fx *f = arg;

	mmio_w32(f, VIRTIO_MMIO_STATUS, 0);
	return NULL;
}

/* The same when the kick that fails is the backend's own, inside poll (a request's next step). */
static void test_failed_poll_kick_retried(void **state)
{
	struct fx *f = *state;
	unsigned int before;

	assert_int_equal(vblk_start(f->dev), 0);
	struct treq r = fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);

	mmio_w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(wait_pending(f, 1));
	pthread_mutex_lock(&f->dev->lock);
	before = f->fb->kicks;
	f->fb->poll_fails = -EAGAIN;
	fake_backend_finish(f->fb, 0, 512);
	pthread_mutex_unlock(&f->dev->lock);
	bool kicked_again = wait_fake(f, &f->fb->kicks, before + 1);

	assert_int_equal(vblk_stop(f->dev), 0);
	assert_true(kicked_again);   /* the thread kicked again by itself */
	fx_expect_used(f, &r, 513, VIRTIO_BLK_S_OK);
}

static void test_reset_with_thread_waits_for_inflight(void **state)
{
	struct fx *f = *state;
	uint64_t gen = f->dev->generation;
	pthread_t t;

	assert_int_equal(vblk_start(f->dev), 0);
	struct treq r = fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);

	assert_int_equal(eventfd_write(vblk_notify_fd(f->dev), 1), 0);
	assert_true(wait_pending(f, 1));
	/* The reset (a vCPU writing Status=0) must not return while the backend may still write guest RAM. */
	assert_int_equal(pthread_create(&t, NULL, reset_thread, f), 0);
	/*
	 * Once the reset has dropped the old generation, it lets go of the device
	 * lock only to wait for the request in flight, which only this thread
	 * can finish: from then on it cannot return. (Not checked through a
	 * register: the resetting vCPU holds the register lock.)
	 */
	assert_true(FX_WAIT(f, f->dev->generation != gen));
	assert_int_equal(pthread_tryjoin_np(t, NULL), EBUSY);
	*gp(f, r.st) = 0xee;
	pthread_mutex_lock(&f->dev->lock);
	fake_backend_finish(f->fb, 0, 512);
	pthread_mutex_unlock(&f->dev->lock);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(mmio_r32(f, VIRTIO_MMIO_STATUS), 0);
	/* The result was dropped, not pushed into the reset rings. */
	fx_expect_no_used(f);
	assert_int_equal(*gp(f, r.st), 0xee);
	assert_int_equal(vblk_stop(f->dev), 0);
}

/* ---- busy-polling ---- */

static void test_poll_window_arithmetic(void **state)
{
	(void)state;
	/* Polling off: always 0. */
	assert_int_equal(vblk_sched_poll_window_next(0, 0, 100), 0);
	assert_int_equal(vblk_sched_poll_window_next(8000, 0, 100), 0);
	/* From 0, a short wait starts the window; then it doubles up to the cap. */
	assert_int_equal(vblk_sched_poll_window_next(0, 64000, 10000), VBLK_POLL_START_NS);
	assert_int_equal(vblk_sched_poll_window_next(4000, 64000, 10000), 8000);
	assert_int_equal(vblk_sched_poll_window_next(32000, 64000, 50000), 64000);
	assert_int_equal(vblk_sched_poll_window_next(40000, 64000, 50000), 64000);
	assert_int_equal(vblk_sched_poll_window_next(64000, 64000, 64000), 64000);
	/* A cap below the start value is the most it grows to. */
	assert_int_equal(vblk_sched_poll_window_next(0, 1000, 500), 1000);
	/* Work found within the window keeps it. */
	assert_int_equal(vblk_sched_poll_window_next(16000, 64000, 3000), 16000);
	assert_int_equal(vblk_sched_poll_window_next(0, 64000, 0), 0);
	/* A wait beyond the cap halves it, and below the start it is off. */
	assert_int_equal(vblk_sched_poll_window_next(64000, 64000, 1000000), 32000);
	assert_int_equal(vblk_sched_poll_window_next(8000, 64000, 1000000), 4000);
	assert_int_equal(vblk_sched_poll_window_next(4000, 64000, 1000000), 0);
	assert_int_equal(vblk_sched_poll_window_next(0, 64000, UINT64_MAX), 0);
	/* A window above a (lowered) cap is clamped. */
	assert_int_equal(vblk_sched_poll_window_next(64000, 16000, 100), 16000);
	/* Idle: repeated long waits always reach 0, in a few steps. */
	uint64_t w = 64000;

	for (int i = 0; i < 5; i++)
		w = vblk_sched_poll_window_next(w, 64000, 10000000);
	assert_int_equal(w, 0);
}

static void test_poll_only_when_busy(void **state)
{
	struct fx *f = *state;

	/* The fixture's params leave poll_max_ns 0: the default. */
	assert_int_equal(f->dev->sched.poll_max_ns, VBLK_POLL_MAX_NS_DEFAULT);
	pthread_mutex_lock(&f->dev->lock);
	/* Idle device (nothing in flight, guest quiet): never poll. */
	assert_false(vblk_sched_poll_wanted_locked(f->dev, false));
	assert_true(vblk_sched_poll_wanted_locked(f->dev, true));
	pthread_mutex_unlock(&f->dev->lock);

	fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);
	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	pthread_mutex_lock(&f->dev->lock);
	/* A request in the backend is worth polling for. */
	assert_true(vblk_sched_poll_wanted_locked(f->dev, false));
	f->dev->sched.poll_max_ns = 0;
	assert_false(vblk_sched_poll_wanted_locked(f->dev, true));
	f->dev->sched.poll_max_ns = VBLK_POLL_MAX_NS_DEFAULT;
	pthread_mutex_unlock(&f->dev->lock);
	fx_complete_all(f);
	pthread_mutex_lock(&f->dev->lock);
	assert_false(vblk_sched_poll_wanted_locked(f->dev, false));
	pthread_mutex_unlock(&f->dev->lock);
}

static void test_poll_params(void **state)
{
	(void)state;
	struct vtest_guest g;
	struct blk_image img = {
		.fd = -1, .size = TDISK, .cache = BLK_CACHE_WRITEBACK,
		.dio_mem_align = 1, .dio_offset_align = 1, .logical_block = 512,
	};
	struct blk_cache_props props = { .wce = true };
	struct vblk_params p = { .image = &img, .queue_size = TQSIZE };
	struct vblk_dev *dev;

	assert_int_equal(vtest_guest_init(&g, TRAM, TQSIZE), 0);
	p.poll_max_ns = -1;
	assert_int_equal(vblk_dev_alloc(&p, &g.mem, &props, &dev), 0);
	assert_int_equal(dev->sched.poll_max_ns, 0);
	vblk_dev_free(dev);
	p.poll_max_ns = 20000;
	assert_int_equal(vblk_dev_alloc(&p, &g.mem, &props, &dev), 0);
	assert_int_equal(dev->sched.poll_max_ns, 20000);
	vblk_dev_free(dev);
	vtest_guest_fini(&g);
}

static void test_poll_once(void **state)
{
	struct fx *f = *state;

	pthread_mutex_lock(&f->dev->lock);
	assert_false(vblk_sched_poll_once_locked(f->dev));
	pthread_mutex_unlock(&f->dev->lock);
	/* A buffer made available without a kick is found by looking. */
	struct treq r = fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);

	pthread_mutex_lock(&f->dev->lock);
	assert_true(vblk_sched_poll_once_locked(f->dev));
	assert_int_equal(f->fb->ncalls, 1);
	/* Submitted, not finished: nothing more to find. */
	assert_false(vblk_sched_poll_once_locked(f->dev));
	fake_backend_finish(f->fb, 0, 512);
	assert_true(vblk_sched_poll_once_locked(f->dev));
	pthread_mutex_unlock(&f->dev->lock);
	fx_expect_used(f, &r, 513, VIRTIO_BLK_S_OK);
}

static void test_poll_finds_work_and_times_out(void **state)
{
	struct fx *f = *state;

	/* Nothing to do: returns after the window (1 ms of the test's clock, a thousand reads), having found nothing. */
	assert_false(vblk_sched_poll(f->dev, 1000000));
	struct treq r = fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);

	assert_true(vblk_sched_poll(f->dev, 1000000));
	assert_int_equal(f->fb->ncalls, 1);
	pthread_mutex_lock(&f->dev->lock);
	fake_backend_finish(f->fb, 0, 0);
	pthread_mutex_unlock(&f->dev->lock);
	assert_true(vblk_sched_poll(f->dev, 1000000));
	fx_expect_used(f, &r, 1, VIRTIO_BLK_S_OK);
	/* Polling never leaves the device believing it polls. */
	assert_false(f->dev->sched.polling);
}

static void test_poll_reenables_kicks(void **state)
{
	struct fx *f = *state;

	/* Without EVENT_IDX kicks are switched off by a flag while polling; a poll that times out turns them back on. */
	assert_false(vblk_sched_poll(f->dev, 10000));
	assert_int_equal(vtest_used_flags_get(&f->g) & VIRTQ_USED_F_NO_NOTIFY, 0);
	assert_false(vblk_sched_kicks_rearm(f->dev));
	/* A poll that found work leaves them off: the thread is about to poll again. */
	fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);
	assert_true(vblk_sched_poll(f->dev, 10000));
	assert_int_not_equal(vtest_used_flags_get(&f->g) & VIRTQ_USED_F_NO_NOTIFY, 0);
	/* A buffer added meanwhile (no kick: the driver saw NO_NOTIFY) is found by the re-arm before sleeping. */
	fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);
	assert_int_equal(f->fb->ncalls, 1);
	assert_true(vblk_sched_kicks_rearm(f->dev));
	assert_int_equal(f->fb->ncalls, 2);
	/* With both in the backend, that look parked kicks (off until the backend is idle)... */
	assert_int_not_equal(vtest_used_flags_get(&f->g) & VIRTQ_USED_F_NO_NOTIFY, 0);
	assert_false(vblk_sched_kicks_rearm(f->dev));
	/* ...and their completions turn them back on. */
	fx_complete_all(f);
	assert_int_equal(vtest_used_flags_get(&f->g) & VIRTQ_USED_F_NO_NOTIFY, 0);
	assert_false(vblk_sched_kicks_rearm(f->dev));   /* once */
	/* With polling off, processing with nothing left in the backend leaves them on. */
	fx_submit(f, VIRTIO_BLK_T_GET_ID, 0, 20);
	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	assert_int_equal(vtest_used_flags_get(&f->g) & VIRTQ_USED_F_NO_NOTIFY, 0);
}

/* ---- parked kicks ---- */

static void test_park_window(void **state)
{
	(void)state;
	assert_int_equal(vblk_sched_park_window(0), VBLK_PARK_MIN_NS);
	assert_int_equal(vblk_sched_park_window(8 * VBLK_PARK_MIN_NS - 8), VBLK_PARK_MIN_NS);
	assert_int_equal(vblk_sched_park_window(1000000), 125000);   /* 1/8 of 1 ms */
	assert_int_equal(vblk_sched_park_window(8 * VBLK_PARK_MAX_NS), VBLK_PARK_MAX_NS);
	assert_int_equal(vblk_sched_park_window(UINT64_MAX), VBLK_PARK_MAX_NS);
}

static void test_kicks_parked_while_backend_busy(void **state)
{
	struct fx *f = *state;
	struct treq a = fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);

	/* Into an idle backend: kicks stay on (avail_event follows the ring). */
	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	assert_int_equal(vtest_avail_event_get(&f->g), 1);
	/* The guest streams another one into the busy backend: now avail_event is left behind... */
	struct treq c = fx_submit(f, VIRTIO_BLK_T_IN, 8, 512);

	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	assert_int_equal(vtest_avail_event_get(&f->g), 1);
	/* ...so the driver does not kick for the next buffer. */
	struct treq b = fx_submit(f, VIRTIO_BLK_T_IN, 16, 512);

	assert_int_equal(f->fb->ncalls, 2);
	/* A completion wakes the device, and it looks at the ring then: b goes in without a kick. */
	pthread_mutex_lock(&f->dev->lock);
	fake_backend_finish(f->fb, 0, 512);
	pthread_mutex_unlock(&f->dev->lock);
	assert_int_equal(vblk_sched_process_completions(f->dev), 1);
	assert_int_equal(f->fb->ncalls, 3);
	assert_int_equal(vtest_avail_event_get(&f->g), 1);
	fx_expect_used(f, &a, 513, VIRTIO_BLK_S_OK);
	/* Backend idle again: kicks back on, for the next buffer the driver adds. */
	fx_complete_all(f);
	assert_int_equal(vtest_avail_event_get(&f->g), 3);
	fx_expect_used(f, &c, 513, VIRTIO_BLK_S_OK);
	fx_expect_used(f, &b, 513, VIRTIO_BLK_S_OK);
	assert_false(vblk_sched_kicks_rearm(f->dev));
}

static void test_lockstep_batch_keeps_kicks_on(void **state)
{
	struct fx *f = *state;

	/* A whole batch into an idle backend, the guest then waiting for all of it: parking would buy nothing. */
	for (int i = 0; i < 4; i++)
		fx_submit(f, VIRTIO_BLK_T_IN, (uint64_t)i * 8, 512);
	assert_int_equal(vblk_sched_process_queue(f->dev), 4);
	assert_int_equal(vtest_avail_event_get(&f->g), 4);
	assert_false(f->dev->sched.kicks_off);
	pthread_mutex_lock(&f->dev->lock);
	assert_int_equal(vblk_sched_wake_by_locked(f->dev), 0);
	pthread_mutex_unlock(&f->dev->lock);
	fx_complete_all(f);
}

static void test_park_follows_streaming(void **state)
{
	struct fx *f = *state;

	fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);
	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	assert_false(f->dev->sched.kicks_off);
	/* Into the busy backend: the guest streams, kicks parked. */
	fx_submit(f, VIRTIO_BLK_T_IN, 8, 512);
	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	assert_true(f->dev->sched.kicks_off);
	assert_int_equal(vtest_avail_event_get(&f->g), 1);
	/* The backend empties: kicks on... */
	fx_complete_all(f);
	assert_false(f->dev->sched.kicks_off);
	assert_int_equal(vtest_avail_event_get(&f->g), 2);
	/* ...but the guest still streams: its next request, into the idle backend, parks them again. */
	fx_submit(f, VIRTIO_BLK_T_IN, 16, 512);
	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	assert_true(f->dev->sched.kicks_off);
	assert_int_equal(vtest_avail_event_get(&f->g), 2);
	/* The window runs out with nothing new: the guest stopped streaming, kicks on. */
	pthread_mutex_lock(&f->dev->lock);
	assert_int_equal(vblk_sched_park_expired_locked(f->dev), 0);
	pthread_mutex_unlock(&f->dev->lock);
	assert_false(f->dev->sched.kicks_off);
	assert_int_equal(f->dev->sched.parked_until_ns, 0);
	assert_int_equal(vtest_avail_event_get(&f->g), 3);
	/* A window that finds a new request keeps them parked. */
	fx_submit(f, VIRTIO_BLK_T_IN, 24, 512);
	assert_int_equal(vblk_sched_process_queue(f->dev), 1);
	assert_true(f->dev->sched.kicks_off);
	fx_submit(f, VIRTIO_BLK_T_IN, 32, 512);
	pthread_mutex_lock(&f->dev->lock);
	assert_int_equal(vblk_sched_park_expired_locked(f->dev), 1);
	pthread_mutex_unlock(&f->dev->lock);
	assert_true(f->dev->sched.kicks_off);
	assert_int_not_equal(f->dev->sched.parked_until_ns, 0);
	fx_complete_all(f);
	assert_false(f->dev->sched.kicks_off);
}

static void test_parked_kicks_time_out(void **state)
{
	struct fx *f = *state;
	uint64_t until;

	/* Requests that never complete (a slow FLUSH, say) must not hold up the next one for ever. */
	f->dev->sched.poll_max_ns = 0;   /* no busy-poll to find it instead */
	f->dev->sched.lat_ns = 8 * VBLK_PARK_MAX_NS;   /* the longest window: the thread wakes every 10 ms meanwhile */
	fake_clock_step(&f->clock, 0);   /* the window runs out only when the test says */
	assert_int_equal(vblk_start(f->dev), 0);
	/* A kicked request into the idle backend: kicks stay on. Another into the busy one: the guest streams. */
	fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);
	mmio_w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(wait_pending(f, 1));
	fx_submit(f, VIRTIO_BLK_T_FLUSH, 0, 0);
	mmio_w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(wait_pending(f, 2));
	pthread_mutex_lock(&f->dev->lock);
	assert_true(f->dev->sched.kicks_off);
	until = f->dev->sched.parked_until_ns;
	assert_int_not_equal(until, 0);
	/* Kicks are parked: a request made available without one, as a driver honouring avail_event would. */
	fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);
	pthread_mutex_unlock(&f->dev->lock);
	/* The window runs out with the FLUSHes still in the backend: the thread wakes by itself and looks. */
	fake_clock_advance(&f->clock, until - __atomic_load_n(&f->clock.now, __ATOMIC_RELAXED));
	assert_true(wait_pending(f, 3));
	/* Drain before stopping (a stop waits for requests in the backend). */
	pthread_mutex_lock(&f->dev->lock);
	assert_true(fx_drain_locked(f));
	pthread_mutex_unlock(&f->dev->lock);
	assert_int_equal(vblk_stop(f->dev), 0);
	assert_int_equal(fx_stats(f).requests, 3);
	assert_int_equal(fx_stats(f).kicks, 3);   /* DRIVER_OK's and the two FLUSHes': the IN came without one */
}

static void test_poll_idle_thread_sleeps(void **state)
{
	struct fx *f = *state;

	fill_disk(f);
	assert_int_equal(vblk_start(f->dev), 0);
	struct treq r = fx_submit(f, VIRTIO_BLK_T_IN, 0, 512);

	mmio_w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(wait_pending(f, 1));
	pthread_mutex_lock(&f->dev->lock);
	fake_backend_finish(f->fb, 0, 512);
	/* The thread reaps it by polling or on the eventfd; either way the guest sees it. */
	assert_true(FX_WAIT_LOCKED(f, f->dev->inflight == 0));
	/*
	 * Now idle: after at most one busy-poll window (so many reads of the
	 * test's clock) the thread sleeps with no deadline, which only an event
	 * ends: it burns no CPU.
	 */
	assert_true(FX_WAIT_LOCKED(f, f->dev->sched.sleeping));
	assert_int_equal(vblk_sched_wake_by_locked(f->dev), 0);
	assert_int_equal(f->dev->be_inflight, 0);
	pthread_mutex_unlock(&f->dev->lock);
	fx_expect_used(f, &r, 513, VIRTIO_BLK_S_OK);
	assert_int_equal(vblk_stop(f->dev), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_capped),
		cmocka_unit_test_setup_teardown(test_thread_with_fake, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_failed_kick_retried, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_failed_poll_kick_retried, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_reset_with_thread_waits_for_inflight, setup_rw, teardown),
		cmocka_unit_test(test_poll_window_arithmetic),
		cmocka_unit_test_setup_teardown(test_poll_only_when_busy, setup_rw, teardown),
		cmocka_unit_test(test_poll_params),
		cmocka_unit_test_setup_teardown(test_poll_once, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_poll_finds_work_and_times_out, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_poll_reenables_kicks, setup_rw_no_event_idx, teardown),
		cmocka_unit_test_setup_teardown(test_poll_idle_thread_sleeps, setup_rw, teardown),
		cmocka_unit_test(test_park_window),
		cmocka_unit_test_setup_teardown(test_lockstep_batch_keeps_kicks_on, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_park_follows_streaming, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_kicks_parked_while_backend_busy, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_parked_kicks_time_out, setup_rw, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

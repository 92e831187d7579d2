/* SPDX-License-Identifier: MIT */
/* The virtio-blk scheduling policy: processing rounds, guest kicks on, off or parked, busy-polling, and the clock it all reads. */
#include <time.h>

#include "vblk_internal.h"

static uint64_t clock_monotonic_ns(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	/* A vDSO read with a TSC clocksource; a syscall otherwise (see vblk_sched_poll). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vblk_sched_init(struct vblk_sched *s, uint64_t poll_max_ns)
{
	*s = (struct vblk_sched){
		.clock = { .now_ns = clock_monotonic_ns },
		.poll_max_ns = poll_max_ns,
		.epoll_fd = -1,
		.stop_fd = -1,
	};
}

void vblk_sched_clock_set(struct vblk_dev *dev, const struct vblk_clock *clock)
{
	dev->sched.clock = *clock;
}

uint64_t vblk_sched_clock(struct vblk_dev *dev)
{
	return dev->sched.clock.now_ns(dev->sched.clock.ctx);
}

uint64_t vblk_sched_now_locked(struct vblk_dev *dev)
{
	struct vblk_sched *s = &dev->sched;

	if (!s->now_ns)
		s->now_ns = vblk_sched_clock(dev);
	return s->now_ns;
}

void vblk_sched_backend_done_locked(struct vblk_dev *dev, uint64_t submit_ns)
{
	struct vblk_sched *s = &dev->sched;

	/* Into the moving average (weight 1/8) that sizes the park window. */
	s->lat_ns += ((int64_t)(vblk_sched_now_locked(dev) - submit_ns) - (int64_t)s->lat_ns) / 8;
}

void vblk_sched_reset_locked(struct vblk_dev *dev)
{
	struct vblk_sched *s = &dev->sched;

	while (s->thread_running && dev->inflight > 0)
		pthread_cond_wait(&dev->idle, &dev->lock);
	s->kicks_off = false;   /* the rings they concerned are gone */
	s->parked_until_ns = 0;
	s->streaming = false;
}

int vblk_sched_backend_kick_locked(struct vblk_dev *dev)
{
	int r = blk_backend_kick(dev->be);

	dev->sched.kick_owed = r < 0;
	return r;
}

uint64_t vblk_sched_park_window(uint64_t lat_ns)
{
	uint64_t w = lat_ns / 8;

	return w < VBLK_PARK_MIN_NS ? VBLK_PARK_MIN_NS : w > VBLK_PARK_MAX_NS ? VBLK_PARK_MAX_NS : w;
}

/*
 * The ring ran dry while the guest streams (it adds requests to a busy
 * backend): leave guest kicks off ("parked") and look at the ring whenever a
 * completion wakes the thread, or the park window ends
 * (vblk_sched_wake_by_locked), which bounds the wait behind a slow request.
 * Each kick costs the guest a VM exit, dear under nested virtualization. A
 * guest in lock-step (it fills the queue, then waits for all of it) does not
 * stream, and keeps its kicks. docs/benchmarks.md ("Parked kicks") has the
 * reasoning and what each rule was measured to do. True when kicks are parked.
 */
static bool park_kicks(struct vblk_dev *dev)
{
	struct vblk_sched *s = &dev->sched;

	if (!s->streaming || dev->be_inflight == 0)
		return false;
	s->parked_until_ns = vblk_sched_now_locked(dev) + vblk_sched_park_window(s->lat_ns);
	virtq_notify_disable(&dev->vq);   /* without EVENT_IDX; with it, avail_event simply stays behind */
	s->kicks_off = true;
	return true;
}

/*
 * The ring ran dry in a round (streamed: the round added requests to a busy
 * backend). Guest kicks stay off while the thread busy-polls (the poll loop
 * looks at the ring itself, and re-enables and re-checks before the thread
 * may sleep) and while they are parked. Else they go back on, and the ring is
 * checked once more so a buffer added meanwhile is not stranded. True when
 * that check found one: the round goes on.
 */
static bool ring_dry_locked(struct vblk_dev *dev, bool streamed)
{
	struct vblk_sched *s = &dev->sched;

	if (streamed)
		s->streaming = true;
	if (s->polling || park_kicks(dev))
		return false;
	s->kicks_off = false;
	s->parked_until_ns = 0;
	return virtq_notify_enable(&dev->vq);
}

/* A round, within the current reading of the clock (s->now_ns stays): see vblk_sched_process_queue. */
static int round_locked(struct vblk_dev *dev)
{
	bool was_busy = dev->be_inflight > 0, need_kick = false;
	unsigned int popped = 0;
	int ret;

	if (!vblk_dev_may_pop(dev))
		return 0;
	for (;;) {
		/*
		 * Requests that end at once (malformed, GET_ID, unsafe FLUSH) free
		 * their slot again, so a guest that keeps the ring topped up could
		 * hold the round, and the lock the vCPUs' reset needs, for as long as
		 * it likes. A round takes at most a ring's worth; the I/O thread
		 * comes straight back for the rest (round_capped).
		 */
		struct vblk_round rd = vblk_dev_pop_locked(dev, dev->vq.size - popped);

		popped += rd.popped;
		need_kick = need_kick || rd.need_kick;
		if (rd.capped)
			dev->sched.round_capped = true;
		if (!rd.dry || !ring_dry_locked(dev, was_busy && popped > 0))
			break;
	}
	ret = (int)popped;
	if (need_kick) {
		/* One kick for the whole batch (and a full backend needs its queue handed over to drain). */
		int r = vblk_sched_backend_kick_locked(dev);

		if (r < 0)
			ret = r;
	}
	vblk_dev_interrupt_locked(dev);
	return ret;
}

int vblk_sched_queue_locked(struct vblk_dev *dev)
{
	dev->sched.now_ns = 0;
	return round_locked(dev);
}

int vblk_sched_process_queue(struct vblk_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	int r = vblk_sched_queue_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	return r;
}

/*
 * Kicks back on if a poll left them off, and look once more (the enable
 * orders its store before that look): a buffer the guest added while kicks
 * were off would otherwise wait for a kick that never comes. True when that
 * look found work (and did it).
 */
static bool kicks_rearm_locked(struct vblk_dev *dev)
{
	struct vblk_sched *s = &dev->sched;

	if (!s->kicks_off || (s->parked_until_ns && dev->be_inflight > 0))
		return false;
	s->kicks_off = false;
	s->parked_until_ns = 0;
	return vblk_dev_ring_ready(dev) && virtq_notify_enable(&dev->vq) && vblk_sched_queue_locked(dev) > 0;
}

int vblk_sched_completions_locked(struct vblk_dev *dev)
{
	struct vblk_sched *s = &dev->sched;
	int n;

	s->now_ns = 0;
	n = blk_backend_poll(dev->be);
	/* poll queues a request's next step (a short transfer's rest, a WRITE_ZEROES step) and kicks it itself. */
	if (n < 0)
		s->kick_owed = true;
	vblk_dev_interrupt_locked(dev);
	if (vblk_dev_resume_due_locked(dev)) {
		round_locked(dev);
	} else if (s->parked_until_ns) {
		/* Kicks are parked: the guest did not announce what it added meanwhile. */
		if (dev->be_inflight == 0)
			kicks_rearm_locked(dev);
		else if (vblk_dev_ring_ready(dev) && virtq_has_avail(&dev->vq))
			round_locked(dev);
	}
	return n;
}

int vblk_sched_process_completions(struct vblk_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	int r = vblk_sched_completions_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	return r;
}

bool vblk_sched_kicks_rearm(struct vblk_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	bool found = kicks_rearm_locked(dev);

	pthread_mutex_unlock(&dev->lock);
	return found;
}

int vblk_sched_park_expired_locked(struct vblk_dev *dev)
{
	/*
	 * A look that finds new requests parks again; one that finds none
	 * means the guest no longer streams, and kicks go back on. One that
	 * cannot run (backend full, broken ring) must not leave an expired
	 * deadline behind, or the thread's wait would return at once for ever:
	 * the re-arm before sleeping then turns kicks back on instead.
	 */
	dev->sched.parked_until_ns = 0;
	dev->sched.streaming = false;
	return vblk_sched_queue_locked(dev);
}

uint64_t vblk_sched_wake_by_locked(struct vblk_dev *dev)
{
	uint64_t t = dev->sched.parked_until_ns;

	if (dev->sched.kick_owed) {
		uint64_t retry = vblk_sched_clock(dev) + VBLK_KICK_RETRY_NS;

		if (!t || retry < t)
			t = retry;
	}
	return t;
}

/* ---- busy-polling ---- */

uint64_t vblk_sched_poll_window_next(uint64_t cur, uint64_t max, uint64_t waited_ns)
{
	if (max == 0)
		return 0;
	if (cur > max)
		cur = max;
	if (waited_ns <= cur)
		return cur;
	if (waited_ns > max) {
		cur /= 2;
		return cur < VBLK_POLL_START_NS ? 0 : cur;
	}
	if (cur < VBLK_POLL_START_NS)
		return max < VBLK_POLL_START_NS ? max : VBLK_POLL_START_NS;
	return cur > max / 2 ? max : cur * 2;
}

bool vblk_sched_poll_wanted_locked(const struct vblk_dev *dev, bool guest_recent)
{
	if (!dev->sched.poll_max_ns || !vblk_dev_serving(dev))
		return false;
	return dev->be_inflight > 0 || guest_recent;
}

bool vblk_sched_poll_once_locked(struct vblk_dev *dev)
{
	bool found = false;

	/* A backend error is not work: treating it as such would spin for ever. */
	if (dev->be_inflight > 0 && blk_backend_poll_events(dev->be) > 0 && vblk_sched_completions_locked(dev) > 0)
		found = true;
	if (vblk_dev_may_pop(dev) && virtq_has_avail(&dev->vq) && vblk_sched_queue_locked(dev) > 0)
		found = true;
	return found;
}

static void cpu_relax(void)
{
	/* Tells the core we are spinning: saves power and yields to a hyperthread sibling. */
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

bool vblk_sched_poll(struct vblk_dev *dev, uint64_t window_ns)
{
	struct vblk_sched *s = &dev->sched;
	uint64_t deadline = vblk_sched_clock(dev) + window_ns;
	bool found = false;

	pthread_mutex_lock(&dev->lock);
	/*
	 * Guest kicks off while we watch the ring ourselves: each would only
	 * cost the guest an exit and us a stale eventfd. (Under EVENT_IDX they
	 * are off already: avail_event stays where the last enable put it.)
	 */
	if (dev->active)
		virtq_notify_disable(&dev->vq);
	s->polling = true;
	for (unsigned int looks = 1;; looks++) {
		if (!vblk_sched_poll_wanted_locked(dev, true))
			break;
		found = vblk_sched_poll_once_locked(dev);
		if (found)
			break;
		/* Dropped between looks so vCPU threads (register accesses, reset) are not held off. */
		pthread_mutex_unlock(&dev->lock);
		/*
		 * The clock only every VBLK_POLL_CLOCK_EVERY looks: where the
		 * clocksource is not the TSC (HPET in a nested or emulated host),
		 * each read is a syscall and an emulated device access, and reading
		 * it per look made polling cost more than it saved.
		 */
		bool expired = looks % VBLK_POLL_CLOCK_EVERY == 0 && vblk_sched_clock(dev) >= deadline;

		if (!expired)
			cpu_relax();
		pthread_mutex_lock(&dev->lock);
		if (expired)
			break;
	}
	s->polling = false;
	/*
	 * Work found: the thread will most likely poll again straight away, so
	 * kicks stay off (re-arming them here made the guest kick for every
	 * request of a QD1 stream the thread was polling for anyway). Otherwise
	 * the thread may sleep: kicks back on now.
	 */
	s->kicks_off = true;
	if (!found)
		found = kicks_rearm_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	return found;
}

/* SPDX-License-Identifier: MIT */
/* The virtio-blk I/O thread's scheduling (when to look, poll, park kicks, sleep) and the interface between it and the device model. */
#ifndef VMM_VBLK_SCHED_H
#define VMM_VBLK_SCHED_H

#ifndef VMM_MODULE_VBLK
#error "vblk_sched.h is private to src/devices/virtio-blk: include virtio_blk.h"
#endif

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vblk_dev;

/*
 * The device has two rooms. The device model (vblk_dev.c, vblk_queue.c,
 * vblk_req.c) owns what the guest sees: registers and config space, the
 * virtqueue, request slots, the backend's requests, completions, interrupts
 * and stats. The scheduler (vblk_sched.c: rounds, guest kicks, parking,
 * busy-polling; vblk_thread.c: the epoll thread) owns time: when to look at
 * the ring and the backend, when guest kicks are on, when to sleep. It keeps
 * its state in struct vblk_sched, which the model never reads.
 *
 * The scheduler calls the model (vblk_internal.h), under dev->lock:
 *   vblk_dev_pop_locked        pop and start chains, up to a budget; says why it stopped
 *   vblk_dev_interrupt_locked  interrupt the guest if it wants one for what was used
 *   vblk_dev_resume_due_locked chains left in the ring by back-pressure may go now
 * and drives the backend's kick, poll, poll_events and event_fd itself (the
 * model only submits). It reads dev->active, stopping, blocked, vq,
 * be_inflight and inflight; of the model's state it changes only the guest's
 * notification setting on dev->vq (virtq_notify_enable/disable) and the
 * kicks counter of dev->stats (it reads the notify eventfd).
 *
 * The model calls the scheduler (below):
 *   vblk_sched_now_locked           the round's clock, for a request's submit time
 *   vblk_sched_backend_done_locked  a request came back: its latency sizes the park window
 *   vblk_sched_reset_locked         the guest reset the device
 *   vblk_sched_thread_start, _running, _stop   the thread, for vblk_start, vblk_stop, vblk_destroy
 *
 * Unless it says it takes it, everything below runs with dev->lock held.
 */

/* Where the scheduler reads the time: CLOCK_MONOTONIC unless a test injects another. */
struct vblk_clock {
	uint64_t (*now_ns)(void *ctx);   /* ns, never 0, never going back */
	void *ctx;
};

struct vblk_sched {
	struct vblk_clock clock;
	uint64_t now_ns;            /* the clock, read once per processing round; 0: not read in this round */
	uint64_t poll_max_ns;       /* cap of the busy-poll window; 0: never poll */
	bool polling;               /* the thread is busy-polling: leave guest kicks off when the ring runs dry */
	bool kicks_off;             /* guest kicks left off (a poll found work, or kicks are parked): rearm before sleeping */
	uint64_t parked_until_ns;   /* kicks parked while the backend is busy, until then at most; 0: not parked */
	bool streaming;             /* the guest adds requests to a busy backend: park kicks */
	uint64_t lat_ns;            /* moving average of the backend's latency, ns */
	bool kick_owed;             /* the last backend kick failed: the thread retries it */
	bool round_capped;          /* a round stopped at a ring's worth of requests: go again before sleeping */
	/* The I/O thread (vblk_thread.c). */
	bool thread_running;
	bool sleeping;              /* the thread waits for an event with no deadline: nothing else wakes it */
	pthread_t thread;
	int epoll_fd;
	int stop_fd;
	int (*thread_enter)(void *ctx);   /* vblk_params' hook, first thing on the thread; or NULL */
	void *thread_enter_ctx;
};

/* A failed backend kick is tried again after this long. */
#define VBLK_KICK_RETRY_NS (1000 * 1000ull)

/* Set s up for a device whose poll cap is poll_max_ns (0: never poll), on CLOCK_MONOTONIC. No thread yet. */
void vblk_sched_init(struct vblk_sched *s, uint64_t poll_max_ns);

/* Read the time from clock from now on (tests inject a fake); only before the I/O thread starts. */
void vblk_sched_clock_set(struct vblk_dev *dev, const struct vblk_clock *clock);

/* Read the time on dev's clock (no lock: the clock does not change while the thread runs). */
uint64_t vblk_sched_clock(struct vblk_dev *dev);

/* ---- called by the device model ---- */

/* The clock, read at most once per processing round: each read may be a syscall (HPET). */
uint64_t vblk_sched_now_locked(struct vblk_dev *dev);

/* A request submitted at submit_ns came back from the backend (reaped, dropped or not). */
void vblk_sched_backend_done_locked(struct vblk_dev *dev, uint64_t submit_ns);

/*
 * The guest reset the device; the model has marked what was popped before as
 * stale. Returns once no such request can still complete into guest RAM,
 * which the driver reuses after a reset: with the I/O thread running, once
 * it has reaped them all (dev->lock is let go meanwhile); without it (unit
 * tests, the fuzz target) at once, as nobody else would reap them. Forgets
 * the guest-kick state of the old rings.
 */
void vblk_sched_reset_locked(struct vblk_dev *dev);

/* ---- the processing rounds: what the I/O thread does; tests and the fuzz target call them directly ---- */

/*
 * On a guest kick (takes dev->lock): a round. Pop and start every available
 * request (at most a ring's worth), put guest kicks back on or leave them off
 * when the ring runs dry (busy-polling, parking), one backend kick for the
 * batch, then interrupt the guest if it wants one. Count of chains popped, or
 * -errno from the backend kick (the thread retries it: vblk_sched_wake_by_locked).
 */
int vblk_sched_process_queue(struct vblk_dev *dev);

/*
 * On the backend's eventfd (takes dev->lock): reap completions, interrupt the
 * guest if it wants one, then go on with a queue that back-pressure stopped,
 * or look at the ring for what parked kicks did not announce. Count of
 * completions reaped, or -errno from the backend poll (its kick of a
 * request's next step failed: the thread retries it).
 */
int vblk_sched_process_completions(struct vblk_dev *dev);

/* The same two, with dev->lock held; each reads the clock afresh (vblk_sched_now_locked). */
int vblk_sched_queue_locked(struct vblk_dev *dev);
int vblk_sched_completions_locked(struct vblk_dev *dev);

/*
 * Hand the backend's queued requests to the host. 0 or -errno. A kick that
 * fails (an io_uring_submit that the kernel, short of memory, answers with
 * -EAGAIN) leaves them queued, and no guest kick need ever come for them: the
 * I/O thread tries again within VBLK_KICK_RETRY_NS (vblk_sched_wake_by_locked)
 * until one goes.
 */
int vblk_sched_backend_kick_locked(struct vblk_dev *dev);

/* ---- parked kicks ---- */

/*
 * Kicks parked while the guest streams into a busy backend: for at most 1/8 of
 * the backend's average latency, within [VBLK_PARK_MIN_NS, VBLK_PARK_MAX_NS].
 */
#define VBLK_PARK_MIN_NS 50000
#define VBLK_PARK_MAX_NS 10000000
/* How long kicks may stay parked for a backend latency of lat_ns. Pure. */
uint64_t vblk_sched_park_window(uint64_t lat_ns);

/*
 * The park window ran out with no completion meanwhile (the thread calls
 * this): the guest may have stopped streaming; look at the ring. Requests
 * popped, or -errno as vblk_sched_process_queue.
 */
int vblk_sched_park_expired_locked(struct vblk_dev *dev);

/*
 * Before sleeping (takes dev->lock): if guest kicks were left off, turn them
 * back on and look at the ring once more, processing what a suppressed kick
 * would have announced. True when that found work. Parked kicks stay off
 * while requests are in the backend: their completions wake the thread, and
 * so does the end of the park window (vblk_sched_wake_by_locked); it looks then.
 */
bool vblk_sched_kicks_rearm(struct vblk_dev *dev);

/*
 * When the I/O thread must wake even if no event comes (clock ns): the end
 * of the park window, or the retry of a failed backend kick, whichever is
 * first; 0: never.
 */
uint64_t vblk_sched_wake_by_locked(struct vblk_dev *dev);

/* ---- busy-polling ---- */

/* The busy-poll window starts here when it first grows, and drops to 0 below it. */
#define VBLK_POLL_START_NS 4000
/* Poll looks between clock reads (a look plus a pause is well under 1 us). */
#define VBLK_POLL_CLOCK_EVERY 32

/*
 * The I/O thread's next busy-poll window (ns), as QEMU adapts its IOThreads'
 * poll-max-ns: cur is the window the last wait began with, waited_ns how long
 * that wait lasted until work arrived (polling included). Work that came
 * within the window keeps it; work that came after it but within max means a
 * longer window would have caught it: grow (from 0 to VBLK_POLL_START_NS,
 * then doubling, capped at max); work that came after max means polling
 * would have burnt the CPU for nothing: halve, to 0 below VBLK_POLL_START_NS.
 * Never above max; always 0 when max is 0. Pure.
 */
uint64_t vblk_sched_poll_window_next(uint64_t cur, uint64_t max, uint64_t waited_ns);

/*
 * Whether the I/O thread should busy-poll now: polling is configured, the
 * device is serving, and there is work to wait for (requests in the backend)
 * or the guest was active just now (guest_recent). An idle device sleeps.
 */
bool vblk_sched_poll_wanted_locked(const struct vblk_dev *dev, bool guest_recent);

/*
 * One busy-poll look without sleeping: reap what the backend finished, if
 * requests are in it, and pop what the guest made available. True when it
 * did any of that. What the I/O thread repeats while its window lasts.
 */
bool vblk_sched_poll_once_locked(struct vblk_dev *dev);

/*
 * Busy-poll for up to window_ns (takes dev->lock): vblk_sched_poll_once_locked
 * until it finds work, the window ends, or polling is no longer wanted. Guest
 * kicks are off meanwhile. True when work was found (and done): kicks are
 * then left off, as the thread is likely to poll again at once, and the
 * caller must call vblk_sched_kicks_rearm before it sleeps. False: kicks are
 * back on (or parked), the ring was re-checked after that, and the caller
 * may sleep on the notify eventfd.
 */
bool vblk_sched_poll(struct vblk_dev *dev, uint64_t window_ns);

/* ---- the I/O thread (vblk_thread.c) ---- */

/* Start the I/O thread (vblk_start). 0, -EBUSY when it runs already, or -errno. */
int vblk_sched_thread_start(struct vblk_dev *dev);

/* Whether the I/O thread runs (takes dev->lock). */
bool vblk_sched_thread_running(struct vblk_dev *dev);

/*
 * Let the I/O thread finish what is in flight, then join it (vblk_stop,
 * after it has told the model to pop nothing more). Nothing without a thread.
 */
void vblk_sched_thread_stop(struct vblk_dev *dev);

#endif

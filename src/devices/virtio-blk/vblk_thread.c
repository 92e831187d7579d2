/* SPDX-License-Identifier: MIT */
/* The virtio-blk I/O thread: waits on the guest's kicks, the backend and stop in one epoll set, and runs the scheduler's rounds. */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vblk_internal.h"

enum { EV_NOTIFY = 1, EV_BACKEND, EV_STOP };

/* What the thread carries from one wake-up to the next. */
struct io_state {
	uint64_t window;      /* busy-poll window for the next wait, ns (adaptive, <= poll_max_ns) */
	uint64_t wait_start;  /* when the current wait for work began; 0: none begun */
	bool worked;          /* the last round did work for the guest */
	bool again;           /* the last round stopped at its cap with more in the ring */
	bool stop;            /* vblk_stop asked the thread to end (once in flight is done) */
};

/* What woke the thread this time. */
struct io_wake {
	bool notify;          /* the guest kicked (or a capped round left more in the ring) */
	bool comp;            /* the backend has completions */
	bool found;           /* a busy-poll or the re-arm before sleeping found work, and did it */
};

/*
 * Sleep until an event, or until parked kicks or a failed backend kick are
 * due (vblk_sched_wake_by_locked). epoll_wait's result.
 */
static int io_sleep(struct vblk_dev *dev, struct epoll_event *evs, int max)
{
	struct vblk_sched *s = &dev->sched;

	pthread_mutex_lock(&dev->lock);
	uint64_t until = vblk_sched_wake_by_locked(dev);

	s->sleeping = !until;
	pthread_mutex_unlock(&dev->lock);
	if (!until)
		return epoll_wait(s->epoll_fd, evs, max, -1);

	uint64_t now = vblk_sched_clock(dev);
	uint64_t left = until > now ? until - now : 0;
	struct timespec ts = { .tv_sec = (time_t)(left / 1000000000u), .tv_nsec = (long)(left % 1000000000u) };
	int n = epoll_pwait2(s->epoll_fd, evs, max, &ts, NULL);

	if (n < 0 && errno == ENOSYS)   /* before Linux 5.11: whole milliseconds, rounded up */
		n = epoll_wait(s->epoll_fd, evs, max, (int)((left + 999999) / 1000000));
	return n;
}

/* Read the eventfds that are ready, and note what they say in *w and st->stop. */
static void io_events(struct vblk_dev *dev, const struct epoll_event *evs, int n, struct io_wake *w,
		      struct io_state *st)
{
	eventfd_t v;

	for (int i = 0; i < n; i++) {
		switch (evs[i].data.u32) {
		case EV_NOTIFY:
			/* The count is how many QueueNotify writes KVM turned into signals since the last read. */
			if (eventfd_read(dev->notify_fd, &v) == 0)
				vblk_stat_add(&dev->stats.kicks, v);
			w->notify = true;
			break;
		case EV_BACKEND:
			(void)eventfd_read(blk_backend_event_fd(dev->be), &v);
			w->comp = true;
			break;
		case EV_STOP:
			(void)eventfd_read(dev->sched.stop_fd, &v);
			st->stop = true;
			break;
		}
	}
}

/*
 * Wait for work: busy-poll first (at most once per wait: a wake-up with
 * nothing to do, a stale eventfd or EINTR, goes back to sleep), put guest
 * kicks back on, then sleep. 0, or -EINTR when the sleep was interrupted.
 */
static int io_wait(struct vblk_dev *dev, struct io_state *st, struct io_wake *w)
{
	struct epoll_event evs[4];
	int n = 0;

	if (!st->wait_start) {
		st->wait_start = vblk_sched_clock(dev);
		pthread_mutex_lock(&dev->lock);
		bool want = st->window > 0 && vblk_sched_poll_wanted_locked(dev, st->worked);

		pthread_mutex_unlock(&dev->lock);
		if (want)
			w->found = vblk_sched_poll(dev, st->window);
	}
	if (!w->found && vblk_sched_kicks_rearm(dev))
		w->found = true;
	if (!w->found)
		n = io_sleep(dev, evs, 4);
	if (n < 0) {
		if (errno == EINTR)
			return -EINTR;
		/* epoll on our own fds cannot fail otherwise; keep serving via the stop path. */
		n = 0;
	}
	io_events(dev, evs, n, w, st);
	return 0;
}

/* Do what woke the thread. True when it is to end: stopped, and nothing in flight. */
static bool io_round(struct vblk_dev *dev, struct io_state *st, const struct io_wake *w)
{
	struct vblk_sched *s = &dev->sched;
	int reaped = 0, popped = 0;

	pthread_mutex_lock(&dev->lock);
	s->sleeping = false;
	if (s->kick_owed)
		(void)vblk_sched_backend_kick_locked(dev);
	if (w->comp)
		reaped = vblk_sched_completions_locked(dev);
	if (w->notify) {
		popped = vblk_sched_queue_locked(dev);
	} else if (!w->comp && s->parked_until_ns && vblk_sched_clock(dev) >= s->parked_until_ns) {
		/* The park window is up (a completion would have looked already). */
		popped = vblk_sched_park_expired_locked(dev);
	}
	bool done = st->stop && dev->inflight == 0;
	uint64_t max = s->poll_max_ns;

	st->again = s->round_capped;
	s->round_capped = false;
	pthread_mutex_unlock(&dev->lock);
	if (done)
		return true;
	st->worked = w->found || reaped > 0 || popped > 0;
	if (st->worked) {
		/* The wait is over: size the next window by how long this one took. */
		st->window = vblk_sched_poll_window_next(st->window, max, vblk_sched_clock(dev) - st->wait_start);
		st->wait_start = 0;
	}
	return false;
}

static void *io_thread(void *arg)
{
	struct vblk_dev *dev = arg;
	struct io_state st = { 0 };

	/* Confined before any guest-driven work; a thread that cannot be serves nothing (the VMM stops). */
	if (dev->sched.thread_enter && dev->sched.thread_enter(dev->sched.thread_enter_ctx) != 0)
		return NULL;
	for (;;) {
		struct io_wake w = { .notify = st.again };

		/* After a capped round there is work waiting: no poll, re-arm or sleep first. */
		if (!st.again && io_wait(dev, &st, &w) == -EINTR)
			continue;
		if (io_round(dev, &st, &w))
			break;
	}
	return NULL;
}

static int epoll_add(int epfd, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int vblk_sched_thread_start(struct vblk_dev *dev)
{
	struct vblk_sched *s = &dev->sched;
	int r;

	if (s->thread_running)
		return -EBUSY;
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll_fd < 0)
		return -errno;
	s->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->stop_fd < 0) {
		r = -errno;
		goto close_epoll;
	}
	if ((r = epoll_add(s->epoll_fd, dev->notify_fd, EV_NOTIFY)) < 0 ||
	    (r = epoll_add(s->epoll_fd, blk_backend_event_fd(dev->be), EV_BACKEND)) < 0 ||
	    (r = epoll_add(s->epoll_fd, s->stop_fd, EV_STOP)) < 0)
		goto close_stop;
	pthread_mutex_lock(&dev->lock);
	r = -pthread_create(&s->thread, NULL, io_thread, dev);
	s->thread_running = r == 0;
	pthread_mutex_unlock(&dev->lock);
	if (r < 0)
		goto close_stop;
	return 0;

close_stop:
	close(s->stop_fd);
	s->stop_fd = -1;
close_epoll:
	close(s->epoll_fd);
	s->epoll_fd = -1;
	return r;
}

bool vblk_sched_thread_running(struct vblk_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	bool running = dev->sched.thread_running;

	pthread_mutex_unlock(&dev->lock);
	return running;
}

void vblk_sched_thread_stop(struct vblk_dev *dev)
{
	struct vblk_sched *s = &dev->sched;

	if (!vblk_sched_thread_running(dev))
		return;
	(void)eventfd_write(s->stop_fd, 1);
	pthread_join(s->thread, NULL);
	pthread_mutex_lock(&dev->lock);
	s->thread_running = false;
	pthread_mutex_unlock(&dev->lock);
	close(s->stop_fd);
	close(s->epoll_fd);
	s->stop_fd = -1;
	s->epoll_fd = -1;
}

/* SPDX-License-Identifier: MIT */
/* The event loop: start the drives and vCPUs, wait for a stop (guest, signal, timeout), feed stdin, then stop cleanly. */
#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "virtio_blk.h"
#include "vm_internal.h"

enum { VM_EV_EXIT, VM_EV_SIGNAL, VM_EV_TIMER, VM_EV_STDIN };

/* What the main thread waits on. */
struct vm_loop {
	int ep;
	int sfd;              /* SIGINT, SIGTERM */
	int tfd;              /* --timeout, or -1 */
	bool stdin_on;        /* stdin is a console input we still listen to */
	bool stdin_waiting;   /* the UART's FIFO was full: stdin is out of ep until it has room */
};

static int vm_epoll_add(int ep, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void vm_loop_close(struct vm_loop *l)
{
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->sfd >= 0)
		close(l->sfd);
	close(l->ep);
}

/* The stop signals (blocked in every thread: they come through sfd), the exit eventfd, the timer, stdin. */
static int vm_loop_open(struct vm *vm, struct vm_loop *l, const sigset_t *stop_set)
{
	int r;

	*l = (struct vm_loop){ .sfd = -1, .tfd = -1 };
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0)
		return -errno;
	l->sfd = signalfd(-1, stop_set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l->sfd < 0) {
		r = -errno;
		goto close_loop;
	}
	if ((r = vm_epoll_add(l->ep, vm->exit_fd, VM_EV_EXIT)) < 0 || (r = vm_epoll_add(l->ep, l->sfd, VM_EV_SIGNAL)) < 0)
		goto close_loop;
	if (vm->cfg->timeout) {
		struct itimerspec its = { .it_value.tv_sec = vm->cfg->timeout };

		l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (l->tfd < 0 || timerfd_settime(l->tfd, 0, &its, NULL) < 0) {
			r = -errno;
			goto close_loop;
		}
		if ((r = vm_epoll_add(l->ep, l->tfd, VM_EV_TIMER)) < 0)
			goto close_loop;
	}
	if (vm->cfg->serial == VM_SERIAL_STDIO && vm_epoll_add(l->ep, STDIN_FILENO, VM_EV_STDIN) == 0)
		l->stdin_on = true;  /* fails harmlessly for /dev/null or a regular file */
	return 0;
close_loop:
	vm_loop_close(l);
	return r;
}

/*
 * Start the drives' I/O threads, then the vCPUs, and wait until each has
 * entered its sandbox filter and main its own (confine.c). On a failure a
 * stop is requested (the loop then ends at once).
 */
static void vm_machine_start(struct vm *vm)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < vm->ndrives; i++, n++) {
		int r = vblk_start(vm->drives[i]);

		if (r < 0) {
			struct vm_exit e = { .kind = VM_EXIT_ERROR, .err = r, .what = "starting a drive's I/O thread" };

			vm_request_exit(vm, &e);
			break;
		}
	}
	if (n == vm->ndrives)
		vm_vcpus_start(vm);
	for (unsigned int i = 0; i < vm->ncpus; i++)
		n += vm->vcpus[i].started;
	vm_confine_all(vm, n);
}

/* Stop the vCPUs, then drain and flush the drives per cache mode, so a stop by signal keeps what the guest wrote. */
static void vm_machine_stop(struct vm *vm)
{
	vm_vcpus_stop(vm);
	for (unsigned int i = 0; i < vm->ndrives; i++) {
		int s = vblk_stop(vm->drives[i]);

		if (s < 0 && vm->exit.kind != VM_EXIT_ERROR) {
			struct vm_exit e = { .kind = VM_EXIT_ERROR, .err = s, .what = "flushing a drive at exit" };

			pthread_mutex_lock(&vm->exit_lock);
			vm->exit = e;
			pthread_mutex_unlock(&vm->exit_lock);
		}
	}
}

static void vm_loop_event(struct vm *vm, struct vm_loop *l, uint32_t tag)
{
	switch (tag) {
	case VM_EV_SIGNAL: {
		struct signalfd_siginfo si;

		if (read(l->sfd, &si, sizeof(si)) == sizeof(si))
			vm_request_exit_kind(vm, VM_EXIT_SIGNAL, si.ssi_signo);
		break;
	}
	case VM_EV_TIMER:
		vm_request_exit_kind(vm, VM_EXIT_TIMEOUT, 0);
		break;
	case VM_EV_STDIN:
		if (vm_console_feed(vm, l->ep, &l->stdin_on)) {
			/* Level-triggered: stop watching until there is room, or it spins. */
			epoll_ctl(l->ep, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
			l->stdin_waiting = true;
		}
		break;
	default:
		break;  /* VM_EV_EXIT: the loop condition sees it */
	}
}

/* Until a stop is requested: stop requests, signals, the timer, and stdin for the UART. */
static void vm_loop_wait(struct vm *vm, struct vm_loop *l)
{
	while (!atomic_load(&vm->stopping)) {
		struct epoll_event evs[4];
		int n = epoll_wait(l->ep, evs, 4, l->stdin_waiting ? 10 : -1);

		if (n < 0 && errno != EINTR) {
			struct vm_exit e = { .kind = VM_EXIT_ERROR, .err = -errno, .what = "epoll_wait" };

			vm_request_exit(vm, &e);
			break;
		}
		if (l->stdin_waiting && serial_rx_space(&vm->serial) > 0) {
			/* The guest drained its FIFO: listen to stdin again. */
			l->stdin_waiting = false;
			if (vm_epoll_add(l->ep, STDIN_FILENO, VM_EV_STDIN) < 0)
				l->stdin_on = false;
		}
		for (int i = 0; i < n; i++)
			vm_loop_event(vm, l, evs[i].data.u32);
	}
}

void vm_stop_hook_set(struct vm *vm, void (*fn)(void *ctx, const struct vm_exit *ex), void *ctx)
{
	vm->stop_hook = fn;
	vm->stop_ctx = ctx;
}

int vm_run(struct vm *vm, struct vm_exit *ex)
{
	struct vm_loop l;
	sigset_t stop_set;
	int r;

	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, VM_SIG_KICK);
	/* Block before creating threads so they inherit the mask; vCPU threads unblock the kick only. */
	pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
	vm_vcpus_kick_setup();
	sigdelset(&stop_set, VM_SIG_KICK);
	r = vm_loop_open(vm, &l, &stop_set);
	if (r < 0)
		return r;
	vm_machine_start(vm);
	vm_loop_wait(vm, &l);
	if (vm->stop_hook) {
		struct vm_exit first;

		pthread_mutex_lock(&vm->exit_lock);
		first = vm->exit;
		pthread_mutex_unlock(&vm->exit_lock);
		vm->stop_hook(vm->stop_ctx, &first);
	}
	vm_machine_stop(vm);
	pthread_mutex_lock(&vm->exit_lock);
	*ex = vm->exit;
	pthread_mutex_unlock(&vm->exit_lock);
	vm_loop_close(&l);
	return 0;
}

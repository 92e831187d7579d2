/* SPDX-License-Identifier: MIT */
/* Unit tests of the seccomp filters' allowances: each role's normal paths run to the end under its filter. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/kvm.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"
#define UNIT_TMPDIR_NAME "vmm-sandbox-test"
#include "../unit_tmpdir.h"

#include "sandbox_test_util.h"

/*
 * Each child builds the sandbox, starts its threads, and has each enter its
 * role's filter before the calls that role makes after set-up in vmm: the
 * library calls vmm's code makes (glibc picks the system calls), and raw
 * calls where glibc could skip the kernel (clock_gettime through the vDSO).
 * A call the filter refused would end the child with status 159 and a line.
 */

/* What every role may do: locks, clocks, malloc and free, signal masks (sandbox_rules.c's runtime table). */
static int runtime_calls(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec ts;
	cpu_set_t cpus;
	sigset_t set;
	uint32_t word = 0;
	void *small[256];
	char *big;
	int fd;

	CHILD_CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == 0);
	CHILD_CHECK(syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0);
	/* A timed wait that times out: futex with a deadline. */
	CHILD_CHECK(clock_gettime(CLOCK_REALTIME, &ts) == 0);
	pthread_mutex_lock(&m);
	CHILD_CHECK(pthread_cond_timedwait(&c, &m, &ts) == ETIMEDOUT);
	pthread_mutex_unlock(&m);
	/* Large blocks come from mmap, grow with mremap and go back with munmap; small ones from an arena. */
	big = malloc(8u << 20);
	CHILD_CHECK(big != NULL);
	memset(big, 1, 8u << 20);
	big = realloc(big, 32u << 20);
	CHILD_CHECK(big != NULL);
	free(big);
	for (int i = 0; i < 256; i++) {
		small[i] = malloc(1024 + (size_t)i * 64);
		CHILD_CHECK(small[i] != NULL);
	}
	for (int i = 0; i < 256; i++)
		free(small[i]);
	big = mmap(NULL, 1u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHILD_CHECK(big != MAP_FAILED);
	CHILD_CHECK(mprotect(big, 4096, PROT_READ) == 0);
	CHILD_CHECK(madvise(big, 1u << 20, MADV_DONTNEED) == 0);
	CHILD_CHECK(munmap(big, 1u << 20) == 0);
	CHILD_CHECK(syscall(SYS_brk, 0) != 0);
	CHILD_CHECK(sched_getaffinity(0, sizeof(cpus), &cpus) == 0);
	sigemptyset(&set);
	CHILD_CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0);
	CHILD_CHECK(getpid() > 0);
	/*
	 * glibc's own read-only opens (malloc's /proc/sys/vm/overcommit_memory)
	 * fail, and open nothing; sanitizer builds let them read /proc.
	 */
	fd = open("/proc/sys/vm/overcommit_memory", O_RDONLY | O_CLOEXEC);
#if defined(SANITIZER_BUILD)
	CHILD_CHECK(fd >= 0);   /* left open: only main may close */
#else
	CHILD_CHECK(fd < 0 && errno == EACCES);
#endif
	return 0;
}

/* ---- vCPU ---- */

struct vcpu_world {
	struct sandbox *sb;
	int console;          /* the console's write end */
	int efd;              /* an eventfd: an irqfd, the exit request */
	int stuck;            /* a full pipe nobody reads: a console write blocks there until a kick */
	pthread_barrier_t entered;
	/* The thread says it ended, as vm_vcpu_wait_ended expects (cond on CLOCK_MONOTONIC). */
	pthread_mutex_t lock;
	pthread_cond_t ended_cond;
	bool ended;
	int result;
};

static void kick_handler(int sig)
{
	(void)sig;
}

static int vcpu_calls(struct vcpu_world *w)
{
	struct kvm_irq_level irq = { .irq = 4, .level = 1 };
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint64_t one = 1;

	/* The KVM requests a vCPU makes; with no VM here each fails with EBADF, which is the kernel's answer, not the filter's. */
	CHILD_CHECK(ioctl(-1, KVM_RUN, 0) < 0 && errno == EBADF);
	CHILD_CHECK(ioctl(-1, KVM_IRQ_LINE, &irq) < 0 && errno == EBADF);
	CHILD_CHECK(ioctl(-1, KVM_GET_REGS, &regs) < 0 && errno == EBADF);
	CHILD_CHECK(ioctl(-1, KVM_GET_SREGS, &sregs) < 0 && errno == EBADF);
	/* A console byte, an eventfd signal, a -v line. */
	CHILD_CHECK(write(w->console, "h", 1) == 1);
	CHILD_CHECK(write(w->efd, &one, sizeof(one)) == sizeof(one));
	CHILD_CHECK(runtime_calls() == 0);
	/* A console whose reader stopped reading holds the vCPU in write until main's stop kick (SIGUSR1). */
	CHILD_CHECK(write(w->stuck, "x", 1) < 0 && errno == EINTR);
	return 0;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu_world *w = arg;
	sigset_t kick;

	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	w->result = sandbox_enter(w->sb, SANDBOX_ROLE_VCPU) < 0 ? 2 : 0;
	pthread_barrier_wait(&w->entered);
	if (!w->result)
		w->result = vcpu_calls(w);
	pthread_mutex_lock(&w->lock);
	w->ended = true;
	pthread_cond_broadcast(&w->ended_cond);
	pthread_mutex_unlock(&w->lock);
	/* Returning ends the thread: glibc's exit path (signal mask, stack madvise, exit) under the filter. */
	return NULL;
}

/* vm_vcpus_stop's way: kick until the thread says it ended (a kick may land before it blocks), then join. */
static int vcpu_stop(struct vcpu_world *w, pthread_t t)
{
	pthread_mutex_lock(&w->lock);
	while (!w->ended) {
		struct timespec until;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += 20000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_kill(t, SIGUSR1);
		pthread_cond_timedwait(&w->ended_cond, &w->lock, &until);
	}
	pthread_mutex_unlock(&w->lock);
	CHILD_CHECK(pthread_join(t, NULL) == 0);
	return 0;
}

/* ---- main: the event loop, the stop, --stats, teardown ---- */

/* vm_stats_write's way: a temporary name in the directory opened at set-up, written with stdio, renamed. */
static int stats_write(int dfd)
{
	char tmp[64];
	FILE *f;
	int fd;

	snprintf(tmp, sizeof(tmp), ".vmm-stats.%d.0", (int)getpid());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	CHILD_CHECK(fd >= 0);
	f = fdopen(fd, "w");
	CHILD_CHECK(f != NULL);
	fprintf(f, "{\n  \"exit\": \"poweroff\"\n}\n");
	CHILD_CHECK(fclose(f) == 0);
	CHILD_CHECK(renameat(dfd, tmp, dfd, "stats.json") == 0);
	/* A failed write removes its temporary file. */
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	CHILD_CHECK(fd >= 0);
	CHILD_CHECK(close(fd) == 0);
	CHILD_CHECK(unlinkat(dfd, tmp, 0) == 0);
	return 0;
}

static int main_calls(struct vcpu_world *w, pthread_t vcpu, int ep, int sfd, int image, int dfd,
		      struct io_uring *ring, const struct termios *tty)
{
	struct kvm_irq_level irq = { .irq = 4, .level = 1 };
	struct signalfd_siginfo si;
	struct epoll_event ev = { .events = EPOLLIN };
	struct io_uring_cqe *cqe;
	uint64_t v = 1;

	CHILD_CHECK(write(w->efd, &v, sizeof(v)) == sizeof(v));
	CHILD_CHECK(epoll_wait(ep, &ev, 1, 0) == 1);
	CHILD_CHECK(read(w->efd, &v, sizeof(v)) == sizeof(v));
	CHILD_CHECK(read(sfd, &si, sizeof(si)) < 0 && errno == EAGAIN);
	CHILD_CHECK(ioctl(-1, KVM_IRQ_LINE, &irq) < 0 && errno == EBADF);
	/* stdin leaves the loop and comes back. */
	CHILD_CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, w->efd, NULL) == 0);
	ev.data.u32 = 3;
	CHILD_CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, w->efd, &ev) == 0);
	/* The stop: kick the vCPU out of its wait, and join it. */
	CHILD_CHECK(vcpu_stop(w, vcpu) == 0);
	CHILD_CHECK(w->result == 0);
	/* Drives: what is still in flight completes (uring_destroy), then the exit flush. */
	io_uring_prep_nop(io_uring_get_sqe(ring));
	CHILD_CHECK(io_uring_submit_and_wait(ring, 1) == 1);
	CHILD_CHECK(io_uring_wait_cqe(ring, &cqe) == 0);
	io_uring_cqe_seen(ring, cqe);
	CHILD_CHECK(fdatasync(image) == 0);
	CHILD_CHECK(stats_write(dfd) == 0);
	CHILD_CHECK(runtime_calls() == 0);
	/* The terminal as vmm found it (set-up read it; a test's stdin may be no terminal: ENOTTY). */
	CHILD_CHECK(tcsetattr(STDIN_FILENO, TCSANOW, tty) == 0 || errno == ENOTTY);
	/* Teardown. */
	io_uring_queue_exit(ring);
	CHILD_CHECK(close(image) == 0);
	CHILD_CHECK(close(ep) == 0);
	return 0;
}

static int main_child(void *arg)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	struct vcpu_world w = { .result = -1, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct epoll_event ev = { .events = EPOLLIN };
	struct termios tty = { 0 };
	pthread_condattr_t ca;
	struct io_uring ring;
	char path[128];
	int p[2], full[2], dfd, ep, sfd, image, r;
	pthread_t vcpu;
	sigset_t stop;

	(void)arg;
	/* Set-up: everything vm_run makes before the threads start. */
	snprintf(path, sizeof(path), "%s/main-image", tmpdir);
	image = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHILD_CHECK(image >= 0 && dfd >= 0 && pipe2(p, O_CLOEXEC) == 0);
	CHILD_CHECK(pipe2(full, O_CLOEXEC | O_NONBLOCK) == 0);
	while (write(full[1], path, sizeof(path)) > 0)
		;
	CHILD_CHECK(errno == EAGAIN && fcntl(full[1], F_SETFL, 0) == 0);
	CHILD_CHECK(io_uring_queue_init(4, &ring, 0) == 0);
	w.console = p[1];
	w.stuck = full[1];
	w.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	CHILD_CHECK(w.efd >= 0 && ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, w.efd, &ev) == 0);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGUSR1);
	CHILD_CHECK(pthread_sigmask(SIG_BLOCK, &stop, NULL) == 0);
	CHILD_CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	sigdelset(&stop, SIGUSR1);
	sfd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
	CHILD_CHECK(sfd >= 0);
	CHILD_CHECK(sandbox_create(&(struct sandbox_params){ .stats_dir_fd = dfd }, &w.sb) == 0);
	CHILD_CHECK(sandbox_restrict(w.sb) == 0);
	(void)tcgetattr(STDIN_FILENO, &tty);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	CHILD_CHECK(pthread_cond_init(&w.ended_cond, &ca) == 0);
	CHILD_CHECK(pthread_barrier_init(&w.entered, NULL, 2) == 0);
	CHILD_CHECK(pthread_create(&vcpu, NULL, vcpu_thread, &w) == 0);
	/* Main goes last, once the vCPU has entered: no guest instruction runs unfiltered. */
	pthread_barrier_wait(&w.entered);
	CHILD_CHECK(sandbox_enter(w.sb, SANDBOX_ROLE_MAIN) == 0);
	r = main_calls(&w, vcpu, ep, sfd, image, dfd, &ring, &tty);
	CHILD_CHECK(r == 0);
	sandbox_destroy(w.sb);
	/* vmm's own end: exit(), with its atexit handlers (and a sanitizer's leak check) under the filter. */
	exit(0);
}

/* Main and a vCPU together, the way vmm runs them: the loop, the kick, the stop, --stats, teardown. */
static void test_main_and_vcpu(void **state)
{
	char err[2048], st[32], path[128];
	int status;
	FILE *f;

	(void)state;
	assert_int_equal(child_run(main_child, NULL, &status, err, sizeof(err)), 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || err[0])
		fail_msg("%s, stderr:\n%s", child_status_text(status, st, sizeof(st)), err);
	/* --stats went where it should, and its temporary file did not stay. */
	snprintf(path, sizeof(path), "%s/stats.json", tmpdir);
	f = fopen(path, "r");
	assert_non_null(f);
	fclose(f);
}

/* ---- drive I/O ---- */

struct io_world {
	struct sandbox *sb;
	struct io_uring ring;
	bool disabled;        /* the ring was created R_DISABLED, for this thread to enable */
	int image;
	int efd;
	int ep;
	int result;
};

static int io_ring_calls(struct io_world *w)
{
	static char data[4096] __attribute__((aligned(4096)));
	struct iovec iov = { data, sizeof(data) };
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;

	if (w->disabled)
		CHILD_CHECK(io_uring_enable_rings(&w->ring) == 0);
	memset(data, 0x5a, sizeof(data));
	sqe = io_uring_get_sqe(&w->ring);
	io_uring_prep_writev(sqe, 0, &iov, 1, 0);
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
	sqe = io_uring_get_sqe(&w->ring);
	io_uring_prep_fsync(sqe, 0, IORING_FSYNC_DATASYNC);
	sqe->flags |= IOSQE_FIXED_FILE;
	CHILD_CHECK(io_uring_submit(&w->ring) == 2);
	for (int i = 0; i < 2; i++) {
		CHILD_CHECK(io_uring_wait_cqe(&w->ring, &cqe) == 0);
		io_uring_cqe_seen(&w->ring, cqe);
	}
	CHILD_CHECK(io_uring_get_events(&w->ring) == 0);
	return 0;
}

static int io_calls(struct io_world *w)
{
	char buf[4096] __attribute__((aligned(512)));
	struct iovec iov = { buf, sizeof(buf) };
	struct epoll_event ev;
	struct timespec zero = { 0, 0 };
	uint64_t v = 1;
	long n;

	CHILD_CHECK(io_ring_calls(w) == 0);
	/* The inline write, the bounce buffer's read of a block, and the synchronous engine. */
	memset(buf, 0xa5, sizeof(buf));
	CHILD_CHECK(pwritev2(w->image, &iov, 1, 4096, 0) == sizeof(buf));
	CHILD_CHECK(pread(w->image, buf, sizeof(buf), 0) == sizeof(buf));
	CHILD_CHECK(preadv(w->image, &iov, 1, 4096) == sizeof(buf));
	CHILD_CHECK(pwrite(w->image, buf, sizeof(buf), 8192) == sizeof(buf));
	CHILD_CHECK(pwritev(w->image, &iov, 1, 8192) == sizeof(buf));
	CHILD_CHECK(fallocate(w->image, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096) == 0 ||
		    errno == EOPNOTSUPP);
	CHILD_CHECK(fdatasync(w->image) == 0);
	/* Kicks and completions: eventfds through epoll, with and without a deadline. */
	CHILD_CHECK(write(w->efd, &v, sizeof(v)) == sizeof(v));
	CHILD_CHECK(epoll_wait(w->ep, &ev, 1, 0) == 1);
	n = syscall(SYS_epoll_pwait2, w->ep, &ev, 1, &zero, NULL, 8);
	CHILD_CHECK(n == 1 || (n < 0 && errno == ENOSYS));
	CHILD_CHECK(read(w->efd, &v, sizeof(v)) == sizeof(v));
	return runtime_calls();
}

static void *io_thread(void *arg)
{
	struct io_world *w = arg;

	w->result = sandbox_enter(w->sb, SANDBOX_ROLE_IO) < 0 ? 2 : io_calls(w);
	return NULL;
}

static int io_child(void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct io_uring_params params;
	struct io_world w = { .result = -1 };
	char path[128];
	pthread_t t;

	(void)arg;
	snprintf(path, sizeof(path), "%s/io-image", tmpdir);
	w.image = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHILD_CHECK(w.image >= 0 && ftruncate(w.image, 1u << 20) == 0);
	/* As uring.c sets its ring up: disabled until the I/O thread's first kick, where the kernel has that. */
	memset(&params, 0, sizeof(params));
	params.flags = IORING_SETUP_R_DISABLED | IORING_SETUP_SINGLE_ISSUER;
	w.disabled = io_uring_queue_init_params(8, &w.ring, &params) == 0;
	if (!w.disabled)
		CHILD_CHECK(io_uring_queue_init(8, &w.ring, 0) == 0);
	CHILD_CHECK(io_uring_register_files(&w.ring, &w.image, 1) == 0);
	w.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w.ep = epoll_create1(EPOLL_CLOEXEC);
	CHILD_CHECK(w.efd >= 0 && w.ep >= 0 && epoll_ctl(w.ep, EPOLL_CTL_ADD, w.efd, &ev) == 0);
	CHILD_CHECK(sandbox_create(&(struct sandbox_params){ .stats_dir_fd = -1 }, &w.sb) == 0);
	CHILD_CHECK(sandbox_restrict(w.sb) == 0);
	CHILD_CHECK(pthread_create(&t, NULL, io_thread, &w) == 0);
	CHILD_CHECK(pthread_join(t, NULL) == 0);
	return w.result;
}

/* A drive's I/O thread: io_uring from enabling the ring to reaping, the synchronous engine, eventfds, epoll. */
static void test_io(void **state)
{
	char err[2048], st[32];
	int status;

	(void)state;
	assert_int_equal(child_run(io_child, NULL, &status, err, sizeof(err)), 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || err[0])
		fail_msg("%s, stderr:\n%s", child_status_text(status, st, sizeof(st)), err);
}

#if defined(SANITIZER_BUILD)
/* ---- sanitizer builds: a report from a filtered thread comes out whole ---- */

static struct sandbox *report_sb;
static volatile int report_word;   /* volatile: a word only written would be optimised away */
static int report_flag;

/* The error a sanitizer reports, made on a vCPU thread under its filter. */
static void *report_thread(void *arg)
{
	volatile int big = INT32_MAX;

	(void)arg;
	if (sandbox_enter(report_sb, SANDBOX_ROLE_VCPU) < 0)
		return NULL;
#if defined(TSAN_BUILD)
	/* A write that races with main's: relaxed atomics make no order TSan could see. */
	while (!__atomic_load_n(&report_flag, __ATOMIC_RELAXED))
		;
	report_word = 1;
#else
	volatile int past = 16;
	char *p;

	big = big + (int)getpid() / (int)getpid();      /* UBSan: signed overflow, reported and survived */
	p = malloc(16);
	p[past] = 1;                                    /* ASan: heap overflow, reported, then exit 1 */
	free(p);
#endif
	(void)big;
	return NULL;
}

static int report_child(void *arg)
{
	pthread_t t;

	(void)arg;
	CHILD_CHECK(sandbox_create(&(struct sandbox_params){ .stats_dir_fd = -1 }, &report_sb) == 0);
	CHILD_CHECK(sandbox_restrict(report_sb) == 0);
	CHILD_CHECK(pthread_create(&t, NULL, report_thread, NULL) == 0);
	CHILD_CHECK(sandbox_enter(report_sb, SANDBOX_ROLE_MAIN) == 0);
	report_word = 2;
	__atomic_store_n(&report_flag, 1, __ATOMIC_RELAXED);
	CHILD_CHECK(pthread_join(t, NULL) == 0);
	return 0;
}

/* A fresh process: TSan ignores every access in the child of a fork from its own threaded process. */
static int report_exec(void *arg)
{
	(void)arg;
	execl("/proc/self/exe", "test_sandbox_allowed", "report-child", (char *)NULL);
	return 127;
}

/*
 * The sanitizer table lets a report through (docs/security.md): the error a
 * filtered thread makes is reported as the sanitizer words it, not replaced
 * by a SIGSYS line.
 */
static void test_sanitizer_report(void **state)
{
	char err[16384], st[32];
	int status;

	(void)state;
	assert_int_equal(child_run(report_exec, NULL, &status, err, sizeof(err)), 0);
#if defined(TSAN_BUILD)
	if (strstr(err, "vmm: sandbox:") || !strstr(err, "WARNING: ThreadSanitizer: data race"))
		fail_msg("no whole report: %s, stderr:\n%s", child_status_text(status, st, sizeof(st)), err);
#else
	if (strstr(err, "vmm: sandbox:") || !strstr(err, "runtime error: signed integer overflow") ||
	    !strstr(err, "ERROR: AddressSanitizer: heap-buffer-overflow") || !strstr(err, "SUMMARY: AddressSanitizer") ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 1)
		fail_msg("no whole report: %s, stderr:\n%s", child_status_text(status, st, sizeof(st)), err);
#endif
}
#endif

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_main_and_vcpu),
		cmocka_unit_test(test_io),
#if defined(SANITIZER_BUILD)
		cmocka_unit_test(test_sanitizer_report),
#endif
	};

#if defined(SANITIZER_BUILD)
	if (argc == 2 && strcmp(argv[1], "report-child") == 0)
		return report_child(NULL);
#else
	(void)argv;
#endif
	(void)argc;

	return cmocka_run_group_tests(tests, tmpdir_make, tmpdir_remove);
}

/* SPDX-License-Identifier: MIT */
/* The seccomp allow-lists: one table per thread role, most frequent call first, each entry with why it is there. */
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sandbox_internal.h"

/*
 * Each table lists what its threads call after set-up, as read from the code
 * paths and checked with strace -f on the kvm-smoke guests and the
 * bench-smoke jobs (docs/security.md). A call a path makes only at set-up
 * (opening files, creating fds, threads or KVM objects, sigaction) is not
 * here: the filters go on once set-up is over. An argument is checked where
 * the call could otherwise reach beyond what the thread needs: ioctl takes
 * only the requests the role makes, memory never becomes executable, and the
 * one file-creating call (--stats) is held to the directory set-up opened.
 */

#define ALLOW(name) { .nr = SCMP_SYS(name) }
#define ALLOW_IF(name, ...)                                                                         \
	{ .nr = SCMP_SYS(name),                                                                     \
	  .nargs = sizeof((struct sandbox_arg[]){ __VA_ARGS__ }) / sizeof(struct sandbox_arg),      \
	  .args = { __VA_ARGS__ } }
/* The call fails with errno err (doing nothing) when its checks hold. */
#define FAIL_IF(name, err, ...)                                                                     \
	{ .nr = SCMP_SYS(name), .fail = (err),                                                      \
	  .nargs = sizeof((struct sandbox_arg[]){ __VA_ARGS__ }) / sizeof(struct sandbox_arg),      \
	  .args = { __VA_ARGS__ } }
/* Argument i is v. */
#define ARG_EQ(i, v) { .index = (i), .mask = ~0ull, .value = (uint64_t)(v) }
/* Argument i has none of the bits in m. */
#define ARG_NONE_OF(i, m) { .index = (i), .mask = (uint64_t)(m), .value = 0 }
/* Argument i has every bit in m. */
#define ARG_ALL_OF(i, m) { .index = (i), .mask = (uint64_t)(m), .value = (uint64_t)(m) }
/* Argument i is the set-up value src (enum sandbox_val). */
#define ARG_IS(i, src) { .index = (i), .from = (src), .mask = ~0ull }

#define TABLE(t) ((struct sandbox_table){ (t), sizeof(t) / sizeof((t)[0]) })

static const struct sandbox_rule vcpu_rules[] = {
	/* Running the guest: every exit to vmm ends one call and the loop makes the next. */
	ALLOW_IF(ioctl, ARG_EQ(1, KVM_RUN)),
	/*
	 * The console: one byte per port write to the file or stdout. Also the
	 * eventfd signals a port or MMIO write makes (a drive's kick at
	 * DRIVER_OK, its interrupt, the main loop's stop request) and -v lines.
	 */
	ALLOW(write),
	/* The UART's interrupt line, raised and lowered as the guest reads and writes its registers. */
	ALLOW_IF(ioctl, ARG_EQ(1, KVM_IRQ_LINE)),
	/* The registers printed with a KVM internal error, a failed entry or a triple fault. */
	ALLOW_IF(ioctl, ARG_EQ(1, KVM_GET_REGS)),
	ALLOW_IF(ioctl, ARG_EQ(1, KVM_GET_SREGS)),
};

static const struct sandbox_rule io_rules[] = {
	/* io_uring: submit requests and reap completions (the ring was set up with its image registered). */
	ALLOW(io_uring_enter),
	/* Sleep until a queue kick, a completion or the stop: without a deadline, or with one (Linux 5.11+). */
	ALLOW(epoll_wait),
	ALLOW(epoll_pwait2),
	/* epoll_wait where the architecture has only epoll_pwait (aarch64). */
	ALLOW(epoll_pwait),
	/* The eventfd counters: the guest's kicks (KVM's ioeventfd), the backend's completions, the stop. */
	ALLOW(read),
	/* The guest's interrupt (KVM's irqfd) and the backend's own eventfd after an inline write. */
	ALLOW(write),
	/* uring.c writes a lone request inline, at once, rather than through the ring. */
	ALLOW(pwritev2),
	/* O_DIRECT bounce buffers read the rest of a partly written block first. */
	ALLOW(pread64),
	/* The ring is created disabled and enabled from this thread at its first kick (its single issuer). */
	ALLOW_IF(io_uring_register, ARG_EQ(1, IORING_REGISTER_ENABLE_RINGS)),
	/*
	 * The synchronous engine (sync.c), which vblk_create picks where io_uring
	 * is missing or forbidden: reads, writes (pwritev for glibc's pwritev2 on
	 * a kernel without it), DISCARD and WRITE_ZEROES, FLUSH.
	 */
	ALLOW(preadv),
	ALLOW(pwrite64),
	ALLOW(pwritev),
	ALLOW(fallocate),
	ALLOW(fdatasync),
};

static const struct sandbox_rule main_rules[] = {
	/* The event loop: the stop eventfd, SIGINT/SIGTERM (signalfd), --timeout (timerfd), stdin. */
	ALLOW(epoll_wait),
	/* The same where the architecture has only epoll_pwait (aarch64). */
	ALLOW(epoll_pwait),
	/* The signalfd's siginfo, the console's input on stdin. */
	ALLOW(read),
	/* Lines on stderr, the stop and the drives' stop eventfds, --stats's JSON, stdout. */
	ALLOW(write),
	/* A byte from stdin raises the UART's receive interrupt. */
	ALLOW_IF(ioctl, ARG_EQ(1, KVM_IRQ_LINE)),
	/* stdin leaves the loop while the UART's receive FIFO is full, and comes back as it drains. */
	ALLOW(epoll_ctl),
	/* The stop kicks each vCPU thread out of KVM_RUN (pthread_kill), in this process only. */
	ALLOW_IF(tgkill, ARG_IS(0, SANDBOX_VAL_PID), ARG_EQ(2, SIGUSR1)),
	/* The stop waits for requests still in flight before it frees their buffers (uring_destroy). */
	ALLOW(io_uring_enter),
	/* The stop's hard deadline: main.c arms its timer (made at set-up) as the stop begins, and disarms it. */
	ALLOW(timer_settime),
	/* The exit flush of each writable drive (vblk_stop). */
	ALLOW(fdatasync),
	/* Teardown: eventfds, epoll and ring fds, KVM fds, drive images. */
	ALLOW(close),
	/* The terminal's settings back as vmm found them, at exit: tcsetattr (TCSANOW) on stdin reads them first. */
	ALLOW_IF(ioctl, ARG_EQ(0, STDIN_FILENO), ARG_EQ(1, TCSETS)),
	ALLOW_IF(ioctl, ARG_EQ(0, STDIN_FILENO), ARG_EQ(1, TCGETS)),
	/*
	 * --stats: the file is written to a temporary name and renamed over the
	 * target, both in the directory set-up opened, and only there (Landlock
	 * holds to the same directory). The one open after set-up.
	 */
	ALLOW_IF(openat, ARG_IS(0, SANDBOX_VAL_STATS_DIR), ARG_EQ(2, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC)),
	ALLOW_IF(renameat, ARG_IS(0, SANDBOX_VAL_STATS_DIR), ARG_IS(2, SANDBOX_VAL_STATS_DIR)),
	/* renameat where the architecture has only renameat2 (aarch64); no flags. */
	ALLOW_IF(renameat2, ARG_IS(0, SANDBOX_VAL_STATS_DIR), ARG_IS(2, SANDBOX_VAL_STATS_DIR), ARG_EQ(4, 0)),
	/* The temporary file goes again when writing it failed. */
	ALLOW_IF(unlinkat, ARG_IS(0, SANDBOX_VAL_STATS_DIR), ARG_EQ(2, 0)),
	/* fdopen of the stats file asks its mode, and stdio sizes the stream's buffer with fstat. */
	ALLOW_IF(fcntl, ARG_EQ(1, F_GETFL)),
	ALLOW_IF(newfstatat, ARG_EQ(3, AT_EMPTY_PATH)),
	/* --stats of a snapshot drive on a reflink file system: the overlay's unshared bytes (overlay_open.c). */
	ALLOW_IF(ioctl, ARG_EQ(1, FS_IOC_FIEMAP)),
};

static const struct sandbox_rule runtime_rules[] = {
	/* Mutexes, condition variables and pthread_join block and wake through futex. */
	ALLOW(futex),
	/* clock_ns and vm_now_ns, where the vDSO cannot answer (a clock source it does not support). */
	ALLOW(clock_gettime),
	/* Back from a signal handler: the vCPU's kick handler, or any other. */
	ALLOW(rt_sigreturn),
	/* The kernel resumes a wait a signal interrupted through this call. */
	ALLOW(restart_syscall),
	/* glibc blocks signals around pthread_kill and abort, and as a thread ends. */
	ALLOW(rt_sigprocmask),
	/* malloc: large blocks and new per-thread arenas; anonymous memory only, never executable. */
	ALLOW_IF(mmap, ARG_NONE_OF(2, PROT_EXEC), ARG_ALL_OF(3, MAP_ANONYMOUS)),
	/* malloc grows an arena by making more of its reserved range writable; never executable. */
	ALLOW_IF(mprotect, ARG_NONE_OF(2, PROT_EXEC)),
	/* free of large blocks; thread stacks at join; teardown of guest RAM, rings and KVM's run areas (main). */
	ALLOW(munmap),
	/* free() gives an arena's unused pages back, and a thread that ends its stack's. */
	ALLOW_IF(madvise, ARG_EQ(2, MADV_DONTNEED)),
	/* The same where glibc.malloc.hugetlb asks for huge pages on new heaps. */
	ALLOW_IF(madvise, ARG_EQ(2, MADV_HUGEPAGE)),
	/* realloc of a large block. */
	ALLOW(mremap),
	/* malloc from the main arena, which threads share once there are many of them. */
	ALLOW(brk),
	/* glibc's malloc counts the CPUs as it creates its ninth arena. */
	ALLOW(sched_getaffinity),
	/* pthread_kill and raise name the process in tgkill; --stats's temporary name has it. */
	ALLOW(getpid),
	/* abort(): an assertion still ends vmm as SIGABRT, in this process only. */
	ALLOW_IF(tgkill, ARG_IS(0, SANDBOX_VAL_PID), ARG_EQ(2, SIGABRT)),
	/* A thread returns from its function. */
	ALLOW(exit),
	/* vmm exits, and the SIGSYS handler's way out. */
	ALLOW(exit_group),
#if !defined(SANDBOX_ASAN) && !defined(SANDBOX_TSAN)
	/*
	 * glibc reads a /proc file on its own: malloc reads
	 * /proc/sys/vm/overcommit_memory the first time a thread's heap shrinks
	 * (check_may_shrink_heap). Such a read-only open fails with EACCES, as
	 * Landlock would answer, without the kernel looking at the path, and
	 * glibc takes its fallback. No open of any other kind gets that far: it
	 * traps. (Sanitizer builds let these opens through, below.)
	 */
	FAIL_IF(openat, EACCES, ARG_EQ(2, O_RDONLY | O_CLOEXEC)),
#endif
};

#if defined(SANDBOX_ASAN) || defined(SANDBOX_TSAN)
/*
 * Sanitizer builds only (ASan+UBSan, TSan: test builds, never shipped): what
 * their runtimes call that vmm itself never does (docs/security.md). Each
 * entry was found missing by a report, a leak check or a unit test that
 * failed without it.
 */
static const struct sandbox_rule sanitizer_rules[] = {
	/* The runtimes' own spin locks yield; they name threads by tid. */
	ALLOW(sched_yield),
	ALLOW(gettid),
	/* ASan swaps a thread's alternate signal stack as the thread ends. */
	ALLOW(sigaltstack),
	/* The runtimes keep their own mappings out of core dumps and off huge pages. */
	ALLOW_IF(madvise, ARG_EQ(2, MADV_DONTDUMP)),
	ALLOW_IF(madvise, ARG_EQ(2, MADV_NOHUGEPAGE)),
	/*
	 * They read /proc/self (maps, task) themselves, with read-only opens,
	 * which Landlock holds to /proc in these builds; glibc's own read-only
	 * opens (malloc's) get through too. x86-64's runtimes still use open(2).
	 */
	ALLOW_IF(openat, ARG_NONE_OF(2, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)),
	ALLOW_IF(open, ARG_NONE_OF(1, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)),
	/*
	 * A report (ASan's, UBSan's, TSan's), from whichever thread found the
	 * error: whether stderr is a terminal (for colours), the binary's name
	 * (/proc/self/exe), a timestamp (TSan), and whether memory it is about to
	 * dump is readable, which the runtime learns by writing it to a pipe of
	 * its own. Without these the report would be lost to a SIGSYS line.
	 */
	ALLOW_IF(fcntl, ARG_EQ(1, F_GETFD)),
	ALLOW_IF(ioctl, ARG_EQ(1, TCGETS)),
	ALLOW(readlink),
	ALLOW(gettimeofday),
	/* TSan's fstat interceptor makes the fstat call itself (main: a snapshot drive's --stats), not glibc's newfstatat. */
	ALLOW(fstat),
	ALLOW(pipe2),
	ALLOW(read),
	ALLOW(close),
};

/*
 * LeakSanitizer checks for leaks at exit from a tracer it clones off the main
 * thread (so under main's filter, with all signals blocked: a trap there
 * would kill the tracer silently and leave main waiting for ever). The
 * tracer lists /proc/PID/task, stops each thread with ptrace, and reads
 * their registers and /proc/self; the report checks whether stderr is a
 * terminal (getdents64: aarch64's runtimes have no getdents).
 */
static const struct sandbox_rule sanitizer_main_rules[] = {
	ALLOW(clone),
	ALLOW(prctl),
	ALLOW(getppid),
	ALLOW(rt_sigaction),
	ALLOW(getdents),
	ALLOW(getdents64),
	ALLOW(lseek),
	ALLOW(ptrace),
	ALLOW(wait4),
};
#endif

unsigned int sandbox_rules_tables(enum sandbox_role role, struct sandbox_table t[SANDBOX_MAX_TABLES])
{
	unsigned int n = 0;

	switch (role) {
	case SANDBOX_ROLE_MAIN:
		t[n++] = TABLE(main_rules);
		break;
	case SANDBOX_ROLE_VCPU:
		t[n++] = TABLE(vcpu_rules);
		break;
	case SANDBOX_ROLE_IO:
		t[n++] = TABLE(io_rules);
		break;
	default:
		return 0;
	}
	t[n++] = TABLE(runtime_rules);
#if defined(SANDBOX_ASAN) || defined(SANDBOX_TSAN)
	t[n++] = TABLE(sanitizer_rules);
	if (role == SANDBOX_ROLE_MAIN)
		t[n++] = TABLE(sanitizer_main_rules);
#endif
	return n;
}

/* SPDX-License-Identifier: MIT */
/* vmm entry point: the order of things, and the exit status (docs/exit-status.md); report.c words every line it prints. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "blk_backend.h"
#include "report.h"
#include "sandbox.h"
#include "vm.h"
#include "vm_config.h"

static struct termios saved_tty;
static bool tty_raw;

static void tty_restore(void)
{
	if (tty_raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
		tty_raw = false;
	}
}

/* Raw input so the guest's line discipline does the editing; ISIG stays on so Ctrl-C stops vmm. */
static void tty_make_raw(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return;
	t = saved_tty;
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
		tty_raw = true;
		atexit(tty_restore);
	}
}

/* How long the stop (vCPUs stopped, drives drained and flushed) may take, whatever began it. */
#define STOP_DEADLINE_S 10
/*
 * A stop signal this soon after the one that began the stop is that same
 * request delivered twice, not an operator asking again: GNU timeout sends
 * its signal to vmm and then to the whole process group, and so does a
 * script's `kill 0`. Usually the two merge while pending; when vmm has read
 * the first in between, the second must not throw the drain away.
 */
#define STOP_REPEAT_NS (250 * 1000000ull)

static timer_t stop_timer;
static bool stop_timer_made;
static volatile sig_atomic_t stop_status;  /* the status the stop under way would end with */
static uint64_t stop_began_ns;  /* written before the handlers are unblocked, read only by them */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void stop_say(const char *s)
{
	/* A raw call, as below: sanitizers' interceptors are no place to be in this handler. */
	if (syscall(SYS_write, STDERR_FILENO, s, strlen(s)) < 0)
		return;  /* nowhere left to say it */
}

/*
 * The stop's hard deadline: a second SIGINT/SIGTERM once the stop has begun
 * (and STOP_REPEAT_NS has passed), or SIGALRM STOP_DEADLINE_S after the stop
 * began, ends vmm here at once (async-signal-safe calls only, each allowed
 * by main's filter; clock_gettime is the vDSO's).
 */
static void stop_hard(int sig)
{
	int status = sig == SIGALRM ? stop_status : 128 + sig;

	if (sig != SIGALRM && now_ns() - stop_began_ns < STOP_REPEAT_NS)
		return;
	stop_say(sig == SIGALRM ? "vmm: the stop took longer than 10 s: exiting without waiting for it"
				: "vmm: a stop signal while vmm was stopping: exiting at once");
	stop_say("; the drives were not all drained and flushed, so what the guest wrote since its last FLUSH "
		 "may not be durable (see docs/exit-status.md)\n");
	if (tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	/* Not _exit: a sanitizer's _exit runs its own finalisation, with calls the sandbox forbids. */
	syscall(SYS_exit_group, status);
}

/*
 * Before vm_run: the handlers (SIGINT and SIGTERM stay blocked on every
 * thread until the stop begins: vm_run reads them through a signalfd) and a
 * timer that signals the main thread alone. 0 or -errno.
 */
static int stop_hard_install(void)
{
	struct sigaction sa = { .sa_handler = stop_hard };
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGALRM };
	sigset_t stop_set;

	/* Blocked from now on (vm_run blocks them too): a stop signal before the loop waits for its signalfd. */
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
	sigfillset(&sa.sa_mask);
	sigdelset(&sa.sa_mask, SIGSYS);  /* a forbidden call in the handler still gets its line */
	if (sigaction(SIGALRM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -errno;
	sev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &stop_timer) < 0)
		return -errno;
	stop_timer_made = true;
	return 0;
}

/*
 * vm_run's stop hook: arm the deadline, whatever began the stop (a guest that
 * filled its queues before it wrote its status, or ran into --timeout, must
 * not hold vmm for minutes either); a second signal ends vmm from now on.
 */
static void stop_hard_arm(void *ctx, const struct vm_exit *ex)
{
	struct itimerspec its = { .it_value.tv_sec = STOP_DEADLINE_S };
	sigset_t set;

	(void)ctx;
	stop_began_ns = now_ns();
	stop_status = report_exit_status(ex);
	if (stop_timer_made)
		timer_settime(stop_timer, 0, &its, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* The stop is over: no deadline, and a stop signal now waits (blocked) until vmm has exited. */
static void stop_hard_disarm(void)
{
	struct itimerspec off = { 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (stop_timer_made)
		timer_settime(stop_timer, 0, &off, NULL);
}

/*
 * Started with stdin, stdout or stderr closed, the next file vmm opens would
 * take that number, and console output or vmm's own messages would land in
 * it: a drive image, say. /dev/null takes their place. 0, or -1.
 */
static int stdio_reopen(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", O_RDWR) != fd)
			return -1;
	}
	return 0;
}

/* --help, --version, --print-config: what to print instead of running a VM. The exit status, or -1 to run. */
static int info_print(const struct vm_config *cfg)
{
	struct vm_config_error cerr;
	int r;

	if (cfg->help) {
		vm_config_usage(stdout);
		return EXIT_OK;
	}
	if (cfg->version) {
		printf("vmm %s\n", VMM_VERSION);
		return EXIT_OK;
	}
	if (!cfg->print_config)
		return -1;
	/* A value INI cannot hold is the user's input: say which, print nothing. */
	if (vm_config_printable(cfg, &cerr) < 0) {
		report_line("%s", cerr.msg);
		return EXIT_USAGE;
	}
	r = vm_config_print(cfg, stdout);
	if (r < 0) {
		report_line("--print-config: cannot write the configuration: %s", strerror(-r));
		return EXIT_VMM_ERROR;
	}
	return EXIT_OK;
}

/* The drive images, opened before any guest memory exists. *nopen counts those open (close them). 0 or -errno. */
static int drives_open(const struct vm_config *cfg, struct blk_image *images, struct vm_drive *drives,
		       unsigned int *nopen)
{
	for (; *nopen < cfg->ndrives; (*nopen)++) {
		const struct vm_drive_config *d = &cfg->drives[*nopen];
		bool snapshot = d->snapshot == VM_SNAPSHOT_ON;
		/* A snapshot drive's image is only ever read: opened read-only, its lock shared. */
		int r = blk_image_open(d->file, d->cache, d->readonly || snapshot, &images[*nopen]);

		if (r < 0) {
			report_drive_open(d, r);
			return r;
		}
		if (!d->format_raw) {
			r = report_drive_format(d, &images[*nopen]);
			if (r < 0) {
				blk_image_close(&images[*nopen]);
				return r;
			}
		}
		/* The overlay goes in $TMPDIR (or /var/tmp) before the guest exists, so a bad TMPDIR is usage. */
		r = snapshot ? blk_image_snapshot(&images[*nopen], NULL) : 0;
		if (r < 0) {
			report_drive_snapshot(d, r);
			blk_image_close(&images[*nopen]);
			return r;
		}
		drives[*nopen].cfg = d;
		drives[*nopen].image = &images[*nopen];
	}
	return 0;
}

/* -v: what the sandbox enforces. */
static void sandbox_log(const struct vm_config *cfg, const struct sandbox *sb)
{
	int abi = sandbox_landlock_abi(sb);

	if (!cfg->verbose)
		return;
	report_line("sandbox: seccomp filters of %u (main), %u (vCPU), %u (drive I/O) BPF instructions",
		    sandbox_filter_len(sb, SANDBOX_ROLE_MAIN), sandbox_filter_len(sb, SANDBOX_ROLE_VCPU),
		    sandbox_filter_len(sb, SANDBOX_ROLE_IO));
	if (abi > 0)
		report_line("sandbox: Landlock ABI %d", abi);
	else
		report_line("sandbox: no Landlock: %s", abi == -ENOSYS ? "the kernel is built without it"
							      : "the kernel does not enable it (lsm=)");
}

/*
 * Once every file vmm needs is open and before any thread exists: --user,
 * then (unless --sandbox off) the filters, no_new_privs and Landlock, which
 * the threads vm_run starts inherit and enter (docs/security.md). 0 with *sb
 * (NULL under --sandbox off), or -1 after one line.
 */
static int sandbox_setup(const struct vm_config *cfg, int stats_dir, struct vm *vm, struct sandbox **sb)
{
	struct sandbox_params p = { .stats_dir_fd = stats_dir };
	struct sandbox_ids ids = { .uid = cfg->user_uid, .gid = cfg->user_gid };
	int r;

	*sb = NULL;
	if (cfg->user && (r = sandbox_ids_drop(&ids)) < 0) {
		report_line("--user %s: cannot become uid %u gid %u: %s", cfg->user, (unsigned)ids.uid,
			    (unsigned)ids.gid, strerror(-r));
		return -1;
	}
	if (!cfg->sandbox)
		return 0;
	r = sandbox_create(&p, sb);
	if (r < 0) {
		report_line("sandbox: cannot build the seccomp filters: %s (--sandbox off runs without them)",
			    strerror(-r));
		return -1;
	}
	r = sandbox_restrict(*sb);
	if (r < 0) {
		report_line("sandbox: cannot set no_new_privs or Landlock: %s (--sandbox off runs without them)",
			    strerror(-r));
		sandbox_destroy(*sb);
		*sb = NULL;
		return -1;
	}
	sandbox_log(cfg, *sb);
	vm_sandbox_set(vm, *sb);
	return 0;
}

/* After vm_run: the --stats file, and the status it may change. */
static int stats_write(const struct vm_config *cfg, struct vm *vm, const struct vm_exit *ex, int dir, int status)
{
	int r = vm_stats_write(vm, ex, dir, cfg->stats_path);

	if (r < 0) {
		report_line("--stats %s: cannot write: %s", cfg->stats_path, strerror(-r));
		if (status == EXIT_OK)
			status = EXIT_VMM_ERROR;
	}
	return status;
}

/* Build, run and take apart the VM: the exit status. kernel is what vm_boot_check opened; it is freed. */
static int vm_launch(const struct vm_config *cfg, struct vm_kernel_image *kernel, const struct vm_drive *drives,
		     uint64_t t_start)
{
	struct vm_log log = { .fn = report_debug, .verbose = cfg->verbose };
	struct sandbox *sb = NULL;
	struct vm_error verr;
	struct vm_exit ex;
	struct vm *vm = NULL;
	int status = EXIT_VMM_ERROR, stats_dir = -1, r;

	r = vm_create(cfg, kernel, drives, cfg->ndrives, &log, t_start, &vm, &verr);
	vm_kernel_image_free(kernel);
	if (r < 0)
		return report_vm_error(cfg, &verr);
	/* The sandbox lets main write the stats file only relative to its directory, opened now. */
	if (cfg->stats_path && (stats_dir = vm_stats_dir_open(cfg->stats_path)) < 0) {
		report_line("--stats %s: cannot open its directory: %s", cfg->stats_path, strerror(-stats_dir));
		goto destroy_vm;
	}
	r = stop_hard_install();
	if (r < 0) {
		report_line("setting up the stop's deadline: %s", strerror(-r));
		goto close_stats;
	}
	vm_stop_hook_set(vm, stop_hard_arm, NULL);
	if (sandbox_setup(cfg, stats_dir, vm, &sb) < 0)
		goto close_stats;
	if (cfg->serial == VM_SERIAL_STDIO)
		tty_make_raw();
	r = vm_run(vm, &ex);
	stop_hard_disarm();
	tty_restore();
	if (r < 0) {
		report_line("running the VM: %s", strerror(-r));
		goto free_sandbox;
	}
	status = report_exit(cfg, &ex);
	if (cfg->stats_path)
		status = stats_write(cfg, vm, &ex, stats_dir, status);
free_sandbox:
	sandbox_destroy(sb);
close_stats:
	if (stats_dir >= 0)
		close(stats_dir);
destroy_vm:
	vm_destroy(vm);
	return status;
}

int main(int argc, char **argv)
{
	uint64_t t_start = now_ns();
	struct vm_config cfg;
	struct vm_config_error cerr;
	struct blk_image images[VM_MAX_DRIVES];
	struct vm_drive drives[VM_MAX_DRIVES];
	struct vm_kernel_image kernel = VM_KERNEL_IMAGE_INIT;
	struct vm_error verr;
	unsigned int nopen = 0;
	int status = EXIT_USAGE;

	if (stdio_reopen() < 0)
		return EXIT_VMM_ERROR;
	/* A console piped into a reader that quits (| head) must not kill the VM. */
	signal(SIGPIPE, SIG_IGN);
	vm_config_init(&cfg);
	if (vm_config_from_args(&cfg, argc, argv, &cerr) < 0) {
		report_line("%s", cerr.msg);
		goto free_cfg;
	}
	status = info_print(&cfg);
	if (status >= 0)
		goto free_cfg;
	status = EXIT_USAGE;
	/*
	 * Every user-supplied file is checked before /dev/kvm is opened or any
	 * guest memory exists, so bad input is reported as such (status 2)
	 * even where /dev/kvm is not usable.
	 */
	if (report_inputs_check(&cfg) < 0)
		goto free_cfg;
	if (vm_boot_check(&cfg, &kernel, &verr) < 0) {
		status = report_vm_error(&cfg, &verr);
		goto free_cfg;
	}
	report_kernel_cache(&cfg, &kernel.cache);
	if (drives_open(&cfg, images, drives, &nopen) == 0)
		status = vm_launch(&cfg, &kernel, drives, t_start);
	while (nopen > 0)
		blk_image_close(&images[--nopen]);
	vm_kernel_image_free(&kernel);
free_cfg:
	vm_config_free(&cfg);
	fflush(stdout);
	return status;
}

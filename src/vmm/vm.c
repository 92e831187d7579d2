// SPDX-License-Identifier: MIT
/* VM lifecycle: build the machine, run one thread per vCPU, dispatch port and MMIO exits, stop cleanly. */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "acpi.h"
#include "gmem.h"
#include "json.h"
#include "kvm_x86.h"
#include "serial.h"
#include "virtio_blk.h"
#include "x86_boot.h"
#include "x86_layout.h"

/* Parameters vmm adds to every kernel command line (docs/guest.md). */
#define VM_KERNEL_PARAMS "reboot=k panic=-1 pci=off"
/* The kernel command line when the user gives none. */
#define VM_CMDLINE_DEFAULT "console=ttyS0"
#define VM_CMDLINE_MAX 2048
#define VM_QUEUE_SIZE 256
/* Signal used only to kick vCPU threads out of KVM_RUN. */
#define VM_SIG_KICK SIGUSR1

/* ACPI sleep control register bits (ACPI 6.x, 4.8.3.7). */
#define SLP_EN 0x20
#define SLP_TYP_SHIFT 2
#define SLP_TYP_MASK 0x7
#define VM_S5_SLP_TYP 5
/* Value the guest writes to the FADT reset register. */
#define VM_ACPI_RESET_VALUE 1

struct vm_vcpu {
	struct vm *vm;
	struct kvm_vcpu kvm;
	pthread_t thread;
	bool started;
	bool ended;   /* the thread is past its run loop (vm->vcpu_lock) */
};

/*
 * -v logs at most this many unhandled guest accesses, then says it stops: a
 * guest that polls a port nobody serves would otherwise flood stderr.
 */
#define VM_UNHANDLED_LOG_MAX 256u

struct vm {
	const struct vm_config *cfg;
	struct vm_log log;
	_Atomic uint64_t unhandled;   /* unhandled guest accesses seen with -v */
	struct kvm_sys sys;
	struct kvm_vm kvm;
	bool kvm_open, vm_open;

	struct gmem mem;
	unsigned int nram;

	struct vm_vcpu *vcpus;
	unsigned int ncpus;

	struct serial serial;
	int serial_out;            /* fd guest console output goes to, -1 for none */
	bool serial_out_owned;

	struct vblk_dev *drives[VM_MAX_DRIVES];
	const struct vm_drive *drive_in;
	unsigned int ndrives;

	/* The first stop request wins; the main loop is woken through exit_fd. */
	atomic_bool stopping;
	pthread_mutex_t exit_lock;
	bool exit_set;
	struct vm_exit exit;
	int exit_fd;
	/* A vCPU thread that ends says so here, for vm_vcpus_stop (cond on CLOCK_MONOTONIC). */
	pthread_mutex_t vcpu_lock;
	pthread_cond_t vcpu_ended;

	uint64_t t_start_ns;
	_Atomic uint64_t t_first_run_ns;
	_Atomic uint64_t t_boot_marker_ns;
};

static uint64_t vm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void vm_debug(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	if (!vm->log.verbose || !vm->log.fn)
		return;
	va_start(ap, fmt);
	vm->log.fn(vm->log.ctx, fmt, ap);
	va_end(ap);
}

/* -v: an access to a port or address nothing serves; the first VM_UNHANDLED_LOG_MAX of them. */
static void vm_debug_unhandled(struct vm *vm, const char *fmt, ...)
{
	uint64_t n;
	va_list ap;

	if (!vm->log.verbose || !vm->log.fn)
		return;
	n = atomic_fetch_add(&vm->unhandled, 1);
	if (n > VM_UNHANDLED_LOG_MAX)
		return;
	if (n == VM_UNHANDLED_LOG_MAX) {
		vm_debug(vm, "more than %u unhandled guest accesses: not logging any more of them",
			 VM_UNHANDLED_LOG_MAX);
		return;
	}
	va_start(ap, fmt);
	vm->log.fn(vm->log.ctx, fmt, ap);
	va_end(ap);
}

/* -v: how long each set-up step took since exec, to keep set-up cost visible. */
static void vm_debug_step(struct vm *vm, const char *step)
{
	vm_debug(vm, "set-up: %s done at %.3f ms", step, (vm_now_ns() - vm->t_start_ns) / 1e6);
}

/* Record why the VM stops (first caller wins) and wake the main loop. */
static void vm_request_exit(struct vm *vm, const struct vm_exit *ex)
{
	uint64_t one = 1;

	pthread_mutex_lock(&vm->exit_lock);
	if (!vm->exit_set) {
		vm->exit = *ex;
		vm->exit_set = true;
	}
	pthread_mutex_unlock(&vm->exit_lock);
	atomic_store(&vm->stopping, true);
	if (write(vm->exit_fd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow with our few writes; nothing to do. */
	}
}

static void vm_request_exit_kind(struct vm *vm, enum vm_exit_kind kind, int status)
{
	struct vm_exit ex = { .kind = kind, .status = status };

	vm_request_exit(vm, &ex);
}

/* ---- serial console glue ---- */

static void vm_serial_tx(void *ctx, uint8_t byte)
{
	struct vm *vm = ctx;

	/* Once the VM is stopping, bytes are dropped (a `rep outsb` may still have many to go). */
	if (vm->serial_out < 0 || atomic_load(&vm->stopping))
		return;
	/*
	 * A reader that stops reading holds the vCPU here, as a real line would
	 * hold the UART. The stop kicks (vm_vcpus_stop repeats them until the
	 * thread ends) interrupt the write (EINTR), and the byte is dropped, so
	 * no reader can keep vmm from stopping.
	 */
	while (write(vm->serial_out, &byte, 1) < 0 && errno == EINTR && !atomic_load(&vm->stopping))
		;
}

static void vm_serial_set_irq(void *ctx, int level)
{
	struct vm *vm = ctx;

	kvm_vm_irq_line(&vm->kvm, SERIAL_COM1_IRQ, level);
}

static const struct serial_ops vm_serial_ops = {
	.tx = vm_serial_tx,
	.set_irq = vm_serial_set_irq,
};

/* ---- port I/O ---- */

static void vm_pio_out(struct vm *vm, uint16_t port, const uint8_t *data, unsigned int size)
{
	if (port >= SERIAL_COM1_BASE && port < SERIAL_COM1_BASE + SERIAL_NREGS) {
		serial_write(&vm->serial, port - SERIAL_COM1_BASE, data[0]);
		return;
	}
	switch (port) {
	case X86_PORT_EXIT_STATUS:
		vm_request_exit_kind(vm, VM_EXIT_PORT, data[0]);
		return;
	case X86_PORT_BOOT_MARKER: {
		uint64_t zero = 0;

		atomic_compare_exchange_strong(&vm->t_boot_marker_ns, &zero, vm_now_ns());
		return;
	}
	case X86_PORT_ACPI_SLEEP_CTL:
		/* Linux in hardware-reduced ACPI mode writes SLP_TYPx << 2 | SLP_EN here. */
		if ((data[0] & SLP_EN) && ((data[0] >> SLP_TYP_SHIFT) & SLP_TYP_MASK) == VM_S5_SLP_TYP)
			vm_request_exit_kind(vm, VM_EXIT_POWEROFF, 0);
		return;
	case X86_PORT_ACPI_RESET:
		if (data[0] == VM_ACPI_RESET_VALUE)
			vm_request_exit_kind(vm, VM_EXIT_RESET, 0);
		return;
	case 0x64:
		/* i8042 command 0xFE pulses the CPU reset line: what reboot=k uses. */
		if (data[0] == 0xfe)
			vm_request_exit_kind(vm, VM_EXIT_RESET, 0);
		return;
	case 0x80:
		return;  /* POST code / I/O delay port: silent */
	default:
		vm_debug_unhandled(vm, "unhandled port write 0x%x size %u", port, size);
	}
}

static void vm_pio_in(struct vm *vm, uint16_t port, uint8_t *data, unsigned int size)
{
	memset(data, 0xff, size);  /* unclaimed ports float high */
	if (port >= SERIAL_COM1_BASE && port < SERIAL_COM1_BASE + SERIAL_NREGS) {
		data[0] = serial_read(&vm->serial, port - SERIAL_COM1_BASE);
		return;
	}
	switch (port) {
	case 0x64:
		data[0] = 0x00;  /* i8042 status: both buffers empty, so kb_wait() never spins */
		return;
	case 0x60:
		data[0] = 0x00;
		return;
	case X86_PORT_ACPI_SLEEP_STS:
		data[0] = 0x00;
		return;
	case 0x80:
		return;
	default:
		vm_debug_unhandled(vm, "unhandled port read 0x%x size %u", port, size);
	}
}

static void vm_handle_pio(struct vm *vm, struct kvm_run *run, size_t run_size)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned int size = run->io.size;

	/* KVM promises both; checking costs nothing next to the exit itself. */
	if ((size != 1 && size != 2 && size != 4) ||
	    run->io.data_offset > run_size || (uint64_t)size * run->io.count > run_size - run->io.data_offset) {
		vm_debug_unhandled(vm, "port I/O exit with size %u count %u at offset %llu: ignored", size,
				   run->io.count, (unsigned long long)run->io.data_offset);
		return;
	}

	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			vm_pio_out(vm, run->io.port, data, size);
		else
			vm_pio_in(vm, run->io.port, data, size);
	}
}

/* ---- MMIO ---- */

static void vm_handle_mmio(struct vm *vm, struct kvm_run *run)
{
	uint64_t addr = run->mmio.phys_addr;
	unsigned int len = run->mmio.len;

	if (len > sizeof(run->mmio.data))
		return;   /* KVM never exits with more than 8 bytes */

	if (addr >= X86_VIRTIO_MMIO_BASE &&
	    addr < X86_VIRTIO_MMIO_BASE + (uint64_t)vm->ndrives * X86_VIRTIO_MMIO_STRIDE) {
		unsigned int idx = (addr - X86_VIRTIO_MMIO_BASE) / X86_VIRTIO_MMIO_STRIDE;
		uint64_t off = (addr - X86_VIRTIO_MMIO_BASE) % X86_VIRTIO_MMIO_STRIDE;

		if (off + len <= VBLK_MMIO_SIZE) {
			if (run->mmio.is_write)
				vblk_mmio_write(vm->drives[idx], off, run->mmio.data, len);
			else
				vblk_mmio_read(vm->drives[idx], off, run->mmio.data, len);
			return;
		}
	}
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	vm_debug_unhandled(vm, "unhandled mmio %s 0x%llx len %u", run->mmio.is_write ? "write" : "read",
			   (unsigned long long)addr, len);
}

/* ---- vCPU threads ---- */

static void vm_internal_exit(struct vm *vm, struct vm_vcpu *v, const char *what)
{
	struct vm_exit ex = { .kind = VM_EXIT_INTERNAL, .what = what };
	int n;

	n = snprintf(ex.detail, sizeof(ex.detail), "vcpu %u: exit reason %u", v->kvm.id,
		     v->kvm.run->exit_reason);
	if (v->kvm.run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		n += snprintf(ex.detail + n, sizeof(ex.detail) - n, ", suberror %u",
			      v->kvm.run->internal.suberror);
	else if (v->kvm.run->exit_reason == KVM_EXIT_FAIL_ENTRY)
		n += snprintf(ex.detail + n, sizeof(ex.detail) - n, ", hardware entry failure reason 0x%llx",
			      (unsigned long long)v->kvm.run->fail_entry.hardware_entry_failure_reason);
	if (n > 0 && (size_t)n < sizeof(ex.detail) - 1) {
		ex.detail[n++] = '\n';
		ex.detail[n] = '\0';
		kvm_vcpu_format_regs(&v->kvm, ex.detail + n, sizeof(ex.detail) - n);
	}
	vm_request_exit(vm, &ex);
}

/*
 * A triple fault resets the machine as a reboot does, but it is a crash, so
 * the registers go with it for main.c to report. (On AMD, KVM has already
 * reset the vCPU when it reports the exit, so they show the reset state.)
 */
static void vm_triple_fault_exit(struct vm *vm, struct vm_vcpu *v)
{
	struct vm_exit ex = { .kind = VM_EXIT_TRIPLE_FAULT };

	kvm_vcpu_format_regs(&v->kvm, ex.detail, sizeof(ex.detail));
	vm_request_exit(vm, &ex);
}

static void vm_kick_handler(int sig)
{
	(void)sig;  /* only here so the signal interrupts KVM_RUN */
}

static void *vm_vcpu_thread(void *arg)
{
	struct vm_vcpu *v = arg;
	struct vm *vm = v->vm;
	struct kvm_run *run = v->kvm.run;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, VM_SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!atomic_load(&vm->stopping)) {
		int r;

		if (v->kvm.id == 0) {
			uint64_t zero = 0;

			atomic_compare_exchange_strong(&vm->t_first_run_ns, &zero, vm_now_ns());
		}
		r = kvm_vcpu_run(&v->kvm);
		if (r == -EINTR || r == -EAGAIN) {
			/*
			 * Sequentially consistent, as vm_vcpus_stop's set is: a plain
			 * store may pass the load of `stopping` below (x86 lets a load
			 * overtake an earlier store), and a stop whose kick was this
			 * EINTR would then go unseen, its immediate_exit wiped.
			 */
			__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
			continue;
		}
		if (r < 0) {
			struct vm_exit ex = { .kind = VM_EXIT_ERROR, .err = r, .what = "KVM_RUN" };

			vm_request_exit(vm, &ex);
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			vm_handle_pio(vm, run, v->kvm.run_size);
			break;
		case KVM_EXIT_MMIO:
			vm_handle_mmio(vm, run);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_HLT:
			/* Only without an in-kernel LAPIC; we always have one. Treat as a stop. */
			vm_request_exit_kind(vm, VM_EXIT_POWEROFF, 0);
			break;
		case KVM_EXIT_SHUTDOWN:
			vm_triple_fault_exit(vm, v);
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
				vm_request_exit_kind(vm, VM_EXIT_POWEROFF, 0);
			else
				vm_request_exit_kind(vm, VM_EXIT_RESET, 0);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			vm_internal_exit(vm, v, "KVM internal error");
			break;
		case KVM_EXIT_FAIL_ENTRY:
			vm_internal_exit(vm, v, "VM entry failed");
			break;
		default:
			vm_internal_exit(vm, v, "unexpected KVM exit");
			break;
		}
	}
	pthread_mutex_lock(&vm->vcpu_lock);
	v->ended = true;
	pthread_cond_broadcast(&vm->vcpu_ended);
	pthread_mutex_unlock(&vm->vcpu_lock);
	return NULL;
}

/* How often vm_vcpus_stop kicks a vCPU thread that has not ended yet. */
#define VM_REKICK_NS (20 * 1000 * 1000ull)

/* Wait until v's thread has left its run loop, kicking it again every VM_REKICK_NS meanwhile. */
static void vm_vcpu_wait_ended(struct vm *vm, struct vm_vcpu *v)
{
	pthread_mutex_lock(&vm->vcpu_lock);
	while (!v->ended) {
		/* The monotonic clock, which no clock step moves (vcpu_ended was made with it). */
		uint64_t t = vm_now_ns() + VM_REKICK_NS;
		struct timespec until = { .tv_sec = (time_t)(t / 1000000000u), .tv_nsec = (long)(t % 1000000000u) };

		if (pthread_cond_timedwait(&vm->vcpu_ended, &vm->vcpu_lock, &until) == ETIMEDOUT && !v->ended)
			pthread_kill(v->thread, VM_SIG_KICK);
	}
	pthread_mutex_unlock(&vm->vcpu_lock);
}

static void vm_vcpus_stop(struct vm *vm)
{
	atomic_store(&vm->stopping, true);
	if (!vm->vcpus)
		return;
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		struct vm_vcpu *v = &vm->vcpus[i];

		if (!v->started)
			continue;
		/* immediate_exit closes the race with a thread just about to enter KVM_RUN. */
		__atomic_store_n(&v->kvm.run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		pthread_kill(v->thread, VM_SIG_KICK);
	}
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		struct vm_vcpu *v = &vm->vcpus[i];

		if (!v->started)
			continue;
		/*
		 * A kick that lands after a vCPU left KVM_RUN but before it blocked
		 * in a console write (vm_serial_tx) interrupts nothing, and a
		 * reader that stopped reading would then hold it for ever. Kick
		 * again until it is gone: the next kick interrupts the write.
		 */
		vm_vcpu_wait_ended(vm, v);
		pthread_join(v->thread, NULL);
		v->started = false;
	}
}

/* ---- set-up ---- */

static int vm_fail(struct vm_error *err, enum vm_stage stage, int r, const char *subject)
{
	err->stage = stage;
	err->err = r;
	err->subject = subject;
	return r;
}

/* The loader refused kernel file f (or could not read it): its reason, in words for main.c. */
static int vm_kernel_fail(struct vm_error *err, int r, const struct vm_config *cfg, const struct x86_kernel *k,
			  const struct boot_file *f)
{
	vm_fail(err, VM_STAGE_KERNEL, r, cfg->kernel);
	x86_kernel_fault_describe(&k->fault, f->size, cfg->memory, err->kernel_why, sizeof(err->kernel_why));
	return r;
}

static int vm_ram_create(struct vm *vm, uint64_t mem_bytes)
{
	struct gmem_region regions[2];
	unsigned int n = x86_ram_layout(mem_bytes, regions);

	for (unsigned int i = 0; i < n; i++) {
		void *p = mmap(NULL, regions[i].size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		int r;

		if (p == MAP_FAILED)
			return -errno;
		/*
		 * Guest RAM is not worth a core dump. Huge pages cut the page
		 * faults of loading a kernel (a 57 MB vmlinux: ~50 ms with 4 KiB
		 * faults, ~15 ms with 2 MiB ones, see docs/benchmarks.md) and the
		 * guest's TLB misses; hosts whose THP mode is "madvise" give them
		 * only to memory that asks.
		 */
		madvise(p, regions[i].size, MADV_DONTDUMP);
		madvise(p, regions[i].size, MADV_HUGEPAGE);
		regions[i].host = p;
		vm->mem.regions[i] = regions[i];
		vm->mem.nregions = ++vm->nram;
		r = kvm_vm_set_memslot(&vm->kvm, i, regions[i].gpa, regions[i].size, p);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Open a user-supplied input file read-only: an fd and its stat, or -errno (-EISDIR for a directory). */
static int vm_file_open(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (S_ISDIR(st->st_mode)) {
		close(fd);
		return -EISDIR;
	}
	return fd;
}

/* Read size bytes at offset off into dst: 0, -errno, or -ENODATA if the file ended first (it shrank meanwhile). */
static int vm_file_read_at(int fd, void *dst, uint64_t size, uint64_t off)
{
	uint64_t done = 0;

	while (done < size) {
		ssize_t n = pread(fd, (char *)dst + done, size - done, off + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		done += n;
	}
	return 0;
}

static int vm_kernel_read(const struct boot_file *f, void *dst, uint64_t len, uint64_t off)
{
	const struct vm_kernel_image *image = f->ctx;

	return vm_file_read_at(image->fd, dst, len, off);
}

/* The loader's view of the file vm_kernel_open opened. */
static void vm_kernel_file(const struct vm_kernel_image *image, struct boot_file *f)
{
	f->head = image->head;
	f->head_len = image->head_len;
	f->size = image->size;
	f->read = vm_kernel_read;
	f->ctx = image;
}

/*
 * Open the kernel file and read its head, the bytes that hold every header
 * the loader looks at, into a private buffer: the headers are checked once
 * and the same copy drives the load, however the file changes meanwhile (a
 * mapping would show the changes, or raise SIGBUS if it shrank). The rest is
 * read straight into guest RAM by x86_kernel_load, through the open fd.
 */
static int vm_kernel_open(const char *path, struct vm_kernel_image *image)
{
	struct stat st;
	int fd = vm_file_open(path, &st);
	size_t len;
	void *head;
	int r;

	if (fd < 0)
		return fd;
	if (st.st_size == 0) {
		r = -ENOEXEC;
		goto close_fd;
	}
	len = (uint64_t)st.st_size < BOOT_FILE_HEAD_MAX ? (size_t)st.st_size : BOOT_FILE_HEAD_MAX;
	head = malloc(len);
	if (!head) {
		r = -ENOMEM;
		goto close_fd;
	}
	r = vm_file_read_at(fd, head, len, 0);
	if (r < 0) {
		free(head);
		goto close_fd;
	}
	*image = (struct vm_kernel_image){ .fd = fd, .size = st.st_size, .head = head, .head_len = len };
	return 0;
close_fd:
	close(fd);
	return r;
}

/* x86_initrd_place's verdict, with err saying what would make room when the initrd does not fit. */
static int vm_initrd_place(const struct vm_config *cfg, const struct gmem *mem, const struct x86_kernel *k,
			   uint64_t size, uint64_t *gpa, struct vm_error *err)
{
	enum x86_initrd_limit which;
	int r = x86_initrd_place(mem, k, size, gpa);

	if (r == 0)
		return 0;
	vm_fail(err, VM_STAGE_INITRD, r, cfg->initrd);
	err->size = size;
	err->limit = x86_initrd_top(mem, k, &which);
	if (which == X86_INITRD_LIMIT_KERNEL)
		err->bound = VM_INITRD_BOUND_KERNEL;
	else if (which == X86_INITRD_LIMIT_4G || cfg->memory >= X86_LOWMEM_MAX)
		err->bound = VM_INITRD_BOUND_LOWMEM;
	else
		err->bound = VM_INITRD_BOUND_RAM;
	return r;
}

/* Read the initrd straight into guest RAM at the place the kernel allows. */
static int vm_initrd_load(struct vm *vm, const struct x86_kernel *k, uint64_t *gpa, uint64_t *size,
			  struct vm_error *err)
{
	const char *path = vm->cfg->initrd;
	struct stat st;
	int fd = vm_file_open(path, &st);
	int r;
	char *dst;

	if (fd < 0)
		return vm_fail(err, VM_STAGE_INITRD, fd, path);
	r = vm_initrd_place(vm->cfg, &vm->mem, k, st.st_size, gpa, err);
	if (r < 0)
		goto close_fd;
	dst = gmem_ptr(&vm->mem, *gpa, st.st_size);
	if (!dst) {
		r = vm_fail(err, VM_STAGE_INITRD, -ENOMEM, path);
		goto close_fd;
	}
	r = vm_file_read_at(fd, dst, st.st_size, 0);
	if (r < 0) {
		vm_fail(err, VM_STAGE_INITRD, r, path);
		goto close_fd;
	}
	*size = st.st_size;
	r = 0;
close_fd:
	close(fd);
	return r;
}

void vm_kernel_image_free(struct vm_kernel_image *image)
{
	free(image->head);
	if (image->fd >= 0)
		close(image->fd);
	*image = (struct vm_kernel_image)VM_KERNEL_IMAGE_INIT;
}

/* The full command line into out (VM_CMDLINE_MAX bytes), within the kernel's own limit. */
static int vm_cmdline_make(const struct vm_config *cfg, const struct x86_kernel *k, char *out,
			   struct vm_error *err)
{
	/* The kernel's own limit (header cmdline_size) may be below our buffer. */
	size_t cap = k->cmdline_cap < VM_CMDLINE_MAX ? k->cmdline_cap : VM_CMDLINE_MAX;
	int r = boot_cmdline_build(out, cap, cfg->cmdline ? cfg->cmdline : VM_CMDLINE_DEFAULT, VM_KERNEL_PARAMS);

	if (r < 0) {
		vm_fail(err, VM_STAGE_CMDLINE, r, NULL);
		err->cmdline_max = cap - 1;
	}
	return r < 0 ? r : 0;
}

int vm_boot_check(const struct vm_config *cfg, struct vm_kernel_image *kernel, struct vm_error *err)
{
	struct gmem layout = { .nregions = 0 };
	char cmdline[VM_CMDLINE_MAX];
	struct boot_file f;
	struct x86_kernel k;
	int r;

	memset(err, 0, sizeof(*err));
	*kernel = (struct vm_kernel_image)VM_KERNEL_IMAGE_INIT;
	layout.nregions = x86_ram_layout(cfg->memory, layout.regions);
	r = vm_kernel_open(cfg->kernel, kernel);
	if (r < 0)
		return vm_fail(err, VM_STAGE_KERNEL, r, cfg->kernel);
	vm_kernel_file(kernel, &f);
	r = x86_kernel_check(&layout, &f, &k);
	if (r < 0) {
		vm_kernel_fail(err, r, cfg, &k, &f);
		goto free_kernel;
	}
	if (cfg->initrd) {
		struct stat st;
		uint64_t gpa;
		int fd = vm_file_open(cfg->initrd, &st);

		if (fd < 0) {
			r = vm_fail(err, VM_STAGE_INITRD, fd, cfg->initrd);
			goto free_kernel;
		}
		close(fd);
		r = vm_initrd_place(cfg, &layout, &k, st.st_size, &gpa, err);
		if (r < 0)
			goto free_kernel;
	}
	r = vm_cmdline_make(cfg, &k, cmdline, err);
	if (r == 0)
		return 0;
free_kernel:
	vm_kernel_image_free(kernel);
	return r;
}

static int vm_acpi_build(struct vm *vm, uint64_t *rsdp)
{
	struct acpi_machine m = {
		.ncpus = vm->ncpus,
		.lapic_addr = X86_LAPIC_BASE,
		.ioapic_addr = X86_IOAPIC_BASE,
		.ioapic_id = vm->ncpus,
		.sleep_control_port = X86_PORT_ACPI_SLEEP_CTL,
		.sleep_status_port = X86_PORT_ACPI_SLEEP_STS,
		.s5_slp_typ = VM_S5_SLP_TYP,
		.reset_port = X86_PORT_ACPI_RESET,
		.reset_value = VM_ACPI_RESET_VALUE,
		.nvirtio = vm->ndrives,
	};
	uint64_t size = X86_ACPI_END - X86_ACPI_START;
	uint8_t *buf = gmem_ptr(&vm->mem, X86_ACPI_START, size);
	int r;

	for (unsigned int i = 0; i < vm->ndrives; i++) {
		m.virtio[i].base = X86_VIRTIO_MMIO_BASE + (uint64_t)i * X86_VIRTIO_MMIO_STRIDE;
		m.virtio[i].size = VBLK_MMIO_SIZE;
		m.virtio[i].gsi = X86_VIRTIO_MMIO_GSI_BASE + i;
	}
	if (!buf)
		return -ENOMEM;
	r = acpi_tables_build(&m, buf, size, X86_ACPI_START, rsdp);
	return r < 0 ? r : 0;
}

static int vm_boot_setup(struct vm *vm, const struct vm_kernel_image *kernel, struct vm_error *err)
{
	const struct vm_config *cfg = vm->cfg;
	struct boot_file f;
	struct x86_kernel k;
	uint64_t initrd_gpa = 0, initrd_size = 0, rsdp = 0;
	char cmdline[VM_CMDLINE_MAX];
	char *dst;
	int r;

	vm_kernel_file(kernel, &f);
	r = x86_kernel_load(&vm->mem, &f, &k);
	if (r < 0)
		return vm_kernel_fail(err, r, cfg, &k, &f);
	if (cfg->initrd) {
		r = vm_initrd_load(vm, &k, &initrd_gpa, &initrd_size, err);
		if (r < 0)
			return r;
	}
	r = vm_cmdline_make(cfg, &k, cmdline, err);
	if (r < 0)
		return r;
	dst = gmem_ptr(&vm->mem, X86_CMDLINE_ADDR, strlen(cmdline) + 1);
	if (!dst)
		return vm_fail(err, VM_STAGE_BOOT, -ENOMEM, NULL);
	memcpy(dst, cmdline, strlen(cmdline) + 1);

	r = vm_acpi_build(vm, &rsdp);
	if (r < 0)
		return vm_fail(err, VM_STAGE_BOOT, r, "ACPI tables");
	r = x86_boot_params_build(&vm->mem, &k, cfg->memory, X86_CMDLINE_ADDR, initrd_gpa, initrd_size, rsdp);
	if (r < 0)
		return vm_fail(err, VM_STAGE_BOOT, r, "boot_params");
	r = x86_page_tables_build(&vm->mem);
	if (r < 0)
		return vm_fail(err, VM_STAGE_BOOT, r, "page tables");
	r = x86_gdt_build(&vm->mem);
	if (r < 0)
		return vm_fail(err, VM_STAGE_BOOT, r, "GDT");

	/* Only the boot CPU starts at the kernel entry; the others wait for INIT/SIPI in the in-kernel LAPIC. */
	{
		struct kvm_vcpu *bsp = &vm->vcpus[0].kvm;
		struct kvm_sregs sregs;
		struct kvm_regs regs;

		r = kvm_vcpu_get_sregs(bsp, &sregs);
		if (r < 0)
			return vm_fail(err, VM_STAGE_VCPU, r, NULL);
		x86_sregs_long_mode(&sregs);
		r = kvm_vcpu_set_sregs(bsp, &sregs);
		if (r < 0)
			return vm_fail(err, VM_STAGE_VCPU, r, NULL);
		x86_regs_boot(&regs, k.entry);
		r = kvm_vcpu_set_regs(bsp, &regs);
		if (r < 0)
			return vm_fail(err, VM_STAGE_VCPU, r, NULL);
	}
	return 0;
}

static int vm_vcpus_create(struct vm *vm, struct vm_error *err)
{
	struct kvm_cpuid2 *supported = NULL;
	int r;

	r = kvm_sys_get_supported_cpuid(&vm->sys, &supported);
	if (r < 0)
		return vm_fail(err, VM_STAGE_VCPU, r, "KVM_GET_SUPPORTED_CPUID");
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		r = vm_fail(err, VM_STAGE_VCPU, -ENOMEM, NULL);
		goto free_supported;
	}
	for (unsigned int i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].kvm.fd = -1;
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		struct vm_vcpu *v = &vm->vcpus[i];
		struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
		struct kvm_cpuid2 *cpuid;

		v->vm = vm;
		r = kvm_vcpu_create(&vm->sys, &vm->kvm, i, &v->kvm);
		if (r < 0)
			goto fail;
		/* Each vCPU gets its own APIC id and the topology of ncpus cores in the CPUID it sees. */
		r = kvm_cpuid_make_vcpu(supported, i, vm->ncpus, &cpuid);
		if (r < 0)
			goto fail;
		r = kvm_vcpu_set_cpuid(&v->kvm, cpuid);
		free(cpuid);
		if (r < 0)
			goto fail;
		r = kvm_vcpu_setup_msrs(&v->kvm, NULL);
		if (r < 0)
			goto fail;
		r = kvm_vcpu_set_fpu(&v->kvm, &fpu);
		if (r < 0)
			goto fail;
		r = kvm_vcpu_setup_lapic(&v->kvm);
		if (r < 0)
			goto fail;
	}
	r = 0;
	goto free_supported;
fail:
	vm_fail(err, VM_STAGE_VCPU, r, NULL);
free_supported:
	free(supported);
	return r;
}

/* The config's default poll= is the device's own default window, in us. */
_Static_assert(VM_DRIVE_POLL_US_DEFAULT * 1000ull == VBLK_POLL_MAX_NS_DEFAULT,
	       "VM_DRIVE_POLL_US_DEFAULT and VBLK_POLL_MAX_NS_DEFAULT disagree");

static int vm_drives_create(struct vm *vm, const struct vm_drive *drives, unsigned int n,
			    struct vm_error *err)
{
	for (unsigned int i = 0; i < n; i++) {
		struct vblk_params p = {
			.image = drives[i].image,
			.serial = drives[i].cfg->serial,
			.queue_size = VM_QUEUE_SIZE,
			/* Busy-poll before sleeping (docs/configuration.md, docs/benchmarks.md); negative: never. */
			.poll_max_ns = drives[i].cfg->poll_us ? (int64_t)drives[i].cfg->poll_us * 1000 : -1,
		};
		uint64_t base = X86_VIRTIO_MMIO_BASE + (uint64_t)i * X86_VIRTIO_MMIO_STRIDE;
		int r;

		r = vblk_create(&p, &vm->mem, &vm->drives[i]);
		if (r < 0)
			return vm_fail(err, VM_STAGE_DRIVE, r, drives[i].cfg->file);
		vm->ndrives = i + 1;
		/* Queue kicks never leave the kernel: KVM signals the device's eventfd directly. */
		r = kvm_vm_ioeventfd(&vm->kvm, vblk_notify_fd(vm->drives[i]),
				     base + VBLK_MMIO_QUEUE_NOTIFY, 4, false);
		if (r < 0)
			return vm_fail(err, VM_STAGE_DRIVE, r, drives[i].cfg->file);
		r = kvm_vm_irqfd(&vm->kvm, vblk_irq_fd(vm->drives[i]), X86_VIRTIO_MMIO_GSI_BASE + i);
		if (r < 0)
			return vm_fail(err, VM_STAGE_DRIVE, r, drives[i].cfg->file);
	}
	return 0;
}

static int vm_serial_open(struct vm *vm, struct vm_error *err)
{
	switch (vm->cfg->serial) {
	case VM_SERIAL_NONE:
		vm->serial_out = -1;
		break;
	case VM_SERIAL_FILE:
		/* O_NONBLOCK: a FIFO nobody reads would block the open for ever; it says ENXIO instead. */
		vm->serial_out = open(vm->cfg->serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
		if (vm->serial_out < 0)
			return vm_fail(err, VM_STAGE_SERIAL, -errno, vm->cfg->serial_path);
		vm->serial_out_owned = true;
		/* Writes block again (vm_serial_tx): a slow reader slows the guest, as a slow line would. */
		int fl = fcntl(vm->serial_out, F_GETFL);

		if (fl < 0 || fcntl(vm->serial_out, F_SETFL, fl & ~O_NONBLOCK) < 0)
			return vm_fail(err, VM_STAGE_SERIAL, -errno, vm->cfg->serial_path);
		break;
	default:
		vm->serial_out = STDOUT_FILENO;
		break;
	}
	return 0;
}

int vm_create(const struct vm_config *cfg, const struct vm_kernel_image *kernel, const struct vm_drive *drives,
	      unsigned int ndrives, const struct vm_log *log, uint64_t t_start_ns, struct vm **out,
	      struct vm_error *err)
{
	struct vm *vm;
	int r;

	memset(err, 0, sizeof(*err));
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return vm_fail(err, VM_STAGE_MEMORY, -ENOMEM, NULL);
	vm->cfg = cfg;
	if (log)
		vm->log = *log;
	vm->ncpus = cfg->cpus;
	vm->drive_in = drives;
	vm->t_start_ns = t_start_ns;
	vm->serial_out = -1;
	pthread_mutex_init(&vm->exit_lock, NULL);
	pthread_mutex_init(&vm->vcpu_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&vm->vcpu_ended, &ca);
		pthread_condattr_destroy(&ca);
	}
	vm->exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->exit_fd < 0) {
		r = vm_fail(err, VM_STAGE_KVM, -errno, NULL);
		goto destroy;
	}

	vm_debug_step(vm, "start");
	r = kvm_sys_open(&vm->sys, NULL);
	if (r < 0) {
		vm_fail(err, VM_STAGE_KVM, r, "/dev/kvm");
		if (r == -ENOSYS)
			err->cap = kvm_sys_missing_cap(&vm->sys);
		goto destroy;
	}
	vm->kvm_open = true;
	r = kvm_vm_create(&vm->sys, &vm->kvm);
	if (r < 0) {
		vm_fail(err, VM_STAGE_KVM, r, "KVM_CREATE_VM");
		goto destroy;
	}
	vm->vm_open = true;
	r = kvm_vm_setup_x86(&vm->kvm);
	if (r < 0) {
		vm_fail(err, VM_STAGE_KVM, r, "irqchip/PIT");
		goto destroy;
	}
	r = vm_ram_create(vm, cfg->memory);
	if (r < 0) {
		vm_fail(err, VM_STAGE_MEMORY, r, NULL);
		goto destroy;
	}
	vm_debug_step(vm, "KVM VM and guest RAM");
	serial_init(&vm->serial, &vm_serial_ops, vm);
	r = vm_vcpus_create(vm, err);
	if (r < 0)
		goto destroy;
	vm_debug_step(vm, "vCPUs");
	/* Drives come before the ACPI tables, which describe them. */
	r = vm_drives_create(vm, drives, ndrives, err);
	if (r < 0)
		goto destroy;
	vm_debug_step(vm, "drives");
	r = vm_boot_setup(vm, kernel, err);
	if (r < 0)
		goto destroy;
	vm_debug_step(vm, "kernel, initrd, ACPI and boot state");
	/*
	 * Last: opening a file: console truncates it, so it must not happen
	 * for a VM that a later step rejects (a bad kernel must not cost the
	 * user the previous run's console log).
	 */
	r = vm_serial_open(vm, err);
	if (r < 0)
		goto destroy;
	*out = vm;
	return 0;
destroy:
	vm_destroy(vm);
	return r;
}

/* ---- the main loop ---- */

static int vm_epoll_add(int ep, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

enum { VM_EV_EXIT, VM_EV_SIGNAL, VM_EV_TIMER, VM_EV_STDIN };

/*
 * Move what stdin has into the UART's receive FIFO. Returns true when the
 * FIFO is full, so input is left waiting: the loop then stops watching stdin
 * and polls the FIFO on a short timer until the guest has read some.
 */
static bool vm_stdin_feed(struct vm *vm, int ep, bool *stdin_on)
{
	uint8_t buf[512];
	unsigned int space = serial_rx_space(&vm->serial);
	ssize_t n;

	if (space == 0)
		return true;
	n = read(STDIN_FILENO, buf, space < sizeof(buf) ? space : sizeof(buf));
	if (n > 0) {
		serial_input(&vm->serial, buf, n);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		/* EOF or a dead terminal: stop listening, the guest keeps running. */
		epoll_ctl(ep, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
		*stdin_on = false;
	}
	return false;
}

int vm_run(struct vm *vm, struct vm_exit *ex)
{
	struct sigaction sa = { .sa_handler = vm_kick_handler };
	sigset_t stop_set;
	int ep, sfd = -1, tfd = -1, r = 0;
	bool stdin_on = false, stdin_waiting = false;

	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, VM_SIG_KICK);
	/* Block before creating threads so they inherit the mask; vCPU threads unblock the kick only. */
	pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
	sigaction(VM_SIG_KICK, &sa, NULL);

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	sigdelset(&stop_set, VM_SIG_KICK);
	sfd = signalfd(-1, &stop_set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		r = -errno;
		goto close_ep;
	}
	if ((r = vm_epoll_add(ep, vm->exit_fd, VM_EV_EXIT)) < 0 ||
	    (r = vm_epoll_add(ep, sfd, VM_EV_SIGNAL)) < 0)
		goto close_fds;
	if (vm->cfg->timeout) {
		struct itimerspec its = { .it_value.tv_sec = vm->cfg->timeout };

		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0) {
			r = -errno;
			goto close_fds;
		}
		if ((r = vm_epoll_add(ep, tfd, VM_EV_TIMER)) < 0)
			goto close_fds;
	}
	if (vm->cfg->serial == VM_SERIAL_STDIO && vm_epoll_add(ep, STDIN_FILENO, VM_EV_STDIN) == 0)
		stdin_on = true;  /* fails harmlessly for /dev/null or a regular file */

	for (unsigned int i = 0; i < vm->ndrives; i++) {
		r = vblk_start(vm->drives[i]);
		if (r < 0) {
			struct vm_exit e = { .kind = VM_EXIT_ERROR, .err = r, .what = "starting a drive's I/O thread" };

			vm_request_exit(vm, &e);
			goto stop;
		}
	}
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		r = -pthread_create(&vm->vcpus[i].thread, NULL, vm_vcpu_thread, &vm->vcpus[i]);
		if (r < 0) {
			struct vm_exit e = { .kind = VM_EXIT_ERROR, .err = r, .what = "starting a vCPU thread" };

			vm_request_exit(vm, &e);
			goto stop;
		}
		vm->vcpus[i].started = true;
	}

	while (!atomic_load(&vm->stopping)) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, stdin_waiting ? 10 : -1);

		if (n < 0 && errno != EINTR) {
			struct vm_exit e = { .kind = VM_EXIT_ERROR, .err = -errno, .what = "epoll_wait" };

			vm_request_exit(vm, &e);
			break;
		}
		if (stdin_waiting && serial_rx_space(&vm->serial) > 0) {
			/* The guest drained its FIFO: listen to stdin again. */
			stdin_waiting = false;
			if (vm_epoll_add(ep, STDIN_FILENO, VM_EV_STDIN) < 0)
				stdin_on = false;
		}
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case VM_EV_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) == sizeof(si))
					vm_request_exit_kind(vm, VM_EXIT_SIGNAL, si.ssi_signo);
				break;
			}
			case VM_EV_TIMER:
				vm_request_exit_kind(vm, VM_EXIT_TIMEOUT, 0);
				break;
			case VM_EV_STDIN:
				if (vm_stdin_feed(vm, ep, &stdin_on)) {
					/* Level-triggered: stop watching until there is room, or it spins. */
					epoll_ctl(ep, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
					stdin_waiting = true;
				}
				break;
			default:
				break;  /* VM_EV_EXIT: the loop condition sees it */
			}
		}
	}
stop:
	vm_vcpus_stop(vm);
	/* Drain and flush drives per cache mode, so a stop by signal keeps what the guest wrote. */
	for (unsigned int i = 0; i < vm->ndrives; i++) {
		int s = vblk_stop(vm->drives[i]);

		if (s < 0 && vm->exit.kind != VM_EXIT_ERROR) {
			struct vm_exit e = { .kind = VM_EXIT_ERROR, .err = s, .what = "flushing a drive at exit" };

			pthread_mutex_lock(&vm->exit_lock);
			vm->exit = e;
			pthread_mutex_unlock(&vm->exit_lock);
		}
	}
	pthread_mutex_lock(&vm->exit_lock);
	*ex = vm->exit;
	pthread_mutex_unlock(&vm->exit_lock);
	r = 0;
close_fds:
	if (tfd >= 0)
		close(tfd);
	close(sfd);
close_ep:
	close(ep);
	return r;
}

/* ---- stats ---- */

static const char *vm_exit_name(enum vm_exit_kind kind)
{
	static const char *const names[] = {
		[VM_EXIT_POWEROFF] = "poweroff", [VM_EXIT_PORT] = "exit-port",
		[VM_EXIT_RESET] = "reset",       [VM_EXIT_TRIPLE_FAULT] = "triple-fault",
		[VM_EXIT_TIMEOUT] = "timeout",
		[VM_EXIT_SIGNAL] = "signal",     [VM_EXIT_INTERNAL] = "kvm-internal-error",
		[VM_EXIT_ERROR] = "vmm-error",
	};

	return names[kind];
}

int vm_stats_write(struct vm *vm, const struct vm_exit *ex, const char *path)
{
	uint64_t marker = atomic_load(&vm->t_boot_marker_ns);
	uint64_t first = atomic_load(&vm->t_first_run_ns);
	char dir[4096], tmp[64];
	const char *base;
	FILE *f;
	int dfd, fd = -1, r = 0;

	/*
	 * Write to a temporary name and rename, so a reader never sees half a
	 * file. The temporary name is short and in the target's directory
	 * (opened once, so neither name is joined to the directory path): any
	 * name the target may have, up to NAME_MAX, works.
	 */
	base = strrchr(path, '/');
	if (snprintf(dir, sizeof(dir), "%.*s", base ? (int)(base - path) + 1 : 1, base ? path : ".") >=
	    (int)sizeof(dir))
		return -ENAMETOOLONG;
	base = base ? base + 1 : path;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	for (unsigned int i = 0; fd < 0 && i < 100; i++) {
		snprintf(tmp, sizeof(tmp), ".vmm-stats.%d.%u", (int)getpid(), i);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		r = -errno;
		if (fd >= 0) {
			close(fd);
			unlinkat(dfd, tmp, 0);
		}
		close(dfd);
		return r;
	}
	fprintf(f, "{\n  \"exit\": ");
	json_write_string(f, vm_exit_name(ex->kind));
	fprintf(f, ",\n");
	if (ex->kind == VM_EXIT_PORT)
		fprintf(f, "  \"exit_port_status\": %d,\n", ex->status);
	if (marker)
		fprintf(f, "  \"boot_ms\": %.3f,\n", (marker - vm->t_start_ns) / 1e6);
	else
		fprintf(f, "  \"boot_ms\": null,\n");
	if (first)
		fprintf(f, "  \"setup_us\": %.1f,\n", (first - vm->t_start_ns) / 1e3);
	else
		fprintf(f, "  \"setup_us\": null,\n");
	fprintf(f, "  \"drives\": [");
	for (unsigned int i = 0; i < vm->ndrives; i++) {
		const struct vm_drive_config *d = vm->drive_in[i].cfg;
		struct vblk_stats s;

		vblk_get_stats(vm->drives[i], &s);
		fprintf(f, "%s\n    {\"id\": ", i ? "," : "");
		json_write_string(f, d->id);
		fprintf(f, ", \"file\": ");
		json_write_string(f, d->file);
		fprintf(f, ", \"cache\": ");
		json_write_string(f, blk_cache_mode_name(d->cache));
		fprintf(f, ", \"readonly\": %s,\n     ", d->readonly ? "true" : "false");
		fprintf(f, "\"requests\": %llu, \"reads\": %llu, \"writes\": %llu, \"durable_writes\": %llu, "
			"\"read_bytes\": %llu, \"write_bytes\": %llu,\n     "
			"\"flushes\": %llu, \"host_flushes\": %llu, \"flushes_skipped\": %llu, \"exit_flushes\": %llu,\n     "
			"\"discards\": %llu, \"write_zeroes\": %llu, \"discards_ignored\": %llu, \"zeroes_written\": %llu,\n     "
			"\"errors\": %llu, \"kicks\": %llu, \"interrupts\": %llu}",
			(unsigned long long)s.requests, (unsigned long long)s.reads,
			(unsigned long long)s.writes, (unsigned long long)s.durable_writes,
			(unsigned long long)s.read_bytes,
			(unsigned long long)s.write_bytes, (unsigned long long)s.flushes,
			(unsigned long long)s.host_flushes, (unsigned long long)s.flushes_skipped,
			(unsigned long long)s.exit_flushes, (unsigned long long)s.discards,
			(unsigned long long)s.write_zeroes, (unsigned long long)s.discards_ignored,
			(unsigned long long)s.zeroes_written, (unsigned long long)s.errors, (unsigned long long)s.kicks,
			(unsigned long long)s.interrupts);
	}
	fprintf(f, "%s]\n}\n", vm->ndrives ? "\n  " : "");
	if (ferror(f))
		r = -EIO;
	if (fclose(f) != 0 && !r)
		r = -errno;
	if (!r && renameat(dfd, tmp, dfd, base) < 0)
		r = -errno;
	if (r)
		unlinkat(dfd, tmp, 0);
	close(dfd);
	return r;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	vm_vcpus_stop(vm);
	for (unsigned int i = 0; i < vm->ndrives; i++)
		vblk_destroy(vm->drives[i]);
	if (vm->vcpus) {
		for (unsigned int i = 0; i < vm->ncpus; i++)
			if (vm->vcpus[i].kvm.fd >= 0)
				kvm_vcpu_destroy(&vm->vcpus[i].kvm);
		free(vm->vcpus);
	}
	if (vm->serial_out_owned)
		close(vm->serial_out);
	serial_destroy(&vm->serial);
	for (unsigned int i = 0; i < vm->nram; i++)
		munmap(vm->mem.regions[i].host, vm->mem.regions[i].size);
	if (vm->vm_open)
		kvm_vm_destroy(&vm->kvm);
	if (vm->kvm_open)
		kvm_sys_close(&vm->sys);
	if (vm->exit_fd >= 0)
		close(vm->exit_fd);
	pthread_mutex_destroy(&vm->exit_lock);
	pthread_cond_destroy(&vm->vcpu_ended);
	pthread_mutex_destroy(&vm->vcpu_lock);
	free(vm);
}

/* SPDX-License-Identifier: MIT */
/* VM lifecycle: build the machine in the order KVM wants, take stop requests, tear it all down. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "virtio_blk.h"
#include "vm_internal.h"

#define VM_QUEUE_SIZE 256

/* ---- services the rooms and the arch room call ---- */

void vm_request_exit(struct vm *vm, const struct vm_exit *ex)
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

void vm_request_exit_kind(struct vm *vm, enum vm_exit_kind kind, int status)
{
	struct vm_exit ex = { .kind = kind, .status = status };

	vm_request_exit(vm, &ex);
}

void vm_boot_marker(struct vm *vm)
{
	uint64_t zero = 0;

	atomic_compare_exchange_strong(&vm->t_boot_marker_ns, &zero, vm_now_ns());
}

int vm_mmio_add(struct vm *vm, const struct bus_range *r)
{
	return bus_add(&vm->mmio, r);
}

/* ---- set-up ---- */

/* Guest RAM as the arch lays it out, each region a KVM memslot. */
static int vm_ram_create(struct vm *vm, uint64_t mem_bytes)
{
	struct gmem_region layout[GMEM_MAX_REGIONS];
	unsigned int n = arch_ram_layout(mem_bytes, layout);
	int r = gmem_map(&vm->mem, layout, n);

	for (unsigned int i = 0; r == 0 && i < vm->mem.nregions; i++)
		r = kvm_vm_set_memslot(&vm->kvm, i, vm->mem.regions[i].gpa, vm->mem.regions[i].size,
				       vm->mem.regions[i].host);
	return r;
}

static void vm_drive_read(void *ctx, uint64_t off, void *data, unsigned int len)
{
	vblk_mmio_read(ctx, off, data, len);
}

static void vm_drive_write(void *ctx, uint64_t off, const void *data, unsigned int len)
{
	vblk_mmio_write(ctx, off, data, len);
}

/* The config's default poll= is the device's own default window, in us. */
_Static_assert(VM_DRIVE_POLL_US_DEFAULT * 1000ull == VBLK_POLL_MAX_NS_DEFAULT,
	       "VM_DRIVE_POLL_US_DEFAULT and VBLK_POLL_MAX_NS_DEFAULT disagree");

/* Drive i's virtio-blk device in the arch's window i: on the MMIO bus, kicks by ioeventfd, interrupts by irqfd. */
static int vm_drive_create(struct vm *vm, const struct vm_drive *drive, unsigned int i)
{
	struct vblk_params p = {
		.image = drive->image,
		.serial = drive->cfg->serial,
		.queue_size = VM_QUEUE_SIZE,
		/* Busy-poll before sleeping (docs/configuration.md, docs/benchmarks.md); negative: never. */
		.poll_max_ns = drive->cfg->poll_us ? (int64_t)drive->cfg->poll_us * 1000 : -1,
		/* The I/O thread enters its sandbox filter first thing (confine.c). */
		.thread_enter = vm_confine_io,
		.thread_enter_ctx = vm,
	};
	struct arch_mmio_window w;
	struct bus_range br;
	int r;

	arch_drive_window(i, &w);
	r = vblk_create(&p, &vm->mem, &vm->drives[i]);
	if (r < 0)
		return r;
	vm->ndrives = i + 1;
	br = (struct bus_range){ .base = w.base, .size = VBLK_MMIO_SIZE, .read = vm_drive_read,
				 .write = vm_drive_write, .ctx = vm->drives[i] };
	r = VBLK_MMIO_SIZE <= w.size ? vm_mmio_add(vm, &br) : -EINVAL;
	if (r < 0)
		return r;
	/* Queue kicks never leave the kernel: KVM signals the device's eventfd directly. */
	r = kvm_vm_ioeventfd(&vm->kvm, vblk_notify_fd(vm->drives[i]), w.base + VBLK_MMIO_QUEUE_NOTIFY, 4, false);
	if (r < 0)
		return r;
	return kvm_vm_irqfd(&vm->kvm, vblk_irq_fd(vm->drives[i]), w.irq.gsi);
}

static int vm_drives_create(struct vm *vm, const struct vm_drive *drives, unsigned int n, struct vm_error *err)
{
	for (unsigned int i = 0; i < n; i++) {
		int r = i < arch_board.max_drives ? vm_drive_create(vm, &drives[i], i) : -ENOSPC;

		if (r < 0)
			return vm_error_set(err, VM_STAGE_DRIVE, r, drives[i].cfg->file);
	}
	return 0;
}

/* /dev/kvm, the VM and the arch's VM-wide set-up for ndrives drives (all before guest RAM and vCPUs). */
static int vm_kvm_create(struct vm *vm, unsigned int ndrives, struct vm_error *err)
{
	struct arch_vm_params ap = {
		.vm = vm, .sys = &vm->sys, .kvm = &vm->kvm, .mem_bytes = vm->cfg->memory,
		.ncpus = vm->ncpus, .ndrives = ndrives, .uart = &vm->serial,
	};
	int r = kvm_sys_open(&vm->sys, NULL);

	if (r < 0) {
		vm_error_set(err, VM_STAGE_KVM, r, "/dev/kvm");
		if (r == -ENOSYS)
			err->cap = kvm_sys_missing_cap(&vm->sys);
		return r;
	}
	vm->kvm_open = true;
	r = arch_vm_type(&vm->sys, vm->cfg->memory, err);
	if (r < 0)
		return r;
	r = kvm_vm_create_type(&vm->sys, &vm->kvm, (unsigned long)r);
	if (r < 0)
		return vm_error_set(err, VM_STAGE_KVM, r, "KVM_CREATE_VM");
	vm->vm_open = true;
	return arch_vm_create(&ap, &vm->arch, err);
}

/* A zeroed VM with its locks, stop eventfd and console model: what vm_destroy can always take apart. */
static struct vm *vm_alloc(const struct vm_config *cfg, const struct vm_log *log, uint64_t t_start_ns)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	pthread_condattr_t ca;

	if (!vm)
		return NULL;
	vm->cfg = cfg;
	if (log)
		vm->log = *log;
	vm->ncpus = cfg->cpus;
	vm->t_start_ns = t_start_ns;
	pthread_mutex_init(&vm->exit_lock, NULL);
	pthread_mutex_init(&vm->vcpu_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->vcpu_ended, &ca);
	pthread_cond_init(&vm->confine_cond, &ca);
	pthread_condattr_destroy(&ca);
	vm_console_init(vm);
	vm->exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return vm;
}

int vm_create(const struct vm_config *cfg, const struct vm_kernel_image *kernel, const struct vm_drive *drives,
	      unsigned int ndrives, const struct vm_log *log, uint64_t t_start_ns, struct vm **out,
	      struct vm_error *err)
{
	struct vm *vm;
	int r;

	memset(err, 0, sizeof(*err));
	vm = vm_alloc(cfg, log, t_start_ns);
	if (!vm)
		return vm_error_set(err, VM_STAGE_MEMORY, -ENOMEM, NULL);
	vm->drive_in = drives;
	vm->kcache = kernel->cache.state;
	if (vm->exit_fd < 0) {
		r = vm_error_set(err, VM_STAGE_KVM, -errno, NULL);
		goto destroy;
	}
	vm_debug_step(vm, "start");
	r = vm_kvm_create(vm, ndrives, err);
	if (r < 0)
		goto destroy;
	r = vm_ram_create(vm, cfg->memory);
	if (r < 0) {
		vm_error_set(err, VM_STAGE_MEMORY, r, NULL);
		goto destroy;
	}
	vm_debug_step(vm, "KVM VM and guest RAM");
	r = vm_vcpus_create(vm, err);
	if (r < 0)
		goto destroy;
	vm_debug_step(vm, "vCPUs");
	/* Drives come before the boot tables, which describe them. */
	r = vm_drives_create(vm, drives, ndrives, err);
	if (r < 0)
		goto destroy;
	vm_debug_step(vm, "drives");
	r = vm_boot_load(vm, kernel, err);
	if (r < 0)
		goto destroy;
	vm_debug_step(vm, arch_board.boot_step);
	/*
	 * Last: opening a file: console truncates it, so it must not happen
	 * for a VM that a later step rejects (a bad kernel must not cost the
	 * user the previous run's console log).
	 */
	r = vm_console_open(vm, err);
	if (r < 0)
		goto destroy;
	*out = vm;
	return 0;
destroy:
	vm_destroy(vm);
	return r;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	vm_vcpus_stop(vm);
	for (unsigned int i = 0; i < vm->ndrives; i++)
		vblk_destroy(vm->drives[i]);
	vm_vcpus_destroy(vm);
	vm_console_destroy(vm);
	arch_vm_destroy(vm->arch);
	gmem_unmap(&vm->mem);
	if (vm->vm_open)
		kvm_vm_destroy(&vm->kvm);
	if (vm->kvm_open)
		kvm_sys_close(&vm->sys);
	if (vm->exit_fd >= 0)
		close(vm->exit_fd);
	pthread_mutex_destroy(&vm->exit_lock);
	pthread_cond_destroy(&vm->vcpu_ended);
	pthread_cond_destroy(&vm->confine_cond);
	pthread_mutex_destroy(&vm->vcpu_lock);
	free(vm);
}

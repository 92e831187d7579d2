/* SPDX-License-Identifier: MIT */
/* One microVM: guest RAM, vCPU threads, legacy devices and drives, and the loop that runs them until the guest stops. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <stdarg.h>
#include <stdint.h>

#include "blk_backend.h"
#include "vm_config.h"
#include "x86_boot.h"

/* Why the VM stopped; main.c turns this into an exit status. */
enum vm_exit_kind {
	VM_EXIT_POWEROFF,   /* ACPI S5 from the guest */
	VM_EXIT_PORT,       /* the guest wrote a status byte to the exit port */
	VM_EXIT_RESET,      /* reboot: ACPI or i8042 reset */
	VM_EXIT_TRIPLE_FAULT, /* the guest crashed so hard the CPU shut down; the machine resets */
	VM_EXIT_TIMEOUT,    /* --timeout expired */
	VM_EXIT_SIGNAL,     /* SIGINT/SIGTERM */
	VM_EXIT_INTERNAL,   /* KVM internal error, failed entry, unknown exit */
	VM_EXIT_ERROR,      /* a vmm-side failure while running */
};

struct vm_exit {
	enum vm_exit_kind kind;
	int status;           /* VM_EXIT_PORT: the byte; VM_EXIT_SIGNAL: the signal number */
	int err;              /* VM_EXIT_ERROR: -errno */
	const char *what;     /* VM_EXIT_ERROR/INTERNAL: what failed */
	char detail[2048];    /* VM_EXIT_INTERNAL, VM_EXIT_TRIPLE_FAULT: exit reason and vCPU registers */
};

/* Which step of set-up failed, so main.c can name it and pick the exit status. */
enum vm_stage {
	VM_STAGE_KVM,         /* opening /dev/kvm or creating the VM */
	VM_STAGE_MEMORY,      /* allocating guest RAM */
	VM_STAGE_KERNEL,      /* reading or loading the kernel image (user input) */
	VM_STAGE_INITRD,      /* reading or placing the initrd (user input) */
	VM_STAGE_CMDLINE,     /* the command line does not fit (user input) */
	VM_STAGE_BOOT,        /* boot structures, ACPI tables */
	VM_STAGE_VCPU,        /* creating or setting up vCPUs */
	VM_STAGE_DRIVE,       /* creating a virtio-blk device */
	VM_STAGE_SERIAL,      /* opening the serial output */
};

/* For an initrd that does not fit (VM_STAGE_INITRD, -ENOMEM): what would make room. */
enum vm_initrd_bound {
	VM_INITRD_BOUND_RAM,     /* guest RAM: a larger --memory helps */
	VM_INITRD_BOUND_LOWMEM,  /* the initrd must lie below 3 GiB (low RAM) or 4 GiB: --memory cannot help */
	VM_INITRD_BOUND_KERNEL,  /* the kernel's own initrd_addr_max: --memory cannot help */
};

struct vm_error {
	enum vm_stage stage;
	int err;              /* -errno */
	const char *subject;  /* path or drive id the step was about, or NULL */
	const char *cap;      /* VM_STAGE_KVM -ENOSYS: the missing capability */
	/* VM_STAGE_INITRD -ENOMEM: its size, the address it had to end below, and which bound that was. */
	uint64_t size;
	uint64_t limit;
	enum vm_initrd_bound bound;
	/* VM_STAGE_CMDLINE: the longest command line the kernel takes, in bytes. */
	size_t cmdline_max;
	/* VM_STAGE_KERNEL: why the loader refused the file (X86_KF_NONE for errors reading it), and its size. */
	struct x86_kernel_fault kernel;
	uint64_t kernel_size;
};

/* Debug logging hook, provided by main.c (the only place that prints). */
struct vm_log {
	void (*fn)(void *ctx, const char *fmt, va_list ap);
	void *ctx;
	int verbose;
};

/* An opened drive image handed to the VM (main.c opens them before any guest memory exists). */
struct vm_drive {
	const struct vm_drive_config *cfg;
	struct blk_image *image;
};

struct vm;

/*
 * The kernel file as vm_boot_check found it: open, with its first bytes (every
 * header the loader looks at) in vmm's own memory, so vm_create loads what the
 * checked headers describe from the same file, and reads each byte once.
 */
struct vm_kernel_image {
	int fd;            /* -1 when empty */
	uint64_t size;     /* at open */
	void *head;        /* the first head_len bytes */
	size_t head_len;
};

#define VM_KERNEL_IMAGE_INIT { .fd = -1 }

/* Close and free what vm_boot_check opened; a VM_KERNEL_IMAGE_INIT image is fine. */
void vm_kernel_image_free(struct vm_kernel_image *kernel);

/*
 * The checks of user input that set-up makes, without KVM or guest memory:
 * the kernel file is opened into *kernel and checked against the RAM layout of
 * cfg->memory, the initrd must fit where that kernel allows, the command line
 * within its limit. 0 with *kernel to pass to vm_create (and free after it),
 * or -errno with *kernel empty and *err as vm_create would fill it
 * (VM_STAGE_KERNEL, VM_STAGE_INITRD, VM_STAGE_CMDLINE), so main.c can reject
 * bad input before /dev/kvm is opened. vm_create still makes the same checks.
 */
int vm_boot_check(const struct vm_config *cfg, struct vm_kernel_image *kernel, struct vm_error *err);

/*
 * Build the VM described by cfg, with the kernel vm_boot_check read: KVM,
 * guest RAM, kernel/initrd/cmdline, ACPI, vCPUs, devices. t_start is
 * CLOCK_MONOTONIC at exec, for boot_ms. 0 and *out, or -errno with *err
 * describing the failing step.
 */
int vm_create(const struct vm_config *cfg, const struct vm_kernel_image *kernel, const struct vm_drive *drives,
	      unsigned int ndrives, const struct vm_log *log, uint64_t t_start_ns, struct vm **out,
	      struct vm_error *err);

/* Run until the guest stops or a signal/timeout ends it; 0 and *ex filled, or -errno. */
int vm_run(struct vm *vm, struct vm_exit *ex);

/*
 * Write the --stats JSON (boot_ms, setup_us, exit, per-drive counters).
 * Call after vm_run. 0 or -errno.
 */
int vm_stats_write(struct vm *vm, const struct vm_exit *ex, const char *path);

void vm_destroy(struct vm *vm);

#endif

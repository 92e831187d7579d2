/* SPDX-License-Identifier: MIT */
/* The core as main.c sees it: build one microVM, run it until the guest stops, write its --stats, take it apart. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <stdarg.h>
#include <stdint.h>

#include "blk_backend.h"
#include "kcache.h"
#include "vm_config.h"
#include "vm_status.h"

/* Debug logging hook, provided by main.c (main and its report room are all that prints). */
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
struct sandbox;

/*
 * The kernel file as vm_boot_check found it: open, with its first bytes (every
 * header the loader looks at) in vmm's own memory, so vm_create loads what the
 * checked headers describe from the same file, and reads each byte once.
 * When the kernel cache served it, that is the unpacked payload, and the
 * file given (a bzImage) is kept open beside it as packed_*.
 */
struct vm_kernel_image {
	int fd;            /* -1 when empty */
	uint64_t size;     /* at open */
	void *head;        /* the first head_len bytes */
	size_t head_len;
	int packed_fd;     /* the file given, when fd is its unpacked payload; else -1 */
	uint64_t packed_size;
	void *packed_head;
	size_t packed_head_len;
	struct kcache_note cache;   /* what the kernel cache did (main says it under -v) */
};

#define VM_KERNEL_IMAGE_INIT { .fd = -1, .packed_fd = -1 }

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

/*
 * The sandbox vm_run's threads enter as they start, and main once they all
 * have, before any vCPU runs the guest (NULL: --sandbox off, none). Call
 * before vm_run; sb must outlive it.
 */
void vm_sandbox_set(struct vm *vm, const struct sandbox *sb);

/*
 * fn(ctx, ex) is called on the main thread as the stop begins, before the
 * vCPUs are stopped and the drives drained and flushed, with the exit that
 * began it: main.c arms its hard deadline there (docs/exit-status.md).
 * Call before vm_run.
 */
void vm_stop_hook_set(struct vm *vm, void (*fn)(void *ctx, const struct vm_exit *ex), void *ctx);

/* Run until the guest stops or a signal/timeout ends it; 0 and *ex filled, or -errno. */
int vm_run(struct vm *vm, struct vm_exit *ex);

/*
 * Open the directory the --stats file path goes to (O_PATH), before the
 * sandbox: the fd for vm_stats_write and sandbox_params, or -errno.
 */
int vm_stats_dir_open(const char *path);

/*
 * Write the --stats JSON (boot_ms, setup_us, exit, per-drive counters) to
 * path's last component in dirfd (vm_stats_dir_open's), through a temporary
 * name there: every call relative to dirfd, as the sandbox allows. Call
 * after vm_run. 0 or -errno.
 */
int vm_stats_write(struct vm *vm, const struct vm_exit *ex, int dirfd, const char *path);

void vm_destroy(struct vm *vm);

#endif

/* SPDX-License-Identifier: MIT */
/* What the core's rooms share: struct vm and the calls between rooms. Not for main.c, the arch room or other modules. */
#ifndef VMM_VM_INTERNAL_H
#define VMM_VM_INTERNAL_H

#ifndef VMM_MODULE_CORE
#error "vm_internal.h is private to the core (src/vmm/*.c but main.c and its report rooms): include vm.h or arch.h"
#endif

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "bus.h"
#include "gmem.h"
#include "kvm.h"
#include "serial.h"
#include "vm.h"

struct vblk_dev;

struct vm_vcpu {
	struct vm *vm;
	struct kvm_vcpu kvm;
	pthread_t thread;
	bool started;
	bool ended;   /* the thread is past its run loop (vm->vcpu_lock) */
};

struct vm {
	const struct vm_config *cfg;
	struct vm_log log;
	_Atomic uint64_t unhandled;   /* unhandled guest accesses seen with -v */
	struct kvm_sys sys;
	struct kvm_vm kvm;
	bool kvm_open, vm_open;
	struct arch_vm *arch;

	struct gmem mem;
	struct bus mmio;

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

	/*
	 * The sandbox (NULL: --sandbox off). Each thread vm_run starts enters
	 * its filter and counts itself in `confined` (vcpu_lock); vCPU threads
	 * then wait for `go`, which main gives once all have and it has entered
	 * its own (confine.c).
	 */
	const struct sandbox *sb;
	unsigned int confined;
	int confine_err;
	bool go;
	pthread_cond_t confine_cond;

	/* vm_stop_hook_set's hook, called as the stop begins; or NULL. */
	void (*stop_hook)(void *ctx, const struct vm_exit *ex);
	void *stop_ctx;

	enum kcache_state kcache;   /* what the kernel cache did for this boot, for --stats */

	uint64_t t_start_ns;
	_Atomic uint64_t t_first_run_ns;
	_Atomic uint64_t t_boot_marker_ns;
};

/* ---- log.c: -v output through main's hook ---- */

/* CLOCK_MONOTONIC in nanoseconds: every time the core keeps. */
uint64_t vm_now_ns(void);

__attribute__((format(printf, 2, 3))) void vm_debug(struct vm *vm, const char *fmt, ...);

/* -v: how long set-up took until step, since exec. */
void vm_debug_step(struct vm *vm, const char *step);

/* ---- vm_boot.c: kernel, initrd and command line into guest RAM ---- */

/* vm_create's boot step: load the kernel vm_boot_check opened, the initrd and the command line, then the arch's boot tables. 0 or -errno with *err. */
int vm_boot_load(struct vm *vm, const struct vm_kernel_image *kernel, struct vm_error *err);

/* ---- vcpu.c: vCPU threads ---- */

/* Signal used only to kick vCPU threads out of KVM_RUN. */
#define VM_SIG_KICK SIGUSR1

/*
 * Install VM_SIG_KICK's handler. Call with VM_SIG_KICK blocked and before any
 * thread starts: every thread inherits it blocked, and vCPU threads unblock it.
 */
void vm_vcpus_kick_setup(void);

/* Create the vCPUs and have the arch set each up. 0, or -errno with *err (VM_STAGE_VCPU, or the arch's). */
int vm_vcpus_create(struct vm *vm, struct vm_error *err);

/* Start one thread per vCPU. 0, or -errno (a stop is requested; those started are stopped by vm_vcpus_stop). */
int vm_vcpus_start(struct vm *vm);

/* Make every started vCPU thread leave KVM_RUN and end, and join it. Safe to call again. */
void vm_vcpus_stop(struct vm *vm);

/* Close the vCPUs' fds (after vm_vcpus_stop). */
void vm_vcpus_destroy(struct vm *vm);

/* ---- confine.c: every thread into its sandbox filter before the guest's first instruction ---- */

/* The I/O thread's vblk_params.thread_enter: its filter, counted. 0, or -errno (the thread must end). */
int vm_confine_io(void *vm);

/* A vCPU thread, first thing: its filter, counted, then wait for main's go. 0, or -errno (the thread must not run the guest). */
int vm_confine_vcpu(struct vm *vm);

/*
 * Main, once nthreads threads were started: wait for all of them to have
 * entered, enter main's own filter, then let the vCPUs go. A failure is
 * requested as the VM's exit (VM_EXIT_ERROR) before the go, so no vCPU runs.
 */
void vm_confine_all(struct vm *vm, unsigned int nthreads);

/* ---- console.c: the UART's host side ---- */

/* Make the UART model, its output going nowhere until vm_console_open. */
void vm_console_init(struct vm *vm);

/* Open the console output cfg->serial names. 0, or -errno with *err (VM_STAGE_SERIAL). */
int vm_console_open(struct vm *vm, struct vm_error *err);

/*
 * Move what stdin has into the UART's receive FIFO. Returns true when the
 * FIFO is full, so input is left waiting. At EOF or a dead terminal it sets
 * *stdin_on false and takes stdin out of epoll ep.
 */
bool vm_console_feed(struct vm *vm, int ep, bool *stdin_on);

/* Close the console output and free the UART model. */
void vm_console_destroy(struct vm *vm);

#endif

/* SPDX-License-Identifier: MIT */
/* vCPU threads: create and set up each vCPU, run it, dispatch the exits the core handles, and stop them all. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vm_internal.h"

/* How often vm_vcpus_stop kicks a vCPU thread that has not ended yet. */
#define VM_REKICK_NS (20 * 1000 * 1000ull)

int vm_vcpus_create(struct vm *vm, struct vm_error *err)
{
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return vm_error_set(err, VM_STAGE_VCPU, -ENOMEM, NULL);
	for (unsigned int i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].kvm.fd = -1;
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		struct vm_vcpu *v = &vm->vcpus[i];
		int r;

		v->vm = vm;
		r = kvm_vcpu_create(&vm->sys, &vm->kvm, i, &v->kvm);
		if (r < 0)
			return vm_error_set(err, VM_STAGE_VCPU, r, NULL);
		r = arch_vcpu_init(vm->arch, &v->kvm, err);
		if (r < 0)
			return r;
	}
	return arch_vcpus_ready(vm->arch, err);
}

/* A guest access to an address: the device whose window holds it, or an unhandled access for -v. */
static void vm_mmio_exit(struct vm *vm, struct kvm_run *run)
{
	uint64_t addr = run->mmio.phys_addr;
	unsigned int len = run->mmio.len;
	const struct bus_range *r;

	if (len > sizeof(run->mmio.data))
		return;   /* KVM never exits with more than 8 bytes */
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));   /* unclaimed addresses float high */
	r = bus_find(&vm->mmio, addr, len);
	if (r && run->mmio.is_write)
		r->write(r->ctx, addr - r->base, run->mmio.data, len);
	else if (r)
		r->read(r->ctx, addr - r->base, run->mmio.data, len);
	else
		vm_debug_unhandled(vm, "unhandled mmio %s 0x%llx len %u", run->mmio.is_write ? "write" : "read",
				   (unsigned long long)addr, len);
}

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

/* The exits the core handles; the arch room gets the others. */
static void vm_vcpu_exit(struct vm *vm, struct vm_vcpu *v)
{
	switch (v->kvm.run->exit_reason) {
	case KVM_EXIT_MMIO:
		vm_mmio_exit(vm, v->kvm.run);
		break;
	case KVM_EXIT_INTR:
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		vm_internal_exit(vm, v, "KVM internal error");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		vm_internal_exit(vm, v, "VM entry failed");
		break;
	default:
		if (!arch_vcpu_exit(vm->arch, &v->kvm))
			vm_internal_exit(vm, v, "unexpected KVM exit");
		break;
	}
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

	/* Filtered, then held until every thread is; a failure has asked for the stop already. */
	bool confined = vm_confine_vcpu(vm) == 0;

	while (confined && !atomic_load(&vm->stopping)) {
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
		vm_vcpu_exit(vm, v);
	}
	pthread_mutex_lock(&vm->vcpu_lock);
	v->ended = true;
	pthread_cond_broadcast(&vm->vcpu_ended);
	pthread_mutex_unlock(&vm->vcpu_lock);
	return NULL;
}

void vm_vcpus_kick_setup(void)
{
	struct sigaction sa = { .sa_handler = vm_kick_handler };

	sigaction(VM_SIG_KICK, &sa, NULL);
}

int vm_vcpus_start(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		int r = -pthread_create(&vm->vcpus[i].thread, NULL, vm_vcpu_thread, &vm->vcpus[i]);

		if (r < 0) {
			struct vm_exit e = { .kind = VM_EXIT_ERROR, .err = r, .what = "starting a vCPU thread" };

			vm_request_exit(vm, &e);
			return r;
		}
		vm->vcpus[i].started = true;
	}
	return 0;
}

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

void vm_vcpus_stop(struct vm *vm)
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
		 * in a console write (vm_console_tx) interrupts nothing, and a
		 * reader that stopped reading would then hold it for ever. Kick
		 * again until it is gone: the next kick interrupts the write.
		 */
		vm_vcpu_wait_ended(vm, v);
		pthread_join(v->thread, NULL);
		v->started = false;
	}
}

void vm_vcpus_destroy(struct vm *vm)
{
	if (!vm->vcpus)
		return;
	for (unsigned int i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].kvm.fd >= 0)
			kvm_vcpu_destroy(&vm->vcpus[i].kvm);
	free(vm->vcpus);
	vm->vcpus = NULL;
}

/* SPDX-License-Identifier: MIT */
/* kvm_vcpu.c: vCPU fd and kvm_run mapping, KVM_RUN, exit reporting. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_internal.h"

int kvm_vcpu_create(struct kvm_sys *sys, struct kvm_vm *vm, unsigned int id, struct kvm_vcpu *vcpu)
{
	void *run;
	int ret;

	vcpu->fd = -1;
	vcpu->id = id;
	vcpu->run = NULL;
	vcpu->run_size = 0;

	if (sys->vcpu_mmap_size <= 0)
		return -EINVAL;

	vcpu->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0) {
		ret = -errno;
		goto err;
	}

	run = mmap(NULL, (size_t)sys->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (run == MAP_FAILED) {
		ret = -errno;
		goto close_fd;
	}
	vcpu->run = run;
	vcpu->run_size = (size_t)sys->vcpu_mmap_size;
	return 0;

close_fd:
	close(vcpu->fd);
	vcpu->fd = -1;
err:
	return ret;
}

void kvm_vcpu_destroy(struct kvm_vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	vcpu->run = NULL;
	vcpu->run_size = 0;
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->fd = -1;
}

int kvm_vcpu_run(struct kvm_vcpu *vcpu)
{
	return ioctl(vcpu->fd, KVM_RUN, 0) < 0 ? -errno : 0;
}

const char *kvm_exit_reason_name(uint32_t reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "UNKNOWN",
		[KVM_EXIT_EXCEPTION] = "EXCEPTION",
		[KVM_EXIT_IO] = "IO",
		[KVM_EXIT_HYPERCALL] = "HYPERCALL",
		[KVM_EXIT_DEBUG] = "DEBUG",
		[KVM_EXIT_HLT] = "HLT",
		[KVM_EXIT_MMIO] = "MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[KVM_EXIT_INTR] = "INTR",
		[KVM_EXIT_SET_TPR] = "SET_TPR",
		[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
		[KVM_EXIT_NMI] = "NMI",
		[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
		[KVM_EXIT_OSI] = "OSI",
		[KVM_EXIT_PAPR_HCALL] = "PAPR_HCALL",
		[KVM_EXIT_WATCHDOG] = "WATCHDOG",
		[KVM_EXIT_EPR] = "EPR",
		[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
		[KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
		[KVM_EXIT_HYPERV] = "HYPERV",
		[KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
		[KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
		[KVM_EXIT_DIRTY_RING_FULL] = "DIRTY_RING_FULL",
		[KVM_EXIT_AP_RESET_HOLD] = "AP_RESET_HOLD",
		[KVM_EXIT_X86_BUS_LOCK] = "X86_BUS_LOCK",
		[KVM_EXIT_XEN] = "XEN",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "UNKNOWN";
}

void kvm_fmt_add(struct kvm_fmt *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (f->len + 1 >= f->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(f->buf + f->len, f->cap - f->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= f->cap - f->len)
		f->len = f->cap - 1;
	else
		f->len += (size_t)n;
}

static void kvm_fmt_exit(struct kvm_fmt *f, const struct kvm_run *run)
{
	uint32_t i, ndata;

	kvm_fmt_add(f, "exit reason %u (%s)", run->exit_reason, kvm_exit_reason_name(run->exit_reason));
	switch (run->exit_reason) {
	case KVM_EXIT_INTERNAL_ERROR:
		kvm_fmt_add(f, ": suberror %u%s", run->internal.suberror,
			    run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? " (emulation failure)" : "");
		ndata = run->internal.ndata;
		if (ndata > sizeof(run->internal.data) / sizeof(run->internal.data[0]))
			ndata = sizeof(run->internal.data) / sizeof(run->internal.data[0]);
		for (i = 0; i < ndata; i++)
			kvm_fmt_add(f, "%s%llx", i ? " " : ", data ", (unsigned long long)run->internal.data[i]);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		kvm_fmt_add(f, ": hardware entry failure reason 0x%llx on cpu %u",
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			    run->fail_entry.cpu);
		break;
	case KVM_EXIT_IO:
		kvm_fmt_add(f, ": %s port 0x%x size %u count %u", run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
			    run->io.port, run->io.size, run->io.count);
		break;
	case KVM_EXIT_MMIO:
		kvm_fmt_add(f, ": %s 0x%llx len %u", run->mmio.is_write ? "write" : "read",
			    (unsigned long long)run->mmio.phys_addr, run->mmio.len);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		kvm_fmt_add(f, ": type %u", run->system_event.type);
		break;
	default:
		break;
	}
	kvm_fmt_add(f, "\n");
}

int kvm_vcpu_format_regs(struct kvm_vcpu *vcpu, char *buf, size_t cap)
{
	struct kvm_fmt f = { .buf = buf, .cap = cap, .len = 0 };

	if (!buf || cap == 0)
		return -EINVAL;
	buf[0] = '\0';

	kvm_fmt_add(&f, "vcpu %u: ", vcpu->id);
	if (vcpu->run)
		kvm_fmt_exit(&f, vcpu->run);
	else
		kvm_fmt_add(&f, "no kvm_run mapping\n");

	kvm_arch_format_regs(vcpu, &f);
	return (int)f.len;
}

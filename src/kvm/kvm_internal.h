/* SPDX-License-Identifier: MIT */
/* kvm_internal.h: what the kvm module's neutral half and its arch half share; no other module includes it. */
#ifndef VMM_KVM_INTERNAL_H
#define VMM_KVM_INTERNAL_H

#ifndef VMM_MODULE_KVM
#error "kvm_internal.h is private to src/kvm: include kvm.h"
#endif

#include <stddef.h>

#include "kvm.h"

struct kvm_sys_cap {
	long cap;
	const char *name;
};

/*
 * The capabilities kvm_sys_open requires beyond the neutral ones, checked
 * after them in this order (the arch half defines both).
 */
extern const struct kvm_sys_cap kvm_arch_caps[];
extern const size_t kvm_arch_ncaps;

/* snprintf into a cursor that stops growing once the buffer is full. */
struct kvm_fmt {
	char *buf;
	size_t cap;
	size_t len;
};

__attribute__((format(printf, 2, 3))) void kvm_fmt_add(struct kvm_fmt *f, const char *fmt, ...);

/*
 * The arch half of kvm_vcpu_format_regs: append the vCPU's registers to f,
 * a line per group; a group that cannot be read is a line saying so.
 */
void kvm_arch_format_regs(struct kvm_vcpu *vcpu, struct kvm_fmt *f);

#endif

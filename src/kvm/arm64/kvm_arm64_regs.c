/* SPDX-License-Identifier: MIT */
/* The arm64 half of the kvm module: the capabilities kvm_sys_open requires, and the register dump. */
#include "kvm_arm64.h"
#include "kvm_internal.h"

#include <stdio.h>

/* On top of kvm_sys.c's: ONE_REG for the boot registers, PSCI 0.2 in the kernel, the vgic as a device. */
const struct kvm_sys_cap kvm_arch_caps[] = {
	{ KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG" },
	{ KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2" },
	{ KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL" },
};

const size_t kvm_arch_ncaps = sizeof(kvm_arch_caps) / sizeof(kvm_arch_caps[0]);

/* The EL1 system registers that say why a guest faulted (op0 3, op1 0; CRn, CRm, op2). */
#define KVM_ARM64_REG_ESR_EL1 ARM64_SYS_REG(3, 0, 5, 2, 0)
#define KVM_ARM64_REG_FAR_EL1 ARM64_SYS_REG(3, 0, 6, 0, 0)

static void kvm_arm64_fmt_reg(struct kvm_vcpu *vcpu, struct kvm_fmt *f, const char *name, uint64_t id)
{
	uint64_t v;

	if (kvm_arm64_get_reg(vcpu, id, &v) == 0)
		kvm_fmt_add(f, " %s=%016llx", name, (unsigned long long)v);
	else
		kvm_fmt_add(f, " %s=?", name);
}

void kvm_arch_format_regs(struct kvm_vcpu *vcpu, struct kvm_fmt *f)
{
	char name[8];

	kvm_fmt_add(f, "regs:");
	kvm_arm64_fmt_reg(vcpu, f, "pc", KVM_ARM64_REG_PC);
	kvm_arm64_fmt_reg(vcpu, f, "pstate", KVM_ARM64_REG_PSTATE);
	kvm_arm64_fmt_reg(vcpu, f, "sp_el0", KVM_ARM64_CORE_REG(regs.sp));
	kvm_arm64_fmt_reg(vcpu, f, "sp_el1", KVM_ARM64_CORE_REG(sp_el1));
	kvm_arm64_fmt_reg(vcpu, f, "elr_el1", KVM_ARM64_CORE_REG(elr_el1));
	kvm_fmt_add(f, "\nsys:");
	kvm_arm64_fmt_reg(vcpu, f, "esr_el1", KVM_ARM64_REG_ESR_EL1);
	kvm_arm64_fmt_reg(vcpu, f, "far_el1", KVM_ARM64_REG_FAR_EL1);
	for (unsigned int i = 0; i < 31; i++) {
		if (i % 4 == 0)
			kvm_fmt_add(f, "\n");
		snprintf(name, sizeof(name), "x%u", i);
		kvm_arm64_fmt_reg(vcpu, f, name, KVM_ARM64_REG_X(i));
	}
	kvm_fmt_add(f, "\n");
}

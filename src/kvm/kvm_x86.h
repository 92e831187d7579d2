/* SPDX-License-Identifier: MIT */
/* kvm_x86.h: the x86 half of the /dev/kvm wrappers: VM-wide platform set-up, CPUID, register state, MSRs, LAPIC. */
/*
 * kvm_cpuid_patch() is a pure function over struct kvm_cpuid2 so that the
 * topology it writes can be unit-tested without /dev/kvm.
 */
#ifndef VMM_KVM_X86_H
#define VMM_KVM_X86_H

#include "kvm.h"

/* Guest-physical pages KVM needs below 4 GiB on Intel (VMX real-mode TSS
 * takes three pages, the EPT identity map one); placed just under the
 * 4 GiB - 4 MiB hole that the BIOS area leaves free. */
#define KVM_VM_TSS_ADDR 0xfffbd000ULL
#define KVM_VM_IDENTITY_MAP_ADDR 0xfffbc000ULL

/*
 * KVM_GET_SUPPORTED_CPUID into a malloc'd table, grown while KVM answers
 * -E2BIG. On success *out is the table (caller frees) and the return value
 * is its entry count; -ENOMEM or -errno otherwise (*out untouched).
 */
int kvm_sys_get_supported_cpuid(struct kvm_sys *sys, struct kvm_cpuid2 **out);

/* 1 if a hardware-assisted KVM module (kvm_intel or kvm_amd) is loaded,
 * 0 otherwise (e.g. the software kvm_pvm, or no KVM at all). */
int kvm_sys_is_hardware(void);

/* KVM_SET_TSS_ADDR. Returns 0 or -errno. Must precede vCPU creation. */
int kvm_vm_set_tss_addr(struct kvm_vm *vm, uint64_t gpa);

/* KVM_SET_IDENTITY_MAP_ADDR. Returns 0 or -errno. Must precede vCPUs. */
int kvm_vm_set_identity_map_addr(struct kvm_vm *vm, uint64_t gpa);

/* KVM_CREATE_IRQCHIP (PIC pair + IOAPIC; local APICs per vCPU).
 * Returns 0 or -errno. Must precede vCPU creation. */
int kvm_vm_create_irqchip(struct kvm_vm *vm);

/* KVM_CREATE_PIT2 with KVM_PIT_SPEAKER_DUMMY (port 0x61 reads as the
 * speaker/refresh bits instead of exiting). Returns 0 or -errno; needs
 * the irqchip first. */
int kvm_vm_create_pit2(struct kvm_vm *vm);

/* The four calls above in order, with KVM_VM_TSS_ADDR and
 * KVM_VM_IDENTITY_MAP_ADDR. Returns 0 or the first -errno. */
int kvm_vm_setup_x86(struct kvm_vm *vm);

/* Pointer to the data of a KVM_EXIT_IO exit (count * size bytes). */
void *kvm_vcpu_pio_data(const struct kvm_vcpu *vcpu);

/* Register-state ioctls. Each returns 0 or -errno. */
int kvm_vcpu_get_regs(struct kvm_vcpu *vcpu, struct kvm_regs *regs);
int kvm_vcpu_set_regs(struct kvm_vcpu *vcpu, const struct kvm_regs *regs);
int kvm_vcpu_get_sregs(struct kvm_vcpu *vcpu, struct kvm_sregs *sregs);
int kvm_vcpu_set_sregs(struct kvm_vcpu *vcpu, const struct kvm_sregs *sregs);
int kvm_vcpu_get_fpu(struct kvm_vcpu *vcpu, struct kvm_fpu *fpu);
int kvm_vcpu_set_fpu(struct kvm_vcpu *vcpu, const struct kvm_fpu *fpu);
int kvm_vcpu_get_lapic(struct kvm_vcpu *vcpu, struct kvm_lapic_state *lapic);
int kvm_vcpu_set_lapic(struct kvm_vcpu *vcpu, const struct kvm_lapic_state *lapic);
int kvm_vcpu_get_mp_state(struct kvm_vcpu *vcpu, struct kvm_mp_state *mp);
int kvm_vcpu_set_mp_state(struct kvm_vcpu *vcpu, const struct kvm_mp_state *mp);

/* KVM_SET_CPUID2 with the given table. Returns 0 or -errno. */
int kvm_vcpu_set_cpuid(struct kvm_vcpu *vcpu, const struct kvm_cpuid2 *cpuid);

/*
 * KVM_SET_MSRS with n (index, data) entries. Returns 0 when all were set,
 * -EIO if KVM accepted fewer (then *failed, if not NULL, is the index of
 * the first MSR KVM refused), -ENOMEM, -EINVAL for n == 0, or -errno.
 */
int kvm_vcpu_set_msrs(struct kvm_vcpu *vcpu, const struct kvm_msr_entry *entries, uint32_t n,
		      uint32_t *failed);

/*
 * KVM_GET_MSRS: fill entries[i].data for the n indices given. Returns 0,
 * -EIO if KVM read fewer (then *failed as above), or -errno.
 */
int kvm_vcpu_get_msrs(struct kvm_vcpu *vcpu, struct kvm_msr_entry *entries, uint32_t n,
		      uint32_t *failed);

/* Program LVT LINT0 as ExtINT and LINT1 as NMI, both unmasked, as PC
 * firmware leaves them (so the PIC reaches the BSP). Returns 0 or -errno. */
int kvm_vcpu_setup_lapic(struct kvm_vcpu *vcpu);

/*
 * Set the MSRs a Linux guest expects at boot: IA32_MISC_ENABLE with fast
 * strings, SYSENTER_CS/ESP/EIP, STAR, LSTAR, CSTAR, SFMASK and
 * KERNEL_GS_BASE = 0, TSC = 0. Returns 0, or -EIO with *failed (if not
 * NULL) the first MSR KVM refused, or -errno.
 */
int kvm_vcpu_setup_msrs(struct kvm_vcpu *vcpu, uint32_t *failed);

/* Spare entries kvm_cpuid_make_vcpu leaves for kvm_cpuid_patch: a host may
 * report leaf 0xB or 0x1F with subleaf 0 only (kvm_pvm does), and the
 * patch adds subleaves 1 and 2 to each. */
#define KVM_CPUID_PATCH_SPARE 4

/*
 * Patch, in place, a copy of the supported CPUID for the vCPU with APIC id
 * apic_id out of ncpus (one thread per core, ncpus cores, one package).
 * cap is how many entries the allocation behind cpuid holds (>= nent):
 *  - leaf 1: EBX[31:24] APIC id (low 8 bits), EBX[23:16] addressable
 *    logical ids (ncpus rounded up to a power of two, at most 255),
 *    EBX[15:8] CLFLUSH and EBX[7:0] brand kept; EDX HTT set iff ncpus > 1;
 *    ECX bit 31 (hypervisor) set;
 *  - leaf 0xB (when within the max basic leaf) and 0x1F (when also in the
 *    table): x2APIC topology, subleaf 0 = SMT (shift 0, 1 thread), subleaf
 *    1 = core (shift = bits to number ncpus, ncpus logical processors),
 *    subleaf 2 and later invalid (type 0); EDX = apic_id. Missing subleaves
 *    0-2 are added;
 *  - leaf 4: EAX[31:26] = ncpus - 1, EAX[25:14] = sharing (0 for L1/L2,
 *    ncpus - 1 for L3 and beyond);
 *  - AMD/Hygon only: leaf 0x80000008 ECX NC = ncpus - 1 and ApicIdSize,
 *    leaf 0x8000001E extended APIC id = core id = apic_id, one node.
 * Other leaves are left alone. Returns 0, -EINVAL if ncpus == 0, apic_id
 * >= ncpus or cap < nent, or -ENOSPC if subleaves must be added and cap
 * has no room; on error the table is unchanged.
 */
int kvm_cpuid_patch(struct kvm_cpuid2 *cpuid, uint32_t cap, unsigned int apic_id, unsigned int ncpus);

/*
 * Build the CPUID table for one vCPU: a malloc'd copy of supported with
 * KVM_CPUID_PATCH_SPARE spare entries, run through kvm_cpuid_patch. On
 * success *out is the table (caller frees) and 0 is returned; otherwise
 * -ENOMEM or kvm_cpuid_patch's error, and *out is untouched.
 */
int kvm_cpuid_make_vcpu(const struct kvm_cpuid2 *supported, unsigned int apic_id, unsigned int ncpus,
			struct kvm_cpuid2 **out);

/* Find the entry for (function, index) in a table, NULL if absent. Index
 * is compared only for entries flagged KVM_CPUID_FLAG_SIGNIFCANT_INDEX. */
struct kvm_cpuid_entry2 *kvm_cpuid_find(struct kvm_cpuid2 *cpuid, uint32_t function,
					uint32_t index);

#endif /* VMM_KVM_X86_H */

/* SPDX-License-Identifier: MIT */
/* kvm_arm64.h: thin wrappers over the arm64 KVM ioctls (vCPU init, vgic-v3, ONE_REG), and system-event decoding. */
/*
 * Same contract as kvm.h: 0 (or a non-negative value) on success, -errno on
 * failure; nothing here knows a memory map or a boot protocol, so addresses
 * come from the caller. They take kvm.h's structs, and the vgic device's fd.
 * They are the kvm module's arm64 half (src/kvm/meson.build builds them into
 * kvm_lib on arm64 hosts); the system-event decoder builds everywhere.
 *
 * KVM wants this order on arm64:
 *   KVM_CREATE_VM (type kvm_arm64_vm_type) -> memslots ->
 *   kvm_arm64_vgic_create (the device, its addresses, NR_IRQS) ->
 *   KVM_CREATE_VCPU + kvm_arm64_vcpu_init for every vCPU ->
 *   kvm_arm64_vgic_init (needs every vCPU) -> kvm_arm64_vcpu_boot on vCPU 0 -> KVM_RUN.
 */
#ifndef VMM_KVM_ARM64_H
#define VMM_KVM_ARM64_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "kvm.h"

/* What a KVM_EXIT_SYSTEM_EVENT asks of the VMM. */
enum kvm_arm64_event {
	KVM_ARM64_EVENT_POWER_OFF,  /* PSCI SYSTEM_OFF: end with status 0 */
	KVM_ARM64_EVENT_RESET,      /* PSCI SYSTEM_RESET or SYSTEM_RESET2: end as a reset (123) */
	KVM_ARM64_EVENT_CRASH,      /* the guest reported a crash: end as a reset does */
	KVM_ARM64_EVENT_UNKNOWN,    /* a type vmm never enabled (WAKEUP, SUSPEND) or does not know */
};

/* Decode a KVM_EXIT_SYSTEM_EVENT's run->system_event.type. Pure. */
enum kvm_arm64_event kvm_arm64_event_decode(uint32_t type);

/* The event's name for messages ("power-off", "reset", ...). Static storage. */
const char *kvm_arm64_event_name(enum kvm_arm64_event ev);

#ifdef __aarch64__
#include <stddef.h>

#include <asm/kvm.h>

/* ONE_REG ids of the core registers the boot sets, and of MPIDR_EL1 (op0 3, op1 0, CRn 0, CRm 0, op2 5). */
#define KVM_ARM64_CORE_REG(field) \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offsetof(struct kvm_regs, field) / sizeof(uint32_t)))
#define KVM_ARM64_REG_PC      KVM_ARM64_CORE_REG(regs.pc)
#define KVM_ARM64_REG_X(n)    KVM_ARM64_CORE_REG(regs.regs[n])
#define KVM_ARM64_REG_PSTATE  KVM_ARM64_CORE_REG(regs.pstate)
#define KVM_ARM64_REG_MPIDR   ARM64_SYS_REG(3, 0, 0, 0, 5)
/* The affinity fields of MPIDR_EL1 (Aff3 at 32..39, Aff2..Aff0 at 0..23), as a /cpus reg holds them. */
#define KVM_ARM64_MPIDR_AFF_MASK 0xff00ffffffULL
#endif

/*
 * The KVM_CREATE_VM type for a guest-physical space of ipa_bits (see
 * arm64_ipa_bits): 0 (KVM's default, 40 bits) when that is enough, else
 * KVM_VM_TYPE_ARM_IPA_SIZE(ipa_bits). sys is /dev/kvm, open. Returns the
 * type, -E2BIG if this host's KVM cannot address that much (KVM_CAP_ARM_VM_IPA_SIZE),
 * or -errno.
 */
int kvm_arm64_vm_type(struct kvm_sys *sys, unsigned int ipa_bits);

/*
 * KVM_ARM_PREFERRED_TARGET, then KVM_ARM_VCPU_INIT with PSCI 0.2 (KVM then
 * serves PSCI 1.x: CPU_ON, CPU_OFF, SYSTEM_OFF, SYSTEM_RESET) and, when
 * powered_off, KVM_ARM_VCPU_POWER_OFF: a secondary waits for the guest's
 * PSCI CPU_ON, which KVM handles in the kernel. Returns 0 or -errno.
 */
int kvm_arm64_vcpu_init(struct kvm_vm *vm, struct kvm_vcpu *vcpu, bool powered_off);

/* KVM_SET_ONE_REG / KVM_GET_ONE_REG of a 64-bit register. Returns 0 or -errno. */
int kvm_arm64_set_reg(struct kvm_vcpu *vcpu, uint64_t id, uint64_t val);
int kvm_arm64_get_reg(struct kvm_vcpu *vcpu, uint64_t id, uint64_t *val);

/*
 * The boot vCPU's entry state (booting.rst): PC = entry, X0 = the device
 * tree's address, X1-X3 = 0. KVM_ARM_VCPU_INIT already left EL1h with
 * DAIF masked and the MMU off. Returns 0 or the first -errno.
 */
int kvm_arm64_vcpu_boot(struct kvm_vcpu *vcpu, uint64_t entry, uint64_t dtb);

/* The vCPU's MPIDR_EL1 affinity (KVM_ARM64_MPIDR_AFF_MASK bits), for its /cpus node. Returns 0 or -errno. */
int kvm_arm64_vcpu_mpidr(struct kvm_vcpu *vcpu, uint64_t *mpidr);

/*
 * Create the in-kernel GICv3 (KVM_DEV_TYPE_ARM_VGIC_V3) with its
 * distributor at dist and one redistributor region at redist (128 KiB per
 * vCPU, contiguous), and nr_irqs interrupt ids (a multiple of 32, 64..1024:
 * the 32 private ones and the SPIs). Returns the device fd, or -errno
 * (-ENODEV: no GICv3 on this host; nothing stays open on failure).
 */
int kvm_arm64_vgic_create(struct kvm_vm *vm, uint64_t dist, uint64_t redist, uint32_t nr_irqs);

/* KVM_DEV_ARM_VGIC_CTRL_INIT: after every vCPU exists, before the first KVM_RUN. Returns 0 or -errno. */
int kvm_arm64_vgic_init(int vgic_fd);

/*
 * KVM_IRQ_LINE for SPI spi (GIC INTID 32 + spi) at level (0 or 1): a
 * level-triggered device such as the UART. Returns 0 or -errno. (An irqfd
 * takes the SPI number itself as its GSI.)
 */
int kvm_arm64_irq_line(struct kvm_vm *vm, unsigned int spi, int level);

#endif

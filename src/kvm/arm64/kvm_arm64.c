/* SPDX-License-Identifier: MIT */
/* The arm64 KVM ioctls: VM type, vCPU init with PSCI, ONE_REG, the vgic-v3 device, IRQ lines. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_arm64.h"

/* KVM's default VM type gives a 40-bit guest-physical space. */
#define KVM_ARM64_DEFAULT_IPA_BITS 40u

int kvm_arm64_vm_type(struct kvm_sys *sys, unsigned int ipa_bits)
{
	int max;

	if (ipa_bits <= KVM_ARM64_DEFAULT_IPA_BITS)
		return 0;
	max = kvm_sys_check_extension(sys, KVM_CAP_ARM_VM_IPA_SIZE);
	if (max < 0)
		return max;
	/* 0: the host cannot change the IPA size at all. */
	if ((unsigned int)max < ipa_bits)
		return -E2BIG;
	return (int)KVM_VM_TYPE_ARM_IPA_SIZE(ipa_bits);
}

int kvm_arm64_vcpu_init(struct kvm_vm *vm, struct kvm_vcpu *vcpu, bool powered_off)
{
	struct kvm_vcpu_init init;

	memset(&init, 0, sizeof(init));
	if (ioctl(vm->fd, KVM_ARM_PREFERRED_TARGET, &init) < 0)
		return -errno;
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (powered_off)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	if (ioctl(vcpu->fd, KVM_ARM_VCPU_INIT, &init) < 0)
		return -errno;
	return 0;
}

int kvm_arm64_set_reg(struct kvm_vcpu *vcpu, uint64_t id, uint64_t val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)&val };

	return ioctl(vcpu->fd, KVM_SET_ONE_REG, &reg) < 0 ? -errno : 0;
}

int kvm_arm64_get_reg(struct kvm_vcpu *vcpu, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)val };

	return ioctl(vcpu->fd, KVM_GET_ONE_REG, &reg) < 0 ? -errno : 0;
}

int kvm_arm64_vcpu_boot(struct kvm_vcpu *vcpu, uint64_t entry, uint64_t dtb)
{
	int r = kvm_arm64_set_reg(vcpu, KVM_ARM64_REG_PC, entry);

	if (r == 0)
		r = kvm_arm64_set_reg(vcpu, KVM_ARM64_REG_X(0), dtb);
	for (unsigned int i = 1; r == 0 && i <= 3; i++)
		r = kvm_arm64_set_reg(vcpu, KVM_ARM64_REG_X(i), 0);
	return r;
}

int kvm_arm64_vcpu_mpidr(struct kvm_vcpu *vcpu, uint64_t *mpidr)
{
	uint64_t v;
	int r = kvm_arm64_get_reg(vcpu, KVM_ARM64_REG_MPIDR, &v);

	if (r == 0)
		*mpidr = v & KVM_ARM64_MPIDR_AFF_MASK;
	return r;
}

static int vgic_attr(int dev_fd, uint32_t group, uint64_t attr, const void *val)
{
	struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)val };

	return ioctl(dev_fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

int kvm_arm64_vgic_create(struct kvm_vm *vm, uint64_t dist, uint64_t redist, uint32_t nr_irqs)
{
	struct kvm_create_device dev = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	int r;

	if (ioctl(vm->fd, KVM_CREATE_DEVICE, &dev) < 0)
		return -errno;
	r = vgic_attr((int)dev.fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist);
	if (r == 0)
		r = vgic_attr((int)dev.fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist);
	if (r == 0)
		r = vgic_attr((int)dev.fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs);
	if (r < 0) {
		close((int)dev.fd);
		return r;
	}
	return (int)dev.fd;
}

int kvm_arm64_vgic_init(int vgic_fd)
{
	return vgic_attr(vgic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
}

int kvm_arm64_irq_line(struct kvm_vm *vm, unsigned int spi, int level)
{
	struct kvm_irq_level irq = {
		.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (32u + spi),
		.level = (uint32_t)level,
	};

	return ioctl(vm->fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}

/* SPDX-License-Identifier: MIT */
/* kvm_x86.c: the x86 half of the kvm module's system and VM fds: required capabilities, CPUID query, platform set-up. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_internal.h"
#include "kvm_x86.h"

/* On top of kvm_sys.c's: the PIT, CPUID beyond leaf 0xd, and the VMX real-mode TSS. */
const struct kvm_sys_cap kvm_arch_caps[] = {
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
};

const size_t kvm_arch_ncaps = sizeof(kvm_arch_caps) / sizeof(kvm_arch_caps[0]);

int kvm_sys_get_supported_cpuid(struct kvm_sys *sys, struct kvm_cpuid2 **out)
{
	/* KVM has no "how many" query: start near today's typical count and
	 * double on -E2BIG; KVM caps the table at KVM_MAX_CPUID_ENTRIES (256). */
	uint32_t nent = 64;
	struct kvm_cpuid2 *cpuid;
	int ret;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return -ENOMEM;
		cpuid->nent = nent;
		if (ioctl(sys->fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		ret = -errno;
		free(cpuid);
		if (ret != -E2BIG || nent >= 4096)
			return ret;
		nent *= 2;
	}
	*out = cpuid;
	return (int)cpuid->nent;
}

int kvm_sys_is_hardware(void)
{
	return access("/sys/module/kvm_intel", F_OK) == 0 ||
	       access("/sys/module/kvm_amd", F_OK) == 0;
}

int kvm_vm_set_tss_addr(struct kvm_vm *vm, uint64_t gpa)
{
	return ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)gpa) < 0 ? -errno : 0;
}

int kvm_vm_set_identity_map_addr(struct kvm_vm *vm, uint64_t gpa)
{
	__u64 addr = gpa;

	return ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0 ? -errno : 0;
}

int kvm_vm_create_irqchip(struct kvm_vm *vm)
{
	return ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0 ? -errno : 0;
}

int kvm_vm_create_pit2(struct kvm_vm *vm)
{
	struct kvm_pit_config pit;

	memset(&pit, 0, sizeof(pit));
	pit.flags = KVM_PIT_SPEAKER_DUMMY;
	return ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0 ? -errno : 0;
}

int kvm_vm_setup_x86(struct kvm_vm *vm)
{
	int ret;

	ret = kvm_vm_set_tss_addr(vm, KVM_VM_TSS_ADDR);
	if (ret < 0)
		return ret;
	ret = kvm_vm_set_identity_map_addr(vm, KVM_VM_IDENTITY_MAP_ADDR);
	if (ret < 0)
		return ret;
	ret = kvm_vm_create_irqchip(vm);
	if (ret < 0)
		return ret;
	return kvm_vm_create_pit2(vm);
}

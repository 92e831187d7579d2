/* SPDX-License-Identifier: MIT */
/* kvm.h: thin wrappers over the arch-neutral /dev/kvm ioctls (system, VM, vCPU); kvm_x86.h has the x86 ones. */
/*
 * This layer turns the KVM ioctls a microVM needs into small functions that
 * return 0 (or a non-negative value) on success and -errno on failure. It
 * owns file descriptors and the kvm_run mapping and nothing else: it knows
 * no devices, no guest memory layout and no boot protocol. Callers build a
 * VM in this order, because KVM insists on it:
 *
 *   kvm_sys_open -> kvm_vm_create (arm64: kvm_vm_create_type, the IPA
 *   size) -> the arch's VM-wide set-up (x86: kvm_vm_setup_x86: TSS,
 *   identity map, irqchip, PIT, all before any vCPU exists; arm64: the
 *   vgic-v3 device) -> kvm_vm_set_memslot -> kvm_vcpu_create -> the arch's
 *   vCPU set-up (x86: set_cpuid / sregs / regs / msrs / lapic; arm64:
 *   KVM_ARM_VCPU_INIT, then the vgic's init once all exist) -> kvm_vcpu_run.
 *
 * The module has one arch half, chosen in meson.build by cpu_family
 * (x86: kvm_x86.c, kvm_x86_vcpu.c, kvm_cpuid.c; arm64: arm64/kvm_arm64.c,
 * arm64/kvm_arm64_regs.c): the capabilities kvm_sys_open
 * requires beyond the neutral ones (kvm_arch_caps), the register part of
 * kvm_vcpu_format_regs (kvm_arch_format_regs), and the arch's own ioctls in
 * kvm_<arch>.h.
 */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

/* KVM_GET_API_VERSION has returned 12 since Linux 2.6.22 and is frozen. */
#define KVM_SYS_API_VERSION 12

struct kvm_sys {
	int fd;
	int vcpu_mmap_size;
	/* Set by kvm_sys_open when it returns -ENOSYS: the capability missing. */
	long missing_cap;
};

/*
 * Open the KVM system device (path NULL means /dev/kvm) and check it is
 * usable for vmm. Returns 0, or -errno from open(2) (-ENOENT, -EACCES...),
 * -EPROTO if KVM_GET_API_VERSION is not 12, -ENOSYS if a required
 * capability is missing (name it with kvm_sys_missing_cap), or -errno from
 * KVM_GET_VCPU_MMAP_SIZE. On failure nothing stays open and sys->fd is -1.
 */
int kvm_sys_open(struct kvm_sys *sys, const char *path);

/* Name of the capability that made kvm_sys_open fail with -ENOSYS, e.g.
 * "KVM_CAP_IRQFD"; NULL if none was missing. Static storage. */
const char *kvm_sys_missing_cap(const struct kvm_sys *sys);

/* Close the system fd. Safe on a closed or zeroed-then-failed struct. */
void kvm_sys_close(struct kvm_sys *sys);

/* KVM_CHECK_EXTENSION: the capability's value (0 = absent, >0 = present or
 * a limit), or -errno. */
int kvm_sys_check_extension(struct kvm_sys *sys, long cap);

struct kvm_vm {
	int fd;
};

/* KVM_CREATE_VM (default machine type). Returns 0 or -errno; vm->fd is -1
 * on failure. */
int kvm_vm_create(struct kvm_sys *sys, struct kvm_vm *vm);

/* KVM_CREATE_VM of machine type type (arm64: the IPA size, KVM_VM_TYPE_ARM_IPA_SIZE); as kvm_vm_create. */
int kvm_vm_create_type(struct kvm_sys *sys, struct kvm_vm *vm, unsigned long type);

/* Close the VM fd. Safe to call twice. vCPUs should be destroyed first. */
void kvm_vm_destroy(struct kvm_vm *vm);

/*
 * KVM_SET_USER_MEMORY_REGION: map size bytes at host (page aligned) as
 * guest-physical gpa in slot. size 0 deletes the slot. Returns 0 or -errno
 * (-EINVAL for misalignment, -EEXIST for overlap).
 */
int kvm_vm_set_memslot(struct kvm_vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host);

/* KVM_IRQ_LINE: drive interrupt line `line` to level (0 or 1); x86: a GSI. Returns 0 or -errno. */
int kvm_vm_irq_line(struct kvm_vm *vm, uint32_t line, int level);

/* KVM_IRQFD: a write to eventfd fd pulses GSI gsi (edge). Returns 0 or -errno. */
int kvm_vm_irqfd(struct kvm_vm *vm, int fd, uint32_t gsi);

/* Undo kvm_vm_irqfd with the same (fd, gsi). Returns 0 or -errno. */
int kvm_vm_irqfd_remove(struct kvm_vm *vm, int fd, uint32_t gsi);

/*
 * KVM_IOEVENTFD without datamatch: a guest write of len bytes (0, 1, 2, 4
 * or 8; 0 = any length, MMIO only) to addr, in port space if pio, signals
 * eventfd fd instead of exiting to userspace. Returns 0 or -errno.
 */
int kvm_vm_ioeventfd(struct kvm_vm *vm, int fd, uint64_t addr, uint32_t len, bool pio);

/* Undo kvm_vm_ioeventfd with the same arguments. Returns 0 or -errno. */
int kvm_vm_ioeventfd_remove(struct kvm_vm *vm, int fd, uint64_t addr, uint32_t len, bool pio);

struct kvm_vcpu {
	int fd;
	unsigned int id;
	struct kvm_run *run;
	size_t run_size;
};

/* KVM_CREATE_VCPU with vCPU id id (x86: the APIC id), and map its kvm_run area. Returns 0 or
 * -errno; on failure vcpu->fd is -1 and vcpu->run NULL. */
int kvm_vcpu_create(struct kvm_sys *sys, struct kvm_vm *vm, unsigned int id, struct kvm_vcpu *vcpu);

/* Unmap kvm_run and close the vCPU fd. Safe to call twice. */
void kvm_vcpu_destroy(struct kvm_vcpu *vcpu);

/*
 * KVM_RUN once. Returns 0 when the vCPU exited to userspace (see
 * vcpu->run->exit_reason), -EINTR when a signal interrupted it (or
 * run->immediate_exit was set), or another -errno.
 */
int kvm_vcpu_run(struct kvm_vcpu *vcpu);

/* Name of a KVM_EXIT_* reason ("IO", "MMIO", "INTERNAL_ERROR"...), or
 * "UNKNOWN". Static storage. */
const char *kvm_exit_reason_name(uint32_t reason);

/*
 * Describe the vCPU's last exit (reason; internal-error suberror and data;
 * fail-entry hardware reason) and its registers as the arch half reads them
 * (x86: RIP, RSP, RFLAGS, general registers, CR0/2/3/4, EFER, segments;
 * arm64: PC, PSTATE, SP_EL0/EL1, ELR_EL1, ESR_EL1, FAR_EL1, X0-X30) as
 * text into buf (always NUL
 * terminated, cut at cap - 1). Nothing is printed. Returns the length
 * written (excluding the NUL), or -EINVAL if buf is NULL or cap is 0.
 * Registers that cannot be read are reported as such in the text.
 */
int kvm_vcpu_format_regs(struct kvm_vcpu *vcpu, char *buf, size_t cap);

#endif /* VMM_KVM_H */

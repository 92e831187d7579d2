/* SPDX-License-Identifier: MIT */
/* kvm.h: thin wrappers over the /dev/kvm ioctl interface (system, VM, vCPU, CPUID). */
/*
 * This layer turns the KVM ioctls a microVM needs into small functions that
 * return 0 (or a non-negative value) on success and -errno on failure. It
 * owns file descriptors and the kvm_run mapping and nothing else: it knows
 * no devices, no guest memory layout and no boot protocol. Callers build a
 * VM in this order, because KVM insists on it:
 *
 *   kvm_sys_open -> kvm_vm_create -> kvm_vm_setup_x86 (TSS, identity map,
 *   irqchip, PIT: all before any vCPU exists) -> kvm_vm_set_memslot ->
 *   kvm_vcpu_create -> set_cpuid / sregs / regs / msrs / lapic -> kvm_vcpu_run.
 *
 * kvm_cpuid_patch() is a pure function over struct kvm_cpuid2 so that the
 * topology it writes can be unit-tested without /dev/kvm.
 */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

/* KVM_GET_API_VERSION has returned 12 since Linux 2.6.22 and is frozen. */
#define KVM_SYS_API_VERSION 12

/* Guest-physical pages KVM needs below 4 GiB on Intel (VMX real-mode TSS
 * takes three pages, the EPT identity map one); placed just under the
 * 4 GiB - 4 MiB hole that the BIOS area leaves free. */
#define KVM_VM_TSS_ADDR 0xfffbd000ULL
#define KVM_VM_IDENTITY_MAP_ADDR 0xfffbc000ULL

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

/*
 * KVM_GET_SUPPORTED_CPUID into a malloc'd table, grown while KVM answers
 * -E2BIG. On success *out is the table (caller frees) and the return value
 * is its entry count; -ENOMEM or -errno otherwise (*out untouched).
 */
int kvm_sys_get_supported_cpuid(struct kvm_sys *sys, struct kvm_cpuid2 **out);

/* 1 if a hardware-assisted KVM module (kvm_intel or kvm_amd) is loaded,
 * 0 otherwise (e.g. the software kvm_pvm, or no KVM at all). */
int kvm_sys_is_hardware(void);

struct kvm_vm {
	int fd;
};

/* KVM_CREATE_VM (default machine type). Returns 0 or -errno; vm->fd is -1
 * on failure. */
int kvm_vm_create(struct kvm_sys *sys, struct kvm_vm *vm);

/* Close the VM fd. Safe to call twice. vCPUs should be destroyed first. */
void kvm_vm_destroy(struct kvm_vm *vm);

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

/*
 * KVM_SET_USER_MEMORY_REGION: map size bytes at host (page aligned) as
 * guest-physical gpa in slot. size 0 deletes the slot. Returns 0 or -errno
 * (-EINVAL for misalignment, -EEXIST for overlap).
 */
int kvm_vm_set_memslot(struct kvm_vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host);

/* KVM_IRQ_LINE: drive GSI gsi to level (0 or 1). Returns 0 or -errno. */
int kvm_vm_irq_line(struct kvm_vm *vm, uint32_t gsi, int level);

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

/* KVM_CREATE_VCPU with APIC id id, and map its kvm_run area. Returns 0 or
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

/* Name of a KVM_EXIT_* reason ("IO", "MMIO", "INTERNAL_ERROR"...), or
 * "UNKNOWN". Static storage. */
const char *kvm_exit_reason_name(uint32_t reason);

/*
 * Describe the vCPU's last exit (reason; internal-error suberror and data;
 * fail-entry hardware reason) and its registers (RIP, RSP, RFLAGS, general
 * registers, CR0/2/3/4, EFER, segments) as text into buf (always NUL
 * terminated, cut at cap - 1). Nothing is printed. Returns the length
 * written (excluding the NUL), or -EINVAL if buf is NULL or cap is 0.
 * Registers that cannot be read are reported as such in the text.
 */
int kvm_vcpu_format_regs(struct kvm_vcpu *vcpu, char *buf, size_t cap);

#endif /* VMM_KVM_H */

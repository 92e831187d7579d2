/* SPDX-License-Identifier: MIT */
/* The x86-64 machine behind arch.h: RAM around the MMIO hole, drive windows, KVM platform and vCPU set-up, boot tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "kvm_x86.h"
#include "x86_arch.h"

_Static_assert(X86_PORT_COM1 == ACPI_COM1_PORT && X86_GSI_COM1 == ACPI_COM1_GSI,
	       "the DSDT must describe the UART where x86_ports.c serves it");

const struct arch_board arch_board = {
	.cmdline_default = "console=ttyS0",
	/* docs/guest.md: reboot through the i8042 (which we serve), reboot on panic, no PCI probe. */
	.cmdline_params = "reboot=k panic=-1 pci=off",
	.max_drives = X86_VIRTIO_MMIO_MAX,
	.uart_irq = { .line = X86_GSI_COM1, .gsi = X86_GSI_COM1 },
	.boot_step = "kernel, initrd, ACPI and boot state",
};

unsigned int arch_ram_layout(uint64_t mem_bytes, struct gmem_region out[GMEM_MAX_REGIONS])
{
	return x86_ram_layout(mem_bytes, out);
}

void arch_drive_window(unsigned int i, struct arch_mmio_window *w)
{
	*w = (struct arch_mmio_window){
		.base = X86_VIRTIO_MMIO_ADDR(i),
		.size = X86_VIRTIO_MMIO_SIZE,
		.irq = { .line = X86_VIRTIO_MMIO_GSI(i), .gsi = X86_VIRTIO_MMIO_GSI(i) },
	};
}

int arch_vm_type(struct kvm_sys *sys, uint64_t mem_bytes, struct vm_error *err)
{
	(void)sys;
	(void)mem_bytes;
	(void)err;
	return 0;   /* x86 KVM has one machine type */
}

int arch_vm_create(const struct arch_vm_params *p, struct arch_vm **out, struct vm_error *err)
{
	struct arch_vm *av = calloc(1, sizeof(*av));
	int r;

	if (!av)
		return vm_error_set(err, VM_STAGE_KVM, -ENOMEM, "x86 machine state");
	*av = (struct arch_vm){ .vm = p->vm, .sys = p->sys, .kvm = p->kvm, .uart = p->uart,
				.mem_bytes = p->mem_bytes, .ncpus = p->ncpus, .ndrives = p->ndrives };
	r = kvm_vm_setup_x86(av->kvm);
	if (r < 0) {
		vm_error_set(err, VM_STAGE_KVM, r, "irqchip/PIT");
		goto destroy;
	}
	r = kvm_sys_get_supported_cpuid(av->sys, &av->supported);
	if (r < 0) {
		vm_error_set(err, VM_STAGE_VCPU, r, "KVM_GET_SUPPORTED_CPUID");
		goto destroy;
	}
	*out = av;
	return 0;
destroy:
	arch_vm_destroy(av);
	return r;
}

void arch_vm_destroy(struct arch_vm *av)
{
	if (!av)
		return;
	free(av->supported);
	free(av);
}

int arch_vcpu_init(struct arch_vm *av, struct kvm_vcpu *vcpu, struct vm_error *err)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	struct kvm_cpuid2 *cpuid;
	int r;

	/* Each vCPU gets its own APIC id and the topology of ncpus cores in the CPUID it sees. */
	r = kvm_cpuid_make_vcpu(av->supported, vcpu->id, av->ncpus, &cpuid);
	if (r < 0)
		return vm_error_set(err, VM_STAGE_VCPU, r, NULL);
	r = kvm_vcpu_set_cpuid(vcpu, cpuid);
	free(cpuid);
	if (r == 0)
		r = kvm_vcpu_setup_msrs(vcpu, NULL);
	if (r == 0)
		r = kvm_vcpu_set_fpu(vcpu, &fpu);
	if (r == 0)
		r = kvm_vcpu_setup_lapic(vcpu);
	return r < 0 ? vm_error_set(err, VM_STAGE_VCPU, r, NULL) : 0;
}

int arch_vcpus_ready(struct arch_vm *av, struct vm_error *err)
{
	(void)av;
	(void)err;
	return 0;   /* the in-kernel irqchip needs nothing more once the vCPUs exist */
}

/* The ACPI tables for av's vCPUs and drive windows, into the BIOS area; the RSDP's address in *rsdp. */
static int x86_acpi_build(const struct arch_vm *av, const struct gmem *mem, uint64_t *rsdp)
{
	struct acpi_machine m = {
		.ncpus = av->ncpus,
		.lapic_addr = X86_LAPIC_BASE,
		.ioapic_addr = X86_IOAPIC_BASE,
		.ioapic_id = av->ncpus,
		.sleep_control_port = X86_PORT_ACPI_SLEEP_CTL,
		.sleep_status_port = X86_PORT_ACPI_SLEEP_STS,
		.s5_slp_typ = X86_S5_SLP_TYP,
		.reset_port = X86_PORT_ACPI_RESET,
		.reset_value = X86_ACPI_RESET_VALUE,
		.nvirtio = av->ndrives,
	};
	uint64_t size = X86_ACPI_END - X86_ACPI_START;
	uint8_t *buf = gmem_ptr(mem, X86_ACPI_START, size);
	int r;

	for (unsigned int i = 0; i < av->ndrives && i < ACPI_MAX_VIRTIO; i++) {
		struct arch_mmio_window w;

		arch_drive_window(i, &w);
		m.virtio[i] = (struct acpi_virtio_mmio){ .base = w.base, .size = w.size, .gsi = w.irq.gsi };
	}
	if (!buf)
		return -ENOMEM;
	r = acpi_tables_build(&m, buf, size, X86_ACPI_START, rsdp);
	return r < 0 ? r : 0;
}

/* Only the boot CPU starts at the kernel entry; the others wait for INIT/SIPI in the in-kernel LAPIC. */
static int x86_bsp_setup(struct kvm_vcpu *bsp, uint64_t entry, struct vm_error *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int r;

	r = kvm_vcpu_get_sregs(bsp, &sregs);
	if (r < 0)
		return vm_error_set(err, VM_STAGE_VCPU, r, NULL);
	x86_sregs_long_mode(&sregs);
	r = kvm_vcpu_set_sregs(bsp, &sregs);
	if (r < 0)
		return vm_error_set(err, VM_STAGE_VCPU, r, NULL);
	x86_regs_boot(&regs, entry);
	r = kvm_vcpu_set_regs(bsp, &regs);
	return r < 0 ? vm_error_set(err, VM_STAGE_VCPU, r, NULL) : 0;
}

int arch_boot_setup(struct arch_vm *av, const struct gmem *mem, const struct arch_boot *b,
		    struct kvm_vcpu *boot_vcpu, struct vm_error *err)
{
	const struct x86_kernel *k = &b->kernel->k;
	size_t len = strlen(b->cmdline) + 1;
	char *dst = gmem_ptr(mem, X86_CMDLINE_ADDR, len);
	uint64_t rsdp = 0;
	int r;

	if (!dst)
		return vm_error_set(err, VM_STAGE_BOOT, -ENOMEM, NULL);
	memcpy(dst, b->cmdline, len);
	r = x86_acpi_build(av, mem, &rsdp);
	if (r < 0)
		return vm_error_set(err, VM_STAGE_BOOT, r, "ACPI tables");
	r = x86_boot_params_build(mem, k, av->mem_bytes, X86_CMDLINE_ADDR, b->initrd_gpa, b->initrd_size, rsdp);
	if (r < 0)
		return vm_error_set(err, VM_STAGE_BOOT, r, "boot_params");
	r = x86_page_tables_build(mem);
	if (r < 0)
		return vm_error_set(err, VM_STAGE_BOOT, r, "page tables");
	r = x86_gdt_build(mem);
	if (r < 0)
		return vm_error_set(err, VM_STAGE_BOOT, r, "GDT");
	return x86_bsp_setup(boot_vcpu, k->entry, err);
}

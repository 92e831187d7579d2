/* SPDX-License-Identifier: MIT */
/* The arm64 machine behind arch.h: RAM from 2 GiB, the GICv3, vCPUs with PSCI, the UART and exit device on MMIO, the device tree. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arm64_arch.h"
#include "arm64_fdt.h"
#include "arm64_layout.h"
#include "bus.h"
#include "kvm_arm64.h"
#include "serial.h"

const struct arch_board arch_board = {
	/* The console comes from /chosen/stdout-path, so a guest needs no console= (docs/guest.md). */
	.cmdline_default = "",
	.cmdline_params = ARM64_KERNEL_PARAMS,
	.max_drives = ARM64_VIRTIO_MMIO_MAX,
	.uart_irq = { .line = ARM64_IRQ_LINE_SPI(ARM64_SPI_UART), .gsi = ARM64_SPI_UART },
	.boot_step = "kernel, initrd, device tree and boot state",
};

unsigned int arch_ram_layout(uint64_t mem_bytes, struct gmem_region out[GMEM_MAX_REGIONS])
{
	out[0] = (struct gmem_region){ .gpa = ARM64_RAM_BASE, .size = mem_bytes, .host = NULL };
	return 1;
}

void arch_drive_window(unsigned int i, struct arch_mmio_window *w)
{
	*w = (struct arch_mmio_window){
		.base = ARM64_VIRTIO_MMIO_ADDR(i),
		.size = ARM64_VIRTIO_MMIO_SIZE,
		.irq = { .line = ARM64_IRQ_LINE_SPI(ARM64_SPI_VIRTIO(i)), .gsi = ARM64_SPI_VIRTIO(i) },
	};
}

int arch_vm_type(struct kvm_sys *sys, uint64_t mem_bytes, struct vm_error *err)
{
	int r = kvm_arm64_vm_type(sys, arm64_ipa_bits(mem_bytes));

	return r < 0 ? vm_error_set(err, VM_STAGE_KVM, r, "KVM_CAP_ARM_VM_IPA_SIZE") : r;
}

/* The exit device: a write to ARM64_EXIT_STATUS ends vmm with its low byte; one to ARM64_EXIT_BOOT_MARKER marks the boot. */
static void arm64_exit_write(void *ctx, uint64_t off, const void *data, unsigned int len)
{
	struct arch_vm *av = ctx;

	if (off == ARM64_EXIT_STATUS && len >= 1)
		vm_request_exit_kind(av->vm, VM_EXIT_PORT, ((const uint8_t *)data)[0]);
	else if (off == ARM64_EXIT_BOOT_MARKER)
		vm_boot_marker(av->vm);
	else
		vm_debug_unhandled(av->vm, "exit device: write at offset 0x%llx len %u ignored",
				   (unsigned long long)off, len);
}

static void arm64_exit_read(void *ctx, uint64_t off, void *data, unsigned int len)
{
	(void)ctx;
	(void)off;
	memset(data, 0, len);
}

/* The UART (byte registers, reg-shift 0) and the exit device on the core's MMIO bus. */
static int arm64_devices_add(struct arch_vm *av)
{
	struct bus_range uart = { .base = ARM64_UART_BASE, .size = SERIAL_NREGS, .read = serial_bus_read,
				  .write = serial_bus_write, .ctx = av->uart };
	struct bus_range ex = { .base = ARM64_EXIT_BASE, .size = ARM64_EXIT_SIZE, .read = arm64_exit_read,
				.write = arm64_exit_write, .ctx = av };
	int r = vm_mmio_add(av->vm, &uart);

	return r < 0 ? r : vm_mmio_add(av->vm, &ex);
}

void arch_vm_destroy(struct arch_vm *av)
{
	if (!av)
		return;
	if (av->vgic_fd >= 0)
		close(av->vgic_fd);
	free(av->mpidr);
	free(av);
}

int arch_vm_create(const struct arch_vm_params *p, struct arch_vm **out, struct vm_error *err)
{
	struct arch_vm *av = calloc(1, sizeof(*av));
	int r;

	if (!av)
		return vm_error_set(err, VM_STAGE_KVM, -ENOMEM, "arm64 machine state");
	*av = (struct arch_vm){ .vm = p->vm, .sys = p->sys, .kvm = p->kvm, .uart = p->uart,
				.mem_bytes = p->mem_bytes, .ncpus = p->ncpus, .ndrives = p->ndrives,
				.vgic_fd = -1, .mpidr = calloc(p->ncpus, sizeof(uint64_t)) };
	if (!av->mpidr) {
		r = vm_error_set(err, VM_STAGE_KVM, -ENOMEM, "arm64 machine state");
		goto destroy;
	}
	if (p->ncpus > ARM64_MAX_CPUS || p->ndrives > ARM64_VIRTIO_MMIO_MAX) {
		r = vm_error_set(err, VM_STAGE_KVM, -EINVAL, "GICv3");
		goto destroy;
	}
	/* The redistributors of every vCPU to come, one 128 KiB frame pair each from ARM64_GIC_REDIST_BASE. */
	r = kvm_arm64_vgic_create(av->kvm, ARM64_GIC_DIST_BASE, ARM64_GIC_REDIST_BASE, ARM64_GIC_NR_IRQS);
	if (r < 0) {
		vm_error_set(err, VM_STAGE_KVM, r, "GICv3 (KVM_DEV_TYPE_ARM_VGIC_V3)");
		goto destroy;
	}
	av->vgic_fd = r;
	r = arm64_devices_add(av);
	if (r == 0) {
		*out = av;
		return 0;
	}
	vm_error_set(err, VM_STAGE_KVM, r, "UART and exit device");
destroy:
	arch_vm_destroy(av);
	return r;
}

int arch_vcpu_init(struct arch_vm *av, struct kvm_vcpu *vcpu, struct vm_error *err)
{
	/* Secondaries start powered off; the guest starts them with PSCI CPU_ON, which KVM serves. */
	int r = kvm_arm64_vcpu_init(av->kvm, vcpu, vcpu->id != 0);

	if (r == 0 && vcpu->id < av->ncpus)
		r = kvm_arm64_vcpu_mpidr(vcpu, &av->mpidr[vcpu->id]);
	return r < 0 ? vm_error_set(err, VM_STAGE_VCPU, r, "KVM_ARM_VCPU_INIT") : 0;
}

int arch_vcpus_ready(struct arch_vm *av, struct vm_error *err)
{
	/* The vgic sizes its redistributors by the vCPUs that exist now: every one does. */
	int r = kvm_arm64_vgic_init(av->vgic_fd);

	return r < 0 ? vm_error_set(err, VM_STAGE_VCPU, r, "GICv3 init") : 0;
}

int arch_boot_setup(struct arch_vm *av, const struct gmem *mem, const struct arch_boot *b,
		    struct kvm_vcpu *boot_vcpu, struct vm_error *err)
{
	const struct arm64_kernel *k = &b->kernel->k;
	struct arm64_boot_place place;
	struct arm64_fdt_config cfg = {
		.ncpus = av->ncpus, .mpidr = av->mpidr, .mem_size = av->mem_bytes, .bootargs = b->cmdline,
		.initrd_addr = b->initrd_gpa, .initrd_size = b->initrd_size, .ndrives = av->ndrives,
	};
	void *dtb;
	int r = arm64_boot_place(mem, k, 0, &place, NULL);

	if (r < 0)
		return vm_error_set(err, VM_STAGE_BOOT, r, "device tree placement");
	dtb = gmem_ptr(mem, place.dtb_addr, ARM64_DTB_MAX);
	if (!dtb)
		return vm_error_set(err, VM_STAGE_BOOT, -ENOMEM, "device tree");
	r = arm64_fdt_build(&cfg, dtb, ARM64_DTB_MAX);
	if (r < 0)
		return vm_error_set(err, VM_STAGE_BOOT, r, "device tree");
	r = kvm_arm64_vcpu_boot(boot_vcpu, k->load_addr, place.dtb_addr);
	return r < 0 ? vm_error_set(err, VM_STAGE_VCPU, r, NULL) : 0;
}

bool arch_vcpu_exit(struct arch_vm *av, struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	if (run->exit_reason != KVM_EXIT_SYSTEM_EVENT)
		return false;
	switch (kvm_arm64_event_decode(run->system_event.type)) {
	case KVM_ARM64_EVENT_POWER_OFF:
		vm_request_exit_kind(av->vm, VM_EXIT_POWEROFF, 0);
		return true;
	case KVM_ARM64_EVENT_RESET:
	case KVM_ARM64_EVENT_CRASH:
		/* A reset ends vmm as on x86 (123); a guest crash report is a reset after a panic. */
		vm_request_exit_kind(av->vm, VM_EXIT_RESET, 0);
		return true;
	case KVM_ARM64_EVENT_UNKNOWN:
		break;
	}
	return false;
}

/* SPDX-License-Identifier: MIT */
/* x86 exits: port I/O (the UART at 0x3f8, exit status, boot marker, ACPI power and reset, the i8042 reset), triple faults. */
#include <string.h>

#include "kvm_x86.h"
#include "serial.h"
#include "x86_arch.h"

#define X86_PORT_I8042_DATA 0x60
#define X86_PORT_I8042_CMD  0x64
#define X86_PORT_POST       0x80   /* POST codes, and Linux's I/O delay */
/* i8042 command: pulse the CPU reset line, which reboot=k uses. */
#define X86_I8042_RESET     0xfe

static void x86_pio_out(struct arch_vm *av, uint16_t port, const uint8_t *data, unsigned int size)
{
	if (port >= X86_PORT_COM1 && port < X86_PORT_COM1 + SERIAL_NREGS) {
		serial_bus_write(av->uart, port - X86_PORT_COM1, data, size);
		return;
	}
	switch (port) {
	case X86_PORT_EXIT_STATUS:
		vm_request_exit_kind(av->vm, VM_EXIT_PORT, data[0]);
		return;
	case X86_PORT_BOOT_MARKER:
		vm_boot_marker(av->vm);
		return;
	case X86_PORT_ACPI_SLEEP_CTL:
		/* Linux in hardware-reduced ACPI mode writes SLP_TYPx << 2 | SLP_EN here. */
		if ((data[0] & X86_SLP_EN) && ((data[0] >> X86_SLP_TYP_SHIFT) & X86_SLP_TYP_MASK) == X86_S5_SLP_TYP)
			vm_request_exit_kind(av->vm, VM_EXIT_POWEROFF, 0);
		return;
	case X86_PORT_ACPI_RESET:
		if (data[0] == X86_ACPI_RESET_VALUE)
			vm_request_exit_kind(av->vm, VM_EXIT_RESET, 0);
		return;
	case X86_PORT_I8042_CMD:
		if (data[0] == X86_I8042_RESET)
			vm_request_exit_kind(av->vm, VM_EXIT_RESET, 0);
		return;
	case X86_PORT_POST:
		return;  /* silent */
	default:
		vm_debug_unhandled(av->vm, "unhandled port write 0x%x size %u", port, size);
	}
}

static void x86_pio_in(struct arch_vm *av, uint16_t port, uint8_t *data, unsigned int size)
{
	memset(data, 0xff, size);  /* unclaimed ports float high */
	if (port >= X86_PORT_COM1 && port < X86_PORT_COM1 + SERIAL_NREGS) {
		serial_bus_read(av->uart, port - X86_PORT_COM1, data, size);
		return;
	}
	switch (port) {
	case X86_PORT_I8042_CMD:
		data[0] = 0x00;  /* i8042 status: both buffers empty, so kb_wait() never spins */
		return;
	case X86_PORT_I8042_DATA:
		data[0] = 0x00;
		return;
	case X86_PORT_ACPI_SLEEP_STS:
		data[0] = 0x00;
		return;
	case X86_PORT_POST:
		return;
	default:
		vm_debug_unhandled(av->vm, "unhandled port read 0x%x size %u", port, size);
	}
}

static void x86_pio_exit(struct arch_vm *av, struct kvm_run *run, size_t run_size)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned int size = run->io.size;

	/* KVM promises both; checking costs nothing next to the exit itself. */
	if ((size != 1 && size != 2 && size != 4) ||
	    run->io.data_offset > run_size || (uint64_t)size * run->io.count > run_size - run->io.data_offset) {
		vm_debug_unhandled(av->vm, "port I/O exit with size %u count %u at offset %llu: ignored", size,
				   run->io.count, (unsigned long long)run->io.data_offset);
		return;
	}
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			x86_pio_out(av, run->io.port, data, size);
		else
			x86_pio_in(av, run->io.port, data, size);
	}
}

/*
 * A triple fault resets the machine as a reboot does, but it is a crash, so
 * the registers go with it for main.c to report. (On AMD, KVM has already
 * reset the vCPU when it reports the exit, so they show the reset state.)
 */
static void x86_triple_fault(struct arch_vm *av, struct kvm_vcpu *vcpu)
{
	struct vm_exit ex = { .kind = VM_EXIT_TRIPLE_FAULT };

	kvm_vcpu_format_regs(vcpu, ex.detail, sizeof(ex.detail));
	vm_request_exit(av->vm, &ex);
}

bool arch_vcpu_exit(struct arch_vm *av, struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		x86_pio_exit(av, run, vcpu->run_size);
		return true;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; we always have one. Treat as a stop. */
		vm_request_exit_kind(av->vm, VM_EXIT_POWEROFF, 0);
		return true;
	case KVM_EXIT_SHUTDOWN:
		x86_triple_fault(av, vcpu);
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
			vm_request_exit_kind(av->vm, VM_EXIT_POWEROFF, 0);
		else
			vm_request_exit_kind(av->vm, VM_EXIT_RESET, 0);
		return true;
	default:
		return false;
	}
}

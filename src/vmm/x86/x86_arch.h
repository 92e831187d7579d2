/* SPDX-License-Identifier: MIT */
/* What the x86 room's files share: its per-VM state and the ACPI power values its ports and tables agree on. */
#ifndef VMM_X86_ARCH_H
#define VMM_X86_ARCH_H

#include <stdint.h>

#include "arch.h"
#include "x86_boot.h"

/* ACPI sleep control register bits (ACPI 6.x, 4.8.3.7). */
#define X86_SLP_EN 0x20
#define X86_SLP_TYP_SHIFT 2
#define X86_SLP_TYP_MASK 0x7
/* The SLP_TYP the DSDT's _S5 names, which x86_ports.c takes for a power-off. */
#define X86_S5_SLP_TYP 5
/* Value the guest writes to the FADT reset register. */
#define X86_ACPI_RESET_VALUE 1

struct arch_vm {
	struct vm *vm;             /* for the core's services */
	struct kvm_sys *sys;
	struct kvm_vm *kvm;
	struct serial *uart;       /* on ports X86_PORT_COM1.. */
	uint64_t mem_bytes;
	unsigned int ncpus;
	unsigned int ndrives;
	struct kvm_cpuid2 *supported;   /* KVM_GET_SUPPORTED_CPUID, which each vCPU's CPUID starts from */
};

struct arch_kernel {
	struct x86_kernel k;
};

#endif

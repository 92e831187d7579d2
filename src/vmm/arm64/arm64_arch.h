/* SPDX-License-Identifier: MIT */
/* What the arm64 room's files share: its per-VM state and the kernel its loader accepted. */
#ifndef VMM_ARM64_ARCH_H
#define VMM_ARM64_ARCH_H

#include <stdint.h>

#include "arch.h"
#include "arm64_boot.h"

struct arch_vm {
	struct vm *vm;             /* for the core's services */
	struct kvm_sys *sys;
	struct kvm_vm *kvm;
	struct serial *uart;       /* at ARM64_UART_BASE */
	uint64_t mem_bytes;
	unsigned int ncpus;
	unsigned int ndrives;
	int vgic_fd;               /* the in-kernel GICv3 device, -1 before it exists */
	uint64_t *mpidr;           /* ncpus MPIDR_EL1 affinities, as KVM gave them, for /cpus */
};

struct arch_kernel {
	struct arm64_kernel k;
};

#endif

/* SPDX-License-Identifier: MIT */
/* The arm64 guest's device tree, built with libfdt: CPUs, memory, GICv3, timer, PSCI, UART, exit device, drives. */
#ifndef VMM_ARM64_FDT_H
#define VMM_ARM64_FDT_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of random seed in /chosen/rng-seed (the kernel credits it to its pool). */
#define ARM64_FDT_RNG_SEED_LEN 64u

/* The phandle of the GIC node, every device's interrupt-parent. */
#define ARM64_FDT_GIC_PHANDLE  1u

/* The stdout-path, the UART node's path. */
#define ARM64_FDT_UART_PATH    "/serial@9000000"

/* What varies between guests; the devices' addresses and interrupts come from arm64_layout.h. */
struct arm64_fdt_config {
	unsigned int ncpus;         /* 1..ARM64_MAX_CPUS */
	const uint64_t *mpidr;      /* ncpus MPIDR_EL1 affinities, as KVM reports them; NULL = arm64_mpidr_default */
	uint64_t mem_size;          /* RAM bytes from ARM64_RAM_BASE */
	const char *bootargs;       /* the kernel command line; NULL or "" for none */
	uint64_t initrd_addr;       /* guest-physical */
	uint64_t initrd_size;       /* 0: no initrd */
	unsigned int ndrives;       /* drive i: a virtio-mmio node at ARM64_VIRTIO_MMIO_ADDR(i), SPI ARM64_SPI_VIRTIO(i) */
	const uint8_t *rng_seed;    /* ARM64_FDT_RNG_SEED_LEN bytes; NULL = read them with getrandom(2) */
};

/*
 * Build the device tree blob into buf (cap bytes; at most ARM64_DTB_MAX are
 * used). Returns its size (the header's totalsize), or -EINVAL for a
 * config out of range (ncpus 0 or above ARM64_MAX_CPUS, ndrives above
 * ARM64_VIRTIO_MMIO_MAX, no memory, an initrd that does not fit in
 * 64 bits), -ENAMETOOLONG for bootargs of ARM64_CMDLINE_MAX bytes or more,
 * -ENOSPC if cap is too small, or getrandom's -errno. Pure but for getrandom.
 */
int arm64_fdt_build(const struct arm64_fdt_config *cfg, void *buf, size_t cap);

#endif

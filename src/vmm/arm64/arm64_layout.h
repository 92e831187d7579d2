/* SPDX-License-Identifier: MIT */
/* The arm64 guest's physical memory map and interrupt numbers: GICv3, UART, exit device, virtio-mmio, RAM. */
#ifndef VMM_ARM64_LAYOUT_H
#define VMM_ARM64_LAYOUT_H

#include <stdint.h>

/*
 * Devices sit below 2 GiB where QEMU's virt machine has them, so a guest
 * that runs there finds the same addresses here; RAM starts at 2 GiB as on
 * Firecracker (virt's 1 GiB start would leave no room for a 2 GiB MMIO area
 * later). docs/guest.md draws the map; this header is its source.
 */
#define ARM64_GIC_DIST_BASE       0x08000000ULL
#define ARM64_GIC_DIST_SIZE       0x00010000ULL   /* GICv3 distributor: one 64 KiB frame */
#define ARM64_GIC_REDIST_BASE     0x080A0000ULL
#define ARM64_GIC_REDIST_STRIDE   0x00020000ULL   /* per vCPU: RD_base and SGI_base, 64 KiB each */
#define ARM64_GIC_REDIST_END      0x09000000ULL   /* exclusive: room for 123 vCPUs */
#define ARM64_GIC_REDIST_SIZE(n)  ((uint64_t)(n) * ARM64_GIC_REDIST_STRIDE)

#define ARM64_UART_BASE           0x09000000ULL   /* 16550A, byte registers (reg-shift 0) */
#define ARM64_UART_SIZE           0x00001000ULL
#define ARM64_UART_CLOCK          1843200u        /* Hz: a PC UART's crystal, so divisor 1 is 115200 baud */

/*
 * The exit device: a guest write to ARM64_EXIT_STATUS ends vmm with the
 * written value's low byte as its status (x86's port 0x501); any write to
 * ARM64_EXIT_BOOT_MARKER marks the boot (x86's port 0x502). Reads give 0.
 */
#define ARM64_EXIT_BASE           0x09010000ULL
#define ARM64_EXIT_SIZE           0x00001000ULL
#define ARM64_EXIT_STATUS         0x0u            /* register offsets in the window */
#define ARM64_EXIT_BOOT_MARKER    0x8u

/* virtio-mmio: drive i has a page-aligned window at BASE + i * STRIDE and SPI SPI_BASE + i. */
#define ARM64_VIRTIO_MMIO_BASE    0x0A000000ULL
#define ARM64_VIRTIO_MMIO_STRIDE  0x00001000ULL
#define ARM64_VIRTIO_MMIO_SIZE    0x00000200ULL
#define ARM64_VIRTIO_MMIO_MAX     16u             /* SPIs 16..31: all below ARM64_GIC_NR_IRQS */
#define ARM64_VIRTIO_MMIO_ADDR(i) (ARM64_VIRTIO_MMIO_BASE + (uint64_t)(i) * ARM64_VIRTIO_MMIO_STRIDE)

#define ARM64_RAM_BASE            0x80000000ULL   /* 2 GiB, 1 GiB aligned */
#define ARM64_RAM_ALIGN           0x00200000ULL   /* RAM comes in 2 MiB steps: the kernel's block size */

/*
 * Interrupts. SPI n is GIC INTID 32 + n; PPI n is INTID 16 + n. What KVM
 * takes differs by path: KVM_IRQ_LINE wants ARM64_IRQ_LINE_SPI(n), an irqfd
 * wants GSI n (KVM routes GSI n to SPI n by default with the in-kernel vgic).
 */
#define ARM64_SPI_UART            1u
#define ARM64_SPI_VIRTIO_BASE     16u
#define ARM64_SPI_VIRTIO(i)       (ARM64_SPI_VIRTIO_BASE + (unsigned int)(i))
#define ARM64_GIC_NR_IRQS         64u             /* INTIDs the vgic has: 32 private + SPIs 0..31 */
#define ARM64_IRQ_LINE_SPI(n)     ((1u << 24) | (32u + (unsigned int)(n)))   /* KVM_ARM_IRQ_TYPE_SPI */

/* The architected timer's PPIs, as the Arm Base System Architecture numbers them. */
#define ARM64_PPI_TIMER_SEC       13u
#define ARM64_PPI_TIMER_PHYS      14u
#define ARM64_PPI_TIMER_VIRT      11u
#define ARM64_PPI_TIMER_HYP       10u

/* The most vCPUs the redistributor region holds. */
#define ARM64_MAX_CPUS \
	((unsigned int)((ARM64_GIC_REDIST_END - ARM64_GIC_REDIST_BASE) / ARM64_GIC_REDIST_STRIDE))

/*
 * The MPIDR_EL1 affinity KVM gives vCPU id by default: Aff0 = id % 16,
 * Aff1 = (id / 16) % 256, Aff2 = (id / 4096) % 256 (16 per cluster, as a
 * GICv3 target list holds 16 CPUs). Only the affinity bits, as a /cpus reg.
 */
static inline uint64_t arm64_mpidr_default(unsigned int id)
{
	return (uint64_t)(id & 0xfu) | (uint64_t)((id >> 4) & 0xffu) << 8 | (uint64_t)((id >> 12) & 0xffu) << 16;
}

/*
 * Guest-physical address bits (the VM's IPA size) that RAM of mem_bytes
 * from ARM64_RAM_BASE needs, at least 32 (the smallest KVM accepts). Up to
 * 40, KVM's default VM type serves; more needs KVM_VM_TYPE_ARM_IPA_SIZE.
 */
static inline unsigned int arm64_ipa_bits(uint64_t mem_bytes)
{
	uint64_t end = ARM64_RAM_BASE + mem_bytes;
	unsigned int bits = 32;

	while (bits < 64 && end > (1ULL << bits))
		bits++;
	return bits;
}

#endif

/* SPDX-License-Identifier: MIT */
/* The fixed guest-physical machine layout shared by x86 boot, the ACPI glue and the port I/O devices. */
#ifndef VMM_X86_LAYOUT_H
#define VMM_X86_LAYOUT_H

#include <stdint.h>

#include "gmem.h"

/* RAM is split around the 32-bit MMIO hole. */
#define X86_LOWMEM_MAX          0xC0000000ULL   /* low RAM ends here at the latest (3 GiB) */
#define X86_HIGHMEM_START       0x100000000ULL  /* RAM beyond 3 GiB continues at 4 GiB */
#define X86_MMIO_HOLE_START     0xC0000000ULL
#define X86_MMIO_HOLE_END       0x100000000ULL  /* exclusive */

/* virtio-mmio: drive i has a window at BASE + i * STRIDE and interrupt GSI_BASE + i. */
#define X86_VIRTIO_MMIO_BASE     0xD0000000ULL
#define X86_VIRTIO_MMIO_STRIDE   0x1000ULL
#define X86_VIRTIO_MMIO_SIZE     0x200ULL
#define X86_VIRTIO_MMIO_GSI_BASE 16u
#define X86_VIRTIO_MMIO_MAX      8u
#define X86_VIRTIO_MMIO_ADDR(i)  (X86_VIRTIO_MMIO_BASE + (uint64_t)(i) * X86_VIRTIO_MMIO_STRIDE)
#define X86_VIRTIO_MMIO_GSI(i)   (X86_VIRTIO_MMIO_GSI_BASE + (unsigned int)(i))

#define X86_GSI_COM1             4u     /* the UART's interrupt */

#define X86_IOAPIC_BASE         0xFEC00000ULL
#define X86_IOAPIC_SIZE         0x1000ULL
#define X86_LAPIC_BASE          0xFEE00000ULL
#define X86_LAPIC_SIZE          0x1000ULL

/* I/O ports the x86 room serves (x86_ports.c). */
#define X86_PORT_COM1           0x3f8   /* the 16550A's 8 registers: 0x3f8-0x3ff */
#define X86_PORT_EXIT_STATUS    0x501   /* guest writes its exit status byte */
#define X86_PORT_BOOT_MARKER    0x502   /* guest writes when it reached a boot milestone */
#define X86_PORT_ACPI_SLEEP_CTL 0x504   /* ACPI (HW-reduced) sleep control register */
#define X86_PORT_ACPI_SLEEP_STS 0x505   /* ACPI (HW-reduced) sleep status register */
#define X86_PORT_ACPI_RESET     0x506   /* ACPI reset register (FADT RESET_REG) */

/* Boot data below 1 MiB, written by x86 boot before the first vCPU runs. */
#define X86_GDT_ADDR            0x500ULL
#define X86_ZERO_PAGE_ADDR      0x7000ULL      /* struct boot_params */
#define X86_PML4_ADDR           0x9000ULL
#define X86_PDPT_ADDR           0xA000ULL
#define X86_PD_ADDR             0xB000ULL      /* four page directories, 0xB000..0xEFFF */
#define X86_PD_COUNT            4u
#define X86_CMDLINE_ADDR        0x20000ULL
#define X86_CMDLINE_MAX         2048u          /* bytes including the NUL */

/* Legacy areas reserved in the e820 map. */
#define X86_EBDA_START          0x9FC00ULL     /* EBDA + VGA + BIOS: reserved up to 1 MiB */
#define X86_ACPI_START          0xE0000ULL     /* the ACPI builder puts RSDP and tables here */
#define X86_ACPI_END            0x100000ULL    /* exclusive */
#define X86_BIOS_END            0x100000ULL    /* 1 MiB: first byte of "high" low RAM */

/* Where a bzImage goes when its header names no preferred address. */
#define X86_KERNEL_DEFAULT_ADDR 0x100000ULL

/*
 * Guest RAM regions for mem_bytes of RAM: out[0] = [0, min(mem, 3 GiB)), and
 * when mem_bytes > 3 GiB out[1] = [4 GiB, 4 GiB + mem_bytes - 3 GiB). Sets gpa
 * and size, host = NULL. Returns the number of regions filled (1 or 2).
 */
unsigned int x86_ram_layout(uint64_t mem_bytes, struct gmem_region out[2]);

#endif

/* SPDX-License-Identifier: MIT */
/* ACPI tables (RSDP, XSDT, FADT, DSDT, MADT) for a HW-reduced x86 microVM. */
#ifndef VMM_ACPI_ACPI_H
#define VMM_ACPI_ACPI_H

#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_VIRTIO 8

/* One virtio-mmio device: its MMIO window and its (edge-triggered) GSI. */
struct acpi_virtio_mmio {
	uint64_t base;			/* window must lie below 4 GiB */
	uint32_t size;			/* non-zero */
	uint32_t gsi;
};

struct acpi_machine {
	unsigned int ncpus;		/* LAPIC ids 0..ncpus-1; 1..255 */
	uint64_t lapic_addr;		/* 0xFEE00000; must be below 4 GiB */
	uint64_t ioapic_addr;		/* 0xFEC00000; must be below 4 GiB */
	uint8_t ioapic_id;		/* ncpus (after the LAPIC ids) */
	uint16_t sleep_control_port;	/* 0x504: FADT SLEEP_CONTROL_REG, SystemIO, 8 bits */
	uint16_t sleep_status_port;	/* 0x505: FADT SLEEP_STATUS_REG */
	uint8_t s5_slp_typ;		/* value in _S5 (use 5); 0..7 */
	uint16_t reset_port;		/* 0x506: FADT RESET_REG (SystemIO, 8 bits) */
	uint8_t reset_value;		/* 1: FADT RESET_VALUE */
	struct acpi_virtio_mmio virtio[ACPI_MAX_VIRTIO];
	unsigned int nvirtio;
};

/*
 * A guest in HW-reduced mode powers off by writing this byte to the sleep
 * control port (SLP_TYP in bits 4:2, SLP_EN in bit 5).
 */
#define ACPI_SLEEP_CONTROL_S5(slp_typ) ((uint8_t)((((slp_typ) << 2) & 0x1C) | 0x20))

/*
 * The DSDT always has a COM1 device (PNP0501, I/O 0x3F8-0x3FF, GSI 4, edge,
 * active high): in HW-reduced mode Linux installs no legacy PIC and maps no
 * ISA IRQ on its own, so the 8250 driver only gets IRQ 4 through ACPI.
 */
#define ACPI_COM1_PORT 0x3F8
#define ACPI_COM1_GSI  4

/*
 * Lays out RSDP, XSDT, FADT, DSDT and MADT in buf (cap bytes), which the
 * caller copies to guest-physical address buf_gpa; every table pointer is
 * guest-physical. The RSDP comes first, on the first 16-byte boundary at or
 * after buf_gpa, so a BIOS-area scan finds it too; *rsdp_gpa is set to it.
 * Bytes of buf past the returned count are left untouched.
 *
 * Returns the number of bytes used, -ENOSPC if cap is too small, -EINVAL if
 * m is out of range (see the field comments; also nvirtio > 8 or a GSI
 * that does not fit the tables), or -ENOMEM.
 */
int acpi_tables_build(const struct acpi_machine *m, uint8_t *buf, size_t cap,
		      uint64_t buf_gpa, uint64_t *rsdp_gpa);

#endif

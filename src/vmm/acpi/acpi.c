/* SPDX-License-Identifier: MIT */
/* Builds the guest's ACPI tables; layouts follow the ACPI 6.5 specification. */
#include "acpi.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "aml.h"

#define ACPI_OEM_ID        "VMM   "
#define ACPI_CREATOR_ID    "VMM "
#define ACPI_SDT_HDR_LEN   36

#define ACPI_RSDP_LEN      36
#define ACPI_FADT_LEN      276 /* revision 6 */
#define ACPI_FADT_REV      6
#define ACPI_FADT_MINOR    5   /* ACPI 6.5 */
#define ACPI_MADT_REV      5   /* ACPI 6.3 and later */
#define ACPI_XSDT_ENTRIES  2   /* FADT, MADT; the DSDT hangs off the FADT */

/* FADT Flags (5.2.9, table 5.10). */
#define ACPI_FADT_RESET_REG_SUP   (1u << 10)
#define ACPI_FADT_HW_REDUCED_ACPI (1u << 20)

/*
 * FADT IAPC_BOOT_ARCH (5.2.9.3). The 8042 flag stays clear: the VMM's i8042
 * is only a reset line (reboot=k writes 0xFE to port 0x64 whether or not a
 * driver is bound), and a clear flag makes Linux skip its i8042 probe, which
 * would otherwise wait out its command timeouts on every boot. Neither VGA
 * nor a CMOS RTC exist; the latter keeps Linux from probing port 0x70.
 */
#define ACPI_IAPC_VGA_NOT_PRESENT (1u << 2)
#define ACPI_IAPC_CMOS_RTC_ABSENT (1u << 5)

/* Generic Address Structure (5.2.3.2). */
#define ACPI_GAS_SYSTEM_IO 1
#define ACPI_GAS_ACCESS_BYTE 1

/* MADT (5.2.12). */
#define ACPI_MADT_PCAT_COMPAT   (1u << 0)
#define ACPI_MADT_LAPIC         0
#define ACPI_MADT_IOAPIC        1
#define ACPI_MADT_ISO           2
#define ACPI_MADT_LAPIC_NMI     4
#define ACPI_MADT_LAPIC_ENABLED (1u << 0)
/* MPS INTI flags: polarity in bits 1:0, trigger mode in bits 3:2. */
#define ACPI_MPS_ACTIVE_HIGH    0x1
#define ACPI_MPS_EDGE           (0x1 << 2)
#define ACPI_MADT_ALL_CPUS      0xFF

#define ACPI_MADT_LAPIC_LEN     8
#define ACPI_MADT_IOAPIC_LEN    12
#define ACPI_MADT_ISO_LEN       10
#define ACPI_MADT_NMI_LEN       6

static void acpi_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void acpi_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void acpi_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Returns the byte that makes the n bytes at p sum to zero. */
static uint8_t acpi_checksum_calc(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

/* Fills the common header; the checksum is set by acpi_sdt_seal(). */
static void acpi_sdt_header_fill(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	acpi_put32(t + 4, len);
	t[8] = rev;
	t[9] = 0;
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, "VMM", 3);	/* OEM table id: "VMM" + signature */
	memcpy(t + 19, sig, 4);
	t[23] = ' ';
	acpi_put32(t + 24, 1);		/* OEM revision */
	memcpy(t + 28, ACPI_CREATOR_ID, 4);
	acpi_put32(t + 32, 1);		/* creator revision */
}

static void acpi_sdt_seal(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = acpi_checksum_calc(t, len);
}

static void acpi_gas_io8_fill(uint8_t *g, uint16_t port)
{
	g[0] = ACPI_GAS_SYSTEM_IO;
	g[1] = 8;			/* register bit width */
	g[2] = 0;			/* bit offset */
	g[3] = ACPI_GAS_ACCESS_BYTE;
	acpi_put64(g + 4, port);
}

static size_t acpi_align(size_t off, uint64_t gpa, size_t align)
{
	return off + (size_t)((align - ((gpa + off) & (align - 1))) & (align - 1));
}

static int acpi_machine_check(const struct acpi_machine *m)
{
	if (m->ncpus < 1 || m->ncpus > 255)
		return -EINVAL;
	if (m->lapic_addr > UINT32_MAX || m->ioapic_addr > UINT32_MAX)
		return -EINVAL;
	if (m->s5_slp_typ > 7 || m->nvirtio > ACPI_MAX_VIRTIO)
		return -EINVAL;
	for (unsigned int i = 0; i < m->nvirtio; i++) {
		const struct acpi_virtio_mmio *v = &m->virtio[i];

		if (!v->size || v->base > (uint64_t)UINT32_MAX + 1 - v->size)
			return -EINVAL;
	}
	return 0;
}

/* Device(name) { _HID, _UID, _CRS { one I/O or memory range, one IRQ } } */
static int acpi_dsdt_device_emit(struct aml_buf *b, const char *name, const char *hid,
			    bool hid_is_eisa, unsigned int uid,
			    const struct acpi_virtio_mmio *mmio, uint16_t io_base,
			    uint8_t io_len, uint32_t gsi)
{
	size_t dev, crs;

	aml_device_begin(b, name, &dev);
	aml_name_emit(b, "_HID");
	if (hid_is_eisa)
		aml_eisaid_emit(b, hid);
	else
		aml_string_emit(b, hid);
	aml_name_emit(b, "_UID");
	aml_integer_emit(b, uid);
	aml_name_emit(b, "_CRS");
	aml_buffer_begin(b, &crs);
	if (mmio)
		aml_res_mem32_fixed_emit(b, true, (uint32_t)mmio->base, mmio->size);
	else
		aml_res_io16_emit(b, io_base, io_base, 1, io_len);
	/* Edge: the VMM raises these through KVM irqfd / a pulse. */
	aml_res_ext_irq_emit(b, AML_IRQ_CONSUMER | AML_IRQ_EDGE, gsi);
	aml_res_end_tag_emit(b);
	aml_buffer_end(b, crs);
	return aml_pkg_end(b, dev);
}

static int acpi_dsdt_body_emit(struct aml_buf *b, const struct acpi_machine *m)
{
	size_t pkg, sb;
	char name[5];

	/*
	 * \_S5: Linux reads SLP_TYPa from element 0 (and SLP_TYPb from 1);
	 * the four-element form is what firmware traditionally ships.
	 */
	aml_name_emit(b, "\\_S5");
	aml_package_begin(b, 4, &pkg);
	aml_integer_emit(b, m->s5_slp_typ);
	aml_integer_emit(b, 0);
	aml_integer_emit(b, 0);
	aml_integer_emit(b, 0);
	aml_pkg_end(b, pkg);

	aml_scope_begin(b, "\\_SB", &sb);
	acpi_dsdt_device_emit(b, "COM1", "PNP0501", true, 1, NULL, ACPI_COM1_PORT, 8,
			 ACPI_COM1_GSI);
	for (unsigned int i = 0; i < m->nvirtio; i++) {
		memcpy(name, "VRT", 3);
		name[3] = (char)('0' + i);
		name[4] = '\0';
		acpi_dsdt_device_emit(b, name, "LNRO0005", false, i, &m->virtio[i], 0, 0,
				 m->virtio[i].gsi);
	}
	aml_pkg_end(b, sb);
	return aml_buf_error(b);
}

static size_t acpi_madt_len(const struct acpi_machine *m)
{
	return ACPI_SDT_HDR_LEN + 8 + (size_t)m->ncpus * ACPI_MADT_LAPIC_LEN +
	       ACPI_MADT_IOAPIC_LEN + ACPI_MADT_ISO_LEN + ACPI_MADT_NMI_LEN;
}

static void acpi_madt_fill(uint8_t *t, const struct acpi_machine *m, size_t len)
{
	uint8_t *e;

	acpi_sdt_header_fill(t, "APIC", (uint32_t)len, ACPI_MADT_REV);
	acpi_put32(t + 36, (uint32_t)m->lapic_addr);
	/* PCAT_COMPAT: there is a (KVM) 8259 pair the OS should mask. */
	acpi_put32(t + 40, ACPI_MADT_PCAT_COMPAT);
	e = t + 44;
	for (unsigned int i = 0; i < m->ncpus; i++, e += ACPI_MADT_LAPIC_LEN) {
		e[0] = ACPI_MADT_LAPIC;
		e[1] = ACPI_MADT_LAPIC_LEN;
		e[2] = (uint8_t)i;	/* ACPI processor UID */
		e[3] = (uint8_t)i;	/* APIC id */
		acpi_put32(e + 4, ACPI_MADT_LAPIC_ENABLED);
	}
	e[0] = ACPI_MADT_IOAPIC;
	e[1] = ACPI_MADT_IOAPIC_LEN;
	e[2] = m->ioapic_id;
	e[3] = 0;
	acpi_put32(e + 4, (uint32_t)m->ioapic_addr);
	acpi_put32(e + 8, 0);		/* GSI base */
	e += ACPI_MADT_IOAPIC_LEN;

	/* The PIT's ISA IRQ 0 is wired to IOAPIC pin 2, as on every PC. */
	e[0] = ACPI_MADT_ISO;
	e[1] = ACPI_MADT_ISO_LEN;
	e[2] = 0;			/* bus: ISA */
	e[3] = 0;			/* source IRQ */
	acpi_put32(e + 4, 2);
	acpi_put16(e + 8, ACPI_MPS_ACTIVE_HIGH | ACPI_MPS_EDGE);
	e += ACPI_MADT_ISO_LEN;

	/* LINT1 of every local APIC is the NMI input, as on every PC. */
	e[0] = ACPI_MADT_LAPIC_NMI;
	e[1] = ACPI_MADT_NMI_LEN;
	e[2] = ACPI_MADT_ALL_CPUS;
	acpi_put16(e + 3, ACPI_MPS_ACTIVE_HIGH | ACPI_MPS_EDGE);
	e[5] = 1;			/* LINT# */

	acpi_sdt_seal(t, (uint32_t)len);
}

static void acpi_fadt_fill(uint8_t *t, const struct acpi_machine *m, uint64_t dsdt_gpa)
{
	acpi_sdt_header_fill(t, "FACP", ACPI_FADT_LEN, ACPI_FADT_REV);
	/* No FACS: optional in HW-reduced mode (no firmware waking vector). */
	if (dsdt_gpa <= UINT32_MAX)
		acpi_put32(t + 40, (uint32_t)dsdt_gpa);
	/* SCI_INT, SMI_CMD and every PM1/PM2/GPE block stay 0: HW-reduced. */
	acpi_put16(t + 109, ACPI_IAPC_VGA_NOT_PRESENT | ACPI_IAPC_CMOS_RTC_ABSENT);
	acpi_put32(t + 112, ACPI_FADT_HW_REDUCED_ACPI | ACPI_FADT_RESET_REG_SUP);
	acpi_gas_io8_fill(t + 116, m->reset_port);
	t[128] = m->reset_value;
	t[131] = ACPI_FADT_MINOR;
	acpi_put64(t + 140, dsdt_gpa);	/* X_DSDT */
	acpi_gas_io8_fill(t + 244, m->sleep_control_port);
	acpi_gas_io8_fill(t + 256, m->sleep_status_port);
	acpi_sdt_seal(t, ACPI_FADT_LEN);
}

int acpi_tables_build(const struct acpi_machine *m, uint8_t *buf, size_t cap,
		      uint64_t buf_gpa, uint64_t *rsdp_gpa)
{
	size_t off_rsdp, off_xsdt, off_fadt, off_dsdt, off_madt, end;
	size_t xsdt_len = ACPI_SDT_HDR_LEN + 8 * ACPI_XSDT_ENTRIES;
	size_t madt_len, dsdt_len;
	struct aml_buf dsdt;
	uint8_t *t;
	int ret;

	ret = acpi_machine_check(m);
	if (ret)
		return ret;

	aml_buf_init(&dsdt);
	ret = acpi_dsdt_body_emit(&dsdt, m);
	if (ret)
		goto free_dsdt;
	dsdt_len = ACPI_SDT_HDR_LEN + dsdt.len;
	madt_len = acpi_madt_len(m);

	off_rsdp = acpi_align(0, buf_gpa, 16);
	off_xsdt = acpi_align(off_rsdp + ACPI_RSDP_LEN, buf_gpa, 16);
	off_fadt = acpi_align(off_xsdt + xsdt_len, buf_gpa, 16);
	off_dsdt = acpi_align(off_fadt + ACPI_FADT_LEN, buf_gpa, 16);
	off_madt = acpi_align(off_dsdt + dsdt_len, buf_gpa, 16);
	end = off_madt + madt_len;
	if (end > cap || end > INT32_MAX) {
		ret = -ENOSPC;
		goto free_dsdt;
	}
	if (buf_gpa > UINT64_MAX - end) {
		ret = -EINVAL;
		goto free_dsdt;
	}
	memset(buf, 0, end);

	t = buf + off_dsdt;
	/* Revision 2: AML integers are 64 bits wide. */
	acpi_sdt_header_fill(t, "DSDT", (uint32_t)dsdt_len, 2);
	memcpy(t + ACPI_SDT_HDR_LEN, dsdt.data, dsdt.len);
	acpi_sdt_seal(t, (uint32_t)dsdt_len);

	acpi_fadt_fill(buf + off_fadt, m, buf_gpa + off_dsdt);
	acpi_madt_fill(buf + off_madt, m, madt_len);

	t = buf + off_xsdt;
	acpi_sdt_header_fill(t, "XSDT", (uint32_t)xsdt_len, 1);
	acpi_put64(t + 36, buf_gpa + off_fadt);
	acpi_put64(t + 44, buf_gpa + off_madt);
	acpi_sdt_seal(t, (uint32_t)xsdt_len);

	t = buf + off_rsdp;
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, ACPI_OEM_ID, 6);
	t[15] = 2;			/* revision: ACPI 2.0+, XSDT only */
	acpi_put32(t + 16, 0);		/* no RSDT */
	acpi_put32(t + 20, ACPI_RSDP_LEN);
	acpi_put64(t + 24, buf_gpa + off_xsdt);
	t[8] = acpi_checksum_calc(t, 20);
	t[32] = acpi_checksum_calc(t, ACPI_RSDP_LEN);

	*rsdp_gpa = buf_gpa + off_rsdp;
	ret = (int)end;
free_dsdt:
	aml_buf_free(&dsdt);
	return ret;
}

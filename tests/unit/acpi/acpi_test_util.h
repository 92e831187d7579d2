/* SPDX-License-Identifier: MIT */
/* Test helpers: a default machine and a walk from the RSDP to each table. */
#ifndef ACPI_TEST_UTIL_H
#define ACPI_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "acpi.h"

#define TEST_ACPI_GPA 0xE0000u
#define TEST_ACPI_CAP (128u * 1024u)

static inline uint16_t test_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t test_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t test_get64(const uint8_t *p)
{
	return (uint64_t)test_get32(p) | (uint64_t)test_get32(p + 4) << 32;
}

static inline uint8_t test_sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static inline void test_machine_init(struct acpi_machine *m, unsigned int ncpus,
				     unsigned int nvirtio)
{
	memset(m, 0, sizeof(*m));
	m->ncpus = ncpus;
	m->lapic_addr = 0xFEE00000;
	m->ioapic_addr = 0xFEC00000;
	m->ioapic_id = (uint8_t)ncpus;
	m->sleep_control_port = 0x504;
	m->sleep_status_port = 0x505;
	m->s5_slp_typ = 5;
	m->reset_port = 0x506;
	m->reset_value = 1;
	m->nvirtio = nvirtio;
	for (unsigned int i = 0; i < nvirtio; i++) {
		m->virtio[i].base = 0xD0000000u + 0x1000u * i;
		m->virtio[i].size = 0x200;
		m->virtio[i].gsi = 5 + i;
	}
}

/*
 * Returns the table at guest-physical gpa inside buf (built for base),
 * or NULL if gpa or the table's length points outside the used bytes.
 */
static inline const uint8_t *test_table_at(const uint8_t *buf, size_t used,
					   uint64_t base, uint64_t gpa)
{
	uint64_t off;

	if (gpa < base || gpa - base + 36 > used)
		return NULL;
	off = gpa - base;
	if (off + test_get32(buf + off + 4) > used)
		return NULL;
	return buf + off;
}

/* Follows RSDP -> XSDT to the table with signature sig (NULL if absent). */
static inline const uint8_t *test_find_table(const uint8_t *buf, size_t used,
					     uint64_t base, uint64_t rsdp_gpa,
					     const char *sig)
{
	const uint8_t *rsdp, *xsdt, *fadt;
	uint32_t n;

	if (rsdp_gpa < base || rsdp_gpa - base + 36 > used)
		return NULL;
	rsdp = buf + (rsdp_gpa - base);
	xsdt = test_table_at(buf, used, base, test_get64(rsdp + 24));
	if (!xsdt)
		return NULL;
	if (!memcmp(sig, "XSDT", 4))
		return xsdt;
	n = (test_get32(xsdt + 4) - 36) / 8;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *t = test_table_at(buf, used, base,
						 test_get64(xsdt + 36 + 8 * i));

		if (t && !memcmp(t, sig, 4))
			return t;
	}
	if (memcmp(sig, "DSDT", 4))
		return NULL;
	fadt = test_find_table(buf, used, base, rsdp_gpa, "FACP");
	if (!fadt)
		return NULL;
	return test_table_at(buf, used, base, test_get64(fadt + 140));
}

#endif

/* SPDX-License-Identifier: MIT */
/* Unit tests for acpi_tables_build: layout, checksums and fields of each table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acpi.h"
#include "acpi_test_util.h"

struct built {
	uint8_t buf[TEST_ACPI_CAP];
	size_t used;
	uint64_t rsdp;
};

static struct built *build(const struct acpi_machine *m, uint64_t gpa)
{
	struct built *t = calloc(1, sizeof(*t));
	int ret;

	assert_non_null(t);
	ret = acpi_tables_build(m, t->buf, sizeof(t->buf), gpa, &t->rsdp);
	assert_true(ret > 0);
	t->used = (size_t)ret;
	return t;
}

static const uint8_t *table(const struct built *t, const char *sig)
{
	const uint8_t *p = test_find_table(t->buf, t->used, TEST_ACPI_GPA, t->rsdp, sig);

	assert_non_null(p);
	assert_memory_equal(p, sig, 4);
	return p;
}

static void test_rsdp(void **state)
{
	struct acpi_machine m;
	struct built *t;
	const uint8_t *r;

	(void)state;
	test_machine_init(&m, 1, 1);
	t = build(&m, TEST_ACPI_GPA);
	assert_int_equal(t->rsdp, TEST_ACPI_GPA);
	r = t->buf;
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(test_sum(r, 20), 0);
	assert_int_equal(test_sum(r, 36), 0);
	assert_memory_equal(r + 9, "VMM   ", 6);
	assert_int_equal(r[15], 2);
	assert_int_equal(test_get32(r + 20), 36);
	assert_int_equal(test_get64(r + 24) % 8, 0);
	free(t);
}

static void test_rsdp_aligned_when_gpa_is_not(void **state)
{
	struct acpi_machine m;
	uint8_t *buf = calloc(1, TEST_ACPI_CAP);
	uint64_t rsdp = 0;
	int ret;

	(void)state;
	assert_non_null(buf);
	test_machine_init(&m, 2, 2);
	ret = acpi_tables_build(&m, buf, TEST_ACPI_CAP, TEST_ACPI_GPA + 4, &rsdp);
	assert_true(ret > 0);
	assert_int_equal(rsdp, TEST_ACPI_GPA + 16);
	assert_memory_equal(buf + 12, "RSD PTR ", 8);
	const uint8_t *x = test_find_table(buf, (size_t)ret, TEST_ACPI_GPA + 4, rsdp, "DSDT");
	assert_non_null(x);
	assert_int_equal((uintptr_t)(x - buf + TEST_ACPI_GPA + 4) % 16, 0);
	free(buf);
}

static void test_every_table_checksums(void **state)
{
	static const char *const sigs[] = { "XSDT", "FACP", "APIC", "DSDT" };
	struct acpi_machine m;
	struct built *t;

	(void)state;
	for (unsigned int n = 0; n <= ACPI_MAX_VIRTIO; n++) {
		test_machine_init(&m, 1 + n, n);
		t = build(&m, TEST_ACPI_GPA);
		for (size_t i = 0; i < 4; i++) {
			const uint8_t *p = table(t, sigs[i]);

			assert_int_equal(test_sum(p, test_get32(p + 4)), 0);
			assert_memory_equal(p + 10, "VMM   ", 6);
			/* Every table lies wholly inside the bytes reported used. */
			assert_true((size_t)(p - t->buf) + test_get32(p + 4) <= t->used);
		}
		free(t);
	}
}

static void test_xsdt(void **state)
{
	struct acpi_machine m;
	struct built *t;
	const uint8_t *x;

	(void)state;
	test_machine_init(&m, 1, 1);
	t = build(&m, TEST_ACPI_GPA);
	x = table(t, "XSDT");
	assert_int_equal(test_get32(x + 4), 36 + 2 * 8);
	assert_int_equal(x[8], 1);
	assert_non_null(test_table_at(t->buf, t->used, TEST_ACPI_GPA, test_get64(x + 36)));
	assert_memory_equal(t->buf + (test_get64(x + 36) - TEST_ACPI_GPA), "FACP", 4);
	assert_memory_equal(t->buf + (test_get64(x + 44) - TEST_ACPI_GPA), "APIC", 4);
	free(t);
}

static void check_gas_io8(const uint8_t *g, uint16_t port)
{
	assert_int_equal(g[0], 1); /* SystemIO */
	assert_int_equal(g[1], 8); /* bit width */
	assert_int_equal(g[2], 0); /* bit offset */
	assert_int_equal(g[3], 1); /* byte access */
	assert_int_equal(test_get64(g + 4), port);
}

static void test_fadt(void **state)
{
	struct acpi_machine m;
	struct built *t;
	const uint8_t *f, *d;
	uint32_t flags;

	(void)state;
	test_machine_init(&m, 2, 1);
	t = build(&m, TEST_ACPI_GPA);
	f = table(t, "FACP");
	d = table(t, "DSDT");
	assert_int_equal(test_get32(f + 4), 276);
	assert_int_equal(f[8], 6);	/* major */
	assert_int_equal(f[131], 5);	/* minor: ACPI 6.5 */
	flags = test_get32(f + 112);
	assert_true(flags & (1u << 20)); /* HW_REDUCED_ACPI */
	assert_true(flags & (1u << 10)); /* RESET_REG_SUP */
	/* IAPC_BOOT_ARCH: no 8042 driver wanted, no VGA, no CMOS RTC; nothing else. */
	assert_int_equal(test_get16(f + 109), (1u << 2) | (1u << 5));
	assert_int_equal(test_get16(f + 46), 0);	/* no SCI */
	assert_int_equal(test_get32(f + 36), 0);	/* no FACS */
	assert_int_equal(test_get64(f + 132), 0);
	check_gas_io8(f + 116, 0x506);
	assert_int_equal(f[128], 1);
	check_gas_io8(f + 244, 0x504);
	check_gas_io8(f + 256, 0x505);
	/* DSDT and X_DSDT agree and point at the DSDT. */
	assert_int_equal(test_get64(f + 140), (uint64_t)(d - t->buf) + TEST_ACPI_GPA);
	assert_int_equal(test_get32(f + 40), test_get64(f + 140));
	/* Legacy PM blocks are all zero in HW-reduced mode. */
	for (size_t off = 56; off < 88; off++)
		assert_int_equal(f[off], 0);
	for (size_t off = 148; off < 244; off++)
		assert_int_equal(f[off], 0);
	assert_int_equal(ACPI_SLEEP_CONTROL_S5(5), 0x34);
	free(t);
}

static void check_madt(unsigned int ncpus)
{
	struct acpi_machine m;
	struct built *t;
	const uint8_t *a, *e, *end;
	unsigned int nlapic = 0, nioapic = 0, niso = 0, nnmi = 0;

	test_machine_init(&m, ncpus, 1);
	t = build(&m, TEST_ACPI_GPA);
	a = table(t, "APIC");
	assert_int_equal(test_get32(a + 4), 44 + 8 * ncpus + 12 + 10 + 6);
	assert_int_equal(test_get32(a + 36), 0xFEE00000);
	assert_int_equal(test_get32(a + 40), 1); /* PCAT_COMPAT */
	end = a + test_get32(a + 4);
	for (e = a + 44; e < end; e += e[1]) {
		assert_true(e[1] >= 2 && e + e[1] <= end);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], nlapic); /* UID */
			assert_int_equal(e[3], nlapic); /* APIC id */
			assert_int_equal(test_get32(e + 4), 1); /* enabled */
			nlapic++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], ncpus);
			assert_int_equal(test_get32(e + 4), 0xFEC00000);
			assert_int_equal(test_get32(e + 8), 0);
			nioapic++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);	/* ISA */
			assert_int_equal(e[3], 0);	/* IRQ0 */
			assert_int_equal(test_get32(e + 4), 2);
			assert_int_equal(test_get16(e + 8), 0x5); /* edge, high */
			niso++;
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xFF);
			assert_int_equal(e[5], 1);	/* LINT1 */
			nnmi++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	assert_ptr_equal(e, end);
	assert_int_equal(nlapic, ncpus);
	assert_int_equal(nioapic, 1);
	assert_int_equal(niso, 1);
	assert_int_equal(nnmi, 1);
	free(t);
}

static void test_madt_1cpu(void **state)
{
	(void)state;
	check_madt(1);
}

static void test_madt_4cpus(void **state)
{
	(void)state;
	check_madt(4);
}

static void test_madt_255cpus_fit(void **state)
{
	(void)state;
	check_madt(255);
}

static const uint8_t *memfind(const uint8_t *h, size_t hn, const void *n, size_t nn)
{
	for (size_t i = 0; i + nn <= hn; i++)
		if (!memcmp(h + i, n, nn))
			return h + i;
	return NULL;
}

static void test_dsdt_contents(void **state)
{
	struct acpi_machine m;
	struct built *t;
	const uint8_t *d;
	size_t len;
	static const uint8_t s5[] = { 0x08, 0x5C, '_', 'S', '5', '_', 0x12, 0x07,
				      0x04, 0x0A, 0x05, 0x00, 0x00, 0x00 };

	(void)state;
	test_machine_init(&m, 1, 3);
	t = build(&m, TEST_ACPI_GPA);
	d = table(t, "DSDT");
	len = test_get32(d + 4);
	assert_int_equal(d[8], 2); /* 64-bit AML integers */
	assert_non_null(memfind(d, len, s5, sizeof(s5)));
	for (unsigned int i = 0; i < 3; i++) {
		uint8_t mem[12] = { 0x86, 0x09, 0x00, 0x01 };
		uint8_t irq[9] = { 0x89, 0x06, 0x00, 0x03, 0x01 };
		char name[5] = { 'V', 'R', 'T', (char)('0' + i), 0 };

		for (int k = 0; k < 4; k++) {
			mem[4 + k] = (uint8_t)(m.virtio[i].base >> (8 * k));
			mem[8 + k] = (uint8_t)(m.virtio[i].size >> (8 * k));
			irq[5 + k] = (uint8_t)(m.virtio[i].gsi >> (8 * k));
		}
		assert_non_null(memfind(d, len, mem, sizeof(mem)));
		assert_non_null(memfind(d, len, irq, sizeof(irq)));
		assert_non_null(memfind(d, len, name, 4));
	}
	assert_null(memfind(d, len, "VRT3", 4));
	/* _HID "LNRO0005" three times, COM1 as EISAID PNP0501 once. */
	const uint8_t *p = d;
	unsigned int nhid = 0;
	while ((p = memfind(p, len - (size_t)(p - d), "\x0DLNRO0005", 10))) {
		nhid++;
		p++;
	}
	assert_int_equal(nhid, 3);
	assert_non_null(memfind(d, len, "\x0C\x41\xD0\x05\x01", 5));
	assert_non_null(memfind(d, len, "\x47\x01\xF8\x03\xF8\x03", 6));
	free(t);
}

static void test_enospc(void **state)
{
	struct acpi_machine m;
	uint8_t *buf = malloc(TEST_ACPI_CAP);
	uint64_t rsdp = 0xDEAD;
	int need;

	(void)state;
	assert_non_null(buf);
	test_machine_init(&m, 4, 8);
	need = acpi_tables_build(&m, buf, TEST_ACPI_CAP, TEST_ACPI_GPA, &rsdp);
	assert_true(need > 0);
	memset(buf, 0xCC, TEST_ACPI_CAP);
	rsdp = 0xDEAD;
	assert_int_equal(acpi_tables_build(&m, buf, 64, TEST_ACPI_GPA, &rsdp), -ENOSPC);
	assert_int_equal(acpi_tables_build(&m, buf, (size_t)need - 1, TEST_ACPI_GPA, &rsdp),
			 -ENOSPC);
	assert_int_equal(acpi_tables_build(&m, NULL, 0, TEST_ACPI_GPA, &rsdp), -ENOSPC);
	/* A failed build writes nothing. */
	assert_int_equal(rsdp, 0xDEAD);
	for (size_t i = 0; i < TEST_ACPI_CAP; i++)
		assert_int_equal(buf[i], 0xCC);
	assert_int_equal(acpi_tables_build(&m, buf, (size_t)need, TEST_ACPI_GPA, &rsdp), need);
	free(buf);
}

static void test_einval(void **state)
{
	struct acpi_machine m;
	uint8_t buf[4096];
	uint64_t rsdp;

	(void)state;
	test_machine_init(&m, 0, 0);
	assert_int_equal(acpi_tables_build(&m, buf, sizeof(buf), TEST_ACPI_GPA, &rsdp), -EINVAL);
	test_machine_init(&m, 256, 0);
	assert_int_equal(acpi_tables_build(&m, buf, sizeof(buf), TEST_ACPI_GPA, &rsdp), -EINVAL);
	test_machine_init(&m, 1, 1);
	m.nvirtio = ACPI_MAX_VIRTIO + 1;
	assert_int_equal(acpi_tables_build(&m, buf, sizeof(buf), TEST_ACPI_GPA, &rsdp), -EINVAL);
	test_machine_init(&m, 1, 1);
	m.virtio[0].base = 0x100000000ull;
	assert_int_equal(acpi_tables_build(&m, buf, sizeof(buf), TEST_ACPI_GPA, &rsdp), -EINVAL);
	test_machine_init(&m, 1, 1);
	m.virtio[0].base = 0xFFFFF000;
	m.virtio[0].size = 0x1001;
	assert_int_equal(acpi_tables_build(&m, buf, sizeof(buf), TEST_ACPI_GPA, &rsdp), -EINVAL);
	m.virtio[0].size = 0x1000; /* ends exactly at 4 GiB: fine */
	assert_true(acpi_tables_build(&m, buf, sizeof(buf), TEST_ACPI_GPA, &rsdp) > 0);
	test_machine_init(&m, 1, 1);
	m.virtio[0].size = 0;
	assert_int_equal(acpi_tables_build(&m, buf, sizeof(buf), TEST_ACPI_GPA, &rsdp), -EINVAL);
	test_machine_init(&m, 1, 1);
	m.s5_slp_typ = 8;
	assert_int_equal(acpi_tables_build(&m, buf, sizeof(buf), TEST_ACPI_GPA, &rsdp), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsdp),
		cmocka_unit_test(test_rsdp_aligned_when_gpa_is_not),
		cmocka_unit_test(test_every_table_checksums),
		cmocka_unit_test(test_xsdt),
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_madt_1cpu),
		cmocka_unit_test(test_madt_4cpus),
		cmocka_unit_test(test_madt_255cpus_fit),
		cmocka_unit_test(test_dsdt_contents),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_einval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

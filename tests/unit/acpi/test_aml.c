/* SPDX-License-Identifier: MIT */
/* Unit tests for the AML encoder: exact bytes checked against the ACPI grammar. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aml.h"

static int setup_buf(void **state)
{
	static struct aml_buf b;

	aml_buf_init(&b);
	*state = &b;
	return 0;
}

static int teardown_buf(void **state)
{
	aml_buf_free(*state);
	return 0;
}

#define assert_bytes(b, ...)                                                   \
	do {                                                                   \
		const uint8_t want_[] = { __VA_ARGS__ };                       \
		assert_int_equal((b)->err, 0);                                 \
		assert_int_equal((b)->len, sizeof(want_));                     \
		assert_memory_equal((b)->data, want_, sizeof(want_));          \
	} while (0)

static void check_pkglen(uint32_t len, int want_n, const uint8_t *want)
{
	uint8_t out[4] = { 0xEE, 0xEE, 0xEE, 0xEE };
	int n = aml_pkglen_encode(len, out);

	assert_int_equal(n, want_n);
	assert_memory_equal(out, want, (size_t)want_n);
}

static void test_pkglen_value_boundaries(void **state)
{
	(void)state;
	check_pkglen(0, 1, (const uint8_t[]){ 0x00 });
	check_pkglen(63, 1, (const uint8_t[]){ 0x3F });
	check_pkglen(64, 2, (const uint8_t[]){ 0x40, 0x04 });
	check_pkglen(0x123, 2, (const uint8_t[]){ 0x43, 0x12 });
	check_pkglen(4095, 2, (const uint8_t[]){ 0x4F, 0xFF });
	check_pkglen(4096, 3, (const uint8_t[]){ 0x80, 0x00, 0x01 });
	check_pkglen(0xFFFFF, 3, (const uint8_t[]){ 0x8F, 0xFF, 0xFF });
	check_pkglen(0x100000, 4, (const uint8_t[]){ 0xC0, 0x00, 0x00, 0x01 });
	check_pkglen(0x1234567, 4, (const uint8_t[]){ 0xC7, 0x56, 0x34, 0x12 });
	check_pkglen(AML_PKGLEN_MAX, 4, (const uint8_t[]){ 0xCF, 0xFF, 0xFF, 0xFF });

	uint8_t out[4];
	assert_int_equal(aml_pkglen_encode(AML_PKGLEN_MAX + 1, out), -ERANGE);
}

static void check_pkglen_body(size_t body, int want_n, const uint8_t *want)
{
	uint8_t out[4] = { 0xEE, 0xEE, 0xEE, 0xEE };
	int n = aml_pkglen_encode_body(body, out);

	assert_int_equal(n, want_n);
	assert_memory_equal(out, want, (size_t)want_n);
}

/* The encoded value counts its own bytes, which moves each boundary. */
static void test_pkglen_body_counts_itself(void **state)
{
	(void)state;
	check_pkglen_body(0, 1, (const uint8_t[]){ 0x01 });
	check_pkglen_body(62, 1, (const uint8_t[]){ 0x3F });
	check_pkglen_body(63, 2, (const uint8_t[]){ 0x41, 0x04 });
	check_pkglen_body(4093, 2, (const uint8_t[]){ 0x4F, 0xFF });
	check_pkglen_body(4094, 3, (const uint8_t[]){ 0x81, 0x00, 0x01 });
	check_pkglen_body(0xFFFFC, 3, (const uint8_t[]){ 0x8F, 0xFF, 0xFF });
	check_pkglen_body(0xFFFFD, 4, (const uint8_t[]){ 0xC1, 0x00, 0x00, 0x01 });
	check_pkglen_body(AML_PKGLEN_MAX - 4, 4,
			  (const uint8_t[]){ 0xCF, 0xFF, 0xFF, 0xFF });

	uint8_t out[4];
	assert_int_equal(aml_pkglen_encode_body(AML_PKGLEN_MAX - 3, out), -ERANGE);
}

static void test_package_two_byte_pkglen(void **state)
{
	struct aml_buf *b = *state;
	size_t mark;

	assert_int_equal(aml_package_begin(b, 70, &mark), 0);
	for (int i = 0; i < 70; i++)
		assert_int_equal(aml_integer_emit(b, 0), 0);
	assert_int_equal(aml_pkg_end(b, mark), 0);
	/* body = NumElements + 70 ZeroOps = 71; value 73 = 0x49 */
	assert_int_equal(b->len, 1 + 2 + 71);
	assert_int_equal(b->data[0], 0x12);
	assert_int_equal(b->data[1], 0x49);
	assert_int_equal(b->data[2], 0x04);
	assert_int_equal(b->data[3], 70);
	for (int i = 0; i < 70; i++)
		assert_int_equal(b->data[4 + i], 0x00);
}

static void test_scope_one_mib(void **state)
{
	struct aml_buf *b = *state;
	static uint8_t filler[1024 * 1024];
	size_t mark;

	memset(filler, 0xA5, sizeof(filler));
	assert_int_equal(aml_scope_begin(b, "\\", &mark), 0);
	assert_int_equal(aml_buf_append(b, filler, sizeof(filler)), 0);
	assert_int_equal(aml_pkg_end(b, mark), 0);
	/* body = '\' + NullName + 1 MiB -> needs the 4-byte form */
	size_t body = 2 + sizeof(filler);
	uint32_t val = (uint32_t)body + 4;
	assert_int_equal(b->len, 1 + 4 + body);
	assert_int_equal(b->data[0], 0x10);
	assert_int_equal(b->data[1], 0xC0 | (val & 0xF));
	assert_int_equal(b->data[2], (uint8_t)(val >> 4));
	assert_int_equal(b->data[3], (uint8_t)(val >> 12));
	assert_int_equal(b->data[4], (uint8_t)(val >> 20));
	assert_int_equal(b->data[5], 0x5C);
	assert_int_equal(b->data[6], 0x00);
	assert_int_equal(b->data[7], 0xA5);
	assert_int_equal(b->data[b->len - 1], 0xA5);
}

static void test_integers(void **state)
{
	static const struct {
		uint64_t v;
		size_t n;
		uint8_t bytes[9];
	} cases[] = {
		{ 0, 1, { 0x00 } },
		{ 1, 1, { 0x01 } },
		{ 2, 2, { 0x0A, 0x02 } },
		{ 0xFF, 2, { 0x0A, 0xFF } },
		{ 0x100, 3, { 0x0B, 0x00, 0x01 } },
		{ 0xFFFF, 3, { 0x0B, 0xFF, 0xFF } },
		{ 0x10000, 5, { 0x0C, 0x00, 0x00, 0x01, 0x00 } },
		{ 0xFEC00000, 5, { 0x0C, 0x00, 0x00, 0xC0, 0xFE } },
		{ 0xFFFFFFFF, 5, { 0x0C, 0xFF, 0xFF, 0xFF, 0xFF } },
		{ 0x100000000, 9, { 0x0E, 0, 0, 0, 0, 1, 0, 0, 0 } },
		{ UINT64_MAX - 1, 9, { 0x0E, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF } },
		{ UINT64_MAX, 1, { 0xFF } },
	};
	struct aml_buf *b = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b->len = 0;
		assert_int_equal(aml_integer_emit(b, cases[i].v), 0);
		assert_int_equal(b->len, cases[i].n);
		assert_memory_equal(b->data, cases[i].bytes, cases[i].n);
	}
}

static void test_eisaid(void **state)
{
	struct aml_buf *b = *state;
	uint32_t v = 0;

	assert_int_equal(aml_eisaid_encode("PNP0501", &v), 0);
	assert_int_equal(v, 0x0105D041);
	assert_int_equal(aml_eisaid_encode("PNP0A03", &v), 0);
	assert_int_equal(v, 0x030AD041);
	assert_int_equal(aml_eisaid_encode("PNP0c0f", &v), 0);
	assert_int_equal(v, 0x0F0CD041);
	assert_int_equal(aml_eisaid_encode("PNP050", &v), -EINVAL);
	assert_int_equal(aml_eisaid_encode("PNP05011", &v), -EINVAL);
	assert_int_equal(aml_eisaid_encode("pNP0501", &v), -EINVAL);
	assert_int_equal(aml_eisaid_encode("PNP05G1", &v), -EINVAL);

	assert_int_equal(aml_eisaid_emit(b, "PNP0501"), 0);
	assert_bytes(b, 0x0C, 0x41, 0xD0, 0x05, 0x01);
}

static void test_name_strings(void **state)
{
	struct aml_buf *b = *state;

	assert_int_equal(aml_namestring_emit(b, "_S5"), 0);
	assert_bytes(b, '_', 'S', '5', '_');
	b->len = 0;
	assert_int_equal(aml_namestring_emit(b, "\\_SB"), 0);
	assert_bytes(b, 0x5C, '_', 'S', 'B', '_');
	b->len = 0;
	assert_int_equal(aml_namestring_emit(b, "\\_SB.VRT0"), 0);
	assert_bytes(b, 0x5C, 0x2E, '_', 'S', 'B', '_', 'V', 'R', 'T', '0');
	b->len = 0;
	assert_int_equal(aml_namestring_emit(b, "\\_SB.PCI0.ISA"), 0);
	assert_bytes(b, 0x5C, 0x2F, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
		     'I', 'S', 'A', '_');
	b->len = 0;
	assert_int_equal(aml_namestring_emit(b, "^^COM1"), 0);
	assert_bytes(b, 0x5E, 0x5E, 'C', 'O', 'M', '1');
	b->len = 0;
	assert_int_equal(aml_namestring_emit(b, ""), 0);
	assert_bytes(b, 0x00);
	b->len = 0;
	assert_int_equal(aml_namestring_emit(b, "\\"), 0);
	assert_bytes(b, 0x5C, 0x00);
}

static void test_bad_names_are_sticky(void **state)
{
	static const char *const bad[] = {
		"1ABC", "ABCDE", "A..B", "abc", "\\_SB.", ".A", "A-B", "\\^A",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct aml_buf b;

		aml_buf_init(&b);
		assert_int_equal(aml_namestring_emit(&b, bad[i]), -EINVAL);
		assert_int_equal(aml_buf_error(&b), -EINVAL);
		/* Everything after the first failure is refused. */
		size_t len = b.len;
		assert_int_equal(aml_integer_emit(&b, 7), -EINVAL);
		assert_int_equal(aml_string_emit(&b, "x"), -EINVAL);
		assert_int_equal(b.len, len);
		aml_buf_free(&b);
	}
}

static void test_string(void **state)
{
	struct aml_buf *b = *state;

	assert_int_equal(aml_string_emit(b, "LNRO0005"), 0);
	assert_bytes(b, 0x0D, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00);
	assert_int_equal(aml_string_emit(b, "\x80"), -EINVAL);
}

/* Name (_S5, Package (0x04) { 0x05, Zero, Zero, Zero }) */
static void test_s5_package(void **state)
{
	struct aml_buf *b = *state;
	size_t mark;

	aml_name_emit(b, "_S5");
	aml_package_begin(b, 4, &mark);
	aml_integer_emit(b, 5);
	aml_integer_emit(b, 0);
	aml_integer_emit(b, 0);
	aml_integer_emit(b, 0);
	assert_int_equal(aml_pkg_end(b, mark), 0);
	assert_bytes(b, 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0A, 0x05,
		     0x00, 0x00, 0x00);
}

static void test_resource_template(void **state)
{
	struct aml_buf *b = *state;
	size_t mark;

	assert_int_equal(aml_buffer_begin(b, &mark), 0);
	aml_res_mem32_fixed_emit(b, true, 0xD0000000, 0x200);
	aml_res_ext_irq_emit(b, AML_IRQ_CONSUMER | AML_IRQ_EDGE, 5);
	aml_res_end_tag_emit(b);
	assert_int_equal(aml_buffer_end(b, mark), 0);
	assert_bytes(b,
		     0x11, 0x1A, 0x0A, 0x17,                 /* Buffer(23) */
		     0x86, 0x09, 0x00, 0x01,                 /* Memory32Fixed RW */
		     0x00, 0x00, 0x00, 0xD0, 0x00, 0x02, 0x00, 0x00,
		     0x89, 0x06, 0x00, 0x03, 0x01,           /* Interrupt, 1 entry */
		     0x05, 0x00, 0x00, 0x00,
		     0x79, 0x00);                            /* EndTag */
}

static void test_buffer_size_word(void **state)
{
	struct aml_buf *b = *state;
	uint8_t body[300];
	size_t mark;

	memset(body, 0x5A, sizeof(body));
	aml_buffer_begin(b, &mark);
	aml_buf_append(b, body, sizeof(body));
	assert_int_equal(aml_buffer_end(b, mark), 0);
	/* body = WordPrefix 300 + 300 bytes = 303; value 305 = 0x131 */
	assert_int_equal(b->len, 1 + 2 + 3 + 300);
	assert_int_equal(b->data[0], 0x11);
	assert_int_equal(b->data[1], 0x41);
	assert_int_equal(b->data[2], 0x13);
	assert_int_equal(b->data[3], 0x0B);
	assert_int_equal(b->data[4] | b->data[5] << 8, 300);
	assert_memory_equal(b->data + 6, body, sizeof(body));
}

static void test_io_and_irq_flags(void **state)
{
	struct aml_buf *b = *state;

	assert_int_equal(aml_res_io16_emit(b, 0x3F8, 0x3F8, 1, 8), 0);
	assert_bytes(b, 0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08);
	b->len = 0;
	assert_int_equal(aml_res_ext_irq_emit(b, AML_IRQ_ACTIVE_LOW | AML_IRQ_SHARED, 0x1234), 0);
	assert_bytes(b, 0x89, 0x06, 0x00, 0x0C, 0x01, 0x34, 0x12, 0x00, 0x00);
	assert_int_equal(aml_res_ext_irq_emit(b, 0x20, 1), -EINVAL);
}

/* Device (VRT0) { Name (_UID, Zero) } inside Scope (\_SB) */
static void test_scope_device(void **state)
{
	struct aml_buf *b = *state;
	size_t sb, dev;

	aml_scope_begin(b, "\\_SB", &sb);
	aml_device_begin(b, "VRT0", &dev);
	aml_name_emit(b, "_UID");
	aml_integer_emit(b, 0);
	aml_pkg_end(b, dev);
	assert_int_equal(aml_pkg_end(b, sb), 0);
	assert_bytes(b,
		     0x10, 0x13, 0x5C, '_', 'S', 'B', '_',
		     0x5B, 0x82, 0x0B, 'V', 'R', 'T', '0',
		     0x08, '_', 'U', 'I', 'D', 0x00);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkglen_value_boundaries),
		cmocka_unit_test(test_pkglen_body_counts_itself),
		cmocka_unit_test_setup_teardown(test_package_two_byte_pkglen, setup_buf, teardown_buf),
		cmocka_unit_test_setup_teardown(test_scope_one_mib, setup_buf, teardown_buf),
		cmocka_unit_test_setup_teardown(test_integers, setup_buf, teardown_buf),
		cmocka_unit_test_setup_teardown(test_eisaid, setup_buf, teardown_buf),
		cmocka_unit_test_setup_teardown(test_name_strings, setup_buf, teardown_buf),
		cmocka_unit_test(test_bad_names_are_sticky),
		cmocka_unit_test_setup_teardown(test_string, setup_buf, teardown_buf),
		cmocka_unit_test_setup_teardown(test_s5_package, setup_buf, teardown_buf),
		cmocka_unit_test_setup_teardown(test_resource_template, setup_buf, teardown_buf),
		cmocka_unit_test_setup_teardown(test_buffer_size_word, setup_buf, teardown_buf),
		cmocka_unit_test_setup_teardown(test_io_and_irq_flags, setup_buf, teardown_buf),
		cmocka_unit_test_setup_teardown(test_scope_device, setup_buf, teardown_buf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

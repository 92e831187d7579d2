/* SPDX-License-Identifier: MIT */
/* cpuid_patch_test.c: unit tests for kvm_cpuid_patch over synthetic CPUID tables (no KVM needed). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kvm_x86.h"

#define TABLE_MAX 64

struct table {
	struct kvm_cpuid2 *cpuid;
};

static struct kvm_cpuid_entry2 *add(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx, bool sig,
				    uint32_t eax, uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	struct kvm_cpuid_entry2 *e;

	assert_true(c->nent < TABLE_MAX);
	e = &c->entries[c->nent++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = sig ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
	e->eax = eax;
	e->ebx = ebx;
	e->ecx = ecx;
	e->edx = edx;
	return e;
}

static void vendor(struct kvm_cpuid_entry2 *e, const char *v)
{
	memcpy(&e->ebx, v, 4);
	memcpy(&e->edx, v + 4, 4);
	memcpy(&e->ecx, v + 8, 4);
}

/* A host-like table: host topology (2 threads/core, 8 cores) that the
 * patch must replace, and marker values it must leave alone. */
static struct kvm_cpuid2 *make_table(const char *vend, uint32_t max_basic, bool with_1f)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + TABLE_MAX * sizeof(c->entries[0]));

	assert_non_null(c);
	vendor(add(c, 0, 0, false, max_basic, 0, 0, 0), vend);
	/* leaf 1: host APIC id 0x0f, 16 logical, CLFLUSH 8 (64 bytes), brand 0x5a */
	add(c, 1, 0, false, 0x000a0f10, 0x0f10085a, 0x7ed8320b, 0x178bfbff);
	/* leaf 4: L1d, L1i, L2, L3, null */
	add(c, 4, 0, true, 0x1c004121, 0x01c0003f, 0x3f, 0);
	add(c, 4, 1, true, 0x1c004122, 0x01c0003f, 0x3f, 0);
	add(c, 4, 2, true, 0x1c004143, 0x03c0003f, 0x3ff, 0);
	add(c, 4, 3, true, 0x1c03c163, 0x03c0003f, 0x3fff, 6);
	add(c, 4, 4, true, 0, 0, 0, 0);
	add(c, 0xb, 0, true, 1, 2, 0x100, 0x0f);
	add(c, 0xb, 1, true, 4, 16, 0x201, 0x0f);
	add(c, 0xb, 2, true, 0, 0, 2, 0x0f);
	if (with_1f) {
		add(c, 0x1f, 0, true, 1, 2, 0x100, 0x0f);
		add(c, 0x1f, 1, true, 4, 16, 0x201, 0x0f);
		add(c, 0x1f, 2, true, 0, 0, 2, 0x0f);
	}
	add(c, 0x80000000u, 0, false, 0x8000001f, 0, 0, 0);
	add(c, 0x80000008u, 0, false, 0x3030, 0x1234, 0x400f, 0);
	add(c, 0x8000001eu, 0, false, 0x0f, 0x0107, 0x0100, 0);
	return c;
}

static void test_rejects_bad_args(void **state)
{
	struct kvm_cpuid2 *c = make_table("GenuineIntel", 0x1f, true);

	(void)state;
	assert_int_equal(kvm_cpuid_patch(c, TABLE_MAX, 0, 0), -EINVAL);
	assert_int_equal(kvm_cpuid_patch(c, TABLE_MAX, 2, 2), -EINVAL);
	/* Nothing was touched by the refused calls. */
	assert_int_equal(kvm_cpuid_find(c, 1, 0)->ebx, 0x0f10085a);
	free(c);
}

static void test_leaf1(void **state)
{
	struct kvm_cpuid2 *c = make_table("GenuineIntel", 0x1f, true);
	struct kvm_cpuid_entry2 *e;

	(void)state;
	assert_int_equal(kvm_cpuid_patch(c, TABLE_MAX, 2, 3), 0);
	e = kvm_cpuid_find(c, 1, 0);
	assert_int_equal(e->ebx >> 24, 2);          /* APIC id */
	assert_int_equal((e->ebx >> 16) & 0xff, 4); /* 3 cpus -> 4 addressable ids */
	assert_int_equal((e->ebx >> 8) & 0xff, 8);  /* CLFLUSH kept */
	assert_int_equal(e->ebx & 0xff, 0x5a);      /* brand index kept */
	assert_int_not_equal(e->ecx & (1u << 31), 0);
	assert_int_equal(e->ecx & ~(1u << 31), 0x7ed8320b);
	assert_int_not_equal(e->edx & (1u << 28), 0);
	assert_int_equal(e->eax, 0x000a0f10);
	free(c);

	/* One vCPU: no HTT, one addressable id. */
	c = make_table("GenuineIntel", 0x1f, true);
	assert_int_equal(kvm_cpuid_patch(c, TABLE_MAX, 0, 1), 0);
	e = kvm_cpuid_find(c, 1, 0);
	assert_int_equal(e->ebx >> 24, 0);
	assert_int_equal((e->ebx >> 16) & 0xff, 1);
	assert_int_equal(e->edx & (1u << 28), 0);
	free(c);

	/* More vCPUs than 8 bits can count: field saturates, id wraps to 8 bits. */
	c = make_table("GenuineIntel", 0x1f, true);
	assert_int_equal(kvm_cpuid_patch(c, TABLE_MAX, 257, 300), 0);
	e = kvm_cpuid_find(c, 1, 0);
	assert_int_equal(e->ebx >> 24, 1);
	assert_int_equal((e->ebx >> 16) & 0xff, 255);
	free(c);
}

static void check_topology(struct kvm_cpuid2 *c, uint32_t fn, uint32_t apic_id, uint32_t ncpus,
			   uint32_t shift)
{
	struct kvm_cpuid_entry2 *e;

	e = kvm_cpuid_find(c, fn, 0);
	assert_non_null(e);
	assert_int_equal(e->eax & 0x1f, 0);         /* SMT shift */
	assert_int_equal(e->ebx & 0xffff, 1);       /* one thread per core */
	assert_int_equal((e->ecx >> 8) & 0xff, 1);  /* level type SMT */
	assert_int_equal(e->ecx & 0xff, 0);
	assert_int_equal(e->edx, apic_id);

	e = kvm_cpuid_find(c, fn, 1);
	assert_non_null(e);
	assert_int_equal(e->eax & 0x1f, shift);     /* core shift */
	assert_int_equal(e->ebx & 0xffff, ncpus);   /* cpus in the package */
	assert_int_equal((e->ecx >> 8) & 0xff, 2);  /* level type core */
	assert_int_equal(e->ecx & 0xff, 1);
	assert_int_equal(e->edx, apic_id);

	e = kvm_cpuid_find(c, fn, 2);
	assert_non_null(e);
	assert_int_equal(e->eax, 0);
	assert_int_equal(e->ebx, 0);
	assert_int_equal((e->ecx >> 8) & 0xff, 0);  /* invalid: end of list */
	assert_int_equal(e->ecx & 0xff, 2);
	assert_int_equal(e->edx, apic_id);
}

static void test_x2apic_topology(void **state)
{
	static const struct { uint32_t ncpus, shift; } cases[] = {
		{ 1, 0 }, { 2, 1 }, { 3, 2 }, { 4, 2 }, { 5, 3 }, { 8, 3 }, { 9, 4 }, { 64, 6 }, { 65, 7 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kvm_cpuid2 *c = make_table("GenuineIntel", 0x1f, true);
		uint32_t id = cases[i].ncpus - 1;

		assert_int_equal(kvm_cpuid_patch(c, TABLE_MAX, id, cases[i].ncpus), 0);
		check_topology(c, 0xb, id, cases[i].ncpus, cases[i].shift);
		check_topology(c, 0x1f, id, cases[i].ncpus, cases[i].shift);
		free(c);
	}
}

static void test_topology_leaf_limits(void **state)
{
	struct kvm_cpuid2 *c;
	struct kvm_cpuid_entry2 *e;

	(void)state;
	/* Leaf 0x1F beyond the max basic leaf is left as it was. */
	c = make_table("GenuineIntel", 0x16, true);
	assert_int_equal(kvm_cpuid_patch(c, TABLE_MAX, 1, 2), 0);
	e = kvm_cpuid_find(c, 0x1f, 1);
	assert_int_equal(e->ebx, 16);
	check_topology(c, 0xb, 1, 2, 1);
	free(c);

	/* Without 0x1F in the table, 0xB is still patched. */
	c = make_table("GenuineIntel", 0x1f, false);
	assert_int_equal(kvm_cpuid_patch(c, TABLE_MAX, 1, 2), 0);
	assert_null(kvm_cpuid_find(c, 0x1f, 0));
	check_topology(c, 0xb, 1, 2, 1);
	free(c);

	/* cap below nent is a caller bug. */
	c = make_table("GenuineIntel", 0x1f, true);
	assert_int_equal(kvm_cpuid_patch(c, c->nent - 1, 0, 2), -EINVAL);
	free(c);
}

/* What kvm_pvm reports: leaf 0xB with subleaf 0 only, all zero. */
static struct kvm_cpuid2 *make_pvm_like_table(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + TABLE_MAX * sizeof(c->entries[0]));

	assert_non_null(c);
	vendor(add(c, 0, 0, false, 0xd, 0, 0, 0), "AuthenticAMD");
	add(c, 1, 0, false, 0x00a00f11, 0x00020800, 0x81202000, 0x078bfbff);
	add(c, 0xb, 0, true, 0, 0, 0, 0);
	add(c, 0xd, 0, true, 7, 0x340, 0x340, 0);
	return c;
}

static void test_topology_subleaves_added(void **state)
{
	struct kvm_cpuid2 *c = make_pvm_like_table();
	uint32_t nent = c->nent;

	(void)state;
	/* Two subleaves to add, room for one: refused, table unchanged. */
	assert_int_equal(kvm_cpuid_patch(c, nent + 1, 1, 4), -ENOSPC);
	assert_int_equal(c->nent, nent);
	assert_int_equal(kvm_cpuid_find(c, 1, 0)->ebx, 0x00020800);

	assert_int_equal(kvm_cpuid_patch(c, nent + 2, 1, 4), 0);
	assert_int_equal(c->nent, nent + 2);
	check_topology(c, 0xb, 1, 4, 2);
	assert_null(kvm_cpuid_find(c, 0x1f, 0)); /* not offered, not invented */
	free(c);
}

static void test_make_vcpu(void **state)
{
	struct kvm_cpuid2 *sup = make_pvm_like_table(), *v0 = NULL, *v1 = NULL;
	uint32_t nent = sup->nent;

	(void)state;
	assert_int_equal(kvm_cpuid_make_vcpu(sup, 0, 2, &v0), 0);
	assert_int_equal(kvm_cpuid_make_vcpu(sup, 1, 2, &v1), 0);
	/* The source is left alone; each copy has its own APIC id. */
	assert_int_equal(sup->nent, nent);
	assert_int_equal(kvm_cpuid_find(sup, 1, 0)->ebx, 0x00020800);
	assert_int_equal(kvm_cpuid_find(v0, 1, 0)->ebx >> 24, 0);
	assert_int_equal(kvm_cpuid_find(v1, 1, 0)->ebx >> 24, 1);
	check_topology(v0, 0xb, 0, 2, 1);
	check_topology(v1, 0xb, 1, 2, 1);
	assert_int_equal(kvm_cpuid_make_vcpu(sup, 2, 2, &v0), -EINVAL);
	free(v0);
	free(v1);
	free(sup);
}

static void test_leaf4(void **state)
{
	struct kvm_cpuid2 *c = make_table("GenuineIntel", 0x1f, true);
	uint32_t i;

	(void)state;
	assert_int_equal(kvm_cpuid_patch(c, TABLE_MAX, 0, 4), 0);
	for (i = 0; i < 4; i++) {
		struct kvm_cpuid_entry2 *e = kvm_cpuid_find(c, 4, i);
		uint32_t level = (e->eax >> 5) & 7;

		assert_int_equal(e->eax >> 26, 3);                           /* cores - 1 */
		assert_int_equal((e->eax >> 14) & 0xfff, level >= 3 ? 3 : 0); /* sharing */
		assert_int_equal(e->eax & 0x3fff, (i == 3 ? 0x1c03c163u : i == 2 ? 0x1c004143u :
						  i == 1 ? 0x1c004122u : 0x1c004121u) & 0x3fff);
	}
	/* The null subleaf stays null. */
	assert_int_equal(kvm_cpuid_find(c, 4, 4)->eax, 0);
	free(c);
}

static void test_amd_leaves(void **state)
{
	struct kvm_cpuid2 *c = make_table("AuthenticAMD", 0xa, false);
	struct kvm_cpuid_entry2 *e;

	(void)state;
	assert_int_equal(kvm_cpuid_patch(c, TABLE_MAX, 5, 6), 0);
	e = kvm_cpuid_find(c, 0x80000008u, 0);
	assert_int_equal(e->ecx & 0xff, 5);          /* NC = cores - 1 */
	assert_int_equal((e->ecx >> 12) & 0xf, 3);   /* ApicIdSize */
	assert_int_equal(e->eax, 0x3030);            /* address sizes kept */
	e = kvm_cpuid_find(c, 0x8000001eu, 0);
	assert_int_equal(e->eax, 5);                 /* extended APIC id */
	assert_int_equal(e->ebx & 0xff, 5);          /* core id */
	assert_int_equal((e->ebx >> 8) & 0xff, 0);   /* 1 thread per core */
	assert_int_equal(e->ecx & 0x7ff, 0);         /* node 0, 1 node */
	/* Leaf 0xB out of the basic range (max 0xa) stays host data. */
	assert_int_equal(kvm_cpuid_find(c, 0xb, 1)->ebx, 16);
	free(c);

	/* Hygon is AMD for this purpose. */
	c = make_table("HygonGenuine", 0xa, false);
	assert_int_equal(kvm_cpuid_patch(c, TABLE_MAX, 1, 2), 0);
	assert_int_equal(kvm_cpuid_find(c, 0x8000001eu, 0)->eax, 1);
	free(c);
}

static void test_intel_leaves_amd_only_untouched(void **state)
{
	struct kvm_cpuid2 *c = make_table("GenuineIntel", 0x1f, true);

	(void)state;
	assert_int_equal(kvm_cpuid_patch(c, TABLE_MAX, 5, 6), 0);
	/* ECX of 0x80000008 and all of 0x8000001E are reserved on Intel. */
	assert_int_equal(kvm_cpuid_find(c, 0x80000008u, 0)->ecx, 0x400f);
	assert_int_equal(kvm_cpuid_find(c, 0x8000001eu, 0)->eax, 0x0f);
	free(c);
}

static void test_find_index_semantics(void **state)
{
	struct kvm_cpuid2 *c = make_table("GenuineIntel", 0x1f, true);

	(void)state;
	/* Leaf 1 ignores the index, leaf 4 does not. */
	assert_ptr_equal(kvm_cpuid_find(c, 1, 0), kvm_cpuid_find(c, 1, 9));
	assert_null(kvm_cpuid_find(c, 4, 9));
	assert_null(kvm_cpuid_find(c, 0x12345678, 0));
	free(c);
}

static void test_short_table(void **state)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + sizeof(c->entries[0]));

	(void)state;
	assert_non_null(c);
	/* Only leaf 1: patched alone; no leaf 0 means no topology leaves. */
	add(c, 1, 0, false, 0, 0x00000800, 0, 0);
	assert_int_equal(kvm_cpuid_patch(c, 1, 1, 2), 0);
	assert_int_equal(c->entries[0].ebx, 0x01020800);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rejects_bad_args),
		cmocka_unit_test(test_leaf1),
		cmocka_unit_test(test_x2apic_topology),
		cmocka_unit_test(test_topology_leaf_limits),
		cmocka_unit_test(test_topology_subleaves_added),
		cmocka_unit_test(test_make_vcpu),
		cmocka_unit_test(test_leaf4),
		cmocka_unit_test(test_amd_leaves),
		cmocka_unit_test(test_intel_leaves_amd_only_untouched),
		cmocka_unit_test(test_find_index_semantics),
		cmocka_unit_test(test_short_table),
	};

	return cmocka_run_group_tests_name("kvm-cpuid-patch", tests, NULL, NULL) ? 1 : 0;
}

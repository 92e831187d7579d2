/* SPDX-License-Identifier: MIT */
/* Unit tests: identity page tables, boot GDT, long-mode sregs and initial regs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "x86_boot.h"
#include "x86_test_guest.h"

/* Walk the tables the way the MMU does for a 2 MiB page; UINT64_MAX if not mapped. */
static uint64_t translate(uint64_t cr3, uint64_t va)
{
	uint64_t e;

	e = test_guest_read(&test_guest, cr3 + ((va >> 39) & 511) * 8, 8);
	if (!(e & 1))
		return UINT64_MAX;
	e = test_guest_read(&test_guest, (e & 0x000FFFFFFFFFF000ULL) + ((va >> 30) & 511) * 8, 8);
	if (!(e & 1) || (e & 0x80))
		return UINT64_MAX;
	e = test_guest_read(&test_guest, (e & 0x000FFFFFFFFFF000ULL) + ((va >> 21) & 511) * 8, 8);
	if (!(e & 1) || !(e & 0x80) || !(e & 2))
		return UINT64_MAX;
	return (e & 0x000FFFFFFFE00000ULL) | (va & 0x1FFFFF);
}

static void test_page_tables(void **state)
{
	const uint64_t probes[] = { 0, 0x7000, 0x1000000, 0x1234567, 0xBFFFFFFF, 0xFEE00000, 0xFFFFFFFF };

	(void)state;
	/* Stale entries beyond the first 4 GiB must be cleared. */
	memset(gmem_ptr(&test_guest, X86_PML4_ADDR, 4096), 0xFF, 4096);
	memset(gmem_ptr(&test_guest, X86_PDPT_ADDR, 4096), 0xFF, 4096);
	assert_int_equal(x86_page_tables_build(&test_guest), 0);
	assert_int_equal(test_guest_read(&test_guest, X86_PML4_ADDR, 8), 0xA003);
	assert_int_equal(test_guest_read(&test_guest, X86_PDPT_ADDR, 8), 0xB003);
	assert_int_equal(test_guest_read(&test_guest, X86_PDPT_ADDR + 24, 8), 0xE003);
	assert_int_equal(test_guest_read(&test_guest, X86_PD_ADDR, 8), 0x83);
	assert_int_equal(test_guest_read(&test_guest, X86_PD_ADDR + 8, 8), 0x200083);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		assert_int_equal(translate(X86_PML4_ADDR, probes[i]), probes[i]);
	assert_int_equal(translate(X86_PML4_ADDR, 0x100000000ULL), UINT64_MAX);
	assert_int_equal(translate(X86_PML4_ADDR, 0x8000000000ULL), UINT64_MAX);
}

static void test_page_tables_no_room(void **state)
{
	static uint8_t small[0xC000];
	struct gmem tiny = { .nregions = 1, .regions = { { .gpa = 0, .size = sizeof(small), .host = small } } };

	(void)state;
	/* The last PD (0xE000) is missing. */
	assert_int_equal(x86_page_tables_build(&tiny), -EFAULT);
	tiny.regions[0].size = 0x400;
	assert_int_equal(x86_gdt_build(&tiny), -EFAULT);
}

static void test_gdt(void **state)
{
	(void)state;
	assert_int_equal(x86_gdt_build(&test_guest), 0);
	assert_int_equal(test_guest_read(&test_guest, X86_GDT_ADDR + 0x00, 8), 0);
	assert_int_equal(test_guest_read(&test_guest, X86_GDT_ADDR + 0x08, 8), 0);
	assert_int_equal(test_guest_read(&test_guest, X86_GDT_ADDR + 0x10, 8), 0x00AF9B000000FFFFULL);
	assert_int_equal(test_guest_read(&test_guest, X86_GDT_ADDR + 0x18, 8), 0x00CF93000000FFFFULL);
	assert_int_equal(test_guest_read(&test_guest, X86_GDT_ADDR + 0x20, 8), 0x00008B0000000067ULL);
	assert_int_equal(test_guest_read(&test_guest, X86_GDT_ADDR + 0x28, 8), 0);
}

static void check_data_seg(const struct kvm_segment *s)
{
	assert_int_equal(s->selector, 0x18);
	assert_int_equal(s->base, 0);
	assert_int_equal(s->limit, 0xFFFFFFFF);
	assert_int_equal(s->type, 3);
	assert_int_equal(s->present, 1);
	assert_int_equal(s->s, 1);
	assert_int_equal(s->db, 1);
	assert_int_equal(s->g, 1);
	assert_int_equal(s->l, 0);
	assert_int_equal(s->unusable, 0);
}

static void test_sregs(void **state)
{
	struct kvm_sregs s;

	(void)state;
	/* Roughly what KVM reports after reset. */
	memset(&s, 0, sizeof(s));
	s.cr0 = 0x60000010;
	s.apic_base = 0xFEE00900;
	s.cs.selector = 0xF000;
	s.cs.base = 0xFFFF0000;
	s.ldt.present = 1;
	x86_sregs_long_mode(&s);

	assert_int_equal(s.cs.selector, 0x10);
	assert_int_equal(s.cs.base, 0);
	assert_int_equal(s.cs.limit, 0xFFFFFFFF);
	assert_int_equal(s.cs.type, 0xB);
	assert_int_equal(s.cs.present, 1);
	assert_int_equal(s.cs.s, 1);
	assert_int_equal(s.cs.l, 1);
	assert_int_equal(s.cs.db, 0);
	assert_int_equal(s.cs.dpl, 0);
	assert_int_equal(s.cs.unusable, 0);
	check_data_seg(&s.ds);
	check_data_seg(&s.es);
	check_data_seg(&s.fs);
	check_data_seg(&s.gs);
	check_data_seg(&s.ss);

	assert_int_equal(s.tr.selector, 0x20);
	assert_int_equal(s.tr.type, 11);   /* busy 64-bit TSS */
	assert_int_equal(s.tr.present, 1);
	assert_int_equal(s.tr.s, 0);
	assert_int_equal(s.tr.limit, 0x67);
	assert_int_equal(s.tr.unusable, 0);
	assert_int_equal(s.ldt.unusable, 1);
	assert_int_equal(s.ldt.present, 0);

	assert_int_equal(s.gdt.base, X86_GDT_ADDR);
	assert_int_equal(s.gdt.limit, 6 * 8 - 1);
	assert_int_equal(s.idt.base, 0);
	assert_int_equal(s.idt.limit, 0);

	assert_int_equal(s.cr0, 0x80000011);   /* PG | ET | PE; CD and NW cleared */
	assert_int_equal(s.cr3, 0x9000);
	assert_true(s.cr4 & (1u << 5));
	assert_int_equal(s.efer & 0x500, 0x500);
	assert_int_equal(s.apic_base, 0xFEE00900);   /* kept */
}

/* The cached segment state must agree with the descriptors the GDT holds. */
static void test_sregs_match_gdt(void **state)
{
	struct kvm_sregs s;
	uint64_t cs, ds;

	(void)state;
	memset(&s, 0, sizeof(s));
	x86_sregs_long_mode(&s);
	assert_int_equal(x86_gdt_build(&test_guest), 0);
	assert_true(s.cs.selector + 8u <= s.gdt.limit + 1u);
	assert_true(s.tr.selector + 16u <= s.gdt.limit + 1u);
	cs = test_guest_read(&test_guest, s.gdt.base + s.cs.selector, 8);
	ds = test_guest_read(&test_guest, s.gdt.base + s.ds.selector, 8);
	assert_int_equal((cs >> 53) & 1, s.cs.l);
	assert_int_equal((cs >> 40) & 0xF, s.cs.type);
	assert_int_equal((ds >> 54) & 1, s.ds.db);
	assert_int_equal((ds >> 40) & 0xF, s.ds.type);
	assert_int_equal((test_guest_read(&test_guest, s.gdt.base + s.tr.selector, 8) >> 40) & 0xF,
			 s.tr.type);
}

static void test_regs(void **state)
{
	struct kvm_regs r;

	(void)state;
	memset(&r, 0xCC, sizeof(r));
	x86_regs_boot(&r, 0x1000200);
	assert_int_equal(r.rip, 0x1000200);
	assert_int_equal(r.rsi, 0x7000);
	assert_int_equal(r.rflags, 2);
	assert_int_equal(r.rax, 0);
	assert_int_equal(r.rsp, 0);
	assert_int_equal(r.rbp, 0);
	assert_int_equal(r.rdi, 0);
	assert_int_equal(r.r15, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_tables),
		cmocka_unit_test(test_page_tables_no_room),
		cmocka_unit_test(test_gdt),
		cmocka_unit_test(test_sregs),
		cmocka_unit_test(test_sregs_match_gdt),
		cmocka_unit_test(test_regs),
	};

	return cmocka_run_group_tests(tests, test_guest_setup, test_guest_teardown);
}

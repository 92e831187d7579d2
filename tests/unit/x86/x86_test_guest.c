/* SPDX-License-Identifier: MIT */
/* Test fixture for the x86 tests: one guest per test group, and the helpers that read it. */
#include "x86_test_guest.h"

struct gmem test_guest;

int test_guest_map(struct gmem *mem, uint64_t mem_bytes)
{
	struct gmem_region r[GMEM_MAX_REGIONS];
	unsigned int n = x86_ram_layout(mem_bytes, r);

	return gmem_map(mem, r, n);
}

void test_guest_unmap(struct gmem *mem)
{
	gmem_unmap(mem);
}

int test_guest_setup(void **state)
{
	(void)state;
	return test_guest_map(&test_guest, TEST_GUEST_BYTES);
}

int test_guest_teardown(void **state)
{
	(void)state;
	test_guest_unmap(&test_guest);
	return 0;
}

uint64_t test_guest_read(const struct gmem *mem, uint64_t gpa, unsigned int n)
{
	const uint8_t *p = gmem_ptr(mem, gpa, n);
	uint64_t v = 0;

	if (!p)
		return UINT64_MAX;
	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* SPDX-License-Identifier: MIT */
/* Test helper: guest RAM backed by anonymous mappings, described as a struct gmem. */
#ifndef VMM_X86_TEST_GUEST_H
#define VMM_X86_TEST_GUEST_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "x86_layout.h"

/* Map regions for mem_bytes laid out by x86_ram_layout(); NORESERVE keeps big guests cheap. */
static inline int test_guest_map(struct gmem *mem, uint64_t mem_bytes)
{
	struct gmem_region r[2];
	unsigned int n = x86_ram_layout(mem_bytes, r);

	memset(mem, 0, sizeof(*mem));
	for (unsigned int i = 0; i < n; i++) {
		void *p = mmap(NULL, r[i].size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED)
			return -1;
		r[i].host = p;
		mem->regions[mem->nregions++] = r[i];
	}
	return 0;
}

static inline void test_guest_unmap(struct gmem *mem)
{
	for (unsigned int i = 0; i < mem->nregions; i++)
		munmap(mem->regions[i].host, mem->regions[i].size);
	mem->nregions = 0;
}

/* Read a little-endian integer of n bytes at guest address gpa (test asserts it is mapped). */
static inline uint64_t test_guest_read(const struct gmem *mem, uint64_t gpa, unsigned int n)
{
	const uint8_t *p = gmem_ptr(mem, gpa, n);
	uint64_t v = 0;

	if (!p)
		return UINT64_MAX;
	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#endif

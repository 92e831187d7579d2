/* SPDX-License-Identifier: MIT */
/* Test fixture for the x86 tests: guest RAM laid out by x86_ram_layout and mapped as vmm maps it. */
#ifndef VMM_X86_TEST_GUEST_H
#define VMM_X86_TEST_GUEST_H

#include <stdint.h>

#include "x86_boot.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* The group's guest: TEST_GUEST_BYTES of RAM, mapped by test_guest_setup. */
#define TEST_GUEST_BYTES (64 * MiB)
extern struct gmem test_guest;

/* cmocka group set-up and tear-down for test_guest. */
int test_guest_setup(void **state);
int test_guest_teardown(void **state);

/* Map mem_bytes of guest RAM laid out by x86_ram_layout() into *mem (as gmem_map does for vmm): 0 or -errno. */
int test_guest_map(struct gmem *mem, uint64_t mem_bytes);
void test_guest_unmap(struct gmem *mem);

/* Read a little-endian integer of n bytes at guest address gpa; UINT64_MAX if it is not in RAM. */
uint64_t test_guest_read(const struct gmem *mem, uint64_t gpa, unsigned int n);

#endif

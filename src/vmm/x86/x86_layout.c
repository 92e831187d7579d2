/* SPDX-License-Identifier: MIT */
/* Guest RAM layout around the MMIO hole, and the e820 map that describes it to the guest. */
#include <errno.h>

#include "x86_boot.h"

unsigned int x86_ram_layout(uint64_t mem_bytes, struct gmem_region out[2])
{
	uint64_t low = mem_bytes < X86_LOWMEM_MAX ? mem_bytes : X86_LOWMEM_MAX;

	out[0] = (struct gmem_region){ .gpa = 0, .size = low, .host = NULL };
	if (mem_bytes <= X86_LOWMEM_MAX)
		return 1;
	out[1] = (struct gmem_region){
		.gpa = X86_HIGHMEM_START, .size = mem_bytes - X86_LOWMEM_MAX, .host = NULL,
	};
	return 2;
}

static int e820_add(struct x86_e820_entry *out, unsigned int max, unsigned int *n,
		    uint64_t addr, uint64_t size, uint32_t type)
{
	if (*n >= max)
		return -ENOSPC;
	out[*n] = (struct x86_e820_entry){ .addr = addr, .size = size, .type = type };
	(*n)++;
	return 0;
}

int x86_e820_build(uint64_t mem_bytes, struct x86_e820_entry *out, unsigned int max)
{
	struct gmem_region r[2];
	unsigned int nr, n = 0;
	int ret;

	/* The kernel and the boot data need RAM above 1 MiB; below that is not a machine. */
	if (mem_bytes <= X86_BIOS_END)
		return -EINVAL;
	nr = x86_ram_layout(mem_bytes, r);

	ret = e820_add(out, max, &n, 0, X86_EBDA_START, X86_E820_RAM);
	if (ret)
		return ret;
	/* EBDA, VGA hole, option ROMs and the ACPI tables in 0xE0000..0xFFFFF. */
	ret = e820_add(out, max, &n, X86_EBDA_START, X86_BIOS_END - X86_EBDA_START,
		       X86_E820_RESERVED);
	if (ret)
		return ret;
	ret = e820_add(out, max, &n, X86_BIOS_END, r[0].size - X86_BIOS_END, X86_E820_RAM);
	if (ret)
		return ret;
	if (nr == 2) {
		ret = e820_add(out, max, &n, r[1].gpa, r[1].size, X86_E820_RAM);
		if (ret)
			return ret;
	}
	return (int)n;
}

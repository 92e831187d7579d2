/* SPDX-License-Identifier: MIT */
/* Guest RAM's host side: anonymous mappings for the regions an arch lays out. */
#include <errno.h>
#include <sys/mman.h>

#include "gmem.h"

int gmem_map(struct gmem *mem, const struct gmem_region *layout, unsigned int n)
{
	mem->nregions = 0;
	if (n > GMEM_MAX_REGIONS)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		void *p = mmap(NULL, layout[i].size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED) {
			int r = -errno;

			gmem_unmap(mem);
			return r;
		}
		/*
		 * Guest RAM is not worth a core dump. Huge pages cut the page
		 * faults of loading a kernel (a 57 MB vmlinux: ~50 ms with 4 KiB
		 * faults, ~15 ms with 2 MiB ones, see docs/benchmarks.md) and the
		 * guest's TLB misses; hosts whose THP mode is "madvise" give them
		 * only to memory that asks.
		 */
		madvise(p, layout[i].size, MADV_DONTDUMP);
		madvise(p, layout[i].size, MADV_HUGEPAGE);
		mem->regions[i] = (struct gmem_region){ .gpa = layout[i].gpa, .size = layout[i].size, .host = p };
		mem->nregions = i + 1;
	}
	return 0;
}

void gmem_unmap(struct gmem *mem)
{
	for (unsigned int i = 0; i < mem->nregions; i++)
		munmap(mem->regions[i].host, mem->regions[i].size);
	mem->nregions = 0;
}

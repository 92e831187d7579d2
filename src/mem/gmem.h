/* SPDX-License-Identifier: MIT */
/* Guest memory as a list of (gpa, size, host pointer) regions: the only view of guest RAM that devices get. */
#ifndef VMM_GMEM_H
#define VMM_GMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GMEM_MAX_REGIONS 4

struct gmem_region {
	uint64_t gpa;   /* guest-physical start */
	uint64_t size;  /* bytes */
	void *host;     /* host virtual address of gpa */
};

struct gmem {
	struct gmem_region regions[GMEM_MAX_REGIONS];
	unsigned int nregions;
};

/*
 * The region holding the whole guest range [gpa, gpa + len), or NULL unless
 * one region holds all of it. Overflow-safe for any gpa and len. len == 0 is
 * accepted when gpa itself lies inside (or at the end of) a region. Reads
 * only gpa and size, so it also serves a layout whose host pointers are not
 * mapped yet.
 */
static inline const struct gmem_region *gmem_region_of(const struct gmem *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < mem->nregions; i++) {
		const struct gmem_region *r = &mem->regions[i];

		if (gpa < r->gpa)
			continue;
		uint64_t off = gpa - r->gpa;
		if (off > r->size || len > r->size - off)
			continue;
		return r;
	}
	return NULL;
}

/*
 * Host pointer for the guest range [gpa, gpa + len), or NULL unless the whole
 * range lies inside one region (gmem_region_of), so it is the one check every
 * guest-supplied address goes through.
 */
static inline void *gmem_ptr(const struct gmem *mem, uint64_t gpa, uint64_t len)
{
	const struct gmem_region *r = gmem_region_of(mem, gpa, len);

	return r ? (char *)r->host + (gpa - r->gpa) : NULL;
}

/*
 * Map anonymous host memory for each of the n regions of layout (gpa and size
 * as arch_ram_layout gives them; host ignored) into *mem, which is replaced:
 * private, not reserved against overcommit, left out of core dumps, and
 * offered transparent huge pages. 0, or -errno with nothing left mapped and
 * mem->nregions 0. n is at most GMEM_MAX_REGIONS.
 */
int gmem_map(struct gmem *mem, const struct gmem_region *layout, unsigned int n);

/* Unmap what gmem_map mapped and set mem->nregions to 0. */
void gmem_unmap(struct gmem *mem);

/* Total bytes of guest RAM described by mem. */
static inline uint64_t gmem_total(const struct gmem *mem)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < mem->nregions; i++)
		total += mem->regions[i].size;
	return total;
}

#endif

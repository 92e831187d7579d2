/* SPDX-License-Identifier: MIT */
/* The MMIO bus: which device serves a guest-physical address when KVM hands an MMIO access to userspace. */
#ifndef VMM_BUS_H
#define VMM_BUS_H

#include <stdint.h>

#define BUS_MAX_RANGES 16

/* One device's window [base, base + size) and how it answers accesses to it. */
struct bus_range {
	uint64_t base;
	uint64_t size;
	/*
	 * A guest read of len bytes (1..8) at offset off of the window: fill
	 * data[0..len) (it holds 0xff bytes on entry). A write: the guest's
	 * bytes in data. Both run on a vCPU thread, concurrently with the other
	 * vCPUs; [off, off + len) lies inside the window.
	 */
	void (*read)(void *ctx, uint64_t off, void *data, unsigned int len);
	void (*write)(void *ctx, uint64_t off, const void *data, unsigned int len);
	void *ctx;
};

struct bus {
	struct bus_range ranges[BUS_MAX_RANGES];
	unsigned int n;
};

/*
 * Add a copy of r. 0; -EINVAL if r has no size, wraps past the top of the
 * address space or lacks read or write; -EEXIST if it overlaps a range
 * already there; -ENOSPC if the bus is full. Only while no vCPU runs.
 */
int bus_add(struct bus *bus, const struct bus_range *r);

/*
 * The range that holds all of [addr, addr + len), or NULL: no range, or an
 * access that straddles a window's end. Overflow-safe for any addr and len.
 * Reads only, so any number of vCPU threads may call it at once.
 */
const struct bus_range *bus_find(const struct bus *bus, uint64_t addr, uint64_t len);

#endif

/* SPDX-License-Identifier: MIT */
/* The MMIO bus: a short list of device windows, looked up on every MMIO exit (a handful of devices: a scan is enough). */
#include "bus.h"

#include <errno.h>
#include <stddef.h>

int bus_add(struct bus *bus, const struct bus_range *r)
{
	if (!r->size || r->base > UINT64_MAX - (r->size - 1) || !r->read || !r->write)
		return -EINVAL;
	for (unsigned int i = 0; i < bus->n; i++) {
		const struct bus_range *o = &bus->ranges[i];

		/* Last bytes, not ends: a window may reach the top of the address space. */
		if (r->base <= o->base + (o->size - 1) && o->base <= r->base + (r->size - 1))
			return -EEXIST;
	}
	if (bus->n == BUS_MAX_RANGES)
		return -ENOSPC;
	bus->ranges[bus->n++] = *r;
	return 0;
}

const struct bus_range *bus_find(const struct bus *bus, uint64_t addr, uint64_t len)
{
	for (unsigned int i = 0; i < bus->n; i++) {
		const struct bus_range *r = &bus->ranges[i];

		if (addr >= r->base && addr - r->base < r->size && len <= r->size - (addr - r->base))
			return r;
	}
	return NULL;
}

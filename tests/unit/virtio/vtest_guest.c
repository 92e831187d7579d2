/* SPDX-License-Identifier: MIT */
/* Test driver that plays the guest over a plain buffer (see vtest_guest.h). */
#include "vtest_guest.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

int vtest_guest_init(struct vtest_guest *g, uint64_t ram_size, uint16_t qsize)
{
	memset(g, 0, sizeof(*g));
	g->ram = aligned_alloc(4096, (ram_size + 4095) & ~4095ull);
	if (!g->ram)
		return -ENOMEM;
	memset(g->ram, 0, ram_size);
	g->ram_size = ram_size;
	g->mem.nregions = 1;
	g->mem.regions[0].gpa = VTEST_RAM_GPA;
	g->mem.regions[0].size = ram_size;
	g->mem.regions[0].host = g->ram;
	g->qsize = qsize;
	g->next_alloc = VTEST_RAM_GPA;
	g->desc_gpa = vtest_alloc(g, 16ull * qsize);
	g->avail_gpa = vtest_alloc(g, 6 + 2ull * qsize);
	g->used_gpa = vtest_alloc(g, 6 + 8ull * qsize);
	return 0;
}

void vtest_guest_fini(struct vtest_guest *g)
{
	free(g->ram);
	g->ram = NULL;
}

void *vtest_ptr(struct vtest_guest *g, uint64_t gpa)
{
	if (gpa < VTEST_RAM_GPA || gpa - VTEST_RAM_GPA >= g->ram_size)
		fail_msg("gpa 0x%llx is outside the test's RAM", (unsigned long long)gpa);
	return g->ram + (gpa - VTEST_RAM_GPA);
}

uint64_t vtest_alloc(struct vtest_guest *g, uint64_t len)
{
	uint64_t gpa = g->next_alloc;

	g->next_alloc = (gpa + len + 15) & ~15ull;
	if (g->next_alloc > VTEST_RAM_GPA + g->ram_size)
		fail_msg("test RAM exhausted");
	return gpa;
}

void vtest_table_desc_set(struct vtest_guest *g, uint64_t table_gpa, uint16_t i, uint64_t addr, uint32_t len,
			  uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(vtest_ptr(g, table_gpa + 16ull * i), &d, sizeof(d));
}

void vtest_desc_set(struct vtest_guest *g, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	vtest_table_desc_set(g, g->desc_gpa, i, addr, len, flags, next);
}

uint16_t vtest_chain_build(struct vtest_guest *g, const struct vtest_seg *segs, unsigned int n)
{
	uint16_t head = g->next_desc;

	for (unsigned int k = 0; k < n; k++) {
		uint16_t i = (uint16_t)((head + k) % g->qsize);
		uint16_t next = (uint16_t)((head + k + 1) % g->qsize);
		uint16_t flags = (segs[k].writable ? VIRTQ_DESC_F_WRITE : 0) | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0);

		vtest_desc_set(g, i, segs[k].gpa, segs[k].len, flags, k + 1 < n ? next : 0);
	}
	g->next_desc = (uint16_t)((head + n) % g->qsize);
	return head;
}

uint16_t vtest_chain_build_indirect(struct vtest_guest *g, const struct vtest_seg *segs, unsigned int n)
{
	uint64_t table = vtest_alloc(g, 16ull * n);

	for (unsigned int k = 0; k < n; k++) {
		uint16_t flags = (segs[k].writable ? VIRTQ_DESC_F_WRITE : 0) | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0);

		vtest_table_desc_set(g, table, (uint16_t)k, segs[k].gpa, segs[k].len, flags, (uint16_t)(k + 1));
	}
	uint16_t head = g->next_desc;

	vtest_desc_set(g, head, table, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	g->next_desc = (uint16_t)((head + 1) % g->qsize);
	return head;
}

static struct virtq_avail *avail(struct vtest_guest *g)
{
	return vtest_ptr(g, g->avail_gpa);
}

static struct virtq_used *used(struct vtest_guest *g)
{
	return vtest_ptr(g, g->used_gpa);
}

void vtest_avail_push(struct vtest_guest *g, uint16_t head)
{
	avail(g)->ring[g->avail_idx % g->qsize] = head;
	g->avail_idx++;
	/* Release: the ring entry and descriptors precede the idx, as a real driver's barrier orders them. */
	__atomic_store_n(&avail(g)->idx, g->avail_idx, __ATOMIC_RELEASE);
}

void vtest_avail_idx_set(struct vtest_guest *g, uint16_t idx)
{
	g->avail_idx = idx;
	__atomic_store_n(&avail(g)->idx, idx, __ATOMIC_RELEASE);
}

uint16_t vtest_submit(struct vtest_guest *g, const struct vtest_seg *segs, unsigned int n)
{
	uint16_t head = vtest_chain_build(g, segs, n);

	vtest_avail_push(g, head);
	return head;
}

uint16_t vtest_used_idx(struct vtest_guest *g)
{
	/* Acquire: pairs with the device's release store of used->idx. */
	return __atomic_load_n(&used(g)->idx, __ATOMIC_ACQUIRE);
}

bool vtest_used_pop(struct vtest_guest *g, uint32_t *id, uint32_t *len)
{
	if (vtest_used_idx(g) == g->used_seen)
		return false;
	struct virtq_used_elem *e = &used(g)->ring[g->used_seen % g->qsize];

	*id = e->id;
	*len = e->len;
	g->used_seen++;
	return true;
}

void vtest_avail_flags_set(struct vtest_guest *g, uint16_t flags)
{
	avail(g)->flags = flags;
}

void vtest_used_event_set(struct vtest_guest *g, uint16_t v)
{
	avail(g)->ring[g->qsize] = v;
}

uint16_t vtest_avail_event_get(struct vtest_guest *g)
{
	uint16_t v;

	memcpy(&v, (char *)used(g) + 4 + 8u * g->qsize, sizeof(v));
	return v;
}

uint16_t vtest_used_flags_get(struct vtest_guest *g)
{
	return used(g)->flags;
}

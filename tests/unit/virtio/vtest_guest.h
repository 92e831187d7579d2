/* SPDX-License-Identifier: MIT */
/* Test driver that plays the guest: guest RAM in a plain buffer, split rings laid out in it, chains built and used entries read. */
#ifndef VMM_VTEST_GUEST_H
#define VMM_VTEST_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "gmem.h"
#include "virtqueue.h"

/* Guest RAM starts here, so a test that confuses gpa and offset fails. */
#define VTEST_RAM_GPA 0x100000ull

struct vtest_seg {
	uint64_t gpa;
	uint32_t len;
	bool writable;
};

struct vtest_guest {
	uint8_t *ram;
	uint64_t ram_size;
	struct gmem mem;
	uint16_t qsize;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint64_t next_alloc;     /* bump allocator for buffers, gpa */
	uint16_t avail_idx;      /* driver's copy of avail->idx */
	uint16_t used_seen;      /* next used entry to read */
	uint16_t next_desc;      /* next free descriptor slot (wraps) */
};

/* Allocate ram_size bytes of zeroed guest RAM and lay out a queue of qsize entries. 0 or -ENOMEM. */
int vtest_guest_init(struct vtest_guest *g, uint64_t ram_size, uint16_t qsize);
void vtest_guest_fini(struct vtest_guest *g);

/* Host pointer for a gpa inside RAM (test asserts it is). */
void *vtest_ptr(struct vtest_guest *g, uint64_t gpa);
/* Allocate len bytes (aligned to 16) of guest RAM; returns the gpa. */
uint64_t vtest_alloc(struct vtest_guest *g, uint64_t len);

/* Write raw descriptor i of the queue's table, or of an indirect table at table_gpa. */
void vtest_desc_set(struct vtest_guest *g, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
void vtest_table_desc_set(struct vtest_guest *g, uint64_t table_gpa, uint16_t i, uint64_t addr, uint32_t len,
			  uint16_t flags, uint16_t next);

/* Build a chain from n segments in free descriptor slots; returns the head (not yet made available). */
uint16_t vtest_chain_build(struct vtest_guest *g, const struct vtest_seg *segs, unsigned int n);
/* Build an indirect table of n segments and one descriptor pointing to it; returns the head. */
uint16_t vtest_chain_build_indirect(struct vtest_guest *g, const struct vtest_seg *segs, unsigned int n);
/* Put head in the avail ring and publish avail->idx. */
void vtest_avail_push(struct vtest_guest *g, uint16_t head);
/* Set avail->idx directly (to play a corrupt driver). */
void vtest_avail_idx_set(struct vtest_guest *g, uint16_t idx);
/* Build a chain and make it available; returns the head. */
uint16_t vtest_submit(struct vtest_guest *g, const struct vtest_seg *segs, unsigned int n);

/* Read the next used entry: true with id and len set, or false when the device has pushed nothing new. */
bool vtest_used_pop(struct vtest_guest *g, uint32_t *id, uint32_t *len);
uint16_t vtest_used_idx(struct vtest_guest *g);

void vtest_avail_flags_set(struct vtest_guest *g, uint16_t flags);
void vtest_used_event_set(struct vtest_guest *g, uint16_t v);
uint16_t vtest_avail_event_get(struct vtest_guest *g);
uint16_t vtest_used_flags_get(struct vtest_guest *g);

#endif

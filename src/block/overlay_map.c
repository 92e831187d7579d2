/* SPDX-License-Identifier: MIT */
/* The overlay's cluster map: three lazily mapped bitmaps, and the plan of a write over them. Pure but for the mappings. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "overlay_internal.h"

int ovl_map_init(struct ovl_map *m, uint64_t size, uint32_t cluster)
{
	unsigned int shift = 0;
	uint64_t pieces;
	void *p;

	memset(m, 0, sizeof(*m));
	if (!size || cluster < OVL_CLUSTER_MIN || cluster > OVL_CLUSTER_MAX || (cluster & (cluster - 1)))
		return -EINVAL;
	while ((1u << shift) < cluster)
		shift++;
	m->size = size;
	m->shift = shift;
	m->nclusters = (size + cluster - 1) >> shift;
	m->words = (size_t)((m->nclusters + 63) / 64);
	pieces = ((size - 1) >> OVL_PREALLOC_SHIFT) + 1;
	m->map_len = (2 * m->words + (size_t)((pieces + 63) / 64)) * sizeof(uint64_t);
	/* The three bitmaps in one mapping, zero until touched; only written pages take memory. */
	p = mmap(NULL, m->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	m->data = p;
	m->busy = m->data + m->words;
	m->tried = m->busy + m->words;
	return 0;
}

void ovl_map_free(struct ovl_map *m)
{
	if (m->data)
		munmap(m->data, m->map_len);
	m->data = m->busy = m->tried = NULL;
}

/* The mask of bits [lo, hi) within one word (0 <= lo < hi <= 64). */
static uint64_t word_mask(unsigned int lo, unsigned int hi)
{
	uint64_t upper = hi == 64 ? ~0ull : (1ull << hi) - 1;

	return upper & ~((1ull << lo) - 1);
}

/*
 * Call fn on each word of [first, first + n) with the mask of the range's
 * bits in it; stop and return true as soon as fn does.
 */
static bool bits_walk(uint64_t first, uint64_t n, bool (*fn)(void *ctx, size_t w, uint64_t mask), void *ctx)
{
	uint64_t end = first + n;

	while (first < end) {
		size_t w = (size_t)(first >> 6);
		unsigned int lo = first & 63;
		unsigned int hi = end - (first - lo) >= 64 ? 64 : (unsigned int)(end - (first - lo));

		if (fn(ctx, w, word_mask(lo, hi)))
			return true;
		first += hi - lo;
	}
	return false;
}

static bool walk_set(void *ctx, size_t w, uint64_t mask)
{
	((uint64_t *)ctx)[w] |= mask;
	return false;
}

static bool walk_clear(void *ctx, size_t w, uint64_t mask)
{
	((uint64_t *)ctx)[w] &= ~mask;
	return false;
}

void ovl_bits_set(uint64_t *bits, uint64_t first, uint64_t n)
{
	bits_walk(first, n, walk_set, bits);
}

void ovl_bits_clear(uint64_t *bits, uint64_t first, uint64_t n)
{
	bits_walk(first, n, walk_clear, bits);
}

static bool walk_busy(void *ctx, size_t w, uint64_t mask)
{
	return (((const struct ovl_map *)ctx)->busy[w] & mask) != 0;
}

static bool walk_unwritten(void *ctx, size_t w, uint64_t mask)
{
	return (~((const struct ovl_map *)ctx)->data[w] & mask) != 0;
}

static bool walk_hold(void *ctx, size_t w, uint64_t mask)
{
	struct ovl_map *m = ctx;

	m->busy[w] |= ~m->data[w] & mask;
	return false;
}

bool ovl_map_conflict(const struct ovl_map *m, uint64_t first, uint64_t n)
{
	/* Busy bits are only ever set on clusters that are not data (ovl_map_hold). */
	return bits_walk(first, n, walk_busy, (void *)m);
}

bool ovl_map_any_unwritten(const struct ovl_map *m, uint64_t first, uint64_t n)
{
	return bits_walk(first, n, walk_unwritten, (void *)m);
}

void ovl_map_hold(struct ovl_map *m, uint64_t first, uint64_t n)
{
	bits_walk(first, n, walk_hold, m);
}

uint64_t ovl_map_run(const struct ovl_map *m, uint64_t i, uint64_t limit, bool *data)
{
	bool v = ovl_bit(m->data, i);
	uint64_t j = i + 1;

	*data = v;
	while (j < limit) {
		/* A word at a time once aligned: the bits that differ from v, from j on. */
		uint64_t word = m->data[j >> 6] ^ (v ? ~0ull : 0);
		uint64_t diff = word >> (j & 63);

		if (diff) {
			j += (uint64_t)__builtin_ctzll(diff);
			break;
		}
		j += 64 - (j & 63);
	}
	return (j < limit ? j : limit) - i;
}

void ovl_plan_write(const struct ovl_map *m, uint64_t off, uint64_t len, struct ovl_plan *p)
{
	uint64_t end = off + len;
	uint64_t cmask = (1ull << m->shift) - 1;
	uint64_t last;

	p->first = off >> m->shift;
	last = (end - 1) >> m->shift;
	p->n = last - p->first + 1;
	p->head_off = off & ~cmask;
	p->head_len = 0;
	p->tail_off = end;
	p->tail_len = 0;
	if ((off & cmask) && !ovl_bit(m->data, p->first))
		p->head_len = off - p->head_off;
	if (end < ovl_cluster_end(m, last) && !ovl_bit(m->data, last))
		p->tail_len = ovl_cluster_end(m, last) - end;
	p->hold = ovl_map_any_unwritten(m, p->first, p->n);
}

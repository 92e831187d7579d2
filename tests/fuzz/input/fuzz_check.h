/* SPDX-License-Identifier: MIT */
/* Shared by the input fuzz targets: an invariant check that aborts with a message, and guarded buffers. */
#ifndef VMM_FUZZ_CHECK_H
#define VMM_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* An invariant: never compiled out (unlike assert), and says which one broke. */
#define FUZZ_CHECK(cond, ...)                                                        \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "fuzz: %s:%d: invariant broken: %s: ", __FILE__, \
				__LINE__, #cond);                                    \
			fprintf(stderr, __VA_ARGS__);                                \
			fputc('\n', stderr);                                         \
			abort();                                                     \
		}                                                                    \
	} while (0)

static inline size_t fuzz_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * size bytes of read-write memory (page-rounded) between two PROT_NONE pages, so
 * a stray access just outside faults even without ASan. NULL on failure.
 */
static inline uint8_t *fuzz_guarded_map(size_t size)
{
	size_t pg = fuzz_page(), len = (size + pg - 1) / pg * pg;
	uint8_t *p = mmap(NULL, len + 2 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			  -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + pg, len, PROT_READ | PROT_WRITE) < 0)
		return NULL;
	return p + pg;
}

/*
 * A copy of data[0..size) that ends exactly at a PROT_NONE page (reading one
 * byte past the input faults) and starts at a page boundary when it is a
 * whole number of pages. Reused across calls; NULL (skip the input) if it is
 * over max bytes.
 */
static inline const uint8_t *fuzz_input_copy(const uint8_t *data, size_t size, size_t max)
{
	static uint8_t *area;
	static size_t cap;

	if (!area) {
		size_t pg = fuzz_page();

		cap = (max + pg - 1) / pg * pg;
		area = fuzz_guarded_map(cap);
		FUZZ_CHECK(area != NULL, "cannot map the input buffer");
	}
	if (size > cap)
		return NULL;
	memcpy(area + cap - size, data, size);
	return area + cap - size;
}

#endif

/* SPDX-License-Identifier: MIT */
/* The cache-mode table: QEMU's five cache= modes as host-open and guest-visible flags. */
#include <errno.h>
#include <string.h>

#include "blk_backend.h"

struct cache_mode_row {
	const char *name;
	struct blk_cache_props props;
};

/*
 * Indexed by enum blk_cache_mode. writethrough/directsync hide the write cache
 * from the guest (WCE=0) so the device asks for durable writes; unsafe keeps
 * WCE=1 (FLUSH stays offered, as in the seed patch) but drops the fdatasync.
 */
static const struct cache_mode_row cache_mode_rows[] = {
	[BLK_CACHE_WRITEBACK]    = { "writeback",    { .direct = false, .wce = true,  .flush_noop = false } },
	[BLK_CACHE_NONE]         = { "none",         { .direct = true,  .wce = true,  .flush_noop = false } },
	[BLK_CACHE_WRITETHROUGH] = { "writethrough", { .direct = false, .wce = false, .flush_noop = false } },
	[BLK_CACHE_DIRECTSYNC]   = { "directsync",   { .direct = true,  .wce = false, .flush_noop = false } },
	[BLK_CACHE_UNSAFE]       = { "unsafe",       { .direct = false, .wce = true,  .flush_noop = true  } },
};

#define CACHE_MODE_COUNT (sizeof(cache_mode_rows) / sizeof(cache_mode_rows[0]))

int blk_cache_mode_parse(const char *name, enum blk_cache_mode *out)
{
	if (!name)
		return -EINVAL;
	for (unsigned int i = 0; i < CACHE_MODE_COUNT; i++) {
		if (strcmp(name, cache_mode_rows[i].name) == 0) {
			*out = (enum blk_cache_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *blk_cache_mode_name(enum blk_cache_mode mode)
{
	if ((unsigned int)mode >= CACHE_MODE_COUNT)
		return NULL;
	return cache_mode_rows[mode].name;
}

struct blk_cache_props blk_cache_mode_props(enum blk_cache_mode mode)
{
	/* An out-of-range mode gets the safest row: no cache shown, nothing skipped. */
	static const struct blk_cache_props safest = { .direct = false, .wce = false, .flush_noop = false };

	if ((unsigned int)mode >= CACHE_MODE_COUNT)
		return safest;
	return cache_mode_rows[mode].props;
}

/* SPDX-License-Identifier: MIT */
/* The kernel cache: a compressed kernel's payload unpacked on the host once, kept under its source's SHA-256. */
#ifndef VMM_KCACHE_H
#define VMM_KCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "boot_unpack.h"

/* What the cache did for one boot (main says it under -v, --stats reports it). */
enum kcache_state {
	KCACHE_OFF,        /* --kernel-cache off: the kernel boots as given */
	KCACHE_NONE,       /* the kernel has no payload vmm unpacks (an ELF; bzip2, lzma, lzo, lz4) */
	KCACHE_HIT,        /* booted what the cache held */
	KCACHE_MISS,       /* unpacked, stored, and booted */
	KCACHE_FALLBACK,   /* could not: the kernel boots as given; why and err say what failed */
};

struct kcache_note {
	enum kcache_state state;
	enum boot_pack kind;   /* the payload's compressor, once known */
	int err;               /* KCACHE_FALLBACK: the -errno, or 0 */
	const char *why;       /* KCACHE_FALLBACK: static words, e.g. "cannot make the directory" */
	char path[4096];       /* the entry (HIT, MISS), or what failed (FALLBACK) */
};

/* Set note to KCACHE_FALLBACK with err and why (static words); returns err. */
int kcache_note_fallback(struct kcache_note *note, int err, const char *why);

/* "off", "none", "hit", "miss" or "fallback". */
const char *kcache_state_name(enum kcache_state s);

/*
 * The cache directory: dir as given, or else $XDG_CACHE_HOME/vmm/kernels
 * (when absolute, as the XDG spec asks), or else $HOME/.cache/vmm/kernels.
 * 0 with out, -ENOENT when neither names one, -ENAMETOOLONG.
 */
int kcache_dir_resolve(const char *dir, char *out, size_t n);

/*
 * Find or make the unpacked payload p of kernel file f in directory dir
 * (made, with its parents, mode 0700, if missing). The entry is named by the
 * SHA-256 and size of all of f; it must be exactly as long as Linux's size
 * trailer (the payload's last 4 bytes) says, at most p->max_out, and start
 * with an ELF64 header, or it is taken for a miss and replaced. A miss
 * unpacks into a temporary name in dir, which is renamed into place once
 * whole (so vmms racing each other are fine). 0 with *fd (for reading) and
 * *size, note HIT or MISS; -ENOTSUP with note KCACHE_NONE when the payload is
 * not gzip, xz or zstd; or another -errno with note KCACHE_FALLBACK (a
 * directory that cannot be made or written, a corrupt or cut short payload,
 * one that unpacks to other than its trailer says, or to no ELF file).
 */
int kcache_entry_get(const char *dir, const struct boot_file *f, const struct boot_payload *p,
		     struct kcache_note *note, int *fd, uint64_t *size);

/* Remove the entry at path (the loader refused what it holds); errors are ignored: it is only a cache. */
void kcache_entry_drop(const char *path);

#endif

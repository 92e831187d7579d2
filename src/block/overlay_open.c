/* SPDX-License-Identifier: MIT */
/* Making a snapshot drive's overlay: a nameless file in TMPDIR, a reflink clone of the base where it can be, else sparse. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "overlay_internal.h"

const char *blk_overlay_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && dir[0] ? dir : "/var/tmp";
}

/*
 * A new empty file in dir that has no name: O_TMPFILE, or where the
 * filesystem has none, a name that is unlinked at once. Either way a vmm
 * killed at any moment leaves nothing in dir (the second way: but for that
 * instant). 0 and *out, or -errno naming what is wrong with dir.
 */
static int overlay_file_make(const char *dir, int *out)
{
	char path[4096];
	int fd, err;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0) {
		*out = fd;
		return 0;
	}
	/* EISDIR: a kernel without O_TMPFILE; EOPNOTSUPP: a filesystem without it. */
	if (errno != EOPNOTSUPP && errno != EISDIR)
		return -errno;
	if ((size_t)snprintf(path, sizeof(path), "%s/.vmm-overlay-XXXXXX", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (unlink(path) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

/* Make fd O_DIRECT: true when its filesystem took it, and then its alignments in *mem and *off. */
static bool overlay_direct(int fd, uint32_t *mem, uint32_t *off)
{
	int fl = fcntl(fd, F_GETFL);

	*mem = *off = 1;
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_DIRECT) < 0)
		return false;
	blk_image_dio_align(fd, false, mem, off);
	return true;
}

/*
 * The reflink way: clone the whole base into a new file in dir. 1 when img
 * now runs on the clone, 0 when the host cannot clone here (another
 * filesystem, one without reflink, a base that is not a file), or -errno
 * when dir itself is at fault.
 */
static int overlay_reflink(struct blk_image *img, const char *dir, struct blk_overlay *ov)
{
	bool direct = blk_cache_mode_props(img->cache).direct;
	uint32_t mem = 1, off = 1;
	struct stat st;
	int fd, ret;

	if (img->block_device)
		return 0;
	ret = overlay_file_make(dir, &fd);
	if (ret < 0)
		return ret;
	/* Extents are shared, not copied: the cost follows the base's extent count, not its size. */
	if (ioctl(fd, FICLONE, img->fd) < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size != img->size ||
	    (direct && !overlay_direct(fd, &mem, &off))) {
		close(fd);
		return 0;
	}
	close(img->fd);
	img->fd = fd;
	if (direct) {
		img->dio_mem_align = mem;
		img->dio_offset_align = off;
		if (off > img->logical_block)
			img->logical_block = off;
	}
	ov->reflink = true;
	ov->fd = -1;   /* the overlay is img->fd */
	return 1;
}

/*
 * The sparse way: an empty file of the base's size, and a map of the
 * clusters written to it. The file is buffered whatever the cache mode:
 * nothing in it is ever flushed or outlives the VM, so O_DIRECT would only
 * make its writes slower (QEMU opens its temporary overlays the same way,
 * cache.direct off, cache.no-flush on). Reads of the base keep the mode.
 * 0 or -errno.
 */
static int overlay_sparse(struct blk_image *img, const char *dir, struct blk_overlay *ov)
{
	uint32_t cluster = OVL_CLUSTER_MIN;
	struct statfs sfs;
	int ret;

	ret = overlay_file_make(dir, &ov->fd);
	if (ret < 0)
		return ret;
	if (ftruncate(ov->fd, (off_t)img->size) < 0) {
		ret = -errno;
		goto close_file;
	}
	/* A DISCARD punches the overlay when its filesystem can (and reads back as zeros: overlay.c). */
	ov->punch = fallocate(ov->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, OVL_CLUSTER_MIN) == 0;
	/* Not in memory: there allocating ahead takes RAM for pages never written, and saves nothing. */
	ov->prealloc = fstatfs(ov->fd, &sfs) < 0 || (sfs.f_type != TMPFS_MAGIC && sfs.f_type != RAMFS_MAGIC);
	/* Copy-ups read whole aligned blocks of an O_DIRECT base, and the guest never splits its blocks. */
	while (cluster < img->dio_offset_align || cluster < img->logical_block)
		cluster *= 2;
	ret = ovl_map_init(&ov->map, img->size, cluster);
	if (ret < 0)
		goto close_file;
	return 0;

close_file:
	close(ov->fd);
	ov->fd = -1;
	return ret;
}

int blk_image_snapshot(struct blk_image *img, const char *dir)
{
	struct blk_overlay *ov;
	int ret;

	if (!img || img->fd < 0 || !img->readonly || img->overlay)
		return -EINVAL;
	if (!dir)
		dir = blk_overlay_dir();
	ov = calloc(1, sizeof(*ov));
	if (!ov)
		return -ENOMEM;
	ov->fd = -1;
	ret = overlay_reflink(img, dir, ov);
	if (ret == 0)
		ret = overlay_sparse(img, dir, ov);
	if (ret < 0) {
		free(ov);
		return ret;
	}
	img->overlay = ov;
	img->readonly = false;
	return 0;
}

/*
 * Allocating a sparse overlay's space ahead of the guest's writes. On ext4
 * a buffered write into a hole is a delayed allocation: until writeback,
 * each such block is an entry of its own in the inode's extent-status tree,
 * and random 4 KiB writes build a tree of one entry per block that every
 * later write looks up and changes (perf: ext4_es_lookup_extent first, then
 * __es_insert_extent). Measured here, random 4 KiB pwrite()s to each block
 * of a 1 GiB file once: 5.2-6.6 us each into holes, 3.2-4.2 into allocated
 * blocks. So the first write that touches an unwritten cluster of a 1 MiB
 * piece allocates the whole piece (fallocate: unwritten extents, no data
 * written, 6-9 us once per piece; 3.1-3.8 us per write then; 256 KiB
 * pieces gave 4.1-4.6 and 64 KiB 4.2-5.4). The price is space: the overlay
 * holds up to a whole piece for each piece the guest wrote in, and never
 * more than the disk's size. A piece the write covers whole is left to the
 * write, which allocates it in one go. Reads do not change: they follow the
 * data map, and an allocated block the guest has not written is still read
 * from the base.
 */
static void overlay_piece_alloc(struct blk_overlay *ov, uint64_t p, uint64_t off, uint64_t end)
{
	uint64_t ps = p << OVL_PREALLOC_SHIFT, pe = ps + (1ull << OVL_PREALLOC_SHIFT);

	if (pe > ov->map.size)
		pe = ov->map.size;
	if (!ovl_piece_try(&ov->map, p) || (off <= ps && end >= pe))
		return;
	/* KEEP_SIZE: never grow the file, whatever the piece. */
	if (fallocate(ov->fd, FALLOC_FL_KEEP_SIZE, (off_t)ps, (off_t)(pe - ps)) == 0) {
		ov->counters.prealloc_pieces++;
		return;
	}
	/*
	 * ENOSPC and the rest: the write allocates its own blocks, and says
	 * whether they fit. No more allocating ahead: where space is short it
	 * would take what the guest's writes need, and a filesystem that cannot
	 * (EOPNOTSUPP) will not learn to.
	 */
	ov->counters.prealloc_fails++;
	ov->prealloc = false;
}

void blk_overlay_prealloc(struct blk_overlay *ov, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;
	uint64_t first = off >> OVL_PREALLOC_SHIFT, last = (end - 1) >> OVL_PREALLOC_SHIFT;

	if (!ov->prealloc || !len)
		return;
	/* Only the first and last pieces can be covered in part. */
	overlay_piece_alloc(ov, first, off, end);
	if (last != first && ov->prealloc)
		overlay_piece_alloc(ov, last, off, end);
}

void blk_overlay_free(struct blk_overlay *ov)
{
	if (!ov)
		return;
	ovl_map_free(&ov->map);
	if (ov->fd >= 0)
		close(ov->fd);
	free(ov);
}

/* Bytes of fd's extents that it does not share with another file (FIEMAP). 0 or -errno. */
static int overlay_unshared_bytes(int fd, uint64_t *out)
{
	enum { N = 128 };
	struct fiemap *fm = malloc(sizeof(*fm) + N * sizeof(struct fiemap_extent));
	uint64_t start = 0, total = 0;
	int ret = 0;

	if (!fm)
		return -ENOMEM;
	for (bool last = false; !last;) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_extent_count = N;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
			ret = -errno;
			break;
		}
		if (!fm->fm_mapped_extents)
			break;
		for (unsigned int i = 0; i < fm->fm_mapped_extents; i++) {
			const struct fiemap_extent *e = &fm->fm_extents[i];

			if (!(e->fe_flags & FIEMAP_EXTENT_SHARED))
				total += e->fe_length;
			last = e->fe_flags & FIEMAP_EXTENT_LAST;
			start = e->fe_logical + e->fe_length;
		}
	}
	free(fm);
	*out = total;
	return ret;
}

int blk_image_snapshot_info(const struct blk_image *img, struct blk_snapshot_info *out)
{
	const struct blk_overlay *ov = img ? img->overlay : NULL;
	struct stat st;

	if (!ov || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->reflink = ov->reflink;
	if (ov->reflink)
		return overlay_unshared_bytes(img->fd, &out->overlay_bytes);
	if (fstat(ov->fd, &st) < 0)
		return -errno;
	out->overlay_bytes = (uint64_t)st.st_blocks * 512;
	out->cluster = 1u << ov->map.shift;
	out->copy_ups = ov->counters.copy_ups;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Opening a drive image: cache-mode open flags, size and O_DIRECT alignment, with distinct errors. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk_backend.h"
#include "overlay_internal.h"

/* Fallback O_DIRECT alignment when the host does not say: a page is safe on every filesystem. */
#define IMAGE_DIO_FALLBACK 4096u

/* How much of an image blk_image_probe reads at least: every magic it knows lies in it. */
#define IMAGE_PROBE_BYTES 4096u

static bool image_is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* A block device's logical block size (BLKSSZGET), or 0 if it does not say. */
static uint32_t image_bdev_block(int fd)
{
	int ssz;

	if (ioctl(fd, BLKSSZGET, &ssz) < 0 || ssz <= 0 || !image_is_pow2((uint32_t)ssz))
		return 0;
	return (uint32_t)ssz;
}

/* Learn O_DIRECT alignment: statx DIOALIGN (6.1+), else the device's logical block size, else a page. */
static void image_dio_align(int fd, bool block_device, uint32_t *mem, uint32_t *off)
{
	struct statx stx;
	uint32_t ssz;

	memset(&stx, 0, sizeof(stx));
	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 && (stx.stx_mask & STATX_DIOALIGN) &&
	    image_is_pow2(stx.stx_dio_mem_align) && image_is_pow2(stx.stx_dio_offset_align)) {
		*mem = stx.stx_dio_mem_align;
		*off = stx.stx_dio_offset_align;
		return;
	}
	if (block_device && (ssz = image_bdev_block(fd)) != 0) {
		*mem = ssz;
		*off = ssz;
		return;
	}
	*mem = IMAGE_DIO_FALLBACK;
	*off = IMAGE_DIO_FALLBACK;
}

/*
 * As QEMU does: readers share, a writer is alone. flock locks belong to the
 * open file description, so two drives of this process on one image
 * conflict as two processes do. The lock is taken on a description of its
 * own, not on fd: fd is registered with io_uring, whose teardown lets go of
 * it a moment after the ring is closed, and a lock on it outlived vmm by
 * that moment (a vmm started at once on the same image was refused). The
 * new description comes from /proc/self/fd, so it is fd's file even if the
 * path was replaced meanwhile. A filesystem without flock (ENOLCK,
 * EOPNOTSUPP), or no way to open the file again, leaves the image unlocked
 * rather than refused.
 *
 * claim (a block device the guest may write): the lock's description is
 * also opened O_EXCL, which fails with EBUSY if the device is mounted or
 * claimed by another exclusive opener (md, device-mapper, another vmm); a
 * flock would not see a mount. For the same reason as the flock, the claim
 * is not on fd: a claim on the ring's fd outlived vmm too. A claim is never
 * skipped: failing to open the device again refuses the image.
 * 0 and *lock_fd (-1: unlocked), -EBUSY, or (claim) -errno from open.
 */
static int image_lock(int fd, const char *path, bool readonly, bool claim, int *lock_fd)
{
	int flags = O_RDONLY | O_CLOEXEC | (claim ? O_EXCL : 0);
	char proc[32];
	int lfd, err;

	*lock_fd = -1;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	lfd = open(proc, flags);
	if (lfd < 0 && errno != EBUSY)
		lfd = open(path, flags);
	if (lfd < 0)
		return claim ? -errno : 0;
	if (flock(lfd, (readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		err = errno;
		if (err == EWOULDBLOCK) {
			close(lfd);
			return -EBUSY;
		}
		/* No flock here: the claim still holds the device; a file is left unlocked. */
		if (!claim) {
			close(lfd);
			return 0;
		}
	}
	*lock_fd = lfd;
	return 0;
}

/*
 * The size of the open image fd, checked on the fd itself (the path may have
 * been swapped since it was looked at), and its stat in *st: a block
 * device's from BLKGETSIZE64, a file's from fstat. 0, -EISDIR or -ENOTBLK for
 * another type, -EINVAL for a size of 0 or not a multiple of 512, or -errno.
 */
static int image_size(int fd, struct stat *st, uint64_t *size)
{
	if (fstat(fd, st) < 0)
		return -errno;
	if (S_ISBLK(st->st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0)
			return -errno;
	} else if (S_ISREG(st->st_mode)) {
		*size = (uint64_t)st->st_size;
	} else {
		return S_ISDIR(st->st_mode) ? -EISDIR : -ENOTBLK;
	}
	if (*size == 0 || *size % 512)
		return -EINVAL;
	return 0;
}

/* img's O_DIRECT alignment and the logical block it advertises (img->fd and block_device set). */
static void image_blocks(struct blk_image *img, bool direct)
{
	img->logical_block = 512;
	if (direct) {
		image_dio_align(img->fd, img->block_device, &img->dio_mem_align, &img->dio_offset_align);
		if (img->dio_offset_align > img->logical_block)
			img->logical_block = img->dio_offset_align;
	} else {
		img->dio_mem_align = 1;
		img->dio_offset_align = 1;
	}
	/*
	 * A block device's own logical block, in every mode: its fallocate
	 * (DISCARD, WRITE_ZEROES) refuses ranges not aligned to it even when
	 * buffered, and the guest aligns its requests to what it is shown.
	 */
	if (img->block_device) {
		uint32_t lbs = image_bdev_block(img->fd);

		if (lbs > img->logical_block)
			img->logical_block = lbs;
	}
}

int blk_image_open(const char *path, enum blk_cache_mode cache, bool readonly, struct blk_image *img)
{
	struct blk_cache_props props = blk_cache_mode_props(cache);
	struct stat st;
	uint64_t size;
	int flags, fd, ret;

	if (!path || !img || !blk_cache_mode_name(cache))
		return -EINVAL;
	img->fd = -1;
	img->locked = false;
	img->lock_fd = -1;
	img->overlay = NULL;

	/* Type first: a directory must say EISDIR (open O_RDONLY would succeed), a FIFO must not block us. */
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return -ENOTBLK;

	flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	if (props.direct)
		flags |= O_DIRECT;
	/* Not O_EXCL for a block device: image_lock claims it on a description of its own. */
	fd = open(path, flags);
	if (fd < 0) {
		ret = -errno;
		/* open(2): EINVAL with O_DIRECT means the filesystem does not support it. */
		if (ret == -EINVAL && props.direct)
			ret = -ENOTSUP;
		return ret;
	}

	ret = image_size(fd, &st, &size);
	if (ret < 0)
		goto close_fd;
	/* A block device the guest may write must not be in use on the host. */
	ret = image_lock(fd, path, readonly, !readonly && S_ISBLK(st.st_mode), &img->lock_fd);
	if (ret < 0)
		goto close_fd;
	img->locked = img->lock_fd >= 0;

	img->fd = fd;
	img->size = size;
	img->readonly = readonly;
	img->cache = cache;
	img->block_device = S_ISBLK(st.st_mode);
	image_blocks(img, props.direct);
	return 0;

close_fd:
	close(fd);
	return ret;
}

/* A magic number at an offset, and the format whose header it starts. */
struct image_magic {
	const char *format;
	size_t off;
	const char *bytes;
	size_t len;
};

#define IMAGE_MAGIC(fmt, off, lit) { fmt, off, lit, sizeof(lit) - 1 }

/* Headers from each format's specification (QEMU's block drivers probe for the same). */
static const struct image_magic image_magics[] = {
	IMAGE_MAGIC("qcow", 0, "QFI\xfb\0\0\0\1"),             /* version 1 (big-endian) */
	IMAGE_MAGIC("qcow2", 0, "QFI\xfb"),                   /* versions 2 and 3 */
	IMAGE_MAGIC("qed", 0, "QED\0"),
	IMAGE_MAGIC("vmdk", 0, "KDMV"),                        /* sparse extent */
	IMAGE_MAGIC("vmdk", 0, "COWD"),                        /* VMDK3 / ESX sparse extent */
	IMAGE_MAGIC("vmdk", 0, "# Disk DescriptorFile"),       /* descriptor */
	IMAGE_MAGIC("vhdx", 0, "vhdxfile"),
	IMAGE_MAGIC("vhd", 0, "conectix"),                     /* dynamic VHD (QEMU: vpc): its footer copy leads */
	IMAGE_MAGIC("vdi", 0x40, "\x7f\x10\xda\xbe"),         /* 0xbeda107f, little-endian */
	IMAGE_MAGIC("parallels", 0, "WithoutFreeSpace"),
	IMAGE_MAGIC("parallels", 0, "WithouFreSpacExt"),
	IMAGE_MAGIC("bochs", 0, "Bochs Virtual HD Image"),
};

const char *blk_image_format_of(const void *head, size_t len)
{
	for (size_t i = 0; i < sizeof(image_magics) / sizeof(image_magics[0]); i++) {
		const struct image_magic *m = &image_magics[i];

		if (m->off <= len && m->len <= len - m->off &&
		    memcmp((const uint8_t *)head + m->off, m->bytes, m->len) == 0)
			return m->format;
	}
	return NULL;
}

int blk_image_probe(const struct blk_image *img, const char **format)
{
	size_t len = IMAGE_PROBE_BYTES;
	ssize_t n;
	void *buf;

	*format = NULL;
	/* One aligned block for O_DIRECT: both alignments are powers of two, so the largest covers all. */
	if (img->dio_mem_align > len)
		len = img->dio_mem_align;
	if (img->dio_offset_align > len)
		len = img->dio_offset_align;
	if (posix_memalign(&buf, len, len))
		return -ENOMEM;
	do {
		n = pread(img->fd, buf, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = -errno;

		free(buf);
		return err;
	}
	*format = blk_image_format_of(buf, (size_t)n);
	free(buf);
	return 0;
}

void blk_image_dio_align(int fd, bool block_device, uint32_t *mem, uint32_t *off)
{
	image_dio_align(fd, block_device, mem, off);
}

void blk_image_close(struct blk_image *img)
{
	if (!img || img->fd < 0)
		return;
	close(img->fd);
	img->fd = -1;
	if (img->locked)
		close(img->lock_fd);
	img->locked = false;
	if (img->overlay)
		blk_overlay_free(img->overlay);
	img->overlay = NULL;
}

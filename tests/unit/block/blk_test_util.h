/* SPDX-License-Identifier: MIT */
/* Shared helpers for the block unit tests: a scratch directory on a disk filesystem and image files. */
#ifndef VMM_BLK_TEST_UTIL_H
#define VMM_BLK_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

/*
 * mkdtemp a directory on a disk filesystem: $TMPDIR if set and not tmpfs,
 * else /var/tmp (never /tmp, which may be tmpfs without real O_DIRECT). 0 or -errno.
 */
static inline int blk_test_dir_make(char *out, size_t outlen)
{
	const char *cands[2] = { getenv("TMPDIR"), "/var/tmp" };

	for (unsigned int i = 0; i < 2; i++) {
		struct statfs sf;

		if (!cands[i] || !cands[i][0] || statfs(cands[i], &sf) < 0)
			continue;
		if (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC)
			continue;
		if ((size_t)snprintf(out, outlen, "%s/vmm-blk-XXXXXX", cands[i]) >= outlen)
			return -ENAMETOOLONG;
		if (!mkdtemp(out))
			return -errno;
		return 0;
	}
	return -ENOENT;
}

/* Byte i of the test pattern for a given seed: differs at every offset within a block. */
static inline uint8_t blk_test_pattern(uint64_t off, unsigned int seed)
{
	return (uint8_t)((off * 31u + (off >> 9) * 7u + seed * 101u + 1u) & 0xff);
}

static inline void blk_test_fill(void *buf, uint64_t off, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = blk_test_pattern(off + i, seed);
}

/* Create path with size bytes of pattern seed (seed 0: zeros). 0 or -errno. */
static inline int blk_test_file_make(const char *path, uint64_t size, unsigned int seed)
{
	char buf[4096];
	uint64_t off = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	while (off < size) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);

		if (seed)
			blk_test_fill(buf, off, n, seed);
		else
			memset(buf, 0, n);
		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) {
			int err = errno ? -errno : -EIO;

			close(fd);
			return err;
		}
		off += n;
	}
	close(fd);
	return 0;
}

/* Read len bytes at off from path through a fresh buffered fd: the oracle for what is on disk. 0 or -errno. */
static inline int blk_test_file_read(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, (off_t)off);
	close(fd);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Host set-ups the block tests need root for: a ramfs mount (a filesystem
 * with no fallocate at all) and loop devices (block devices with a chosen
 * logical block size, with or without discard). Each returns 0, or a
 * negative errno and a reason in why, for the test to skip with. Everything
 * lives under /var/tmp and is removed by the matching teardown.
 */
#ifndef VMM_BLK_TEST_HOST_H
#define VMM_BLK_TEST_HOST_H

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

/* Mount a fresh ramfs on a new directory under /var/tmp: dir gets its path. */
static inline int blk_test_ramfs_mount(char *dir, size_t len, char *why, size_t whylen)
{
	if (geteuid() != 0) {
		snprintf(why, whylen, "not root, cannot mount a ramfs");
		return -EPERM;
	}
	if ((size_t)snprintf(dir, len, "/var/tmp/vmm-blk-ramfs-XXXXXX") >= len || !mkdtemp(dir)) {
		snprintf(why, whylen, "cannot make a directory under /var/tmp: %s", strerror(errno));
		return -EIO;
	}
	if (mount("vmm-test", dir, "ramfs", 0, NULL) < 0) {
		int err = errno;

		snprintf(why, whylen, "cannot mount a ramfs on %.160s: %s", dir, strerror(err));
		rmdir(dir);
		dir[0] = 0;
		return -err;
	}
	return 0;
}

static inline void blk_test_ramfs_umount(char *dir)
{
	if (!dir[0])
		return;
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	dir[0] = 0;
}

/* A loop device over backing, with logical blocks of block_size bytes. */
struct blk_test_loop {
	int fd;             /* the device, held open until teardown; -1 when none */
	char path[64];      /* /dev/loopN */
};

/*
 * Attach backing to a free loop device (as `losetup --sector-size` does).
 * AUTOCLEAR: the device detaches once the last opener closes it, even if the
 * test dies before its teardown.
 */
static inline int blk_test_loop_attach(struct blk_test_loop *l, const char *backing, unsigned int block_size,
				       char *why, size_t whylen)
{
	int ctl, bfd, err = 0;

	l->fd = -1;
	l->path[0] = 0;
	if (geteuid() != 0) {
		snprintf(why, whylen, "not root, cannot set up a loop device");
		return -EPERM;
	}
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		err = errno;
		snprintf(why, whylen, "no loop devices (/dev/loop-control: %s)", strerror(err));
		return -err;
	}
	bfd = open(backing, O_RDWR | O_CLOEXEC);
	if (bfd < 0) {
		err = errno;
		snprintf(why, whylen, "cannot open %.160s: %s", backing, strerror(err));
		close(ctl);
		return -err;
	}
	/* Another test may take the same free device between our two calls: try again. */
	for (int tries = 0; tries < 16; tries++) {
		struct loop_config cfg;
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (n < 0) {
			err = errno;
			break;
		}
		snprintf(l->path, sizeof(l->path), "/dev/loop%d", n);
		l->fd = open(l->path, O_RDWR | O_CLOEXEC);
		if (l->fd < 0) {
			err = errno;
			break;
		}
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (unsigned int)bfd;
		cfg.block_size = block_size;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (ioctl(l->fd, LOOP_CONFIGURE, &cfg) == 0) {
			err = 0;
			break;
		}
		err = errno;
		close(l->fd);
		l->fd = -1;
		if (err != EBUSY)
			break;
	}
	close(bfd);
	close(ctl);
	if (l->fd < 0) {
		snprintf(why, whylen, "cannot set up a loop device with %u-byte blocks: %s", block_size,
			 strerror(err ? err : EBUSY));
		l->path[0] = 0;
		return -(err ? err : EBUSY);
	}
	return 0;
}

static inline void blk_test_loop_detach(struct blk_test_loop *l)
{
	if (l->fd < 0)
		return;
	ioctl(l->fd, LOOP_CLR_FD, 0);
	close(l->fd);
	l->fd = -1;
}

#endif

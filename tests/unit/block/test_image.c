/* SPDX-License-Identifier: MIT */
/* Unit tests for blk_image_open: distinct errors, open flags per cache mode, geometry, no modification. */
#include <linux/loop.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <cmocka.h>

#include "blk_backend.h"
#include "blk_test_util.h"

struct image_env {
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];
	bool mount_ns;      /* we are in our own mount namespace and may mount */
};

static int env_setup(void **state)
{
	struct image_env *e = calloc(1, sizeof(*e));

	if (!e || blk_test_dir_make(e->dir, sizeof(e->dir)))
		return -1;
	snprintf(e->path, sizeof(e->path), "%s/disk.img", e->dir);
	/* A private mount namespace lets the tests mount ro tmpfs / ramfs without touching the host. */
	if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
		e->mount_ns = true;
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct image_env *e = *state;

	unlink(e->path);
	rmdir(e->dir);
	free(e);
	return 0;
}

static void test_missing(void **state)
{
	struct image_env *e = *state;
	char p[PATH_MAX + 32];
	struct blk_image img;

	snprintf(p, sizeof(p), "%s/does-not-exist.img", e->dir);
	assert_int_equal(blk_image_open(p, BLK_CACHE_WRITEBACK, false, &img), -ENOENT);
	assert_int_equal(blk_image_open(p, BLK_CACHE_NONE, true, &img), -ENOENT);
}

static void test_directory(void **state)
{
	struct image_env *e = *state;
	struct blk_image img;

	/* readonly too: open(O_RDONLY) of a directory succeeds, so the type check must come first. */
	assert_int_equal(blk_image_open(e->dir, BLK_CACHE_WRITEBACK, false, &img), -EISDIR);
	assert_int_equal(blk_image_open(e->dir, BLK_CACHE_WRITEBACK, true, &img), -EISDIR);
	assert_int_equal(blk_image_open(e->dir, BLK_CACHE_NONE, true, &img), -EISDIR);
}

static void test_bad_sizes(void **state)
{
	struct image_env *e = *state;
	static const uint64_t sizes[] = { 0, 1, 511, 1000, 4097 };
	struct blk_image img;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(blk_test_file_make(e->path, sizes[i], 3), 0);
		assert_int_equal(blk_image_open(e->path, BLK_CACHE_WRITEBACK, false, &img), -EINVAL);
		assert_int_equal(blk_image_open(e->path, BLK_CACHE_WRITEBACK, true, &img), -EINVAL);
	}
}

static void test_fifo_refused_without_blocking(void **state)
{
	struct image_env *e = *state;
	char p[PATH_MAX + 32];
	struct blk_image img;

	snprintf(p, sizeof(p), "%s/fifo", e->dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	/* Opening a FIFO with no writer would block; the type check returns first, with its own error. */
	assert_int_equal(blk_image_open(p, BLK_CACHE_WRITEBACK, true, &img), -ENOTBLK);
	assert_int_equal(blk_image_open(p, BLK_CACHE_WRITEBACK, false, &img), -ENOTBLK);
	unlink(p);
	/* A character device is no disk either (and not "a bad size"). */
	assert_int_equal(blk_image_open("/dev/null", BLK_CACHE_WRITEBACK, true, &img), -ENOTBLK);
	assert_int_equal(blk_image_open("/dev/zero", BLK_CACHE_WRITEBACK, true, &img), -ENOTBLK);
}

/* Readers share an image, a writer has it alone; closing releases it. */
static void test_lock(void **state)
{
	struct image_env *e = *state;
	struct blk_image a, b, c;

	assert_int_equal(blk_test_file_make(e->path, 65536, 2), 0);
	/* Two writers. */
	assert_int_equal(blk_image_open(e->path, BLK_CACHE_WRITEBACK, false, &a), 0);
	assert_int_equal(blk_image_open(e->path, BLK_CACHE_NONE, false, &b), -EBUSY);
	assert_int_equal(b.fd, -1);
	/* A reader while a writer has it. */
	assert_int_equal(blk_image_open(e->path, BLK_CACHE_WRITEBACK, true, &b), -EBUSY);
	blk_image_close(&a);
	/* Readers together, but no writer while they are there. */
	assert_int_equal(blk_image_open(e->path, BLK_CACHE_WRITEBACK, true, &a), 0);
	assert_int_equal(blk_image_open(e->path, BLK_CACHE_UNSAFE, true, &b), 0);
	assert_int_equal(blk_image_open(e->path, BLK_CACHE_WRITEBACK, false, &c), -EBUSY);
	blk_image_close(&a);
	assert_int_equal(blk_image_open(e->path, BLK_CACHE_WRITEBACK, false, &c), -EBUSY);
	blk_image_close(&b);
	assert_int_equal(blk_image_open(e->path, BLK_CACHE_WRITEBACK, false, &c), 0);
	blk_image_close(&c);
}

static void test_open_all_modes(void **state)
{
	struct image_env *e = *state;
	const uint64_t size = 1 << 20;
	uint8_t before[4096], after[4096];
	struct stat st0, st1;

	assert_int_equal(blk_test_file_make(e->path, size, 5), 0);
	assert_int_equal(stat(e->path, &st0), 0);
	assert_int_equal(blk_test_file_read(e->path, 0, before, sizeof(before)), 0);
	for (int m = BLK_CACHE_WRITEBACK; m <= BLK_CACHE_UNSAFE; m++) {
		for (int ro = 0; ro <= 1; ro++) {
			struct blk_cache_props p = blk_cache_mode_props((enum blk_cache_mode)m);
			struct blk_image img;
			int fl;

			assert_int_equal(blk_image_open(e->path, (enum blk_cache_mode)m, ro, &img), 0);
			assert_true(img.fd >= 0);
			assert_int_equal(img.size, size);
			assert_int_equal(img.readonly, ro);
			assert_int_equal(img.cache, m);
			assert_false(img.block_device);
			fl = fcntl(img.fd, F_GETFL);
			assert_int_equal(fl & O_ACCMODE, ro ? O_RDONLY : O_RDWR);
			assert_int_equal(!!(fl & O_DIRECT), p.direct);
			assert_true(fcntl(img.fd, F_GETFD) & FD_CLOEXEC);
			if (p.direct) {
				/* Powers of two, and BLK_SIZE never below the O_DIRECT offset alignment. */
				assert_true(img.dio_mem_align >= 1 && !(img.dio_mem_align & (img.dio_mem_align - 1)));
				assert_true(img.dio_offset_align >= 1 && !(img.dio_offset_align & (img.dio_offset_align - 1)));
				assert_int_equal(img.logical_block, img.dio_offset_align > 512 ? img.dio_offset_align : 512);
			} else {
				assert_int_equal(img.dio_mem_align, 1);
				assert_int_equal(img.dio_offset_align, 1);
				assert_int_equal(img.logical_block, 512);
			}
			blk_image_close(&img);
			assert_int_equal(img.fd, -1);
			blk_image_close(&img); /* twice is harmless */
		}
	}
	/* Opening never modifies the file. */
	assert_int_equal(stat(e->path, &st1), 0);
	assert_int_equal(st1.st_size, st0.st_size);
	assert_int_equal(blk_test_file_read(e->path, 0, after, sizeof(after)), 0);
	assert_memory_equal(before, after, sizeof(before));
}

/* Make dir a fresh mount of fstype in our namespace. */
static int mount_scratch(struct image_env *e, const char *fstype, char *dir, size_t dirlen)
{
	snprintf(dir, dirlen, "%s/%s", e->dir, fstype);
	if (mkdir(dir, 0700) < 0)
		return -errno;
	if (mount("vmm-test", dir, fstype, 0, NULL) < 0) {
		int err = -errno;

		rmdir(dir);
		return err;
	}
	return 0;
}

static void unmount_scratch(const char *dir)
{
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

/* The headers blk_image_format_of knows, and raw starts it must not mistake for them. */
static void test_format_of(void **state)
{
	static const struct {
		size_t off;
		const char *bytes;
		size_t len;
		const char *format;
	} t[] = {
		{ 0, "QFI\xfb\0\0\0\3", 8, "qcow2" },
		{ 0, "QFI\xfb\0\0\0\2", 8, "qcow2" },
		{ 0, "QFI\xfb\0\0\0\1", 8, "qcow" },
		{ 0, "QED\0", 4, "qed" },
		{ 0, "KDMV\1\0\0\0", 8, "vmdk" },
		{ 0, "COWD\1\0\0\0", 8, "vmdk" },
		{ 0, "Bochs Virtual HD Image", 22, "bochs" },
		{ 0, "# Disk DescriptorFile\nversion=1\n", 32, "vmdk" },
		{ 0, "vhdxfile", 8, "vhdx" },
		{ 0, "conectix", 8, "vhd" },
		{ 0x40, "\x7f\x10\xda\xbe", 4, "vdi" },
		{ 0, "WithoutFreeSpace", 16, "parallels" },
		{ 0, "WithouFreSpacExt", 16, "parallels" },
		/* Raw: zeros, a DOS boot sector, a LUKS header (the guest may unlock it), magic not at 0. */
		{ 0, "", 0, NULL },
		{ 0, "\xeb\x63\x90", 3, NULL },
		{ 0, "LUKS\xba\xbe\0\1", 8, NULL },
		{ 1, "QFI\xfb", 4, NULL },
		{ 0, "QFI", 3, NULL },
		{ 0, "QEDX", 4, NULL },
		{ 0x41, "\x7f\x10\xda\xbe", 4, NULL },
	};
	uint8_t buf[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *got;

		memset(buf, 0, sizeof(buf));
		buf[510] = 0x55;
		buf[511] = 0xAA;
		memcpy(buf + t[i].off, t[i].bytes, t[i].len);
		got = blk_image_format_of(buf, sizeof(buf));
		if (t[i].format)
			assert_string_equal(got, t[i].format);
		else
			assert_null(got);
	}
	/* A header cut short by the end of the buffer is not that header. */
	memcpy(buf, "vhdxfile", 8);
	assert_null(blk_image_format_of(buf, 7));
	assert_string_equal(blk_image_format_of(buf, 8), "vhdx");
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 0x40, "\x7f\x10\xda\xbe", 4);
	assert_null(blk_image_format_of(buf, 0x43));
	assert_string_equal(blk_image_format_of(buf, 0x44), "vdi");
	assert_null(blk_image_format_of(buf, 0));
}

/*
 * A loop device over path: its node in dev and an fd of it, whose close
 * detaches it, or -1 when none can be made (not root, no loop driver).
 */
static int loop_attach(const char *path, char *dev, size_t n)
{
	/* Detached by the kernel when the last fd closes, so a failed assertion leaves no loop device behind. */
	struct loop_info64 info = { .lo_flags = LO_FLAGS_AUTOCLEAR };
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	int nr, lfd, ffd, r;

	if (ctl < 0)
		return -1;
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (nr < 0)
		return -1;
	snprintf(dev, n, "/dev/loop%d", nr);
	lfd = open(dev, O_RDWR | O_CLOEXEC);
	if (lfd < 0)
		return -1;
	ffd = open(path, O_RDWR | O_CLOEXEC);
	r = ffd < 0 ? -1 : ioctl(lfd, LOOP_SET_FD, ffd);
	if (ffd >= 0)
		close(ffd);
	if (r < 0) {
		close(lfd);
		return -1;
	}
	ioctl(lfd, LOOP_SET_STATUS64, &info);
	return lfd;
}

/*
 * A block device the guest could write is refused while the host uses it:
 * held here by an O_EXCL open, which claims the device as a mount does.
 * Reading it stays allowed.
 */
static void test_block_device_in_use(void **state)
{
	struct image_env *e = *state;
	struct blk_image img;
	char dev[64];
	int lfd, holder;

	assert_int_equal(blk_test_file_make(e->path, 1 << 20, 3), 0);
	lfd = loop_attach(e->path, dev, sizeof(dev));
	if (lfd < 0) {
		print_message("skipping: cannot set up a loop device (needs root and the loop driver)\n");
		skip();
	}
	assert_int_equal(blk_image_open(dev, BLK_CACHE_WRITEBACK, false, &img), 0);
	assert_true(img.block_device);
	assert_int_equal(img.size, 1 << 20);
	blk_image_close(&img);

	holder = open(dev, O_RDONLY | O_EXCL | O_CLOEXEC);
	assert_true(holder >= 0);
	assert_int_equal(blk_image_open(dev, BLK_CACHE_WRITEBACK, false, &img), -EBUSY);
	assert_int_equal(blk_image_open(dev, BLK_CACHE_NONE, false, &img), -EBUSY);
	assert_int_equal(blk_image_open(dev, BLK_CACHE_WRITEBACK, true, &img), 0);
	blk_image_close(&img);
	close(holder);

	/* Released: writable again, and a writer holds the claim itself. */
	assert_int_equal(blk_image_open(dev, BLK_CACHE_WRITEBACK, false, &img), 0);
	holder = open(dev, O_RDONLY | O_EXCL | O_CLOEXEC);
	assert_true(holder < 0 && errno == EBUSY);
	blk_image_close(&img);
	close(lfd);
}

/* blk_image_probe reads an open image, buffered or O_DIRECT, and never writes it. */
static void test_probe(void **state)
{
	struct image_env *e = *state;
	static const uint8_t qcow2[8] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
	uint8_t before[4096], after[4096];
	const char *format;
	int fd;

	for (int m = BLK_CACHE_WRITEBACK; m <= BLK_CACHE_NONE; m++) {
		struct blk_image img;

		assert_int_equal(blk_test_file_make(e->path, 1 << 20, 7), 0);
		assert_int_equal(blk_image_open(e->path, (enum blk_cache_mode)m, false, &img), 0);
		format = "x";
		assert_int_equal(blk_image_probe(&img, &format), 0);
		assert_null(format);
		blk_image_close(&img);

		fd = open(e->path, O_WRONLY);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, qcow2, sizeof(qcow2), 0), (ssize_t)sizeof(qcow2));
		close(fd);
		assert_int_equal(blk_test_file_read(e->path, 0, before, sizeof(before)), 0);
		assert_int_equal(blk_image_open(e->path, (enum blk_cache_mode)m, true, &img), 0);
		assert_int_equal(blk_image_probe(&img, &format), 0);
		assert_string_equal(format, "qcow2");
		blk_image_close(&img);
		assert_int_equal(blk_test_file_read(e->path, 0, after, sizeof(after)), 0);
		assert_memory_equal(before, after, sizeof(before));
	}
}

static void test_odirect_refused(void **state)
{
	struct image_env *e = *state;
	char dir[PATH_MAX + 32], p[PATH_MAX + 64];
	struct blk_image img;
	int fd;

	/* ramfs has no O_DIRECT; tmpfs only lost that refusal in Linux 6.6, so /dev/shm is the fallback. */
	if (e->mount_ns && mount_scratch(e, "ramfs", dir, sizeof(dir)) == 0) {
		snprintf(p, sizeof(p), "%s/disk.img", dir);
	} else {
		dir[0] = '\0';
		snprintf(p, sizeof(p), "/dev/shm/vmm-blk-test-%d.img", (int)getpid());
	}
	assert_int_equal(blk_test_file_make(p, 65536, 1), 0);
	fd = open(p, O_RDONLY | O_DIRECT);
	if (fd >= 0) {
		close(fd);
		unlink(p);
		if (dir[0])
			unmount_scratch(dir);
		print_message("skipping: no filesystem here refuses O_DIRECT (tmpfs accepts it since 6.6, ramfs not mountable)\n");
		skip();
	}
	assert_int_equal(blk_image_open(p, BLK_CACHE_NONE, false, &img), -ENOTSUP);
	assert_int_equal(blk_image_open(p, BLK_CACHE_DIRECTSYNC, true, &img), -ENOTSUP);
	/* The same file is fine through the page cache. */
	assert_int_equal(blk_image_open(p, BLK_CACHE_WRITEBACK, false, &img), 0);
	blk_image_close(&img);
	unlink(p);
	if (dir[0])
		unmount_scratch(dir);
}

static void test_readonly_mount(void **state)
{
	struct image_env *e = *state;
	char dir[PATH_MAX + 32], p[PATH_MAX + 64];
	struct blk_image img;
	int ret;

	/* As root chmod 0444 does not stop open(O_RDWR); a read-only mount does. */
	if (!e->mount_ns || mount_scratch(e, "tmpfs", dir, sizeof(dir)) != 0) {
		print_message("skipping: cannot create a private mount namespace to mount a read-only tmpfs\n");
		skip();
	}
	snprintf(p, sizeof(p), "%s/disk.img", dir);
	assert_int_equal(blk_test_file_make(p, 65536, 1), 0);
	assert_int_equal(mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0);

	ret = blk_image_open(p, BLK_CACHE_WRITEBACK, false, &img);
	assert_true(ret == -EROFS || ret == -EACCES);
	/* Asked for read-only, the same file opens. */
	assert_int_equal(blk_image_open(p, BLK_CACHE_WRITEBACK, true, &img), 0);
	assert_int_equal(img.size, 65536);
	blk_image_close(&img);
	unmount_scratch(dir);
}

static void test_bad_args(void **state)
{
	struct image_env *e = *state;
	struct blk_image img;

	assert_int_equal(blk_test_file_make(e->path, 4096, 1), 0);
	assert_int_equal(blk_image_open(e->path, (enum blk_cache_mode)17, false, &img), -EINVAL);
	assert_int_equal(blk_image_open(NULL, BLK_CACHE_WRITEBACK, false, &img), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_fifo_refused_without_blocking),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_open_all_modes),
		cmocka_unit_test(test_odirect_refused),
		cmocka_unit_test(test_readonly_mount),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_format_of),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_block_device_in_use),
	};

	return cmocka_run_group_tests(tests, env_setup, env_teardown);
}

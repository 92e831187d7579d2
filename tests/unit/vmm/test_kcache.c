/* SPDX-License-Identifier: MIT */
/* The kernel cache and the payload decoder, over synthetic bzImages: hit, miss, bad entries, unwritable directories, hostile payloads. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bzimage_wrap.h"
#include "kcache.h"

#define UNIT_TMPDIR_NAME "vmm-kcache-test"
#include "../unit_tmpdir.h"

static const enum boot_pack kinds[] = { BOOT_PACK_GZIP, BOOT_PACK_XZ, BOOT_PACK_ZSTD };

/* A fake ELF "kernel": an ELF64 header, then bytes that compress (and must come back) exactly. */
static uint8_t elf[300000];

static void elf_make(void)
{
	static const uint8_t ident[] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };

	for (size_t i = 0; i < sizeof(elf); i++)
		elf[i] = (uint8_t)((i * 7) ^ (i >> 9));
	memcpy(elf, ident, sizeof(ident));
}

struct image {
	uint8_t *b;
	size_t len, pay_off, pay_len;
	struct boot_file f;
	struct boot_payload p;
};

static void image_make(struct image *im, enum boot_pack kind)
{
	im->b = bzimage_wrap(kind, elf, sizeof(elf), (const uint8_t *)"\xf4", 1, &im->len, &im->pay_off, &im->pay_len);
	assert_non_null(im->b);
	boot_file_mem(&im->f, im->b, im->len);
	im->p = (struct boot_payload){ .off = im->pay_off, .len = im->pay_len, .max_out = 1 << 20 };
}

/* Whether fd holds exactly elf. */
static void fd_is_elf(int fd)
{
	uint8_t *buf = malloc(sizeof(elf) + 1);

	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, sizeof(elf) + 1, 0), sizeof(elf));
	assert_memory_equal(buf, elf, sizeof(elf));
	free(buf);
}

static void test_unpack_each_kind(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct boot_unpack *u;
		struct image im;
		uint8_t *out = malloc(sizeof(elf) + 64);
		uint64_t got = 0;

		image_make(&im, kinds[i]);
		assert_int_equal(boot_pack_detect(im.b + im.pay_off, 16), kinds[i]);
		assert_int_equal(boot_unpack_open(kinds[i], &im.f, im.p.off, im.p.len, &u), 0);
		/* Asking for more than there is: the stream ends at its own end, before the size trailer. */
		assert_int_equal(boot_unpack_read(u, out, sizeof(elf) + 64, &got), 0);
		assert_int_equal(got, sizeof(elf));
		assert_true(boot_unpack_ended(u));
		assert_memory_equal(out, elf, sizeof(elf));
		boot_unpack_close(u);

		/* Cut short: the range ends 40 bytes into the stream. */
		assert_int_equal(boot_unpack_open(kinds[i], &im.f, im.p.off, 40, &u), 0);
		assert_int_equal(boot_unpack_read(u, out, sizeof(elf), &got), -EINVAL);
		assert_false(boot_unpack_ended(u));
		boot_unpack_close(u);
		free(out);
		free(im.b);
	}
}

static void test_unpack_garbage(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct boot_unpack *u;
		struct image im;
		uint8_t *out = malloc(sizeof(elf));
		uint64_t got = 0;
		int r;

		image_make(&im, kinds[i]);
		/* Past the magic and headers: every byte of the body flipped. */
		for (size_t j = 24; j < im.pay_len - 4; j++)
			im.b[im.pay_off + j] ^= 0x5a;
		assert_int_equal(boot_unpack_open(kinds[i], &im.f, im.p.off, im.p.len, &u), 0);
		r = boot_unpack_read(u, out, sizeof(elf), &got);
		assert_int_equal(r, -EINVAL);
		boot_unpack_close(u);
		free(out);
		free(im.b);
	}
	assert_int_equal(boot_pack_detect("BZh91AY", 7), BOOT_PACK_OTHER);
	assert_int_equal(boot_pack_detect("\x7f" "ELF", 4), BOOT_PACK_NONE);
}

/* Look im up in dir: the return, and *note. */
static int get(const char *dir, struct image *im, struct kcache_note *note, int *fd)
{
	uint64_t size = 0;
	int r;

	*fd = -1;
	r = kcache_entry_get(dir, &im->f, &im->p, note, fd, &size);
	if (r == 0)
		assert_int_equal(size, sizeof(elf));
	return r;
}

static void test_cache_miss_then_hit(void **state)
{
	char dir[256];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/a/b/kernels", tmpdir);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct kcache_note note;
		struct image im;
		int fd;

		image_make(&im, kinds[i]);
		assert_int_equal(get(dir, &im, &note, &fd), 0);
		assert_int_equal(note.state, KCACHE_MISS);
		assert_int_equal(note.kind, kinds[i]);
		fd_is_elf(fd);
		close(fd);
		assert_int_equal(get(dir, &im, &note, &fd), 0);
		assert_int_equal(note.state, KCACHE_HIT);
		fd_is_elf(fd);
		close(fd);
		free(im.b);
	}
}

static void test_cache_bad_entry(void **state)
{
	struct kcache_note note;
	struct image im;
	char dir[256];
	int fd, w;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/bad", tmpdir);
	image_make(&im, BOOT_PACK_XZ);
	assert_int_equal(get(dir, &im, &note, &fd), 0);
	close(fd);
	/* Cut short: a miss, and made again. */
	assert_int_equal(truncate(note.path, 1000), 0);
	assert_int_equal(get(dir, &im, &note, &fd), 0);
	assert_int_equal(note.state, KCACHE_MISS);
	fd_is_elf(fd);
	close(fd);
	/* Not an ELF header: a miss too. */
	w = open(note.path, O_WRONLY);
	assert_true(w >= 0);
	assert_int_equal(pwrite(w, "MZ", 2, 0), 2);
	close(w);
	assert_int_equal(get(dir, &im, &note, &fd), 0);
	assert_int_equal(note.state, KCACHE_MISS);
	fd_is_elf(fd);
	close(fd);
	kcache_entry_drop(note.path);
	assert_int_equal(access(note.path, F_OK), -1);
	free(im.b);
}

static void test_cache_unwritable(void **state)
{
	struct kcache_note note;
	struct image im;
	char dir[256];
	int fd;

	(void)state;
	image_make(&im, BOOT_PACK_GZIP);
	/* A regular file where a directory should be: cannot be made. */
	snprintf(dir, sizeof(dir), "%s/file", tmpdir);
	close(open(dir, O_CREAT | O_WRONLY, 0600));
	strcat(dir, "/kernels");
	assert_int_equal(get(dir, &im, &note, &fd), -ENOTDIR);
	assert_int_equal(note.state, KCACHE_FALLBACK);
	assert_string_equal(note.why, "cannot make the directory");
	/* A directory no one may create files in, root included. */
	assert_true(get("/proc/self/fdinfo", &im, &note, &fd) < 0);
	assert_int_equal(note.state, KCACHE_FALLBACK);
	assert_int_equal(fd, -1);
	free(im.b);
}

static void test_cache_hostile_payloads(void **state)
{
	struct kcache_note note;
	struct image im;
	char dir[256];
	uint32_t v;
	int fd;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/hostile", tmpdir);
	/* A size trailer beyond what the kernel's init_size allows. */
	image_make(&im, BOOT_PACK_ZSTD);
	im.p.max_out = sizeof(elf) - 1;
	assert_int_equal(get(dir, &im, &note, &fd), -EINVAL);
	assert_int_equal(note.state, KCACHE_FALLBACK);
	/* A trailer that says less than the payload unpacks to (a "bomb"): stopped there. */
	im.p.max_out = 1 << 20;
	v = sizeof(elf) / 2;
	memcpy(im.b + im.pay_off + im.pay_len - 4, &v, 4);
	assert_int_equal(get(dir, &im, &note, &fd), -EINVAL);
	assert_int_equal(note.state, KCACHE_FALLBACK);
	/* ...or more. */
	v = sizeof(elf) + 1;
	memcpy(im.b + im.pay_off + im.pay_len - 4, &v, 4);
	assert_int_equal(get(dir, &im, &note, &fd), -EINVAL);
	free(im.b);
	/* A payload that unpacks to something other than an ELF file. */
	elf[0] = 'X';
	image_make(&im, BOOT_PACK_GZIP);
	elf[0] = 0x7f;
	assert_int_equal(get(dir, &im, &note, &fd), -ENOEXEC);
	assert_int_equal(note.state, KCACHE_FALLBACK);
	/* A compressor vmm does not unpack: not an error, nothing to do. */
	memcpy(im.b + im.pay_off, "BZh9", 4);
	assert_int_equal(get(dir, &im, &note, &fd), -ENOTSUP);
	assert_int_equal(note.state, KCACHE_NONE);
	free(im.b);
	/* Nothing left behind by the failures. */
	assert_int_equal(system("test -z \"$(ls -A /tmp/vmm-kcache-test-*/hostile)\""), 0);
}

static void test_cache_dir_resolve(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(kcache_dir_resolve("/x/y", out, sizeof(out)), 0);
	assert_string_equal(out, "/x/y");
	setenv("XDG_CACHE_HOME", "/xdg", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(kcache_dir_resolve(NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "/xdg/vmm/kernels");
	setenv("XDG_CACHE_HOME", "relative", 1);   /* the XDG spec: ignored unless absolute */
	assert_int_equal(kcache_dir_resolve(NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "/home/u/.cache/vmm/kernels");
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	assert_int_equal(kcache_dir_resolve(NULL, out, sizeof(out)), -ENOENT);
	assert_int_equal(kcache_dir_resolve("/x", out, 2), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unpack_each_kind),
		cmocka_unit_test(test_unpack_garbage),
		cmocka_unit_test(test_cache_miss_then_hit),
		cmocka_unit_test(test_cache_bad_entry),
		cmocka_unit_test(test_cache_unwritable),
		cmocka_unit_test(test_cache_hostile_payloads),
		cmocka_unit_test(test_cache_dir_resolve),
	};

	elf_make();
	return cmocka_run_group_tests(tests, tmpdir_make, tmpdir_remove);
}

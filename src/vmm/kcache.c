/* SPDX-License-Identifier: MIT */
/* The kernel cache: find a compressed kernel's unpacked payload on disk, or unpack it there once. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kcache.h"

#define KCACHE_CHUNK (1u << 20)   /* unpacked and written (or hashed) this much at a time */

const char *kcache_state_name(enum kcache_state s)
{
	switch (s) {
	case KCACHE_OFF:      return "off";
	case KCACHE_NONE:     return "none";
	case KCACHE_HIT:      return "hit";
	case KCACHE_MISS:     return "miss";
	case KCACHE_FALLBACK: break;
	}
	return "fallback";
}

int kcache_dir_resolve(const char *dir, char *out, size_t n)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int len;

	if (dir)
		len = snprintf(out, n, "%s", dir);
	else if (xdg && xdg[0] == '/')
		len = snprintf(out, n, "%s/vmm/kernels", xdg);
	else if (home && home[0] == '/')
		len = snprintf(out, n, "%s/.cache/vmm/kernels", home);
	else
		return -ENOENT;
	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

int kcache_note_fallback(struct kcache_note *note, int err, const char *why)
{
	note->state = KCACHE_FALLBACK;
	note->err = err;
	note->why = why;
	return err;
}

/* mkdir -p path, new components mode 0700: 0 or -errno (-ENOTDIR where a component is not a directory). */
static int dir_make(const char *path)
{
	char buf[4096];
	size_t len = strlen(path);
	struct stat st;

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (stat(buf, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		buf[i] = path[i];
	}
	return 0;
}

/* The entry name for f: hex SHA-256 of all of f, and its size. 0 or f->read's -errno. */
static int entry_name(const struct boot_file *f, char *name, size_t n)
{
	struct boot_sha256 s;
	uint8_t digest[BOOT_SHA256_LEN];
	uint8_t *buf = malloc(KCACHE_CHUNK);
	size_t pos = 0;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	boot_sha256_init(&s);
	for (uint64_t off = 0; off < f->size; off += KCACHE_CHUNK) {
		uint64_t len = f->size - off < KCACHE_CHUNK ? f->size - off : KCACHE_CHUNK;

		r = f->read(f, buf, len, off);
		if (r < 0)
			goto free_buf;
		boot_sha256_update(&s, buf, len);
	}
	boot_sha256_final(&s, digest);
	for (unsigned int i = 0; i < BOOT_SHA256_LEN; i++)
		pos += (size_t)snprintf(name + pos, n - pos, "%02x", digest[i]);
	snprintf(name + pos, n - pos, "-%llu.vmlinux", (unsigned long long)f->size);
free_buf:
	free(buf);
	return r;
}

/* Whether p (len bytes, the start of an unpacked payload) is an ELF64 header, as vmlinux.bin is. */
static bool elf_head_ok(const uint8_t *p, size_t len)
{
	return len >= sizeof(Elf64_Ehdr) && memcmp(p, ELFMAG, SELFMAG) == 0 && p[EI_CLASS] == ELFCLASS64 &&
	       p[EI_DATA] == ELFDATA2LSB && p[EI_VERSION] == EV_CURRENT;
}

/* Open entry name in dirfd if it looks whole (size want, an ELF64 header): the fd, or -1 (a miss). */
static int entry_open(int dirfd, const char *name, uint64_t want)
{
	uint8_t head[sizeof(Elf64_Ehdr)];
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == want &&
	    pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) && elf_head_ok(head, sizeof(head)))
		return fd;
	close(fd);
	return -1;
}

/* write all of len bytes: 0 or -errno. */
static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Unpack p of f into fd: exactly want bytes, an ELF64 first. 0, or -errno with note's why. */
static int entry_fill(const struct boot_file *f, const struct boot_payload *p, uint64_t want, int fd,
		      struct kcache_note *note)
{
	struct boot_unpack *u = NULL;
	uint8_t *buf = malloc(KCACHE_CHUNK);
	uint64_t total = 0, got;
	int r;

	if (!buf)
		return kcache_note_fallback(note, -ENOMEM, "out of memory");
	r = boot_unpack_open(note->kind, f, p->off, p->len, &u);
	if (r < 0) {
		kcache_note_fallback(note, r, "cannot start the decoder");
		goto free_buf;
	}
	/* Ask for one byte more than the trailer says, to catch a payload that unpacks to more. */
	while (!boot_unpack_ended(u) && total <= want) {
		uint64_t ask = want + 1 - total < KCACHE_CHUNK ? want + 1 - total : KCACHE_CHUNK;

		r = boot_unpack_read(u, buf, ask, &got);
		if (r < 0) {
			kcache_note_fallback(note, r, r == -EINVAL ? "its payload is corrupt or cut short" : "cannot unpack its payload");
			goto close_unpack;
		}
		if (total == 0 && !elf_head_ok(buf, got)) {
			r = kcache_note_fallback(note, -ENOEXEC, "its payload does not unpack to an ELF file");
			goto close_unpack;
		}
		total += got;
		r = total > want ? 0 : write_all(fd, buf, got);
		if (r < 0) {
			kcache_note_fallback(note, r, "cannot write the entry");
			goto close_unpack;
		}
	}
	if (total != want) {
		r = kcache_note_fallback(note, -EINVAL, "its payload unpacks to another size than its size trailer says");
		goto close_unpack;
	}
	/* Durable before it has its name: a torn entry after a crash would pass the size check. */
	r = fdatasync(fd) < 0 ? kcache_note_fallback(note, -errno, "cannot write the entry") : 0;
close_unpack:
	boot_unpack_close(u);
free_buf:
	free(buf);
	return r;
}

/* Unpack into a temporary name in dirfd and rename it to name: the fd, or -errno with note. */
static int entry_make(int dirfd, const char *name, const struct boot_file *f, const struct boot_payload *p,
		      uint64_t want, struct kcache_note *note)
{
	char tmp[192];
	int fd, r;

	snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", name, (long)getpid());
	unlinkat(dirfd, tmp, 0);   /* left by an earlier vmm of this pid that was killed mid-write */
	fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return kcache_note_fallback(note, -errno, "cannot write in the directory");
	r = entry_fill(f, p, want, fd, note);
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = kcache_note_fallback(note, -errno, "cannot rename the entry into place");
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		close(fd);
		return r;
	}
	return fd;
}

/* The payload's compressor and Linux's size trailer (its last 4 bytes, little-endian). 0 or -errno with note. */
static int payload_probe(const struct boot_file *f, const struct boot_payload *p, uint64_t *want,
			 struct kcache_note *note)
{
	uint8_t magic[16] = { 0 }, tail[4];
	int r;

	note->state = KCACHE_NONE;
	if (p->len < 8)
		return -ENOTSUP;
	r = f->read(f, magic, p->len < sizeof(magic) ? p->len : sizeof(magic), p->off);
	if (r < 0)
		return kcache_note_fallback(note, r, "cannot read its payload");
	note->kind = boot_pack_detect(magic, sizeof(magic));
	if (note->kind != BOOT_PACK_GZIP && note->kind != BOOT_PACK_XZ && note->kind != BOOT_PACK_ZSTD)
		return -ENOTSUP;
	r = f->read(f, tail, sizeof(tail), p->off + p->len - sizeof(tail));
	if (r < 0)
		return kcache_note_fallback(note, r, "cannot read its payload");
	*want = (uint64_t)tail[0] | (uint64_t)tail[1] << 8 | (uint64_t)tail[2] << 16 | (uint64_t)tail[3] << 24;
	if (*want < sizeof(Elf64_Ehdr) || *want > p->max_out)
		return kcache_note_fallback(note, -EINVAL, "its payload's size trailer is implausible (beyond init_size)");
	return 0;
}

int kcache_entry_get(const char *dir, const struct boot_file *f, const struct boot_payload *p,
		     struct kcache_note *note, int *fd, uint64_t *size)
{
	char name[128];
	uint64_t want = 0;
	int dirfd, r;

	note->err = 0;
	note->why = NULL;
	snprintf(note->path, sizeof(note->path), "%s", dir);
	r = payload_probe(f, p, &want, note);
	if (r < 0)
		return r;
	r = dir_make(dir);
	if (r < 0)
		return kcache_note_fallback(note, r, "cannot make the directory");
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return kcache_note_fallback(note, -errno, "cannot open the directory");
	r = entry_name(f, name, sizeof(name));
	if (r < 0) {
		kcache_note_fallback(note, r, "cannot read the kernel");
		goto close_dir;
	}
	snprintf(note->path, sizeof(note->path), "%s/%s", dir, name);
	r = entry_open(dirfd, name, want);
	note->state = KCACHE_HIT;
	if (r < 0) {
		note->state = KCACHE_MISS;
		r = entry_make(dirfd, name, f, p, want, note);
	}
	if (r >= 0) {
		*fd = r;
		*size = want;
		r = 0;
	}
close_dir:
	close(dirfd);
	return r;
}

void kcache_entry_drop(const char *path)
{
	unlink(path);
}

/* SPDX-License-Identifier: MIT */
/* Booting, the arch-neutral half: open and read the kernel and initrd, assemble the command line; the arch room places them. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot.h"
#include "vm_internal.h"

/* Open a user-supplied input file read-only: an fd and its stat, or -errno (-EISDIR for a directory). */
static int vm_file_open(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (S_ISDIR(st->st_mode)) {
		close(fd);
		return -EISDIR;
	}
	return fd;
}

/* Read size bytes at offset off into dst: 0, -errno, or -ENODATA if the file ended first (it shrank meanwhile). */
static int vm_file_read_at(int fd, void *dst, uint64_t size, uint64_t off)
{
	uint64_t done = 0;

	while (done < size) {
		ssize_t n = pread(fd, (char *)dst + done, size - done, off + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		done += n;
	}
	return 0;
}

/* ctx is the file descriptor's int. */
static int vm_kernel_read(const struct boot_file *f, void *dst, uint64_t len, uint64_t off)
{
	const int *fd = f->ctx;

	return vm_file_read_at(*fd, dst, len, off);
}

/*
 * The loader's view of the file vm_kernel_open opened, and of the file given
 * (in *packed, which must outlive *f) when the kernel cache unpacked it.
 */
static void vm_kernel_file(const struct vm_kernel_image *image, struct boot_file *f, struct boot_file *packed)
{
	*f = (struct boot_file){ .head = image->head, .head_len = image->head_len, .size = image->size,
				 .read = vm_kernel_read, .ctx = &image->fd };
	if (image->packed_fd < 0)
		return;
	*packed = (struct boot_file){ .head = image->packed_head, .head_len = image->packed_head_len,
				      .size = image->packed_size, .read = vm_kernel_read, .ctx = &image->packed_fd };
	f->packed = packed;
}

/* Read the head of kernel file fd (size bytes) into a new buffer: 0 with *head (to free) and *len, or -errno. */
static int vm_kernel_head_read(int fd, uint64_t size, void **head, size_t *len)
{
	size_t n = size < BOOT_FILE_HEAD_MAX ? (size_t)size : BOOT_FILE_HEAD_MAX;
	void *buf = malloc(n);
	int r;

	if (!buf)
		return -ENOMEM;
	r = vm_file_read_at(fd, buf, n, 0);
	if (r < 0) {
		free(buf);
		return r;
	}
	*head = buf;
	*len = n;
	return 0;
}

/*
 * Open the kernel file and read its head, the bytes that hold every header
 * the loader looks at, into a private buffer: the headers are checked once
 * and the same copy drives the load, however the file changes meanwhile (a
 * mapping would show the changes, or raise SIGBUS if it shrank). The rest is
 * read straight into guest RAM by the arch's loader, through the open fd.
 */
static int vm_kernel_open(const char *path, struct vm_kernel_image *image)
{
	struct stat st;
	int fd = vm_file_open(path, &st);
	size_t len;
	void *head;
	int r;

	if (fd < 0)
		return fd;
	r = st.st_size == 0 ? -ENOEXEC : vm_kernel_head_read(fd, st.st_size, &head, &len);
	if (r < 0) {
		close(fd);
		return r;
	}
	*image = (struct vm_kernel_image){ .fd = fd, .size = st.st_size, .head = head, .head_len = len, .packed_fd = -1 };
	return 0;
}

void vm_kernel_image_free(struct vm_kernel_image *image)
{
	free(image->head);
	if (image->fd >= 0)
		close(image->fd);
	free(image->packed_head);
	if (image->packed_fd >= 0)
		close(image->packed_fd);
	*image = (struct vm_kernel_image)VM_KERNEL_IMAGE_INIT;
}

/*
 * Boot the unpacked payload of kernel k, from the kernel cache, in its place
 * (docs/guest.md): on success image holds the unpacked file with the given one
 * as packed_*, and *k is the arch's judgement of it. Whatever fails leaves the
 * kernel as given; image->cache says what happened either way.
 */
static void vm_kernel_unpack(const struct vm_config *cfg, const struct gmem *layout, struct vm_kernel_image *image,
			     struct arch_kernel **k)
{
	struct kcache_note *note = &image->cache;
	struct vm_kernel_image given = *image;
	struct arch_kernel *uk = NULL;
	struct boot_file f, packed;
	struct boot_payload p;
	struct vm_error uerr;
	char dir[4096];
	uint64_t size;
	int fd, r;

	memset(note, 0, sizeof(*note));
	note->state = KCACHE_OFF;
	if (cfg->kernel_cache_off)
		return;
	note->state = KCACHE_NONE;
	vm_kernel_file(image, &f, &packed);
	if (arch_kernel_payload(*k, &f, &p) < 0)
		return;
	r = kcache_dir_resolve(cfg->kernel_cache, dir, sizeof(dir));
	if (r < 0) {
		kcache_note_fallback(note, r, "no directory for it: neither XDG_CACHE_HOME nor HOME is set "
					      "(--kernel-cache DIR names one)");
		return;
	}
	if (kcache_entry_get(dir, &f, &p, note, &fd, &size) < 0)
		return;
	/* The unpacked file is opened as vm_kernel_open would, the given one kept as its packed_*. */
	image->fd = fd;
	image->size = size;
	image->packed_fd = given.fd;
	image->packed_size = given.size;
	image->packed_head = given.head;
	image->packed_head_len = given.head_len;
	image->head = NULL;   /* given.head is the given file's; this one's is read next */
	r = vm_kernel_head_read(fd, size, &image->head, &image->head_len);
	if (r == 0) {
		vm_kernel_file(image, &f, &packed);
		r = arch_kernel_check(layout, cfg->memory, &f, &uk, &uerr);
		if (r < 0)
			kcache_entry_drop(note->path);   /* not what the next boot should find either */
	}
	if (r < 0) {
		free(image->head);
		close(fd);
		kcache_note_fallback(note, r, "the loader refused what the payload unpacked to");
		given.cache = *note;
		*image = given;
		return;
	}
	arch_kernel_free(*k);
	*k = uk;
}

/* Read the initrd straight into guest RAM at the place the arch allows for kernel k. */
static int vm_initrd_load(struct vm *vm, const struct arch_kernel *k, uint64_t *gpa, uint64_t *size,
			  struct vm_error *err)
{
	const char *path = vm->cfg->initrd;
	struct stat st;
	int fd = vm_file_open(path, &st);
	int r;
	char *dst;

	if (fd < 0)
		return vm_error_set(err, VM_STAGE_INITRD, fd, path);
	r = arch_initrd_place(k, &vm->mem, vm->cfg->memory, st.st_size, gpa, err);
	if (r < 0) {
		vm_error_set(err, VM_STAGE_INITRD, r, path);
		goto close_fd;
	}
	dst = gmem_ptr(&vm->mem, *gpa, st.st_size);
	if (!dst) {
		r = vm_error_set(err, VM_STAGE_INITRD, -ENOMEM, path);
		goto close_fd;
	}
	r = vm_file_read_at(fd, dst, st.st_size, 0);
	if (r < 0) {
		vm_error_set(err, VM_STAGE_INITRD, r, path);
		goto close_fd;
	}
	*size = st.st_size;
	r = 0;
close_fd:
	close(fd);
	return r;
}

/* The full command line into out (BOOT_CMDLINE_MAX bytes), within kernel k's own limit. */
static int vm_cmdline_make(const struct vm_config *cfg, const struct arch_kernel *k, char *out, struct vm_error *err)
{
	size_t cap = arch_kernel_cmdline_cap(k);
	int r = boot_cmdline_build(out, cap, cfg->cmdline ? cfg->cmdline : arch_board.cmdline_default,
				   arch_board.cmdline_params);

	if (r < 0) {
		vm_error_set(err, VM_STAGE_CMDLINE, r, NULL);
		err->cmdline_max = cap - 1;
	}
	return r < 0 ? r : 0;
}

/* Whether an initrd of the file's size fits where the arch would place it for kernel k in layout. */
static int vm_initrd_check(const struct vm_config *cfg, const struct gmem *layout, const struct arch_kernel *k,
			   struct vm_error *err)
{
	struct stat st;
	uint64_t gpa;
	int fd = vm_file_open(cfg->initrd, &st);
	int r;

	if (fd < 0)
		return vm_error_set(err, VM_STAGE_INITRD, fd, cfg->initrd);
	close(fd);
	r = arch_initrd_place(k, layout, cfg->memory, st.st_size, &gpa, err);
	return r < 0 ? vm_error_set(err, VM_STAGE_INITRD, r, cfg->initrd) : 0;
}

int vm_boot_check(const struct vm_config *cfg, struct vm_kernel_image *kernel, struct vm_error *err)
{
	struct gmem layout = { .nregions = 0 };
	char cmdline[BOOT_CMDLINE_MAX];
	struct arch_kernel *k = NULL;
	struct boot_file f, packed;
	int r;

	memset(err, 0, sizeof(*err));
	*kernel = (struct vm_kernel_image)VM_KERNEL_IMAGE_INIT;
	layout.nregions = arch_ram_layout(cfg->memory, layout.regions);
	r = vm_kernel_open(cfg->kernel, kernel);
	if (r < 0)
		return vm_error_set(err, VM_STAGE_KERNEL, r, cfg->kernel);
	vm_kernel_file(kernel, &f, &packed);
	r = arch_kernel_check(&layout, cfg->memory, &f, &k, err);
	if (r < 0) {
		vm_error_set(err, VM_STAGE_KERNEL, r, cfg->kernel);
		goto free_kernel;
	}
	/* Judged as given first, so a kernel file that is refused is refused as it always was. */
	vm_kernel_unpack(cfg, &layout, kernel, &k);
	if (cfg->initrd) {
		r = vm_initrd_check(cfg, &layout, k, err);
		if (r < 0)
			goto free_kernel;
	}
	r = vm_cmdline_make(cfg, k, cmdline, err);
	if (r == 0) {
		arch_kernel_free(k);
		return 0;
	}
free_kernel:
	arch_kernel_free(k);
	vm_kernel_image_free(kernel);
	return r;
}

int vm_boot_load(struct vm *vm, const struct vm_kernel_image *kernel, struct vm_error *err)
{
	const struct vm_config *cfg = vm->cfg;
	struct arch_boot b = { .initrd_gpa = 0, .initrd_size = 0 };
	char cmdline[BOOT_CMDLINE_MAX];
	struct arch_kernel *k = NULL;
	struct boot_file f, packed;
	int r;

	vm_kernel_file(kernel, &f, &packed);
	r = arch_kernel_load(&vm->mem, cfg->memory, &f, &k, err);
	if (r < 0)
		return vm_error_set(err, VM_STAGE_KERNEL, r, cfg->kernel);
	if (cfg->initrd) {
		r = vm_initrd_load(vm, k, &b.initrd_gpa, &b.initrd_size, err);
		if (r < 0)
			goto free_kernel;
	}
	r = vm_cmdline_make(cfg, k, cmdline, err);
	if (r < 0)
		goto free_kernel;
	b.kernel = k;
	b.cmdline = cmdline;
	r = arch_boot_setup(vm->arch, &vm->mem, &b, &vm->vcpus[0].kvm, err);
free_kernel:
	arch_kernel_free(k);
	return r;
}

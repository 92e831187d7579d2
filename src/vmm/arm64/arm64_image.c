/* SPDX-License-Identifier: MIT */
/* arm64 Image and Image.gz loading, and placement of the initrd and device tree; the file is untrusted input. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arm64_boot.h"
#include "boot_unpack.h"
#include "arm64_layout.h"

#define PAGE_4K          0x1000ULL
#define MIB              (1ULL << 20)
#define GIB_4            (1ULL << 32)

static const char FIX_GZIP[] = "decompress it with gunzip to see what is wrong, or copy the kernel again";
static const char FIX_IMAGE[] = "give an arm64 Image, e.g. /boot/vmlinuz-*-arm64 from Debian's linux-image-arm64";

/* Fill fault (may be NULL) with a printf-style reason and a fix; return err. */
static int refuse(struct arm64_fault *fault, int err, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(struct arm64_fault *fault, int err, const char *fix, const char *fmt, ...)
{
	va_list ap;

	if (!fault)
		return err;
	va_start(ap, fmt);
	vsnprintf(fault->what, sizeof(fault->what), fmt, ap);
	va_end(ap);
	fault->fix = fix;
	return err;
}

/* A plain -errno from reading the file: no words of ours (the caller prints strerror). */
static int read_failed(struct arm64_fault *fault, int err)
{
	if (fault) {
		fault->what[0] = '\0';
		fault->fix = NULL;
	}
	return err;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned long long mib_up(uint64_t bytes)
{
	return (bytes + MIB - 1) / MIB;
}

int arm64_image_header_parse(const void *hdr, size_t len, struct arm64_image_header *h,
			     struct arm64_fault *fault)
{
	const uint8_t *b = hdr;

	if (len < ARM64_IMAGE_HDR_SIZE)
		return refuse(fault, -EINVAL, "copy the kernel again",
			      "is cut short: an arm64 Image header needs %u bytes and the file has %zu",
			      ARM64_IMAGE_HDR_SIZE, len);
	if (le32(b + ARM64_IMAGE_MAGIC_OFF) != ARM64_IMAGE_MAGIC)
		return refuse(fault, -ENOEXEC, FIX_IMAGE, "is not an arm64 Image (no \"ARM\\x64\" magic at 0x38)");
	h->text_offset = le64(b + 8);
	h->image_size = le64(b + 16);
	h->flags = le64(b + 24);
	if (h->flags & ARM64_IMAGE_FLAG_BE)
		return refuse(fault, -EPROTONOSUPPORT, "give a little-endian arm64 kernel",
			      "is a big-endian arm64 kernel; vmm boots little-endian ones");
	if (h->image_size == 0)
		return refuse(fault, -EINVAL, "use a kernel from Linux 3.17 or later",
			      "has no image_size in its Image header, so it is older than Linux 3.17 "
			      "and its text_offset cannot be trusted");
	/* Every kernel's is 0x80000 (before 5.8) or 0; a randomised one stayed page-aligned below 2 MiB. */
	if (h->text_offset % PAGE_4K || h->text_offset >= ARM64_KIMG_ALIGN)
		return refuse(fault, -EINVAL, FIX_IMAGE,
			      "malformed arm64 Image: its text_offset 0x%llx is not a 4 KiB multiple below 2 MiB",
			      (unsigned long long)h->text_offset);
	if (h->image_size <= ARM64_IMAGE_HDR_SIZE || h->image_size > GIB_4 - h->text_offset)
		return refuse(fault, -EINVAL, FIX_IMAGE,
			      "malformed arm64 Image: its image_size 0x%llx is no kernel's size",
			      (unsigned long long)h->image_size);
	return 0;
}

/* The RAM region the Image goes in: the one holding ARM64_RAM_BASE. */
static const struct gmem_region *ram_region(const struct gmem *mem)
{
	return gmem_region_of(mem, ARM64_RAM_BASE, 0);
}

/* Where a gzip stream sits in the file: the whole file, or an EFI zboot image's payload. */
struct gz_range {
	uint64_t off;
	uint64_t len;
};

/*
 * 1 if the file is a gzip stream or a zboot image with a gzip payload
 * (its range in *gz), 0 if not, or -EINVAL for a zboot header that points
 * past the file.
 */
static int gzip_range(const struct boot_file *f, struct gz_range *gz, struct arm64_fault *fault)
{
	const uint8_t *b = f->head;

	if (f->head_len >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
		*gz = (struct gz_range){ .off = 0, .len = f->size };
		return 1;
	}
	/* zboot: "MZ", "zimg", payload offset and size (le32), the compressor's name at 24. */
	if (f->head_len >= 32 && !memcmp(b, "MZ", 2) && !memcmp(b + 4, "zimg", 4) && !memcmp(b + 24, "gzip", 5)) {
		uint64_t off = le32(b + 8), len = le32(b + 12);

		if (off > f->size || len > f->size - off)
			return refuse(fault, -EINVAL, "copy the kernel again",
				      "is cut short: its EFI zboot header puts the kernel at bytes %llu-%llu and "
				      "the file has %llu", (unsigned long long)off, (unsigned long long)(off + len),
				      (unsigned long long)f->size);
		*gz = (struct gz_range){ .off = off, .len = len };
		return 1;
	}
	return 0;
}

/* An opened kernel file: the Image's first bytes, and for a gzip file the stream that goes on after them. */
struct kernel_src {
	struct boot_unpack *gz;     /* NULL for a plain Image */
	const uint8_t *head;        /* the Image's first len bytes: f->head, or buf */
	size_t len;
	bool broken;                /* the stream broke after the head: the copy reports it */
	uint8_t buf[ARM64_KERNEL_HEAD_MIN];
};

static void kernel_close(struct kernel_src *s)
{
	boot_unpack_close(s->gz);
	s->gz = NULL;
}

/*
 * Open f: a plain Image's head is f->head; a gzip file's is its first
 * ARM64_KERNEL_HEAD_MIN inflated bytes (fewer if the stream ends first),
 * with the stream left open to inflate the rest.
 */
static int kernel_open(const struct boot_file *f, struct kernel_src *s, struct arm64_fault *fault)
{
	struct gz_range range = { 0, 0 };
	uint64_t got = 0;
	int r = gzip_range(f, &range, fault);

	s->gz = NULL;
	s->broken = false;
	if (r <= 0) {
		s->head = f->head;
		s->len = f->head_len;
		return r;
	}
	r = boot_unpack_open(BOOT_PACK_GZIP, f, range.off, range.len, &s->gz);
	if (r < 0) {
		s->gz = NULL;
		return read_failed(fault, r);
	}
	r = boot_unpack_read(s->gz, s->buf, sizeof(s->buf), &got);
	s->head = s->buf;
	s->len = got;
	/* A stream that breaks after the header is judged first, and refused when the rest is copied. */
	if (r == -EINVAL && got >= ARM64_IMAGE_HDR_SIZE) {
		s->broken = true;
		r = 0;
	}
	if (r == -EINVAL)
		r = refuse(fault, r, FIX_GZIP,
			   "is gzip data that is corrupt or cut short before its first %u bytes", ARM64_IMAGE_HDR_SIZE);
	else if (r < 0)
		r = read_failed(fault, r);
	if (r < 0)
		kernel_close(s);
	return r;
}

/* Judge the Image whose first bytes s holds: its header, and whether it fits in RAM. */
static int kernel_judge(const struct gmem *mem, const struct kernel_src *s, struct arm64_kernel *out,
			struct arm64_fault *fault)
{
	const struct gmem_region *ram = ram_region(mem);
	struct arm64_image_header h;
	int r = arm64_image_header_parse(s->head, s->len, &h, fault);

	if (r == -ENOEXEC) {
		const char *what = arm64_kernel_identify(s->head, s->len);

		if (s->gz)
			return refuse(fault, r, FIX_IMAGE, "is gzip data holding %s; expected an arm64 Image",
				      what ? what : "no arm64 Image");
		if (what)
			return refuse(fault, r, FIX_IMAGE, "is %s; expected an arm64 Image", what);
		return r;
	}
	if (r < 0)
		return r;
	if (!ram || h.text_offset + h.image_size > ram->size)
		return refuse(fault, -ENOMEM, "raise --memory",
			      "needs %llu MiB of guest memory for itself, more than the %llu MiB there are",
			      mib_up(h.text_offset + h.image_size), ram ? (unsigned long long)(ram->size / MIB) : 0ULL);
	memset(out, 0, sizeof(*out));
	/* The region starts 2 MiB aligned (ARM64_RAM_BASE): the Image's base is RAM's first byte. */
	out->load_addr = ram->gpa + h.text_offset;
	out->image_size = h.image_size;
	out->text_offset = h.text_offset;
	out->page_kib = (unsigned int[]){ 0, 4, 16, 64 }[ARM64_IMAGE_FLAG_PAGE(h.flags)];
	out->gzip = s->gz != NULL;
	return 0;
}

int arm64_kernel_check(const struct gmem *mem, const struct boot_file *f, struct arm64_kernel *out,
		       struct arm64_fault *fault)
{
	struct kernel_src *s = malloc(sizeof(*s));
	int r;

	if (!s)
		return read_failed(fault, -ENOMEM);
	r = kernel_open(f, s, fault);
	if (r == 0) {
		r = kernel_judge(mem, s, out, fault);
		kernel_close(s);
	}
	free(s);
	return r;
}

static int gzip_broken(struct arm64_fault *fault, uint64_t good)
{
	return refuse(fault, -EINVAL, FIX_GZIP, "is gzip data that is corrupt or cut short after %llu bytes of its Image",
		      (unsigned long long)good);
}

/* Copy the Image, from the judged head on: through the gzip stream, or read from the file. */
static int kernel_copy(const struct boot_file *f, struct kernel_src *s, uint8_t *dst, uint64_t size,
		       struct arm64_fault *fault)
{
	uint64_t head = s->len < size ? s->len : size;
	uint64_t got = 0;
	int r = 0;

	/* Known before a byte is written: the stream broke right after the head. */
	if (s->broken && head < size)
		return gzip_broken(fault, s->len);
	/* The head that was judged is the head that is loaded, however the file changes meanwhile. */
	memcpy(dst, s->head, head);
	if (!s->gz) {
		uint64_t n = f->size < size ? f->size : size;

		r = n > head ? f->read(f, dst + head, n - head, head) : 0;
		return r < 0 ? read_failed(fault, r) : 0;
	}
	if (head < size && !boot_unpack_ended(s->gz))
		r = boot_unpack_read(s->gz, dst + head, size - head, &got);
	if (r == -EINVAL)
		return gzip_broken(fault, head + got);
	return r < 0 ? read_failed(fault, r) : 0;
}

int arm64_kernel_load(const struct gmem *mem, const struct boot_file *f, struct arm64_kernel *out,
		      struct arm64_fault *fault)
{
	struct kernel_src *s = malloc(sizeof(*s));
	uint8_t *dst;
	int r;

	if (!s)
		return read_failed(fault, -ENOMEM);
	r = kernel_open(f, s, fault);
	if (r < 0)
		goto free_src;
	r = kernel_judge(mem, s, out, fault);
	if (r < 0)
		goto close_src;
	dst = gmem_ptr(mem, out->load_addr, out->image_size);
	r = dst ? kernel_copy(f, s, dst, out->image_size, fault) : read_failed(fault, -EFAULT);
close_src:
	kernel_close(s);
free_src:
	free(s);
	return r;
}

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

int arm64_boot_place(const struct gmem *mem, const struct arm64_kernel *k, uint64_t initrd_size,
		     struct arm64_boot_place *out, struct arm64_fault *fault)
{
	const struct gmem_region *ram = gmem_region_of(mem, k->load_addr, k->image_size);
	uint64_t kernel_end = k->load_addr + k->image_size;
	uint64_t dtb, top, low, window_end;

	if (!ram || ram->size < ARM64_DTB_MAX ||
	    kernel_end > (dtb = align_down(ram->gpa + ram->size - ARM64_DTB_MAX, PAGE_4K)))
		return refuse(fault, -ENOMEM, "raise --memory",
			      "needs %llu MiB of guest memory for itself and its 2 MiB device tree, more than "
			      "the %llu MiB there are", mib_up(kernel_end - (ram ? ram->gpa : 0) + ARM64_DTB_MAX),
			      ram ? (unsigned long long)(ram->size / MIB) : 0ULL);
	out->dtb_addr = dtb;
	out->initrd_addr = 0;
	if (initrd_size == 0)
		return 0;
	window_end = align_down(k->load_addr, ARM64_INITRD_WINDOW_ALIGN) + ARM64_INITRD_WINDOW;
	top = dtb < window_end ? dtb : window_end;
	low = (kernel_end + PAGE_4K - 1) & ~(PAGE_4K - 1);
	if (initrd_size > top - low) {
		if (top == window_end)
			return refuse(fault, -ENOMEM, "use a smaller initrd",
				      "is %llu MiB, more than the %llu MiB the arm64 boot protocol leaves it "
				      "(it must lie within 32 GiB of the kernel's 1 GiB aligned base)",
				      mib_up(initrd_size), (unsigned long long)((top - low) / MIB));
		return refuse(fault, -ENOMEM, "raise --memory",
			      "is %llu MiB, and guest memory has %llu MiB left beside the kernel and the "
			      "device tree", mib_up(initrd_size), (unsigned long long)((top - low) / MIB));
	}
	out->initrd_addr = align_down(top - initrd_size, PAGE_4K);
	return 0;
}

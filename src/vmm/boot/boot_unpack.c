/* SPDX-License-Identifier: MIT */
/* Streaming gzip (zlib), xz (liblzma) and zstd (libzstd) decoding of a range of a boot file, bounded by the caller's buffer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "boot_unpack.h"

/* windowBits 15 plus 16: zlib reads a gzip wrapper (and checks its CRC) instead of a zlib one. */
#define GUNZIP_WBITS (15 + 16)
/* liblzma's memory limit: Linux packs with a dictionary of at most 64 MiB (xz_wrap.sh uses 32 MiB). */
#define XZ_MEMLIMIT (128ull << 20)
/* Output given to a decoder in one call: below every decoder's own size type. */
#define UNPACK_STEP (1u << 30)

struct boot_unpack {
	enum boot_pack kind;
	const struct boot_file *f;
	uint64_t off;       /* the next packed byte to read from the file */
	uint64_t end;       /* one past the last packed byte */
	bool ended;         /* the stream ended and its checks passed */
	union {
		z_stream z;
		lzma_stream x;
		ZSTD_DStream *zs;
	} s;
	size_t in_pos, in_len;   /* in[in_pos, in_len) is read but not yet decoded */
	uint8_t in[65536];
};

static const struct {
	uint8_t len;
	const char *magic;
	enum boot_pack kind;
} pack_magics[] = {
	{ 2, "\x1f\x8b", BOOT_PACK_GZIP },
	{ 6, "\xfd" "7zXZ\0", BOOT_PACK_XZ },
	{ 4, "\x28\xb5\x2f\xfd", BOOT_PACK_ZSTD },
	{ 3, "BZh", BOOT_PACK_OTHER },                  /* bzip2 */
	{ 3, "\x5d\x00\x00", BOOT_PACK_OTHER },         /* lzma (alone), the kernel's usual properties */
	{ 9, "\x89LZO\0\r\n\x1a\n", BOOT_PACK_OTHER },  /* lzop */
	{ 4, "\x02\x21\x4c\x18", BOOT_PACK_OTHER },     /* lz4 legacy, what the kernel uses */
	{ 4, "\x04\x22\x4d\x18", BOOT_PACK_OTHER },     /* lz4 frame */
};

enum boot_pack boot_pack_detect(const void *p, size_t len)
{
	for (size_t i = 0; i < sizeof(pack_magics) / sizeof(pack_magics[0]); i++) {
		if (len >= pack_magics[i].len && memcmp(p, pack_magics[i].magic, pack_magics[i].len) == 0)
			return pack_magics[i].kind;
	}
	return BOOT_PACK_NONE;
}

const char *boot_pack_name(enum boot_pack kind)
{
	switch (kind) {
	case BOOT_PACK_GZIP: return "gzip";
	case BOOT_PACK_XZ:   return "xz";
	case BOOT_PACK_ZSTD: return "zstd";
	case BOOT_PACK_OTHER: return "bzip2, lzma, lzo or lz4";
	case BOOT_PACK_NONE: break;
	}
	return "no known compressor";
}

int boot_unpack_open(enum boot_pack kind, const struct boot_file *f, uint64_t off, uint64_t len,
		     struct boot_unpack **out)
{
	struct boot_unpack *u;
	int r = -EINVAL;

	if (kind != BOOT_PACK_GZIP && kind != BOOT_PACK_XZ && kind != BOOT_PACK_ZSTD)
		return -ENOTSUP;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->kind = kind;
	u->f = f;
	u->off = off;
	u->end = off + len;
	if (kind == BOOT_PACK_GZIP) {
		int z = inflateInit2(&u->s.z, GUNZIP_WBITS);

		r = z == Z_OK ? 0 : z == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
	} else if (kind == BOOT_PACK_XZ) {
		lzma_ret x;

		u->s.x = (lzma_stream)LZMA_STREAM_INIT;
		/* No LZMA_CONCATENATED: the stream ends at its own footer, before the size Linux appends. */
		x = lzma_stream_decoder(&u->s.x, XZ_MEMLIMIT, 0);
		r = x == LZMA_OK ? 0 : x == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL;
	} else {
		u->s.zs = ZSTD_createDStream();
		r = u->s.zs ? 0 : -ENOMEM;
	}
	if (r < 0) {
		/* Each decoder's end is harmless on a stream whose init failed. */
		boot_unpack_close(u);
		return r;
	}
	*out = u;
	return 0;
}

/* Read the next chunk of packed bytes into in: 0, or -EINVAL when none are left, or f->read's -errno. */
static int unpack_feed(struct boot_unpack *u)
{
	uint64_t n = u->end - u->off;
	int r;

	if (n == 0)
		return -EINVAL;   /* the stream needs more than the range holds: cut short */
	if (n > sizeof(u->in))
		n = sizeof(u->in);
	r = u->f->read(u->f, u->in, n, u->off);
	if (r < 0)
		return r;
	u->off += n;
	u->in_pos = 0;
	u->in_len = (size_t)n;
	return 0;
}

/*
 * One decoder call from in[in_pos, in_len) into dst[0, cap): *used and *made
 * bytes. 1 at the stream's end, 0 to go on, -EINVAL for corrupt data, -ENOMEM.
 */
static int unpack_step(struct boot_unpack *u, uint8_t *dst, size_t cap, size_t *used, size_t *made)
{
	const uint8_t *src = u->in + u->in_pos;
	size_t avail = u->in_len - u->in_pos;

	if (u->kind == BOOT_PACK_GZIP) {
		int z;

		u->s.z.next_in = (Bytef *)src;
		u->s.z.avail_in = (uInt)avail;
		u->s.z.next_out = dst;
		u->s.z.avail_out = (uInt)cap;
		z = inflate(&u->s.z, Z_NO_FLUSH);
		*used = avail - u->s.z.avail_in;
		*made = cap - u->s.z.avail_out;
		if (z == Z_STREAM_END)
			return 1;
		if (z == Z_OK || (z == Z_BUF_ERROR && (*used || *made)))
			return 0;
		return z == Z_MEM_ERROR ? -ENOMEM : -EINVAL;   /* Z_DATA_ERROR (corrupt, bad CRC), Z_NEED_DICT */
	}
	if (u->kind == BOOT_PACK_XZ) {
		lzma_ret x;

		u->s.x.next_in = src;
		u->s.x.avail_in = avail;
		u->s.x.next_out = dst;
		u->s.x.avail_out = cap;
		x = lzma_code(&u->s.x, LZMA_RUN);
		*used = avail - u->s.x.avail_in;
		*made = cap - u->s.x.avail_out;
		if (x == LZMA_STREAM_END)
			return 1;
		if (x == LZMA_OK)
			return 0;
		return x == LZMA_MEM_ERROR || x == LZMA_MEMLIMIT_ERROR ? -ENOMEM : -EINVAL;
	}
	ZSTD_inBuffer in = { .src = src, .size = avail, .pos = 0 };
	ZSTD_outBuffer out = { .dst = dst, .size = cap, .pos = 0 };
	size_t z = ZSTD_decompressStream(u->s.zs, &out, &in);

	*used = in.pos;
	*made = out.pos;
	if (ZSTD_isError(z))
		return ZSTD_getErrorCode(z) == ZSTD_error_memory_allocation ? -ENOMEM : -EINVAL;
	return z == 0 ? 1 : 0;   /* 0: a frame decoded and flushed whole */
}

int boot_unpack_read(struct boot_unpack *u, void *dst, uint64_t len, uint64_t *got)
{
	uint64_t done = 0;
	int r = 0;

	while (done < len && !u->ended) {
		uint64_t want = len - done;
		size_t used = 0, made = 0;

		if (u->in_pos == u->in_len) {
			r = unpack_feed(u);
			if (r < 0)
				break;
		}
		r = unpack_step(u, (uint8_t *)dst + done, want > UNPACK_STEP ? UNPACK_STEP : (size_t)want, &used, &made);
		u->in_pos += used;
		done += made;
		if (r == 1) {
			u->ended = true;
			r = 0;
		} else if (r < 0) {
			break;
		} else if (used == 0 && made == 0 && u->in_pos < u->in_len) {
			r = -EINVAL;   /* input and room, and no progress: a decoder stuck on bad data */
			break;
		}
	}
	*got = done;
	return r;
}

bool boot_unpack_ended(const struct boot_unpack *u)
{
	return u->ended;
}

void boot_unpack_close(struct boot_unpack *u)
{
	if (!u)
		return;
	if (u->kind == BOOT_PACK_GZIP)
		inflateEnd(&u->s.z);
	else if (u->kind == BOOT_PACK_XZ)
		lzma_end(&u->s.x);
	else
		ZSTD_freeDStream(u->s.zs);
	free(u);
}

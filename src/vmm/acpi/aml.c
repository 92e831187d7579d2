/* SPDX-License-Identifier: MIT */
/* AML encoder: byte buffer, PkgLength, names, integers, objects, resources. */
#include "aml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Opcodes and prefixes from the ACPI 6.x AML grammar (chapter 20). */
#define AML_ZERO_OP        0x00
#define AML_ONE_OP         0x01
#define AML_NAME_OP        0x08
#define AML_BYTE_PREFIX    0x0A
#define AML_WORD_PREFIX    0x0B
#define AML_DWORD_PREFIX   0x0C
#define AML_STRING_PREFIX  0x0D
#define AML_QWORD_PREFIX   0x0E
#define AML_SCOPE_OP       0x10
#define AML_BUFFER_OP      0x11
#define AML_PACKAGE_OP     0x12
#define AML_DUAL_NAME      0x2E
#define AML_MULTI_NAME     0x2F
#define AML_EXT_OP_PREFIX  0x5B
#define AML_DEVICE_OP      0x82 /* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR      0x5C /* '\' */
#define AML_PARENT_CHAR    0x5E /* '^' */
#define AML_ONES_OP        0xFF

/* Resource descriptor tags (ACPI 6.x, 6.4.2 and 6.4.3). */
#define AML_RES_IO         0x47 /* small, type 0x08, length 7 */
#define AML_RES_END_TAG    0x79 /* small, type 0x0F, length 1 */
#define AML_RES_MEM32FIXED 0x86 /* large, type 0x06 */
#define AML_RES_EXT_IRQ    0x89 /* large, type 0x09 */

#define AML_MAX_SEGS 255

static int aml_buf_fail(struct aml_buf *b, int err)
{
	if (!b->err)
		b->err = err;
	return b->err;
}

void aml_buf_init(struct aml_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->err = 0;
}

void aml_buf_free(struct aml_buf *b)
{
	free(b->data);
	aml_buf_init(b);
}

int aml_buf_error(const struct aml_buf *b)
{
	return b->err;
}

static int aml_buf_reserve(struct aml_buf *b, size_t extra)
{
	size_t want, cap;
	uint8_t *p;

	if (b->err)
		return b->err;
	if (extra > SIZE_MAX - b->len)
		return aml_buf_fail(b, -ENOMEM);
	want = b->len + extra;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want) {
		if (cap > SIZE_MAX / 2)
			return aml_buf_fail(b, -ENOMEM);
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (!p)
		return aml_buf_fail(b, -ENOMEM);
	b->data = p;
	b->cap = cap;
	return 0;
}

int aml_buf_append(struct aml_buf *b, const void *p, size_t n)
{
	int ret = aml_buf_reserve(b, n);

	if (ret)
		return ret;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static int aml_byte_emit(struct aml_buf *b, uint8_t v)
{
	return aml_buf_append(b, &v, 1);
}

static int aml_le_emit(struct aml_buf *b, uint64_t v, unsigned int nbytes)
{
	uint8_t tmp[8];

	for (unsigned int i = 0; i < nbytes; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	return aml_buf_append(b, tmp, nbytes);
}

int aml_pkglen_encode(uint32_t len, uint8_t out[4])
{
	unsigned int follow;

	if (len > AML_PKGLEN_MAX)
		return -ERANGE;
	if (len < 64) {
		out[0] = (uint8_t)len;
		return 1;
	}
	/* Low nibble in the lead byte, then 8 bits per following byte. */
	if (len < (1u << 12))
		follow = 1;
	else if (len < (1u << 20))
		follow = 2;
	else
		follow = 3;
	out[0] = (uint8_t)((follow << 6) | (len & 0x0F));
	for (unsigned int i = 1; i <= follow; i++)
		out[i] = (uint8_t)(len >> (4 + 8 * (i - 1)));
	return (int)follow + 1;
}

int aml_pkglen_encode_body(size_t body_len, uint8_t out[4])
{
	/* The value counts its own bytes, so try each size until it fits. */
	for (size_t n = 1; n <= 4; n++) {
		size_t total;
		int got;

		if (body_len > AML_PKGLEN_MAX)
			return -ERANGE;
		total = body_len + n;
		if (total > AML_PKGLEN_MAX)
			return -ERANGE;
		got = aml_pkglen_encode((uint32_t)total, out);
		if (got < 0)
			return got;
		if ((size_t)got == n)
			return got;
	}
	return -ERANGE;
}

static bool aml_seg_char_ok(char c, bool lead)
{
	if ((c >= 'A' && c <= 'Z') || c == '_')
		return true;
	return !lead && c >= '0' && c <= '9';
}

/* Parses one segment of up to 4 chars ending at '.' or NUL into seg. */
static int aml_seg_parse(const char **pp, uint8_t seg[4])
{
	const char *p = *pp;
	size_t n = 0;

	while (p[n] && p[n] != '.') {
		if (n == 4 || !aml_seg_char_ok(p[n], n == 0))
			return -EINVAL;
		seg[n] = (uint8_t)p[n];
		n++;
	}
	if (n == 0)
		return -EINVAL;
	for (size_t i = n; i < 4; i++)
		seg[i] = '_';
	*pp = p + n;
	return 0;
}

int aml_namestring_emit(struct aml_buf *b, const char *path)
{
	uint8_t segs[AML_MAX_SEGS][4];
	unsigned int nsegs = 0;
	const char *p = path;
	int ret;

	if (b->err)
		return b->err;
	if (*p == '\\') {
		ret = aml_byte_emit(b, AML_ROOT_CHAR);
		p++;
	} else {
		while (*p == '^') {
			ret = aml_byte_emit(b, AML_PARENT_CHAR);
			if (ret)
				return ret;
			p++;
		}
		ret = 0;
	}
	if (ret)
		return ret;
	while (*p) {
		if (nsegs == AML_MAX_SEGS || aml_seg_parse(&p, segs[nsegs]))
			return aml_buf_fail(b, -EINVAL);
		nsegs++;
		if (*p == '.') {
			p++;
			if (!*p)
				return aml_buf_fail(b, -EINVAL);
		}
	}
	switch (nsegs) {
	case 0:
		return aml_byte_emit(b, 0x00); /* NullName */
	case 1:
		break;
	case 2:
		ret = aml_byte_emit(b, AML_DUAL_NAME);
		break;
	default:
		ret = aml_byte_emit(b, AML_MULTI_NAME);
		if (!ret)
			ret = aml_byte_emit(b, (uint8_t)nsegs);
		break;
	}
	if (ret)
		return ret;
	return aml_buf_append(b, segs, (size_t)nsegs * 4);
}

int aml_integer_emit(struct aml_buf *b, uint64_t v)
{
	int ret;

	if (v == 0)
		return aml_byte_emit(b, AML_ZERO_OP);
	if (v == 1)
		return aml_byte_emit(b, AML_ONE_OP);
	if (v == UINT64_MAX)
		return aml_byte_emit(b, AML_ONES_OP);
	if (v <= UINT8_MAX) {
		ret = aml_byte_emit(b, AML_BYTE_PREFIX);
		return ret ? ret : aml_le_emit(b, v, 1);
	}
	if (v <= UINT16_MAX) {
		ret = aml_byte_emit(b, AML_WORD_PREFIX);
		return ret ? ret : aml_le_emit(b, v, 2);
	}
	if (v <= UINT32_MAX) {
		ret = aml_byte_emit(b, AML_DWORD_PREFIX);
		return ret ? ret : aml_le_emit(b, v, 4);
	}
	ret = aml_byte_emit(b, AML_QWORD_PREFIX);
	return ret ? ret : aml_le_emit(b, v, 8);
}

int aml_string_emit(struct aml_buf *b, const char *s)
{
	size_t n = strlen(s);
	int ret;

	if (b->err)
		return b->err;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] > 0x7F)
			return aml_buf_fail(b, -EINVAL);
	ret = aml_byte_emit(b, AML_STRING_PREFIX);
	if (!ret)
		ret = aml_buf_append(b, s, n + 1); /* with the NUL */
	return ret;
}

static int aml_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int aml_eisaid_encode(const char *id, uint32_t *out)
{
	uint16_t vendor = 0, product = 0;
	uint8_t bytes[4];

	if (strlen(id) != 7)
		return -EINVAL;
	/* Three letters, 5 bits each ('A' = 1), bit 15 clear. */
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
		vendor = (uint16_t)((vendor << 5) | (uint16_t)(id[i] - 0x40));
	}
	for (int i = 3; i < 7; i++) {
		int d = aml_hex_digit(id[i]);

		if (d < 0)
			return -EINVAL;
		product = (uint16_t)((product << 4) | (uint16_t)d);
	}
	/* Both halves are stored big-endian; the DWord is read little-endian. */
	bytes[0] = (uint8_t)(vendor >> 8);
	bytes[1] = (uint8_t)vendor;
	bytes[2] = (uint8_t)(product >> 8);
	bytes[3] = (uint8_t)product;
	*out = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 |
	       (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24;
	return 0;
}

int aml_eisaid_emit(struct aml_buf *b, const char *id)
{
	uint32_t v;
	int ret;

	if (b->err)
		return b->err;
	ret = aml_eisaid_encode(id, &v);
	if (ret)
		return aml_buf_fail(b, ret);
	/* Always a DWord, even when a shorter integer would do. */
	ret = aml_byte_emit(b, AML_DWORD_PREFIX);
	return ret ? ret : aml_le_emit(b, v, 4);
}

int aml_name_emit(struct aml_buf *b, const char *name)
{
	int ret = aml_byte_emit(b, AML_NAME_OP);

	return ret ? ret : aml_namestring_emit(b, name);
}

int aml_scope_begin(struct aml_buf *b, const char *path, size_t *mark)
{
	int ret = aml_byte_emit(b, AML_SCOPE_OP);

	*mark = b->len;
	return ret ? ret : aml_namestring_emit(b, path);
}

int aml_device_begin(struct aml_buf *b, const char *name, size_t *mark)
{
	uint8_t op[2] = { AML_EXT_OP_PREFIX, AML_DEVICE_OP };
	int ret = aml_buf_append(b, op, sizeof(op));

	*mark = b->len;
	return ret ? ret : aml_namestring_emit(b, name);
}

int aml_package_begin(struct aml_buf *b, unsigned int nelems, size_t *mark)
{
	int ret;

	if (nelems > UINT8_MAX)
		return aml_buf_fail(b, -EINVAL);
	ret = aml_byte_emit(b, AML_PACKAGE_OP);
	*mark = b->len;
	return ret ? ret : aml_byte_emit(b, (uint8_t)nelems);
}

/* Inserts head (n bytes) at mark, shifting the body after it. */
static int aml_buf_insert(struct aml_buf *b, size_t mark, const uint8_t *head, size_t n)
{
	int ret;

	if (mark > b->len)
		return aml_buf_fail(b, -EINVAL);
	ret = aml_buf_reserve(b, n);
	if (ret)
		return ret;
	memmove(b->data + mark + n, b->data + mark, b->len - mark);
	memcpy(b->data + mark, head, n);
	b->len += n;
	return 0;
}

int aml_pkg_end(struct aml_buf *b, size_t mark)
{
	uint8_t pl[4];
	int n;

	if (b->err)
		return b->err;
	if (mark > b->len)
		return aml_buf_fail(b, -EINVAL);
	n = aml_pkglen_encode_body(b->len - mark, pl);
	if (n < 0)
		return aml_buf_fail(b, n);
	return aml_buf_insert(b, mark, pl, (size_t)n);
}

int aml_buffer_begin(struct aml_buf *b, size_t *mark)
{
	int ret = aml_byte_emit(b, AML_BUFFER_OP);

	*mark = b->len;
	return ret;
}

int aml_buffer_end(struct aml_buf *b, size_t mark)
{
	uint8_t size[9];
	size_t body, size_len;
	int ret;

	if (b->err)
		return b->err;
	if (mark > b->len)
		return aml_buf_fail(b, -EINVAL);
	body = b->len - mark;
	/*
	 * BufferSize goes in front of the byte list: encode it after the list,
	 * then rotate it into place before adding the PkgLength.
	 */
	ret = aml_integer_emit(b, body);
	if (ret)
		return ret;
	size_len = b->len - mark - body;
	memcpy(size, b->data + mark + body, size_len);
	memmove(b->data + mark + size_len, b->data + mark, body);
	memcpy(b->data + mark, size, size_len);
	return aml_pkg_end(b, mark);
}

int aml_res_mem32_fixed_emit(struct aml_buf *b, bool writable, uint32_t base, uint32_t len)
{
	uint8_t d[12] = { AML_RES_MEM32FIXED, 9, 0, writable ? 1 : 0 };

	for (int i = 0; i < 4; i++) {
		d[4 + i] = (uint8_t)(base >> (8 * i));
		d[8 + i] = (uint8_t)(len >> (8 * i));
	}
	return aml_buf_append(b, d, sizeof(d));
}

int aml_res_ext_irq_emit(struct aml_buf *b, uint8_t flags, uint32_t gsi)
{
	/* Length 6: flags, table length, one DWord; no resource source. */
	uint8_t d[9] = { AML_RES_EXT_IRQ, 6, 0, flags, 1 };

	if (flags & ~0x1Fu)
		return aml_buf_fail(b, -EINVAL);
	for (int i = 0; i < 4; i++)
		d[5 + i] = (uint8_t)(gsi >> (8 * i));
	return aml_buf_append(b, d, sizeof(d));
}

int aml_res_io16_emit(struct aml_buf *b, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	uint8_t d[8] = {
		AML_RES_IO, 1, /* bit 0: 16-bit address decode */
		(uint8_t)min, (uint8_t)(min >> 8),
		(uint8_t)max, (uint8_t)(max >> 8),
		align, len,
	};

	return aml_buf_append(b, d, sizeof(d));
}

int aml_res_end_tag_emit(struct aml_buf *b)
{
	uint8_t d[2] = { AML_RES_END_TAG, 0 };

	return aml_buf_append(b, d, sizeof(d));
}

/* SPDX-License-Identifier: MIT */
/* O_DIRECT bounce buffers and iovec arithmetic shared by the io_uring and synchronous backends. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk_internal.h"

void blk_geom_init(struct blk_geom *g, const struct blk_image *img)
{
	g->fd = img->fd;
	g->size = img->size;
	g->direct = blk_cache_mode_props(img->cache).direct;
	g->mem_align = img->dio_mem_align ? img->dio_mem_align : 1;
	g->off_align = img->dio_offset_align ? img->dio_offset_align : 1;
}

uint64_t blk_iov_total(const struct iovec *iov, unsigned int cnt)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < cnt; i++) {
		if (iov[i].iov_len > UINT64_MAX - total)
			return UINT64_MAX;
		total += iov[i].iov_len;
	}
	return total;
}

int blk_req_check(const struct blk_req *req, uint64_t *total)
{
	*total = 0;
	if (!req)
		return -EINVAL;
	switch (req->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		if (!req->iov || !req->iovcnt)
			return -EINVAL;
		*total = blk_iov_total(req->iov, req->iovcnt);
		if (*total == 0 || *total == UINT64_MAX || req->offset > UINT64_MAX - *total)
			return -EINVAL;
		return 0;
	case BLK_OP_FLUSH:
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		return 0;
	}
	return -EINVAL;
}

unsigned int blk_iov_rest(const struct iovec *iov, unsigned int cnt, uint64_t skip, struct iovec *out)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < cnt; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		out[n].iov_base = (char *)iov[i].iov_base + skip;
		out[n].iov_len = iov[i].iov_len - skip;
		skip = 0;
		n++;
	}
	return n;
}

bool blk_bounce_needed(const struct blk_geom *g, const struct blk_req *req, uint64_t total)
{
	uint64_t omask = g->off_align - 1, mmask = g->mem_align - 1;

	if (!g->direct)
		return false;
	if ((req->offset | total) & omask)
		return true;
	for (unsigned int i = 0; i < req->iovcnt; i++) {
		/* The kernel checks each segment: base against the memory alignment, length against the block size. */
		if (((uintptr_t)req->iov[i].iov_base & mmask) || (req->iov[i].iov_len & omask))
			return true;
	}
	return false;
}

bool blk_bounce_is_rmw(const struct blk_geom *g, const struct blk_req *req, uint64_t total)
{
	return g->direct && req->op == BLK_OP_WRITE && ((req->offset | (req->offset + total)) & (g->off_align - 1));
}

/* Read one aligned block at off into dst; a short read means the image is not what we were told. */
static int bounce_read_block(const struct blk_geom *g, void *dst, uint64_t off)
{
	ssize_t n;

	do {
		n = pread(g->fd, dst, g->off_align, (off_t)off);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((uint64_t)n != g->off_align)
		return -EIO;
	return 0;
}

int blk_bounce_prepare(struct blk_bounce *b, const struct blk_geom *g, const struct blk_req *req, uint64_t total)
{
	uint64_t a = g->off_align;
	uint64_t end = req->offset + total;
	size_t align = g->mem_align > a ? g->mem_align : a;
	int ret;

	if (align < sizeof(void *))
		align = sizeof(void *);
	b->start = req->offset & ~(a - 1);
	b->len = ((end + a - 1) & ~(a - 1)) - b->start;
	b->skip = req->offset - b->start;
	b->total = total;
	b->buf = NULL;
	/* A READ may stop at end of file inside the last aligned block; it only needs the request's bytes. */
	b->need = req->op == BLK_OP_READ ? end - b->start : b->len;

	if (req->op == BLK_OP_WRITE && b->start + b->len > g->size)
		return -EIO; /* writing the whole aligned tail block would grow the image */
	if (posix_memalign(&b->buf, align, b->len))
		return -ENOMEM;

	if (req->op != BLK_OP_WRITE)
		return 0;
	if (b->skip) {
		ret = bounce_read_block(g, b->buf, b->start);
		if (ret)
			goto free_buf;
	}
	if (end & (a - 1)) {
		uint64_t tail = end & ~(a - 1);

		if (!(b->skip && tail == b->start)) {
			ret = bounce_read_block(g, (char *)b->buf + (tail - b->start), tail);
			if (ret)
				goto free_buf;
		}
	}
	{
		char *p = (char *)b->buf + b->skip;

		for (unsigned int i = 0; i < req->iovcnt; i++) {
			memcpy(p, req->iov[i].iov_base, req->iov[i].iov_len);
			p += req->iov[i].iov_len;
		}
	}
	return 0;

free_buf:
	free(b->buf);
	b->buf = NULL;
	return ret;
}

void blk_bounce_copy_out(const struct blk_bounce *b, const struct blk_req *req)
{
	const char *p = (const char *)b->buf + b->skip;

	for (unsigned int i = 0; i < req->iovcnt; i++) {
		memcpy(req->iov[i].iov_base, p, req->iov[i].iov_len);
		p += req->iov[i].iov_len;
	}
}

void blk_bounce_release(struct blk_bounce *b)
{
	free(b->buf);
	b->buf = NULL;
}

/* SPDX-License-Identifier: MIT */
/* virtio-blk request parsing: a pure function from a popped chain to a checked request or a distinct error. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "vblk_internal.h"

/*
 * The spec lets a driver split the header, data and status across
 * descriptors any way it likes, so everything here works on byte ranges of
 * the element's iovecs rather than assuming one buffer per part.
 */

/*
 * The entry of iov[0..n) that holds byte *skip of the whole, with *skip made
 * relative to that entry; n when the iovs are shorter. Empty entries are
 * passed over.
 */
static unsigned int iov_seek(const struct iovec *iov, unsigned int n, uint64_t *skip)
{
	unsigned int i = 0;

	while (i < n && *skip >= iov[i].iov_len)
		*skip -= iov[i++].iov_len;
	return i;
}

/* Copy len bytes starting at byte skip of iov[0..n) into dst. True when the iovs hold them all. */
static bool iov_gather(const struct iovec *iov, unsigned int n, uint64_t skip, void *dst, uint64_t len)
{
	uint8_t *d = dst;

	for (unsigned int i = iov_seek(iov, n, &skip); i < n && len > 0; i++, skip = 0) {
		uint64_t take = iov[i].iov_len - skip < len ? iov[i].iov_len - skip : len;

		memcpy(d, (const uint8_t *)iov[i].iov_base + skip, take);
		d += take;
		len -= take;
	}
	return len == 0;
}

/*
 * Describe bytes [skip, skip + len) of iov[0..n) into dst[0..cap). Count of
 * entries (empty ones left out), or -E2BIG when cap is too small. The caller
 * knows the range exists.
 */
static int iov_slice(const struct iovec *iov, unsigned int n, uint64_t skip, uint64_t len,
		     struct iovec *dst, unsigned int cap)
{
	unsigned int k = 0;

	for (unsigned int i = iov_seek(iov, n, &skip); i < n && len > 0; i++, skip = 0) {
		uint64_t take = iov[i].iov_len - skip < len ? iov[i].iov_len - skip : len;

		if (take == 0)
			continue;
		if (k >= cap)
			return -E2BIG;
		dst[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
		dst[k].iov_len = take;
		k++;
		len -= take;
	}
	return (int)k;
}

static enum vblk_parse_err parse_dwz(const struct vblk_limits *lim, const struct virtq_elem *elem, uint32_t type,
				     struct vblk_parsed *out)
{
	bool discard = type == VIRTIO_BLK_T_DISCARD;

	if (discard ? !lim->discard : !lim->write_zeroes)
		return VBLK_PARSE_UNSUPPORTED;
	if (lim->readonly)
		return VBLK_PARSE_READ_ONLY;
	if (elem->in_len != 1)
		return VBLK_PARSE_WRONG_DIRECTION;

	uint64_t payload = elem->out_len - VBLK_HDR_SIZE;

	if (payload == 0 || payload % VBLK_DWZ_SEG_SIZE != 0 || payload / VBLK_DWZ_SEG_SIZE > lim->max_dwz_seg)
		return VBLK_PARSE_SEGMENT_COUNT;

	uint8_t seg[VBLK_DWZ_SEG_SIZE];
	uint64_t sector;
	uint32_t num, flags;

	if (!iov_gather(elem->iov, elem->out_num, VBLK_HDR_SIZE, seg, sizeof(seg)))
		return VBLK_PARSE_SEGMENT_COUNT;
	memcpy(&sector, seg, 8);
	memcpy(&num, seg + 8, 4);
	memcpy(&flags, seg + 12, 4);
	sector = le64toh(sector);
	num = le32toh(num);
	flags = le32toh(flags);
	/* Spec: unknown flags, and UNMAP on a discard, get UNSUPP. */
	if ((flags & ~VIRTIO_BLK_DWZ_F_UNMAP) != 0 || (discard && (flags & VIRTIO_BLK_DWZ_F_UNMAP)))
		return VBLK_PARSE_UNSUPPORTED;
	if (num == 0 || num > lim->max_dwz_sectors)
		return VBLK_PARSE_SEGMENT_SECTORS;
	if (sector > lim->capacity || num > lim->capacity - sector)
		return VBLK_PARSE_PAST_END;
	out->sector = sector;
	out->offset = sector * VBLK_SECTOR;
	out->len = (uint64_t)num * VBLK_SECTOR;
	out->unmap = flags & VIRTIO_BLK_DWZ_F_UNMAP;
	return VBLK_PARSE_OK;
}

/* IN (is_in) or OUT: the data after the header (OUT) or before the status byte (IN). */
static enum vblk_parse_err parse_rw(const struct vblk_limits *lim, const struct virtq_elem *elem, bool is_in,
				    struct iovec *iov, unsigned int iov_cap, struct vblk_parsed *out)
{
	uint64_t in_data = elem->in_len - 1;
	uint64_t len = is_in ? in_data : elem->out_len - VBLK_HDR_SIZE;
	uint64_t sector = out->sector;
	int n;

	if (is_in ? elem->out_len != VBLK_HDR_SIZE : in_data != 0)
		return VBLK_PARSE_WRONG_DIRECTION;
	if (!is_in && lim->readonly)
		return VBLK_PARSE_READ_ONLY;
	if (len % VBLK_SECTOR != 0)
		return VBLK_PARSE_PARTIAL_SECTOR;
	if (len > lim->max_data)
		return VBLK_PARSE_TOO_LONG;
	/* sector <= capacity first, so sector * 512 cannot overflow (capacity = bytes / 512). */
	if (sector > lim->capacity || len / VBLK_SECTOR > lim->capacity - sector)
		return VBLK_PARSE_PAST_END;
	if (is_in)
		n = iov_slice(&elem->iov[elem->out_num], elem->in_num, 0, len, iov, iov_cap);
	else
		n = iov_slice(elem->iov, elem->out_num, VBLK_HDR_SIZE, len, iov, iov_cap);
	if (n < 0)
		return VBLK_PARSE_IOV_FULL;
	out->iovcnt = (unsigned int)n;
	out->data_len = len;
	out->offset = sector * VBLK_SECTOR;
	return VBLK_PARSE_OK;
}

enum vblk_parse_err vblk_req_parse(const struct vblk_limits *lim, const struct virtq_elem *elem,
				   struct iovec *iov, unsigned int iov_cap, struct vblk_parsed *out)
{
	memset(out, 0, sizeof(*out));
	out->iov = iov;

	/* The status is the last writable byte; without one, no status can be reported at all. */
	if (elem->in_len == 0)
		return VBLK_PARSE_NO_STATUS;
	const struct iovec *last = &elem->iov[elem->out_num + elem->in_num - 1];

	out->status = (uint8_t *)last->iov_base + last->iov_len - 1;

	if (elem->out_len < VBLK_HDR_SIZE)
		return VBLK_PARSE_SHORT_HEADER;

	uint8_t hdr[VBLK_HDR_SIZE];
	uint32_t type;
	uint64_t sector;

	if (!iov_gather(elem->iov, elem->out_num, 0, hdr, sizeof(hdr)))
		return VBLK_PARSE_SHORT_HEADER;
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	type = le32toh(type);
	sector = le64toh(sector);
	out->type = type;
	out->sector = sector;

	const struct iovec *in = &elem->iov[elem->out_num];
	uint64_t in_data = elem->in_len - 1;
	int n;

	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return parse_rw(lim, elem, type == VIRTIO_BLK_T_IN, iov, iov_cap, out);
	case VIRTIO_BLK_T_FLUSH:
		/* Any payload is ignored: the spec gives FLUSH none and the sector field is reserved. */
		return VBLK_PARSE_OK;
	case VIRTIO_BLK_T_GET_ID:
		if (in_data < VBLK_ID_BYTES)
			return VBLK_PARSE_ID_TOO_SHORT;
		n = iov_slice(in, elem->in_num, 0, VBLK_ID_BYTES, iov, iov_cap);
		if (n < 0)
			return VBLK_PARSE_IOV_FULL;
		out->iovcnt = (unsigned int)n;
		out->data_len = VBLK_ID_BYTES;
		return VBLK_PARSE_OK;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return parse_dwz(lim, elem, type, out);
	default:
		return VBLK_PARSE_UNSUPPORTED;
	}
}

uint8_t vblk_req_parse_status(enum vblk_parse_err err)
{
	return err == VBLK_PARSE_UNSUPPORTED ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR;
}

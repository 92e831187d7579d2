/* SPDX-License-Identifier: MIT */
/* Unit tests for vblk_req_parse: each malformed request maps to its own error; good ones are described exactly. */
#include "vblk_test_util.h"

static const struct vblk_limits LIM = {
	.capacity = 2048, .readonly = false, .discard = true, .write_zeroes = true,
	.max_dwz_sectors = 64, .max_dwz_seg = 1, .max_data = VBLK_MAX_DATA,
};

struct pbuf {
	uint8_t hdr[16];
	uint8_t data[4096];
	uint8_t st;
	struct virtq_elem elem;
	struct iovec iov[VIRTQ_ELEM_MAX_SEGS];
	struct vblk_parsed p;
};

static void hdr_set(struct pbuf *b, uint32_t type, uint64_t sector)
{
	uint32_t t = htole32(type);
	uint64_t s = htole64(sector);

	memset(b->hdr, 0, 16);
	memcpy(b->hdr, &t, 4);
	memcpy(b->hdr + 8, &s, 8);
}

static void add(struct pbuf *b, void *p, size_t len, bool writable)
{
	struct virtq_elem *e = &b->elem;

	e->iov[e->out_num + e->in_num] = (struct iovec){ p, len };
	if (writable) {
		e->in_num++;
		e->in_len += len;
	} else {
		e->out_num++;
		e->out_len += len;
	}
}

/* header, optional data (dir), status */
static enum vblk_parse_err build_parse(struct pbuf *b, uint32_t type, uint64_t sector, size_t data_len,
				       bool data_writable, const struct vblk_limits *lim)
{
	memset(&b->elem, 0, sizeof(b->elem));
	hdr_set(b, type, sector);
	add(b, b->hdr, 16, false);
	if (data_len)
		add(b, b->data, data_len, data_writable);
	add(b, &b->st, 1, true);
	return vblk_req_parse(lim, &b->elem, b->iov, VIRTQ_ELEM_MAX_SEGS, &b->p);
}

static void test_good_in_out(void **state)
{
	(void)state;
	struct pbuf *b = calloc(1, sizeof(*b));

	assert_int_equal(build_parse(b, VIRTIO_BLK_T_IN, 8, 4096, true, &LIM), VBLK_PARSE_OK);
	assert_int_equal(b->p.type, VIRTIO_BLK_T_IN);
	assert_int_equal(b->p.offset, 8 * 512);
	assert_int_equal(b->p.data_len, 4096);
	assert_int_equal(b->p.iovcnt, 1);
	assert_ptr_equal(b->p.iov[0].iov_base, b->data);
	assert_ptr_equal(b->p.status, &b->st);

	assert_int_equal(build_parse(b, VIRTIO_BLK_T_OUT, 2047, 512, false, &LIM), VBLK_PARSE_OK);   /* last sector */
	assert_int_equal(b->p.offset, 2047 * 512);
	assert_ptr_equal(b->p.iov[0].iov_base, b->data);
	free(b);
}

static void test_split_header_and_shared_status(void **state)
{
	(void)state;
	struct pbuf *b = calloc(1, sizeof(*b));

	/* Header split 5 + 11 across buffers, data and status in one writable buffer. */
	hdr_set(b, VIRTIO_BLK_T_IN, 3);
	add(b, b->hdr, 5, false);
	add(b, b->hdr + 5, 11, false);
	add(b, b->data, 1025, true);
	assert_int_equal(vblk_req_parse(&LIM, &b->elem, b->iov, VIRTQ_ELEM_MAX_SEGS, &b->p), VBLK_PARSE_OK);
	assert_int_equal(b->p.offset, 3 * 512);
	assert_int_equal(b->p.data_len, 1024);
	assert_int_equal(b->p.iov[0].iov_len, 1024);
	assert_ptr_equal(b->p.status, &b->data[1024]);

	/* Header and write data in one readable buffer. */
	memset(&b->elem, 0, sizeof(b->elem));
	hdr_set(b, VIRTIO_BLK_T_OUT, 1);
	memcpy(b->data, b->hdr, 16);
	add(b, b->data, 16 + 512, false);
	add(b, &b->st, 1, true);
	assert_int_equal(vblk_req_parse(&LIM, &b->elem, b->iov, VIRTQ_ELEM_MAX_SEGS, &b->p), VBLK_PARSE_OK);
	assert_ptr_equal(b->p.iov[0].iov_base, b->data + 16);
	assert_int_equal(b->p.iov[0].iov_len, 512);
	free(b);
}

static void test_errors(void **state)
{
	(void)state;
	struct pbuf *b = calloc(1, sizeof(*b));
	struct vblk_limits ro = LIM;

	ro.readonly = true;

	/* No status byte at all: everything readable. */
	memset(&b->elem, 0, sizeof(b->elem));
	hdr_set(b, VIRTIO_BLK_T_IN, 0);
	add(b, b->hdr, 16, false);
	assert_int_equal(vblk_req_parse(&LIM, &b->elem, b->iov, VIRTQ_ELEM_MAX_SEGS, &b->p), VBLK_PARSE_NO_STATUS);
	assert_null(b->p.status);

	/* Header too short (status present, so it can be reported). */
	memset(&b->elem, 0, sizeof(b->elem));
	add(b, b->hdr, 15, false);
	add(b, &b->st, 1, true);
	assert_int_equal(vblk_req_parse(&LIM, &b->elem, b->iov, VIRTQ_ELEM_MAX_SEGS, &b->p), VBLK_PARSE_SHORT_HEADER);
	assert_ptr_equal(b->p.status, &b->st);

	assert_int_equal(build_parse(b, VIRTIO_BLK_T_IN, 0, 511, true, &LIM), VBLK_PARSE_PARTIAL_SECTOR);
	assert_int_equal(build_parse(b, VIRTIO_BLK_T_OUT, 0, 1000, false, &LIM), VBLK_PARSE_PARTIAL_SECTOR);
	assert_int_equal(build_parse(b, VIRTIO_BLK_T_IN, 0, 512, false, &LIM), VBLK_PARSE_WRONG_DIRECTION);   /* read into readable buffer */
	assert_int_equal(build_parse(b, VIRTIO_BLK_T_OUT, 0, 512, true, &LIM), VBLK_PARSE_WRONG_DIRECTION);   /* write from writable buffer */
	assert_int_equal(build_parse(b, VIRTIO_BLK_T_IN, 2048, 512, true, &LIM), VBLK_PARSE_PAST_END);
	assert_int_equal(build_parse(b, VIRTIO_BLK_T_IN, 2047, 1024, true, &LIM), VBLK_PARSE_PAST_END);
	assert_int_equal(build_parse(b, VIRTIO_BLK_T_IN, UINT64_MAX, 512, true, &LIM), VBLK_PARSE_PAST_END);
	assert_int_equal(build_parse(b, VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, 512, false, &LIM), VBLK_PARSE_PAST_END);
	assert_int_equal(build_parse(b, VIRTIO_BLK_T_OUT, 0, 512, false, &ro), VBLK_PARSE_READ_ONLY);
	assert_int_equal(build_parse(b, VIRTIO_BLK_T_IN, 0, 512, true, &ro), VBLK_PARSE_OK);
	assert_int_equal(build_parse(b, 99, 0, 0, false, &LIM), VBLK_PARSE_UNSUPPORTED);
	assert_int_equal(build_parse(b, VIRTIO_BLK_T_GET_ID, 0, 19, true, &LIM), VBLK_PARSE_ID_TOO_SHORT);
	assert_int_equal(build_parse(b, VIRTIO_BLK_T_GET_ID, 0, 20, true, &LIM), VBLK_PARSE_OK);
	assert_int_equal(b->p.data_len, 20);
	assert_int_equal(build_parse(b, VIRTIO_BLK_T_FLUSH, 0, 0, false, &LIM), VBLK_PARSE_OK);

	struct vblk_limits small = LIM;

	small.max_data = 1024;
	assert_int_equal(build_parse(b, VIRTIO_BLK_T_IN, 0, 1536, true, &small), VBLK_PARSE_TOO_LONG);

	/* iov capacity too small to describe the data. */
	memset(&b->elem, 0, sizeof(b->elem));
	hdr_set(b, VIRTIO_BLK_T_IN, 0);
	add(b, b->hdr, 16, false);
	add(b, b->data, 512, true);
	add(b, b->data + 512, 512, true);
	add(b, &b->st, 1, true);
	assert_int_equal(vblk_req_parse(&LIM, &b->elem, b->iov, 1, &b->p), VBLK_PARSE_IOV_FULL);
	free(b);
}

static enum vblk_parse_err dwz(struct pbuf *b, uint32_t type, uint64_t sector, uint32_t num, uint32_t flags,
			       unsigned int nseg, const struct vblk_limits *lim)
{
	memset(&b->elem, 0, sizeof(b->elem));
	hdr_set(b, type, 0);
	for (unsigned int i = 0; i < nseg; i++) {
		uint64_t s = htole64(sector);
		uint32_t n = htole32(num), f = htole32(flags);

		memcpy(b->data + 16 * i, &s, 8);
		memcpy(b->data + 16 * i + 8, &n, 4);
		memcpy(b->data + 16 * i + 12, &f, 4);
	}
	add(b, b->hdr, 16, false);
	if (nseg)
		add(b, b->data, 16 * nseg, false);
	add(b, &b->st, 1, true);
	return vblk_req_parse(lim, &b->elem, b->iov, VIRTQ_ELEM_MAX_SEGS, &b->p);
}

static void test_discard_write_zeroes(void **state)
{
	(void)state;
	struct pbuf *b = calloc(1, sizeof(*b));
	struct vblk_limits lim = LIM, ro = LIM, none = LIM;

	ro.readonly = true;
	none.discard = false;
	none.write_zeroes = false;

	assert_int_equal(dwz(b, VIRTIO_BLK_T_DISCARD, 16, 8, 0, 1, &lim), VBLK_PARSE_OK);
	assert_int_equal(b->p.offset, 16 * 512);
	assert_int_equal(b->p.len, 8 * 512);
	assert_false(b->p.unmap);
	assert_int_equal(dwz(b, VIRTIO_BLK_T_WRITE_ZEROES, 2040, 8, VIRTIO_BLK_DWZ_F_UNMAP, 1, &lim), VBLK_PARSE_OK);
	assert_true(b->p.unmap);

	assert_int_equal(dwz(b, VIRTIO_BLK_T_DISCARD, 0, 8, VIRTIO_BLK_DWZ_F_UNMAP, 1, &lim), VBLK_PARSE_UNSUPPORTED);
	assert_int_equal(dwz(b, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 2, 1, &lim), VBLK_PARSE_UNSUPPORTED);
	assert_int_equal(dwz(b, VIRTIO_BLK_T_DISCARD, 0, 0, 0, 1, &lim), VBLK_PARSE_SEGMENT_SECTORS);
	assert_int_equal(dwz(b, VIRTIO_BLK_T_DISCARD, 0, 65, 0, 1, &lim), VBLK_PARSE_SEGMENT_SECTORS);
	assert_int_equal(dwz(b, VIRTIO_BLK_T_DISCARD, 2041, 8, 0, 1, &lim), VBLK_PARSE_PAST_END);
	assert_int_equal(dwz(b, VIRTIO_BLK_T_WRITE_ZEROES, UINT64_MAX - 2, 8, 0, 1, &lim), VBLK_PARSE_PAST_END);
	assert_int_equal(dwz(b, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 2, &lim), VBLK_PARSE_SEGMENT_COUNT);
	assert_int_equal(dwz(b, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 0, &lim), VBLK_PARSE_SEGMENT_COUNT);
	assert_int_equal(dwz(b, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 1, &ro), VBLK_PARSE_READ_ONLY);
	assert_int_equal(dwz(b, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 1, &none), VBLK_PARSE_UNSUPPORTED);
	assert_int_equal(dwz(b, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0, 1, &none), VBLK_PARSE_UNSUPPORTED);
	/* A payload that is not whole segments. */
	memset(&b->elem, 0, sizeof(b->elem));
	hdr_set(b, VIRTIO_BLK_T_DISCARD, 0);
	add(b, b->hdr, 16, false);
	add(b, b->data, 12, false);
	add(b, &b->st, 1, true);
	assert_int_equal(vblk_req_parse(&lim, &b->elem, b->iov, VIRTQ_ELEM_MAX_SEGS, &b->p), VBLK_PARSE_SEGMENT_COUNT);
	free(b);
}

static void test_status_mapping(void **state)
{
	(void)state;
	/* UNSUPP for an unsupported request, as the spec asks; IOERR for every other fault. */
	for (int e = VBLK_PARSE_OK + 1; e < VBLK_PARSE_ERRORS; e++)
		assert_int_equal(vblk_req_parse_status((enum vblk_parse_err)e),
				 e == VBLK_PARSE_UNSUPPORTED ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_in_out),
		cmocka_unit_test(test_split_header_and_shared_status),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_discard_write_zeroes),
		cmocka_unit_test(test_status_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

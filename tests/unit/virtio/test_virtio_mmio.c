/* SPDX-License-Identifier: MIT */
/* Unit tests for the virtio-mmio transport: identification, feature negotiation, queue setup, status and interrupts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virtio_mmio.h"
#include "virtqueue.h"

#define FEAT_DEV ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << 5))

struct fake_dev {
	struct virtio_mmio t;
	uint8_t config[16];
	int resets, driver_oks, notifies, features_oks;
	uint64_t last_features;
	uint32_t last_notify;
	int refuse_features;
};

static void cfg_read(void *ctx, uint32_t off, void *data, unsigned int len)
{
	struct fake_dev *d = ctx;

	memcpy(data, d->config + off, len);
}

static void cfg_write(void *ctx, uint32_t off, const void *data, unsigned int len)
{
	struct fake_dev *d = ctx;

	memcpy(d->config + off, data, len);
}

static int feat_ok(void *ctx, uint64_t features)
{
	struct fake_dev *d = ctx;

	d->features_oks++;
	d->last_features = features;
	return d->refuse_features ? -EINVAL : 0;
}

static void drv_ok(void *ctx, struct virtio_mmio *t)
{
	struct fake_dev *d = ctx;

	assert_ptr_equal(t, &d->t);
	d->driver_oks++;
}

static void do_reset(void *ctx)
{
	((struct fake_dev *)ctx)->resets++;
}

static void q_notify(void *ctx, uint32_t q)
{
	struct fake_dev *d = ctx;

	d->notifies++;
	d->last_notify = q;
}

static const struct virtio_mmio_ops ops = {
	.config_read = cfg_read,
	.config_write = cfg_write,
	.features_ok = feat_ok,
	.driver_ok = drv_ok,
	.reset = do_reset,
	.queue_notify = q_notify,
};

static int setup(void **state)
{
	struct fake_dev *d = calloc(1, sizeof(*d));

	if (!d || virtio_mmio_init(&d->t, 2, FEAT_DEV, 1, 256, sizeof(d->config), &ops, d) != 0)
		return -1;
	for (unsigned int i = 0; i < sizeof(d->config); i++)
		d->config[i] = (uint8_t)(0x10 + i);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct fake_dev *d = *state;

	virtio_mmio_destroy(&d->t);
	free(d);
	return 0;
}

static uint32_t rd(struct fake_dev *d, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	virtio_mmio_read(&d->t, off, &v, 4);
	return v;
}

static void wr(struct fake_dev *d, uint64_t off, uint32_t v)
{
	virtio_mmio_write(&d->t, off, &v, 4);
}

static void test_init_args(void **state)
{
	(void)state;
	struct virtio_mmio t;

	assert_int_equal(virtio_mmio_init(&t, 2, 1ull << 5, 1, 256, 0, &ops, NULL), -EINVAL);
	assert_int_equal(virtio_mmio_init(&t, 2, FEAT_DEV, 0, 256, 0, &ops, NULL), -EINVAL);
	assert_int_equal(virtio_mmio_init(&t, 2, FEAT_DEV, 1, 0, 0, &ops, NULL), -EINVAL);
	assert_int_equal(virtio_mmio_init(&t, 2, FEAT_DEV, 1, 256, 0x101, &ops, NULL), -EINVAL);
}

static void test_identity(void **state)
{
	struct fake_dev *d = *state;

	assert_int_equal(rd(d, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd(d, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(rd(d, VIRTIO_MMIO_DEVICE_ID), 2);
	assert_int_equal(rd(d, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
}

static void test_bad_access(void **state)
{
	struct fake_dev *d = *state;
	uint8_t b[8];

	memset(b, 0xff, sizeof(b));
	virtio_mmio_read(&d->t, VIRTIO_MMIO_MAGIC_VALUE, b, 2);   /* wrong size */
	assert_int_equal(b[0] | b[1], 0);
	memset(b, 0xff, sizeof(b));
	virtio_mmio_read(&d->t, VIRTIO_MMIO_MAGIC_VALUE + 1, b, 4);   /* unaligned */
	assert_int_equal(b[0] | b[1] | b[2] | b[3], 0);
	memset(b, 0xff, sizeof(b));
	virtio_mmio_read(&d->t, VIRTIO_MMIO_MAGIC_VALUE, b, 8);
	assert_int_equal(b[0] | b[7], 0);
	virtio_mmio_read(&d->t, 0x1000000, b, 4);   /* far outside */
	assert_int_equal(b[0], 0);
	/* Writes of the wrong size do nothing. */
	uint16_t s = 0;

	virtio_mmio_write(&d->t, VIRTIO_MMIO_STATUS, &s, 2);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_mmio_write(&d->t, VIRTIO_MMIO_STATUS, &s, 2);
	assert_int_equal(rd(d, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(d->resets, 0);
	/* Config accesses beyond config space are refused, zero length is harmless. */
	uint32_t v = 0xffffffff;

	virtio_mmio_read(&d->t, VIRTIO_MMIO_CONFIG + 14, &v, 4);
	assert_int_equal(v, 0);
	virtio_mmio_write(&d->t, VIRTIO_MMIO_CONFIG + 14, &v, 4);
	assert_int_equal(d->config[14], 0x1e);
	virtio_mmio_read(&d->t, VIRTIO_MMIO_CONFIG, b, 0);
	virtio_mmio_read(&d->t, VIRTIO_MMIO_CONFIG, b, 3);
	assert_int_equal(b[0], 0);
	/* Read-only registers ignore writes. */
	wr(d, VIRTIO_MMIO_MAGIC_VALUE, 0);
	assert_int_equal(rd(d, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
}

static void test_config_space(void **state)
{
	struct fake_dev *d = *state;
	uint8_t b = 0;
	uint64_t q = 0;

	virtio_mmio_read(&d->t, VIRTIO_MMIO_CONFIG + 3, &b, 1);
	assert_int_equal(b, 0x13);
	virtio_mmio_read(&d->t, VIRTIO_MMIO_CONFIG + 8, &q, 8);
	assert_int_equal(q, 0x1f1e1d1c1b1a1918ull);
	b = 0x77;
	virtio_mmio_write(&d->t, VIRTIO_MMIO_CONFIG + 15, &b, 1);
	assert_int_equal(d->config[15], 0x77);
}

static void test_feature_select(void **state)
{
	struct fake_dev *d = *state;

	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(rd(d, VIRTIO_MMIO_DEVICE_FEATURES), (uint32_t)FEAT_DEV);
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(rd(d, VIRTIO_MMIO_DEVICE_FEATURES), (uint32_t)(FEAT_DEV >> 32));
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(rd(d, VIRTIO_MMIO_DEVICE_FEATURES), 0);

	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1u << 5);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 7);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);   /* out of range select: ignored */
	assert_int_equal(virtio_mmio_features(&d->t), (1ull << 32) | (1u << 5));
}

static void negotiate(struct fake_dev *d, uint64_t features)
{
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
}

static void test_version1_required(void **state)
{
	struct fake_dev *d = *state;

	negotiate(d, 1ull << 5);
	assert_int_equal(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, 0);
	assert_int_equal(d->features_oks, 0);
	/* DRIVER_OK without FEATURES_OK does not start the device. */
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(d->driver_oks, 0);
}

static void test_unoffered_feature_refused(void **state)
{
	struct fake_dev *d = *state;

	negotiate(d, (1ull << VIRTIO_F_VERSION_1) | (1ull << 7));
	assert_int_equal(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, 0);
}

static void test_device_refuses(void **state)
{
	struct fake_dev *d = *state;

	d->refuse_features = 1;
	negotiate(d, 1ull << VIRTIO_F_VERSION_1);
	assert_int_equal(d->features_oks, 1);
	assert_int_equal(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, 0);
}

static void test_full_bringup_and_reset(void **state)
{
	struct fake_dev *d = *state;
	uint64_t feats = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX);

	negotiate(d, feats);
	assert_int_equal(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(d->last_features, feats);
	/* Features are frozen after FEATURES_OK. */
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	assert_int_equal(virtio_mmio_features(&d->t), feats);

	wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, 128);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x1);
	wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x2000);
	wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0x2);
	wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0x3000);
	wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0x3);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(d->t.queues[0].num, 128);
	assert_int_equal(d->t.queues[0].desc, 0x100001000ull);
	assert_int_equal(d->t.queues[0].driver, 0x200002000ull);
	assert_int_equal(d->t.queues[0].device, 0x300003000ull);
	/* Setup of a ready queue is frozen. */
	wr(d, VIRTIO_MMIO_QUEUE_NUM, 64);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);
	assert_int_equal(d->t.queues[0].num, 128);
	assert_int_equal(d->t.queues[0].desc, 0x100001000ull);
	assert_int_equal(d->driver_oks, 0);

	wr(d, VIRTIO_MMIO_STATUS, 0xf);
	assert_int_equal(rd(d, VIRTIO_MMIO_STATUS), 0xf);
	assert_int_equal(d->driver_oks, 1);
	/* Bits cannot be taken back without a reset: features stay frozen, no second DRIVER_OK. */
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	assert_int_equal(rd(d, VIRTIO_MMIO_STATUS), 0xf);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	assert_int_equal(virtio_mmio_features(&d->t), feats);
	wr(d, VIRTIO_MMIO_STATUS, 0xf);
	assert_int_equal(d->driver_oks, 1);

	/* Notify goes to the device; a nonexistent queue is ignored. */
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 3);
	assert_int_equal(d->notifies, 1);
	assert_int_equal(d->last_notify, 0);

	/* Interrupt status and ack. */
	virtio_mmio_raise_irq(&d->t, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	wr(d, VIRTIO_MMIO_INTERRUPT_ACK, 1);
	assert_int_equal(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	/* NEEDS_RESET: status bit, config interrupt, generation bump; the driver cannot clear it. */
	uint32_t gen = rd(d, VIRTIO_MMIO_CONFIG_GENERATION);

	virtio_mmio_set_needs_reset(&d->t);
	assert_int_equal(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_not_equal(rd(d, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	wr(d, VIRTIO_MMIO_STATUS, 0xf);
	assert_int_equal(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);

	/* Reset: device hook, then everything back to power-on values. */
	wr(d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(d->resets, 1);
	assert_int_equal(rd(d, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(d->t.queues[0].desc, 0);
	assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	assert_int_equal(virtio_mmio_features(&d->t), 0);
}

static void test_queue_sel_out_of_range(void **state)
{
	struct fake_dev *d = *state;

	wr(d, VIRTIO_MMIO_QUEUE_SEL, 5);
	assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
	wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, 512);   /* above QueueNumMax */
	assert_int_equal(d->t.queues[0].num, 0);
}

static void test_ready_after_driver_ok(void **state)
{
	struct fake_dev *d = *state;

	negotiate(d, 1ull << VIRTIO_F_VERSION_1);
	wr(d, VIRTIO_MMIO_STATUS, 0xf);
	assert_int_equal(d->driver_oks, 1);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(d->driver_oks, 2);
}

/* A live queue cannot be stopped without a device reset (no VIRTIO_F_RING_RESET): QueueReady=0 is ignored. */
static void test_ready_zero_ignored_while_live(void **state)
{
	struct fake_dev *d = *state;

	negotiate(d, 1ull << VIRTIO_F_VERSION_1);
	wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	/* Before DRIVER_OK the driver may still take a queue back and change it. */
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x2000);
	assert_int_equal(d->t.queues[0].desc, 0x2000);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(d, VIRTIO_MMIO_STATUS, 0xf);
	assert_int_equal(d->driver_oks, 1);

	/* Live: the queue stays ready and its setup frozen; no second activation. */
	wr(d, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 1);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);
	assert_int_equal(d->t.queues[0].desc, 0x2000);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(d->driver_oks, 1);

	/* After a reset the write is taken again (Linux's del_vq writes 0 and reads it back). */
	wr(d, VIRTIO_MMIO_STATUS, 0);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_args),
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feature_select, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version1_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unoffered_feature_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_bringup_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_sel_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ready_after_driver_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ready_zero_ignored_while_live, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/* Unit tests for the 16550A model: what Linux's 8250 driver relies on. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "serial.h"

struct sink {
	uint8_t out[64];
	unsigned int nout;
	int level;
	unsigned int edges;
};

static void sink_tx(void *ctx, uint8_t b)
{
	struct sink *s = ctx;

	assert_true(s->nout < sizeof(s->out));
	s->out[s->nout++] = b;
}

static void sink_irq(void *ctx, int level)
{
	struct sink *s = ctx;

	assert_int_not_equal(level, s->level);  /* only changes are reported */
	s->level = level;
	if (level)
		s->edges++;
}

static const struct serial_ops ops = { .tx = sink_tx, .set_irq = sink_irq };

/* The output may block (a full pipe): it must not be called with the UART's lock held. */
static struct serial *unlocked_uart;

static void unlocked_tx(void *ctx, uint8_t b)
{
	assert_int_equal(pthread_mutex_trylock(&unlocked_uart->lock), 0);
	pthread_mutex_unlock(&unlocked_uart->lock);
	sink_tx(ctx, b);
}

/* As a bus device: one register a byte; a read writes data[0] only, a write takes data[0]. */
static void test_bus_access(void **state)
{
	uint8_t data[4] = { 'b', 'x', 'y', 'z' };
	struct serial u;
	struct sink k = { 0 };

	(void)state;
	serial_init(&u, &ops, &k);
	serial_bus_write(&u, 0, data, 4);
	assert_int_equal(k.nout, 1);
	assert_int_equal(k.out[0], 'b');
	memset(data, 0xff, sizeof(data));
	serial_bus_read(&u, 5, data, 4);
	assert_int_equal(data[0], 0x60);   /* LSR: transmitter empty */
	assert_int_equal(data[1], 0xff);
	assert_int_equal(data[3], 0xff);
	serial_bus_write(&u, 7, (const uint8_t[]){ 0x5a }, 1);   /* scratch register */
	serial_bus_read(&u, 7, data, 1);
	assert_int_equal(data[0], 0x5a);
	serial_destroy(&u);
}

static void test_tx_outside_lock(void **state)
{
	static const struct serial_ops uops = { .tx = unlocked_tx, .set_irq = sink_irq };
	struct serial u;
	struct sink k = { 0 };

	(void)state;
	serial_init(&u, &uops, &k);
	unlocked_uart = &u;
	serial_write(&u, 0, 'o');
	serial_write(&u, 0, 'k');
	assert_int_equal(k.nout, 2);
	assert_memory_equal(k.out, "ok", 2);
}

static void test_tx_and_lsr(void **state)
{
	struct serial u;
	struct sink k = { 0 };

	(void)state;
	serial_init(&u, &ops, &k);
	serial_write(&u, 0, 'h');
	serial_write(&u, 0, 'i');
	assert_int_equal(k.nout, 2);
	assert_memory_equal(k.out, "hi", 2);
	/* Transmitter always empty, no data ready. */
	assert_int_equal(serial_read(&u, 5), 0x60);
	assert_int_equal(k.level, 0);  /* no interrupts enabled */
	serial_destroy(&u);
}

static void test_divisor_latch(void **state)
{
	struct serial u;
	struct sink k = { 0 };

	(void)state;
	serial_init(&u, &ops, &k);
	serial_write(&u, 3, 0x80);       /* DLAB */
	serial_write(&u, 0, 0x01);
	serial_write(&u, 1, 0x00);
	assert_int_equal(serial_read(&u, 0), 0x01);
	assert_int_equal(k.nout, 0);     /* DLL write is not output */
	serial_write(&u, 3, 0x03);       /* 8N1, DLAB off */
	serial_write(&u, 7, 0x5a);
	assert_int_equal(serial_read(&u, 7), 0x5a);  /* scratch register */
	serial_destroy(&u);
}

static void test_fifo_identifies_16550a(void **state)
{
	struct serial u;
	struct sink k = { 0 };

	(void)state;
	serial_init(&u, &ops, &k);
	assert_int_equal(serial_read(&u, 2) & 0xc0, 0);
	serial_write(&u, 2, 0x01);
	assert_int_equal(serial_read(&u, 2) & 0xc0, 0xc0);
	serial_destroy(&u);
}

static void test_rx_interrupt(void **state)
{
	struct serial u;
	struct sink k = { 0 };
	const uint8_t in[] = "ab";

	(void)state;
	serial_init(&u, &ops, &k);
	assert_int_equal(serial_input(&u, in, 2), 2);
	assert_int_equal(k.level, 0);                /* RDI not enabled yet */
	assert_int_equal(serial_read(&u, 5) & 1, 1); /* data ready */
	serial_write(&u, 1, 0x01);                   /* enable RDI */
	assert_int_equal(k.level, 1);
	assert_int_equal(serial_read(&u, 2) & 0x0f, 0x04);
	assert_int_equal(serial_read(&u, 0), 'a');
	assert_int_equal(k.level, 1);
	assert_int_equal(serial_read(&u, 0), 'b');
	assert_int_equal(k.level, 0);                /* drained: line drops */
	assert_int_equal(serial_read(&u, 2) & 0x0f, 0x01);
	serial_destroy(&u);
}

static void test_thre_interrupt(void **state)
{
	struct serial u;
	struct sink k = { 0 };

	(void)state;
	serial_init(&u, &ops, &k);
	serial_write(&u, 1, 0x02);                   /* enable THRI: empty THR raises it */
	assert_int_equal(k.level, 1);
	assert_int_equal(serial_read(&u, 2) & 0x0f, 0x02);
	assert_int_equal(k.level, 0);                /* reading IIR acknowledged it */
	serial_write(&u, 0, 'x');                    /* sent at once: THRE again */
	assert_int_equal(k.level, 1);
	assert_int_equal(k.edges, 2);
	serial_write(&u, 1, 0x00);
	assert_int_equal(k.level, 0);
	serial_destroy(&u);
}

static void test_rx_full_and_loopback(void **state)
{
	struct serial u;
	struct sink k = { 0 };
	static uint8_t big[SERIAL_RX_SIZE + 10];

	(void)state;
	serial_init(&u, &ops, &k);
	assert_int_equal(serial_input(&u, big, sizeof(big)), SERIAL_RX_SIZE);
	assert_int_equal(serial_rx_space(&u), 0);
	serial_write(&u, 2, 0x03);                   /* FIFO enable + clear RX */
	assert_int_equal(serial_rx_space(&u), SERIAL_RX_SIZE);
	serial_write(&u, 4, 0x10 | 0x02);            /* loopback with RTS */
	assert_int_equal(serial_read(&u, 6) & 0x10, 0x10); /* CTS follows RTS */
	serial_write(&u, 0, 'L');
	assert_int_equal(k.nout, 0);                 /* not sent outside */
	assert_int_equal(serial_read(&u, 0), 'L');
	serial_destroy(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_and_lsr),
		cmocka_unit_test(test_bus_access),
		cmocka_unit_test(test_tx_outside_lock),
		cmocka_unit_test(test_divisor_latch),
		cmocka_unit_test(test_fifo_identifies_16550a),
		cmocka_unit_test(test_rx_interrupt),
		cmocka_unit_test(test_thre_interrupt),
		cmocka_unit_test(test_rx_full_and_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

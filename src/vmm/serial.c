// SPDX-License-Identifier: MIT
/* 16550A UART model: enough of the chip for Linux's 8250 driver (console, tty input, THRE interrupts). */
#include "serial.h"

#include <string.h>

/* Register offsets and bits (PC16550D data sheet). */
#define UART_RBR_THR 0
#define UART_IER 1
#define UART_IIR_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01   /* received data available */
#define IER_THRI 0x02  /* transmitter holding register empty */
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

void serial_init(struct serial *s, const struct serial_ops *ops, void *ctx)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->ops = ops;
	s->ctx = ctx;
	s->mcr = MCR_OUT2;
	s->dll = 12;            /* 9600 baud, what firmware would leave */
}

void serial_destroy(struct serial *s)
{
	pthread_mutex_destroy(&s->lock);
}

static uint8_t serial_iir_locked(const struct serial *s)
{
	uint8_t fifo = s->fifo_enabled ? IIR_FIFO : 0;

	if ((s->ier & IER_RDI) && s->rx_len)
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thre_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

/* Recompute the interrupt output; called with the lock held after every state change. */
static void serial_update_irq_locked(struct serial *s)
{
	int level = !(serial_iir_locked(s) & IIR_NONE);

	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->ops && s->ops->set_irq)
			s->ops->set_irq(s->ctx, level);
	}
}

static uint8_t serial_rx_pop_locked(struct serial *s)
{
	uint8_t c;

	if (!s->rx_len)
		return 0;
	c = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_RX_SIZE;
	s->rx_len--;
	return c;
}

static unsigned int serial_rx_push_locked(struct serial *s, const uint8_t *buf, unsigned int len)
{
	unsigned int n = 0;

	while (n < len && s->rx_len < SERIAL_RX_SIZE) {
		s->rx[(s->rx_head + s->rx_len) % SERIAL_RX_SIZE] = buf[n++];
		s->rx_len++;
	}
	return n;
}

uint8_t serial_read(struct serial *s, unsigned int off)
{
	uint8_t v = 0xff;

	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RBR_THR:
		v = (s->lcr & LCR_DLAB) ? s->dll : serial_rx_pop_locked(s);
		break;
	case UART_IER:
		v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case UART_IIR_FCR:
		v = serial_iir_locked(s);
		/* Reading IIR while it reports THRE acknowledges that interrupt. */
		if ((v & 0x0f) == IIR_THRI)
			s->thre_pending = false;
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		/* Transmission is instantaneous, so the transmitter is always empty. */
		v = LSR_THRE | LSR_TEMT | (s->rx_len ? LSR_DR : 0);
		break;
	case UART_MSR:
		if (s->mcr & MCR_LOOP) {
			/* Loopback: modem outputs feed the modem inputs. */
			v = 0;
			if (s->mcr & MCR_DTR) v |= MSR_DSR;
			if (s->mcr & MCR_RTS) v |= MSR_CTS;
			if (s->mcr & MCR_OUT1) v |= MSR_RI;
			if (s->mcr & MCR_OUT2) v |= MSR_DCD;
		} else {
			v = MSR_DCD | MSR_DSR | MSR_CTS;
		}
		break;
	case UART_SCR:
		v = s->scr;
		break;
	}
	serial_update_irq_locked(s);
	pthread_mutex_unlock(&s->lock);
	return v;
}

void serial_write(struct serial *s, unsigned int off, uint8_t val)
{
	bool tx = false;

	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = val;
		} else if (s->mcr & MCR_LOOP) {
			serial_rx_push_locked(s, &val, 1);
			s->thre_pending = true;
		} else {
			tx = s->ops && s->ops->tx;
			s->thre_pending = true;
		}
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = val;
		} else {
			/* Enabling THRI while the transmitter is empty raises it at once, as on the chip. */
			if ((val & IER_THRI) && !(s->ier & IER_THRI))
				s->thre_pending = true;
			s->ier = val & 0x0f;
		}
		break;
	case UART_IIR_FCR:
		s->fifo_enabled = val & FCR_ENABLE;
		if (val & FCR_CLEAR_RX)
			s->rx_head = s->rx_len = 0;
		break;
	case UART_LCR:
		s->lcr = val;
		break;
	case UART_MCR:
		s->mcr = val & 0x1f;
		break;
	case UART_SCR:
		s->scr = val;
		break;
	default:
		break;  /* LSR and MSR are read-only */
	}
	serial_update_irq_locked(s);
	pthread_mutex_unlock(&s->lock);
	/*
	 * Outside the lock: the output may block (a reader that stopped
	 * reading), and the main loop takes this lock to feed input, so it
	 * would stop too, and with it --timeout and signals. The writing vCPU
	 * cannot send its next byte before this returns, so its bytes stay in
	 * order.
	 */
	if (tx)
		s->ops->tx(s->ctx, val);
}

void serial_bus_read(void *ctx, uint64_t off, void *data, unsigned int len)
{
	(void)len;
	*(uint8_t *)data = serial_read(ctx, (unsigned int)off);
}

void serial_bus_write(void *ctx, uint64_t off, const void *data, unsigned int len)
{
	(void)len;
	serial_write(ctx, (unsigned int)off, *(const uint8_t *)data);
}

unsigned int serial_input(struct serial *s, const uint8_t *buf, unsigned int len)
{
	unsigned int n;

	pthread_mutex_lock(&s->lock);
	n = serial_rx_push_locked(s, buf, len);
	serial_update_irq_locked(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

unsigned int serial_rx_space(struct serial *s)
{
	unsigned int n;

	pthread_mutex_lock(&s->lock);
	n = SERIAL_RX_SIZE - s->rx_len;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* SPDX-License-Identifier: MIT */
/* A 16550A UART: register model only; where it sits, output, input and the IRQ line are its user's. */
#ifndef VMM_SERIAL_H
#define VMM_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Registers, at offsets 0..7 (x86 puts them at ports 0x3f8-0x3ff: COM1). */
#define SERIAL_NREGS 8
#define SERIAL_RX_SIZE 4096

struct serial_ops {
	/* Guest wrote a byte to THR. */
	void (*tx)(void *ctx, uint8_t byte);
	/* The interrupt output changed level. */
	void (*set_irq)(void *ctx, int level);
};

struct serial {
	pthread_mutex_t lock;   /* vCPU threads access registers while the main thread feeds input */
	const struct serial_ops *ops;
	void *ctx;

	uint8_t ier, lcr, mcr, scr, dll, dlm;
	bool fifo_enabled;
	bool thre_pending;      /* THR-empty interrupt condition, cleared by reading IIR or writing THR */
	int irq_level;

	uint8_t rx[SERIAL_RX_SIZE];
	unsigned int rx_head, rx_len;
};

void serial_init(struct serial *s, const struct serial_ops *ops, void *ctx);
void serial_destroy(struct serial *s);
/* Port accesses at offset 0..7 from the base. */
uint8_t serial_read(struct serial *s, unsigned int off);
void serial_write(struct serial *s, unsigned int off, uint8_t val);
/*
 * The registers as a bus device (struct bus_range's read and write, ctx the
 * struct serial): one register a byte, at offset off (< SERIAL_NREGS). A
 * read writes data[0] only; a write takes data[0]. Wider accesses are the
 * guest's odd choice: the other bytes are left alone or ignored.
 */
void serial_bus_read(void *ctx, uint64_t off, void *data, unsigned int len);
void serial_bus_write(void *ctx, uint64_t off, const void *data, unsigned int len);
/* Queue host input for the guest. Returns bytes accepted (fewer when the FIFO is full). */
unsigned int serial_input(struct serial *s, const uint8_t *buf, unsigned int len);
/* Free space in the receive FIFO. */
unsigned int serial_rx_space(struct serial *s);

#endif

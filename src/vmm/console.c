/* SPDX-License-Identifier: MIT */
/* The UART's host side: where the guest's console output goes, stdin into its receive FIFO, and its interrupt. */
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "vm_internal.h"

static void vm_console_tx(void *ctx, uint8_t byte)
{
	struct vm *vm = ctx;

	/* Once the VM is stopping, bytes are dropped (a `rep outsb` may still have many to go). */
	if (vm->serial_out < 0 || atomic_load(&vm->stopping))
		return;
	/*
	 * A reader that stops reading holds the vCPU here, as a real line would
	 * hold the UART. The stop kicks (vm_vcpus_stop repeats them until the
	 * thread ends) interrupt the write (EINTR), and the byte is dropped, so
	 * no reader can keep vmm from stopping.
	 */
	while (write(vm->serial_out, &byte, 1) < 0 && errno == EINTR && !atomic_load(&vm->stopping))
		;
}

static void vm_console_set_irq(void *ctx, int level)
{
	struct vm *vm = ctx;

	kvm_vm_irq_line(&vm->kvm, arch_board.uart_irq.line, level);
}

static const struct serial_ops vm_console_ops = {
	.tx = vm_console_tx,
	.set_irq = vm_console_set_irq,
};

void vm_console_init(struct vm *vm)
{
	vm->serial_out = -1;
	serial_init(&vm->serial, &vm_console_ops, vm);
}

int vm_console_open(struct vm *vm, struct vm_error *err)
{
	switch (vm->cfg->serial) {
	case VM_SERIAL_NONE:
		vm->serial_out = -1;
		break;
	case VM_SERIAL_FILE:
		/* O_NONBLOCK: a FIFO nobody reads would block the open for ever; it says ENXIO instead. */
		vm->serial_out = open(vm->cfg->serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
		if (vm->serial_out < 0)
			return vm_error_set(err, VM_STAGE_SERIAL, -errno, vm->cfg->serial_path);
		vm->serial_out_owned = true;
		/* Writes block again (vm_console_tx): a slow reader slows the guest, as a slow line would. */
		int fl = fcntl(vm->serial_out, F_GETFL);

		if (fl < 0 || fcntl(vm->serial_out, F_SETFL, fl & ~O_NONBLOCK) < 0)
			return vm_error_set(err, VM_STAGE_SERIAL, -errno, vm->cfg->serial_path);
		break;
	default:
		vm->serial_out = STDOUT_FILENO;
		break;
	}
	return 0;
}

bool vm_console_feed(struct vm *vm, int ep, bool *stdin_on)
{
	uint8_t buf[512];
	unsigned int space = serial_rx_space(&vm->serial);
	ssize_t n;

	if (space == 0)
		return true;
	n = read(STDIN_FILENO, buf, space < sizeof(buf) ? space : sizeof(buf));
	if (n > 0) {
		serial_input(&vm->serial, buf, n);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		/* EOF or a dead terminal: stop listening, the guest keeps running. */
		epoll_ctl(ep, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
		*stdin_on = false;
	}
	return false;
}

void vm_console_destroy(struct vm *vm)
{
	if (vm->serial_out_owned)
		close(vm->serial_out);
	serial_destroy(&vm->serial);
}

/* SPDX-License-Identifier: MIT */
/* kvm_vm.c: the VM fd: creation, memslots, IRQ lines, irqfd, ioeventfd. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm.h"

int kvm_vm_create_type(struct kvm_sys *sys, struct kvm_vm *vm, unsigned long type)
{
	/* Retry on EINTR: creation can be interrupted while KVM allocates. */
	do {
		vm->fd = ioctl(sys->fd, KVM_CREATE_VM, type);
	} while (vm->fd < 0 && errno == EINTR);
	return vm->fd < 0 ? -errno : 0;
}

int kvm_vm_create(struct kvm_sys *sys, struct kvm_vm *vm)
{
	return kvm_vm_create_type(sys, vm, 0);
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
}

int kvm_vm_set_memslot(struct kvm_vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region region;

	memset(&region, 0, sizeof(region));
	region.slot = slot;
	region.guest_phys_addr = gpa;
	region.memory_size = size;
	region.userspace_addr = (uintptr_t)host;
	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

int kvm_vm_irq_line(struct kvm_vm *vm, uint32_t line, int level)
{
	struct kvm_irq_level irq;

	memset(&irq, 0, sizeof(irq));
	irq.irq = line;
	irq.level = level ? 1 : 0;
	return ioctl(vm->fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}

static int kvm_vm_irqfd_ctl(struct kvm_vm *vm, int fd, uint32_t gsi, uint32_t flags)
{
	struct kvm_irqfd irqfd;

	if (fd < 0)
		return -EBADF;
	memset(&irqfd, 0, sizeof(irqfd));
	irqfd.fd = (uint32_t)fd;
	irqfd.gsi = gsi;
	irqfd.flags = flags;
	return ioctl(vm->fd, KVM_IRQFD, &irqfd) < 0 ? -errno : 0;
}

int kvm_vm_irqfd(struct kvm_vm *vm, int fd, uint32_t gsi)
{
	return kvm_vm_irqfd_ctl(vm, fd, gsi, 0);
}

int kvm_vm_irqfd_remove(struct kvm_vm *vm, int fd, uint32_t gsi)
{
	return kvm_vm_irqfd_ctl(vm, fd, gsi, KVM_IRQFD_FLAG_DEASSIGN);
}

static int kvm_vm_ioeventfd_ctl(struct kvm_vm *vm, int fd, uint64_t addr, uint32_t len, bool pio,
				uint32_t flags)
{
	struct kvm_ioeventfd io;

	if (fd < 0)
		return -EBADF;
	memset(&io, 0, sizeof(io));
	io.addr = addr;
	io.len = len;
	io.fd = fd;
	io.flags = flags | (pio ? KVM_IOEVENTFD_FLAG_PIO : 0);
	return ioctl(vm->fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

int kvm_vm_ioeventfd(struct kvm_vm *vm, int fd, uint64_t addr, uint32_t len, bool pio)
{
	return kvm_vm_ioeventfd_ctl(vm, fd, addr, len, pio, 0);
}

int kvm_vm_ioeventfd_remove(struct kvm_vm *vm, int fd, uint64_t addr, uint32_t len, bool pio)
{
	return kvm_vm_ioeventfd_ctl(vm, fd, addr, len, pio, KVM_IOEVENTFD_FLAG_DEASSIGN);
}

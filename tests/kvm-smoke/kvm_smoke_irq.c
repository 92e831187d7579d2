/* SPDX-License-Identifier: MIT */
/* kvm-smoke: the in-kernel irqchip and PIT, ioeventfd and irqfd, with real-mode guests that take interrupts. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kvm_smoke.h"

/* Writes to an ioeventfd port and an ioeventfd MMIO address, then a
 * marker write to 0x3f8 that must be the first exit userspace sees. */
static const uint8_t guest_ioev[] = {
	0xba, 0x00, 0x06,                                     /* 00 mov dx, 0x600 */
	0xb8, 0x01, 0x00,                                     /* 03 mov ax, 1 */
	0xef,                                                 /* 06 out dx, ax */
	0xb8, 0x00, 0x30,                                     /* 07 mov ax, 0x3000 */
	0x8e, 0xd8,                                           /* 0a mov ds, ax */
	0x66, 0xc7, 0x06, 0x00, 0x00, 0x44, 0x33, 0x22, 0x11, /* 0c mov dword [0], 0x11223344 */
	0x31, 0xc0,                                           /* 15 xor ax, ax */
	0x8e, 0xd8,                                           /* 17 mov ds, ax */
	0xba, 0xf8, 0x03,                                     /* 19 mov dx, 0x3f8 */
	0xb0, 0x44,                                           /* 1c mov al, 'D' */
	0xee,                                                 /* 1e out dx, al */
	0xf4,                                                 /* 1f hlt */
};

/*
 * Interrupt guest, linked at 0x1000: IVT vectors 0x20 (IRQ0) and 0x25
 * (IRQ5) point at handlers that EOI the PIC and write their vector to port
 * 0x501. It programs the master 8259 (base 0x20, mask from BL), starts PIT
 * channel 0 in mode 2 with count 0x2e9c (about 10 ms), reports ready on
 * port 0x500, then idles in sti; hlt.
 */
#define IRQ_PORT_READY 0x500
#define IRQ_PORT_VECTOR 0x501
static const uint8_t guest_irq[] = {
	0xfa,                               /* 1000 cli */
	0x31, 0xc0,                         /* 1001 xor ax, ax */
	0x8e, 0xd8,                         /* 1003 mov ds, ax */
	0x8e, 0xd0,                         /* 1005 mov ss, ax */
	0xbc, 0x00, 0x80,                   /* 1007 mov sp, 0x8000 */
	0xc7, 0x06, 0x80, 0x00, 0x4a, 0x10, /* 100a mov word [0x80], isr0 */
	0xc7, 0x06, 0x82, 0x00, 0x00, 0x00, /* 1010 mov word [0x82], 0 */
	0xc7, 0x06, 0x94, 0x00, 0x55, 0x10, /* 1016 mov word [0x94], isr5 */
	0xc7, 0x06, 0x96, 0x00, 0x00, 0x00, /* 101c mov word [0x96], 0 */
	0xb0, 0x11, 0xe6, 0x20,             /* 1022 ICW1: edge, cascade, ICW4 */
	0xb0, 0x20, 0xe6, 0x21,             /* 1026 ICW2: vector base 0x20 */
	0xb0, 0x04, 0xe6, 0x21,             /* 102a ICW3: slave on IR2 */
	0xb0, 0x01, 0xe6, 0x21,             /* 102e ICW4: 8086 mode */
	0x88, 0xd8, 0xe6, 0x21,             /* 1032 OCW1: mask = bl */
	0xb0, 0x34, 0xe6, 0x43,             /* 1036 PIT ch0, lo/hi, mode 2 */
	0xb0, 0x9c, 0xe6, 0x40,             /* 103a count low */
	0xb0, 0x2e, 0xe6, 0x40,             /* 103e count high */
	0xba, 0x00, 0x05,                   /* 1042 mov dx, 0x500 */
	0xee,                               /* 1045 out dx, al (ready) */
	0xfb,                               /* 1046 sti */
	0xf4,                               /* 1047 idle: hlt */
	0xeb, 0xfd,                         /* 1048 jmp idle */
	0xb0, 0x20, 0xe6, 0x20,             /* 104a isr0: EOI */
	0xba, 0x01, 0x05,                   /* 104e mov dx, 0x501 */
	0xb0, 0x20,                         /* 1051 mov al, 0x20 */
	0xee,                               /* 1053 out dx, al */
	0xcf,                               /* 1054 iret */
	0xb0, 0x20, 0xe6, 0x20,             /* 1055 isr5: EOI */
	0xba, 0x01, 0x05,                   /* 1059 mov dx, 0x501 */
	0xb0, 0x25,                         /* 105c mov al, 0x25 */
	0xee,                               /* 105e out dx, al */
	0xcf,                               /* 105f iret */
};

static uint32_t lapic_reg(const struct kvm_lapic_state *l, unsigned int off)
{
	uint32_t v;

	memcpy(&v, &l->regs[off], sizeof(v));
	return v;
}

void test_irqchip_state(void **state)
{
	struct smoke *s = *state;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp;
	struct kvm_msr_entry msrs[] = {
		{ .index = 0x1a0 }, /* IA32_MISC_ENABLE */
		{ .index = 0x174 }, /* SYSENTER_CS */
		{ .index = 0xc0000082 }, /* LSTAR */
		{ .index = 0xc0000102 }, /* KERNEL_GS_BASE */
	};
	struct kvm_msr_entry probe = { .index = 0xc0000082, .data = 0xffffffff81000000ull };
	uint32_t failed = 0;
	int ret;

	/* kvm_vm_setup_x86 really created both: a second try is refused. */
	assert_int_equal(kvm_vm_create_irqchip(&s->vm), -EEXIST);
	assert_int_equal(kvm_vm_create_pit2(&s->vm), -EEXIST);

	assert_int_equal(kvm_vcpu_setup_lapic(&s->vcpu), 0);
	assert_int_equal(kvm_vcpu_get_lapic(&s->vcpu, &lapic), 0);
	assert_int_equal((lapic_reg(&lapic, 0x350) >> 8) & 7, 7); /* LINT0 ExtINT */
	assert_int_equal((lapic_reg(&lapic, 0x360) >> 8) & 7, 4); /* LINT1 NMI */
	assert_int_equal(lapic_reg(&lapic, 0x350) & (1u << 16), 0);
	assert_int_equal(lapic_reg(&lapic, 0x360) & (1u << 16), 0);

	/* Dirty one boot MSR so setup has something to undo. */
	assert_int_equal(kvm_vcpu_set_msrs(&s->vcpu, &probe, 1, NULL), 0);
	ret = kvm_vcpu_setup_msrs(&s->vcpu, &failed);
	if (ret == -EIO)
		fprintf(stderr, "KVM refused MSR 0x%x\n", failed);
	assert_int_equal(ret, 0);
	assert_int_equal(kvm_vcpu_get_msrs(&s->vcpu, msrs, 4, &failed), 0);
	assert_int_not_equal(msrs[0].data & 1, 0);
	assert_int_equal(msrs[1].data, 0);
	assert_int_equal(msrs[2].data, 0);
	assert_int_equal(msrs[3].data, 0);
	/* An MSR that does not exist is refused and named. */
	probe.index = 0xdeadbeef;
	failed = 0;
	assert_int_equal(kvm_vcpu_set_msrs(&s->vcpu, &probe, 1, &failed), -EIO);
	assert_int_equal(failed, 0xdeadbeef);
	assert_int_equal(kvm_vcpu_set_msrs(&s->vcpu, &probe, 0, NULL), -EINVAL);

	/* With an in-kernel LAPIC, KVM tracks MP state; the BSP is runnable. */
	assert_int_equal(kvm_vcpu_get_mp_state(&s->vcpu, &mp), 0);
	assert_int_equal(mp.mp_state, KVM_MP_STATE_RUNNABLE);
	assert_int_equal(kvm_vcpu_set_mp_state(&s->vcpu, &mp), 0);
}

static int smoke_eventfd_count(int fd, uint64_t *count)
{
	ssize_t n = read(fd, count, sizeof(*count));

	return n == (ssize_t)sizeof(*count) ? 0 : -1;
}

void test_ioeventfd(void **state)
{
	struct smoke *s = *state;
	int pio_fd, mmio_fd, ret;
	uint64_t count = 0;
	uint8_t *data;

	pio_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	mmio_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(pio_fd >= 0 && mmio_fd >= 0);

	assert_int_equal(kvm_vm_ioeventfd(&s->vm, pio_fd, 0x600, 2, true), 0);
	assert_int_equal(kvm_vm_ioeventfd(&s->vm, mmio_fd, GUEST_IOEV_MMIO, 4, false), 0);
	/* The same registration twice is refused. */
	assert_int_equal(kvm_vm_ioeventfd(&s->vm, pio_fd, 0x600, 2, true), -EEXIST);
	assert_int_equal(kvm_vm_ioeventfd(&s->vm, -1, 0x700, 2, true), -EBADF);

	/* Both writes are swallowed: the first exit is the marker. */
	smoke_load(s, guest_ioev, sizeof(guest_ioev));
	data = smoke_expect_io(s, KVM_EXIT_IO_OUT, 0x3f8, 1);
	assert_int_equal(data[0], 'D');
	assert_int_equal(smoke_eventfd_count(pio_fd, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(smoke_eventfd_count(mmio_fd, &count), 0);
	assert_int_equal(count, 1);

	/* Once removed, the same writes exit to userspace again. */
	assert_int_equal(kvm_vm_ioeventfd_remove(&s->vm, pio_fd, 0x600, 2, true), 0);
	assert_int_equal(kvm_vm_ioeventfd_remove(&s->vm, mmio_fd, GUEST_IOEV_MMIO, 4, false), 0);
	assert_int_equal(kvm_vm_ioeventfd_remove(&s->vm, mmio_fd, GUEST_IOEV_MMIO, 4, false), -ENOENT);
	smoke_real_mode(s, GUEST_CODE);
	data = smoke_expect_io(s, KVM_EXIT_IO_OUT, 0x600, 2);
	assert_int_equal(le(data, 2), 1);
	data = smoke_expect_mmio(s, true, GUEST_IOEV_MMIO, 4);
	assert_int_equal(le(data, 4), 0x11223344);
	ret = smoke_eventfd_count(pio_fd, &count);
	assert_int_equal(ret, -1); /* nothing more signalled */

	close(pio_fd);
	close(mmio_fd);
}

/* Run the interrupt guest up to its "ready" exit with PIC mask mask. */
static void smoke_irq_guest_ready(struct smoke *s, uint8_t mask)
{
	struct kvm_regs regs;

	assert_int_equal(kvm_vcpu_setup_lapic(&s->vcpu), 0);
	smoke_load(s, guest_irq, sizeof(guest_irq));
	assert_int_equal(kvm_vcpu_get_regs(&s->vcpu, &regs), 0);
	regs.rbx = mask;
	assert_int_equal(kvm_vcpu_set_regs(&s->vcpu, &regs), 0);
	smoke_expect_io(s, KVM_EXIT_IO_OUT, IRQ_PORT_READY, 1);
}

static void smoke_expect_vector(struct smoke *s, uint8_t vector)
{
	uint8_t *data = smoke_expect_io(s, KVM_EXIT_IO_OUT, IRQ_PORT_VECTOR, 1);

	assert_int_equal(data[0], vector);
}

void test_irqfd_and_irq_line(void **state)
{
	struct smoke *s = *state;
	uint64_t one = 1;
	int fd, ret;

	fd = eventfd(0, EFD_CLOEXEC);
	assert_true(fd >= 0);
	smoke_irq_guest_ready(s, 0xdf); /* only IRQ5 unmasked */

	/* irqfd: an eventfd write becomes an edge on GSI 5 -> vector 0x25. */
	assert_int_equal(kvm_vm_irqfd(&s->vm, fd, 5), 0);
	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
	smoke_expect_vector(s, 0x25);

	/* KVM_IRQ_LINE: raise and lower the same line by hand. */
	assert_int_equal(kvm_vm_irq_line(&s->vm, 5, 1), 0);
	assert_int_equal(kvm_vm_irq_line(&s->vm, 5, 0), 0);
	smoke_expect_vector(s, 0x25);

	/* Deassigned, the eventfd no longer reaches the guest: it stays in
	 * HLT until the watchdog signal interrupts KVM_RUN. */
	assert_int_equal(kvm_vm_irqfd_remove(&s->vm, fd, 5), 0);
	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
	ret = smoke_run_timed(&s->vcpu, 200);
	if (ret == 0)
		smoke_dump(s);
	assert_int_equal(ret, -EINTR);
	close(fd);
}

void test_pit(void **state)
{
	struct smoke *s = *state;

	smoke_irq_guest_ready(s, 0xfe); /* only IRQ0 unmasked */
	/* The in-kernel PIT, programmed by the guest for ~10 ms, ticks twice. */
	smoke_expect_vector(s, 0x20);
	smoke_expect_vector(s, 0x20);
}

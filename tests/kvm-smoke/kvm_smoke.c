/* SPDX-License-Identifier: MIT */
/* kvm_smoke.c: runs the src/kvm layer against this machine's /dev/kvm with tiny real-mode guests. */
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

#include "kvm_x86.h"

/*
 * Guest layout: RAM slot 0 covers [0, 128 KiB); code is loaded at 0x1000
 * and runs in real mode with every segment base 0. 0x20000 and 0x30000 lie
 * outside any memslot, so accesses there are MMIO.
 */
#define GUEST_RAM_SIZE 0x20000u
#define GUEST_CODE 0x1000u
#define GUEST_MMIO 0x20000u
#define GUEST_IOEV_MMIO 0x30000u

/* Hand-assembled 16-bit guests (GNU as --32 with .code16, offsets shown). */

/* Port I/O in both directions and three sizes. */
static const uint8_t guest_pio[] = {
	0xba, 0xf8, 0x03,                   /* 00 mov dx, 0x3f8 */
	0xb0, 0x41,                         /* 03 mov al, 'A' */
	0xee,                               /* 05 out dx, al */
	0xba, 0x10, 0x05,                   /* 06 mov dx, 0x510 */
	0xb8, 0xef, 0xbe,                   /* 09 mov ax, 0xbeef */
	0xef,                               /* 0c out dx, ax */
	0x66, 0xb8, 0x0d, 0xf0, 0xfe, 0xca, /* 0d mov eax, 0xcafef00d */
	0x66, 0xef,                         /* 13 out dx, eax */
	0xec,                               /* 15 in al, dx */
	0x88, 0xc3,                         /* 16 mov bl, al */
	0xed,                               /* 18 in ax, dx */
	0x89, 0xc1,                         /* 19 mov cx, ax */
	0xf4,                               /* 1b hlt */
};

/* MMIO writes of 1, 2 and 4 bytes and a 1-byte read, through ds = 0x2000. */
static const uint8_t guest_mmio[] = {
	0xb8, 0x00, 0x20,                                     /* 00 mov ax, 0x2000 */
	0x8e, 0xd8,                                           /* 03 mov ds, ax */
	0xc6, 0x06, 0x10, 0x00, 0x5a,                         /* 05 mov byte [0x10], 0x5a */
	0xc7, 0x06, 0x20, 0x00, 0xef, 0xbe,                   /* 0a mov word [0x20], 0xbeef */
	0x66, 0xc7, 0x06, 0x24, 0x00, 0x78, 0x56, 0x34, 0x12, /* 10 mov dword [0x24], 0x12345678 */
	0xa0, 0x30, 0x00,                                     /* 19 mov al, [0x30] */
	0x88, 0xc3,                                           /* 1c mov bl, al */
	0x31, 0xc0,                                           /* 1e xor ax, ax */
	0x8e, 0xd8,                                           /* 20 mov ds, ax */
	0xf4,                                                 /* 22 hlt */
};

static const uint8_t guest_add[] = {
	0x66, 0x01, 0xd8, /* 00 add eax, ebx */
	0xf4,             /* 03 hlt */
};

static const uint8_t guest_cpuid[] = {
	0x66, 0xb8, 0x01, 0x00, 0x00, 0x00, /* 00 mov eax, 1 */
	0x66, 0x31, 0xc9,                   /* 06 xor ecx, ecx */
	0x0f, 0xa2,                         /* 09 cpuid */
	0xf4,                               /* 0b hlt */
};

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

struct smoke {
	struct kvm_sys sys;
	struct kvm_vm vm;
	struct kvm_vcpu vcpu;
	uint8_t *mem;
	bool irqchip;
};

static void smoke_alarm(int sig)
{
	(void)sig; /* only here to make KVM_RUN return -EINTR */
}

/* Run with a watchdog: a vCPU idling in an in-kernel HLT never returns on
 * its own, so a missing interrupt shows up as -EINTR instead of a hang. */
static int smoke_run_timed(struct kvm_vcpu *vcpu, unsigned int ms)
{
	struct itimerval it = { .it_value = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 } };
	struct itimerval off = { 0 };
	int ret;

	setitimer(ITIMER_REAL, &it, NULL);
	ret = kvm_vcpu_run(vcpu);
	setitimer(ITIMER_REAL, &off, NULL);
	return ret;
}

static void smoke_real_mode(struct smoke *s, uint64_t rip)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_segment *segs[6];
	size_t i;

	assert_int_equal(kvm_vcpu_get_sregs(&s->vcpu, &sregs), 0);
	segs[0] = &sregs.cs;
	segs[1] = &sregs.ds;
	segs[2] = &sregs.es;
	segs[3] = &sregs.fs;
	segs[4] = &sregs.gs;
	segs[5] = &sregs.ss;
	for (i = 0; i < 6; i++) {
		segs[i]->selector = 0;
		segs[i]->base = 0;
	}
	assert_int_equal(kvm_vcpu_set_sregs(&s->vcpu, &sregs), 0);

	memset(&regs, 0, sizeof(regs));
	regs.rip = rip;
	regs.rflags = 0x2; /* bit 1 is reserved-as-one */
	regs.rsp = 0x8000;
	assert_int_equal(kvm_vcpu_set_regs(&s->vcpu, &regs), 0);
}

static int smoke_open(struct smoke *s, bool irqchip)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->sys.fd = s->vm.fd = s->vcpu.fd = -1;
	s->irqchip = irqchip;

	ret = kvm_sys_open(&s->sys, NULL);
	if (ret < 0) {
		fprintf(stderr, "kvm_sys_open: %s (%s)\n", strerror(-ret),
			kvm_sys_missing_cap(&s->sys) ? kvm_sys_missing_cap(&s->sys) : "-");
		return ret;
	}
	ret = kvm_vm_create(&s->sys, &s->vm);
	if (ret < 0) {
		fprintf(stderr, "kvm_vm_create: %s\n", strerror(-ret));
		return ret;
	}
	if (irqchip) {
		ret = kvm_vm_setup_x86(&s->vm);
		if (ret < 0) {
			fprintf(stderr, "kvm_vm_setup_x86: %s\n", strerror(-ret));
			return ret;
		}
	}
	s->mem = mmap(NULL, GUEST_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->mem == MAP_FAILED) {
		s->mem = NULL;
		return -ENOMEM;
	}
	ret = kvm_vm_set_memslot(&s->vm, 0, 0, GUEST_RAM_SIZE, s->mem);
	if (ret < 0) {
		fprintf(stderr, "kvm_vm_set_memslot: %s\n", strerror(-ret));
		return ret;
	}
	ret = kvm_vcpu_create(&s->sys, &s->vm, 0, &s->vcpu);
	if (ret < 0) {
		fprintf(stderr, "kvm_vcpu_create: %s\n", strerror(-ret));
		return ret;
	}
	return 0;
}

static void smoke_close(struct smoke *s)
{
	kvm_vcpu_destroy(&s->vcpu);
	kvm_vm_destroy(&s->vm);
	if (s->mem)
		munmap(s->mem, GUEST_RAM_SIZE);
	s->mem = NULL;
	kvm_sys_close(&s->sys);
}

static int setup_plain(void **state)
{
	struct smoke *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	*state = s;
	return smoke_open(s, false) < 0 ? -1 : 0;
}

static int setup_irqchip(void **state)
{
	struct smoke *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	*state = s;
	return smoke_open(s, true) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct smoke *s = *state;

	if (s) {
		smoke_close(s);
		free(s);
	}
	return 0;
}

static void smoke_load(struct smoke *s, const uint8_t *code, size_t len)
{
	memcpy(s->mem + GUEST_CODE, code, len);
	smoke_real_mode(s, GUEST_CODE);
}

/* Print what the vCPU was doing when an expectation fails. */
static void smoke_dump(struct smoke *s)
{
	char buf[2048];

	if (kvm_vcpu_format_regs(&s->vcpu, buf, sizeof(buf)) >= 0)
		fprintf(stderr, "%s", buf);
}

static void smoke_expect_exit(struct smoke *s, uint32_t reason)
{
	int ret = smoke_run_timed(&s->vcpu, 2000);

	if (ret != 0 || s->vcpu.run->exit_reason != reason) {
		fprintf(stderr, "expected exit %s, KVM_RUN returned %d\n", kvm_exit_reason_name(reason), ret);
		smoke_dump(s);
	}
	assert_int_equal(ret, 0);
	assert_int_equal(s->vcpu.run->exit_reason, reason);
}

static uint8_t *smoke_expect_io(struct smoke *s, uint8_t dir, uint16_t port, uint8_t size)
{
	struct kvm_run *run = s->vcpu.run;

	smoke_expect_exit(s, KVM_EXIT_IO);
	assert_int_equal(run->io.direction, dir);
	assert_int_equal(run->io.port, port);
	assert_int_equal(run->io.size, size);
	assert_int_equal(run->io.count, 1);
	return kvm_vcpu_pio_data(&s->vcpu);
}

static uint8_t *smoke_expect_mmio(struct smoke *s, bool write, uint64_t gpa, uint32_t len)
{
	struct kvm_run *run = s->vcpu.run;

	smoke_expect_exit(s, KVM_EXIT_MMIO);
	assert_int_equal(run->mmio.is_write, write);
	assert_int_equal(run->mmio.phys_addr, gpa);
	assert_int_equal(run->mmio.len, len);
	return run->mmio.data;
}

static uint64_t le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

static void test_sys_open_errors(void **state)
{
	struct kvm_sys sys;

	(void)state;
	assert_int_equal(kvm_sys_open(&sys, "/nonexistent/kvm"), -ENOENT);
	assert_int_equal(sys.fd, -1);
	assert_null(kvm_sys_missing_cap(&sys));
	/* /dev/null opens but knows no KVM ioctl. */
	assert_int_equal(kvm_sys_open(&sys, "/dev/null"), -ENOTTY);
	assert_int_equal(sys.fd, -1);
	kvm_sys_close(&sys); /* harmless after failure */
}

static void test_sys_caps(void **state)
{
	struct smoke *s = *state;
	struct kvm_cpuid2 *cpuid = NULL;
	struct stat st;
	int n, hw;

	assert_true(s->sys.vcpu_mmap_size >= (int)sizeof(struct kvm_run));
	assert_null(kvm_sys_missing_cap(&s->sys));
	assert_true(kvm_sys_check_extension(&s->sys, KVM_CAP_USER_MEMORY) > 0);
	assert_true(kvm_sys_check_extension(&s->sys, KVM_CAP_NR_MEMSLOTS) > 0);
	/* A capability number no kernel defines reads as absent, not as error. */
	assert_int_equal(kvm_sys_check_extension(&s->sys, 0x7fffffff), 0);

	n = kvm_sys_get_supported_cpuid(&s->sys, &cpuid);
	assert_true(n > 0);
	assert_non_null(cpuid);
	assert_int_equal((uint32_t)n, cpuid->nent);
	assert_non_null(kvm_cpuid_find(cpuid, 0, 0));
	assert_non_null(kvm_cpuid_find(cpuid, 1, 0));
	free(cpuid);

	hw = stat("/sys/module/kvm_intel", &st) == 0 || stat("/sys/module/kvm_amd", &st) == 0;
	assert_int_equal(kvm_sys_is_hardware(), hw);
	printf("# KVM flavour: %s\n", hw ? "hardware (kvm_intel/kvm_amd)" :
	       stat("/sys/module/kvm_pvm", &st) == 0 ? "kvm_pvm (software)" : "unknown, not hardware");
}

static void test_memslot(void **state)
{
	struct smoke *s = *state;
	uint8_t *extra;

	extra = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(extra != MAP_FAILED);
	/* Host address must be page aligned. */
	assert_int_equal(kvm_vm_set_memslot(&s->vm, 1, 0x40000, 0x1000, extra + 8), -EINVAL);
	/* Guest range overlapping slot 0 is refused. */
	assert_int_equal(kvm_vm_set_memslot(&s->vm, 1, 0x1000, 0x1000, extra), -EEXIST);
	assert_int_equal(kvm_vm_set_memslot(&s->vm, 1, 0x40000, 0x2000, extra), 0);
	/* Size 0 deletes; the range is then free for another slot. */
	assert_int_equal(kvm_vm_set_memslot(&s->vm, 1, 0x40000, 0, extra), 0);
	assert_int_equal(kvm_vm_set_memslot(&s->vm, 2, 0x40000, 0x1000, extra), 0);
	assert_int_equal(kvm_vm_set_memslot(&s->vm, 2, 0x40000, 0, extra), 0);
	munmap(extra, 0x2000);
}

static void test_pio(void **state)
{
	struct smoke *s = *state;
	struct kvm_regs regs;
	uint8_t *data;

	smoke_load(s, guest_pio, sizeof(guest_pio));
	data = smoke_expect_io(s, KVM_EXIT_IO_OUT, 0x3f8, 1);
	assert_int_equal(data[0], 'A');
	data = smoke_expect_io(s, KVM_EXIT_IO_OUT, 0x510, 2);
	assert_int_equal(le(data, 2), 0xbeef);
	data = smoke_expect_io(s, KVM_EXIT_IO_OUT, 0x510, 4);
	assert_int_equal(le(data, 4), 0xcafef00d);
	data = smoke_expect_io(s, KVM_EXIT_IO_IN, 0x510, 1);
	data[0] = 0x5a;
	data = smoke_expect_io(s, KVM_EXIT_IO_IN, 0x510, 2);
	data[0] = 0x34;
	data[1] = 0x12;
	smoke_expect_exit(s, KVM_EXIT_HLT);

	assert_int_equal(kvm_vcpu_get_regs(&s->vcpu, &regs), 0);
	assert_int_equal(regs.rbx & 0xff, 0x5a);
	assert_int_equal(regs.rcx & 0xffff, 0x1234);
	assert_int_equal(regs.rip, GUEST_CODE + sizeof(guest_pio));
}

static void test_mmio(void **state)
{
	struct smoke *s = *state;
	struct kvm_regs regs;
	uint8_t *data;

	smoke_load(s, guest_mmio, sizeof(guest_mmio));
	data = smoke_expect_mmio(s, true, GUEST_MMIO + 0x10, 1);
	assert_int_equal(data[0], 0x5a);
	data = smoke_expect_mmio(s, true, GUEST_MMIO + 0x20, 2);
	assert_int_equal(le(data, 2), 0xbeef);
	data = smoke_expect_mmio(s, true, GUEST_MMIO + 0x24, 4);
	assert_int_equal(le(data, 4), 0x12345678);
	data = smoke_expect_mmio(s, false, GUEST_MMIO + 0x30, 1);
	data[0] = 0x77;
	smoke_expect_exit(s, KVM_EXIT_HLT);

	assert_int_equal(kvm_vcpu_get_regs(&s->vcpu, &regs), 0);
	assert_int_equal(regs.rbx & 0xff, 0x77);
}

static void test_regs_sregs(void **state)
{
	struct smoke *s = *state;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu, back;

	memcpy(s->mem + GUEST_CODE, guest_add, sizeof(guest_add));
	smoke_real_mode(s, 0);

	/* Run the code through cs = 0x100 (base 0x1000) at ip 0, so the guest
	 * only reaches it if KVM took both the segment and the registers. */
	assert_int_equal(kvm_vcpu_get_sregs(&s->vcpu, &sregs), 0);
	sregs.cs.selector = GUEST_CODE >> 4;
	sregs.cs.base = GUEST_CODE;
	assert_int_equal(kvm_vcpu_set_sregs(&s->vcpu, &sregs), 0);
	assert_int_equal(kvm_vcpu_get_regs(&s->vcpu, &regs), 0);
	regs.rax = 40;
	regs.rbx = 2;
	regs.rip = 0;
	assert_int_equal(kvm_vcpu_set_regs(&s->vcpu, &regs), 0);

	smoke_expect_exit(s, KVM_EXIT_HLT);
	assert_int_equal(kvm_vcpu_get_regs(&s->vcpu, &regs), 0);
	assert_int_equal(regs.rax, 42);
	assert_int_equal(regs.rip, sizeof(guest_add));
	assert_int_equal(kvm_vcpu_get_sregs(&s->vcpu, &sregs), 0);
	assert_int_equal(sregs.cs.selector, GUEST_CODE >> 4);
	assert_int_equal(sregs.cs.base, GUEST_CODE);
	assert_int_equal(sregs.cr0 & 1, 0); /* still real mode */

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80 | 0x6000; /* round toward zero, to see it stick */
	assert_int_equal(kvm_vcpu_set_fpu(&s->vcpu, &fpu), 0);
	assert_int_equal(kvm_vcpu_get_fpu(&s->vcpu, &back), 0);
	assert_int_equal(back.fcw, 0x37f);
	if (kvm_sys_is_hardware())
		assert_int_equal(back.mxcsr, 0x1f80 | 0x6000);
	else if (back.mxcsr != (0x1f80 | 0x6000))
		/* Seen on kvm_pvm: KVM_GET_FPU reports MXCSR as 0 even for a
		 * fresh vCPU (hardware KVM says 0x1f80); FCW round-trips. */
		printf("# skipped MXCSR round-trip check: this KVM (not kvm_intel/kvm_amd) "
		       "reads MXCSR back as 0x%x\n", back.mxcsr);
}

static void test_run_immediate_exit(void **state)
{
	struct smoke *s = *state;

	smoke_load(s, guest_add, sizeof(guest_add));
	s->vcpu.run->immediate_exit = 1;
	assert_int_equal(kvm_vcpu_run(&s->vcpu), -EINTR);
	s->vcpu.run->immediate_exit = 0;
	smoke_expect_exit(s, KVM_EXIT_HLT);
}

static void test_cpuid_in_guest(void **state)
{
	struct smoke *s = *state;
	struct kvm_cpuid2 *sup = NULL, *cpuid = NULL;
	struct kvm_regs regs;
	int ret;

	/* Replace the fixture's vCPU by APIC id 1 of 2: without an in-kernel
	 * irqchip it is runnable at once, so it can execute CPUID itself. */
	kvm_vcpu_destroy(&s->vcpu);
	assert_int_equal(kvm_vcpu_create(&s->sys, &s->vm, 1, &s->vcpu), 0);
	assert_true(kvm_sys_get_supported_cpuid(&s->sys, &sup) > 0);
	ret = kvm_cpuid_make_vcpu(sup, 1, 2, &cpuid);
	free(sup);
	assert_int_equal(ret, 0);
	ret = kvm_vcpu_set_cpuid(&s->vcpu, cpuid);
	free(cpuid);
	assert_int_equal(ret, 0);

	smoke_load(s, guest_cpuid, sizeof(guest_cpuid));
	smoke_expect_exit(s, KVM_EXIT_HLT);
	assert_int_equal(kvm_vcpu_get_regs(&s->vcpu, &regs), 0);
	assert_int_equal((regs.rbx >> 24) & 0xff, 1);         /* APIC id */
	assert_int_equal((regs.rbx >> 16) & 0xff, 2);         /* logical ids */
	assert_int_not_equal(regs.rcx & (1u << 31), 0);       /* hypervisor */
	assert_int_not_equal(regs.rdx & (1u << 28), 0);       /* HTT */
}

static void test_format_regs(void **state)
{
	struct smoke *s = *state;
	char buf[2048], small[16];
	int n;

	smoke_load(s, guest_add, sizeof(guest_add));
	smoke_expect_exit(s, KVM_EXIT_HLT);
	n = kvm_vcpu_format_regs(&s->vcpu, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	assert_non_null(strstr(buf, "exit reason 5 (HLT)"));
	assert_non_null(strstr(buf, "rip=0000000000001004"));
	assert_non_null(strstr(buf, "cr0="));
	assert_non_null(strstr(buf, "efer="));
	assert_non_null(strstr(buf, "cs=0000"));

	n = kvm_vcpu_format_regs(&s->vcpu, small, sizeof(small));
	assert_int_equal(n, sizeof(small) - 1);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(kvm_vcpu_format_regs(&s->vcpu, small, 0), -EINVAL);
}

static uint32_t lapic_reg(const struct kvm_lapic_state *l, unsigned int off)
{
	uint32_t v;

	memcpy(&v, &l->regs[off], sizeof(v));
	return v;
}

static void test_irqchip_state(void **state)
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

static void test_ioeventfd(void **state)
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

static void test_irqfd_and_irq_line(void **state)
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

static void test_pit(void **state)
{
	struct smoke *s = *state;

	smoke_irq_guest_ready(s, 0xfe); /* only IRQ0 unmasked */
	/* The in-kernel PIT, programmed by the guest for ~10 ms, ticks twice. */
	smoke_expect_vector(s, 0x20);
	smoke_expect_vector(s, 0x20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sys_open_errors),
		cmocka_unit_test_setup_teardown(test_sys_caps, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_memslot, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_pio, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_mmio, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_regs_sregs, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_run_immediate_exit, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_cpuid_in_guest, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_format_regs, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_irqchip_state, setup_irqchip, teardown),
		cmocka_unit_test_setup_teardown(test_ioeventfd, setup_irqchip, teardown),
		cmocka_unit_test_setup_teardown(test_irqfd_and_irq_line, setup_irqchip, teardown),
		cmocka_unit_test_setup_teardown(test_pit, setup_irqchip, teardown),
	};
	struct sigaction sa;

	if (access("/dev/kvm", F_OK) != 0) {
		printf("SKIP: /dev/kvm is absent on this machine (%s)\n", strerror(errno));
		return 77;
	}

	/* No SA_RESTART: the watchdog must interrupt KVM_RUN. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = smoke_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);

	return cmocka_run_group_tests_name("kvm-smoke", tests, NULL, NULL) ? 1 : 0;
}

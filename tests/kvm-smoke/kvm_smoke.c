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

#include "kvm_smoke.h"

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

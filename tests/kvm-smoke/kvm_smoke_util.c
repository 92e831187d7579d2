/* SPDX-License-Identifier: MIT */
/* The kvm-smoke fixture: open a VM with 128 KiB of RAM and one vCPU in real mode, run it with a watchdog, check its exits. */
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

void smoke_alarm(int sig)
{
	(void)sig; /* only here to make KVM_RUN return -EINTR */
}

/* Run with a watchdog: a vCPU idling in an in-kernel HLT never returns on
 * its own, so a missing interrupt shows up as -EINTR instead of a hang. */
int smoke_run_timed(struct kvm_vcpu *vcpu, unsigned int ms)
{
	struct itimerval it = { .it_value = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 } };
	struct itimerval off = { 0 };
	int ret;

	setitimer(ITIMER_REAL, &it, NULL);
	ret = kvm_vcpu_run(vcpu);
	setitimer(ITIMER_REAL, &off, NULL);
	return ret;
}

void smoke_real_mode(struct smoke *s, uint64_t rip)
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

int smoke_open(struct smoke *s, bool irqchip)
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

void smoke_close(struct smoke *s)
{
	kvm_vcpu_destroy(&s->vcpu);
	kvm_vm_destroy(&s->vm);
	if (s->mem)
		munmap(s->mem, GUEST_RAM_SIZE);
	s->mem = NULL;
	kvm_sys_close(&s->sys);
}

int setup_plain(void **state)
{
	struct smoke *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	*state = s;
	return smoke_open(s, false) < 0 ? -1 : 0;
}

int setup_irqchip(void **state)
{
	struct smoke *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	*state = s;
	return smoke_open(s, true) < 0 ? -1 : 0;
}

int teardown(void **state)
{
	struct smoke *s = *state;

	if (s) {
		smoke_close(s);
		free(s);
	}
	return 0;
}

void smoke_load(struct smoke *s, const uint8_t *code, size_t len)
{
	memcpy(s->mem + GUEST_CODE, code, len);
	smoke_real_mode(s, GUEST_CODE);
}

/* Print what the vCPU was doing when an expectation fails. */
void smoke_dump(struct smoke *s)
{
	char buf[2048];

	if (kvm_vcpu_format_regs(&s->vcpu, buf, sizeof(buf)) >= 0)
		fprintf(stderr, "%s", buf);
}

void smoke_expect_exit(struct smoke *s, uint32_t reason)
{
	int ret = smoke_run_timed(&s->vcpu, 2000);

	if (ret != 0 || s->vcpu.run->exit_reason != reason) {
		fprintf(stderr, "expected exit %s, KVM_RUN returned %d\n", kvm_exit_reason_name(reason), ret);
		smoke_dump(s);
	}
	assert_int_equal(ret, 0);
	assert_int_equal(s->vcpu.run->exit_reason, reason);
}

uint8_t *smoke_expect_io(struct smoke *s, uint8_t dir, uint16_t port, uint8_t size)
{
	struct kvm_run *run = s->vcpu.run;

	smoke_expect_exit(s, KVM_EXIT_IO);
	assert_int_equal(run->io.direction, dir);
	assert_int_equal(run->io.port, port);
	assert_int_equal(run->io.size, size);
	assert_int_equal(run->io.count, 1);
	return kvm_vcpu_pio_data(&s->vcpu);
}

uint8_t *smoke_expect_mmio(struct smoke *s, bool write, uint64_t gpa, uint32_t len)
{
	struct kvm_run *run = s->vcpu.run;

	smoke_expect_exit(s, KVM_EXIT_MMIO);
	assert_int_equal(run->mmio.is_write, write);
	assert_int_equal(run->mmio.phys_addr, gpa);
	assert_int_equal(run->mmio.len, len);
	return run->mmio.data;
}

uint64_t le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

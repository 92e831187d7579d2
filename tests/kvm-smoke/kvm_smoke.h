/* SPDX-License-Identifier: MIT */
/* The kvm-smoke fixture: one VM with one real-mode vCPU on this machine's /dev/kvm, and what a test expects of it. */
#ifndef VMM_KVM_SMOKE_H
#define VMM_KVM_SMOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

struct smoke {
	struct kvm_sys sys;
	struct kvm_vm vm;
	struct kvm_vcpu vcpu;
	uint8_t *mem;
	bool irqchip;
};

/* SIGALRM's handler: only there so the watchdog's signal makes KVM_RUN return -EINTR (main installs it). */
void smoke_alarm(int sig);

/* Run with a watchdog: a vCPU idling in an in-kernel HLT never returns on
 * its own, so a missing interrupt shows up as -EINTR instead of a hang. */
int smoke_run_timed(struct kvm_vcpu *vcpu, unsigned int ms);

/* Every segment base 0, rip = rip, a stack at 0x8000: real mode as the code expects it. */
void smoke_real_mode(struct smoke *s, uint64_t rip);

/* /dev/kvm, a VM (with the x86 irqchip and PIT if irqchip), RAM in slot 0, vCPU 0. 0 or -errno, said on stderr. */
int smoke_open(struct smoke *s, bool irqchip);
void smoke_close(struct smoke *s);

/* cmocka set-ups (a VM without or with the irqchip in *state) and the tear-down for both. */
int setup_plain(void **state);
int setup_irqchip(void **state);
int teardown(void **state);

/* Copy code to GUEST_CODE and point the vCPU at it. */
void smoke_load(struct smoke *s, const uint8_t *code, size_t len);

/* Print what the vCPU was doing when an expectation fails. */
void smoke_dump(struct smoke *s);

/* Run until the next exit to userspace and check its reason (2 s watchdog). */
void smoke_expect_exit(struct smoke *s, uint32_t reason);

/* The next exit is this port access of one item; its data. */
uint8_t *smoke_expect_io(struct smoke *s, uint8_t dir, uint16_t port, uint8_t size);

/* The next exit is this MMIO access; its data. */
uint8_t *smoke_expect_mmio(struct smoke *s, bool write, uint64_t gpa, uint32_t len);

/* A little-endian integer of n bytes. */
uint64_t le(const uint8_t *p, size_t n);

/* The tests in kvm_smoke_irq.c (irqchip, PIT, ioeventfd, irqfd), for kvm_smoke.c's main. */
void test_irqchip_state(void **state);
void test_ioeventfd(void **state);
void test_irqfd_and_irq_line(void **state);
void test_pit(void **state);

#endif

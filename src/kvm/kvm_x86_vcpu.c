/* SPDX-License-Identifier: MIT */
/* kvm_x86_vcpu.c: the x86 half of the vCPU wrappers: register, FPU, MSR and LAPIC state, and the register dump. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm_internal.h"
#include "kvm_x86.h"

/* MSR indices (Intel SDM vol. 4; the AMD ones are architectural too). */
#define MSR_IA32_TSC 0x00000010u
#define MSR_IA32_SYSENTER_CS 0x00000174u
#define MSR_IA32_SYSENTER_ESP 0x00000175u
#define MSR_IA32_SYSENTER_EIP 0x00000176u
#define MSR_IA32_MISC_ENABLE 0x000001a0u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_CSTAR 0xc0000083u
#define MSR_SFMASK 0xc0000084u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_IA32_MISC_ENABLE_FAST_STRING (1ull << 0)

/* Local APIC register offsets and LVT fields (SDM vol. 3, 11.5.1). */
#define LAPIC_REG_LVT_LINT0 0x350
#define LAPIC_REG_LVT_LINT1 0x360
#define LAPIC_LVT_DELIVERY_MASK (7u << 8)
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_DELIVERY_NMI 4u
#define LAPIC_DELIVERY_EXTINT 7u

void *kvm_vcpu_pio_data(const struct kvm_vcpu *vcpu)
{
	return (char *)vcpu->run + vcpu->run->io.data_offset;
}

int kvm_vcpu_get_regs(struct kvm_vcpu *vcpu, struct kvm_regs *regs)
{
	return ioctl(vcpu->fd, KVM_GET_REGS, regs) < 0 ? -errno : 0;
}

int kvm_vcpu_set_regs(struct kvm_vcpu *vcpu, const struct kvm_regs *regs)
{
	return ioctl(vcpu->fd, KVM_SET_REGS, regs) < 0 ? -errno : 0;
}

int kvm_vcpu_get_sregs(struct kvm_vcpu *vcpu, struct kvm_sregs *sregs)
{
	return ioctl(vcpu->fd, KVM_GET_SREGS, sregs) < 0 ? -errno : 0;
}

int kvm_vcpu_set_sregs(struct kvm_vcpu *vcpu, const struct kvm_sregs *sregs)
{
	return ioctl(vcpu->fd, KVM_SET_SREGS, sregs) < 0 ? -errno : 0;
}

int kvm_vcpu_get_fpu(struct kvm_vcpu *vcpu, struct kvm_fpu *fpu)
{
	return ioctl(vcpu->fd, KVM_GET_FPU, fpu) < 0 ? -errno : 0;
}

int kvm_vcpu_set_fpu(struct kvm_vcpu *vcpu, const struct kvm_fpu *fpu)
{
	return ioctl(vcpu->fd, KVM_SET_FPU, fpu) < 0 ? -errno : 0;
}

int kvm_vcpu_get_lapic(struct kvm_vcpu *vcpu, struct kvm_lapic_state *lapic)
{
	return ioctl(vcpu->fd, KVM_GET_LAPIC, lapic) < 0 ? -errno : 0;
}

int kvm_vcpu_set_lapic(struct kvm_vcpu *vcpu, const struct kvm_lapic_state *lapic)
{
	return ioctl(vcpu->fd, KVM_SET_LAPIC, lapic) < 0 ? -errno : 0;
}

int kvm_vcpu_get_mp_state(struct kvm_vcpu *vcpu, struct kvm_mp_state *mp)
{
	return ioctl(vcpu->fd, KVM_GET_MP_STATE, mp) < 0 ? -errno : 0;
}

int kvm_vcpu_set_mp_state(struct kvm_vcpu *vcpu, const struct kvm_mp_state *mp)
{
	return ioctl(vcpu->fd, KVM_SET_MP_STATE, mp) < 0 ? -errno : 0;
}

int kvm_vcpu_set_cpuid(struct kvm_vcpu *vcpu, const struct kvm_cpuid2 *cpuid)
{
	return ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
}

/* KVM_GET_MSRS and KVM_SET_MSRS return how many entries they handled,
 * stopping at the first MSR they refuse. out (GET only) receives the
 * entries KVM filled in. */
static int kvm_vcpu_msrs_ctl(struct kvm_vcpu *vcpu, unsigned long req, const struct kvm_msr_entry *in,
			     struct kvm_msr_entry *out, uint32_t n, uint32_t *failed)
{
	struct kvm_msrs *msrs;
	int ret;

	if (n == 0)
		return -EINVAL;
	msrs = calloc(1, sizeof(*msrs) + (size_t)n * sizeof(msrs->entries[0]));
	if (!msrs)
		return -ENOMEM;
	msrs->nmsrs = n;
	memcpy(msrs->entries, in, (size_t)n * sizeof(in[0]));

	ret = ioctl(vcpu->fd, req, msrs);
	if (ret < 0) {
		ret = -errno;
		goto free_msrs;
	}
	if (out)
		memcpy(out, msrs->entries, (size_t)ret * sizeof(out[0]));
	if ((uint32_t)ret < n) {
		if (failed)
			*failed = in[ret].index;
		ret = -EIO;
		goto free_msrs;
	}
	ret = 0;

free_msrs:
	free(msrs);
	return ret;
}

int kvm_vcpu_set_msrs(struct kvm_vcpu *vcpu, const struct kvm_msr_entry *entries, uint32_t n,
		      uint32_t *failed)
{
	return kvm_vcpu_msrs_ctl(vcpu, KVM_SET_MSRS, entries, NULL, n, failed);
}

int kvm_vcpu_get_msrs(struct kvm_vcpu *vcpu, struct kvm_msr_entry *entries, uint32_t n,
		      uint32_t *failed)
{
	return kvm_vcpu_msrs_ctl(vcpu, KVM_GET_MSRS, entries, entries, n, failed);
}

int kvm_vcpu_setup_msrs(struct kvm_vcpu *vcpu, uint32_t *failed)
{
	/* Linux rewrites all of these itself; zeroing them keeps stale host
	 * values (or reset garbage) from leaking into early boot, and fast
	 * strings is what every BIOS enables. */
	static const struct kvm_msr_entry boot_msrs[] = {
		{ .index = MSR_IA32_MISC_ENABLE, .data = MSR_IA32_MISC_ENABLE_FAST_STRING },
		{ .index = MSR_IA32_SYSENTER_CS, .data = 0 },
		{ .index = MSR_IA32_SYSENTER_ESP, .data = 0 },
		{ .index = MSR_IA32_SYSENTER_EIP, .data = 0 },
		{ .index = MSR_STAR, .data = 0 },
		{ .index = MSR_LSTAR, .data = 0 },
		{ .index = MSR_CSTAR, .data = 0 },
		{ .index = MSR_SFMASK, .data = 0 },
		{ .index = MSR_KERNEL_GS_BASE, .data = 0 },
		{ .index = MSR_IA32_TSC, .data = 0 },
	};

	return kvm_vcpu_set_msrs(vcpu, boot_msrs, sizeof(boot_msrs) / sizeof(boot_msrs[0]), failed);
}

static uint32_t kvm_lapic_reg_get(const struct kvm_lapic_state *lapic, unsigned int off)
{
	uint32_t v;

	memcpy(&v, &lapic->regs[off], sizeof(v));
	return v;
}

static void kvm_lapic_reg_set(struct kvm_lapic_state *lapic, unsigned int off, uint32_t v)
{
	memcpy(&lapic->regs[off], &v, sizeof(v));
}

static uint32_t kvm_lapic_lvt_mode(uint32_t lvt, uint32_t mode)
{
	return (lvt & ~(LAPIC_LVT_DELIVERY_MASK | LAPIC_LVT_MASKED)) | (mode << 8);
}

int kvm_vcpu_setup_lapic(struct kvm_vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	int ret;

	ret = kvm_vcpu_get_lapic(vcpu, &lapic);
	if (ret < 0)
		return ret;
	kvm_lapic_reg_set(&lapic, LAPIC_REG_LVT_LINT0,
			  kvm_lapic_lvt_mode(kvm_lapic_reg_get(&lapic, LAPIC_REG_LVT_LINT0),
					     LAPIC_DELIVERY_EXTINT));
	kvm_lapic_reg_set(&lapic, LAPIC_REG_LVT_LINT1,
			  kvm_lapic_lvt_mode(kvm_lapic_reg_get(&lapic, LAPIC_REG_LVT_LINT1),
					     LAPIC_DELIVERY_NMI));
	return kvm_vcpu_set_lapic(vcpu, &lapic);
}

static void kvm_fmt_seg(struct kvm_fmt *f, const char *name, const struct kvm_segment *s)
{
	kvm_fmt_add(f, "%s=%04x base=%016llx limit=%08x type=%x s=%u dpl=%u p=%u l=%u db=%u g=%u\n",
		    name, s->selector, (unsigned long long)s->base, s->limit, s->type, s->s, s->dpl,
		    s->present, s->l, s->db, s->g);
}

void kvm_arch_format_regs(struct kvm_vcpu *vcpu, struct kvm_fmt *f)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int ret;

	ret = kvm_vcpu_get_regs(vcpu, &regs);
	if (ret < 0) {
		kvm_fmt_add(f, "KVM_GET_REGS failed: %s\n", strerror(-ret));
	} else {
		kvm_fmt_add(f, "rip=%016llx rsp=%016llx rflags=%016llx\n", regs.rip, regs.rsp, regs.rflags);
		kvm_fmt_add(f, "rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n", regs.rax, regs.rbx,
			    regs.rcx, regs.rdx);
		kvm_fmt_add(f, "rsi=%016llx rdi=%016llx rbp=%016llx\n", regs.rsi, regs.rdi, regs.rbp);
		kvm_fmt_add(f, "r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n", regs.r8, regs.r9,
			    regs.r10, regs.r11);
		kvm_fmt_add(f, "r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n", regs.r12, regs.r13,
			    regs.r14, regs.r15);
	}

	ret = kvm_vcpu_get_sregs(vcpu, &sregs);
	if (ret < 0) {
		kvm_fmt_add(f, "KVM_GET_SREGS failed: %s\n", strerror(-ret));
	} else {
		kvm_fmt_add(f, "cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx\n", sregs.cr0, sregs.cr2,
			    sregs.cr3, sregs.cr4);
		kvm_fmt_add(f, "cr8=%016llx efer=%016llx apic_base=%016llx\n", sregs.cr8, sregs.efer,
			    sregs.apic_base);
		kvm_fmt_seg(f, "cs", &sregs.cs);
		kvm_fmt_seg(f, "ss", &sregs.ss);
		kvm_fmt_seg(f, "ds", &sregs.ds);
		kvm_fmt_seg(f, "es", &sregs.es);
		kvm_fmt_seg(f, "fs", &sregs.fs);
		kvm_fmt_seg(f, "gs", &sregs.gs);
		kvm_fmt_seg(f, "tr", &sregs.tr);
		kvm_fmt_add(f, "gdt base=%016llx limit=%04x idt base=%016llx limit=%04x\n",
			    (unsigned long long)sregs.gdt.base, sregs.gdt.limit,
			    (unsigned long long)sregs.idt.base, sregs.idt.limit);
	}
}

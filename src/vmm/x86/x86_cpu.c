/* SPDX-License-Identifier: MIT */
/* Initial vCPU state for the 64-bit boot protocol: identity page tables, boot GDT, sregs and regs. */
#include <errno.h>
#include <string.h>

#include "x86_boot.h"

#define X86_PTE_PRESENT   (1ULL << 0)
#define X86_PTE_RW        (1ULL << 1)
#define X86_PTE_PS        (1ULL << 7)   /* in a PD entry: 2 MiB page */
#define X86_PAGE_SIZE     0x1000ULL
#define X86_2M            0x200000ULL
#define X86_PT_ENTRIES    512u

#define X86_CR0_PE        (1ULL << 0)
#define X86_CR0_ET        (1ULL << 4)
#define X86_CR0_NW        (1ULL << 29)
#define X86_CR0_CD        (1ULL << 30)
#define X86_CR0_PG        (1ULL << 31)
#define X86_CR4_PAE       (1ULL << 5)
#define X86_EFER_LME      (1ULL << 8)
#define X86_EFER_LMA      (1ULL << 10)

#define X86_TSS_LIMIT     0x67u         /* a 64-bit TSS is 104 bytes */

/*
 * GDT descriptors (Intel SDM vol. 3, 3.4.5). Flags nibble G|L for code
 * (D must be 0 with L), G|D/B for data; access 0x9B = present code,
 * execute/read, accessed; 0x93 = present data, read/write, accessed;
 * 0x8B = present busy 64-bit TSS.
 */
#define X86_DESC(flags, access, base, limit)                                   \
	((((uint64_t)(base) & 0xFF000000ULL) << 32) |                         \
	 ((uint64_t)((flags) & 0xF) << 52) |                                   \
	 (((uint64_t)(limit) & 0xF0000ULL) << 32) |                           \
	 ((uint64_t)((access) & 0xFF) << 40) |                                 \
	 (((uint64_t)(base) & 0x00FFFFFFULL) << 16) |                         \
	 ((uint64_t)(limit) & 0xFFFFULL))

static const uint64_t x86_gdt[X86_GDT_ENTRIES] = {
	0,
	0,
	X86_DESC(0xA, 0x9B, 0, 0xFFFFF),      /* 0x10 __BOOT_CS */
	X86_DESC(0xC, 0x93, 0, 0xFFFFF),      /* 0x18 __BOOT_DS */
	/* 0x20: TSS at base 0; never used, Linux loads its own TR before it could be. */
	X86_DESC(0x0, 0x8B, 0, X86_TSS_LIMIT),
	0,                                    /* upper half of the 16-byte TSS descriptor */
};

int x86_page_tables_build(const struct gmem *mem)
{
	uint64_t *pml4 = gmem_ptr(mem, X86_PML4_ADDR, X86_PAGE_SIZE);
	uint64_t *pdpt = gmem_ptr(mem, X86_PDPT_ADDR, X86_PAGE_SIZE);
	uint64_t *pd = gmem_ptr(mem, X86_PD_ADDR, X86_PD_COUNT * X86_PAGE_SIZE);

	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, X86_PAGE_SIZE);
	memset(pdpt, 0, X86_PAGE_SIZE);
	pml4[0] = X86_PDPT_ADDR | X86_PTE_PRESENT | X86_PTE_RW;
	for (unsigned int i = 0; i < X86_PD_COUNT; i++)
		pdpt[i] = (X86_PD_ADDR + i * X86_PAGE_SIZE) | X86_PTE_PRESENT | X86_PTE_RW;
	/* The four PDs are contiguous, so entry j maps [j * 2 MiB, (j + 1) * 2 MiB). */
	for (uint64_t j = 0; j < (uint64_t)X86_PD_COUNT * X86_PT_ENTRIES; j++)
		pd[j] = (j * X86_2M) | X86_PTE_PRESENT | X86_PTE_RW | X86_PTE_PS;
	return 0;
}

int x86_gdt_build(const struct gmem *mem)
{
	void *gdt = gmem_ptr(mem, X86_GDT_ADDR, sizeof(x86_gdt));

	if (!gdt)
		return -EFAULT;
	memcpy(gdt, x86_gdt, sizeof(x86_gdt));
	return 0;
}

/* The hidden segment state KVM wants, decoded from the same descriptor the GDT holds. */
static struct kvm_segment segment_from_desc(uint64_t desc, uint16_t selector)
{
	struct kvm_segment s;
	uint32_t limit = (uint32_t)((desc & 0xFFFF) | ((desc >> 32) & 0xF0000));
	bool g = (desc >> 55) & 1;

	memset(&s, 0, sizeof(s));
	s.base = ((desc >> 16) & 0xFFFFFF) | ((desc >> 32) & 0xFF000000);
	/* With G set the limit counts 4 KiB units; KVM wants it in bytes. */
	s.limit = g ? (limit << 12) | 0xFFF : limit;
	s.selector = selector;
	s.type = (desc >> 40) & 0xF;
	s.s = (desc >> 44) & 1;
	s.dpl = (desc >> 45) & 3;
	s.present = (desc >> 47) & 1;
	s.avl = (desc >> 52) & 1;
	s.l = (desc >> 53) & 1;
	s.db = (desc >> 54) & 1;
	s.g = g;
	s.unusable = !s.present;
	return s;
}

void x86_sregs_long_mode(struct kvm_sregs *sregs)
{
	struct kvm_segment data = segment_from_desc(x86_gdt[X86_GDT_BOOT_DS / 8], X86_GDT_BOOT_DS);

	sregs->cs = segment_from_desc(x86_gdt[X86_GDT_BOOT_CS / 8], X86_GDT_BOOT_CS);
	sregs->ds = data;
	sregs->es = data;
	sregs->fs = data;
	sregs->gs = data;
	sregs->ss = data;
	/* VMX refuses to enter a guest whose TR is not a busy TSS, even if never used. */
	sregs->tr = segment_from_desc(x86_gdt[X86_GDT_TSS / 8], X86_GDT_TSS);

	memset(&sregs->ldt, 0, sizeof(sregs->ldt));
	sregs->ldt.type = 2;       /* LDT system segment, marked unusable */
	sregs->ldt.unusable = 1;

	sregs->gdt.base = X86_GDT_ADDR;
	sregs->gdt.limit = sizeof(x86_gdt) - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;

	/* The reset CR0 has caches disabled (CD|NW); the kernel expects them on. */
	sregs->cr0 = (sregs->cr0 & ~(X86_CR0_CD | X86_CR0_NW)) | X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	sregs->cr3 = X86_PML4_ADDR;
	sregs->cr4 |= X86_CR4_PAE;
	sregs->efer |= X86_EFER_LME | X86_EFER_LMA;
}

void x86_regs_boot(struct kvm_regs *regs, uint64_t entry)
{
	memset(regs, 0, sizeof(*regs));
	regs->rip = entry;
	regs->rsi = X86_ZERO_PAGE_ADDR;
	regs->rflags = 0x2;   /* bit 1 is reserved and reads as 1 */
}

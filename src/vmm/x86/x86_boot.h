/* SPDX-License-Identifier: MIT */
/* x86 Linux boot: kernel loading, zero page, e820, page tables, GDT and initial vCPU state. */
#ifndef VMM_X86_BOOT_H
#define VMM_X86_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "boot.h"
#include "gmem.h"
#include "x86_bootparam.h"
#include "x86_layout.h"

_Static_assert(X86_CMDLINE_MAX <= BOOT_CMDLINE_MAX, "the x86 command line must fit the core's buffer");

/* GDT selectors the 64-bit boot protocol expects (__BOOT_CS, __BOOT_DS), and our TSS. */
#define X86_GDT_BOOT_CS   0x10u
#define X86_GDT_BOOT_DS   0x18u
#define X86_GDT_TSS       0x20u   /* 16-byte system descriptor: slots 4 and 5 */
#define X86_GDT_ENTRIES   6u

/*
 * Oldest bzImage boot protocol we load: 2.12 brought xloadflags, whose
 * XLF_KERNEL_64 says the 64-bit entry exists. Major in the high byte, minor in
 * the low one (0x020C: "2.12").
 */
#define X86_BZIMAGE_MIN_PROTOCOL 0x020Cu

/*
 * Why the loader refused a kernel file, finer than its -errno, so that the
 * user can be told what is wrong with the file and what to do instead.
 */
enum x86_kernel_fault_kind {
	X86_KF_NONE,
	X86_KF_UNKNOWN,      /* -ENOEXEC: not a kernel at all, as far as the loader can tell */
	X86_KF_COMPRESSED,   /* -ENOEXEC: a compressed stream; what names the compressor */
	X86_KF_OTHER_ARCH,   /* -ENOEXEC: a kernel for another machine; what says what ("an ELF file for arm64"),
	                      * or is NULL and val is the ELF's e_machine */
	X86_KF_ELF_TYPE,     /* -ENOEXEC: an ELF that is not an executable; what says which kind */
	X86_KF_OLD_PROTOCOL, /* -EPROTONOSUPPORT: bzImage boot protocol below 2.12; val is its version */
	X86_KF_NOT_64BIT,    /* -EPROTONOSUPPORT: no 64-bit entry point; what says why */
	X86_KF_TRUNCATED,    /* -EINVAL: the headers need val bytes of file, more than it has */
	X86_KF_MALFORMED,    /* -EINVAL: headers that contradict themselves; what says how */
	X86_KF_LOW,          /* -EINVAL: a part loads at val, below 1 MiB */
	X86_KF_ABOVE_4G,     /* -ENOMEM: a part reaches val, past 4 GiB */
	X86_KF_IN_HOLE,      /* -ENOMEM: a part reaches val, past the 3 GiB where RAM below 4 GiB ends */
	X86_KF_NO_RAM,       /* -ENOMEM: a part needs guest RAM up to val, more than --memory gives */
};

struct x86_kernel_fault {
	enum x86_kernel_fault_kind kind;
	const char *what;    /* a static phrase, or NULL */
	uint64_t val;
};

/* The -errno a refusal of this kind returns (as listed above; 0 for X86_KF_NONE). */
int x86_kernel_fault_errno(enum x86_kernel_fault_kind kind);

/*
 * Why the loader refused a kernel file, as the words that follow the file's
 * name in a message to the user: what is wrong and what to give instead
 * ("is xz-compressed, not a kernel image (decompress it, or ...)"). file_size
 * and mem_bytes (guest RAM) are what X86_KF_TRUNCATED and X86_KF_NO_RAM cite.
 * Into buf (cap bytes, cut short if need be; "" for X86_KF_NONE). Returns the
 * length snprintf reports, which is at least cap when it was cut.
 */
int x86_kernel_fault_describe(const struct x86_kernel_fault *f, uint64_t file_size, uint64_t mem_bytes, char *buf,
			      size_t cap);

/* A loaded kernel, as the later boot steps need it. */
struct x86_kernel {
	uint64_t entry;            /* guest-physical 64-bit entry point */
	uint64_t load_addr;        /* lowest guest-physical byte the image was loaded to */
	uint64_t load_end;         /* one past the highest byte loaded (ELF: incl. bss) */
	uint64_t init_size;        /* bytes from load_addr the kernel needs while it boots */
	uint64_t initrd_addr_max;  /* highest address the initrd's last byte may occupy */
	size_t cmdline_cap;        /* command line limit in bytes, NUL included */
	uint64_t file_off;         /* bzImage: where its protected-mode part starts in the file */
	bool is_elf;
	/*
	 * An ELF unpacked from a bzImage (boot_file.packed): hdr is that
	 * bzImage's, and cmdline_cap and initrd_addr_max come from it.
	 */
	bool hdr_packed;
	/* bzImage (or hdr_packed): the setup header as read from the image (fields past its end are 0). */
	struct x86_setup_header hdr;
	/* Why the file was refused; all zero (X86_KF_NONE) when it was not. */
	struct x86_kernel_fault fault;
};

/*
 * Fill out[0..] with the guest's e820 map for mem_bytes of RAM laid out by
 * x86_ram_layout(): usable [0, 0x9FC00), reserved [0x9FC00, 1 MiB), usable
 * [1 MiB, low RAM end), usable high RAM. Pure. Returns the entry count,
 * -EINVAL if mem_bytes does not reach past 1 MiB, -ENOSPC if max is too small.
 */
int x86_e820_build(uint64_t mem_bytes, struct x86_e820_entry *out, unsigned int max);

/*
 * Load a kernel file into guest memory: a bzImage (boot protocol >= 2.12
 * with XLF_KERNEL_64, protected-mode part at pref_address or 1 MiB, entry at
 * load address + 0x200) or an ELF64 x86-64 vmlinux (PT_LOAD segments at
 * p_paddr, entry = e_entry). Fills *out; on a refusal only out->fault,
 * which says why (its kind decides the -errno, as enum x86_kernel_fault_kind
 * lists). Returns 0; -ENOEXEC if it is not an x86-64 kernel;
 * -EPROTONOSUPPORT if the boot protocol is too old or the kernel cannot boot
 * in 64-bit mode; -ENOMEM if it does not fit in guest RAM below 4 GiB;
 * -EINVAL if malformed (headers past f->head_len, which is at most
 * BOOT_FILE_HEAD_MAX, offsets or sizes past the end of the file, overflow, segments below 1 MiB, an entry point that is
 * not a byte of the file: a bzImage's protected-mode part must reach past
 * 0x200, an ELF entry must lie in a segment's file bytes, not its bss); or
 * f->read's error (-EFAULT, which the checks rule out, would mean mem
 * changed between them and the copy).
 * Every check runs before the first byte is written: on a check's error guest
 * memory is untouched. On a read error the load range may be partly written.
 * An ELF with f->packed (unpacked by the host from that bzImage) is loaded as
 * an ELF and keeps the bzImage's setup header (hdr_packed); f->packed must
 * pass these checks too, and its refusal is the ELF's.
 */
int x86_kernel_load(const struct gmem *mem, const struct boot_file *f, struct x86_kernel *out);

/*
 * Every check x86_kernel_load makes, with the same returns and the same *out,
 * but nothing is written or read past f->head: only the regions' gpa and size
 * are looked at (host may be NULL, e.g. a layout straight from
 * x86_ram_layout()). So a kernel file can be judged before any guest memory
 * exists.
 */
int x86_kernel_check(const struct gmem *mem, const struct boot_file *f, struct x86_kernel *out);

/* Which bound x86_initrd_top() hit. */
enum x86_initrd_limit {
	X86_INITRD_LIMIT_RAM,     /* the end of the RAM region holding 1 MiB (grows with RAM up to the 3 GiB hole) */
	X86_INITRD_LIMIT_KERNEL,  /* the kernel's initrd_addr_max (+1) */
	X86_INITRD_LIMIT_4G,      /* the 4 GiB the kernel can address for an initrd we place */
};

/*
 * One past the highest address an initrd may end at for kernel k in mem:
 * min(end of the RAM region holding 1 MiB, initrd_addr_max + 1, 4 GiB).
 * *which (may be NULL) says which bound it was. Reads only gpa and size.
 */
uint64_t x86_initrd_top(const struct gmem *mem, const struct x86_kernel *k, enum x86_initrd_limit *which);

/*
 * Choose where an initrd of initrd_size bytes goes: the highest page-aligned
 * address at or above 1 MiB whose range ends at or below min(initrd_addr_max
 * + 1, end of the RAM region holding 1 MiB, 4 GiB) and does not overlap the
 * kernel's [load_addr, load_addr + max(init_size, load_end - load_addr)).
 * The caller copies the bytes there. initrd_size 0 gives *gpa = 0. Reads
 * only the regions' gpa and size, never guest memory.
 * Returns 0, or -ENOMEM if no such range exists.
 */
int x86_initrd_place(const struct gmem *mem, const struct x86_kernel *k, uint64_t initrd_size,
		     uint64_t *gpa);

/*
 * Write the zero page at X86_ZERO_PAGE_ADDR: the image's setup header (bzImage)
 * or a synthesised one (ELF), loader type, heap, cmd_line_ptr, ramdisk fields
 * (initrd_size 0 = none), the e820 map for mem_bytes and acpi_rsdp_addr (0 =
 * let the kernel scan). The command line string is the caller's to write.
 * Returns 0; -EFAULT if the zero page, cmdline_gpa or the initrd range is not
 * in guest RAM; -EINVAL for an initrd above 4 GiB that the kernel cannot take,
 * or a mem_bytes e820 cannot describe.
 */
int x86_boot_params_build(const struct gmem *mem, const struct x86_kernel *k, uint64_t mem_bytes,
			  uint64_t cmdline_gpa, uint64_t initrd_gpa, uint64_t initrd_size,
			  uint64_t acpi_rsdp_gpa);

/*
 * Identity-map the first 4 GiB with 2 MiB pages: PML4 at 0x9000, PDPT at
 * 0xA000, PDs at 0xB000..0xEFFF. Returns 0, -EFAULT if those pages are not in
 * guest RAM.
 */
int x86_page_tables_build(const struct gmem *mem);

/*
 * Write the boot GDT at X86_GDT_ADDR: null, null, 64-bit code at 0x10, data
 * at 0x18, a busy 64-bit TSS at 0x20. Returns 0, -EFAULT if 0x500 is not in
 * guest RAM.
 */
int x86_gdt_build(const struct gmem *mem);

/*
 * Turn the vCPU's current special registers (as read from KVM) into 64-bit
 * long mode matching x86_gdt_build() and x86_page_tables_build(). Fields not
 * named here (APIC base, CR2, CR8, interrupt bitmap) are kept.
 */
void x86_sregs_long_mode(struct kvm_sregs *sregs);

/* Initial general registers: rip = entry, rsi = zero page, rflags = 2 (reserved bit), rest 0. */
void x86_regs_boot(struct kvm_regs *regs, uint64_t entry);

#endif

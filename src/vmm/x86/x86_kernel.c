/* SPDX-License-Identifier: MIT */
/* Kernel image loading (bzImage and ELF64 vmlinux) and initrd placement; the image is untrusted input. */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "x86_boot.h"
#include "x86_layout.h"

#define X86_4G              0x100000000ULL
#define X86_PAGE_MASK       0xFFFULL
#define X86_SECTOR          512u
#define X86_SETUP_SECTS_DEF 4u            /* setup_sects == 0 means 4 */
#define X86_ENTRY64_OFFSET  0x200u        /* 64-bit entry relative to the load address */
#define X86_ELF_INITRD_MAX  0x7FFFFFFFu   /* what a 2.03+ bzImage would say; ELF has no header */

/* Smallest header we accept: it must reach init_size (protocol 2.10+). */
#define X86_HDR_MIN_END     (X86_SETUP_HDR_OFFSET + offsetof(struct x86_setup_header, handover_offset))

static uint64_t u64_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t u64_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t u64_add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

int x86_kernel_fault_errno(enum x86_kernel_fault_kind kind)
{
	switch (kind) {
	case X86_KF_NONE:
		return 0;
	case X86_KF_UNKNOWN:
	case X86_KF_COMPRESSED:
	case X86_KF_OTHER_ARCH:
	case X86_KF_ELF_TYPE:
		return -ENOEXEC;
	case X86_KF_OLD_PROTOCOL:
	case X86_KF_NOT_64BIT:
		return -EPROTONOSUPPORT;
	case X86_KF_ABOVE_4G:
	case X86_KF_IN_HOLE:
	case X86_KF_NO_RAM:
		return -ENOMEM;
	case X86_KF_TRUNCATED:
	case X86_KF_MALFORMED:
	case X86_KF_LOW:
		break;
	}
	return -EINVAL;
}

/* Record why the file is refused; the kind decides the -errno. */
static int refuse(struct x86_kernel *out, enum x86_kernel_fault_kind kind, const char *what, uint64_t val)
{
	memset(out, 0, sizeof(*out));
	out->fault.kind = kind;
	out->fault.what = what;
	out->fault.val = val;
	return x86_kernel_fault_errno(kind);
}

static int malformed(struct x86_kernel *out, const char *what)
{
	return refuse(out, X86_KF_MALFORMED, what, 0);
}

/*
 * The headers need `need` bytes of file, and it is shorter: a copy cut short,
 * unless no kernel file could be that long (the headers are garbage).
 */
static int truncated(struct x86_kernel *out, uint64_t need)
{
	if (need > X86_4G)
		return malformed(out, "its headers point more than 4 GiB into the file");
	return refuse(out, X86_KF_TRUNCATED, NULL, need);
}

/* The kernel must sit above the boot data and inside the 4 GiB identity map. */
static int kernel_range_check(const struct gmem *mem, uint64_t addr, uint64_t len, struct x86_kernel *out)
{
	if (addr < X86_BIOS_END)
		return refuse(out, X86_KF_LOW, NULL, addr);
	if (addr > X86_4G || len > X86_4G - addr)
		return refuse(out, X86_KF_ABOVE_4G, NULL, u64_add_sat(addr, len));
	/* Below 4 GiB, RAM ends at 3 GiB at the latest: more --memory goes above 4 GiB. */
	if (addr + len > X86_LOWMEM_MAX)
		return refuse(out, X86_KF_IN_HOLE, NULL, addr + len);
	if (!gmem_region_of(mem, addr, len))
		return refuse(out, X86_KF_NO_RAM, NULL, addr + len);
	return 0;
}

static int bzimage_check(const struct gmem *mem, const struct boot_file *f, struct x86_kernel *out)
{
	const uint8_t *img = f->head;
	uint64_t size = f->size;
	struct x86_setup_header hdr;
	uint64_t hdr_end, pm_off, pm_size, load, need;
	unsigned int sects;
	int ret;

	/* The head is min(size, 64 KiB) and hdr_end is under 1 KiB: past the head is past the file. */
	hdr_end = 0x202u + (uint64_t)img[0x201];
	if (hdr_end > f->head_len)
		return truncated(out, hdr_end);
	memset(&hdr, 0, sizeof(hdr));
	memcpy(&hdr, img + X86_SETUP_HDR_OFFSET,
	       u64_min(hdr_end - X86_SETUP_HDR_OFFSET, sizeof(hdr)));

	if (hdr_end < X86_SETUP_HDR_OFFSET + offsetof(struct x86_setup_header, realmode_swtch))
		return malformed(out, "its setup header is too short to hold its own version");
	/* xloadflags appeared in 2.12; without XLF_KERNEL_64 there is no 64-bit entry. */
	if (hdr.version < X86_BZIMAGE_MIN_PROTOCOL)
		return refuse(out, X86_KF_OLD_PROTOCOL, NULL, hdr.version);
	if (hdr_end < X86_HDR_MIN_END)
		return malformed(out, "its setup header is too short for the boot protocol it names");
	if (!(hdr.loadflags & X86_LOADED_HIGH))
		return refuse(out, X86_KF_NOT_64BIT, "it loads at 0x10000 (no LOADED_HIGH)", 0);
	if (!(hdr.xloadflags & X86_XLF_KERNEL_64))
		return refuse(out, X86_KF_NOT_64BIT, "it has no 64-bit entry point (no XLF_KERNEL_64)", 0);

	sects = hdr.setup_sects ? hdr.setup_sects : X86_SETUP_SECTS_DEF;
	pm_off = ((uint64_t)sects + 1) * X86_SECTOR;
	/*
	 * The 64-bit entry point must be a byte of the file, not whatever guest
	 * RAM held, and the compressed payload lives inside the protected-mode
	 * part. If either lies past the end, the file is cut short; syssize says
	 * how long the protected-mode part was built, for the message.
	 */
	need = u64_max(pm_off + X86_ENTRY64_OFFSET + 1,
		       u64_add_sat(pm_off, (uint64_t)hdr.payload_offset + hdr.payload_length));
	if (need > size)
		return truncated(out, u64_max(need, pm_off + (uint64_t)hdr.syssize * 16));
	pm_size = size - pm_off;
	/* It is decompressed in place, so init_size always covers the file's part. */
	if (hdr.init_size < pm_size)
		return malformed(out, "its init_size is smaller than the kernel in the file");
	if (hdr.kernel_alignment & (hdr.kernel_alignment - 1))
		return malformed(out, "its kernel_alignment is not a power of two");

	load = hdr.pref_address ? hdr.pref_address : X86_KERNEL_DEFAULT_ADDR;
	need = u64_max(hdr.init_size, pm_size);
	ret = kernel_range_check(mem, load, need, out);
	if (ret)
		return ret;

	memset(out, 0, sizeof(*out));
	out->entry = load + X86_ENTRY64_OFFSET;
	out->load_addr = load;
	out->load_end = load + pm_size;
	out->file_off = pm_off;
	out->init_size = need;
	out->initrd_addr_max = hdr.initrd_addr_max;
	out->cmdline_cap = u64_min((uint64_t)hdr.cmdline_size + 1, X86_CMDLINE_MAX);
	out->is_elf = false;
	out->hdr = hdr;
	return 0;
}

/* Program header i of an ELF whose table elf_check found inside f->head. */
static void elf_phdr_read(const struct boot_file *f, const Elf64_Ehdr *eh, unsigned int i, Elf64_Phdr *ph)
{
	/* memcpy: the file offers no alignment guarantee. */
	memcpy(ph, (const uint8_t *)f->head + eh->e_phoff + (uint64_t)i * eh->e_phentsize, sizeof(*ph));
}

/* What an ELF file for a machine other than x86-64 is, or NULL for one without a name here. */
static const char *elf_machine_name(unsigned int machine)
{
	switch (machine) {
	case EM_386:     return "an ELF file for i386";
	case EM_ARM:     return "an ELF file for 32-bit Arm";
	case EM_AARCH64: return "an ELF file for arm64";
	case EM_RISCV:   return "an ELF file for RISC-V";
	case EM_PPC64:   return "an ELF file for 64-bit PowerPC";
	case EM_S390:    return "an ELF file for s390";
	case EM_MIPS:    return "an ELF file for MIPS";
	case 258:        return "an ELF file for LoongArch";   /* EM_LOONGARCH, newer than some elf.h */
	default:         return NULL;
	}
}

/*
 * The ELF header, before the program headers: byte order, class, machine,
 * type, and a program header table inside the head. 0 with *eh, or a refusal.
 */
static int elf_header_check(const struct boot_file *f, Elf64_Ehdr *eh, struct x86_kernel *out)
{
	const uint8_t *img = f->head;
	uint64_t table;
	uint16_t machine;   /* e_machine, at the same offset in a 32-bit header */

	/*
	 * As for a bzImage's header: the head is all of a file shorter than 64
	 * KiB. Byte order, class and machine first, which sit at the same
	 * offsets in a 32-bit ELF header: what the file is for, then whether
	 * it is 64-bit.
	 */
	if (f->head_len < offsetof(Elf64_Ehdr, e_version))
		return truncated(out, sizeof(*eh));
	if (img[EI_DATA] == ELFDATA2MSB)
		return refuse(out, X86_KF_OTHER_ARCH, "a big-endian ELF file", 0);
	if (img[EI_DATA] != ELFDATA2LSB || (img[EI_CLASS] != ELFCLASS32 && img[EI_CLASS] != ELFCLASS64))
		return refuse(out, X86_KF_UNKNOWN, NULL, 0);
	memcpy(&machine, img + offsetof(Elf64_Ehdr, e_machine), sizeof(machine));
	if (img[EI_CLASS] == ELFCLASS32 && (machine == EM_386 || machine == EM_X86_64))
		return refuse(out, X86_KF_NOT_64BIT, "it is a 32-bit ELF file", 0);
	if (machine != EM_X86_64)
		return refuse(out, X86_KF_OTHER_ARCH, elf_machine_name(machine), machine);
	if (f->head_len < sizeof(*eh))
		return truncated(out, sizeof(*eh));
	memcpy(eh, img, sizeof(*eh));
	if (eh->e_type != ET_EXEC)
		return refuse(out, X86_KF_ELF_TYPE,
			      eh->e_type == ET_REL ? "relocatable object (a .o or .ko)" :
			      eh->e_type == ET_DYN ? "shared object or position-independent program" :
			      eh->e_type == ET_CORE ? "core dump" : "file of an unknown type", eh->e_type);
	if (eh->e_phnum == 0 || eh->e_phentsize < sizeof(Elf64_Phdr))
		return malformed(out, "it has no usable program header table");
	/* The table must lie in the head. phnum * phentsize < 2^32: no wrap once phoff <= head_len. */
	table = (uint64_t)eh->e_phnum * eh->e_phentsize;
	if (u64_add_sat(eh->e_phoff, table) > f->size)
		return truncated(out, u64_add_sat(eh->e_phoff, table));
	if (eh->e_phoff > f->head_len || table > f->head_len - eh->e_phoff)
		return malformed(out, "its program headers lie past the file's first 64 KiB");
	return 0;
}

/* What an ELF's PT_LOAD segments span, and its entry point once a segment's file bytes hold it. */
struct elf_span {
	uint64_t lo, hi;
	unsigned int nload;
	uint64_t entry;
	bool have_entry;
};

/* Every PT_LOAD segment lies in the file and in guest RAM between 1 MiB and 3 GiB: 0 with *sp, or a refusal. */
static int elf_segments_check(const struct gmem *mem, const struct boot_file *f, const Elf64_Ehdr *eh,
			      struct elf_span *sp, struct x86_kernel *out)
{
	Elf64_Phdr ph;
	int ret;

	*sp = (struct elf_span){ .lo = UINT64_MAX };
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		elf_phdr_read(f, eh, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz)
			return malformed(out, "a segment has more bytes in the file than in memory");
		if (u64_add_sat(ph.p_offset, ph.p_filesz) > f->size)
			return truncated(out, u64_add_sat(ph.p_offset, ph.p_filesz));
		if (ph.p_paddr > UINT64_MAX - ph.p_memsz)
			return malformed(out, "a segment ends past the top of the address space");
		ret = kernel_range_check(mem, ph.p_paddr, ph.p_memsz, out);
		if (ret)
			return ret;
		sp->lo = u64_min(sp->lo, ph.p_paddr);
		sp->hi = u64_max(sp->hi, ph.p_paddr + ph.p_memsz);
		sp->nload++;
		/* The entry must be code the file supplies, not its zeroed bss. */
		if (!sp->have_entry && eh->e_entry >= ph.p_paddr && eh->e_entry - ph.p_paddr < ph.p_filesz) {
			sp->entry = eh->e_entry;
			sp->have_entry = true;
		}
	}
	return 0;
}

/* Some vmlinux files give a virtual entry: translate it through the segment whose file bytes hold it. */
static bool elf_virtual_entry(const struct boot_file *f, const Elf64_Ehdr *eh, uint64_t *entry)
{
	Elf64_Phdr ph;

	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		elf_phdr_read(f, eh, i, &ph);
		if (ph.p_type == PT_LOAD && eh->e_entry >= ph.p_vaddr && eh->e_entry - ph.p_vaddr < ph.p_filesz) {
			*entry = ph.p_paddr + (eh->e_entry - ph.p_vaddr);
			return true;
		}
	}
	return false;
}

static int elf_check(const struct gmem *mem, const struct boot_file *f, struct x86_kernel *out)
{
	struct elf_span sp;
	Elf64_Ehdr eh;
	int ret;

	ret = elf_header_check(f, &eh, out);
	if (ret)
		return ret;
	ret = elf_segments_check(mem, f, &eh, &sp, out);
	if (ret)
		return ret;
	if (sp.nload == 0)
		return malformed(out, "it has no loadable segment");
	if (!sp.have_entry)
		sp.have_entry = elf_virtual_entry(f, &eh, &sp.entry);
	if (!sp.have_entry)
		return malformed(out, "its entry point is not in the code it loads");

	memset(out, 0, sizeof(*out));
	out->entry = sp.entry;
	out->load_addr = sp.lo;
	out->load_end = sp.hi;
	out->init_size = sp.hi - sp.lo;
	out->initrd_addr_max = X86_ELF_INITRD_MAX;
	out->cmdline_cap = X86_CMDLINE_MAX;
	out->is_elf = true;
	return 0;
}

/*
 * An ELF the host unpacked from the bzImage f->packed: loaded as an ELF, with
 * the bzImage's setup header for the zero page (the one its own decompressor
 * would have passed on), its command line and initrd limits.
 */
static int elf_unpacked_check(const struct gmem *mem, const struct boot_file *f, struct x86_kernel *out)
{
	struct x86_kernel packed;
	int ret;

	if (f->packed->packed)
		return malformed(out, "it was unpacked from a file that was itself unpacked");
	ret = x86_kernel_check(mem, f->packed, &packed);
	if (ret == 0 && packed.is_elf)
		return malformed(out, "it was unpacked from an ELF file, not a bzImage");
	if (ret) {
		*out = packed;
		return ret;
	}
	ret = elf_check(mem, f, out);
	if (ret)
		return ret;
	out->hdr = packed.hdr;
	out->hdr_packed = true;
	out->cmdline_cap = packed.cmdline_cap;
	out->initrd_addr_max = packed.initrd_addr_max;
	return 0;
}

/* Read a checked ELF's PT_LOAD segments into guest RAM (elf_check has vetted every one). */
static int elf_copy(const struct gmem *mem, const struct boot_file *f)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int ret;

	memcpy(&eh, f->head, sizeof(eh));
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		uint8_t *dst;

		elf_phdr_read(f, &eh, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		dst = gmem_ptr(mem, ph.p_paddr, ph.p_memsz);
		if (!dst)
			return -EFAULT;
		ret = f->read(f, dst, ph.p_filesz, ph.p_offset);
		if (ret)
			return ret;
		/* bss: guest RAM may be reused, so do not rely on it being zero. */
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
	return 0;
}

/* Starts of files that are often given where a kernel belongs, for a better message than "not a kernel". */
static const struct {
	size_t off;
	size_t len;
	const char *magic;
	enum x86_kernel_fault_kind kind;
	const char *what;
} not_kernels[] = {
	{ 0, 2, "\x1f\x8b", X86_KF_COMPRESSED, "gzip" },
	{ 0, 6, "\xfd" "7zXZ\0", X86_KF_COMPRESSED, "xz" },
	{ 0, 4, "\x28\xb5\x2f\xfd", X86_KF_COMPRESSED, "zstd" },
	{ 0, 3, "BZh", X86_KF_COMPRESSED, "bzip2" },
	{ 0, 4, "\x02\x21\x4c\x18", X86_KF_COMPRESSED, "lz4" },
	{ 0, 4, "\x04\x22\x4d\x18", X86_KF_COMPRESSED, "lz4" },
	/* The Image headers of Documentation/arch/{arm64,riscv}/booting.rst. */
	{ 0x38, 4, "ARM\x64", X86_KF_OTHER_ARCH, "an arm64 Image" },
	{ 0x30, 8, "RISCV\0\0\0", X86_KF_OTHER_ARCH, "a RISC-V Image" },
};

int x86_kernel_check(const struct gmem *mem, const struct boot_file *f, struct x86_kernel *out)
{
	const uint8_t *img = f->head;
	size_t len = f->head_len;

	if (len > f->size)
		return malformed(out, "its head is longer than the file");
	if (len >= SELFMAG && memcmp(img, ELFMAG, SELFMAG) == 0)
		return f->packed ? elf_unpacked_check(mem, f, out) : elf_check(mem, f, out);
	if (len >= 0x206) {
		uint32_t magic;
		uint16_t flag;

		memcpy(&flag, img + 0x1FE, sizeof(flag));
		memcpy(&magic, img + 0x202, sizeof(magic));
		if (flag == X86_BOOT_FLAG && magic == X86_SETUP_MAGIC)
			return bzimage_check(mem, f, out);
	}
	for (size_t i = 0; i < sizeof(not_kernels) / sizeof(not_kernels[0]); i++) {
		if (len >= not_kernels[i].off + not_kernels[i].len &&
		    memcmp(img + not_kernels[i].off, not_kernels[i].magic, not_kernels[i].len) == 0)
			return refuse(out, not_kernels[i].kind, not_kernels[i].what, 0);
	}
	return refuse(out, X86_KF_UNKNOWN, NULL, 0);
}

int x86_kernel_load(const struct gmem *mem, const struct boot_file *f, struct x86_kernel *out)
{
	uint64_t pm_size;
	void *dst;
	int ret;

	/* Every check runs before the first byte is written: on error guest memory is untouched. */
	ret = x86_kernel_check(mem, f, out);
	if (ret)
		return ret;
	if (out->is_elf)
		return elf_copy(mem, f);
	/* bzImage: the protected-mode part is the file's tail, loaded at load_addr. */
	pm_size = out->load_end - out->load_addr;
	dst = gmem_ptr(mem, out->load_addr, pm_size);
	if (!dst)
		return -EFAULT;
	return f->read(f, dst, pm_size, out->file_off);
}

/* End of the RAM region that holds 1 MiB, or 0 if there is none. */
static uint64_t lowmem_end(const struct gmem *mem)
{
	const struct gmem_region *r = gmem_region_of(mem, X86_BIOS_END, 1);

	return r ? r->gpa + r->size : 0;
}

uint64_t x86_initrd_top(const struct gmem *mem, const struct x86_kernel *k, enum x86_initrd_limit *which)
{
	uint64_t top = lowmem_end(mem);
	enum x86_initrd_limit w = X86_INITRD_LIMIT_RAM;

	/* initrd_addr_max is the last byte's address: +1 cannot wrap, it is at most 32 bits in a header. */
	if (k->initrd_addr_max + 1 < top) {
		top = k->initrd_addr_max + 1;
		w = X86_INITRD_LIMIT_KERNEL;
	}
	if (X86_4G < top) {
		top = X86_4G;
		w = X86_INITRD_LIMIT_4G;
	}
	if (which)
		*which = w;
	return top;
}

int x86_initrd_place(const struct gmem *mem, const struct x86_kernel *k, uint64_t initrd_size,
		     uint64_t *gpa)
{
	uint64_t top, g, kstart, kend;

	if (initrd_size == 0) {
		*gpa = 0;
		return 0;
	}
	top = x86_initrd_top(mem, k, NULL);
	if (top <= X86_BIOS_END || initrd_size > top - X86_BIOS_END)
		return -ENOMEM;
	g = (top - initrd_size) & ~X86_PAGE_MASK;
	if (g < X86_BIOS_END)
		return -ENOMEM;

	kstart = k->load_addr;
	kend = k->load_addr + u64_max(k->init_size, k->load_end - k->load_addr);
	if (g < kend && g + initrd_size > kstart) {
		/* Highest spot overlaps the kernel: go just below it instead. */
		if (kstart < X86_BIOS_END || kstart - X86_BIOS_END < initrd_size)
			return -ENOMEM;
		g = (kstart - initrd_size) & ~X86_PAGE_MASK;
		if (g < X86_BIOS_END)
			return -ENOMEM;
	}
	*gpa = g;
	return 0;
}

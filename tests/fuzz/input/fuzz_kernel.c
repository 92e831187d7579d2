/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the kernel image file (--kernel), as x86_kernel_check and x86_kernel_load see it, then
 * initrd placement and the zero page for what they accepted.
 *
 * Each input is the whole file. It is run against two guest layouts: one 64 MiB region as
 * x86_ram_layout makes it, and two regions that meet at 16 MiB but are separate host mappings (so a
 * segment across the seam must be refused). Every region has PROT_NONE pages on both sides, and the
 * image ends at a PROT_NONE page, so a stray read or write faults even without ASan.
 *
 * Invariants:
 *  - the file is seen as vmm sees one: its first BOOT_FILE_HEAD_MAX bytes, then reads; check reads
 *    nothing past the head, load reads only inside the file;
 *  - check and load return 0 or one of the documented errors, and the same one; check with no host
 *    memory (as vm_boot_check calls it) agrees too, with the same struct x86_kernel;
 *  - on error no guest page was written; on success only pages inside [load_addr, load_end) were;
 *  - what was accepted lies in guest RAM (one region per range) between 1 MiB and 4 GiB, and comes
 *    from the file: the entry point is a byte the file supplied, the loaded bytes equal the file's
 *    (ELF bss zeroed), the setup header copied is the file's, cmdline_cap is 1..X86_CMDLINE_MAX;
 *  - x86_initrd_place gives a page-aligned range in RAM, above 1 MiB, below the kernel's
 *    initrd_addr_max and 4 GiB, clear of the kernel; x86_boot_params_build takes it and the zero
 *    page says what vmm placed, not what the file claimed.
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "fuzz_check.h"
#include "x86_boot.h"

#define MiB (1ULL << 20)
#define X86_4G (1ULL << 32)
#define FUZZ_KERNEL_MAX (1u << 20)

struct layout {
	const char *name;
	struct gmem mem;
	uint64_t mem_bytes;   /* for x86_boot_params_build's e820 */
};

static struct layout layouts[2];
static size_t page;

static void region_map(struct gmem *mem, uint64_t gpa, uint64_t size)
{
	uint8_t *p = fuzz_guarded_map(size);

	FUZZ_CHECK(p != NULL, "cannot map %llu bytes of guest RAM", (unsigned long long)size);
	/* Huge pages would make a one-byte write look like 2 MiB written. */
	madvise(p, size, MADV_NOHUGEPAGE);
	mem->regions[mem->nregions++] = (struct gmem_region){ .gpa = gpa, .size = size, .host = p };
}

static void layouts_init(void)
{
	struct gmem_region r[2];
	unsigned int n;

	page = fuzz_page();
	layouts[0].name = "one 64 MiB region";
	layouts[0].mem_bytes = 64 * MiB;
	n = x86_ram_layout(64 * MiB, r);
	for (unsigned int i = 0; i < n; i++)
		region_map(&layouts[0].mem, r[i].gpa, r[i].size);

	layouts[1].name = "regions [0, 16M) and [16M, 40M)";
	layouts[1].mem_bytes = 40 * MiB;
	region_map(&layouts[1].mem, 0, 16 * MiB);
	region_map(&layouts[1].mem, 16 * MiB, 24 * MiB);
}

/* Give the regions back to the kernel: zero and not resident, so mincore shows what gets written. */
static void layout_reset(const struct layout *l)
{
	for (unsigned int i = 0; i < l->mem.nregions; i++)
		FUZZ_CHECK(madvise(l->mem.regions[i].host, l->mem.regions[i].size, MADV_DONTNEED) == 0,
			   "madvise failed");
}

/* Every resident (written) page of guest RAM lies inside [lo, hi). */
static void check_written_within(const struct layout *l, uint64_t lo, uint64_t hi)
{
	static unsigned char vec[64 * MiB / 4096];

	for (unsigned int i = 0; i < l->mem.nregions; i++) {
		const struct gmem_region *r = &l->mem.regions[i];
		size_t npages = r->size / page;

		FUZZ_CHECK(npages <= sizeof(vec), "region too large for the mincore vector");
		FUZZ_CHECK(mincore(r->host, r->size, vec) == 0, "mincore failed");
		for (size_t p = 0; p < npages; p++) {
			uint64_t gpa = r->gpa + p * page;

			if (!(vec[p] & 1))
				continue;
			FUZZ_CHECK(gpa + page > lo && gpa < hi,
				   "%s: page 0x%llx written, outside the kernel's [0x%llx, 0x%llx)", l->name,
				   (unsigned long long)gpa, (unsigned long long)lo, (unsigned long long)hi);
		}
	}
}

/* [gpa, gpa + len) is in one region, at or above 1 MiB and below 4 GiB. */
static void check_in_ram(const struct layout *l, const char *what, uint64_t gpa, uint64_t len)
{
	FUZZ_CHECK(gpa >= X86_BIOS_END && gpa <= X86_4G && len <= X86_4G - gpa,
		   "%s: %s [0x%llx, +0x%llx) is not between 1 MiB and 4 GiB", l->name, what,
		   (unsigned long long)gpa, (unsigned long long)len);
	FUZZ_CHECK(gmem_region_of(&l->mem, gpa, len) != NULL, "%s: %s [0x%llx, +0x%llx) is not in one region",
		   l->name, what, (unsigned long long)gpa, (unsigned long long)len);
}

static void check_bzimage(const struct layout *l, const uint8_t *img, size_t size,
			  const struct x86_kernel *k)
{
	uint64_t pm_size = k->load_end - k->load_addr;
	size_t hdr_end = 0x202u + img[0x201], n;
	const uint8_t *hdr = (const uint8_t *)&k->hdr;
	const uint8_t *loaded;

	FUZZ_CHECK(k->load_end > k->load_addr && pm_size < size, "%s: protected-mode part of %llu bytes "
		   "from a %zu-byte file", l->name, (unsigned long long)pm_size, size);
	check_in_ram(l, "init_size", k->load_addr, k->init_size);
	FUZZ_CHECK(k->init_size >= pm_size, "%s: init_size %llu below the %llu bytes loaded", l->name,
		   (unsigned long long)k->init_size, (unsigned long long)pm_size);
	FUZZ_CHECK(k->entry == k->load_addr + 0x200, "%s: entry 0x%llx", l->name, (unsigned long long)k->entry);
	FUZZ_CHECK(k->entry < k->load_end, "%s: entry 0x%llx past the %llu bytes the file supplied at 0x%llx",
		   l->name, (unsigned long long)k->entry, (unsigned long long)pm_size,
		   (unsigned long long)k->load_addr);
	/* The header is the file's, cut where the file's own jump says it ends. */
	FUZZ_CHECK(hdr_end <= size, "%s: header end 0x%zx past the file", l->name, hdr_end);
	n = hdr_end - X86_SETUP_HDR_OFFSET;
	n = n < sizeof(k->hdr) ? n : sizeof(k->hdr);
	FUZZ_CHECK(memcmp(hdr, img + X86_SETUP_HDR_OFFSET, n) == 0, "%s: setup header differs from the file's",
		   l->name);
	for (size_t i = n; i < sizeof(k->hdr); i++)
		FUZZ_CHECK(hdr[i] == 0, "%s: setup header byte 0x%zx past the file's header is not 0", l->name,
			   X86_SETUP_HDR_OFFSET + i);
	FUZZ_CHECK(k->initrd_addr_max == k->hdr.initrd_addr_max, "%s: initrd_addr_max", l->name);
	loaded = gmem_ptr(&l->mem, k->load_addr, pm_size);
	FUZZ_CHECK(loaded && memcmp(loaded, img + size - pm_size, pm_size) == 0,
		   "%s: guest bytes at 0x%llx are not the file's tail", l->name, (unsigned long long)k->load_addr);
}

static void check_elf(const struct layout *l, const uint8_t *img, size_t size, const struct x86_kernel *k)
{
	Elf64_Ehdr eh;
	bool entry_from_file = false;

	FUZZ_CHECK(size >= sizeof(eh), "%s: ELF accepted from %zu bytes", l->name, size);
	memcpy(&eh, img, sizeof(eh));
	FUZZ_CHECK(eh.e_phoff <= size && (uint64_t)eh.e_phnum * eh.e_phentsize <= size - eh.e_phoff,
		   "%s: program headers past the file", l->name);
	FUZZ_CHECK(k->load_addr < k->load_end && k->init_size == k->load_end - k->load_addr,
		   "%s: ELF range [0x%llx, 0x%llx) init_size %llu", l->name, (unsigned long long)k->load_addr,
		   (unsigned long long)k->load_end, (unsigned long long)k->init_size);
	FUZZ_CHECK(k->initrd_addr_max == 0x7FFFFFFF && k->cmdline_cap == X86_CMDLINE_MAX,
		   "%s: ELF limits", l->name);
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		const uint8_t *g;

		memcpy(&ph, img + eh.e_phoff + (uint64_t)i * eh.e_phentsize, sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		FUZZ_CHECK(ph.p_offset <= size && ph.p_filesz <= size - ph.p_offset && ph.p_filesz <= ph.p_memsz,
			   "%s: segment %u past the file", l->name, i);
		check_in_ram(l, "segment", ph.p_paddr, ph.p_memsz);
		FUZZ_CHECK(ph.p_paddr >= k->load_addr && ph.p_paddr + ph.p_memsz <= k->load_end,
			   "%s: segment %u outside [load_addr, load_end)", l->name, i);
		if (k->entry >= ph.p_paddr && k->entry - ph.p_paddr < ph.p_filesz)
			entry_from_file = true;
		/* Later segments may overlap earlier ones: compare only the ones nothing overlaps. */
		bool alone = true;
		for (unsigned int j = 0; j < eh.e_phnum; j++) {
			Elf64_Phdr o;

			memcpy(&o, img + eh.e_phoff + (uint64_t)j * eh.e_phentsize, sizeof(o));
			if (j != i && o.p_type == PT_LOAD && o.p_paddr < ph.p_paddr + ph.p_memsz &&
			    ph.p_paddr < o.p_paddr + o.p_memsz)
				alone = false;
		}
		if (!alone)
			continue;
		g = gmem_ptr(&l->mem, ph.p_paddr, ph.p_memsz);
		FUZZ_CHECK(g && memcmp(g, img + ph.p_offset, ph.p_filesz) == 0,
			   "%s: segment %u's guest bytes are not the file's", l->name, i);
		for (uint64_t b = ph.p_filesz; b < ph.p_memsz; b++)
			FUZZ_CHECK(g[b] == 0, "%s: segment %u's bss byte %llu is not 0", l->name, i,
				   (unsigned long long)b);
	}
	FUZZ_CHECK(entry_from_file, "%s: entry 0x%llx is in no segment's file bytes", l->name,
		   (unsigned long long)k->entry);
}

static void check_initrd(const struct layout *l, const struct x86_kernel *k, uint64_t isize)
{
	uint64_t gpa = 1, top, kend;
	enum x86_initrd_limit which;
	const struct gmem_region *low = gmem_region_of(&l->mem, X86_BIOS_END, 1);
	struct x86_boot_params *bp;
	int r = x86_initrd_place(&l->mem, k, isize, &gpa);

	FUZZ_CHECK(r == 0 || r == -ENOMEM, "%s: x86_initrd_place returned %d", l->name, r);
	if (r)
		return;
	if (isize == 0) {
		FUZZ_CHECK(gpa == 0, "%s: empty initrd placed at 0x%llx", l->name, (unsigned long long)gpa);
		return;
	}
	top = x86_initrd_top(&l->mem, k, &which);
	FUZZ_CHECK((gpa & 0xFFF) == 0, "%s: initrd at 0x%llx is not page-aligned", l->name,
		   (unsigned long long)gpa);
	check_in_ram(l, "initrd", gpa, isize);
	FUZZ_CHECK(low && gpa + isize <= low->gpa + low->size && gpa + isize <= top &&
		   gpa + isize - 1 <= k->initrd_addr_max,
		   "%s: initrd [0x%llx, +0x%llx) past its limit 0x%llx (initrd_addr_max 0x%llx)", l->name,
		   (unsigned long long)gpa, (unsigned long long)isize, (unsigned long long)top,
		   (unsigned long long)k->initrd_addr_max);
	kend = k->load_addr + (k->init_size > k->load_end - k->load_addr ? k->init_size
									 : k->load_end - k->load_addr);
	FUZZ_CHECK(gpa + isize <= k->load_addr || gpa >= kend,
		   "%s: initrd [0x%llx, +0x%llx) overlaps the kernel [0x%llx, 0x%llx)", l->name,
		   (unsigned long long)gpa, (unsigned long long)isize, (unsigned long long)k->load_addr,
		   (unsigned long long)kend);

	r = x86_boot_params_build(&l->mem, k, l->mem_bytes, X86_CMDLINE_ADDR, gpa, isize, 0);
	FUZZ_CHECK(r == 0, "%s: x86_boot_params_build refused a placed initrd: %d", l->name, r);
	bp = gmem_ptr(&l->mem, X86_ZERO_PAGE_ADDR, sizeof(*bp));
	FUZZ_CHECK(bp->hdr.ramdisk_image == (uint32_t)gpa && bp->hdr.ramdisk_size == (uint32_t)isize &&
		   bp->ext_ramdisk_image == gpa >> 32 && bp->ext_ramdisk_size == isize >> 32,
		   "%s: zero page ramdisk fields", l->name);
	FUZZ_CHECK(bp->hdr.cmd_line_ptr == X86_CMDLINE_ADDR && bp->hdr.setup_data == 0 &&
		   bp->hdr.type_of_loader == 0xFF && (bp->hdr.loadflags & X86_LOADED_HIGH),
		   "%s: zero page loader fields", l->name);
	FUZZ_CHECK(bp->e820_entries >= 3 && bp->e820_entries <= X86_E820_MAX_ENTRIES_ZEROPAGE,
		   "%s: %u e820 entries", l->name, bp->e820_entries);
}

static int no_read(const struct boot_file *f, void *dst, uint64_t len, uint64_t off)
{
	(void)f, (void)dst;
	FUZZ_CHECK(false, "x86_kernel_check read %llu bytes at %llu, past the head", (unsigned long long)len,
		   (unsigned long long)off);
	return -EIO;
}

/* f->ctx: the boot_file_mem file whose read does the copy. */
static int bounded_read(const struct boot_file *f, void *dst, uint64_t len, uint64_t off)
{
	const struct boot_file *m = f->ctx;

	FUZZ_CHECK(off <= m->size && len <= m->size - off, "read of %llu bytes at %llu, past the file's %llu",
		   (unsigned long long)len, (unsigned long long)off, (unsigned long long)m->size);
	return m->read(m, dst, len, off);
}

/*
 * The head as vmm holds it: its own buffer of exactly len bytes, ending at a
 * PROT_NONE page, so a header read past the head faults even when the image
 * goes on (boot_file_mem points the head into the image itself).
 */
static const uint8_t *head_copy(const uint8_t *img, size_t len)
{
	static uint8_t *area;

	if (!area) {
		area = fuzz_guarded_map(BOOT_FILE_HEAD_MAX);
		FUZZ_CHECK(area != NULL, "cannot map the head buffer");
	}
	memcpy(area + BOOT_FILE_HEAD_MAX - len, img, len);
	return area + BOOT_FILE_HEAD_MAX - len;
}

/* A refusal says why, the same way each time, in the terms main.c's message needs. */
static void check_fault(const struct layout *l, int r, const struct x86_kernel *k, const struct x86_kernel *kn,
			uint64_t size)
{
	const struct x86_kernel_fault *f = &k->fault;

	/* Every refusal goes through its reason: a bare return would leave a stale or empty one. */
	FUZZ_CHECK(f->kind != X86_KF_NONE && x86_kernel_fault_errno(f->kind) == r, "%s: returned %d with fault kind %d",
		   l->name, r, f->kind);
	FUZZ_CHECK(kn->fault.kind == f->kind && kn->fault.what == f->what && kn->fault.val == f->val,
		   "%s: check gives another reason without host memory", l->name);
	switch (f->kind) {
	case X86_KF_COMPRESSED:
	case X86_KF_ELF_TYPE:
	case X86_KF_NOT_64BIT:
	case X86_KF_MALFORMED:
		FUZZ_CHECK(f->what != NULL, "%s: fault kind %d without a phrase", l->name, f->kind);
		break;
	case X86_KF_TRUNCATED:
		/* Past 4 GiB the headers are garbage, not the file short. */
		FUZZ_CHECK(f->val > size && f->val <= 0x100000000ULL, "%s: cut short, needing %llu bytes of %llu",
			   l->name, (unsigned long long)f->val, (unsigned long long)size);
		break;
	case X86_KF_IN_HOLE:
	case X86_KF_NO_RAM:
		/* Which one says whether more --memory could help: only below the 3 GiB where low RAM ends. */
		FUZZ_CHECK((f->kind == X86_KF_IN_HOLE) == (f->val > 0xC0000000ULL) && f->val <= 0x100000000ULL,
			   "%s: fault kind %d for a part ending at %#llx", l->name, f->kind, (unsigned long long)f->val);
		break;
	case X86_KF_LOW:
		FUZZ_CHECK(f->val < 0x100000, "%s: below 1 MiB at %#llx", l->name, (unsigned long long)f->val);
		break;
	case X86_KF_ABOVE_4G:
		FUZZ_CHECK(f->val > 0x100000000ULL, "%s: past 4 GiB at %#llx", l->name, (unsigned long long)f->val);
		break;
	default:
		break;
	}
}

static void run_layout(const struct layout *l, const uint8_t *img, size_t size, uint64_t isize)
{
	struct gmem nohost = l->mem;
	struct boot_file fm, fcheck, fload;
	struct x86_kernel kc, kn, kl;
	int rc, rn, rl;

	boot_file_mem(&fm, img, size);
	fm.head = head_copy(img, fm.head_len);
	fcheck = fm;
	fcheck.read = no_read;
	fload = fm;
	fload.read = bounded_read;
	fload.ctx = &fm;

	for (unsigned int i = 0; i < nohost.nregions; i++)
		nohost.regions[i].host = NULL;
	memset(&kc, 0xA5, sizeof(kc));
	memset(&kn, 0x5A, sizeof(kn));
	memset(&kl, 0x3C, sizeof(kl));

	layout_reset(l);
	rc = x86_kernel_check(&l->mem, &fcheck, &kc);
	rn = x86_kernel_check(&nohost, &fcheck, &kn);
	check_written_within(l, 0, 0);   /* check writes nothing */
	rl = x86_kernel_load(&l->mem, &fload, &kl);

	FUZZ_CHECK(rl == 0 || rl == -ENOEXEC || rl == -EPROTONOSUPPORT || rl == -ENOMEM || rl == -EINVAL,
		   "%s: x86_kernel_load returned %d", l->name, rl);
	FUZZ_CHECK(rc == rl && rn == rl, "%s: check says %d (%d without host memory), load says %d", l->name,
		   rc, rn, rl);
	if (rl) {
		FUZZ_CHECK(kc.fault.kind == kl.fault.kind && kc.fault.what == kl.fault.what &&
			   kc.fault.val == kl.fault.val, "%s: check and load give different reasons", l->name);
		check_fault(l, rl, &kl, &kn, size);
		check_written_within(l, 0, 0);
		return;
	}
	FUZZ_CHECK(kl.fault.kind == X86_KF_NONE && kl.fault.what == NULL && kl.fault.val == 0,
		   "%s: a loaded kernel with a reason to refuse it", l->name);
	FUZZ_CHECK(memcmp(&kc, &kl, sizeof(kl)) == 0 && memcmp(&kn, &kl, sizeof(kl)) == 0,
		   "%s: check and load describe the kernel differently", l->name);
	check_written_within(l, kl.load_addr, kl.load_end);
	check_in_ram(l, "entry", kl.entry, 1);
	FUZZ_CHECK(kl.cmdline_cap >= 1 && kl.cmdline_cap <= X86_CMDLINE_MAX, "%s: cmdline_cap %zu", l->name,
		   kl.cmdline_cap);
	if (kl.is_elf)
		check_elf(l, img, size, &kl);
	else
		check_bzimage(l, img, size, &kl);

	check_initrd(l, &kl, 0);
	check_initrd(l, &kl, isize);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *img;
	uint64_t isize = 0;

	if (!page)
		layouts_init();
	img = fuzz_input_copy(data, size, FUZZ_KERNEL_MAX);
	if (!img)
		return 0;
	/* An initrd size from the input's last bytes: 0 .. 64 MiB, often near the edges of RAM. */
	for (size_t i = 0; i < 4 && i < size; i++)
		isize = isize << 8 | data[size - 1 - i];
	isize %= 64 * MiB + 1;
	for (unsigned int i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		run_layout(&layouts[i], img, size, isize);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* The zero page (struct boot_params) the kernel finds through %rsi at its 64-bit entry. */
#include <errno.h>
#include <string.h>

#include "x86_boot.h"

#define X86_4G              0x100000000ULL
#define X86_LOADER_UNDEF    0xFFu     /* type_of_loader: a boot loader without an assigned id */
#define X86_HEAP_END        0xFE00u   /* heap_end_ptr: end of the 64 KiB real-mode segment less 512 */
#define X86_SYNTH_VERSION   0x020Fu   /* the protocol version we speak for an ELF kernel */

/* An ELF vmlinux has no setup header: give the kernel the one a bzImage would have. */
static void hdr_synthesise(struct x86_setup_header *hdr, const struct x86_kernel *k)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->boot_flag = X86_BOOT_FLAG;
	hdr->header = X86_SETUP_MAGIC;
	hdr->version = X86_SYNTH_VERSION;
	hdr->initrd_addr_max = (uint32_t)k->initrd_addr_max;
	hdr->cmdline_size = (uint32_t)k->cmdline_cap - 1;
	hdr->loadflags = X86_LOADED_HIGH;
}

int x86_boot_params_build(const struct gmem *mem, const struct x86_kernel *k, uint64_t mem_bytes,
			  uint64_t cmdline_gpa, uint64_t initrd_gpa, uint64_t initrd_size,
			  uint64_t acpi_rsdp_gpa)
{
	struct x86_e820_entry e820[X86_E820_MAX_ENTRIES_ZEROPAGE];
	struct x86_boot_params *bp;
	int n;

	bp = gmem_ptr(mem, X86_ZERO_PAGE_ADDR, sizeof(*bp));
	if (!bp || !gmem_ptr(mem, cmdline_gpa, 1))
		return -EFAULT;
	if (initrd_size) {
		if (!gmem_ptr(mem, initrd_gpa, initrd_size))
			return -EFAULT;
		if ((!k->is_elf || k->hdr_packed) && initrd_gpa + initrd_size > X86_4G &&
		    !(k->hdr.xloadflags & X86_XLF_CAN_BE_LOADED_ABOVE_4G))
			return -EINVAL;
	}
	n = x86_e820_build(mem_bytes, e820, X86_E820_MAX_ENTRIES_ZEROPAGE);
	if (n < 0)
		return n;

	/* Start from zero: a non-zero sentinel would make the kernel wipe fields. */
	memset(bp, 0, sizeof(*bp));
	if (k->is_elf && !k->hdr_packed)
		hdr_synthesise(&bp->hdr, k);
	else
		bp->hdr = k->hdr;
	/* The kernel takes this flag to say its decompressor randomised where it runs: an ELF never was. */
	if (k->is_elf)
		bp->hdr.loadflags &= ~X86_KASLR_FLAG;

	/*
	 * The loader's fields, whatever the image file holds in them: a crafted
	 * header must not hand the kernel a ramdisk or a setup_data chain that
	 * vmm never placed.
	 */
	bp->hdr.ramdisk_image = 0;
	bp->hdr.ramdisk_size = 0;
	bp->hdr.setup_data = 0;
	bp->hdr.hardware_subarch = 0;
	bp->hdr.hardware_subarch_data = 0;
	bp->hdr.type_of_loader = X86_LOADER_UNDEF;
	bp->hdr.loadflags |= X86_LOADED_HIGH | X86_CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = X86_HEAP_END;
	bp->hdr.cmd_line_ptr = (uint32_t)cmdline_gpa;
	bp->ext_cmd_line_ptr = (uint32_t)(cmdline_gpa >> 32);
	if (initrd_size) {
		bp->hdr.ramdisk_image = (uint32_t)initrd_gpa;
		bp->ext_ramdisk_image = (uint32_t)(initrd_gpa >> 32);
		bp->hdr.ramdisk_size = (uint32_t)initrd_size;
		bp->ext_ramdisk_size = (uint32_t)(initrd_size >> 32);
	}
	bp->acpi_rsdp_addr = acpi_rsdp_gpa;
	memcpy(bp->e820_table, e820, (size_t)n * sizeof(e820[0]));
	bp->e820_entries = (uint8_t)n;
	return 0;
}

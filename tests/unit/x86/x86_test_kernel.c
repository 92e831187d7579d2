/* SPDX-License-Identifier: MIT */
/* Test fixture for the x86 loader tests: the loader over images in memory, and synthetic bzImages and ELFs. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "x86_test_kernel.h"

int load(const struct gmem *mem, const void *img, size_t size, struct x86_kernel *k)
{
	struct boot_file f;

	boot_file_mem(&f, img, size);
	return x86_kernel_load(mem, &f, k);
}

int check(const struct gmem *mem, const void *img, size_t size, struct x86_kernel *k)
{
	struct boot_file f;

	boot_file_mem(&f, img, size);
	return x86_kernel_check(mem, &f, k);
}

struct bz_opts bz_default(void)
{
	struct bz_opts o;

	memset(&o, 0, sizeof(o));
	o.setup_sects = 4;
	o.hdr_end_byte = 0x6A;    /* 0x26C: the whole 2.15 header */
	o.pm_size = 64 * 1024;
	o.hdr.setup_sects = 4;
	o.hdr.boot_flag = X86_BOOT_FLAG;
	o.hdr.header = X86_SETUP_MAGIC;
	o.hdr.version = 0x020F;
	o.hdr.loadflags = X86_LOADED_HIGH;
	o.hdr.xloadflags = X86_XLF_KERNEL_64 | X86_XLF_CAN_BE_LOADED_ABOVE_4G;
	o.hdr.kernel_alignment = 0x200000;
	o.hdr.relocatable_kernel = 1;
	o.hdr.initrd_addr_max = 0x7FFFFFFF;
	o.hdr.cmdline_size = 0x7FF;
	o.hdr.pref_address = 0x1000000;
	o.hdr.init_size = 1 * MiB;
	o.hdr.payload_offset = 0x100;
	o.hdr.payload_length = 0x1000;
	o.hdr.kernel_version = 0x1234;
	return o;
}

uint8_t pm_byte(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/* Build the image into a malloc'd buffer; *size gets its length. */
uint8_t *bz_build(const struct bz_opts *o, size_t *size)
{
	size_t pm_off = ((size_t)o->setup_sects + 1) * 512;
	uint8_t *img = calloc(1, pm_off + o->pm_size);

	assert_non_null(img);
	memcpy(img + X86_SETUP_HDR_OFFSET, &o->hdr, sizeof(o->hdr));
	img[0x200] = 0xEB;              /* a short jmp, as real images have */
	img[0x201] = o->hdr_end_byte;
	for (size_t i = 0; i < o->pm_size; i++)
		img[pm_off + i] = pm_byte(i);
	*size = pm_off + o->pm_size;
	return img;
}

int bz_load(const struct bz_opts *o, struct x86_kernel *k)
{
	size_t size;
	uint8_t *img = bz_build(o, &size);
	int ret = load(&test_guest, img, size, k);

	free(img);
	return ret;
}

void elf_default(struct elf_img *e)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
	e->eh.e_ident[EI_CLASS] = ELFCLASS64;
	e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	e->eh.e_ident[EI_VERSION] = EV_CURRENT;
	e->eh.e_type = ET_EXEC;
	e->eh.e_machine = EM_X86_64;
	e->eh.e_version = EV_CURRENT;
	e->eh.e_entry = 0x1000000;
	e->eh.e_phoff = offsetof(struct elf_img, ph);
	e->eh.e_ehsize = sizeof(Elf64_Ehdr);
	e->eh.e_phentsize = sizeof(Elf64_Phdr);
	e->eh.e_phnum = ELF_NPH;

	/* text: 4 KiB from the file */
	e->ph[0].p_type = PT_LOAD;
	e->ph[0].p_offset = offsetof(struct elf_img, data[0]);
	e->ph[0].p_vaddr = 0xFFFFFFFF81000000ULL;
	e->ph[0].p_paddr = 0x1000000;
	e->ph[0].p_filesz = 4096;
	e->ph[0].p_memsz = 4096;
	/* a note between the loads: must be skipped */
	e->ph[1].p_type = PT_NOTE;
	e->ph[1].p_offset = 0xFFFFFFFFFFFF0000ULL;
	e->ph[1].p_filesz = 0x100000;
	/* data + bss: 4 KiB from the file, 64 KiB in memory */
	e->ph[2].p_type = PT_LOAD;
	e->ph[2].p_offset = offsetof(struct elf_img, data[1]);
	e->ph[2].p_vaddr = 0xFFFFFFFF82000000ULL;
	e->ph[2].p_paddr = 0x2000000;
	e->ph[2].p_filesz = 4096;
	e->ph[2].p_memsz = 0x10000;
	memset(e->data[0], 0xC3, sizeof(e->data[0]));
	memset(e->data[1], 0xD4, sizeof(e->data[1]));
}

int elf_load(const struct elf_img *e, size_t size, struct x86_kernel *k)
{
	return load(&test_guest, e, size, k);
}

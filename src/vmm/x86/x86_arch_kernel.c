/* SPDX-License-Identifier: MIT */
/* The x86 loader behind arch.h: a bzImage or vmlinux checked and loaded, the initrd placed, refusals put in words. */
#include <errno.h>
#include <stdlib.h>

#include "x86_arch.h"

/* Check (load false) or load kernel file f; a refusal's reason in err->kernel_why. */
static int x86_kernel_take(const struct gmem *mem, uint64_t mem_bytes, const struct boot_file *f, bool load,
			   struct arch_kernel **out, struct vm_error *err)
{
	struct arch_kernel *ak = calloc(1, sizeof(*ak));
	int r;

	if (!ak)
		return -ENOMEM;
	r = load ? x86_kernel_load(mem, f, &ak->k) : x86_kernel_check(mem, f, &ak->k);
	if (r < 0) {
		x86_kernel_fault_describe(&ak->k.fault, f->size, mem_bytes, err->kernel_why, sizeof(err->kernel_why));
		free(ak);
		return r;
	}
	*out = ak;
	return 0;
}

int arch_kernel_check(const struct gmem *layout, uint64_t mem_bytes, const struct boot_file *f,
		      struct arch_kernel **out, struct vm_error *err)
{
	return x86_kernel_take(layout, mem_bytes, f, false, out, err);
}

int arch_kernel_load(const struct gmem *mem, uint64_t mem_bytes, const struct boot_file *f,
		     struct arch_kernel **out, struct vm_error *err)
{
	return x86_kernel_take(mem, mem_bytes, f, true, out, err);
}

/* The most a bzImage's payload may unpack to here, whatever its init_size says. */
#define X86_PAYLOAD_OUT_MAX (1ull << 30)

int arch_kernel_payload(const struct arch_kernel *k, const struct boot_file *f, struct boot_payload *p)
{
	const struct x86_setup_header *h = &k->k.hdr;

	/* payload_offset/length came with protocol 2.08; bzimage_check put them inside the file. */
	if (k->k.is_elf || h->version < 0x0208 || h->payload_length == 0)
		return -ENOTSUP;
	p->off = k->k.file_off + h->payload_offset;
	p->len = h->payload_length;
	if (p->off > f->size || p->len > f->size - p->off)
		return -ENOTSUP;
	/*
	 * The kernel decompresses in place within init_size (boot.rst), so what
	 * its payload unpacks to (vmlinux.bin and its relocations) fits there.
	 */
	p->max_out = h->init_size < X86_PAYLOAD_OUT_MAX ? h->init_size : X86_PAYLOAD_OUT_MAX;
	return 0;
}

void arch_kernel_free(struct arch_kernel *k)
{
	free(k);
}

size_t arch_kernel_cmdline_cap(const struct arch_kernel *k)
{
	return k->k.cmdline_cap < BOOT_CMDLINE_MAX ? k->k.cmdline_cap : BOOT_CMDLINE_MAX;
}

int arch_initrd_place(const struct arch_kernel *k, const struct gmem *mem, uint64_t mem_bytes, uint64_t size,
		      uint64_t *gpa, struct vm_error *err)
{
	enum x86_initrd_limit which;
	int r = x86_initrd_place(mem, &k->k, size, gpa);

	if (r == 0)
		return 0;
	err->size = size;
	err->limit = x86_initrd_top(mem, &k->k, &which);
	if (which == X86_INITRD_LIMIT_KERNEL)
		err->bound = VM_INITRD_BOUND_KERNEL;
	else if (which == X86_INITRD_LIMIT_4G || mem_bytes >= X86_LOWMEM_MAX)
		err->bound = VM_INITRD_BOUND_LOWMEM;
	else
		err->bound = VM_INITRD_BOUND_RAM;
	return r;
}

/* SPDX-License-Identifier: MIT */
/* The arm64 loader behind arch.h: an Image (or Image.gz) checked and loaded, the initrd placed, refusals put in words. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "arm64_arch.h"
#include "boot.h"

/* Check (load false) or load kernel file bf; a refusal's reason in err->kernel_why. */
static int arm64_kernel_take(const struct gmem *mem, const struct boot_file *bf, bool load,
			     struct arch_kernel **out, struct vm_error *err)
{
	struct arm64_fault fault = { .what = "", .fix = NULL };
	struct arm64_boot_place place;
	struct arch_kernel *ak = calloc(1, sizeof(*ak));
	int r;

	if (!ak)
		return -ENOMEM;
	/* The device tree's 2 MiB must fit beside the kernel too, before anything is written. */
	r = arm64_kernel_check(mem, bf, &ak->k, &fault);
	if (r == 0)
		r = arm64_boot_place(mem, &ak->k, 0, &place, &fault);
	if (r == 0 && load)
		r = arm64_kernel_load(mem, bf, &ak->k, &fault);
	if (r < 0) {
		if (fault.what[0])
			snprintf(err->kernel_why, sizeof(err->kernel_why), "%s (%s)", fault.what,
				 fault.fix ? fault.fix : "give an arm64 Image");
		free(ak);
		return r;
	}
	*out = ak;
	return 0;
}

int arch_kernel_check(const struct gmem *layout, uint64_t mem_bytes, const struct boot_file *f,
		      struct arch_kernel **out, struct vm_error *err)
{
	(void)mem_bytes;
	return arm64_kernel_take(layout, f, false, out, err);
}

int arch_kernel_load(const struct gmem *mem, uint64_t mem_bytes, const struct boot_file *f,
		     struct arch_kernel **out, struct vm_error *err)
{
	(void)mem_bytes;
	return arm64_kernel_take(mem, f, true, out, err);
}

/* An Image.gz is inflated on the host at every load already; a cache of it is not made (yet). */
int arch_kernel_payload(const struct arch_kernel *k, const struct boot_file *f, struct boot_payload *p)
{
	(void)k;
	(void)f;
	(void)p;
	return -ENOTSUP;
}

void arch_kernel_free(struct arch_kernel *k)
{
	free(k);
}

size_t arch_kernel_cmdline_cap(const struct arch_kernel *k)
{
	(void)k;
	return ARM64_CMDLINE_MAX < BOOT_CMDLINE_MAX ? ARM64_CMDLINE_MAX : BOOT_CMDLINE_MAX;
}

int arch_initrd_place(const struct arch_kernel *k, const struct gmem *mem, uint64_t mem_bytes, uint64_t size,
		      uint64_t *gpa, struct vm_error *err)
{
	struct arm64_boot_place place = { .dtb_addr = 0, .initrd_addr = 0 };
	uint64_t window_end;
	int r;

	(void)mem_bytes;
	if (size == 0) {
		*gpa = 0;
		return 0;
	}
	r = arm64_boot_place(mem, &k->k, size, &place, NULL);
	if (r == 0) {
		*gpa = place.initrd_addr;
		return 0;
	}
	/* What stopped it: the boot protocol's 32 GiB window (RAM cannot help) or the device tree below RAM's top. */
	err->size = size;
	window_end = (k->k.load_addr & ~(ARM64_INITRD_WINDOW_ALIGN - 1)) + ARM64_INITRD_WINDOW;
	if (arm64_boot_place(mem, &k->k, 0, &place, NULL) == 0 && window_end < place.dtb_addr) {
		err->limit = window_end;
		err->bound = VM_INITRD_BOUND_LOWMEM;
	} else {
		err->limit = place.dtb_addr;
		err->bound = VM_INITRD_BOUND_RAM;
	}
	return r;
}

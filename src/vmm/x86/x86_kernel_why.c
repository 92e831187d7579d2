/* SPDX-License-Identifier: MIT */
/* Words for a kernel file the x86 loader refused: what is wrong with it and what to give instead. */
#include <stdio.h>

#include "x86_boot.h"

/* "2.12" for X86_BZIMAGE_MIN_PROTOCOL. */
#define PROTO_MAJOR(v) ((unsigned int)(v) >> 8)
#define PROTO_MINOR(v) ((unsigned int)(v) & 0xffu)

static const char give[] = "give the kernel image, e.g. /boot/vmlinuz-*";

/* The fault kinds that name another kind of file than an x86-64 kernel. */
static int why_not_a_kernel(const struct x86_kernel_fault *f, char *buf, size_t cap)
{
	switch (f->kind) {
	case X86_KF_UNKNOWN:
		return snprintf(buf, cap, "not a Linux bzImage or ELF vmlinux (%s)", give);
	case X86_KF_COMPRESSED:
		return snprintf(buf, cap, "is %s-compressed, not a kernel image (decompress it, or %s)", f->what, give);
	case X86_KF_OTHER_ARCH:
		if (f->what)
			return snprintf(buf, cap, "is %s, and vmm boots x86-64 kernels (give an x86-64 bzImage or "
				       "vmlinux)", f->what);
		return snprintf(buf, cap, "is an ELF file for machine %llu, and vmm boots x86-64 kernels (give an "
			       "x86-64 bzImage or vmlinux)", (unsigned long long)f->val);
	case X86_KF_ELF_TYPE:
		return snprintf(buf, cap, "is an ELF %s, not a linked vmlinux (give the vmlinux a kernel build links, "
			       "or the bzImage)", f->what);
	default:
		return -1;
	}
}

int x86_kernel_fault_describe(const struct x86_kernel_fault *f, uint64_t file_size, uint64_t mem_bytes, char *buf,
			      size_t cap)
{
	unsigned long long val = f->val;

	switch (f->kind) {
	case X86_KF_NONE:
		buf[0] = '\0';
		return 0;
	case X86_KF_OLD_PROTOCOL:
		return snprintf(buf, cap, "uses boot protocol %u.%02u, older than the %u.%02u vmm needs (use a kernel "
			       "from Linux 3.8 or later)", PROTO_MAJOR(val), PROTO_MINOR(val),
			       PROTO_MAJOR(X86_BZIMAGE_MIN_PROTOCOL), PROTO_MINOR(X86_BZIMAGE_MIN_PROTOCOL));
	case X86_KF_NOT_64BIT:
		return snprintf(buf, cap, "cannot boot in 64-bit mode: %s (use a 64-bit x86 kernel)", f->what);
	case X86_KF_TRUNCATED:
		return snprintf(buf, cap, "is cut short: its headers need at least %llu bytes and the file has %llu "
			       "(copy the kernel again)", val, (unsigned long long)file_size);
	case X86_KF_MALFORMED:
		return snprintf(buf, cap, "malformed kernel image: %s (%s)", f->what, give);
	case X86_KF_LOW:
		return snprintf(buf, cap, "loads at 0x%llx, below 1 MiB, where vmm keeps the boot data (give a kernel "
			       "that loads at 1 MiB or above)", val);
	case X86_KF_ABOVE_4G:
		return snprintf(buf, cap, "reaches 0x%llx, past the 4 GiB that vmm's boot page tables map (give a "
			       "kernel that loads below 4 GiB)", val);
	case X86_KF_IN_HOLE:
		return snprintf(buf, cap, "reaches 0x%llx, past the 3 GiB where guest RAM below 4 GiB ends (give a "
			       "kernel that loads lower)", val);
	case X86_KF_NO_RAM:
		return snprintf(buf, cap, "does not fit in %llu MiB of guest memory: it needs RAM up to %llu MiB "
			       "(raise --memory)", (unsigned long long)(mem_bytes >> 20), (val + (1ULL << 20) - 1) >> 20);
	default:
		return why_not_a_kernel(f, buf, cap);
	}
}

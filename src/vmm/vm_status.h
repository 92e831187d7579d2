/* SPDX-License-Identifier: MIT */
/* Why a VM could not be built (struct vm_error) or why it stopped (struct vm_exit): what the core reports to main.c. */
#ifndef VMM_VM_STATUS_H
#define VMM_VM_STATUS_H

#include <stddef.h>
#include <stdint.h>

/* Why the VM stopped; main.c turns this into an exit status. */
enum vm_exit_kind {
	VM_EXIT_POWEROFF,   /* the guest powered off (x86: ACPI S5) */
	VM_EXIT_PORT,       /* the guest reported a status byte (x86: I/O port 0x501) */
	VM_EXIT_RESET,      /* reboot (x86: ACPI or i8042 reset) */
	VM_EXIT_TRIPLE_FAULT, /* the guest crashed so hard the CPU shut down (x86: triple fault); the machine resets */
	VM_EXIT_TIMEOUT,    /* --timeout expired */
	VM_EXIT_SIGNAL,     /* SIGINT/SIGTERM */
	VM_EXIT_INTERNAL,   /* KVM internal error, failed entry, unknown exit */
	VM_EXIT_ERROR,      /* a vmm-side failure while running */
};

struct vm_exit {
	enum vm_exit_kind kind;
	int status;           /* VM_EXIT_PORT: the byte; VM_EXIT_SIGNAL: the signal number */
	int err;              /* VM_EXIT_ERROR: -errno */
	const char *what;     /* VM_EXIT_ERROR/INTERNAL: what failed */
	char detail[2048];    /* VM_EXIT_INTERNAL, VM_EXIT_TRIPLE_FAULT: exit reason and vCPU registers */
};

/* Which step of set-up failed, so main.c can name it and pick the exit status. */
enum vm_stage {
	VM_STAGE_KVM,         /* opening /dev/kvm or creating the VM */
	VM_STAGE_MEMORY,      /* allocating guest RAM */
	VM_STAGE_KERNEL,      /* reading or loading the kernel image (user input) */
	VM_STAGE_INITRD,      /* reading or placing the initrd (user input) */
	VM_STAGE_CMDLINE,     /* the command line does not fit (user input) */
	VM_STAGE_BOOT,        /* boot structures (x86: zero page, ACPI tables, page tables, GDT) */
	VM_STAGE_VCPU,        /* creating or setting up vCPUs */
	VM_STAGE_DRIVE,       /* creating a virtio-blk device */
	VM_STAGE_SERIAL,      /* opening the serial output */
};

/* For an initrd that does not fit (VM_STAGE_INITRD, -ENOMEM): what would make room. */
enum vm_initrd_bound {
	VM_INITRD_BOUND_RAM,     /* guest RAM: a larger --memory helps */
	VM_INITRD_BOUND_LOWMEM,  /* the initrd must lie below 3 GiB (low RAM) or 4 GiB: --memory cannot help */
	VM_INITRD_BOUND_KERNEL,  /* the kernel's own initrd_addr_max: --memory cannot help */
};

struct vm_error {
	enum vm_stage stage;
	int err;              /* -errno */
	const char *subject;  /* path or drive id the step was about, or NULL */
	const char *cap;      /* VM_STAGE_KVM -ENOSYS: the missing capability */
	/* VM_STAGE_INITRD -ENOMEM: its size, the address it had to end below, and which bound that was. */
	uint64_t size;
	uint64_t limit;
	enum vm_initrd_bound bound;
	/* VM_STAGE_CMDLINE: the longest command line the kernel takes, in bytes. */
	size_t cmdline_max;
	/*
	 * VM_STAGE_KERNEL: why the arch's loader refused the file, as the words
	 * that follow its name in main's message ("is xz-compressed, not a kernel
	 * image (...)"); empty when the file could not be read (err says why).
	 */
	char kernel_why[256];
};

/* Fill err's stage, err (-errno r) and subject (a path or name, or NULL); the other fields stay. Returns r. */
static inline int vm_error_set(struct vm_error *err, enum vm_stage stage, int r, const char *subject)
{
	err->stage = stage;
	err->err = r;
	err->subject = subject;
	return r;
}

#endif

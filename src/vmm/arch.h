/* SPDX-License-Identifier: MIT */
/* The arch interface: what the arch-neutral core asks of the one architecture room linked in, and what it lends it. */
#ifndef VMM_ARCH_H
#define VMM_ARCH_H

/*
 * The core (src/vmm: VM lifecycle, vCPU threads, MMIO bus, event loop,
 * console, run statistics) knows no architecture. Everything that does lives
 * in one arch room: src/vmm/x86/ (with src/vmm/acpi/) or src/vmm/arm64/
 * (with src/kvm/arm64/). The top-level meson.build picks exactly one by
 * host_machine.cpu_family() (arch_rooms; the room's meson.build defines
 * vmm_arch_dep), and the vmm executable links it; a new architecture is one
 * more room that implements the arch_* functions below, with no change to the
 * core. (The kvm module has an arch half of its own, picked the same way in
 * src/kvm/meson.build: kvm_arch_caps, the capabilities KVM must have, and
 * kvm_arch_format_regs, the register dump; see kvm_internal.h.)
 *
 * Arrows: the core calls the arch_* functions; the arch room calls back only
 * the core services declared at the end of this file, and reads guest RAM
 * only through the struct gmem it is given. It may use the leaf modules
 * (gmem, boot, kvm, acpi, the 16550A model in serial.h), never vm_internal.h.
 *
 * The order of calls:
 *
 *   vm_boot_check (user input, before /dev/kvm is opened):
 *     arch_ram_layout -> arch_kernel_check -> arch_initrd_place
 *     -> arch_kernel_cmdline_cap -> arch_kernel_free
 *   vm_create:
 *     kvm_sys_open -> arch_vm_type, kvm_vm_create_type -> arch_vm_create -> guest RAM per
 *     arch_ram_layout -> per vCPU, in index order: kvm_vcpu_create,
 *     arch_vcpu_init -> arch_vcpus_ready -> per drive: arch_drive_window
 *     -> arch_kernel_load -> arch_initrd_place (the core reads the initrd
 *     there) -> arch_kernel_cmdline_cap (the core assembles the command line
 *     from the user's and arch_board's) -> arch_boot_setup -> arch_kernel_free
 *   vm_run: each vCPU thread calls arch_vcpu_exit for the exits the core does
 *     not handle itself
 *   vm_destroy: arch_vm_destroy, once every vCPU thread has ended
 *
 * Every function that can fail returns 0 (or a count) on success and -errno
 * on failure, and prints nothing; where it takes a struct vm_error it says
 * which fields it fills.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gmem.h"
#include "vm_status.h"

struct boot_file;       /* boot.h: a kernel or initrd file, as loaders read it */
struct boot_payload;    /* boot.h: where a kernel file keeps its compressed payload */
struct bus_range;       /* bus.h: a device window on the MMIO bus */
struct kvm_sys;         /* kvm.h */
struct kvm_vm;
struct kvm_vcpu;
struct serial;          /* serial.h: the core's 16550A UART model */
struct vm;              /* the core's VM, opaque to the arch room */

struct arch_vm;         /* the arch room's per-VM state, opaque to the core */
struct arch_kernel;     /* a kernel file the arch's loader accepted, opaque to the core */

/* ---- what the arch room provides ---- */

/*
 * An interrupt line, as KVM names it: `line` for KVM_IRQ_LINE's irq field,
 * `gsi` for KVM_IRQFD. On x86 both are the IOAPIC GSI; on arm64 `line` also
 * encodes the interrupt type (SPI) and `gsi` is the SPI's index.
 */
struct arch_irq {
	uint32_t line;
	uint32_t gsi;
};

/* A device's guest-physical MMIO window and its interrupt (edge-triggered). */
struct arch_mmio_window {
	uint64_t base;
	uint64_t size;
	struct arch_irq irq;
};

/* Constant facts about the machine the arch room builds. */
struct arch_board {
	/* The kernel command line when the user gives none (x86: "console=ttyS0"). */
	const char *cmdline_default;
	/*
	 * Parameters vmm adds to every command line, before a " -- " that ends
	 * the kernel's part (x86: "reboot=k panic=-1 pci=off", docs/guest.md).
	 */
	const char *cmdline_params;
	/* How many drives arch_drive_window has windows for (at least VM_MAX_DRIVES). */
	unsigned int max_drives;
	/* The UART's interrupt, which the core raises and lowers as the 16550A model says. */
	struct arch_irq uart_irq;
	/* -v's name for the boot step's time (x86: "kernel, initrd, ACPI and boot state"). */
	const char *boot_step;
};

extern const struct arch_board arch_board;

/*
 * Guest RAM for mem_bytes of memory (vm_config_validate's range): fills
 * out[0..n) with ascending, non-overlapping (gpa, size) regions whose sizes
 * add up to mem_bytes, host NULL. Pure. Returns n, 1..GMEM_MAX_REGIONS.
 * (x86: [0, min(mem, 3 GiB)), and the rest from 4 GiB.)
 */
unsigned int arch_ram_layout(uint64_t mem_bytes, struct gmem_region out[GMEM_MAX_REGIONS]);

/*
 * The MMIO window and interrupt of drive i, 0 <= i < arch_board.max_drives.
 * Pure. The core puts drive i's virtio-mmio device there, with an ioeventfd
 * on its QueueNotify register and an irqfd on irq.gsi; the arch room
 * describes the same windows to the guest (x86: ACPI DSDT, arm64: device tree).
 */
void arch_drive_window(unsigned int i, struct arch_mmio_window *w);

/*
 * Judge kernel file f (untrusted) for a guest of mem_bytes whose RAM is laid
 * out as layout (only the regions' gpa and size are read: host may be NULL):
 * every check arch_kernel_load makes, reading nothing past f->head and
 * writing nothing. 0 and *out (free it with arch_kernel_free), or -errno:
 * -ENOEXEC not a kernel for this architecture, -EPROTONOSUPPORT one it cannot
 * boot, -EINVAL malformed, -ENOMEM it does not fit; then err->kernel_why
 * holds the reason as words to follow the file's name (the core fills
 * err->stage, err->err and err->subject).
 */
int arch_kernel_check(const struct gmem *layout, uint64_t mem_bytes, const struct boot_file *f,
		      struct arch_kernel **out, struct vm_error *err);

/*
 * Load kernel file f into guest RAM mem: the checks of arch_kernel_check, with
 * the same returns, then the copy through f->read. Also f->read's -errno, with
 * err->kernel_why empty (the file, not its contents, is at fault); guest RAM
 * may then be partly written. 0 and *out, as arch_kernel_check.
 */
int arch_kernel_load(const struct gmem *mem, uint64_t mem_bytes, const struct boot_file *f,
		     struct arch_kernel **out, struct vm_error *err);

/*
 * Where kernel k (arch_kernel_check's, of file f) holds a compressed payload
 * that the host may unpack once and boot in the file's place, with f as the
 * unpacked file's boot_file.packed (x86: a bzImage's vmlinux.bin). 0 with *p
 * (inside f), or -ENOTSUP: k has none the arch can boot so.
 */
int arch_kernel_payload(const struct arch_kernel *k, const struct boot_file *f, struct boot_payload *p);

/* Free what arch_kernel_check or arch_kernel_load made; NULL is fine. */
void arch_kernel_free(struct arch_kernel *k);

/* The longest command line kernel k takes, in bytes with the NUL: 2..BOOT_CMDLINE_MAX. */
size_t arch_kernel_cmdline_cap(const struct arch_kernel *k);

/*
 * Where an initrd of size bytes goes for kernel k in guest RAM mem of
 * mem_bytes (only gpa and size are read). 0 and *gpa, the start of a range
 * wholly in one RAM region (size 0: *gpa = 0); the core reads the file there.
 * Or -ENOMEM with err->size, err->limit and err->bound saying what would make
 * room (the core fills stage, err and subject).
 */
int arch_initrd_place(const struct arch_kernel *k, const struct gmem *mem, uint64_t mem_bytes, uint64_t size,
		      uint64_t *gpa, struct vm_error *err);

/*
 * The KVM_CREATE_VM machine type for guest RAM of mem_bytes, asking sys (open)
 * what it can do (x86: 0; arm64: the IPA size RAM from 2 GiB needs, 0 up to
 * KVM's default 40 bits). The type, or -errno (-E2BIG: this KVM cannot
 * address that much RAM) with err's stage, err and subject filled.
 */
int arch_vm_type(struct kvm_sys *sys, uint64_t mem_bytes, struct vm_error *err);

/* What arch_vm_create is given. */
struct arch_vm_params {
	struct vm *vm;            /* for the core services below */
	struct kvm_sys *sys;      /* open; outlives the arch_vm */
	struct kvm_vm *kvm;       /* created, no memslots or vCPUs yet; outlives the arch_vm */
	uint64_t mem_bytes;       /* guest RAM, as laid out by arch_ram_layout */
	unsigned int ncpus;       /* vCPUs to come, 1..VM_MAX_CPUS */
	unsigned int ndrives;     /* drives to come, at windows 0..ndrives-1 */
	/*
	 * The core's 16550A, whose host side (console output, input, the
	 * interrupt) the core runs. The arch room binds its registers where the
	 * guest expects them (x86: ports 0x3f8-0x3ff; an MMIO window through
	 * vm_mmio_add with serial_bus_read/serial_bus_write).
	 */
	struct serial *uart;
};

/*
 * VM-wide set-up right after KVM_CREATE_VM, before guest RAM and any vCPU
 * exists (x86: TSS and identity-map pages, in-kernel IOAPIC and PICs, PIT),
 * and the arch's own devices (x86: the UART's ports, the exit-status and
 * boot-marker ports, ACPI power and reset registers, the i8042 reset). 0 and
 * *out, or -errno with err's stage, err and subject filled (vm_error_set).
 */
int arch_vm_create(const struct arch_vm_params *p, struct arch_vm **out, struct vm_error *err);

/* Free av; NULL is fine. Only once no vCPU thread runs. */
void arch_vm_destroy(struct arch_vm *av);

/*
 * Set up one vCPU right after KVM_CREATE_VCPU, in index order (x86: CPUID with
 * its APIC id and the topology of ncpus, boot MSRs, FPU, LAPIC LINT pins;
 * arm64: KVM_ARM_VCPU_INIT, the secondaries powered off for PSCI). 0, or
 * -errno with err's stage, err and subject filled.
 */
int arch_vcpu_init(struct arch_vm *av, struct kvm_vcpu *vcpu, struct vm_error *err);

/*
 * Every vCPU exists and is set up; drives and boot come next (arm64: finish
 * the interrupt controller; x86: nothing). 0, or -errno with err filled.
 */
int arch_vcpus_ready(struct arch_vm *av, struct vm_error *err);

/* What arch_boot_setup is given: the kernel, initrd and command line, already checked. */
struct arch_boot {
	const struct arch_kernel *kernel;   /* loaded into guest RAM by arch_kernel_load */
	const char *cmdline;                /* NUL-terminated, shorter than arch_kernel_cmdline_cap */
	uint64_t initrd_gpa;                /* where arch_initrd_place put it */
	uint64_t initrd_size;               /* 0: no initrd */
};

/*
 * Write the command line and the boot tables into guest RAM mem (x86: zero
 * page with e820, ACPI tables describing the vCPUs and drive windows, page
 * tables, GDT; arm64: the device tree), then set boot_vcpu's registers to
 * enter the kernel (vCPU 0; the others wait to be started by the guest:
 * x86 INIT/SIPI, arm64 PSCI CPU_ON). 0, or -errno with err's stage, err and
 * subject filled.
 */
int arch_boot_setup(struct arch_vm *av, const struct gmem *mem, const struct arch_boot *b,
		    struct kvm_vcpu *boot_vcpu, struct vm_error *err);

/*
 * An exit of vcpu that the core does not handle itself. The core handles
 * KVM_EXIT_MMIO (its bus), KVM_EXIT_INTR, KVM_EXIT_INTERNAL_ERROR and
 * KVM_EXIT_FAIL_ENTRY; the rest come here (x86: KVM_EXIT_IO, port I/O;
 * KVM_EXIT_SHUTDOWN, a triple fault; KVM_EXIT_HLT; KVM_EXIT_SYSTEM_EVENT;
 * arm64: KVM_EXIT_SYSTEM_EVENT, PSCI's SYSTEM_OFF and SYSTEM_RESET).
 * Runs on the vCPU's own thread, concurrently with the other vCPUs; it acts
 * through the core services below. true if handled, false for an exit the
 * arch does not know (the core then stops the VM as VM_EXIT_INTERNAL,
 * "unexpected KVM exit"). The guest chose what caused the exit: check every
 * size, offset and count before use.
 */
bool arch_vcpu_exit(struct arch_vm *av, struct kvm_vcpu *vcpu);

/* ---- what the core lends the arch room ---- */

/* Stop the VM for reason ex and wake the main loop; the first request wins. Any thread. */
void vm_request_exit(struct vm *vm, const struct vm_exit *ex);

/* vm_request_exit with only a kind and a status (VM_EXIT_PORT: the byte). Any thread. */
void vm_request_exit_kind(struct vm *vm, enum vm_exit_kind kind, int status);

/* The guest says it reached its boot milestone (--stats boot_ms); only the first call counts. Any thread. */
void vm_boot_marker(struct vm *vm);

/*
 * -v: log a guest access that nothing serves (a port, an address, a malformed
 * exit), at most 256 of them in a VM's life. Any thread.
 */
__attribute__((format(printf, 2, 3))) void vm_debug_unhandled(struct vm *vm, const char *fmt, ...);

/*
 * Put a device on the MMIO bus (an arch device: arm64's UART or exit
 * device). Only from arch_vm_create. 0, or bus_add's -errno (-EEXIST: it
 * overlaps another window).
 */
int vm_mmio_add(struct vm *vm, const struct bus_range *r);

#endif

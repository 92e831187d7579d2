/* SPDX-License-Identifier: MIT */
/* A bare arm64 KVM loop over the arm64 room: boots a kernel with vmm's device tree before the core runs arm64. */
/*
 * usage: probe IMAGE INITRD CMDLINE
 *
 * Not vmm: one vCPU, 256 MiB, no drives, no signals, no timeout. It exists
 * to show that what src/vmm/arm64 and src/kvm/arm64 build (the Image load,
 * the placement, the device tree, the vgic and vCPU set-up) boots Debian's
 * arm64 kernel under KVM, with the console taken from stdout-path and the
 * job's status coming back through the exit device or PSCI. It serves the
 * UART with vmm's own 16550A model (src/vmm/serial.c). Its exit status is
 * the guest's: the exit device's byte, 0 for SYSTEM_OFF, 123 for a reset;
 * 1 for its own errors, which it prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "arm64_boot.h"
#include "arm64_fdt.h"
#include "arm64_layout.h"
#include "kvm_arm64.h"
#include "serial.h"

#define RAM_SIZE (256ULL << 20)

static int vm_fd;

static void die(const char *what, int err)
{
	fprintf(stderr, "probe: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static void *file_read(const char *path, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	char *buf;

	if (fd < 0 || fstat(fd, &st) < 0)
		die(path, errno);
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf || read(fd, buf, st.st_size) != st.st_size)
		die(path, EIO);
	close(fd);
	*len = st.st_size;
	return buf;
}

static void uart_tx(void *ctx, uint8_t byte)
{
	(void)ctx;
	if (write(1, &byte, 1) < 0)
		exit(1);
}

static void uart_irq(void *ctx, int level)
{
	(void)ctx;
	kvm_arm64_irq_line(vm_fd, ARM64_SPI_UART, level);
}

static const struct serial_ops uart_ops = { .tx = uart_tx, .set_irq = uart_irq };

/* One MMIO exit: the UART and the exit device; everything else reads 0 and ignores writes. */
static void mmio(struct serial *uart, struct kvm_run *run)
{
	uint64_t a = run->mmio.phys_addr;

	if (a >= ARM64_UART_BASE && a < ARM64_UART_BASE + SERIAL_NREGS) {
		if (run->mmio.is_write)
			serial_write(uart, (unsigned int)(a - ARM64_UART_BASE), run->mmio.data[0]);
		else
			run->mmio.data[0] = serial_read(uart, (unsigned int)(a - ARM64_UART_BASE));
		return;
	}
	if (a == ARM64_EXIT_BASE + ARM64_EXIT_STATUS && run->mmio.is_write) {
		fprintf(stderr, "probe: exit device: status %u\n", run->mmio.data[0]);
		exit(run->mmio.data[0]);
	}
	if (a == ARM64_EXIT_BASE + ARM64_EXIT_BOOT_MARKER && run->mmio.is_write) {
		fprintf(stderr, "probe: boot marker\n");
		return;
	}
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
}

int main(int argc, char **argv)
{
	struct arm64_kernel_file kf;
	struct arm64_boot_place place;
	struct arm64_fault fault;
	struct arm64_kernel k;
	struct gmem mem = { .nregions = 1 };
	struct serial uart;
	struct kvm_run *run;
	size_t klen, ilen;
	uint64_t mpidr;
	void *kimg, *initrd;
	int sys_fd, vcpu_fd, gic_fd, type, r;

	if (argc != 4) {
		fprintf(stderr, "usage: probe IMAGE INITRD CMDLINE\n");
		return 2;
	}
	sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (sys_fd < 0)
		die("/dev/kvm", errno);
	type = kvm_arm64_vm_type(sys_fd, arm64_ipa_bits(RAM_SIZE));
	if (type < 0)
		die("VM type", type);
	vm_fd = ioctl(sys_fd, KVM_CREATE_VM, type);
	if (vm_fd < 0)
		die("KVM_CREATE_VM", errno);

	mem.regions[0].gpa = ARM64_RAM_BASE;
	mem.regions[0].size = RAM_SIZE;
	mem.regions[0].host = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem.regions[0].host == MAP_FAILED)
		die("mmap", errno);
	{
		struct kvm_userspace_memory_region slot = {
			.slot = 0, .guest_phys_addr = ARM64_RAM_BASE, .memory_size = RAM_SIZE,
			.userspace_addr = (uint64_t)(uintptr_t)mem.regions[0].host,
		};

		if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			die("KVM_SET_USER_MEMORY_REGION", errno);
	}

	kimg = file_read(argv[1], &klen);
	arm64_kernel_file_mem(&kf, kimg, klen);
	r = arm64_kernel_load(&mem, &kf, &k, &fault);
	if (r < 0) {
		fprintf(stderr, "probe: %s: %s (%s)\n", argv[1], fault.what[0] ? fault.what : strerror(-r),
			fault.fix ? fault.fix : "");
		return 1;
	}
	initrd = file_read(argv[2], &ilen);
	r = arm64_boot_place(&mem, &k, ilen, &place, &fault);
	if (r < 0) {
		fprintf(stderr, "probe: %s: %s (%s)\n", argv[2], fault.what, fault.fix);
		return 1;
	}
	memcpy(gmem_ptr(&mem, place.initrd_addr, ilen), initrd, ilen);

	gic_fd = kvm_arm64_vgic_create(vm_fd, ARM64_GIC_DIST_BASE, ARM64_GIC_REDIST_BASE, ARM64_GIC_NR_IRQS);
	if (gic_fd < 0)
		die("vgic-v3", gic_fd);
	vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
	if (vcpu_fd < 0)
		die("KVM_CREATE_VCPU", errno);
	r = kvm_arm64_vcpu_init(vm_fd, vcpu_fd, false);
	if (r < 0)
		die("KVM_ARM_VCPU_INIT", r);
	r = kvm_arm64_vgic_init(gic_fd);
	if (r < 0)
		die("vgic init", r);
	r = kvm_arm64_vcpu_mpidr(vcpu_fd, &mpidr);
	if (r < 0)
		die("MPIDR_EL1", r);
	{
		struct arm64_fdt_config cfg = {
			.ncpus = 1, .mpidr = &mpidr, .mem_size = RAM_SIZE, .bootargs = argv[3],
			.initrd_addr = place.initrd_addr, .initrd_size = ilen,
		};

		r = arm64_fdt_build(&cfg, gmem_ptr(&mem, place.dtb_addr, ARM64_DTB_MAX), ARM64_DTB_MAX);
		if (r < 0)
			die("device tree", r);
		fprintf(stderr, "probe: Image at 0x%llx (%llu bytes), initrd at 0x%llx, device tree at 0x%llx (%d bytes)\n",
			(unsigned long long)k.load_addr, (unsigned long long)k.image_size,
			(unsigned long long)place.initrd_addr, (unsigned long long)place.dtb_addr, r);
	}
	r = kvm_arm64_vcpu_boot(vcpu_fd, k.load_addr, place.dtb_addr);
	if (r < 0)
		die("boot registers", r);

	run = mmap(NULL, (size_t)ioctl(sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu_fd, 0);
	if (run == MAP_FAILED)
		die("kvm_run", errno);
	serial_init(&uart, &uart_ops, NULL);
	for (;;) {
		if (ioctl(vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN", errno);
		}
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			mmio(&uart, run);
			break;
		case KVM_EXIT_SYSTEM_EVENT: {
			enum kvm_arm64_event ev = kvm_arm64_event_decode(run->system_event.type);

			fprintf(stderr, "probe: system event: %s\n", kvm_arm64_event_name(ev));
			return ev == KVM_ARM64_EVENT_POWER_OFF ? 0 : 123;
		}
		default:
			fprintf(stderr, "probe: exit reason %u\n", run->exit_reason);
			return 1;
		}
	}
}

/* SPDX-License-Identifier: MIT */
/* Builds the arm64 guest's flattened device tree with libfdt's sequential-write API. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <libfdt.h>

#include "arm64_boot.h"
#include "arm64_fdt.h"
#include "arm64_layout.h"

/* The GIC's interrupt specifier: type, number, flags (Linux's gic-v3 binding). */
#define GIC_SPI             0u
#define GIC_PPI             1u
#define IRQ_EDGE_RISING     1u
#define IRQ_LEVEL_HIGH      4u

/* Let each fdt_* call's error (a negative FDT_ERR_*) leave the builder at once. */
#define TRY(call)                           \
	do {                                \
		int err_ = (call);          \
		if (err_ < 0)               \
			return err_;        \
	} while (0)

/* A property of 64-bit cells: n (address, size) pairs, for #address-cells = #size-cells = 2. */
static int prop_reg(void *fdt, const uint64_t *pairs, unsigned int n)
{
	fdt64_t cells[8];

	for (unsigned int i = 0; i < 2 * n; i++)
		cells[i] = cpu_to_fdt64(pairs[i]);
	return fdt_property(fdt, "reg", cells, 2 * n * sizeof(cells[0]));
}

/* "interrupts" with n (type, number, flags) triples. */
static int prop_irqs(void *fdt, const uint32_t *triples, unsigned int n)
{
	fdt32_t cells[12];

	for (unsigned int i = 0; i < 3 * n; i++)
		cells[i] = cpu_to_fdt32(triples[i]);
	return fdt_property(fdt, "interrupts", cells, 3 * n * sizeof(cells[0]));
}

/* A node named NAME@<addr in hex>, as the device tree spec names nodes with a reg. */
static int begin_at(void *fdt, const char *name, uint64_t addr)
{
	char node[48];

	snprintf(node, sizeof(node), "%s@%llx", name, (unsigned long long)addr);
	return fdt_begin_node(fdt, node);
}

/* A string list property: the strings with their NULs, as fdt_property wants them. */
static int prop_strings(void *fdt, const char *name, const char *const *strs, unsigned int n)
{
	char buf[128];
	size_t len = 0;

	for (unsigned int i = 0; i < n; i++) {
		size_t l = strlen(strs[i]) + 1;

		if (l > sizeof(buf) - len)
			return -FDT_ERR_INTERNAL;
		memcpy(buf + len, strs[i], l);
		len += l;
	}
	return fdt_property(fdt, name, buf, (int)len);
}

static int add_cpus(void *fdt, const struct arm64_fdt_config *cfg)
{
	TRY(fdt_begin_node(fdt, "cpus"));
	/* A cpu's reg is its MPIDR affinity: Aff3 needs the second cell, so use two. */
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 0));
	for (unsigned int i = 0; i < cfg->ncpus; i++) {
		uint64_t mpidr = cfg->mpidr ? cfg->mpidr[i] : arm64_mpidr_default(i);

		TRY(begin_at(fdt, "cpu", mpidr));
		TRY(fdt_property_string(fdt, "device_type", "cpu"));
		TRY(fdt_property_string(fdt, "compatible", "arm,arm-v8"));
		TRY(fdt_property_string(fdt, "enable-method", "psci"));
		TRY(fdt_property_u64(fdt, "reg", mpidr));
		TRY(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int add_memory(void *fdt, const struct arm64_fdt_config *cfg)
{
	const uint64_t reg[] = { ARM64_RAM_BASE, cfg->mem_size };

	TRY(begin_at(fdt, "memory", ARM64_RAM_BASE));
	TRY(fdt_property_string(fdt, "device_type", "memory"));
	TRY(prop_reg(fdt, reg, 1));
	return fdt_end_node(fdt);
}

/* GICv3: distributor, one redistributor region with a frame pair per vCPU; no ITS (no MSIs here). */
static int add_gic(void *fdt, const struct arm64_fdt_config *cfg)
{
	const uint64_t reg[] = { ARM64_GIC_DIST_BASE, ARM64_GIC_DIST_SIZE,
				 ARM64_GIC_REDIST_BASE, ARM64_GIC_REDIST_SIZE(cfg->ncpus) };

	TRY(begin_at(fdt, "intc", ARM64_GIC_DIST_BASE));
	TRY(fdt_property_string(fdt, "compatible", "arm,gic-v3"));
	TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 3));
	/* No children and no interrupt-map to parse with it, but an interrupt provider states it. */
	TRY(fdt_property_u32(fdt, "#address-cells", 0));
	TRY(prop_reg(fdt, reg, 2));
	TRY(fdt_property_u32(fdt, "phandle", ARM64_FDT_GIC_PHANDLE));
	return fdt_end_node(fdt);
}

/* The architected timer: secure, non-secure physical, virtual and hypervisor PPIs, in the binding's order. */
static int add_timer(void *fdt)
{
	const uint32_t irqs[] = {
		GIC_PPI, ARM64_PPI_TIMER_SEC, IRQ_LEVEL_HIGH,  GIC_PPI, ARM64_PPI_TIMER_PHYS, IRQ_LEVEL_HIGH,
		GIC_PPI, ARM64_PPI_TIMER_VIRT, IRQ_LEVEL_HIGH, GIC_PPI, ARM64_PPI_TIMER_HYP, IRQ_LEVEL_HIGH,
	};

	TRY(fdt_begin_node(fdt, "timer"));
	TRY(fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
	TRY(prop_irqs(fdt, irqs, 4));
	/* KVM keeps the counter running whatever power state the guest asks for. */
	TRY(fdt_property(fdt, "always-on", NULL, 0));
	return fdt_end_node(fdt);
}

/* PSCI 0.2 through HVC: KVM serves CPU_ON, SYSTEM_OFF and SYSTEM_RESET in the kernel or as exits. */
static int add_psci(void *fdt)
{
	TRY(fdt_begin_node(fdt, "psci"));
	TRY(fdt_property_string(fdt, "compatible", "arm,psci-0.2"));
	TRY(fdt_property_string(fdt, "method", "hvc"));
	return fdt_end_node(fdt);
}

/*
 * The console: a 16550A with byte-wide registers one byte apart (reg-shift
 * 0, reg-io-width 1), the layout of a PC UART's eight ports, so the UART
 * model serves both architectures. Linux's 8250 OF driver binds "ns16550a"
 * and names it ttyS0.
 */
static int add_uart(void *fdt)
{
	const uint64_t reg[] = { ARM64_UART_BASE, ARM64_UART_SIZE };
	const uint32_t irq[] = { GIC_SPI, ARM64_SPI_UART, IRQ_LEVEL_HIGH };

	TRY(begin_at(fdt, "serial", ARM64_UART_BASE));
	TRY(fdt_property_string(fdt, "compatible", "ns16550a"));
	TRY(prop_reg(fdt, reg, 1));
	TRY(prop_irqs(fdt, irq, 1));
	TRY(fdt_property_u32(fdt, "clock-frequency", ARM64_UART_CLOCK));
	TRY(fdt_property_u32(fdt, "reg-shift", 0));
	TRY(fdt_property_u32(fdt, "reg-io-width", 1));
	return fdt_end_node(fdt);
}

/* The exit device: no driver binds "vmm,exit", so userspace may write it through /dev/mem. */
static int add_exit(void *fdt)
{
	const uint64_t reg[] = { ARM64_EXIT_BASE, ARM64_EXIT_SIZE };

	TRY(begin_at(fdt, "exit", ARM64_EXIT_BASE));
	TRY(fdt_property_string(fdt, "compatible", "vmm,exit"));
	TRY(prop_reg(fdt, reg, 1));
	return fdt_end_node(fdt);
}

/* Drive i: a virtio-mmio window, its SPI edge-triggered (vmm signals it through an irqfd). */
static int add_drive(void *fdt, unsigned int i)
{
	const uint64_t reg[] = { ARM64_VIRTIO_MMIO_ADDR(i), ARM64_VIRTIO_MMIO_SIZE };
	const uint32_t irq[] = { GIC_SPI, ARM64_SPI_VIRTIO(i), IRQ_EDGE_RISING };

	TRY(begin_at(fdt, "virtio_mmio", reg[0]));
	TRY(fdt_property_string(fdt, "compatible", "virtio,mmio"));
	TRY(prop_reg(fdt, reg, 1));
	TRY(prop_irqs(fdt, irq, 1));
	/* Guest RAM is ordinary cacheable host memory to vmm's I/O threads: no cache maintenance needed. */
	TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
	return fdt_end_node(fdt);
}

static int add_chosen(void *fdt, const struct arm64_fdt_config *cfg, const uint8_t *seed)
{
	TRY(fdt_begin_node(fdt, "chosen"));
	if (cfg->bootargs && cfg->bootargs[0])
		TRY(fdt_property_string(fdt, "bootargs", cfg->bootargs));
	if (cfg->initrd_size) {
		TRY(fdt_property_u64(fdt, "linux,initrd-start", cfg->initrd_addr));
		TRY(fdt_property_u64(fdt, "linux,initrd-end", cfg->initrd_addr + cfg->initrd_size));
	}
	TRY(fdt_property(fdt, "rng-seed", seed, ARM64_FDT_RNG_SEED_LEN));
	/* The console without a console= parameter; earlycon also finds the UART here. */
	TRY(fdt_property_string(fdt, "stdout-path", ARM64_FDT_UART_PATH));
	return fdt_end_node(fdt);
}

static int fdt_tree(void *fdt, const struct arm64_fdt_config *cfg, const uint8_t *seed)
{
	static const char *const compatible[] = { "vmm,virt", "linux,dummy-virt" };

	TRY(fdt_finish_reservemap(fdt));
	TRY(fdt_begin_node(fdt, ""));
	TRY(prop_strings(fdt, "compatible", compatible, 2));
	TRY(fdt_property_string(fdt, "model", "vmm arm64 microVM"));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property_u32(fdt, "interrupt-parent", ARM64_FDT_GIC_PHANDLE));
	TRY(add_cpus(fdt, cfg));
	TRY(add_memory(fdt, cfg));
	TRY(add_gic(fdt, cfg));
	TRY(add_timer(fdt));
	TRY(add_psci(fdt));
	TRY(add_uart(fdt));
	TRY(add_exit(fdt));
	for (unsigned int i = 0; i < cfg->ndrives; i++)
		TRY(add_drive(fdt, i));
	TRY(add_chosen(fdt, cfg, seed));
	TRY(fdt_end_node(fdt));
	return fdt_finish(fdt);
}

/* Fill seed from the kernel's CSPRNG: 0 or -errno. It blocks only until the host's pool is first seeded. */
static int seed_read(uint8_t *seed, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom(seed + done, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

int arm64_fdt_build(const struct arm64_fdt_config *cfg, void *buf, size_t cap)
{
	uint8_t seed[ARM64_FDT_RNG_SEED_LEN];
	int r;

	if (cfg->ncpus == 0 || cfg->ncpus > ARM64_MAX_CPUS || cfg->ndrives > ARM64_VIRTIO_MMIO_MAX ||
	    cfg->mem_size == 0 || (cfg->initrd_size && cfg->initrd_addr > UINT64_MAX - cfg->initrd_size))
		return -EINVAL;
	if (cfg->bootargs && strlen(cfg->bootargs) >= ARM64_CMDLINE_MAX)
		return -ENAMETOOLONG;
	if (cap > ARM64_DTB_MAX)
		cap = ARM64_DTB_MAX;
	if (cfg->rng_seed) {
		memcpy(seed, cfg->rng_seed, sizeof(seed));
	} else {
		r = seed_read(seed, sizeof(seed));
		if (r < 0)
			return r;
	}
	r = fdt_create(buf, (int)cap);
	if (r == 0)
		r = fdt_tree(buf, cfg, seed);
	/* Sequential write fails only for want of room, short of a bug of ours. */
	if (r < 0)
		return r == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
	return (int)fdt_totalsize(buf);
}

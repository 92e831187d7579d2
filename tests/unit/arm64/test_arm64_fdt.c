/* SPDX-License-Identifier: MIT */
/* Unit tests: the arm64 device tree for several guests, read back with libfdt and decompiled with dtc. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libfdt.h>

#include "arm64_boot.h"
#include "arm64_fdt.h"
#include "arm64_layout.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static uint8_t blob[65536];
static const uint8_t seed[ARM64_FDT_RNG_SEED_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

static int build(const struct arm64_fdt_config *cfg)
{
	int n = arm64_fdt_build(cfg, blob, sizeof(blob));

	if (n > 0)
		assert_int_equal(fdt_check_header(blob), 0);
	return n;
}

static int node(const char *path)
{
	int off = fdt_path_offset(blob, path);

	if (off < 0)
		fail_msg("no node %s: %s", path, fdt_strerror(off));
	return off;
}

static const void *prop(const char *path, const char *name, int *len)
{
	const void *p = fdt_getprop(blob, node(path), name, len);

	if (!p)
		fail_msg("no property %s in %s", name, path);
	return p;
}

static uint32_t prop_u32(const char *path, const char *name)
{
	int len;
	const fdt32_t *p = prop(path, name, &len);

	assert_int_equal(len, 4);
	return fdt32_to_cpu(*p);
}

/* Cell i of a property of 64-bit cells (reg with #address-cells = #size-cells = 2). */
static uint64_t prop_u64(const char *path, const char *name, int i, int ncells)
{
	int len;
	const fdt64_t *p = prop(path, name, &len);

	assert_int_equal(len, 8 * ncells);
	return fdt64_to_cpu(p[i]);
}

static void check_string(const char *path, const char *name, const char *want)
{
	int len;
	const char *p = prop(path, name, &len);

	assert_string_equal(p, want);
}

/* An interrupts property of one (type, number, flags) triple. */
static void check_irq(const char *path, uint32_t type, uint32_t num, uint32_t flags)
{
	int len;
	const fdt32_t *p = prop(path, "interrupts", &len);

	assert_int_equal(len, 12);
	assert_int_equal(fdt32_to_cpu(p[0]), type);
	assert_int_equal(fdt32_to_cpu(p[1]), num);
	assert_int_equal(fdt32_to_cpu(p[2]), flags);
}

static int count_children(const char *path, const char *prefix)
{
	int n = 0, child;

	fdt_for_each_subnode(child, blob, node(path)) {
		const char *name = fdt_get_name(blob, child, NULL);

		if (!strncmp(name, prefix, strlen(prefix)))
			n++;
	}
	return n;
}

/* What every guest's tree holds, whatever its configuration. */
static void check_common(const struct arm64_fdt_config *cfg)
{
	char path[64];

	assert_int_equal(prop_u32("/", "#address-cells"), 2);
	assert_int_equal(prop_u32("/", "#size-cells"), 2);
	assert_int_equal(prop_u32("/", "interrupt-parent"), ARM64_FDT_GIC_PHANDLE);

	assert_int_equal(count_children("/cpus", "cpu@"), (int)cfg->ncpus);
	for (unsigned int i = 0; i < cfg->ncpus; i++) {
		uint64_t mpidr = cfg->mpidr ? cfg->mpidr[i] : arm64_mpidr_default(i);

		snprintf(path, sizeof(path), "/cpus/cpu@%llx", (unsigned long long)mpidr);
		assert_int_equal(prop_u64(path, "reg", 0, 1), mpidr);
		check_string(path, "enable-method", "psci");
		check_string(path, "device_type", "cpu");
	}
	check_string("/psci", "compatible", "arm,psci-0.2");
	check_string("/psci", "method", "hvc");

	assert_int_equal(prop_u64("/memory@80000000", "reg", 0, 2), ARM64_RAM_BASE);
	assert_int_equal(prop_u64("/memory@80000000", "reg", 1, 2), cfg->mem_size);
	check_string("/memory@80000000", "device_type", "memory");

	/* The GIC: the phandle others point at, a distributor, a redistributor frame pair per vCPU. */
	check_string("/intc@8000000", "compatible", "arm,gic-v3");
	assert_int_equal(prop_u32("/intc@8000000", "phandle"), ARM64_FDT_GIC_PHANDLE);
	assert_int_equal(prop_u32("/intc@8000000", "#interrupt-cells"), 3);
	assert_int_equal(prop_u64("/intc@8000000", "reg", 0, 4), ARM64_GIC_DIST_BASE);
	assert_int_equal(prop_u64("/intc@8000000", "reg", 1, 4), 0x10000);
	assert_int_equal(prop_u64("/intc@8000000", "reg", 2, 4), ARM64_GIC_REDIST_BASE);
	assert_int_equal(prop_u64("/intc@8000000", "reg", 3, 4), 0x20000ULL * cfg->ncpus);
	assert_true(ARM64_GIC_REDIST_BASE + 0x20000ULL * cfg->ncpus <= ARM64_UART_BASE);

	{
		int len;
		const fdt32_t *t = prop("/timer", "interrupts", &len);
		const uint32_t ppis[] = { 13, 14, 11, 10 };

		assert_int_equal(len, 48);
		for (int i = 0; i < 4; i++) {
			assert_int_equal(fdt32_to_cpu(t[3 * i]), 1);   /* PPI */
			assert_int_equal(fdt32_to_cpu(t[3 * i + 1]), ppis[i]);
		}
		check_string("/timer", "compatible", "arm,armv8-timer");
	}

	/* The console: stdout-path names the 16550A's node. */
	check_string("/chosen", "stdout-path", ARM64_FDT_UART_PATH);
	check_string(ARM64_FDT_UART_PATH, "compatible", "ns16550a");
	assert_int_equal(prop_u64(ARM64_FDT_UART_PATH, "reg", 0, 2), ARM64_UART_BASE);
	assert_int_equal(prop_u32(ARM64_FDT_UART_PATH, "clock-frequency"), 1843200);
	assert_int_equal(prop_u32(ARM64_FDT_UART_PATH, "reg-shift"), 0);
	assert_int_equal(prop_u32(ARM64_FDT_UART_PATH, "reg-io-width"), 1);
	check_irq(ARM64_FDT_UART_PATH, 0, ARM64_SPI_UART, 4);

	check_string("/exit@9010000", "compatible", "vmm,exit");
	assert_int_equal(prop_u64("/exit@9010000", "reg", 0, 2), ARM64_EXIT_BASE);
	assert_int_equal(prop_u64("/exit@9010000", "reg", 1, 2), ARM64_EXIT_SIZE);

	assert_int_equal(count_children("/", "virtio_mmio@"), (int)cfg->ndrives);
	for (unsigned int i = 0; i < cfg->ndrives; i++) {
		int len;

		snprintf(path, sizeof(path), "/virtio_mmio@%llx", (unsigned long long)ARM64_VIRTIO_MMIO_ADDR(i));
		check_string(path, "compatible", "virtio,mmio");
		assert_int_equal(prop_u64(path, "reg", 0, 2), ARM64_VIRTIO_MMIO_ADDR(i));
		assert_int_equal(prop_u64(path, "reg", 1, 2), 0x200);
		check_irq(path, 0, 16 + i, 1);
		assert_non_null(fdt_getprop(blob, node(path), "dma-coherent", &len));
		assert_int_equal(len, 0);
	}

	if (cfg->bootargs && *cfg->bootargs) {
		check_string("/chosen", "bootargs", cfg->bootargs);
	} else {
		assert_null(fdt_getprop(blob, node("/chosen"), "bootargs", NULL));
	}
	if (cfg->initrd_size) {
		assert_int_equal(prop_u64("/chosen", "linux,initrd-start", 0, 1), cfg->initrd_addr);
		assert_int_equal(prop_u64("/chosen", "linux,initrd-end", 0, 1), cfg->initrd_addr + cfg->initrd_size);
	} else {
		assert_null(fdt_getprop(blob, node("/chosen"), "linux,initrd-start", NULL));
		assert_null(fdt_getprop(blob, node("/chosen"), "linux,initrd-end", NULL));
	}
	{
		int len;
		const uint8_t *s = prop("/chosen", "rng-seed", &len);

		assert_int_equal(len, ARM64_FDT_RNG_SEED_LEN);
		if (cfg->rng_seed)
			assert_memory_equal(s, cfg->rng_seed, ARM64_FDT_RNG_SEED_LEN);
	}
}

static void test_one_cpu_no_drives_no_initrd(void **state)
{
	struct arm64_fdt_config cfg = { .ncpus = 1, .mem_size = 256 * MiB, .bootargs = "panic=-1", .rng_seed = seed };

	(void)state;
	assert_true(build(&cfg) > 0);
	check_common(&cfg);
}

static void test_four_cpus_drives_initrd(void **state)
{
	struct arm64_fdt_config cfg = {
		.ncpus = 4, .mem_size = 2 * GiB, .bootargs = "quiet panic=-1 -- echo hi",
		.initrd_addr = ARM64_RAM_BASE + 2 * GiB - 2 * MiB - 7 * 4096, .initrd_size = 7 * 4096 - 100,
		.ndrives = 3, .rng_seed = seed,
	};

	(void)state;
	assert_true(build(&cfg) > 0);
	check_common(&cfg);
}

/* Many vCPUs: the second affinity level is used from vCPU 16 on, and MPIDRs KVM reported win. */
static void test_many_cpus_max_drives(void **state)
{
	static uint64_t mpidr[64];
	struct arm64_fdt_config cfg = { .ncpus = 64, .mem_size = 1024 * GiB, .ndrives = ARM64_VIRTIO_MMIO_MAX };

	(void)state;
	assert_true(build(&cfg) > 0);
	check_common(&cfg);
	assert_int_equal(prop_u64("/cpus/cpu@103", "reg", 0, 1), 0x103);   /* vCPU 19 */

	for (unsigned int i = 0; i < 64; i++)
		mpidr[i] = 0x100000000ULL * (i % 2) + i;   /* Aff3 in use */
	cfg.mpidr = mpidr;
	assert_true(build(&cfg) > 0);
	check_common(&cfg);
}

/* Without a given seed, getrandom's: two trees differ there. */
static void test_rng_seed_random(void **state)
{
	struct arm64_fdt_config cfg = { .ncpus = 1, .mem_size = 64 * MiB };
	uint8_t first[ARM64_FDT_RNG_SEED_LEN];
	int len;

	(void)state;
	assert_true(build(&cfg) > 0);
	memcpy(first, prop("/chosen", "rng-seed", &len), sizeof(first));
	assert_true(build(&cfg) > 0);
	assert_memory_not_equal(first, prop("/chosen", "rng-seed", &len), sizeof(first));
}

static void test_bad_configs(void **state)
{
	char *longargs = malloc(ARM64_CMDLINE_MAX + 1);
	struct arm64_fdt_config cfg = { .ncpus = 0, .mem_size = 64 * MiB, .rng_seed = seed };

	(void)state;
	assert_int_equal(arm64_fdt_build(&cfg, blob, sizeof(blob)), -EINVAL);
	cfg.ncpus = ARM64_MAX_CPUS + 1;
	assert_int_equal(arm64_fdt_build(&cfg, blob, sizeof(blob)), -EINVAL);
	cfg.ncpus = ARM64_MAX_CPUS;
	assert_true(arm64_fdt_build(&cfg, blob, sizeof(blob)) > 0);
	cfg.ncpus = 1;
	cfg.ndrives = ARM64_VIRTIO_MMIO_MAX + 1;
	assert_int_equal(arm64_fdt_build(&cfg, blob, sizeof(blob)), -EINVAL);
	cfg.ndrives = 0;
	cfg.mem_size = 0;
	assert_int_equal(arm64_fdt_build(&cfg, blob, sizeof(blob)), -EINVAL);
	cfg.mem_size = 64 * MiB;
	cfg.initrd_addr = UINT64_MAX - 10;
	cfg.initrd_size = 100;
	assert_int_equal(arm64_fdt_build(&cfg, blob, sizeof(blob)), -EINVAL);
	cfg.initrd_size = 0;

	memset(longargs, 'a', ARM64_CMDLINE_MAX);
	longargs[ARM64_CMDLINE_MAX - 1] = '\0';   /* 2047 characters: the most that fit */
	cfg.bootargs = longargs;
	assert_true(arm64_fdt_build(&cfg, blob, sizeof(blob)) > 0);
	longargs[ARM64_CMDLINE_MAX - 1] = 'a';
	longargs[ARM64_CMDLINE_MAX] = '\0';
	assert_int_equal(arm64_fdt_build(&cfg, blob, sizeof(blob)), -ENAMETOOLONG);
	cfg.bootargs = NULL;
	free(longargs);

	assert_int_equal(arm64_fdt_build(&cfg, blob, 200), -ENOSPC);
}

/* Run a shell command; its exit status. */
static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[65536];
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/*
 * dtc, the device tree compiler, decompiles the blob without a warning of
 * its own checks (unit addresses against reg, #cells, phandles...), and the
 * source says what the guest reads.
 */
static void test_dtc_decompiles_cleanly(void **state)
{
	struct arm64_fdt_config cfg = {
		.ncpus = 2, .mem_size = 512 * MiB, .bootargs = "panic=-1", .ndrives = 2,
		.initrd_addr = 0x90000000, .initrd_size = 0x1000, .rng_seed = seed,
	};
	const char *dtc = getenv("DTC");
	char dir[] = "/tmp/vmm-fdt-XXXXXX", cmd[1024], path[256], err[256];
	static const char *const want[] = {
		"compatible = \"arm,gic-v3\";", "enable-method = \"psci\";", "method = \"hvc\";",
		"stdout-path = \"/serial@9000000\";", "compatible = \"ns16550a\";", "virtio_mmio@a001000 {",
		"exit@9010000 {", "compatible = \"vmm,exit\";", "dma-coherent;", "bootargs = \"panic=-1\";",
		"linux,initrd-start = <0x00 0x90000000>;", "linux,initrd-end = <0x00 0x90001000>;",
		"cpu@1 {", "compatible = \"arm,armv8-timer\";",
	};
	const char *dts;
	int n;
	FILE *f;

	(void)state;
	if (!dtc || !*dtc)
		dtc = "dtc";
	n = build(&cfg);
	assert_true(n > 0);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vmm.dtb", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(blob, 1, n, f), (size_t)n);
	fclose(f);
	snprintf(err, sizeof(err), "%s/dtc.err", dir);
	snprintf(cmd, sizeof(cmd), "'%s' -I dtb -O dts -o '%s/vmm.dts' '%s' 2>'%s'", dtc, dir, path, err);
	if (run(cmd) != 0)
		fail_msg("dtc failed (is device-tree-compiler installed? scripts/deps.sh installs it): %s", slurp(err));
	assert_string_equal(slurp(err), "");
	snprintf(path, sizeof(path), "%s/vmm.dts", dir);
	dts = slurp(path);
	for (unsigned int i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(dts, want[i]))
			fail_msg("dtc's source lacks \"%s\":\n%s", want[i], dts);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(run(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_cpu_no_drives_no_initrd),
		cmocka_unit_test(test_four_cpus_drives_initrd),
		cmocka_unit_test(test_many_cpus_max_drives),
		cmocka_unit_test(test_rng_seed_random),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_dtc_decompiles_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

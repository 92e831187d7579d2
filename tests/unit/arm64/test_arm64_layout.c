/* SPDX-License-Identifier: MIT */
/* Unit tests: the arm64 memory map's consistency, MPIDR and IPA-size arithmetic, system-event decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "arm64_boot.h"
#include "arm64_fdt.h"
#include "arm64_layout.h"
#include "kvm_arm64.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

struct window {
	uint64_t base, size;
};

/* No two device windows overlap, and all lie below RAM. */
static void test_map_disjoint(void **state)
{
	struct window w[4 + ARM64_VIRTIO_MMIO_MAX] = {
		{ ARM64_GIC_DIST_BASE, ARM64_GIC_DIST_SIZE },
		{ ARM64_GIC_REDIST_BASE, ARM64_GIC_REDIST_SIZE(ARM64_MAX_CPUS) },
		{ ARM64_UART_BASE, ARM64_UART_SIZE },
		{ ARM64_EXIT_BASE, ARM64_EXIT_SIZE },
	};
	unsigned int n = 4;

	(void)state;
	for (unsigned int i = 0; i < ARM64_VIRTIO_MMIO_MAX; i++)
		w[n++] = (struct window){ ARM64_VIRTIO_MMIO_ADDR(i), ARM64_VIRTIO_MMIO_SIZE };
	for (unsigned int i = 0; i < n; i++) {
		assert_true(w[i].base + w[i].size <= ARM64_RAM_BASE);
		/* Page-aligned, so a guest maps each alone (and KVM's memslots never cover them). */
		assert_int_equal(w[i].base % 4096, 0);
		for (unsigned int j = i + 1; j < n; j++)
			assert_true(w[i].base + w[i].size <= w[j].base || w[j].base + w[j].size <= w[i].base);
	}
	assert_true(ARM64_GIC_REDIST_BASE + ARM64_GIC_REDIST_SIZE(ARM64_MAX_CPUS) <= ARM64_GIC_REDIST_END);
	assert_int_equal(ARM64_MAX_CPUS, 123);
	assert_true(ARM64_EXIT_BOOT_MARKER < ARM64_EXIT_SIZE);
	/* The RAM base is the Image's 2 MiB aligned base, and the initrd window's 1 GiB aligned one. */
	assert_int_equal(ARM64_RAM_BASE % ARM64_KIMG_ALIGN, 0);
	assert_int_equal(ARM64_RAM_BASE % ARM64_INITRD_WINDOW_ALIGN, 0);
}

/* The interrupts fit the vgic's NR_IRQS: 32 private ones, then the SPIs. */
static void test_irqs_in_range(void **state)
{
	(void)state;
	assert_true(32 + ARM64_SPI_UART < ARM64_GIC_NR_IRQS);
	assert_true(32 + ARM64_SPI_VIRTIO(ARM64_VIRTIO_MMIO_MAX - 1) < ARM64_GIC_NR_IRQS);
	assert_true(ARM64_SPI_UART < ARM64_SPI_VIRTIO_BASE);
	assert_int_equal(ARM64_GIC_NR_IRQS % 32, 0);
	assert_int_equal(ARM64_IRQ_LINE_SPI(1), 0x1000021);
}

static void test_mpidr_default(void **state)
{
	(void)state;
	assert_int_equal(arm64_mpidr_default(0), 0);
	assert_int_equal(arm64_mpidr_default(15), 0xf);
	assert_int_equal(arm64_mpidr_default(16), 0x100);
	assert_int_equal(arm64_mpidr_default(122), 0x70a);
	assert_int_equal(arm64_mpidr_default(4096), 0x10000);
}

static void test_ipa_bits(void **state)
{
	(void)state;
	assert_int_equal(arm64_ipa_bits(256 * MiB), 32);
	assert_int_equal(arm64_ipa_bits(2 * GiB), 32);    /* RAM ends at 4 GiB exactly */
	assert_int_equal(arm64_ipa_bits(2 * GiB + 1), 33);
	assert_int_equal(arm64_ipa_bits(1024 * GiB - 2 * GiB), 40);
	assert_int_equal(arm64_ipa_bits(1024 * GiB), 41);  /* vmm's largest --memory needs more than the default */
}

static void test_system_events(void **state)
{
	(void)state;
	assert_int_equal(kvm_arm64_event_decode(KVM_SYSTEM_EVENT_SHUTDOWN), KVM_ARM64_EVENT_POWER_OFF);
	assert_int_equal(kvm_arm64_event_decode(KVM_SYSTEM_EVENT_RESET), KVM_ARM64_EVENT_RESET);
	assert_int_equal(kvm_arm64_event_decode(KVM_SYSTEM_EVENT_CRASH), KVM_ARM64_EVENT_CRASH);
	assert_int_equal(kvm_arm64_event_decode(KVM_SYSTEM_EVENT_WAKEUP), KVM_ARM64_EVENT_UNKNOWN);
	assert_int_equal(kvm_arm64_event_decode(0), KVM_ARM64_EVENT_UNKNOWN);
	assert_int_equal(kvm_arm64_event_decode(1000), KVM_ARM64_EVENT_UNKNOWN);
	assert_string_equal(kvm_arm64_event_name(KVM_ARM64_EVENT_POWER_OFF), "power-off");
	assert_string_equal(kvm_arm64_event_name(KVM_ARM64_EVENT_RESET), "reset");
	assert_string_equal(kvm_arm64_event_name(KVM_ARM64_EVENT_UNKNOWN), "unknown system event");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_disjoint),
		cmocka_unit_test(test_irqs_in_range),
		cmocka_unit_test(test_mpidr_default),
		cmocka_unit_test(test_ipa_bits),
		cmocka_unit_test(test_system_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* kvm_sys.c: the /dev/kvm system fd: open, API and capability checks, CPUID query. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm.h"

struct kvm_sys_cap {
	long cap;
	const char *name;
};

/* What vmm relies on; all have existed since Linux 2.6.3x, so a missing one
 * means a crippled or foreign KVM rather than an old one. */
static const struct kvm_sys_cap kvm_sys_required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
};

int kvm_sys_open(struct kvm_sys *sys, const char *path)
{
	size_t i;
	int ret;

	sys->fd = -1;
	sys->vcpu_mmap_size = 0;
	sys->missing_cap = -1;

	sys->fd = open(path ? path : "/dev/kvm", O_RDWR | O_CLOEXEC);
	if (sys->fd < 0) {
		ret = -errno;
		goto err;
	}

	ret = ioctl(sys->fd, KVM_GET_API_VERSION, 0);
	if (ret < 0) {
		ret = -errno;
		goto close_fd;
	}
	if (ret != KVM_SYS_API_VERSION) {
		ret = -EPROTO;
		goto close_fd;
	}

	for (i = 0; i < sizeof(kvm_sys_required_caps) / sizeof(kvm_sys_required_caps[0]); i++) {
		ret = kvm_sys_check_extension(sys, kvm_sys_required_caps[i].cap);
		if (ret < 0)
			goto close_fd;
		if (ret == 0) {
			sys->missing_cap = kvm_sys_required_caps[i].cap;
			ret = -ENOSYS;
			goto close_fd;
		}
	}

	ret = ioctl(sys->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret < 0) {
		ret = -errno;
		goto close_fd;
	}
	/* kvm_run itself must fit, or every exit field we read is garbage. */
	if ((size_t)ret < sizeof(struct kvm_run)) {
		ret = -EPROTO;
		goto close_fd;
	}
	sys->vcpu_mmap_size = ret;
	return 0;

close_fd:
	close(sys->fd);
	sys->fd = -1;
err:
	return ret;
}

const char *kvm_sys_missing_cap(const struct kvm_sys *sys)
{
	size_t i;

	for (i = 0; i < sizeof(kvm_sys_required_caps) / sizeof(kvm_sys_required_caps[0]); i++)
		if (kvm_sys_required_caps[i].cap == sys->missing_cap)
			return kvm_sys_required_caps[i].name;
	return NULL;
}

void kvm_sys_close(struct kvm_sys *sys)
{
	if (sys->fd >= 0)
		close(sys->fd);
	sys->fd = -1;
}

int kvm_sys_check_extension(struct kvm_sys *sys, long cap)
{
	int ret = ioctl(sys->fd, KVM_CHECK_EXTENSION, cap);

	return ret < 0 ? -errno : ret;
}

int kvm_sys_get_supported_cpuid(struct kvm_sys *sys, struct kvm_cpuid2 **out)
{
	/* KVM has no "how many" query: start near today's typical count and
	 * double on -E2BIG; KVM caps the table at KVM_MAX_CPUID_ENTRIES (256). */
	uint32_t nent = 64;
	struct kvm_cpuid2 *cpuid;
	int ret;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return -ENOMEM;
		cpuid->nent = nent;
		if (ioctl(sys->fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		ret = -errno;
		free(cpuid);
		if (ret != -E2BIG || nent >= 4096)
			return ret;
		nent *= 2;
	}
	*out = cpuid;
	return (int)cpuid->nent;
}

int kvm_sys_is_hardware(void)
{
	return access("/sys/module/kvm_intel", F_OK) == 0 ||
	       access("/sys/module/kvm_amd", F_OK) == 0;
}

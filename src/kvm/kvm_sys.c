/* SPDX-License-Identifier: MIT */
/* kvm_sys.c: the /dev/kvm system fd: open, API and capability checks. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_internal.h"

/* What vmm relies on on every architecture (kvm_arch_caps has the rest); all have
 * existed since Linux 2.6.3x, so a missing one means a crippled or foreign KVM
 * rather than an old one. */
static const struct kvm_sys_cap kvm_sys_required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
};

#define KVM_SYS_NCAPS (sizeof(kvm_sys_required_caps) / sizeof(kvm_sys_required_caps[0]))

/* Required capability i: the neutral ones, then the arch's; NULL past the last. */
static const struct kvm_sys_cap *kvm_sys_cap_at(size_t i)
{
	if (i < KVM_SYS_NCAPS)
		return &kvm_sys_required_caps[i];
	return i - KVM_SYS_NCAPS < kvm_arch_ncaps ? &kvm_arch_caps[i - KVM_SYS_NCAPS] : NULL;
}

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

	for (i = 0; kvm_sys_cap_at(i); i++) {
		ret = kvm_sys_check_extension(sys, kvm_sys_cap_at(i)->cap);
		if (ret < 0)
			goto close_fd;
		if (ret == 0) {
			sys->missing_cap = kvm_sys_cap_at(i)->cap;
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

	for (i = 0; kvm_sys_cap_at(i); i++)
		if (kvm_sys_cap_at(i)->cap == sys->missing_cap)
			return kvm_sys_cap_at(i)->name;
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

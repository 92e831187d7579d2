/* SPDX-License-Identifier: MIT */
/* Decodes KVM_EXIT_SYSTEM_EVENT on arm64: PSCI SYSTEM_OFF and SYSTEM_RESET reach the VMM this way. */
#include "kvm_arm64.h"

enum kvm_arm64_event kvm_arm64_event_decode(uint32_t type)
{
	switch (type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		return KVM_ARM64_EVENT_POWER_OFF;
	case KVM_SYSTEM_EVENT_RESET:
		return KVM_ARM64_EVENT_RESET;
	case KVM_SYSTEM_EVENT_CRASH:
		return KVM_ARM64_EVENT_CRASH;
	default:
		return KVM_ARM64_EVENT_UNKNOWN;
	}
}

const char *kvm_arm64_event_name(enum kvm_arm64_event ev)
{
	switch (ev) {
	case KVM_ARM64_EVENT_POWER_OFF:
		return "power-off";
	case KVM_ARM64_EVENT_RESET:
		return "reset";
	case KVM_ARM64_EVENT_CRASH:
		return "crash";
	case KVM_ARM64_EVENT_UNKNOWN:
		break;
	}
	return "unknown system event";
}

#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: the harness itself: /dev/kvm is usable where the scenarios run (nested KVM in the test host).
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

ITEST_CHECKS=$((ITEST_CHECKS + 1))
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then ok "/dev/kvm is a usable device"; else fail "/dev/kvm missing or not usable"; fi
if [ "${ITEST_MODE:-}" = testhost ]; then
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	if [ -d /sys/module/kvm_amd ]; then ok "kvm_amd loaded"; else fail "kvm_amd not loaded"; fi
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	# The scenarios' flush counting relies on this file and its field 16.
	if [ -n "$HOST_BLOCK_STAT" ] && [ "$(wc -w <"$HOST_BLOCK_STAT")" -ge 17 ]; then
		ok "$HOST_BLOCK_STAT has flush counters ($(host_flushes) flushes so far)"
	else
		fail "HOST_BLOCK_STAT ($HOST_BLOCK_STAT) lacks flush counters"
	fi
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	# 127/126: the loader or a library is missing in the test host.
	"$VMM" >/dev/null 2>&1
	st=$?
	if [ "$st" != 127 ] && [ "$st" != 126 ]; then ok "vmm binary runs here (status $st without arguments)"; else fail "vmm binary cannot run (status $st: libraries?)"; fi
fi
finish

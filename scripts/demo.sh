#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build everything, build the test guest from Debian packages, and boot a demo VM with two drives
# (config/ci-runner.ini: a read-only base disk and a cache=unsafe scratch disk).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
[ -f build/build.ninja ] || meson setup build
meson compile -C build

if [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; then
	echo "demo: booting on this machine's hardware KVM"
else
	echo "demo: /dev/kvm here is not hardware KVM, so the demo boots inside the emulated test host (QEMU TCG, AMD SVM, kvm_amd)"
fi
# The runner builds the guest image (build/guest) and, where needed, the test
# host, then runs scripts/demo-guest.sh directly or inside the test host.
VMM_ITEST_WITH_QEMU=0 exec python3 tests/integration/run.py --build-dir build --script scripts/demo-guest.sh

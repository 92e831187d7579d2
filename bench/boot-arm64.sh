#!/bin/sh
# SPDX-License-Identifier: MIT
# Boot time to the guest's init marker on arm64: vmm vs QEMU -M virt -accel kvm, in one boot of the emulated arm64 test host.
#
# usage: bench/boot-arm64.sh [BUILD_DIR]   (default: build; the arm64 vmm is cross-built under it)
#   env: as bench/boot.sh (ROUNDS, KERNELS, BENCH_NO_WAIT). bench/boot.sh with ARCH=arm64 does the
#   work: tests/integration/run.py --arch arm64 --with-qemu puts Debian's arm64 QEMU 7.2 (unpacked
#   from its :arm64 packages by tests/host-arm64/build.sh --with-qemu) beside vmm in the test host.
ARCH=arm64 exec "$(dirname "$0")/boot.sh" "$@"

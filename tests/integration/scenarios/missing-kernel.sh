#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: a kernel file that does not exist is a usage/config error: status 2, one line on stderr.
# arch: x86_64 arm64
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

run_vmm --kernel "$SCRATCH/no-such-kernel" --initrd "$GUEST_INITRD" --timeout 10
expect_status 2
expect_stderr_lines 1
expect_stderr 'no-such-kernel'
finish

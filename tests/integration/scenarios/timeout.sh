#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: --timeout ends a guest that never finishes with status 124, promptly.
# arch: x86_64 arm64
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

boot_guest --timeout 2 -- 'sleep 1000000'
expect_status 124 "--timeout expired"
# 2 s plus tear-down; generous because the test host is emulated.
expect_true "vmm ended within 15 s (took ${ELAPSED}s)" [ "$ELAPSED" -le 15 ]
finish

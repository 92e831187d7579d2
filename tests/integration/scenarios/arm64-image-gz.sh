#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: the arm64 guest boots from a gzip-compressed Image (Image.gz, as other distributions ship it) too.
# arch: arm64
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

boot_guest --kernel "$GUEST_BZIMAGE" -- 'echo gz-$(uname -m); exit 3'
expect_output '^vmm-guest: init ok$'
expect_output '^gz-aarch64$'
expect_status 3 "guest command's status through the exit device"
finish

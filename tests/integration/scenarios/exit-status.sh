#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: a guest command's exit status (one byte to port 0x501; arm64: the exit device) becomes vmm's exit status.
# arch: x86_64 arm64
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

boot_guest -- exit 7
expect_status 7
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: a guest reboot (reboot=k: i8042 reset; arm64: PSCI SYSTEM_RESET) ends vmm with status 123.
# arch: x86_64 arm64
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

boot_guest -- 'reboot -f; sleep 5; exit 9'
expect_status 123 "guest reset"
expect_output '^vmm-guest: init ok$'
finish

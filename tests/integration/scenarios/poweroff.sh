#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: `poweroff -f` in the guest (ACPI S5; arm64: PSCI SYSTEM_OFF) ends vmm with status 0.
# arch: x86_64 arm64
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

# Exit 9 if poweroff returns, so a halt-instead-of-poweroff is not mistaken
# for success (the guest /init would otherwise report the shell's status).
boot_guest -- 'poweroff -f; sleep 5; exit 9'
expect_status 0 "guest powered off"
expect_output '^vmm-guest: init ok$'
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: the guest boots from vmlinux, prints its init marker, runs a command and exits 0.
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

boot_guest -- echo command-ran
expect_output '^vmm-guest: init ok$'
expect_output '^command-ran$'
expect_status 0 "guest command succeeded"
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: the guest boots from vmlinux (arm64: the Image, its console from stdout-path), prints its init marker, runs a command and exits 0.
# arch: x86_64 arm64
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

boot_guest -- echo command-ran
expect_output '^vmm-guest: init ok$'
expect_output '^command-ran$'
expect_status 0 "guest command succeeded"
finish

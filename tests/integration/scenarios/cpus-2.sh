#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: --cpus 2 gives the guest two online CPUs.
# arch: x86_64 arm64
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

boot_guest --cpus 2 -- 'echo nproc=$(nproc)'
expect_status 0
expect_output '^nproc=2$'
finish

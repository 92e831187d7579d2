#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: cache=writethrough: data round-trips through the guest and the image file; flushes go where the mode says.
# arch: x86_64 arm64
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

drive_mode_scenario writethrough
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: the guest boots from the compressed bzImage (real-mode setup header path) too.
# timeout: 180
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

# The in-guest decompression costs 5-7 s in the emulated test host.
GUEST_TIMEOUT=120
boot_guest --kernel "$GUEST_BZIMAGE" -- 'echo bz-$(uname -r); exit 3'
expect_output '^vmm-guest: init ok$'
expect_output '^bz-[0-9]'
expect_status 3 "guest command's status through port 0x501"
finish

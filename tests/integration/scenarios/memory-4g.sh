#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: --memory 4G gives the guest about 4 GiB (memory above the 32-bit PCI hole included).
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

boot_guest --memory 4G -- "echo memtotal_kb=\$(awk '/^MemTotal:/ { print \$2 }' /proc/meminfo)"
expect_status 0
kb=$(output_value memtotal_kb)
echo "guest MemTotal: ${kb:-?} kB"
# The kernel reserves some memory for itself; 3.8 GiB = 3984589 kB.
expect_true "MemTotal ${kb:-?} kB > 3.8 GiB" [ "${kb:-0}" -gt 3984589 ]
finish

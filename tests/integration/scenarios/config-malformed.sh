#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: a malformed INI gives status 2 and one file:line message, before anything starts, and every
# drive file it names stays byte-for-byte unchanged.
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

make_image "$SCRATCH/a.img" 4
pattern_file ini "$SCRATCH/p"
dd if="$SCRATCH/p" of="$SCRATCH/a.img" conv=notrunc,fsync 2>/dev/null
make_image "$SCRATCH/b.img" 4
sum_a=$(md5sum <"$SCRATCH/a.img")
sum_b=$(md5sum <"$SCRATCH/b.img")
cat >"$SCRATCH/vm.ini" <<INI
[machine]
memory = 256M

[boot]
kernel = $GUEST_VMLINUX
initrd = $GUEST_INITRD
cmdline = console=ttyS0 -- dd if=/dev/zero of=/dev/vda bs=1M count=1

[drive "a"]
file = a.img
cache = writeback

[drive "b"]
file = b.img
cache = unsafee
INI
run_vmm --config "$SCRATCH/vm.ini"
expect_status 2
expect_stderr_lines 1
expect_stderr 'vm\.ini:15: cache: unknown cache mode "unsafee"'
expect_true "a.img unchanged" [ "$(md5sum <"$SCRATCH/a.img")" = "$sum_a" ]
expect_true "b.img unchanged" [ "$(md5sum <"$SCRATCH/b.img")" = "$sum_b" ]
finish

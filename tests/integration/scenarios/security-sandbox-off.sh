#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: --sandbox off: no filter and no Landlock, and the guest writes and reads back its drive
# as with the sandbox on; -v says nothing of the sandbox.
# arch: x86_64
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

img=$SCRATCH/off.img
make_image "$img" 8
pattern_file off "$SCRATCH/p"
boot_guest --sandbox off -v --drive "file=$img,cache=none,id=o" -- \
	"$(guest_pattern off);" \
	'dd if=/tmp/p of=/dev/vda bs=1M seek=1 oflag=direct conv=fsync 2>/dev/null && echo guest-write=ok;' \
	'dd if=/dev/vda bs=1M skip=1 count=1 iflag=direct 2>/dev/null | cmp - /tmp/p && echo guest-read=ok;' \
	'exit 0'
expect_status 0
expect_output '^guest-write=ok$'
expect_output '^guest-read=ok$'
expect_true "no sandbox line under -v" sh -c "! grep -q 'sandbox:' '$ERR'"
expect_image_region "$img" 1 "$SCRATCH/p"
finish

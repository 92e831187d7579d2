#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: a guest discard punches a hole in the image: the range reads back as zeros on both sides.
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

img=$SCRATCH/d.img
make_image "$img" 8
pattern_file discard "$SCRATCH/p"
dd if="$SCRATCH/p" of="$img" bs=1M seek=2 conv=notrunc,fsync 2>/dev/null
boot_guest --drive "file=$img,id=d" --stats "$SCRATCH/stats.json" -- \
	'dd if=/dev/zero of=/tmp/z bs=1M count=1 2>/dev/null &&' \
	'blkdiscard -o 2097152 -l 1048576 /dev/vda &&' \
	'dd if=/dev/vda bs=1M skip=2 count=1 iflag=direct 2>/dev/null | cmp - /tmp/z && echo guest-zeros=ok'
expect_status 0
expect_output '^guest-zeros=ok$'
expect_stat "$SCRATCH/stats.json" d discards -gt 0
dd if=/dev/zero of="$SCRATCH/zero" bs=1M count=1 2>/dev/null
expect_image_region "$img" 2 "$SCRATCH/zero"
finish

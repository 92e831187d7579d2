#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: guest WRITE_ZEROES without the unmap flag (fallocate -z on the disk,
# which Linux sends as BLKDEV_ZERO_NOUNMAP) and with it (fallocate -p): both
# ranges read back as zeros in the guest and in the image. The image is on
# tmpfs when there is one, which has no FALLOC_FL_ZERO_RANGE: there the first
# range must stay allocated and the second may become a hole, and does.
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

dir=$SCRATCH
for d in /dev/shm /tmp; do
	if [ "$(stat -f -c %T "$d" 2>/dev/null)" = tmpfs ]; then
		dir=$(mktemp -d "$d/vmm-wz.XXXXXX")
		break
	fi
done
img=$dir/z.img
make_image "$img" 8
pattern_file wz "$SCRATCH/p"
dd if="$SCRATCH/p" of="$img" bs=1M seek=2 conv=notrunc,fsync 2>/dev/null
dd if="$SCRATCH/p" of="$img" bs=1M seek=4 conv=notrunc,fsync 2>/dev/null
dd if="$SCRATCH/p" of="$img" bs=1M seek=6 conv=notrunc,fsync 2>/dev/null
blocks=$(stat -c %b "$img")
boot_guest --drive "file=$img,id=z" --stats "$SCRATCH/stats.json" -- \
	'dd if=/dev/zero of=/tmp/z bs=1M count=1 2>/dev/null &&' \
	'fallocate.util-linux -z -o 2097152 -l 1048576 /dev/vda &&' \
	'fallocate.util-linux -p -o 4194304 -l 1048576 /dev/vda &&' \
	'dd if=/dev/vda bs=1M skip=2 count=1 iflag=direct 2>/dev/null | cmp - /tmp/z &&' \
	'dd if=/dev/vda bs=1M skip=4 count=1 iflag=direct 2>/dev/null | cmp - /tmp/z && echo guest-zeros=ok'
expect_status 0
expect_output '^guest-zeros=ok$'
expect_stat "$SCRATCH/stats.json" z write_zeroes -ge 2
expect_stat "$SCRATCH/stats.json" z discards -eq 0
expect_stat "$SCRATCH/stats.json" z errors -eq 0
dd if=/dev/zero of="$SCRATCH/zero" bs=1M count=1 2>/dev/null
expect_image_region "$img" 2 "$SCRATCH/zero"
expect_image_region "$img" 4 "$SCRATCH/zero"
expect_image_region "$img" 6 "$SCRATCH/p"
if [ "$dir" != "$SCRATCH" ]; then
	# 1 MiB is 2048 blocks of 512 bytes: the hole of the unmapped range only.
	after=$(stat -c %b "$img")
	expect_true "tmpfs image: $blocks blocks before, $after after (expected $((blocks - 2048)))" \
		[ "$after" -eq $((blocks - 2048)) ]
	rm -rf "$dir"
else
	echo "note: no tmpfs for the image; ZERO_RANGE kept every block, allocation not checked"
fi
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: a block device (a read-only loop device over an image) as a snapshot drive's base. The
# guest reads the base through it, writes whole blocks, zeroes a range that covers two clusters in
# part (WRITE_ZEROES: both copied up from the base around the zeros), and reads all back; the image
# under the loop device is unchanged.
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

command -v losetup >/dev/null || skip "no losetup on this host"
[ -e /dev/loop-control ] || modprobe loop 2>/dev/null
snapshot_tmpdir
img=$SCRATCH/base.img
make_image "$img" 32
pattern_file base "$SCRATCH/p"
dd if="$SCRATCH/p" of="$img" bs=1M seek=0 conv=notrunc 2>/dev/null
dd if="$SCRATCH/p" of="$img" bs=1M seek=8 conv=notrunc 2>/dev/null
sum=$(md5sum <"$img" | cut -d' ' -f1)
loop=$(losetup -f 2>/dev/null)
{ [ -n "$loop" ] && losetup -r "$loop" "$img"; } || skip "no loop device here (no loop driver?)"
echo "+ base: $loop (read-only) over $img"
# Whole 4 KiB blocks at a 4 KiB-aligned offset; then zeros over [1536, 7168): the ends of clusters 0
# and 1 must still hold the base's bytes.
boot_guest --drive "file=$loop,snapshot=on,id=s" --stats "$SCRATCH/stats.json" -- \
	"$(guest_pattern base); cp /tmp/p /tmp/pb; dd if=/dev/vda bs=64k skip=128 count=16 iflag=direct 2>/dev/null | cmp -s - /tmp/p && echo guest-base=ok;
$(guest_pattern mine); head -c 819200 /tmp/p >/tmp/p200;
dd if=/tmp/p200 of=/dev/vda bs=4k seek=2049 conv=fsync 2>/dev/null && echo 3 >/proc/sys/vm/drop_caches &&
dd if=/dev/vda bs=4k skip=2049 count=200 iflag=direct 2>/dev/null | cmp -s - /tmp/p200 && echo guest-mine=ok;
{ head -c 1536 /tmp/pb; head -c 5632 /dev/zero; dd if=/tmp/pb bs=1024 skip=7 count=1 2>/dev/null; } >/tmp/want &&
fallocate.util-linux -z -o 1536 -l 5632 /dev/vda && echo 3 >/proc/sys/vm/drop_caches &&
dd if=/dev/vda bs=1024 count=8 iflag=direct 2>/dev/null | cmp -s - /tmp/want && echo guest-zeroes=ok"
losetup -d "$loop"
expect_status 0
expect_output '^guest-base=ok$'
expect_output '^guest-mine=ok$'
expect_output '^guest-zeroes=ok$'
expect_sum "$img" "$sum"
expect_snapshot_stats "$SCRATCH/stats.json" s
expect_stat "$SCRATCH/stats.json" s copy_ups -ge 2
expect_no_files "$SNAP_TMP"
finish

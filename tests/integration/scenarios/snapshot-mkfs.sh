#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: a guest makes a filesystem on a snapshot drive (snapshot=on; ext2 with 1 KiB blocks, so its
# metadata writes cover clusters in part), writes files, reads them back after dropping its caches and
# remounting, and exits. The base image's checksum is unchanged, TMPDIR
# holds nothing, and --stats shows the overlay and FLUSHes that never reached the host.
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

snapshot_tmpdir
base=$SCRATCH/base.img
make_image "$base" 48
pattern_file golden "$SCRATCH/p"
dd if="$SCRATCH/p" of="$base" bs=1M seek=0 conv=notrunc 2>/dev/null
dd if="$SCRATCH/p" of="$base" bs=1M seek=40 conv=notrunc 2>/dev/null
sum=$(md5sum <"$base" | cut -d' ' -f1)

boot_guest --drive "file=$base,snapshot=on,cache=writeback,id=s" --stats "$SCRATCH/stats.json" -- \
	'modprobe ext4; mke2fs -q -b 1024 /dev/vda && mkdir -p /m && mount /dev/vda /m &&
dd if=/dev/urandom of=/m/big bs=1M count=8 2>/dev/null && i=0 &&
while [ $i -lt 100 ]; do echo "file $i" >/m/f$i; i=$((i + 1)); done && sync &&
h1=$(cat /m/big /m/f* | sha256sum) && umount /m && echo 3 >/proc/sys/vm/drop_caches &&
mount /dev/vda /m && h2=$(cat /m/big /m/f* | sha256sum) && [ "$h1" = "$h2" ] &&
echo guest-files=$(ls /m | grep -c f) && umount /m && echo guest-verify=ok'
expect_status 0
expect_output '^guest-verify=ok$'
expect_output '^guest-files=101$'
expect_sum "$base" "$sum"
expect_snapshot_stats "$SCRATCH/stats.json" s
expect_stat "$SCRATCH/stats.json" s flushes -gt 0
echo "copy-ups: $(drive_stat "$SCRATCH/stats.json" s copy_ups)"
expect_no_files "$SNAP_TMP"
finish

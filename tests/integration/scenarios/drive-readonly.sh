#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: readonly=on: the guest reads the image, cannot write it (its kernel refuses to open the
# read-only disk for writing; when the guest forces the block device writable, the device answers
# IOERR, so EIO), and the image is byte-for-byte unchanged.
# arch: x86_64 arm64
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

img=$SCRATCH/ro.img
make_image "$img" 8
pattern_file ro "$SCRATCH/p"
dd if="$SCRATCH/p" of="$img" bs=1M seek=1 conv=notrunc,fsync 2>/dev/null
before=$(md5sum <"$img")
boot_guest --drive "file=$img,readonly=on,id=ro" --stats "$SCRATCH/stats.json" -- \
	"$(guest_pattern ro);" \
	'echo guest-ro=$(cat /sys/block/vda/ro);' \
	'dd if=/dev/vda bs=1M skip=1 count=1 iflag=direct 2>/dev/null | cmp - /tmp/p && echo guest-read=ok;' \
	'dd if=/dev/zero of=/dev/vda bs=4k count=1 oflag=direct 2>/tmp/e1; echo guest-write1=$?;' \
	'grep -Eq \(Read-only\|not.permitted\) /tmp/e1 && echo guest-refused=ok;' \
	'blockdev --setrw /dev/vda;' \
	'dd if=/dev/zero of=/dev/vda bs=4k count=1 oflag=direct 2>/tmp/e2; echo guest-write2=$?; cat /tmp/e2;' \
	'exit 0'
expect_status 0
expect_output '^guest-ro=1$'
expect_output '^guest-read=ok$'
expect_output '^guest-write1=1$'
expect_output '^guest-refused=ok$'
expect_output '^guest-write2=1$'
expect_true "image unchanged" [ "$(md5sum <"$img")" = "$before" ]
expect_stat "$SCRATCH/stats.json" ro writes -eq 0
expect_stat "$SCRATCH/stats.json" ro exit_flushes -eq 0
finish

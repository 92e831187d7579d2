#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: two drives with different cache modes in one VM, /dev/vda and /dev/vdb in --drive order,
# each keeping its own mode's flush behaviour; the second without I/O-thread polling (poll=0), so a
# real guest is served by both the polling and the purely event-driven paths.
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

make_image "$SCRATCH/a.img" 8
make_image "$SCRATCH/b.img" 8
pattern_file two "$SCRATCH/p"
boot_guest --drive "file=$SCRATCH/a.img,cache=unsafe,id=scratch" \
	--drive "file=$SCRATCH/b.img,cache=writeback,id=data,poll=0" --stats "$SCRATCH/stats.json" -- \
	"$(guest_pattern two);" \
	'dd if=/tmp/p of=/dev/vda bs=64k conv=fsync 2>/dev/null &&' \
	'dd if=/tmp/p of=/dev/vdb bs=64k conv=fsync 2>/dev/null &&' \
	'echo guest-sizes=$(cat /sys/block/vda/size),$(cat /sys/block/vdb/size)'
expect_status 0
expect_output '^guest-sizes=16384,16384$'
expect_image_region "$SCRATCH/a.img" 0 "$SCRATCH/p"
expect_image_region "$SCRATCH/b.img" 0 "$SCRATCH/p"
expect_stat "$SCRATCH/stats.json" scratch flushes -gt 0
expect_stat "$SCRATCH/stats.json" scratch host_flushes -eq 0
expect_stat "$SCRATCH/stats.json" data flushes -gt 0
expect_stat "$SCRATCH/stats.json" data host_flushes -gt 0
finish

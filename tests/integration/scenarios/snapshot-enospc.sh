#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: a snapshot drive whose overlay's filesystem fills up (TMPDIR on a 4 MiB tmpfs): the guest's
# writes past that fail with an I/O error, vmm carries on, what was written before still reads back,
# and the guest exits normally.
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

snapshot_tmpdir
mount -t tmpfs -o size=4m vmm-itest "$SNAP_TMP" || skip "cannot mount a tmpfs here"
base=$SCRATCH/base.img
make_image "$base" 32
sum=$(md5sum <"$base" | cut -d' ' -f1)
boot_guest --drive "file=$base,snapshot=on,id=s" --stats "$SCRATCH/stats.json" -- \
	"$(guest_pattern early); dd if=/tmp/p of=/dev/vda bs=64k oflag=direct 2>/dev/null && echo guest-early=ok;
dd if=/dev/urandom of=/dev/vda bs=64k seek=64 count=128 oflag=direct 2>/dev/null || echo guest-full=eio;
dd if=/dev/vda bs=64k count=16 iflag=direct 2>/dev/null | cmp -s - /tmp/p && echo guest-reread=ok"
expect_status 0
expect_output '^guest-early=ok$'
expect_output '^guest-full=eio$'
expect_output '^guest-reread=ok$'
expect_stat "$SCRATCH/stats.json" s errors -gt 0
expect_sum "$base" "$sum"
expect_no_files "$SNAP_TMP"
umount "$SNAP_TMP"
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: --user 65534:65534 (started as root): the guest still writes and reads back its drive,
# an image only root may open (mode 0600, opened before the drop); --stats goes to a directory that
# user may write; -v logs the sandbox's filters.
# arch: x86_64
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

[ "$(id -u)" = 0 ] || skip "not root: --user needs root"
img=$SCRATCH/user.img
make_image "$img" 8
chmod 600 "$img"
mkdir "$SCRATCH/st" && chmod 777 "$SCRATCH/st"
pattern_file user "$SCRATCH/p"
boot_guest --user 65534:65534 -v --drive "file=$img,cache=none,id=u" --stats "$SCRATCH/st/stats.json" -- \
	"$(guest_pattern user);" \
	'dd if=/tmp/p of=/dev/vda bs=1M seek=1 oflag=direct conv=fsync 2>/dev/null && echo guest-write=ok;' \
	'dd if=/dev/vda bs=1M skip=1 count=1 iflag=direct 2>/dev/null | cmp - /tmp/p && echo guest-read=ok;' \
	'exit 0'
expect_status 0
expect_output '^guest-write=ok$'
expect_output '^guest-read=ok$'
expect_stderr 'sandbox: seccomp filters of'
expect_image_region "$img" 1 "$SCRATCH/p"
expect_stat "$SCRATCH/st/stats.json" u writes -gt 0
finish

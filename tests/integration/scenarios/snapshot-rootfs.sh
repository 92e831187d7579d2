#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: a guest whose root filesystem is a snapshot drive (an ext4 image made on the host with the
# guest's own static busybox in it, entered with chroot) writes to / and reads it back, then exits.
# The image is unchanged and still checks clean, and TMPDIR holds nothing.
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

E2=/usr/sbin
[ -x "$E2/mke2fs" ] && [ -x "$E2/e2fsck" ] || { ITEST_CHECKS=$((ITEST_CHECKS + 1)); fail "no e2fsprogs in $E2"; finish; }
snapshot_tmpdir
root=$SCRATCH/root
rm -rf "$root"
mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/dev"
# The guest's busybox, from its initrd (static, and it runs there whatever this host's busybox is).
(cd "$root" && gzip -dc "$GUEST_INITRD" | cpio -id bin/busybox 2>/dev/null)
[ -x "$root/bin/busybox" ] || { ITEST_CHECKS=$((ITEST_CHECKS + 1)); fail "no bin/busybox in $GUEST_INITRD"; finish; }
for a in sh cat echo ls mkdir rm sync sha256sum dd; do ln -s busybox "$root/bin/$a"; done
echo "golden root" >"$root/etc/motd"
img=$SCRATCH/root.img
make_image "$img" 32
"$E2/mke2fs" -q -t ext4 -F -d "$root" -E lazy_itable_init=0,lazy_journal_init=0 "$img" ||
	{ ITEST_CHECKS=$((ITEST_CHECKS + 1)); fail "mke2fs -d"; finish; }
sum=$(md5sum <"$img" | cut -d' ' -f1)

boot_guest --snapshot --drive "file=$img,id=root" --stats "$SCRATCH/stats.json" -- \
	'modprobe ext4; mkdir -p /r && mount /dev/vda /r && mount -t devtmpfs dev /r/dev && chroot /r /bin/sh -c "
echo changed >/etc/motd && mkdir -p /var/job && dd if=/dev/urandom of=/var/job/out bs=64k count=32 2>/dev/null &&
rm /bin/dd && sync && cat /etc/motd && ls /var/job" && umount /r/dev && umount /r && mount -o ro /dev/vda /r &&
echo guest-motd=$(cat /r/etc/motd) && echo guest-dd=$(ls /r/bin/dd 2>/dev/null | wc -l) && umount /r'
expect_status 0
expect_output '^guest-motd=changed$'
expect_output '^guest-dd=0$'
expect_sum "$img" "$sum"
"$E2/e2fsck" -fn "$img" >"$SCRATCH/fsck" 2>&1
st=$?
expect_true "e2fsck -fn finds the image clean (status $st)" [ "$st" -eq 0 ]
expect_snapshot_stats "$SCRATCH/stats.json" root
expect_no_files "$SNAP_TMP"
finish

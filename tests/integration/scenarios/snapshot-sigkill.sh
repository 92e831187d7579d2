#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: a vmm killed with SIGKILL while its guest writes to a snapshot drive leaves no file in
# TMPDIR (the overlay never had a name there), its space comes back, and the base is unchanged.
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

snapshot_tmpdir
base=$SCRATCH/base.img
make_image "$base" 64
sum=$(md5sum <"$base" | cut -d' ' -f1)
sync
free_kib() { df -k "$SNAP_TMP" | awk 'NR == 2 { print $4 }'; }
free0=$(free_kib)
echo "+ vmm (in the background, then SIGKILL)"
"$VMM" --kernel "$GUEST_VMLINUX" --initrd "$GUEST_INITRD" --memory "$GUEST_MEMORY" --timeout 300 \
	--drive "file=$base,snapshot=on,id=s" \
	--cmdline "$GUEST_CMDLINE_BASE -- echo guest-writing; while :; do dd if=/dev/urandom of=/dev/vda bs=1M count=48 2>/dev/null; done" \
	>"$OUT.raw" 2>"$ERR" </dev/null &
pid=$!
i=0
while [ $i -lt 120 ] && ! grep -q guest-writing "$OUT.raw" 2>/dev/null; do
	sleep 1
	i=$((i + 1))
done
sleep 5
# While it runs, the overlay is an open file in TMPDIR with no name: "(deleted)" or O_TMPFILE's "#inode".
open=$(ls -l "/proc/$pid/fd" 2>/dev/null | grep -c "$SNAP_TMP")
expect_true "vmm holds its overlay open in TMPDIR ($open fds)" [ "$open" -ge 1 ]
expect_no_files "$SNAP_TMP"
sync
free1=$(free_kib)
expect_true "the overlay holds space meanwhile (free ${free0} KiB before, ${free1} KiB now)" [ "$free1" -lt $((free0 - 8192)) ]
kill -KILL "$pid"
wait "$pid"
STATUS=$?
tr -d '\r' <"$OUT.raw" >"$OUT"
sed 's/^/| /' "$OUT"
sed 's/^/! /' "$ERR"
expect_output '^guest-writing$'
expect_status 137 "128 + SIGKILL"
expect_no_files "$SNAP_TMP"
sync
free2=$(free_kib)
expect_true "its space is back (free ${free0} KiB before, ${free2} KiB after)" [ "$free2" -ge $((free0 - 1024)) ]
expect_sum "$base" "$sum"
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: SIGTERM to a running vmm stops the guest with status 143, and what the guest wrote and
# flushed before the signal is in the image.
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

img=$SCRATCH/t.img
make_image "$img" 8
pattern_file term "$SCRATCH/p"
echo "+ vmm (in the background, then SIGTERM)"
"$VMM" --kernel "$GUEST_VMLINUX" --initrd "$GUEST_INITRD" --memory "$GUEST_MEMORY" --timeout 300 \
	--drive "file=$img,cache=writeback,id=t" --stats "$SCRATCH/stats.json" \
	--cmdline "$GUEST_CMDLINE_BASE -- $(guest_pattern term); dd if=/tmp/p of=/dev/vda bs=64k conv=fsync 2>/dev/null && echo guest-written; sleep 600" \
	>"$OUT.raw" 2>"$ERR" &
pid=$!
i=0
while [ $i -lt 120 ] && ! grep -q guest-written "$OUT.raw" 2>/dev/null; do
	sleep 1
	i=$((i + 1))
done
kill -TERM "$pid"
wait "$pid"
STATUS=$?
tr -d '\r' <"$OUT.raw" >"$OUT"
sed 's/^/| /' "$OUT"
sed 's/^/! /' "$ERR"
expect_output '^guest-written$'
expect_status 143 "128 + SIGTERM"
expect_image_region "$img" 0 "$SCRATCH/p"
ITEST_CHECKS=$((ITEST_CHECKS + 1))
grep -q '"exit": "signal"' "$SCRATCH/stats.json" && ok "stats say the VM stopped on a signal" || fail "stats lack \"exit\": \"signal\""
finish

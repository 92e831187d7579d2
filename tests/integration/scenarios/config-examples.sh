#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: every INI file in config/ boots as shipped (the test guest and demo images placed where
# the files expect them, relative to the file) and its job reports success.
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

: "${CONFIG_DIR:?CONFIG_DIR is not set}"
# The layout the shipped files name: ../build/guest/* and ../build/demo/*.img next to config/.
root=$SCRATCH/tree
mkdir -p "$root/config" "$root/build/guest" "$root/build/demo"
cp "$CONFIG_DIR"/*.ini "$root/config/"
ln -s "$GUEST_VMLINUX" "$root/build/guest/vmlinux"
ln -s "$GUEST_BZIMAGE" "$root/build/guest/vmlinuz"
ln -s "$GUEST_INITRD" "$root/build/guest/initrd.img"
for img in base scratch data; do
	make_image "$root/build/demo/$img.img" 64
done

# name, the line its guest job prints on success
for c in "minimal:hello from the guest" "ci-runner:ci job done" "durable:written"; do
	name=${c%%:*}
	want=${c#*:}
	echo "== config/$name.ini"
	run_vmm --config "$root/config/$name.ini" --timeout "$GUEST_TIMEOUT" --stats "$SCRATCH/$name.json"
	expect_status 0 "config/$name.ini"
	expect_output '^vmm-guest: init ok$'
	expect_output "^$want\$"
done
# The durable example's record is in its image, and it was written durably.
ITEST_CHECKS=$((ITEST_CHECKS + 1))
if head -c 14 "$root/build/demo/data.img" | grep -q '^durable record'; then ok "data.img holds the record"; else fail "data.img lacks the record"; fi
expect_stat "$SCRATCH/durable.json" data durable_writes -gt 0
# The CI runner's scratch disk got a file system, with no flush reaching the host.
expect_stat "$SCRATCH/ci-runner.json" scratch host_flushes -eq 0
expect_stat "$SCRATCH/ci-runner.json" base writes -eq 0
finish

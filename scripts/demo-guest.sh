#!/bin/sh
# SPDX-License-Identifier: MIT
# The demo itself, run by tests/integration/run.py on hardware KVM or inside the emulated test host:
# boot config/ci-runner.ini as shipped and show what came back.
set -u
: "${VMM:?run this through scripts/demo.sh}"

# The layout config/ci-runner.ini names, relative to itself: ../build/guest and ../build/demo.
root=$SCRATCH/demo
mkdir -p "$root/config" "$root/build/guest" "$root/build/demo"
cp "$CONFIG_DIR/ci-runner.ini" "$root/config/"
ln -sf "$GUEST_VMLINUX" "$root/build/guest/vmlinux"
ln -sf "$GUEST_INITRD" "$root/build/guest/initrd.img"
for img in base scratch; do
	dd if=/dev/zero of="$root/build/demo/$img.img" bs=1M count=64 2>/dev/null
done

echo "demo: vmm --config config/ci-runner.ini --stats stats.json"
"$VMM" --config "$root/config/ci-runner.ini" --stats "$root/stats.json"
status=$?
echo "demo: vmm exited with status $status (the guest job's own status)"
echo "demo: --stats:"
cat "$root/stats.json"
exit $status

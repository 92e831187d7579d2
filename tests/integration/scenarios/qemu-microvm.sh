#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: the harness itself: the test guest boots under QEMU microvm with KVM here (skipped without QEMU).
# timeout: 180
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

# Proves nested KVM and the guest image end to end without vmm, so a failing
# vmm scenario can be told apart from a broken harness. isa-debug-exit turns
# the guest's port 0x501 byte B into QEMU exit status (B << 1) | 1.
[ -n "${QEMU:-}" ] || skip "no QEMU in this environment (runner --with-qemu)"
[ -c /dev/kvm ] || skip "no /dev/kvm"
echo "+ qemu microvm"
t0=$(now_s)
"$QEMU" -M microvm,acpi=on -accel kvm -cpu host -m 256M -smp 1 -nodefaults -no-user-config \
	-display none -serial stdio -no-reboot \
	-device isa-debug-exit,iobase=0x501,iosize=1 \
	-kernel "$GUEST_VMLINUX" -initrd "$GUEST_INITRD" \
	-append "console=ttyS0 quiet reboot=k panic=-1 -- echo qemu-guest-ok; exit 5" >"$OUT.raw" 2>"$ERR"
STATUS=$?
ELAPSED=$(($(now_s) - t0))
tr -d '\r' <"$OUT.raw" >"$OUT"
echo "+ qemu exit status $STATUS after ${ELAPSED}s"
sed 's/^/| /' "$OUT"
sed 's/^/! /' "$ERR"
expect_output '^vmm-guest: init ok$'
expect_output '^qemu-guest-ok$'
expect_status 11 "exit 5 through isa-debug-exit"
finish

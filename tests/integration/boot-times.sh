#!/bin/sh
# SPDX-License-Identifier: MIT
# Measures guest boot-to-exit times (vmlinux and bzImage) under vmm and, where present, QEMU microvm.
#
# Run it through the runner, so it sees the same images and environment as the
# scenarios:  tests/integration/run.py --build-dir B --script tests/integration/boot-times.sh
# Prints one line per boot:
#   boot-times: runner=vmm|qemu kernel=vmlinux|bzImage run=N seconds=S status=N ok|bad
# Each boot runs `exit 5` in the guest; "ok" means the status came back (5 from
# vmm, 11 from QEMU's isa-debug-exit). RUNS (default 3) boots per combination.
# timeout: 600
RUNS=${RUNS:-3}
now_cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 100 }'; }
CMDLINE="console=ttyS0 quiet"

one() { # runner kernel-label kernel-path run
	t0=$(now_cs)
	if [ "$1" = vmm ]; then
		"$VMM" --kernel "$3" --initrd "$GUEST_INITRD" --memory 256M --timeout 120 \
			--cmdline "$CMDLINE -- exit 5" >"$SCRATCH/out" 2>&1
		st=$?
		want=5
	else
		"$QEMU" -M microvm,acpi=on -accel kvm -cpu host -m 256M -smp 1 -nodefaults -no-user-config \
			-display none -serial stdio -no-reboot -device isa-debug-exit,iobase=0x501,iosize=1 \
			-kernel "$3" -initrd "$GUEST_INITRD" \
			-append "$CMDLINE reboot=k panic=-1 -- exit 5" >"$SCRATCH/out" 2>&1
		st=$?
		want=11
	fi
	t1=$(now_cs)
	v=bad
	[ "$st" = "$want" ] && grep -q 'vmm-guest: init ok' "$SCRATCH/out" && v=ok
	echo "boot-times: runner=$1 kernel=$2 run=$4 seconds=$(secs "$t0" "$t1") status=$st $v"
	[ "$v" = ok ] || tail -n 5 "$SCRATCH/out"
}

runners=vmm
[ -n "${QEMU:-}" ] && runners="qemu vmm"
for r in $runners; do
	for k in vmlinux bzImage; do
		path=$GUEST_VMLINUX
		[ "$k" = bzImage ] && path=$GUEST_BZIMAGE
		i=1
		while [ "$i" -le "$RUNS" ]; do
			one "$r" "$k" "$path" "$i"
			i=$((i + 1))
		done
	done
done

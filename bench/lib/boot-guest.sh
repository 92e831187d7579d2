#!/bin/sh
# SPDX-License-Identifier: MIT
# Inner part of bench/boot.sh: runs in the test host, boots the guest under vmm and QEMU (microvm; arm64: virt) in turn.
#
# Run through tests/integration/run.py --script (bench/boot.sh does that);
# self-contained because only this file reaches the test host.
# Env: VMM, QEMU, GUEST_VMLINUX, GUEST_BZIMAGE, GUEST_INITRD, SCRATCH, ITEST_ARCH (runner; the arm64
#      test host sets ITEST_ARCH=arm64, and its GUEST_VMLINUX and GUEST_BZIMAGE are the Image and Image.gz);
#      ROUNDS (default 5), KERNELS (default "vmlinux bzImage"; arm64: "Image Imagegz");
#      SANDBOX_AB=1: the two runners are vmm --sandbox on ("on") and vmm --sandbox off ("off"), no QEMU.
# Each round boots every kernel under both runners; the runner that goes
# first alternates from round to round, so neither always follows the other.
# Per boot it prints
#   bench-boot: runner=R kernel=K round=N marker_s=S exit_s=S vmm_boot_ms=MS status=N ok|bad
# marker_s: exec to the guest's "vmm-guest: init ok" console line reaching us;
# exit_s: exec to the process's exit; vmm_boot_ms: vmm's own --stats boot_ms
# (its main() to the guest's port 0x502 write; arm64: the exit device's boot marker), "-" for QEMU.
# R is vmm or qemu, or on and off with SANDBOX_AB=1.
# Clock: /proc/uptime (10 ms steps), read by the shell's `read` and by awk
# without forking anything between the clock read and the exec.
# timeout: 1500
ROUNDS=${ROUNDS:-5}
GUEST_CMD="exit 5"
if [ "${ITEST_ARCH:-x86_64}" = arm64 ]; then
	KERNELS=${KERNELS:-Image Imagegz}
	# vmm takes the console from the device tree's stdout-path and appends "panic=-1"; QEMU's virt
	# machine names its PL011 in stdout-path too, and gets the same words.
	BASE="quiet"
	VMM_PARAMS="panic=-1"
else
	KERNELS=${KERNELS:-vmlinux bzImage}
	# vmm appends "reboot=k panic=-1 pci=off" to the kernel's part of its
	# command line; QEMU gets the same words written out.
	BASE="console=ttyS0 quiet"
	VMM_PARAMS="reboot=k panic=-1 pci=off"
fi

RUNNERS="vmm qemu"
[ "${SANDBOX_AB:-0}" = 1 ] && RUNNERS="on off"
if [ "$RUNNERS" = "vmm qemu" ] && [ -z "${QEMU:-}" ]; then
	echo "bench-boot: no QEMU in this test host (run.py --with-qemu)"
	exit 77
fi
[ -c /dev/kvm ] || { echo "bench-boot: no /dev/kvm"; exit 77; }

# Warm the page cache, so the first boot does not pay the disk reads alone.
cat "$VMM" "$GUEST_VMLINUX" "$GUEST_BZIMAGE" "$GUEST_INITRD" >/dev/null
if [ -n "${QEMU:-}" ]; then
	cat "$QEMU" >/dev/null
	[ -d /t/qemu ] && cat /t/qemu/* >/dev/null
	"$QEMU" --version >/dev/null 2>&1
	ls /usr/share/qemu/bios-microvm.bin /usr/share/seabios/bios-microvm.bin 2>/dev/null |
		while read -r f; do cat "$f" >/dev/null; done
fi

# stamp T0: read stdin (the guest console), copy it to $SCRATCH/out, and print
# the seconds from T0 to the marker line (or "-" if it never came).
stamp() {
	awk -v t0="$1" -v out="$SCRATCH/out" '
		!m && /vmm-guest: init ok/ {
			getline u < "/proc/uptime"; close("/proc/uptime")
			split(u, a, " "); m = sprintf("%.2f", a[1] - t0)
		}
		{ print > out }
		END { print (m == "" ? "-" : m) }'
}

one() { # runner kernel-label kernel-path round
	rm -f "$SCRATCH/st" "$SCRATCH/stats.json" "$SCRATCH/out"
	read -r t0 _ </proc/uptime
	if [ "$1" != qemu ]; then
		# vmm: its default sandbox, or --sandbox on|off as the runner says (SANDBOX_AB).
		sb=
		[ "$1" != vmm ] && sb="--sandbox $1"
		# shellcheck disable=SC2086 # sb is empty or two words
		m=$({
			"$VMM" --kernel "$3" --initrd "$GUEST_INITRD" --memory 256M --cpus 1 --timeout 120 $sb \
				--stats "$SCRATCH/stats.json" --cmdline "$BASE -- $GUEST_CMD" 2>"$SCRATCH/err"
			echo $? >"$SCRATCH/st"
		} | stamp "$t0")
		want=5
	elif [ "${ITEST_ARCH:-x86_64}" = arm64 ]; then
		# The guest's /init finds no exit device here and powers off through PSCI: status 0.
		m=$({
			"$QEMU" -M virt,gic-version=3 -accel kvm -cpu host -m 256M -smp 1 -nodefaults -no-user-config \
				-display none -serial stdio -no-reboot \
				-kernel "$3" -initrd "$GUEST_INITRD" \
				-append "$BASE $VMM_PARAMS -- $GUEST_CMD" 2>"$SCRATCH/err"
			echo $? >"$SCRATCH/st"
		} | stamp "$t0")
		want=0
	else
		m=$({
			"$QEMU" -M microvm,acpi=on -accel kvm -cpu host -m 256M -smp 1 -nodefaults -no-user-config \
				-display none -serial stdio -no-reboot -device isa-debug-exit,iobase=0x501,iosize=1 \
				-kernel "$3" -initrd "$GUEST_INITRD" \
				-append "$BASE $VMM_PARAMS -- $GUEST_CMD" 2>"$SCRATCH/err"
			echo $? >"$SCRATCH/st"
		} | stamp "$t0")
		# isa-debug-exit: status (5 << 1) | 1.
		want=11
	fi
	read -r t1 _ </proc/uptime
	st=$(cat "$SCRATCH/st" 2>/dev/null)
	bm=-
	[ "$1" != qemu ] && bm=$(sed -n 's/.*"boot_ms": \([0-9.]*\).*/\1/p' "$SCRATCH/stats.json" 2>/dev/null)
	v=bad
	[ "$st" = "$want" ] && [ "$m" != - ] && v=ok
	echo "bench-boot: runner=$1 kernel=$2 round=$4 marker_s=$m" \
		"exit_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') vmm_boot_ms=${bm:--}" \
		"status=$st $v"
	if [ "$v" = bad ]; then
		tr -d '\r' <"$SCRATCH/out" | tail -n 5 | sed 's/^/| /'
		tail -n 5 "$SCRATCH/err" | sed 's/^/! /'
	fi
}

echo "bench-boot: rounds=$ROUNDS kernels=$KERNELS runners=$RUNNERS cmdline='$BASE $VMM_PARAMS -- $GUEST_CMD'"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	order=$RUNNERS
	# shellcheck disable=SC2086 # two words, reversed
	[ $((r % 2)) = 0 ] && order=$(printf '%s %s' $RUNNERS | awk '{ print $2, $1 }')
	for k in $KERNELS; do
		path=$GUEST_VMLINUX
		case $k in bzImage | Imagegz) path=$GUEST_BZIMAGE ;; esac
		for runner in $order; do
			one "$runner" "$k" "$path" "$r"
		done
	done
	r=$((r + 1))
done
exit 0

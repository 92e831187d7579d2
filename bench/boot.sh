#!/bin/sh
# SPDX-License-Identifier: MIT
# Boot time to the guest's init marker, vmm vs QEMU -M microvm, alternating in one boot of the emulated test host.
#
# usage: bench/boot.sh [BUILD_DIR]        (default: build)
#   env: ROUNDS (default 5), KERNELS (default "vmlinux bzImage"; arm64: "Image Imagegz");
#        BENCH_NO_WAIT=1 to start even while another qemu-system-x86_64 runs;
#        SANDBOX_AB=1: instead of QEMU, vmm --sandbox on against vmm --sandbox off (the same kernel,
#        initrd and command line, alternating), and the ratio on/off (target: <= 1.03);
#        ARCH=arm64 (bench/boot-arm64.sh): vmm vs QEMU -M virt in the emulated arm64 test host, with
#        the static arm64 vmm run.py cross-builds and Debian's arm64 QEMU (target: < 1.0).
#
# Builds vmm in BUILD_DIR, then runs bench/lib/boot-guest.sh in the test host
# through tests/integration/run.py --script --with-qemu. Both runners boot the
# same Debian kernel and test initrd, 256 MiB, 1 vCPU, with the same kernel
# command line; the measure is exec to the "vmm-guest: init ok" console line
# (exec to process exit is shown as well). Prints the medians and the ratio
# vmm/QEMU per kernel (target: <= 0.6). Absolute times in the emulated test
# host are slow and noisy; the ratio is the figure.
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/bench/lib/common.sh"

B=${1:-build}
case $B in /*) ;; *) B=$REPO/$B ;; esac
ROUNDS=${ROUNDS:-5}
ARCH=${ARCH:-x86_64}
if [ "$ARCH" = arm64 ]; then
	KERNELS=${KERNELS:-Image Imagegz}
	TARGET="< 1.0"
	LOG=$B/bench-boot-arm64.log
	mkdir -p "$B"
else
	KERNELS=${KERNELS:-vmlinux bzImage}
	TARGET="<= 0.6"
	LOG=$B/bench-boot.log
	bench_build "$B" src/vmm/vmm
fi

# The two runners compared, the ratio's name, its target, and whether the test host needs QEMU.
RUNNERS="vmm qemu" WHAT=vmm/QEMU QEMU_OPT=--with-qemu
if [ "${SANDBOX_AB:-0}" = 1 ]; then
	RUNNERS="on off" WHAT="sandbox on/off" TARGET="<= 1.03" QEMU_OPT=
	LOG=${LOG%.log}-sandbox.log
	export VMM_ITEST_WITH_QEMU=0
fi

bench_wait_quiet
echo "boot ($ARCH): $ROUNDS rounds, kernels: $KERNELS, runners: $RUNNERS; full log in $LOG"
st=0
# shellcheck disable=SC2086 # QEMU_OPT is empty or one word
python3 "$REPO/tests/integration/run.py" --build-dir "$B" --arch "$ARCH" $QEMU_OPT \
	--script "$REPO/bench/lib/boot-guest.sh" --env "ROUNDS=$ROUNDS" --env "KERNELS=$KERNELS" \
	--env "SANDBOX_AB=${SANDBOX_AB:-0}" >"$LOG" 2>&1 || st=$?
grep '^bench-boot: ' "$LOG" || true
if [ "$st" != 0 ]; then
	tail -n 30 "$LOG"
	bench_die "the test-host run failed (status $st); see $LOG"
fi

# Only good boots count: right exit status and the marker seen.
SUM=$(sed -n 's/^bench-boot: runner=\([a-z]*\) kernel=\([A-Za-z]*\) round=[0-9]* marker_s=\([0-9.]*\) exit_s=\([0-9.]*\) vmm_boot_ms=\([0-9.-]*\) status=[0-9]* ok$/\1.\2.marker \3\
\1.\2.exit \4\
\1.\2.bootms \5/p' "$LOG" | grep -v ' -$' | bench_summary)
bad=$(grep -c '^bench-boot: runner=.* bad$' "$LOG" || true)

echo
echo "boot: medians in seconds (n = good boots; $bad bad boot(s) left out)"
printf '%-8s %-5s %3s %10s %10s %14s\n' kernel runner n to-marker to-exit vmm-boot_ms
for k in $KERNELS; do
	for r in $RUNNERS; do
		n=$(printf '%s\n' "$SUM" | awk -v key="$r.$k.marker" '$1 == key { print $2 }')
		printf '%-8s %-5s %3s %10s %10s %14s\n' "$k" "$r" "${n:-0}" \
			"$(bench_fmt %.2f "$(bench_median "$r.$k.marker" "$SUM")")" \
			"$(bench_fmt %.2f "$(bench_median "$r.$k.exit" "$SUM")")" \
			"$(bench_fmt %.1f "$(bench_median "$r.$k.bootms" "$SUM")")"
	done
done
echo
# shellcheck disable=SC2086 # two words
set -- $RUNNERS
for k in $KERNELS; do
	rm_=$(bench_ratio "$(bench_median "$1.$k.marker" "$SUM")" "$(bench_median "$2.$k.marker" "$SUM")")
	re=$(bench_ratio "$(bench_median "$1.$k.exit" "$SUM")" "$(bench_median "$2.$k.exit" "$SUM")")
	echo "boot: $k $WHAT to marker = $rm_ (target $TARGET); to exit = $re"
done

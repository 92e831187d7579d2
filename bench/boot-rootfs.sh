#!/bin/sh
# SPDX-License-Identifier: MIT
# Boot to a CI job's end on the project's Debian rootfs (systemd): vmm vs QEMU -M microvm,acpi=on, alternating in the test host.
#
# usage: bench/boot-rootfs.sh [BUILD_DIR]        (default: build)
#   env: ROUNDS (default 3); ANALYZE=1 boots once under vmm and prints where
#        the time goes (systemd-analyze, printk times) instead of racing;
#        BENCH_NO_WAIT=1 to start even while another qemu-system-x86_64 runs.
#
# Builds vmm and the rootfs (scripts/make-rootfs.sh, cached in BUILD_DIR/rootfs),
# then runs bench/lib/boot-rootfs-guest.sh in the emulated test host through
# tests/integration/run.py --script --with-qemu. Both runners boot Debian's own
# vmlinuz and initrd.img with root on a cache=unsafe virtio-blk copy of the
# image, 512 MiB, 1 vCPU; the job is one echo, whose status goes out through
# port 0x501. Prints the medians and the ratio vmm/QEMU from exec to the job's
# console line and to the process's exit (the job's end and power-off).
# Target: <= 0.80 to exit.
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/bench/lib/common.sh"

B=${1:-build}
case $B in /*) ;; *) B=$REPO/$B ;; esac
ROUNDS=${ROUNDS:-3}
bench_build "$B" src/vmm/vmm
bench_wait_quiet
LOG=$B/bench-boot-rootfs.log
st=0
python3 "$REPO/tests/integration/run.py" --build-dir "$B" --with-qemu \
	--script "$REPO/bench/lib/boot-rootfs-guest.sh" --env "ROUNDS=$ROUNDS" --env "ANALYZE=${ANALYZE:-0}" \
	>"$LOG" 2>&1 || st=$?
if [ "${ANALYZE:-0}" = 1 ]; then
	sed -n 's/^bench-rootfs-analyze: //p' "$LOG"
	[ "$st" = 0 ] || bench_die "the test-host run failed (status $st); see $LOG"
	exit 0
fi
grep '^bench-rootfs: ' "$LOG" || true
if [ "$st" != 0 ]; then
	tail -n 30 "$LOG"
	bench_die "the test-host run failed (status $st); see $LOG"
fi
SUM=$(sed -n 's/^bench-rootfs: runner=\([a-z]*\) round=[0-9]* job_s=\([0-9.]*\) exit_s=\([0-9.]*\) status=[0-9]* ok$/\1.job \2\
\1.exit \3/p' "$LOG" | bench_summary)
bad=$(grep -c '^bench-rootfs: runner=.* bad$' "$LOG" || true)
echo
echo "boot-rootfs: medians in seconds (n = good boots; $bad bad boot(s) left out)"
printf '%-6s %3s %10s %10s\n' runner n to-job to-exit
for r in vmm qemu vmmcold; do
	n=$(printf '%s\n' "$SUM" | awk -v key="$r.exit" '$1 == key { print $2 }')
	printf '%-6s %3s %10s %10s\n' "$r" "${n:-0}" \
		"$(bench_fmt %.2f "$(bench_median "$r.job" "$SUM")")" "$(bench_fmt %.2f "$(bench_median "$r.exit" "$SUM")")"
done
echo
echo "boot-rootfs: vmm/QEMU to the job = $(bench_ratio "$(bench_median vmm.job "$SUM")" "$(bench_median qemu.job "$SUM")");" \
	"to the job's end and power-off = $(bench_ratio "$(bench_median vmm.exit "$SUM")" "$(bench_median qemu.exit "$SUM")") (target <= 0.80)"

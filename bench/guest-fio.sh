#!/bin/sh
# SPDX-License-Identifier: MIT
# In-guest fio, vmm vs QEMU -M microvm on the same image and cache mode, alternating in one boot of the emulated test host.
#
# usage: bench/guest-fio.sh [BUILD_DIR]        (default: build)
#   env (passed to the test host): ROUNDS (3), MODES ("none writeback"),
#        JOBS ("randread randwrite"), IODEPTH (32), RUNTIME (10), RAMP (2),
#        IMAGE_MIB (256), QEMU_IOTHREAD (0), MEMORY (512M), VMM_POLLS ("": vmm as
#        configured by default; "64 0": one vmm runner per --drive poll= value);
#        BENCH_NO_WAIT=1 to start even
#        while another qemu-system-x86_64 runs.
#
# Builds vmm in BUILD_DIR, then runs bench/lib/fio-guest.sh in the test host
# through tests/integration/run.py --script --with-fio --with-qemu. Prints the
# median IOPS per runner, cache mode and job, and the ratio vmm/QEMU (target
# >= 1.0). Nested virtualization under TCG dominates the absolute numbers: the
# ratio is the figure, the IOPS are context.
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/bench/lib/common.sh"

B=${1:-build}
case $B in /*) ;; *) B=$REPO/$B ;; esac
MODES=${MODES:-none writeback}
JOBS=${JOBS:-randread randwrite}

bench_build "$B" src/vmm/vmm
bench_wait_quiet
LOG=$B/bench-guest-fio.log
set -- --env "MODES=$MODES" --env "JOBS=$JOBS"
for v in MEMORY ROUNDS IODEPTH RUNTIME RAMP IMAGE_MIB QEMU_IOTHREAD VMM_POLLS; do
	eval "val=\${$v:-}"
	[ -n "$val" ] && set -- "$@" --env "$v=$val"
done
echo "guest-fio: modes: $MODES; jobs: $JOBS; full log in $LOG"
st=0
python3 "$REPO/tests/integration/run.py" --build-dir "$B" --with-fio --with-qemu \
	--script "$REPO/bench/lib/fio-guest.sh" "$@" >"$LOG" 2>&1 || st=$?
grep '^bench-fio: ' "$LOG" || true
if [ "$st" != 0 ]; then
	tail -n 30 "$LOG"
	bench_die "the test-host run failed (status $st); see $LOG"
fi

SUM=$(sed -n 's/^bench-fio: runner=\([a-z0-9-]*\) mode=\([a-z]*\) job=\([a-z]*\) round=[0-9]* iops=\([0-9.]*\)$/\1.\2.\3 \4/p' "$LOG" |
	bench_summary)
# The vmm runners, as fio-guest.sh named them (vmm, or vmm-pollN per VMM_POLLS), in order of appearance.
VMMS=$(sed -n 's/^bench-fio: runner=\(vmm[a-z0-9-]*\) .*/\1/p' "$LOG" | awk '!seen[$0]++')
bad=$(grep -c '^bench-fio: boot .* bad$' "$LOG" || true)

echo
echo "guest-fio: median IOPS in the guest (4k, QD ${IODEPTH:-32}, io_uring, direct=1; $bad bad boot(s))"
printf '%-12s %-10s %-10s %3s %10s %3s %10s %12s\n' runner mode job n vmm n QEMU vmm/QEMU
for v in $VMMS; do
	for m in $MODES; do
		for j in $JOBS; do
			a=$(bench_median "$v.$m.$j" "$SUM")
			b=$(bench_median "qemu.$m.$j" "$SUM")
			na=$(printf '%s\n' "$SUM" | awk -v k="$v.$m.$j" '$1 == k { print $2 }')
			nb=$(printf '%s\n' "$SUM" | awk -v k="qemu.$m.$j" '$1 == k { print $2 }')
			printf '%-12s %-10s %-10s %3s %10s %3s %10s %12s\n' "$v" "$m" "$j" "${na:-0}" \
				"$(bench_fmt %.0f "$a")" "${nb:-0}" "$(bench_fmt %.0f "$b")" "$(bench_ratio "$a" "$b")"
		done
	done
done
echo "guest-fio: target vmm/QEMU >= 1.0 per job"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Device-model benchmark: vmm-devmodel (guest driver -> virtio-blk -> io_uring) against fio on the same file and jobs, alternating; prints medians and vmm/fio ratios.
#
# Absolute numbers on shared 2-core machines are noise; what means something is
# the ratio against fio run on the same file, moments apart, in the same run.
#
# Environment (all optional):
#   RUNTIME=5      measured seconds per run      RAMP=1      unmeasured warm-up seconds per run
#   ROUNDS=3       runs of each tool per job     CACHE=none  vmm cache mode (fio: direct=1 when O_DIRECT)
#   JOBS="randread randwrite seqread writeflush" IMAGE_MIB=1024
#   IMAGE_DIR=/var/tmp  where the scratch image is made (must be a real disk, not tmpfs)
#   IMAGE=path     use this existing image instead (kept; it is overwritten by the write jobs)
#   KEEP_IMAGE=1   keep the scratch image          BUILD=<repo>/build-bench
#   STRICT=1       exit 1 when a job's ratio is below the 0.9 target (default: report only)
#   SNAPSHOT=1     vmm's drive is snapshot=on (the image read-only, writes to an overlay in $TMPDIR);
#                  fio still runs on the image itself. bench/overlay.sh compares snapshot against plain.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
RUNTIME=${RUNTIME:-5}
RAMP=${RAMP:-1}
ROUNDS=${ROUNDS:-3}
CACHE=${CACHE:-none}
JOBS=${JOBS:-randread randwrite seqread writeflush}
IMAGE_MIB=${IMAGE_MIB:-1024}
IMAGE_DIR=${IMAGE_DIR:-/var/tmp}
BUILD=${BUILD:-$root/build-bench}
TARGET=90   # vmm/fio, percent

die() { echo "devmodel.sh: $*" >&2; exit 1; }

# ---- what this needs, said plainly ----
command -v fio >/dev/null || die "fio is not installed (apt-get install fio)"
command -v python3 >/dev/null || die "python3 is needed to read fio's JSON output"
if [ -r /proc/sys/kernel/io_uring_disabled ]; then
	d=$(cat /proc/sys/kernel/io_uring_disabled)
	if [ "$d" = 2 ] || { [ "$d" = 1 ] && [ "$(id -u)" -ne 0 ]; }; then
		die "io_uring is disabled for this user (kernel.io_uring_disabled=$d); both vmm and fio's io_uring engine need it"
	fi
fi
case "$CACHE" in
none | directsync) direct=1 ;;
writeback | writethrough | unsafe) direct=0 ;;
*) die "CACHE=$CACHE: not a cache mode (writeback none writethrough directsync unsafe)" ;;
esac

# ---- the driver ----
bin=$BUILD/bench/devmodel/vmm-devmodel
if [ ! -d "$BUILD" ]; then
	(cd "$root" && meson setup "$BUILD" >/dev/null) || die "meson setup $BUILD failed"
fi
ninja -C "$BUILD" bench/devmodel/vmm-devmodel >/dev/null || die "building vmm-devmodel failed (ninja -C $BUILD)"

# ---- the image: on the host disk, fully written once ----
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() { :; }
if [ -n "${IMAGE:-}" ]; then
	[ -f "$IMAGE" ] || die "IMAGE=$IMAGE does not exist"
	img=$IMAGE
else
	[ -d "$IMAGE_DIR" ] || die "IMAGE_DIR=$IMAGE_DIR is not a directory"
	fstype=$(stat -f -c %T "$IMAGE_DIR")
	case "$fstype" in
	tmpfs | ramfs) die "IMAGE_DIR=$IMAGE_DIR is $fstype: the image must live on a disk (set IMAGE_DIR)" ;;
	esac
	img=$(mktemp "$IMAGE_DIR/vmm-devmodel-XXXXXX.img")
	if [ "${KEEP_IMAGE:-0}" = 1 ]; then
		echo "devmodel.sh: keeping $img"
	else
		# shellcheck disable=SC2317  # called through the EXIT trap
		cleanup() { rm -f "$img"; }
	fi
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	echo "devmodel.sh: writing a ${IMAGE_MIB} MiB image at $img ($fstype)"
	# Written, not fallocated: reads of unwritten extents would not touch the disk.
	if ! dd if=/dev/zero of="$img" bs=1M count="$IMAGE_MIB" oflag=direct conv=fsync status=none 2>/dev/null; then
		dd if=/dev/zero of="$img" bs=1M count="$IMAGE_MIB" conv=fsync status=none || die "cannot write $img"
	fi
fi
if [ "$direct" = 1 ] && ! dd if="$img" of=/dev/null bs=4096 count=1 iflag=direct status=none 2>/dev/null; then
	die "the filesystem holding $img refuses O_DIRECT; use CACHE=writeback or another IMAGE_DIR"
fi

# ---- the jobs: the same block size, depth, file and time for both ----
# fio forced into the device model's lock-step pattern: the disk completes a
# batch together, so a virtio guest gets the whole batch in one interrupt and
# refills it in one go. Informational (docs/benchmarks.md): it separates what
# the device model costs from what that queueing pattern costs.
LOCKSTEP_ARGS="--iodepth_batch_submit=32 --iodepth_batch_complete_min=32"

job_args() {   # job -> "vmm-args|fio-args"
	local sync=()
	[ "$CACHE" = writethrough ] || [ "$CACHE" = directsync ] && sync=(--sync=dsync)
	case "$1" in
	randread) echo "--qd 32 --bs 4096|--rw=randread --bs=4k --iodepth=32" ;;
	randwrite) echo "--qd 32 --bs 4096|--rw=randwrite --bs=4k --iodepth=32 ${sync[*]}" ;;
	seqread) echo "--qd 4 --bs 1048576|--rw=read --bs=1M --iodepth=4" ;;
	writeflush)
		# cache=unsafe drops the flush on the host; so does the fio peer, to do the same host work.
		if [ "$CACHE" = unsafe ]; then
			echo "--qd 1 --bs 4096|--rw=randwrite --bs=4k --iodepth=1"
		else
			echo "--qd 1 --bs 4096|--rw=randwrite --bs=4k --iodepth=1 --fdatasync=1 ${sync[*]}"
		fi
		;;
	*) die "unknown job $1" ;;
	esac
}

kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

run_vmm() {   # job vmm-args -> "rate cpu_us_per_req"
	local out
	# shellcheck disable=SC2086
	out=$("$bin" --image "$img" --cache "$CACHE" --job "$1" $2 --runtime "$RUNTIME" --ramp "$RAMP" \
		${SNAPSHOT:+--snapshot}) ||
		die "vmm-devmodel $1 failed"
	case "$1" in
	seqread) echo "$(kv mbps "$out") $(kv cpu_us_per_req "$out")" ;;
	writeflush) echo "$(kv pairs_per_s "$out") $(kv cpu_us_per_req "$out")" ;;
	*) echo "$(kv iops "$out") $(kv cpu_us_per_req "$out")" ;;
	esac
}

run_fio() {   # job fio-args -> "rate cpu_us_per_req"
	# shellcheck disable=SC2086
	fio --name="$1" --filename="$img" --ioengine=io_uring --direct="$direct" $2 \
		--time_based --runtime="$RUNTIME" --ramp_time="$RAMP" --norandommap --randrepeat=0 \
		--output-format=json 2>/dev/null |
		python3 -c '
import json, sys
job = sys.argv[1]
j = json.load(sys.stdin)["jobs"][0]
d = j["read"] if j["read"]["io_bytes"] else j["write"]
secs = (d["runtime"] or 1) / 1000
# Requests as vmm counts them: a write+fdatasync pair is two (fio counts syncs in sync.lat_ns.N).
reqs = d["total_ios"] + j.get("sync", {}).get("lat_ns", {}).get("N", 0)
cpu_us = (j["usr_cpu"] + j["sys_cpu"]) / 100 * secs * 1e6 / max(reqs, 1)
rate = d["bw_bytes"] / 1e6 if job == "seqread" else d["iops"]
print("%.1f %.2f" % (rate, cpu_us))
' "$1" "$2" || die "fio $1 failed"
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

unit() { case "$1" in seqread) echo "MB/s" ;; writeflush) echo "pairs/s" ;; *) echo "IOPS" ;; esac; }

echo "devmodel.sh: cache=$CACHE runtime=${RUNTIME}s ramp=${RAMP}s rounds=$ROUNDS, vmm${SNAPSHOT:+ (snapshot=on)} and fio alternating"
declare -A summary
fail=0
for job in $JOBS; do
	IFS='|' read -r vargs fargs <<<"$(job_args "$job")"
	largs=   # the lock-step peer: the QD32 jobs only
	case $job in randread | randwrite) largs="$fargs $LOCKSTEP_ARGS" ;; esac
	vr=() vc=() fr=() fc=() lr=()
	for ((r = 1; r <= ROUNDS; r++)); do
		# Alternate which goes first, so neither always follows the other's writes.
		if ((r % 2)); then order="vmm fio${largs:+ fio-ls}"; else order="${largs:+fio-ls }fio vmm"; fi
		for who in $order; do
			case $who in
			vmm)
				read -r rate cpu <<<"$(run_vmm "$job" "$vargs")"
				vr+=("$rate") vc+=("$cpu")
				;;
			fio)
				read -r rate cpu <<<"$(run_fio "$job" "$fargs")"
				fr+=("$rate") fc+=("$cpu")
				;;
			fio-ls)
				read -r rate cpu <<<"$(run_fio "$job" "$largs")"
				lr+=("$rate")
				;;
			esac
			printf '  %-10s round %d %-6s %10.0f %-7s cpu %6.1f us/req\n' "$job" "$r" "$who" "$rate" "$(unit "$job")" "$cpu"
		done
	done
	vm=$(echo "${vr[*]}" | median) fm=$(echo "${fr[*]}" | median)
	vcm=$(echo "${vc[*]}" | median) fcm=$(echo "${fc[*]}" | median)
	ratio=$(awk -v a="$vm" -v b="$fm" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
	ok=$(awk -v r="$ratio" -v t="$TARGET" 'BEGIN {print ((r * 100 >= t) ? "ok" : "BELOW")}')
	[ "$ok" = ok ] || fail=1
	lsratio=-
	if [ -n "$largs" ]; then
		lm=$(echo "${lr[*]}" | median)
		lsratio=$(awk -v a="$vm" -v b="$lm" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
	fi
	summary[$job]=$(printf '%-10s %10.0f %10.0f %-7s %6s %-5s %8.1f %8.1f %9s' "$job" "$vm" "$fm" "$(unit "$job")" "$ratio" "$ok" "$vcm" "$fcm" "$lsratio")
done

echo
printf '%-10s %10s %10s %-7s %6s %-5s %8s %8s %9s\n' job "vmm med" "fio med" unit vmm/fio "" "vmm cpu" "fio cpu" "vmm/fio"
printf '%-10s %10s %10s %-7s %6s %-5s %8s %8s %9s\n' "" "" "" "" "" "" "us/req" "us/req" "lock-step"
for job in $JOBS; do echo "${summary[$job]}"; done
echo "target: vmm/fio >= 0.$TARGET (cpu us/req: whole process time over requests; vmm has two threads, fio one)"
echo "lock-step: against fio with $LOCKSTEP_ARGS, the pattern a virtio guest's queue falls into (informational)"
if [ "$fail" = 1 ] && [ "${STRICT:-0}" = 1 ]; then
	die "a ratio is below target (STRICT=1)"
fi
exit 0

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Snapshot drives: start cost with a 64 MiB base against a sparse 64 GiB base (vmm's setup_us), and the device-model jobs on a snapshot drive against the same base opened plain; prints medians and ratios.
#
# Both parts run in one go, alternating the two sides of each comparison so machine noise falls on both.
#
#   start cost   vmm --kernel exit42.elf --drive file=BASE,snapshot=on --stats: setup_us (exec to the first
#                KVM_RUN, which includes opening the base and making its overlay), for a 64 MiB base and a
#                sparse 64 GiB one, SETUP_RUNS runs each; also a plain drive on the 64 MiB base, for what
#                the snapshot itself adds. Target: 64G/64M the same within noise. Needs /dev/kvm (kvm_pvm
#                is enough: the guest is a few instructions).
#   device model vmm-devmodel (guest driver -> virtio-blk -> backend) on a snapshot drive and on the same
#                image opened plain, 4 KiB QD32:
#                  randread-unwritten  random reads of a fresh snapshot: every cluster comes from the base
#                  randwrite           random writes (the snapshot's overlay starts empty each run)
#                  randread-written    random reads after --prefill wrote the whole image through the
#                                      device: every cluster comes from the overlay
#                Target: snapshot/plain >= 0.9 for each.
#                With COLD=1 (the default) each run starts with the image synced and dropped from the host
#                page cache (sync FILE; dd iflag=nocache count=0), as the snapshot's overlay always starts
#                (a new, empty file): else the plain side of randwrite overwrites pages its own earlier
#                rounds left cached, and the writeback of those rounds' dirty pages lands in whichever
#                run comes next. COLD=0: the image's cache as the runs before left it.
#
# Environment (all optional):
#   RUNTIME=5 RAMP=1 ROUNDS=3  per device-model run       CACHE=none   the drives' cache mode
#   IMAGE_MIB=1024             the device-model image     IMAGE_DIR=/var/tmp  where images are made (a disk)
#   SETUP_RUNS=20              start-cost runs per base   TMPDIR       where overlays go (default /var/tmp)
#   PARTS="start devmodel"     JOBS="randread-unwritten randwrite randread-written"
#   BUILD=<repo>/build-bench   COLD=1       sync and drop the image's cached pages before each run
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
REPO=$root
# shellcheck source=lib/common.sh
. "$root/bench/lib/common.sh"
RUNTIME=${RUNTIME:-5}
RAMP=${RAMP:-1}
ROUNDS=${ROUNDS:-3}
CACHE=${CACHE:-none}
IMAGE_MIB=${IMAGE_MIB:-1024}
IMAGE_DIR=${IMAGE_DIR:-/var/tmp}
SETUP_RUNS=${SETUP_RUNS:-20}
PARTS=${PARTS:-start devmodel}
JOBS=${JOBS:-randread-unwritten randwrite randread-written}
BUILD=${BUILD:-$root/build-bench}
COLD=${COLD:-1}
export TMPDIR=${TMPDIR:-/var/tmp}
TARGET=0.9

[ -d "$IMAGE_DIR" ] || bench_die "IMAGE_DIR=$IMAGE_DIR is not a directory"
[ -d "$TMPDIR" ] && [ -w "$TMPDIR" ] || bench_die "TMPDIR=$TMPDIR is not a writable directory (overlays go there)"
case "$(stat -f -c %T "$IMAGE_DIR")" in
tmpfs | ramfs) bench_die "IMAGE_DIR=$IMAGE_DIR is in memory: the images must live on a disk" ;;
esac
bench_build "$BUILD" src/vmm/vmm tests/boot-smoke/exit42.elf bench/devmodel/vmm-devmodel
vmm=$BUILD/src/vmm/vmm
dm=$BUILD/bench/devmodel/vmm-devmodel
bench_wait_quiet

W=$(mktemp -d "$IMAGE_DIR/vmm-bench-overlay.XXXXXX")
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
echo "overlay: cache=$CACHE, images in $IMAGE_DIR ($(stat -f -c %T "$IMAGE_DIR")), overlays in $TMPDIR ($(stat -f -c %T "$TMPDIR")); $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- start cost ----
start_cost() {
	local raw=$W/setup.raw base st us i kind
	[ -e /dev/kvm ] || { echo "start cost: no /dev/kvm, not measured"; return 0; }
	dd if=/dev/zero of="$W/base64m.img" bs=1M count=64 status=none
	truncate -s 64G "$W/base64g.img"
	: >"$raw"
	for ((i = 1; i <= SETUP_RUNS; i++)); do
		for kind in snap64m snap64g plain64m; do
			case $kind in
			snap64m) base="file=$W/base64m.img,snapshot=on,cache=$CACHE" ;;
			snap64g) base="file=$W/base64g.img,snapshot=on,cache=$CACHE" ;;
			plain64m) base="file=$W/base64m.img,readonly=on,cache=$CACHE" ;;
			esac
			rm -f "$W/s.json"
			st=0
			"$vmm" --kernel "$BUILD/tests/boot-smoke/exit42.elf" --serial none --drive "$base" \
				--stats "$W/s.json" >/dev/null 2>"$W/err" </dev/null || st=$?
			[ "$st" = 42 ] || bench_die "start cost: vmm exited $st on $kind: $(head -n 2 "$W/err")"
			us=$(sed -n 's/.*"setup_us": \([0-9.]*\).*/\1/p' "$W/s.json")
			echo "$kind $us" >>"$raw"
		done
	done
	local sum m64 m64g mplain
	sum=$(bench_summary <"$raw")
	echo
	echo "start cost: setup_us (exec to the first KVM_RUN), $SETUP_RUNS runs each, interleaved"
	printf '  %-32s %4s %9s %9s %9s %9s\n' drive n min median p90 max
	for kind in plain64m snap64m snap64g; do
		printf '%s\n' "$sum" | awk -v k="$kind" '$1 == k { printf "  %-32s %4d %9.1f %9.1f %9.1f %9.1f\n", k == "plain64m" ? "64 MiB base, readonly=on" : k == "snap64m" ? "64 MiB base, snapshot=on" : "sparse 64 GiB base, snapshot=on", $2, $3, $4, $5, $6 }'
	done
	m64=$(bench_median snap64m "$sum")
	m64g=$(bench_median snap64g "$sum")
	mplain=$(bench_median plain64m "$sum")
	echo "  ratio 64 GiB / 64 MiB (snapshot): $(bench_ratio "$m64g" "$m64")   (target: 1, within noise)"
	echo "  the snapshot's own cost (median snapshot - readonly, 64 MiB): $(awk -v a="$m64" -v b="$mplain" 'BEGIN { printf "%.1f us", a - b }')"
}

# ---- device model ----
devmodel() {
	local img=$W/dm.img job vargs side r rate
	echo
	echo "device model: writing a ${IMAGE_MIB} MiB image (written, not sparse: reads hit real blocks)"
	if ! dd if=/dev/zero of="$img" bs=1M count="$IMAGE_MIB" oflag=direct conv=fsync status=none 2>/dev/null; then
		dd if=/dev/zero of="$img" bs=1M count="$IMAGE_MIB" conv=fsync status=none || bench_die "cannot write $img"
	fi
	declare -A med
	for job in $JOBS; do
		case $job in
		randread-unwritten) vargs="--job randread" ;;
		randwrite) vargs="--job randwrite" ;;
		randread-written) vargs="--job randread --prefill" ;;
		*) bench_die "unknown job $job (randread-unwritten randwrite randread-written)" ;;
		esac
		local plain=() snap=()
		for ((r = 1; r <= ROUNDS; r++)); do
			# Alternate which side goes first, so neither always follows the other's writes.
			for side in $( ((r % 2)) && echo "plain snapshot" || echo "snapshot plain"); do
				local extra=()
				[ "$side" = snapshot ] && extra=(--snapshot)
				if [ "$COLD" = 1 ]; then
					sync "$img" && dd if="$img" iflag=nocache count=0 status=none ||
						bench_die "cannot drop $img from the page cache"
				fi
				# shellcheck disable=SC2086
				out=$("$dm" --image "$img" --cache "$CACHE" $vargs --qd 32 --bs 4096 --runtime "$RUNTIME" \
					--ramp "$RAMP" "${extra[@]}") || bench_die "vmm-devmodel $job ($side) failed"
				rate=$(sed -n 's/.* iops=\([^ ]*\).*/\1/p' <<<" $out")
				grep -q ' dev_errors=0 ' <<<" $out " || bench_die "$job ($side): the device returned errors: $out"
				printf '  %-19s round %d %-8s %8.0f IOPS%s\n' "$job" "$r" "$side" "$rate" \
					"$(sed -n 's/.*\(overlay_bytes=[0-9]*\).*\(copy_ups=[0-9]*\).*/  \1 \2/p' <<<"$out")"
				if [ "$side" = plain ]; then plain+=("$rate"); else snap+=("$rate"); fi
			done
		done
		med[$job]="$(printf '%s\n' "${plain[@]}" | sed 's/^/p /' | bench_summary | awk '{print $4}') $(printf '%s\n' "${snap[@]}" | sed 's/^/s /' | bench_summary | awk '{print $4}')"
	done
	echo
	printf '  %-19s %10s %10s %9s\n' job "plain" "snapshot" "snap/plain"
	for job in $JOBS; do
		read -r p s <<<"${med[$job]}"
		r=$(bench_ratio "$s" "$p")
		printf '  %-19s %10.0f %10.0f %9s %s\n' "$job" "$p" "$s" "$r" \
			"$(awk -v r="$r" -v t="$TARGET" 'BEGIN { print (r + 0 >= t) ? "ok" : "BELOW" }')"
	done
	echo "  (medians of $ROUNDS runs, IOPS, 4 KiB QD32, cache=$CACHE, COLD=$COLD; target snapshot/plain >= $TARGET)"
}

for part in $PARTS; do
	case $part in
	start) start_cost ;;
	devmodel) devmodel ;;
	*) bench_die "unknown part $part (start devmodel)" ;;
	esac
done

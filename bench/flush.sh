#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Flush cost: QD1 4k write + FLUSH pairs through vmm-devmodel on a loop-mounted ext4, cache=unsafe against cache=writeback, alternating; counts flushes at the loop device.
#
# What it shows: under cache=unsafe a guest FLUSH costs nothing on the host (no
# flush reaches the disk below), under writeback each one is an fdatasync that
# the loop device sees as one flush. The ratio unsafe/writeback is the price of
# honouring flushes, measured moments apart in the same run.
#
# Environment (all optional):
#   RUNTIME=4  measured seconds per run   RAMP=0.5  warm-up seconds per run   ROUNDS=3  runs of each mode
#   FS_MIB=512 size of the ext4 file      IMAGE_MIB=256 size of the drive image inside it
#   WORK_DIR=/var/tmp  where the ext4 file goes (a real disk)   BUILD=<repo>/build-bench
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
RUNTIME=${RUNTIME:-4}
RAMP=${RAMP:-0.5}
ROUNDS=${ROUNDS:-3}
FS_MIB=${FS_MIB:-512}
IMAGE_MIB=${IMAGE_MIB:-256}
WORK_DIR=${WORK_DIR:-/var/tmp}
BUILD=${BUILD:-$root/build-bench}
TARGET=20   # unsafe/writeback

die() { echo "flush.sh: $*" >&2; exit 1; }

# ---- what this needs, said plainly ----
[ "$(id -u)" -eq 0 ] || die "needs root (losetup and mount); run it as root"
for t in losetup mkfs.ext4 mount umount; do
	command -v "$t" >/dev/null || die "$t is missing (apt-get install util-linux e2fsprogs mount)"
done
[ -e /dev/loop-control ] || modprobe loop 2>/dev/null || true
[ -e /dev/loop-control ] || die "no loop device support (/dev/loop-control missing; modprobe loop failed)"
if [ -r /proc/sys/kernel/io_uring_disabled ] && [ "$(cat /proc/sys/kernel/io_uring_disabled)" = 2 ]; then
	die "io_uring is disabled (kernel.io_uring_disabled=2)"
fi
[ -d "$WORK_DIR" ] || die "WORK_DIR=$WORK_DIR is not a directory"

bin=$BUILD/bench/devmodel/vmm-devmodel
if [ ! -d "$BUILD" ]; then
	(cd "$root" && meson setup "$BUILD" >/dev/null) || die "meson setup $BUILD failed"
fi
ninja -C "$BUILD" bench/devmodel/vmm-devmodel >/dev/null || die "building vmm-devmodel failed (ninja -C $BUILD)"

# ---- a loop-mounted ext4, undone on any exit ----
fsfile=$(mktemp "$WORK_DIR/vmm-flush-XXXXXX.ext4")
mnt=$(mktemp -d /tmp/vmm-flush-mnt-XXXXXX)
loop=""
child=""
outf=$(mktemp /tmp/vmm-flush-out-XXXXXX)
cleanup() {
	# A run still going keeps the image open: stop it (by its pid) before unmounting.
	if [ -n "$child" ]; then kill "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; fi
	# io_uring drops its registered file a moment after the process exits (async ring teardown): retry briefly.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		mountpoint -q "$mnt" || break
		umount "$mnt" 2>/dev/null && break
		sleep 0.2
	done
	if mountpoint -q "$mnt"; then umount -l "$mnt" || true; fi
	if [ -n "$loop" ]; then losetup -d "$loop" 2>/dev/null || true; fi
	rmdir "$mnt" 2>/dev/null || true
	rm -f "$fsfile" "$outf"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

truncate -s "${FS_MIB}M" "$fsfile"
loop=$(losetup -f --show "$fsfile") || die "losetup -f failed (no free loop device?)"
# Inode tables and journal initialised now: ext4lazyinit would otherwise write and flush in the background during the runs.
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$loop" >/dev/null || die "mkfs.ext4 on $loop failed"
# lazytime: timestamp updates would otherwise dirty the inode and cost journal commits, which are flushes too.
mount -o lazytime "$loop" "$mnt" || die "mount $loop failed"
stat=/sys/block/$(basename "$loop")/stat
[ -r "$stat" ] || die "$stat is missing"
[ "$(wc -w <"$stat")" -ge 16 ] || die "$stat has no flush counter (field 16); kernel too old"
img=$mnt/drive.img
# Fully written, so no run allocates blocks (allocation is a journal commit, hence a flush).
dd if=/dev/zero of="$img" bs=1M count="$IMAGE_MIB" conv=fsync status=none || die "cannot write $img"
sync -f "$img"

flushes() { awk '{print $16}' "$stat"; }
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "flush.sh: $loop ($FS_MIB MiB ext4, lazytime) image ${IMAGE_MIB} MiB, runtime=${RUNTIME}s ramp=${RAMP}s rounds=$ROUNDS"
printf '  %-9s %-5s %9s %7s %10s %12s %13s %15s\n' mode round pairs/s pairs "loop flush" dev_flushes host_flushes flushes_skipped
us=() wb=() bad=0
for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then order="unsafe writeback"; else order="writeback unsafe"; fi
	for mode in $order; do
		# Settle the filesystem first (the last run's dirty pages and journal), so this run is charged only its own flushes.
		sync -f "$img"
		before=$(flushes)
		# In the background and waited for, so a signal reaches the trap at once (see cleanup).
		"$bin" --image "$img" --cache "$mode" --job writeflush --qd 1 --bs 4096 \
			--runtime "$RUNTIME" --ramp "$RAMP" >"$outf" &
		child=$!
		wait "$child" || die "vmm-devmodel --cache $mode failed"
		child=""
		out=$(cat "$outf")
		after=$(flushes)
		lf=$((after - before))
		pps=$(kv pairs_per_s "$out") tp=$(kv total_pairs "$out")
		printf '  %-9s %-5d %9.0f %7d %10d %12d %13d %15d\n' "$mode" "$r" "$pps" "$tp" "$lf" \
			"$(kv dev_flushes "$out")" "$(kv dev_host_flushes "$out")" "$(kv dev_flushes_skipped "$out")"
		if [ "$mode" = unsafe ]; then
			us+=("$pps")
			if [ "$lf" -ne 0 ] || [ "$(kv dev_host_flushes "$out")" -ne 0 ]; then
				echo "flush.sh: FAIL: cache=unsafe sent $lf flushes to $loop (host_flushes=$(kv dev_host_flushes "$out")); it must send none" >&2
				bad=1
			fi
		else
			wb+=("$pps")
			# One fdatasync per pair, plus the one vblk_stop makes at the end.
			if [ "$lf" -lt "$tp" ]; then
				echo "flush.sh: FAIL: cache=writeback: $lf flushes reached $loop for $tp pairs; expected about one per pair" >&2
				bad=1
			fi
		fi
	done
done

um=$(echo "${us[*]}" | median) wm=$(echo "${wb[*]}" | median)
ratio=$(awk -v a="$um" -v b="$wm" 'BEGIN {printf "%.1f", (b > 0) ? a / b : 0}')
echo
printf 'unsafe     %9.0f pairs/s (median)\n' "$um"
printf 'writeback  %9.0f pairs/s (median)\n' "$wm"
printf 'unsafe/writeback %s (target >= %d): %s\n' "$ratio" "$TARGET" \
	"$(awk -v r="$ratio" -v t="$TARGET" 'BEGIN {print ((r >= t) ? "ok" : "BELOW")}')"
echo "loop flushes: 0 per run under unsafe (checked); writeback: about one per pair (+1 at vblk_stop)"
[ "$bad" = 0 ] || die "flush accounting failed (see above)"

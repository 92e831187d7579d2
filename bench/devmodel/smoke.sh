#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Suite 'bench-smoke': vmm-devmodel's jobs, briefly, on a small scratch image. It keeps the
# benchmark driver working, and it runs the device's I/O thread, a real backend (io_uring, or the
# synchronous engine where io_uring is unavailable) and a guest driver thread together, which the
# sanitizer builds then watch. Not a benchmark: no figure is judged, only that requests complete,
# none fails and the flush counters add up.
# usage: smoke.sh VMM_DEVMODEL
set -euo pipefail
dm=$1
fail() { echo "FAIL: $*"; exit 1; }

# A disk filesystem if there is one (/tmp may be tmpfs); the jobs here are buffered anyway.
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/vmm-devmodel-smoke.XXXXXX")
trap 'rm -rf "$dir"' EXIT
img=$dir/disk.img
truncate -s 8M "$img"

# run ARGS...: one short run; sets $out to its key=value line.
run() {
	out=$("$dm" --image "$img" --runtime 0.3 --ramp 0.1 "$@") || fail "vmm-devmodel $* exited $?"
	echo "$out"
}
# field KEY: the value of KEY in $out.
field() {
	local v
	v=$(tr ' ' '\n' <<<"$out" | sed -n "s/^$1=//p")
	[ -n "$v" ] || fail "no $1= in: $out"
	echo "$v"
}
check() { # check KEY OP VALUE
	local v
	v=$(field "$1")
	awk -v a="$v" -v b="$3" "BEGIN { exit !(a $2 b) }" || fail "$1=$v, expected $2 $3 (${out%% seconds=*})"
}

for job in randread randwrite seqread; do
	run --job "$job" --cache writeback --qd 8 --bs 65536
	check requests '>' 0
	check dev_errors == 0
done

# Under writeback every guest FLUSH becomes a host fdatasync; under unsafe none does.
run --job writeflush --cache writeback
check pairs '>' 0
check dev_errors == 0
check dev_flushes '>' 0
check dev_host_flushes == "$(field dev_flushes)"
check dev_flushes_skipped == 0

run --job writeflush --cache unsafe
check pairs '>' 0
check dev_host_flushes == 0
check dev_flushes_skipped == "$(field dev_flushes)"

# Halt polling off: the driver never spins, so no halt can count as polled.
run --job randwrite --cache unsafe --qd 8 --halt-poll-ns 0
[ "$(field halt_poll)" = off ] || fail "halt_poll=$(field halt_poll) with --halt-poll-ns 0"
check halts_polled_pct == 0
check requests '>' 0
# A snapshot drive: writes go to an overlay in TMPDIR, FLUSHes never reach the host, nothing is left there.
mkdir "$dir/overlays"
TMPDIR=$dir/overlays run --job writeflush --cache writeback --snapshot
check dev_errors == 0
check dev_flushes '>' 0
check dev_host_flushes == 0
check dev_flushes_skipped == "$(field dev_flushes)"
[ "$(field overlay)" = sparse ] || [ "$(field overlay)" = reflink ] || fail "overlay=$(field overlay)"
TMPDIR=$dir/overlays run --job randread --cache writeback --snapshot --prefill --qd 8 --bs 65536
check dev_errors == 0
check overlay_bytes '>=' $((8 << 20))
check copy_ups == 0
[ -z "$(ls -A "$dir/overlays")" ] || fail "files left in TMPDIR: $(ls -A "$dir/overlays")"
echo "ok: vmm-devmodel jobs complete, flush counters add up"

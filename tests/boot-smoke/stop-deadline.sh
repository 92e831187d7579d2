#!/bin/sh
# SPDX-License-Identifier: MIT
# The stop has a hard deadline: with a drive whose exit flush never returns (hang-flush.so), SIGTERM
# (or --timeout) still ends vmm, 10 s later, with status 143 and a line saying the drives were not all drained and
# flushed; a second SIGTERM ends it at once. A repeat 200 ms after the first is the same request
# delivered twice (GNU timeout signals vmm and then its process group) and must not cut the stop short:
# that run still waits for the deadline. The guest floods the console meanwhile (it is running), or
# keeps virtio-blk's queue full of 8 MiB writes (blkflood: 240 in flight, 1.9 GiB).
# Without the shim, a blkflood guest is stopped gracefully: its writes land in the host page cache,
# so draining what is in flight takes well under a second here (1.9 GiB of copies), and the stop takes
# no new requests, so the guest's refilling cannot stretch it. Status 143, no deadline line, well
# within the deadline, the exit flush done, and the drive's counters show the flood was real.
# usage: stop-deadline.sh VMM FLOOD_ELF HANG_FLUSH_SO BLKFLOOD_ELF
set -u
vmm=$1 flood=$2 shim=$3 blkflood=$4
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
fail=0
truncate -s 16M "$tmp/disk.img"   # blkflood writes 8 MiB at sector 0

# run WHAT ELF SECOND_SIGNAL_AFTER(s, or -) MIN_S MAX_S LINE
run() {
	what=$1 elf=$2 second=$3 min=$4 max=$5 line=$6
	rm -f "$tmp/console"
	env LD_PRELOAD="$shim" ASAN_OPTIONS=verify_asan_link_order=0 \
		"$vmm" --kernel "$elf" --drive "file=$tmp/disk.img" --serial "file:$tmp/console" --timeout 60 \
		</dev/null >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	n=0
	while [ ! -s "$tmp/console" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	t0=$(date +%s)
	kill -TERM "$pid"
	if [ "$second" != - ]; then
		sleep "$second"
		kill -TERM "$pid"
	fi
	wait "$pid"
	got=$?
	took=$(($(date +%s) - t0))
	if [ "$got" != 143 ] || [ "$took" -lt "$min" ] || [ "$took" -gt "$max" ] ||
	   ! grep -q "$line.*not all drained and flushed" "$tmp/err"; then
		echo "FAIL: $what: status $got (expected 143) after ${took} s (expected $min..$max s); stderr:"
		cat "$tmp/err"
		fail=1
	else
		echo "ok: $what: status 143 after ${took} s: $(cat "$tmp/err")"
	fi
}

run deadline-with-a-repeat "$flood" 0.2 9 13 'took longer than 10 s'
run second-signal "$flood" 1 0 3 'a stop signal while vmm was stopping'
run deadline-queue-full "$blkflood" - 9 13 'took longer than 10 s'

# Every stop has the deadline, not only a signal's: --timeout (2 s) with a full queue and a hanging
# flush ends vmm 10 s later with --timeout's status, 124.
t0=$(date +%s)
env LD_PRELOAD="$shim" ASAN_OPTIONS=verify_asan_link_order=0 \
	"$vmm" --kernel "$blkflood" --drive "file=$tmp/disk.img" --serial "file:$tmp/console" --timeout 2 \
	</dev/null >"$tmp/out" 2>"$tmp/err"
got=$?
took=$(($(date +%s) - t0))
if [ "$got" != 124 ] || [ "$took" -lt 11 ] || [ "$took" -gt 16 ] ||
   ! grep -q 'took longer than 10 s.*not all drained and flushed' "$tmp/err"; then
	echo "FAIL: timeout-deadline: status $got (expected 124) after ${took} s (expected 11..16 s); stderr:"
	cat "$tmp/err"
	fail=1
else
	echo "ok: timeout-deadline: status 124 after ${took} s: $(cat "$tmp/err")"
fi

# A full queue of large writes, storage that keeps up: the graceful stop.
rm -f "$tmp/console" "$tmp/stats.json"
"$vmm" --kernel "$blkflood" --drive "file=$tmp/disk.img" --serial "file:$tmp/console" --timeout 60 \
	--stats "$tmp/stats.json" </dev/null >"$tmp/out" 2>"$tmp/err" &
pid=$!
n=0
while [ ! -s "$tmp/console" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
sleep 1   # the guest has filled the queue and refilled it many times
t0=$(date +%s.%N)
kill -TERM "$pid"
wait "$pid"
got=$?
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
value() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" "$tmp/stats.json"; }
writes=$(value writes) bytes=$(value write_bytes) errors=$(value errors) exit_flushes=$(value exit_flushes)
# 240 requests of 8 MiB are one queue-full: more shows the guest refilled it.
if [ "$got" != 143 ] || ! awk -v t="$took" 'BEGIN { exit !(t < 5) }' ||
   grep -q 'not all drained' "$tmp/err" || [ "${writes:-0}" -le 240 ] ||
   [ "${bytes:-0}" != $((${writes:-0} * 8388608)) ] || [ "$errors" != 0 ] || [ "$exit_flushes" != 1 ]; then
	echo "FAIL: queue-full-graceful: status $got (expected 143) after $took s (expected < 5 s), writes $writes," \
		"write_bytes $bytes, errors $errors, exit_flushes $exit_flushes; stderr:"
	cat "$tmp/err"
	fail=1
else
	echo "ok: queue-full-graceful: status 143 after $took s, $writes writes of 8 MiB served, exit flush done"
fi
exit $fail

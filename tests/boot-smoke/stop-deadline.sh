#!/bin/sh
# SPDX-License-Identifier: MIT
# The stop has a hard deadline: with a drive whose exit flush never returns (hang-flush.so), SIGTERM
# still ends vmm, 10 s later, with status 143 and a line saying the drives were not all flushed; a
# second SIGTERM ends it at once. A repeat 200 ms after the first is the same request delivered twice
# (GNU timeout signals vmm and then its process group) and must not cut the stop short: that run
# still waits for the deadline. The guest floods the console meanwhile (it is running).
# usage: stop-deadline.sh VMM FLOOD_ELF HANG_FLUSH_SO
set -u
vmm=$1 elf=$2 shim=$3
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
fail=0
truncate -s 1M "$tmp/disk.img"

# run WHAT SECOND_SIGNAL_AFTER(s, or -) MIN_S MAX_S LINE
run() {
	what=$1 second=$2 min=$3 max=$4 line=$5
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

run deadline-with-a-repeat 0.2 9 13 'took longer than 10 s'
run second-signal 1 0 3 'a second stop signal' 
exit $fail

#!/bin/sh
# SPDX-License-Identifier: MIT
# -v and a guest that reads an unserved port in a loop until --timeout: stderr holds exactly 256
# "unhandled port read" lines and one line saying no more are logged, not one line per read.
# usage: verbose-cap.sh VMM PROBE_ELF
set -u
vmm=$1 elf=$2
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

"$vmm" -v --kernel "$elf" --serial none --timeout 1 --stats "$tmp/stats.json" >"$tmp/out" 2>"$tmp/err" </dev/null
got=$?
fail=0
logged=$(grep -c 'unhandled port read 0x1234 size 1$' "$tmp/err")
capped=$(grep -c 'more than 256 unhandled guest accesses: not logging any more of them$' "$tmp/err")
[ "$got" = 124 ] || { echo "FAIL: vmm exited $got, expected 124 (--timeout)"; fail=1; }
# The guest reached its loop (boot marker); the one "not logging" line shows it read the port past the cap.
grep -q '"boot_ms": [0-9]' "$tmp/stats.json" || { echo "FAIL: the guest never reached its loop"; fail=1; }
[ "$logged" = 256 ] || { echo "FAIL: $logged unhandled reads logged, expected 256"; fail=1; }
[ "$capped" = 1 ] || { echo "FAIL: $capped lines saying the log stops, expected 1"; fail=1; }
echo "--- stderr (last lines)"; tail -5 "$tmp/err"
echo "$(wc -l <"$tmp/err") lines on stderr"
exit $fail

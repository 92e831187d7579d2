#!/bin/sh
# SPDX-License-Identifier: MIT
# Run vmm on one tiny ELF guest and check its exit status (and optionally a stdout/stderr pattern).
# usage: check.sh VMM ELF EXPECTED_STATUS [STDOUT_PATTERN [STDERR_PATTERN [vmm args...]]]
# Without a STDERR_PATTERN, stderr must be empty: vmm says nothing about a guest that did nothing wrong.
set -u
vmm=$1 elf=$2 want=$3 out_pat=${4:-} err_pat=${5:-}
shift 3; [ $# -gt 0 ] && shift; [ $# -gt 0 ] && shift

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

"$vmm" --kernel "$elf" --serial stdio --stats "$tmp/stats.json" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
got=$?
fail=0
if [ "$got" != "$want" ]; then
	echo "FAIL: vmm exited $got, expected $want"
	fail=1
fi
if [ -n "$out_pat" ] && ! grep -q -- "$out_pat" "$tmp/out"; then
	echo "FAIL: stdout lacks /$out_pat/"
	fail=1
fi
if [ -n "$err_pat" ] && ! grep -q -- "$err_pat" "$tmp/err"; then
	echo "FAIL: stderr lacks /$err_pat/"
	fail=1
fi
if [ -z "$err_pat" ] && [ -s "$tmp/err" ]; then
	echo "FAIL: stderr should be empty"
	fail=1
fi
# 123 is every reset; the stats say which: a reboot, or a triple fault (which stderr reports).
if [ "$want" = 123 ]; then
	case $err_pat in *triple*) kind=triple-fault ;; *) kind=reset ;; esac
	if ! grep -q "\"exit\": \"$kind\"" "$tmp/stats.json" 2>/dev/null; then
		echo "FAIL: --stats exit is not \"$kind\""
		fail=1
	fi
fi
if [ "$want" = 2 ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
	echo "FAIL: a usage error must be exactly one line on stderr"
	fail=1
fi
if [ "$got" != 1 ] && [ "$got" != 2 ] && ! grep -q '"setup_us": [0-9]' "$tmp/stats.json" 2>/dev/null; then
	echo "FAIL: --stats did not record setup_us"
	fail=1
fi
echo "--- stdout"; cat "$tmp/out"
echo "--- stderr"; cat "$tmp/err"
echo "--- stats"; cat "$tmp/stats.json" 2>/dev/null
exit $fail

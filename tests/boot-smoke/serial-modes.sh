#!/bin/sh
# SPDX-License-Identifier: MIT
# --serial file:PATH captures the console in PATH (nothing on stdout); --serial none drops it.
# usage: serial-modes.sh VMM HELLO_ELF
set -u
vmm=$1 elf=$2
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
fail=0

"$vmm" --kernel "$elf" --serial "file:$tmp/console.log" >"$tmp/out" 2>"$tmp/err" </dev/null
st=$?
[ "$st" = 0 ] || { echo "FAIL: file mode exited $st"; cat "$tmp/err"; fail=1; }
grep -q 'hello from a tiny guest' "$tmp/console.log" || { echo "FAIL: console file lacks the guest's line"; fail=1; }
[ ! -s "$tmp/out" ] || { echo "FAIL: stdout not empty with --serial file:"; fail=1; }

"$vmm" --kernel "$elf" --serial none >"$tmp/out2" 2>"$tmp/err2" </dev/null
st=$?
[ "$st" = 0 ] || { echo "FAIL: none mode exited $st"; cat "$tmp/err2"; fail=1; }
[ ! -s "$tmp/out2" ] || { echo "FAIL: stdout not empty with --serial none"; fail=1; }

"$vmm" --kernel "$elf" --serial "file:$tmp/no/such/dir/log" >/dev/null 2>"$tmp/err3" </dev/null
st=$?
[ "$st" = 2 ] || { echo "FAIL: an unwritable --serial file gave $st, expected 2"; fail=1; }
[ "$(wc -l <"$tmp/err3")" -eq 1 ] || { echo "FAIL: expected one line on stderr"; cat "$tmp/err3"; fail=1; }
[ "$fail" = 0 ] && echo "serial modes ok"
exit $fail

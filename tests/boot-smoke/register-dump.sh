#!/bin/sh
# SPDX-License-Identifier: MIT
# A triple fault is reported as real lines: "vmm: the guest triple-faulted ..." with the exit reason,
# then the vCPU's registers one row per line. vmm's own dump must not be escaped into one line of
# literal "\n" (escaping is for what the user gave: paths, arguments).
# usage: register-dump.sh VMM TRIPLEFAULT_ELF
set -u
vmm=$1 elf=$2
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

"$vmm" --kernel "$elf" --serial none >"$tmp/out" 2>"$tmp/err" </dev/null
got=$?
fail=0
[ "$got" = 123 ] || { echo "FAIL: vmm exited $got, expected 123"; fail=1; }
head -n 1 "$tmp/err" | grep -q '^vmm: the guest triple-faulted and was reset: vcpu 0: exit reason 8 (SHUTDOWN)$' ||
	{ echo "FAIL: the first line is not the reason alone"; fail=1; }
for reg in '  rip=[0-9a-f]\{16\} rsp=' '  cr0=[0-9a-f]\{16\} cr2=' '  cs=0010 base=' '  gdt base='; do
	grep -q "^$reg" "$tmp/err" || { echo "FAIL: no line starts with /$reg/"; fail=1; }
done
lines=$(wc -l <"$tmp/err")
[ "$lines" -ge 10 ] || { echo "FAIL: $lines lines on stderr, expected the reason and a dump of 10 or more"; fail=1; }
if grep -q '\\' "$tmp/err"; then
	echo "FAIL: stderr holds a backslash (an escaped line break?)"
	fail=1
fi
echo "--- stderr"; cat "$tmp/err"
exit $fail

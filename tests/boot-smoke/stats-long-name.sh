#!/bin/sh
# SPDX-License-Identifier: MIT
# A --stats file name the start-up check accepts can be written after the run, however long: a name
# of 250 characters, and one of NAME_MAX (255), get their JSON, with nothing on stderr and no
# temporary file left behind in the directory.
# usage: stats-long-name.sh VMM EXIT42_ELF
set -u
vmm=$1 elf=$2
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
fail=0
for len in 250 255; do
	dir=$tmp/$len
	mkdir "$dir"
	name=$(head -c "$((len - 5))" /dev/zero | tr '\0' s).json
	"$vmm" --kernel "$elf" --serial none --stats "$dir/$name" >"$tmp/out" 2>"$tmp/err" </dev/null
	got=$?
	echo "--- $len characters: status $got"
	cat "$tmp/err"
	[ "$got" = 42 ] || { echo "FAIL: $len: vmm exited $got, expected 42"; fail=1; }
	[ -s "$tmp/err" ] && { echo "FAIL: $len: stderr should be empty"; fail=1; }
	grep -q '"exit": "exit-port"' "$dir/$name" 2>/dev/null ||
		{ echo "FAIL: $len: the stats file was not written"; fail=1; }
	left=$(ls -A "$dir" | grep -cv "^$name\$")
	[ "$left" = 0 ] || { echo "FAIL: $len: $left other files left in the directory:"; ls -A "$dir"; fail=1; }
done
exit $fail

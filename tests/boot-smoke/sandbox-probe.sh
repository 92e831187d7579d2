#!/bin/sh
# SPDX-License-Identifier: MIT
# After set-up vmm cannot open a file: open-probe.so makes a thread that has entered its filter try.
# A read-only open fails with EACCES; creating a file stops vmm with the SIGSYS line and status 159,
# and the file is not created. With --sandbox off both work (so the probe itself works).
# usage: sandbox-probe.sh VMM SPIN_ELF PROBE_SO
set -u
vmm=$1 elf=$2 probe=$3
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
fail=0
echo secret >"$tmp/readme"

# run WHAT WANT_STATUS WANT_ERR SANDBOX PATH [CREATE] (--timeout 1: the probe runs at once)
run() {
	what=$1 want=$2 pattern=$3 sandbox=$4 path=$5 create=${6:-}
	env LD_PRELOAD="$probe" ASAN_OPTIONS=verify_asan_link_order=0 VMM_PROBE_PATH="$path" \
		${create:+VMM_PROBE_CREATE=1} \
		"$vmm" --kernel "$elf" --serial none --timeout 1 --sandbox "$sandbox" </dev/null >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" != "$want" ] || ! grep -q "$pattern" "$tmp/err"; then
		echo "FAIL: $what: status $got (expected $want), stderr without '$pattern':"
		cat "$tmp/err"
		fail=1
	else
		echo "ok: $what: status $got, '$pattern'"
	fi
}

run read-refused 124 'probe: EACCES' on "$tmp/readme"
run create-trapped 159 'made system call openat' on "$tmp/new" create
[ ! -e "$tmp/new" ] || { echo "FAIL: create-trapped: the file was created"; fail=1; }
run read-unsandboxed 124 'probe: opened' off "$tmp/readme"
exit $fail

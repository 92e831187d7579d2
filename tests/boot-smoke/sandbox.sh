#!/bin/sh
# SPDX-License-Identifier: MIT
# The sandbox is on every thread before the guest's first instruction: while a guest floods the
# console (so it has run), each of vmm's threads (main, 2 vCPUs, a drive's I/O thread) shows
# Seccomp: 2 (filter) and NoNewPrivs: 1; with --sandbox off, Seccomp: 0. As root, --user nobody
# runs every thread as uid 65534. io_uring's iou-wrk-* and KVM's kvm-nx-lpage-re tasks run no
# user code and are skipped. A TSan build (third argument tsan) has one more thread, TSan's own
# background thread, started before main: it alone may show Seccomp: 0.
# usage: sandbox.sh VMM FLOOD_ELF [tsan]
set -u
vmm=$1 elf=$2 tsan=${3:-}
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
fail=0
truncate -s 1M "$tmp/disk.img"
chmod 666 "$tmp/disk.img"
chmod 755 "$tmp"

# check WHAT SECCOMP NNP UID -- vmm args...
check() {
	what=$1 want_sc=$2 want_nnp=$3 want_uid=$4
	shift 5
	rm -f "$tmp/console"
	"$vmm" --kernel "$elf" --cpus 2 --drive "file=$tmp/disk.img" --serial "file:$tmp/console" \
		--timeout 20 "$@" </dev/null >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	# Output means a vCPU ran the guest, which it does only once every thread is confined.
	n=0
	while [ ! -s "$tmp/console" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	[ -s "$tmp/console" ] || { echo "FAIL: $what: the guest never ran"; cat "$tmp/err"; fail=1; }
	threads=0 want_threads=4 unfiltered=0
	[ -n "$tsan" ] && want_threads=5
	for st in /proc/$pid/task/*/status; do
		name=$(sed -n 's/^Name:[[:space:]]*//p' "$st")
		case $name in iou-wrk-*|kvm-nx-lpage-re*) continue ;; esac
		threads=$((threads + 1))
		sc=$(sed -n 's/^Seccomp:[[:space:]]*//p' "$st")
		nnp=$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' "$st")
		# TSan's background thread: the one thread of a TSan build outside the sandbox.
		if [ -n "$tsan" ] && [ "$sc" = 0 ] && [ "$want_sc" = 2 ] && [ $unfiltered = 0 ]; then
			unfiltered=1
			continue
		fi
		uid=$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "$st")
		[ "$sc" = "$want_sc" ] || { echo "FAIL: $what: $st ($name): Seccomp: $sc, expected $want_sc"; fail=1; }
		[ "$nnp" = "$want_nnp" ] || { echo "FAIL: $what: $st ($name): NoNewPrivs: $nnp, expected $want_nnp"; fail=1; }
		[ "$uid" = "$want_uid" ] || { echo "FAIL: $what: $st ($name): uid $uid, expected $want_uid"; fail=1; }
	done
	[ "$threads" = "$want_threads" ] ||
		{ echo "FAIL: $what: $threads threads of vmm, expected $want_threads (main, 2 vCPUs, I/O${tsan:+, TSan})"; fail=1; }
	kill -TERM "$pid"
	wait "$pid"
	got=$?
	[ "$got" = 143 ] || { echo "FAIL: $what: status $got after SIGTERM, expected 143"; cat "$tmp/err"; fail=1; }
	[ $fail = 0 ] && echo "ok: $what: $threads threads, Seccomp: $want_sc, NoNewPrivs: $want_nnp, uid $want_uid"
}

me=$(id -u)
check sandbox-on 2 1 "$me" --
check sandbox-off 0 0 "$me" -- --sandbox off
if [ "$me" = 0 ] && id nobody >/dev/null 2>&1; then
	check user-nobody 2 1 "$(id -u nobody)" -- --user nobody
	check user-nobody-sandbox-off 0 0 "$(id -u nobody)" -- --user nobody --sandbox off
else
	echo "note: not root (or no user nobody): --user not checked"
fi
exit $fail

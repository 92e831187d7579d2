#!/bin/sh
# SPDX-License-Identifier: MIT
# A reader that stops reading the console must not keep vmm from stopping: the guest floods COM1
# into a FIFO nobody reads, and --timeout or SIGTERM still ends the run (with input waiting on
# stdin too, which the main loop feeds through the UART). A FIFO console with no reader is a
# clean error, not a hang. Closed stdout/stderr never send the console or vmm's messages into a
# drive image.
# LATE_WRITE_SO (late-console-write.c) makes SIGTERM's kick land before the console write blocks.
# usage: console-stuck.sh VMM FLOOD_ELF HELLO_ELF LATE_WRITE_SO
set -u
vmm=$1 flood=$2 hello=$3 late_write=$4
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
trap 'exec 3<&- 4<&-; rm -rf "$tmp"' EXIT
fail=0
mkfifo "$tmp/out" "$tmp/in" || exit 1
# This script holds the console FIFO's read end and never reads it; fd 4 holds stdin's FIFO open.
exec 3<>"$tmp/out" 4<>"$tmp/in"

# expect_stop WHAT WANT_STATUS PRELOAD -- vmm args...: vmm (with PRELOAD in LD_PRELOAD, if not empty)
# floods the stuck console and must end with WANT.
expect_stop() {
	what=$1 want=$2 preload=$3
	shift 4
	timeout -s KILL 30 env ${preload:+LD_PRELOAD="$preload"} "$vmm" "$@" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	case $what in sigterm*) sleep 2; kill -TERM "$pid" ;; esac
	wait "$pid"
	st=$?
	if [ "$st" = "$want" ]; then
		echo "ok: $what: vmm stopped with $st while its console was stuck"
	else
		echo "FAIL: $what: status $st, expected $want (137: killed after 30 s, vmm hung)"
		cat "$tmp/err"
		fail=1
	fi
}

expect_stop timeout 124 "" -- --kernel "$flood" --serial stdio --timeout 1 </dev/null
printf 'x' >&4
expect_stop timeout-with-input 124 "" -- --kernel "$flood" --serial stdio --timeout 2 <"$tmp/in"
expect_stop sigterm 143 "" -- --kernel "$flood" --serial stdio <"$tmp/in"
# The kick arrives while the vCPU is between KVM_RUN and its blocked write: vmm must kick again.
# --sandbox off: the shim widens the window with calls of its own on the vCPU thread (fcntl, ioctl
# FIONREAD, nanosleep) that the vCPU's seccomp filter rightly forbids; the kick-again path it tests
# is the same with the sandbox on (the filter allows tgkill and write, all that path makes).
expect_stop sigterm-kick-before-write 143 "$late_write" -- --kernel "$flood" --serial stdio --sandbox off </dev/null

# A FIFO console that nobody has open: one line, status 2, at once.
mkfifo "$tmp/noreader"
timeout -s KILL 30 "$vmm" --kernel "$hello" --serial "file:$tmp/noreader" >/dev/null 2>"$tmp/err" </dev/null
st=$?
if [ "$st" = 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'no process reads' "$tmp/err"; then
	echo "ok: a FIFO console without a reader is refused"
else
	echo "FAIL: a FIFO console without a reader gave status $st"; cat "$tmp/err"; fail=1
fi

# Closed stdout / stderr: the drive image must not receive the console or vmm's messages.
dd if=/dev/zero of="$tmp/d.img" bs=1M count=1 2>/dev/null
sum=$(md5sum <"$tmp/d.img")
"$vmm" --kernel "$hello" --serial stdio --drive "file=$tmp/d.img" </dev/null 1>&- 2>/dev/null
st1=$?
"$vmm" --kernel "$flood" --serial none --timeout 1 --drive "file=$tmp/d.img" </dev/null >/dev/null 2>&-
st2=$?
if [ "$st1" = 0 ] && [ "$st2" = 124 ] && [ "$(md5sum <"$tmp/d.img")" = "$sum" ]; then
	echo "ok: with stdout or stderr closed the drive image is untouched"
else
	echo "FAIL: closed stdio: statuses $st1 and $st2 (want 0 and 124), image changed: $(od -c "$tmp/d.img" | head -2)"
	fail=1
fi
[ "$fail" = 0 ] && echo "console-stuck ok"
exit $fail

#!/bin/sh
# SPDX-License-Identifier: MIT
# Snapshot drives around a tiny guest: the overlay is made in TMPDIR and leaves no file there, whether
# vmm exits or is killed with SIGKILL; the base is opened shared (two VMs on one base run, a writer is
# refused meanwhile) and never changes; --stats says which drives are snapshots and what their overlays
# hold; --snapshot leaves a read-only drive alone; a block device (a loop device, as root) can be a base.
# usage: snapshot.sh VMM EXIT42_ELF SPIN_ELF
set -u
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
vmm=$(abs "$1") elf=$(abs "$2") spin=$(abs "$3")
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
T=$tmp/overlays
mkdir "$T"
export TMPDIR=$T
cd "$tmp" || exit 1
truncate -s 64M base.img
printf 'golden image' | dd of=base.img conv=notrunc status=none
cp base.img ro.img
sum=$(md5sum <base.img)
empty() { [ -z "$(ls -A "$T")" ] || bad "$1: files left in TMPDIR: $(ls -A "$T")"; }

# run LABEL WANT ARGS...: vmm on the exit-42 guest; status WANT, stderr empty.
run() {
	label=$1 want=$2
	shift 2
	"$vmm" --kernel "$elf" --serial none "$@" >out 2>err </dev/null
	got=$?
	echo "--- $label: status $got"
	cat err
	[ "$got" = "$want" ] || bad "$label: status $got, expected $want"
}

run one-drive 42 --drive file=base.img,snapshot=on --stats s.json
grep -q '"snapshot": true, "overlay": "\(sparse\|reflink\)", "overlay_bytes": [0-9]' s.json ||
	bad "one-drive: no snapshot fields in the stats: $(grep '"id"' s.json)"
empty one-drive

run global 42 --snapshot --drive file=base.img,id=root --drive file=ro.img,readonly=on,id=ro --stats s.json
grep -A1 '"id": "root"' s.json | grep -q '"snapshot": true' || bad "global: root is not a snapshot drive"
grep -A1 '"id": "ro"' s.json | grep -q '"readonly": true, "snapshot": false' || bad "global: ro changed"
empty global

# Two VMs on one base at once: the first spins until killed, the second runs to its end beside it.
"$vmm" --kernel "$spin" --serial none --drive file=base.img,snapshot=on >/dev/null 2>spin.err </dev/null &
pid=$!
# Up once it holds the base open (for at most 10 s).
n=0
until ls -l "/proc/$pid/fd" 2>/dev/null | grep -q 'base\.img' || [ $n -ge 100 ]; do
	n=$((n + 1))
	sleep 0.1
done
run second-vm 42 --drive file=base.img,snapshot=on
run writer-refused 2 --drive file=base.img
grep -q 'base.img is in use by another drive or process' err || bad "writer-refused: not the in-use line"
# The overlay of a running VM has no name: there is nothing in TMPDIR even now.
empty while-running
kill -KILL $pid
wait $pid 2>/dev/null
empty after-sigkill

# A block device as the base (root: a loop device over a copy).
if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null && loop=$(losetup --find --show -r base.img 2>/dev/null); then
	run loop-base 42 --drive "file=$loop,snapshot=on" --stats s.json
	losetup -d "$loop"
	grep -q '"snapshot": true, "overlay": "sparse"' s.json || bad "loop-base: not a sparse snapshot drive"
	empty loop-base
else
	echo "note: not root or no loop device: the block-device base is not checked here"
fi
[ "$(md5sum <base.img)" = "$sum" ] || bad "the base image changed"
exit $fail

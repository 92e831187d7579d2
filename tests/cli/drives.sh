#!/bin/sh
# SPDX-License-Identifier: MIT
# Drive images that are not disks, and images in use: status 2 and one line, before the VM is built.
# usage: drives.sh VMM GOOD_ELF
set -u
VMM=$1
. "$(dirname "$0")/lib.sh"
elf=$(abspath "$2")
cli_scratch

truncate -s 1M a.img
mkfifo fifo
sum=$(sum_of a.img)

usage dev-null '^vmm: --drive file=/dev/null: /dev/null is not a regular file or block device \(give a disk image file\)$' \
	-v --kernel "$elf" --drive file=/dev/null
usage dev-zero 'is not a regular file or block device' -v --kernel "$elf" --drive file=/dev/zero,readonly=on
usage fifo 'fifo is not a regular file or block device' -v --kernel "$elf" --drive file=fifo
usage two-writers '^vmm: --drive file=a\.img: a\.img is in use by another drive or process \(.*readonly=on\)$' \
	-v --kernel "$elf" --drive file=a.img --drive file=a.img
usage writer-and-reader 'a\.img is in use by another drive or process' \
	-v --kernel "$elf" --drive file=a.img,readonly=on --drive file=a.img
printf '[boot]\nkernel = %s\n[drive "a"]\nfile = a.img\n[drive "b"]\nfile = a.img\n' "$elf" >vm.ini
usage ini-two-writers '^vmm: vm\.ini:5: drive "b": /.*/a\.img is in use by another drive or process \(.*"readonly = on"\)$' \
	-v --config vm.ini
# Another holder of the image: this shell, through flock(1) on its fd 9 (the kind of lock vmm takes).
if command -v flock >/dev/null; then
	exec 9<a.img
	flock -s 9
	usage other-holder-reader 'a\.img is in use by another drive or process' -v --kernel "$elf" --drive file=a.img
	flock -u 9
	exec 9<&-
fi
unchanged drives a.img "$sum"
cli_finish

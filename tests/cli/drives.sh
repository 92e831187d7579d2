#!/bin/sh
# SPDX-License-Identifier: MIT
# Drive images that are not disks (or are another format's container), and images in use: status 2 and
# one line, before the VM is built.
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
# From an INI file, the line of the drive's "file =" key, not its [drive] header.
printf '[boot]\nkernel = %s\n[drive "a"]\nfile = a.img\n[drive "b"]\ncache = unsafe\nfile = a.img\n' "$elf" >vm.ini
usage ini-two-writers '^vmm: vm\.ini:7: drive "b": /.*/a\.img is in use by another drive or process \(.*"readonly = on"\)$' \
	-v --config vm.ini
# Another holder of the image: this shell, through flock(1) on its fd 9 (the kind of lock vmm takes).
if command -v flock >/dev/null; then
	exec 9<a.img
	flock -s 9
	usage other-holder-reader 'a\.img is in use by another drive or process' -v --kernel "$elf" --drive file=a.img
	flock -u 9
	exec 9<&-
fi
printf '[boot]\nkernel = %s\n[drive "m"]\nreadonly = on\nfile = nope.img\n' "$elf" >vm.ini
usage ini-missing '^vmm: vm\.ini:5: drive "m": /.*/nope\.img does not exist \(create the image first, e\.g\. truncate -s 1G /.*/nope\.img\)$' \
	-v --config vm.ini
absent ini-missing nope.img
# A quoted value names a file with quotes in its name: the same hint as for kernel.
printf '[boot]\nkernel = %s\n[drive "a"]\nreadonly = on\nfile = "a.img"\n' "$elf" >vm.ini
usage ini-quoted '^vmm: vm\.ini:5: drive "a": /.*/"a\.img" does not exist \(check the path; remove the quotes, INI values are used as written\)$' \
	-v --config vm.ini
unchanged drives a.img "$sum"

# A qcow2 header (magic "QFI\xfb", version 3) at the start of a 1 MiB file: not a raw disk.
printf 'QFI\373\000\000\000\003' >q.img
truncate -s 1M q.img
qsum=$(sum_of q.img)
usage qcow2 '^vmm: --drive file=q\.img: q\.img is a qcow2 image, and vmm takes raw disk images only \(convert it: qemu-img convert -O raw q\.img DISK\.img; if it is a raw disk that only starts like one, add format=raw\)$' \
	-v --kernel "$elf" --drive file=q.img
usage qcow2-readonly 'q\.img is a qcow2 image' -v --kernel "$elf" --drive file=q.img,readonly=on
# The probe's read is O_DIRECT under cache=none (where the filesystem has O_DIRECT: tmpfs before 6.6 has not).
if dd if=q.img of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null; then
	usage qcow2-direct 'q\.img is a qcow2 image' -v --kernel "$elf" --drive file=q.img,cache=none
else
	echo "note: no O_DIRECT in $PWD, qcow2-direct not run"
fi
printf '[boot]\nkernel = %s\n[drive "q"]\n; a comment\nfile = q.img\n' "$elf" >q.ini
usage ini-qcow2 '^vmm: q\.ini:5: drive "q": /.*/q\.img is a qcow2 image, .* add "format = raw"\)$' -v --config q.ini
# format=raw takes it as a raw disk: the run gets past it, to the next drive's error.
usage qcow2-format-raw '^vmm: --drive file=/dev/null: /dev/null is not a regular file' \
	-v --kernel "$elf" --drive file=q.img,format=raw --drive file=/dev/null
usage format-qcow2 '^vmm: --drive file=q\.img,format=qcow2: "qcow2" is not a format vmm takes' \
	-v --kernel "$elf" --drive file=q.img,format=qcow2
unchanged qcow2 q.img "$qsum"

# A block device mounted on the host: no guest may write it. The mount lives in a private mount
# namespace (unshare -m) around each vmm run, so nothing outlives the check.
if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null &&
	command -v unshare >/dev/null && truncate -s 8M m.img && mkfs.ext4 -q m.img &&
	loop=$(losetup -f --show m.img 2>/dev/null); then
	mkdir -p mnt
	printf '#!/bin/sh\nexec unshare -m sh -c %s "%s" "%s" "%s" "$@"\n' \
		"'mount -o ro \"\$0\" \"\$1\" && shift && exec \"\$@\"'" "$loop" "$PWD/mnt" "$VMM" >inmount
	chmod +x inmount
	real_vmm=$VMM
	VMM=./inmount
	usage mounted-blockdev "^vmm: --drive file=/dev/loop[0-9]+: /dev/loop[0-9]+ is in use on the host: mounted, or held by another drive or program \\(unmount it or stop its user first; readonly=on only reads it\\)$" \
		-v --kernel "$elf" --drive "file=$loop"
	# Reading it is allowed: the run gets past it, to the next drive's error.
	usage mounted-blockdev-readonly '^vmm: --drive file=/dev/null: ' \
		-v --kernel "$elf" --drive "file=$loop,readonly=on" --drive file=/dev/null
	VMM=$real_vmm
	losetup -d "$loop"
else
	echo "note: not root, or no losetup, mkfs.ext4 or unshare: a mounted block device not checked"
fi

# Real images of every format qemu-img can write (scripts/deps.sh installs qemu-utils).
if command -v qemu-img >/dev/null; then
	for f in qcow2 qed vmdk vhdx vpc vdi parallels; do
		qemu-img create -q -f $f "r.$f" 1M || { cli_fail "qemu-img create -f $f failed"; continue; }
		size=$(stat -c %s "r.$f")
		[ $((size % 512)) = 0 ] || truncate -s $(((size / 512 + 1) * 512)) "r.$f"
		case $f in vpc) name=vhd ;; *) name=$f ;; esac
		rsum=$(sum_of "r.$f")
		usage "qemu-img-$f" "r\.$f is a $name image, and vmm takes raw disk images only" \
			-v --kernel "$elf" --drive "file=r.$f"
		unchanged "qemu-img-$f" "r.$f" "$rsum"
	done
	# What the message advises makes an image vmm takes: the run gets past it, to the next drive's error.
	qemu-img convert -O raw r.qcow2 DISK.img
	usage qemu-img-converted '^vmm: --drive file=/dev/null: /dev/null is not a regular file' \
		-v --kernel "$elf" --drive file=DISK.img --drive file=/dev/null
else
	echo "note: no qemu-img (scripts/deps.sh installs qemu-utils): images made by it not checked"
fi
cli_finish

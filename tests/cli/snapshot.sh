#!/bin/sh
# SPDX-License-Identifier: MIT
# Snapshot drives on bad input: a snapshot= value other than on or off, snapshot=on with readonly=on, and
# a TMPDIR that does not exist, is not a directory or cannot be written. Status 2, one line, before the
# VM is built, and no file changed or made (the image, TMPDIR).
# usage: snapshot.sh VMM GOOD_ELF
set -u
VMM=$1
. "$(dirname "$0")/lib.sh"
elf=$(abspath "$2")
cli_scratch

truncate -s 1M a.img
sum=$(sum_of a.img)
mkdir tmp

usage bad-value '^vmm: --drive file=a\.img,snapshot=yes: "yes" is not on or off \(on: .*\)$' \
	--kernel "$elf" --drive file=a.img,snapshot=yes
usage bad-value-empty '^vmm: --drive file=a\.img,snapshot=: snapshot= is empty' \
	--kernel "$elf" --drive file=a.img,snapshot=
printf '[boot]\nkernel = %s\n[drive "a"]\nfile = a.img\nsnapshot = 1\n' "$elf" >vm.ini
usage ini-bad-value '^vmm: vm\.ini:5: snapshot: "1" is not on or off' --config vm.ini
usage with-readonly '^vmm: --drive id=drive0: snapshot and readonly are both on: a read-only drive has no writes to throw away \(turn one of them off\)$' \
	--kernel "$elf" --drive file=a.img,snapshot=on,readonly=on
printf '[boot]\nkernel = %s\n[drive "a"]\nfile = a.img\nreadonly = on\nsnapshot = on\n' "$elf" >vm.ini
usage ini-with-readonly '^vmm: vm\.ini:3: \[drive "a"\]: snapshot and readonly are both on' --config vm.ini
usage global-with-value '^vmm: --snapshot does not take a value' --kernel "$elf" --snapshot=on --drive file=a.img

# TMPDIR, where the overlay goes: named, with the fix, before the guest exists.
TMPDIR=$PWD/nope run no-tmpdir --kernel "$elf" --drive file=a.img,snapshot=on
usage_check no-tmpdir "^vmm: --drive file=a\.img: snapshot=on: TMPDIR=$PWD/nope does not exist, and the drive's overlay goes there \(create it, or set TMPDIR to .*\)$"
absent no-tmpdir nope
TMPDIR=$PWD/a.img run tmpdir-file --kernel "$elf" --snapshot --drive file=a.img
usage_check tmpdir-file "^vmm: --drive file=a\.img: snapshot=on: TMPDIR=$PWD/a\.img is not a directory"
# A directory vmm cannot write: a read-only tmpfs (root, in a mount namespace of its own), or mode 0555 otherwise.
if [ "$(id -u)" = 0 ]; then
	if command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
		cat >ro-inner.sh <<EOS
#!/bin/sh
mount -t tmpfs -o ro vmm-cli "$PWD/tmp" || exit 99
TMPDIR="$PWD/tmp" exec "$VMM" "\$@"
EOS
		printf '#!/bin/sh\nexec unshare -m --propagation private "%s/ro-inner.sh" "$@"\n' "$PWD" >ro-vmm.sh
		chmod +x ro-inner.sh ro-vmm.sh
		real=$VMM
		VMM=$PWD/ro-vmm.sh
		run ro-tmpdir --kernel "$elf" --drive file=a.img,snapshot=on
		VMM=$real
		usage_check ro-tmpdir "^vmm: --drive file=a\.img: snapshot=on: TMPDIR=$PWD/tmp cannot be written \(Read-only file system\)"
	else
		echo "note: root without mount namespaces: the unwritable-TMPDIR check is not run"
	fi
else
	chmod 555 tmp
	TMPDIR=$PWD/tmp run ro-tmpdir --kernel "$elf" --drive file=a.img,snapshot=on
	usage_check ro-tmpdir "^vmm: --drive file=a\.img: snapshot=on: TMPDIR=$PWD/tmp cannot be written \(Permission denied\)"
	chmod 755 tmp
fi
CLI_CHECKS=$((CLI_CHECKS + 1))
[ -z "$(ls -A tmp)" ] || cli_fail "files left in TMPDIR: $(ls -A tmp)"
unchanged snapshot a.img "$sum"
cli_finish

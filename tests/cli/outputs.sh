#!/bin/sh
# SPDX-License-Identifier: MIT
# --stats and --serial file: are checked before anything runs: not a directory, not one of the inputs
# (kernel, initrd, drive, config file), not each other. Status 2, one line, no file changed.
# usage: outputs.sh VMM GOOD_ELF
set -u
VMM=$1
. "$(dirname "$0")/lib.sh"
elf=$(abspath "$2")
cli_scratch
cp "$elf" k.elf

truncate -s 1M disk.img
printf 'initrd\n' >initrd.img
mkdir dir
printf '[machine]\ncpus = 1\n' >vm.ini
echo "console" >console.log
sums() { echo "$(sum_of k.elf) $(sum_of disk.img) $(sum_of initrd.img) $(sum_of vm.ini) $(sum_of console.log)"; }
before=$(sums)

usage serial-is-drive '^vmm: --serial file:disk\.img: is the same file as --drive file=disk\.img.*choose another path for --serial' \
	-v --kernel k.elf --drive file=disk.img --serial file:disk.img
usage serial-is-kernel 'file:\./k\.elf: is the same file as --kernel k\.elf' -v --kernel k.elf --serial file:./k.elf
usage serial-is-initrd 'is the same file as --initrd initrd\.img' -v --kernel k.elf --initrd initrd.img --serial file:initrd.img
usage stats-is-drive '^vmm: --stats disk\.img: is the same file as --drive file=disk\.img' \
	-v --kernel k.elf --drive file=disk.img,readonly=on --stats disk.img
usage stats-is-kernel '^vmm: --stats k\.elf: is the same file as --kernel k\.elf' -v --kernel k.elf --stats k.elf
usage stats-is-config '^vmm: --stats vm\.ini: is the same file as --config vm\.ini' -v --config vm.ini --kernel k.elf --stats vm.ini
usage stats-is-serial '^vmm: --stats console\.log: is the same file as --serial file:console\.log' \
	-v --kernel k.elf --serial file:console.log --stats console.log
ln disk.img link.img
usage stats-is-hard-link 'is the same file as --drive file=disk\.img' -v --kernel k.elf --drive file=disk.img --stats link.img
CLI_CHECKS=$((CLI_CHECKS + 1))
[ "$(sums)" = "$before" ] || cli_fail "an input or the console log was changed"

# Neither output exists yet: the same directory and name is still the same file, however it is spelt.
usage stats-is-new-serial '^vmm: --stats new\.log: is the same file as --serial file:new\.log, which it would overwrite \(choose another path for --stats\)$' \
	-v --kernel k.elf --serial file:new.log --stats new.log
absent stats-is-new-serial new.log
usage stats-is-new-serial-dot '^vmm: --stats new\.log: is the same file as --serial file:\./new\.log' \
	-v --kernel k.elf --serial file:./new.log --stats new.log
absent stats-is-new-serial-dot new.log
usage stats-is-new-serial-abs "^vmm: --stats $PWD/dir/\.\./new\.log: is the same file as --serial file:new\.log" \
	-v --kernel k.elf --serial file:new.log --stats "$PWD/dir/../new.log"
absent stats-is-new-serial-abs new.log
# A dangling symlink names the file it would create: dir/link.log -> ../new.log is new.log.
ln -s ../new.log dir/link.log
usage stats-is-new-serial-link '^vmm: --stats new\.log: is the same file as --serial file:dir/link\.log' \
	-v --kernel k.elf --serial file:dir/link.log --stats new.log
absent stats-is-new-serial-link new.log
rm dir/link.log
# Different new files pass this check (the kernel, refused later, keeps the guest from running).
printf 'not a kernel\n' >notk
usage new-outputs-differ '^vmm: --kernel notk: not a Linux bzImage' --kernel notk --serial file:dir/new.log --stats new.log
absent new-outputs-differ new.log
absent new-outputs-differ dir/new.log

usage stats-dir '^vmm: --stats dir: is a directory \(give a file name, e.g\. dir/stats\.json\)$' -v --kernel k.elf --stats dir
usage stats-slash '^vmm: --stats new/: is a directory' -v --kernel k.elf --stats new/
absent stats-slash new
usage stats-device '^vmm: --stats /dev/null: is not a regular file' -v --kernel k.elf --stats /dev/null
usage stats-no-dir '^vmm: --stats nodir/s\.json: directory nodir does not exist \(create it or choose another path\)$' -v --kernel k.elf --stats nodir/s.json
usage serial-dir '^vmm: --serial file:dir: is a directory' -v --kernel k.elf --serial file:dir
usage serial-no-dir '^vmm: --serial file:nodir/x: directory nodir' -v --kernel k.elf --serial file:nodir/x

# From an INI file: file:line and key.
printf '[boot]\nkernel = k.elf\n[drive "d"]\ncache = unsafe\nfile = disk.img\n[output]\nserial = file:disk.img\n' >out.ini
usage ini-serial-is-drive '^vmm: out\.ini:7: serial: file:/.*/disk\.img: is the same file as drive "d" \(out\.ini:5\).*for serial\)$' \
	-v --config out.ini
printf '[boot]\nkernel = k.elf\n[output]\nserial = file:nodir/x\n' >out.ini
usage ini-serial-no-dir '^vmm: out\.ini:4: serial: file:/.*/nodir/x: directory' -v --config out.ini
printf '[boot]\nkernel = k.elf\n[output]\nstats = dir\n' >out.ini
usage ini-stats-dir '^vmm: out\.ini:4: stats: /.*/dir: is a directory' -v --config out.ini
printf '[boot]\nkernel = k.elf\n[output]\nserial = file:new.log\nstats = ./new.log\n' >out.ini
usage ini-stats-is-new-serial '^vmm: out\.ini:5: stats: /.*/\./new\.log: is the same file as serial \(out\.ini:4\), which it would overwrite \(choose another path for stats\)$' \
	-v --config out.ini
absent ini-stats-is-new-serial new.log
printf '[boot]\nkernel = k.elf\n[output]\nstats = out.ini\n' >out.ini
usage ini-stats-is-config '^vmm: out\.ini:4: stats: /.*/out\.ini: is the same file as --config out\.ini' -v --config out.ini
CLI_CHECKS=$((CLI_CHECKS + 1))
[ "$(sums)" = "$before" ] || cli_fail "an input or the console log was changed"
cli_finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# A rejected configuration changes no file: the --serial and --stats outputs of a VM that never ran are
# neither created nor truncated. usage: no-file-changed.sh VMM GOOD_ELF
set -u
VMM=$1
. "$(dirname "$0")/lib.sh"
elf=$(abspath "$2")
cli_scratch

echo "last run's console" >console.log
log=$(sum_of console.log)
printf 'not a kernel\n' >bad.kernel
truncate -s 100M huge.initrd
long=$(head -c 3000 /dev/zero | tr '\0' x)

usage bad-kernel 'bad\.kernel' --kernel bad.kernel --serial file:console.log --stats st.json
unchanged bad-kernel console.log "$log"
absent bad-kernel st.json
usage initrd-too-big 'huge\.initrd' --kernel "$elf" --memory 64M --initrd huge.initrd --serial file:console.log
unchanged initrd-too-big console.log "$log"
usage cmdline-too-long 'cmdline' --kernel "$elf" --cmdline "$long" --serial file:console.log
unchanged cmdline-too-long console.log "$log"
usage new-log-not-created 'bad\.kernel' --kernel bad.kernel --serial file:new.log
absent new-log-not-created new.log
cli_finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# Command-line mistakes the config module reports: status 2, one line naming the option and the fix.
# usage: options.sh VMM
set -u
VMM=$1
. "$(dirname "$0")/lib.sh"
cli_scratch

usage config-missing '^vmm: --config nope\.ini: No such file or directory \(check the path\)$' --config nope.ini
usage config-empty '^vmm: --config: empty path \(give an INI file' --config ''
usage option-as-value '^vmm: --initrd took "--kernel" as its value; give --initrd a PATH$' --initrd --kernel k.elf
usage print-config-comment "^vmm: --print-config: the cmdline \"a ; b\" cannot be written as an INI value" \
	--kernel /k --cmdline 'a ; b' --print-config
CLI_CHECKS=$((CLI_CHECKS + 1))
[ ! -s out ] || cli_fail "print-config-comment: printed part of a file"
usage print-config-path '^vmm: --print-config: the drive file "/.*/sp ;x" cannot be written' \
	--kernel /k --drive 'file=sp ;x' --print-config
CLI_CHECKS=$((CLI_CHECKS + 1))
[ ! -s out ] || cli_fail "print-config-path: printed part of a file"
usage print-config-long-line '^vmm: --print-config: the cmdline "x{64}\.\.\." is 5000 bytes, too long for an INI line' \
	--kernel /k --cmdline "$(head -c 5000 /dev/zero | tr '\0' x)" --print-config
CLI_CHECKS=$((CLI_CHECKS + 1))
[ ! -s out ] || cli_fail "print-config-long-line: printed part of a file"
# A line break in a value is quoted as \n: still one line.
usage memory-line-break '^vmm: --memory 1\\n2G: bad size "1\\n2G"' --kernel k --memory "$(printf '1\n2G')"
printf '[machine]\nmemory = 1\r2G\n' >cr.ini
usage ini-carriage-return '^vmm: cr\.ini:2: memory: bad size "1\\r2G"' --config cr.ini
cli_finish

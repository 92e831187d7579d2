#!/bin/sh
# SPDX-License-Identifier: MIT
# --sandbox and --user on bad input: status 2, one line naming the option (or INI file:line) and the fix,
# and no output file created or truncated. --user as non-root is a usage error too: when the test runs as
# root it checks that by running vmm as nobody (setpriv). usage: security.sh VMM GOOD_ELF
set -u
VMM=$1
. "$(dirname "$0")/lib.sh"
elf=$(abspath "$2")
cli_scratch

echo "last run's console" >console.log
log=$(sum_of console.log)

usage sandbox-maybe '^vmm: --sandbox maybe: "maybe" is neither on nor off \(the sandbox is on by default; off is for debugging a filter, see docs/security\.md\)$' \
	--kernel "$elf" --sandbox maybe --serial file:console.log --stats st.json
unchanged sandbox-maybe console.log "$log"
absent sandbox-maybe st.json
usage sandbox-yes '^vmm: --sandbox yes: "yes" is neither on nor off' --kernel "$elf" --sandbox=yes
usage sandbox-empty '^vmm: --sandbox : "" is neither on nor off' --kernel "$elf" --sandbox ''
usage sandbox-no-value '^vmm: --sandbox needs a value, e.g\. --sandbox on\|off$' --kernel "$elf" --sandbox
printf '[security]\nsandbox = of\n' >sb.ini
usage sandbox-ini '^vmm: sb\.ini:2: sandbox: "of" is neither on nor off' --kernel "$elf" --config sb.ini
printf '[machine]\nsandbox = off\n' >where.ini
usage sandbox-ini-section '^vmm: where\.ini:2: sandbox: not a \[machine\] setting; put it under \[security\]$' \
	--kernel "$elf" --config where.ini

usage user-empty '^vmm: --user : user is empty \(give USER or USER:GROUP, by name or number\)$' --kernel "$elf" --user ''
usage user-form '^vmm: --user a:b:c: "a:b:c" is not USER or USER:GROUP \(each a name or a number\)$' \
	--kernel "$elf" --user a:b:c
usage user-blank '^vmm: --user a b: user "a b" has a character other than printable ASCII' --kernel "$elf" --user 'a b'

# Whether a user or group exists is looked up whoever runs vmm when it only prints the configuration ...
usage user-unknown-print '^vmm: --user vmm-no-such-user-x: no user "vmm-no-such-user-x" on this host \(give an existing user'"'"'s name or a uid\)$' \
	--kernel "$elf" --user vmm-no-such-user-x --print-config
CLI_CHECKS=$((CLI_CHECKS + 1))
[ ! -s out ] || cli_fail "user-unknown-print: printed part of a file"

# ... and to run it, only root may switch users at all.
if [ "$(id -u)" = 0 ]; then
	usage user-unknown '^vmm: --user vmm-no-such-user-x: no user "vmm-no-such-user-x" on this host' \
		--kernel "$elf" --user vmm-no-such-user-x --serial file:console.log --stats st.json
	unchanged user-unknown console.log "$log"
	absent user-unknown st.json
	usage group-unknown '^vmm: --user nobody:vmm-no-such-group-x: no group "vmm-no-such-group-x" on this host \(give an existing group'"'"'s name or a gid\)$' \
		--kernel "$elf" --user nobody:vmm-no-such-group-x
	printf '[security]\nuser = vmm-no-such-user-x\n' >user.ini
	usage user-unknown-ini '^vmm: user\.ini:2: user: no user "vmm-no-such-user-x" on this host' \
		--kernel "$elf" --config user.ini
	usage user-root '^vmm: --user root: "root" is root'"'"'s user or group \(0\), which would drop nothing' \
		--kernel "$elf" --user root
	usage user-no-group '^vmm: --user 4000000000: uid 4000000000 has no user entry to take a group from \(give one: 4000000000:GROUP\)$' \
		--kernel "$elf" --user 4000000000
	if command -v setpriv >/dev/null 2>&1; then
		# As nobody, vmm is told that --user needs root; the files it would write stay as they were.
		chmod 755 "$CLI_TMP"
		chmod 666 console.log
		printf '#!/bin/sh\nexec setpriv --reuid=nobody --regid=nogroup --clear-groups "%s" "$@"\n' "$VMM" >as-nobody
		chmod 755 as-nobody
		VMM_AS_ROOT=$VMM
		VMM=$CLI_TMP/as-nobody
		usage user-not-root '^vmm: --user nobody: switching to another user needs root, and vmm runs as uid [0-9]+ \(start vmm as root, or leave --user out; docs/security\.md shows how to run vmm without root\)$' \
			--kernel "$elf" --user nobody --serial file:console.log --stats st.json
		unchanged user-not-root console.log "$log"
		absent user-not-root st.json
		VMM=$VMM_AS_ROOT
	fi
else
	usage user-not-root '^vmm: --user nobody: switching to another user needs root, and vmm runs as uid [0-9]+ \(start vmm as root' \
		--kernel "$elf" --user nobody --serial file:console.log --stats st.json
	unchanged user-not-root console.log "$log"
	absent user-not-root st.json
fi
cli_finish

# SPDX-License-Identifier: MIT
# Helpers for the usage-error checks: run vmm on bad input, expect status 2, one stderr line, no file changed.
#
# Sourced by tests/cli/*.sh after they set VMM; cli_scratch makes VMM absolute and cds into a fresh
# directory that is removed at exit.

# abspath P: P joined to the cwd unless it is absolute.
abspath() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }

cli_scratch() {
	VMM=$(abspath "$VMM")
	CLI_TMP=$(mktemp -d) || exit 1
	trap 'rm -rf "$CLI_TMP"' EXIT
	cd "$CLI_TMP" || exit 1
}

CLI_FAILED=0
CLI_CHECKS=0

cli_fail() { echo "FAIL: $*"; CLI_FAILED=$((CLI_FAILED + 1)); }

# run LABEL ARG...: run vmm (stdin /dev/null, 20 s cap); status in $st, stderr in ./err, stdout in ./out.
run() {
	label=$1
	shift
	timeout 20 "$VMM" "$@" >out 2>err </dev/null
	st=$?
	echo "+ [$label] vmm $* -> $st" | cut -c1-300
	sed 's/^/  | /' err
}

# usage LABEL PATTERN ARG...: status 2, exactly one line on stderr, matching the grep -E PATTERN.
usage() {
	label=$1 pat=$2
	shift 2
	run "$label" "$@"
	usage_check "$label" "$pat"
}

# usage_check LABEL PATTERN: what usage checks, of the run just made (for one made by run with its own environment).
usage_check() {
	label=$1 pat=$2
	CLI_CHECKS=$((CLI_CHECKS + 1))
	if [ "$st" != 2 ]; then
		cli_fail "$label: status $st, expected 2"
	elif [ "$(wc -l <err)" -ne 1 ]; then
		cli_fail "$label: $(wc -l <err) lines on stderr, expected exactly one"
	elif ! grep -Eq -- "$pat" err; then
		cli_fail "$label: stderr does not match /$pat/"
	fi
}

# unchanged LABEL FILE SUM: FILE's md5 is still SUM (take it with sum_of before the run).
sum_of() { md5sum <"$1" 2>/dev/null || echo missing; }
unchanged() {
	CLI_CHECKS=$((CLI_CHECKS + 1))
	[ "$(sum_of "$2")" = "$3" ] || cli_fail "$1: $2 was changed"
}
absent() {
	CLI_CHECKS=$((CLI_CHECKS + 1))
	[ ! -e "$2" ] || cli_fail "$1: $2 was created"
}

cli_finish() {
	if [ "$CLI_CHECKS" = 0 ]; then
		echo "FAIL: made no checks"
		exit 1
	fi
	if [ "$CLI_FAILED" != 0 ]; then
		echo "$CLI_FAILED of $CLI_CHECKS checks failed"
		exit 1
	fi
	echo "all $CLI_CHECKS checks passed"
	exit 0
}

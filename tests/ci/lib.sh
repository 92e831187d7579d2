# SPDX-License-Identifier: MIT
# Helpers the tests/ci scripts source: checks that count, and the verdict (a test that checked nothing fails).
FAILED=0
CHECKS=0
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
# check DESCRIPTION COMMAND...: COMMAND succeeds.
check() {
	CHECKS=$((CHECKS + 1))
	_d=$1
	shift
	if "$@"; then echo "ok: $_d"; else fail "$_d"; fi
}
ci_finish() {
	if [ "$CHECKS" = 0 ]; then
		echo "FAIL: made no checks"
		exit 1
	fi
	if [ "$FAILED" != 0 ]; then
		echo "$FAILED of $CHECKS checks failed"
		exit 1
	fi
	echo "all $CHECKS checks passed"
	exit 0
}

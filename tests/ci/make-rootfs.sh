#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/make-rootfs.sh on bad input: one line and status 2 for usage errors, nothing made; one plain line without the archive.
# usage: make-rootfs.sh REPO   (no network needed: the "archive" is a closed port on 127.0.0.1)
set -u
. "$(dirname "$0")/lib.sh"
M=$(cd "$1" && pwd)/scripts/make-rootfs.sh
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

# bad STATUS LABEL PATTERN ARG...: STATUS, one stderr line matching PATTERN.
bad() {
	_w=$1 _l=$2 _p=$3
	shift 3
	sh "$M" "$@" >out.txt 2>err.txt
	_st=$?
	echo "+ [$_l] make-rootfs.sh $* -> $_st: $(cat err.txt)"
	check "$_l: status $_w" [ "$_st" = "$_w" ]
	check "$_l: one line on stderr" [ "$(wc -l <err.txt)" = 1 ]
	check "$_l: it says /$_p/" grep -Eq -- "$_p" err.txt
}
bad 2 no-outdir 'no OUTDIR given'
bad 2 unknown-option 'unknown option --frob' --frob out
bad 2 bad-size '--size 12X' --size 12X out
bad 2 bad-include 'not a comma-separated list' --include 'gcc;rm' out
bad 2 two-outdirs 'one OUTDIR only' a b
bad 2 missing-value '--mirror needs a value' out --mirror
check "no usage error made a file" [ -z "$(ls -A | grep -v -e '^out.txt$' -e '^err.txt$')" ]
echo file >afile
bad 2 outdir-is-file 'afile exists and is not a directory' afile
check "make-rootfs.sh --help prints its usage" sh -c "sh '$M' --help | grep -q 'usage: scripts/make-rootfs.sh'"
# An archive that cannot be reached: apt gets "connection refused" at once.
bad 1 no-archive 'no network access to the Debian package archive \(http://127\.0\.0\.1:9/debian\)' \
	--mirror http://127.0.0.1:9/debian nonet
check "and it left no image behind" [ ! -e nonet/rootfs.img ] && [ ! -e nonet/stamp ]
ci_finish

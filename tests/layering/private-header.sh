#!/bin/sh
# SPDX-License-Identifier: MIT
# Proves that a module's private header cannot be included from outside its module, whatever the include path.
#
# usage: private-header.sh SRCDIR HEADER MACRO CC [CFLAG...]
# HEADER is the absolute path of a *_internal.h; MACRO is what the owning
# module's meson.build defines for its own sources. Two compiles of a one-line
# probe that includes HEADER by its absolute path, with every directory of
# SRCDIR that holds a header on the include path: without MACRO it must fail,
# and fail on the header's own #error (not on something else); with MACRO it
# must compile, so the first failure is the guard's doing and the probe
# itself is sound.
set -u
srcdir=$1 header=$2 macro=$3
shift 3
for d in $(find "$srcdir" -name '*.h' -exec dirname {} \; | sort -u); do
	set -- "$@" "-I$d"
done
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf '#include "%s"\nint layering_probe;\n' "$header" >"$tmp/probe.c"

if "$@" -c "$tmp/probe.c" -o "$tmp/out.o" 2>"$tmp/err"; then
	echo "FAIL: $header compiled from outside its module without $macro"
	exit 1
fi
if ! grep -q 'is private to' "$tmp/err"; then
	echo "FAIL: the compile failed, but not on the guard in $header:"
	cat "$tmp/err"
	exit 1
fi
if ! "$@" "-D$macro" -c "$tmp/probe.c" -o "$tmp/out.o" 2>"$tmp/err"; then
	echo "FAIL: $header does not compile even with $macro (the probe is broken):"
	cat "$tmp/err"
	exit 1
fi
echo "ok: $header is refused outside its module and compiles inside it"

#!/bin/sh
# SPDX-License-Identifier: MIT
# meson install --destdir into a temporary root: each file lands where Debian expects it, and the man page renders cleanly.
# usage: install.sh BUILD_DIR REPO
set -u
. "$(dirname "$0")/lib.sh"
B=$(cd "$1" && pwd)
REPO=$(cd "$2" && pwd)
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT

prefix=$(meson introspect "$B" --buildoptions | python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
echo "+ meson install -C $B --destdir $T (prefix $prefix)"
meson install -C "$B" --destdir "$T" --no-rebuild --quiet >"$T.log" 2>&1
st=$?
sed 's/^/  | /' "$T.log"
rm -f "$T.log"
check "meson install --destdir exits 0" [ "$st" = 0 ]
R=$T$prefix
doc=$R/share/doc/vmm
man1=$R/share/man/man1/vmm.1

check "bin/vmm is an executable that runs" sh -c "'$R/bin/vmm' --version | grep -q '^vmm '"
check "share/man/man1/vmm.1 is there" [ -f "$man1" ]
groff -ww -z -man "$man1" >"$T/groff.err" 2>&1
check "groff -ww -z -man finds nothing to warn about$(sed 's/^/; /' "$T/groff.err" | tr -d '\n')" [ ! -s "$T/groff.err" ]
MANWIDTH=80 man -l "$man1" 2>"$T/man.err" | col -b >"$T/man.txt"
check "man -l renders it, with nothing on stderr$(sed 's/^/; /' "$T/man.err" | tr -d '\n')" [ ! -s "$T/man.err" ]
check "and no line is wider than 80 columns" [ "$(awk 'length > 80' "$T/man.txt" | wc -l)" = 0 ]
check "it has the sections a man page needs" sh -c "for s in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' FILES EXAMPLES 'SEE ALSO'; do grep -qx \"\$s\" '$T/man.txt' || exit 1; done"
# Every option vmm --help lists, every drive key and every exit status.
for o in $("$R/bin/vmm" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	check "the man page covers $o" grep -q -- "$o" "$T/man.txt"
done
for k in file cache readonly id serial poll format; do
	check "the man page covers the drive key $k=" grep -q -- "$k=" "$T/man.txt"
done
for s in 0 1 2 123 124 125 130 143; do
	check "the man page explains exit status $s" grep -Eq "^ {7}$s\$|^ {7}[0-9, ]*\\b$s\\b" "$T/man.txt"
done

check "README.md is in share/doc/vmm" cmp -s "$REPO/README.md" "$doc/README.md"
for f in "$REPO"/docs/*.md; do
	check "docs/$(basename "$f") is in share/doc/vmm" cmp -s "$f" "$doc/$(basename "$f")"
done
for f in "$REPO"/config/*.ini; do
	check "config/$(basename "$f") is in share/doc/vmm/examples" cmp -s "$f" "$doc/examples/$(basename "$f")"
done
for f in "$REPO"/examples/gitlab-runner/*; do
	i=$doc/examples/gitlab-runner/$(basename "$f")
	check "examples/gitlab-runner/$(basename "$f") is in share/doc/vmm/examples" cmp -s "$f" "$i"
	[ ! -x "$f" ] || check "and stays executable" [ -x "$i" ]
done
for f in make-rootfs.sh workspace.sh; do
	check "scripts/$f is in share/vmm/scripts, executable" [ -x "$R/share/vmm/scripts/$f" ]
done
for f in "$REPO"/guest/*; do
	check "guest/$(basename "$f") is in share/vmm/guest" cmp -s "$f" "$R/share/vmm/guest/$(basename "$f")"
done
check "the installed workspace.sh works from there" sh -c "mkdir '$T/w' && '$R/share/vmm/scripts/workspace.sh' pack '$T/w' '$T/w.img' 8M"
check "the installed make-rootfs.sh finds its guest files (--help)" sh -c "'$R/share/vmm/scripts/make-rootfs.sh' --help | grep -q OUTDIR"
# Nothing anywhere else: no etc/, lib/ or stray files in the prefix.
(cd "$R" && find . -type f | sed 's:^\./::' | grep -Ev '^(bin/vmm|share/man/man1/vmm\.1|share/doc/vmm/.*|share/vmm/(scripts|guest)/.*)$') >"$T/stray"
check "nothing is installed outside bin/, share/man/man1/, share/doc/vmm/ and share/vmm/$(sed 's/^/; /' "$T/stray" | tr -d '\n')" [ ! -s "$T/stray" ]
check "no installed file is writable by others" [ -z "$(find "$T" -perm -o+w ! -type l)" ]

ci_finish

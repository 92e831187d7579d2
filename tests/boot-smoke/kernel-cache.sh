#!/bin/sh
# SPDX-License-Identifier: MIT
# The kernel cache: a bzImage's payload unpacked once on the host (a miss), then found (a hit), both
# booting as the bzImage does with --kernel-cache off (same console, same status); a bad entry is a
# miss; a payload that cannot be unpacked boots the bzImage as given; a non-directory is usage.
# usage: kernel-cache.sh VMM MKBZIMAGE HELLO_ELF EXIT42_ELF
set -u
vmm=$1 mk=$2 hello=$3 exit42=$4
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# run NAME WANT_STATUS WANT_DEBUG ARGS...: one boot, -v; its stdout must be the hello line when WANT_STATUS is 0.
run() {
	name=$1 want=$2 pat=$3
	shift 3
	"$vmm" -v --serial stdio --stats "$tmp/$name.json" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null
	got=$?
	[ "$got" = "$want" ] || bad "$name: status $got, expected $want"
	grep -q -- "$pat" "$tmp/$name.err" || { bad "$name: stderr lacks /$pat/"; sed 's/^/  /' "$tmp/$name.err"; }
}

for kind in gzip xz zstd; do
	"$mk" $kind "$hello" "$tmp/hello-$kind.bz" || { bad "mkbzimage $kind"; continue; }
	"$mk" $kind "$exit42" "$tmp/exit42-$kind.bz" || { bad "mkbzimage $kind"; continue; }
	for g in hello exit42; do
		case $g in hello) st=0 ;; *) st=42 ;; esac
		k=$tmp/$g-$kind.bz
		run "$g-$kind-off" $st 'kernel cache: off' --kernel "$k" --kernel-cache off
		run "$g-$kind-miss" $st "kernel cache: miss: unpacked the $kind payload" --kernel "$k" --kernel-cache "$tmp/kc"
		run "$g-$kind-hit" $st "kernel cache: hit" --kernel "$k" --kernel-cache "$tmp/kc"
		for r in miss hit; do
			cmp -s "$tmp/$g-$kind-off.out" "$tmp/$g-$kind-$r.out" || bad "$g $kind: $r's console differs from off's"
			grep -q "\"kernel_cache\": \"$r\"" "$tmp/$g-$kind-$r.json" || bad "$g $kind: --stats lacks kernel_cache $r"
		done
	done
	grep -q 'hello from a tiny guest' "$tmp/hello-$kind-off.out" || bad "hello $kind: no console line"
done
[ "$(find "$tmp/kc" -name '*.vmlinux' | wc -l)" = 6 ] || bad "the cache does not hold 6 entries"
[ -z "$(find "$tmp/kc" -name '*.tmp')" ] || bad "a temporary file was left in the cache"

# The default directory: $XDG_CACHE_HOME/vmm/kernels, else $HOME/.cache/vmm/kernels.
k=$tmp/hello-xz.bz
HOME=/nonexistent XDG_CACHE_HOME=$tmp/xdg run xdg 0 "kernel cache: miss: unpacked the xz payload to $tmp/xdg/vmm/kernels/" --kernel "$k"
(unset XDG_CACHE_HOME; HOME=$tmp/home run home 0 "kernel cache: miss: unpacked the xz payload to $tmp/home/.cache/vmm/kernels/" --kernel "$k") || fail=1

# A bad entry (cut short, or not an ELF file) is a miss, and is replaced. Entries are named by the
# SHA-256 and size of the whole bzImage.
k=$tmp/hello-gzip.bz
e=$tmp/kc/$(sha256sum <"$k" | cut -d' ' -f1)-$(wc -c <"$k").vmlinux
[ -f "$e" ] || bad "no entry $e"
size=$(wc -c <"$e")
head -c 100 "$e" >"$tmp/short" && cp "$tmp/short" "$e"
run short 0 'kernel cache: miss' --kernel "$k" --kernel-cache "$tmp/kc"
[ "$(wc -c <"$e")" = "$size" ] || bad "the entry cut short was not replaced"
printf 'XXXX' | dd of="$e" conv=notrunc status=none
run notelf 0 'kernel cache: miss' --kernel "$k" --kernel-cache "$tmp/kc"
run again 0 'kernel cache: hit' --kernel "$k" --kernel-cache "$tmp/kc"

# A payload that does not unpack (a byte of the stream changed): the bzImage boots as given.
python3 - "$tmp/hello-gzip.bz" "$tmp/broken.bz" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
off = 0x400 + struct.unpack_from('<I', b, 0x248)[0]
b[off + 20] ^= 0xFF
open(sys.argv[2], 'wb').write(b)
PY
run broken 0 'kernel cache: not used, the kernel boots as given: its payload is corrupt' --kernel "$tmp/broken.bz" \
	--kernel-cache "$tmp/kc"
cmp -s "$tmp/hello-gzip-off.out" "$tmp/broken.out" || bad "broken: console differs"

# The directory cannot be made (a file in its path): the kernel boots as given.
: >"$tmp/file"
XDG_CACHE_HOME=$tmp/file run unmade 0 'kernel cache: not used, the kernel boots as given: cannot make the directory' \
	--kernel "$tmp/hello-zstd.bz"

# --kernel-cache naming a regular file: one line, status 2.
"$vmm" --kernel "$k" --kernel-cache "$tmp/file" >/dev/null 2>"$tmp/usage.err"
st=$?
[ "$st" = 2 ] || bad "--kernel-cache FILE: status $st, expected 2"
[ "$(wc -l <"$tmp/usage.err")" = 1 ] && grep -q 'is not a directory' "$tmp/usage.err" || bad "--kernel-cache FILE: $(cat "$tmp/usage.err")"
exit $fail

#!/bin/sh
# SPDX-License-Identifier: MIT
# vmm's own set-up cost (exec to the first KVM_RUN, from --stats setup_us) on this machine's /dev/kvm, with the -v step breakdown.
#
# usage: bench/setup.sh [BUILD_DIR]        (default: build)
#   env: RUNS (default 30) runs per guest; VMM (default BUILD_DIR/src/vmm/vmm);
#        MEMORY (default 256M); GUESTS (default "tiny vmlinux bzImage").
#
# Runs directly on /dev/kvm, whatever it is: set-up does not depend on the
# guest getting anywhere. On kvm_pvm a Debian kernel does not boot in useful
# time, so every run is cut off with --timeout 1 (setup_us is taken before).
# Guests, taken in turn so that machine noise spreads over all of them alike:
#   tiny     BUILD_DIR/tests/boot-smoke/exit42.elf (exits at once; no initrd)
#   vmlinux  the Debian vmlinux + test initrd (BUILD_DIR/guest)
#   bzImage  the Debian bzImage + test initrd
# The guest images are built with tests/integration/run.py --images-only when
# missing. Prints, per guest, min/median/p90/max of setup_us, and the median of
# the time each set-up step (vmm -v, "set-up: STEP done at T ms") finished.
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/bench/lib/common.sh"

B=${1:-build}
case $B in /*) ;; *) B=$REPO/$B ;; esac
RUNS=${RUNS:-30}
MEMORY=${MEMORY:-256M}
GUESTS=${GUESTS:-tiny vmlinux bzImage}

bench_build "$B" src/vmm/vmm tests/boot-smoke/exit42.elf
VMM=${VMM:-$B/src/vmm/vmm}
G=$B/guest
case " $GUESTS " in
*" vmlinux "* | *" bzImage "*)
	if [ ! -f "$G/vmlinux" ] || [ ! -f "$G/vmlinuz" ] || [ ! -f "$G/initrd.img" ]; then
		bench_log "building the guest images (run.py --images-only)"
		python3 "$REPO/tests/integration/run.py" --build-dir "$B" --images-only >&2 ||
			bench_die "guest image build failed"
	fi
	;;
esac

# A running test host keeps both cores busy and would show up here as set-up time.
bench_wait_quiet
W=$(mktemp -d "${TMPDIR:-/tmp}/vmm-bench-setup.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
RAW=$W/raw

kvm_kind=unknown
[ -d /sys/module/kvm_pvm ] && kvm_kind=kvm_pvm
[ -d /sys/module/kvm_intel ] && kvm_kind=kvm_intel
[ -d /sys/module/kvm_amd ] && kvm_kind=kvm_amd
echo "setup: vmm $VMM; /dev/kvm is $kvm_kind; $RUNS runs per guest, --memory $MEMORY; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

one() { # guest round
	case $1 in
	tiny) set -- "$1" "$2" --kernel "$B/tests/boot-smoke/exit42.elf" ;;
	vmlinux) set -- "$1" "$2" --kernel "$G/vmlinux" --initrd "$G/initrd.img" ;;
	bzImage) set -- "$1" "$2" --kernel "$G/vmlinuz" --initrd "$G/initrd.img" ;;
	*) bench_die "unknown guest $1" ;;
	esac
	_g=$1
	shift 2
	rm -f "$W/stats.json"
	# -v only adds a handful of fprintf calls to stderr at step ends.
	st=0
	"$VMM" "$@" --memory "$MEMORY" --timeout 1 --stats "$W/stats.json" \
		--cmdline "console=ttyS0 quiet -- exit 0" -v >/dev/null 2>"$W/err" || st=$?
	us=$(sed -n 's/.*"setup_us": \([0-9.]*\).*/\1/p' "$W/stats.json" 2>/dev/null)
	if [ -z "$us" ]; then
		bench_log "$_g: no setup_us (exit status $st): $(head -n 3 "$W/err")"
		return 0
	fi
	echo "$_g.setup_us $us" >>"$RAW"
	# Step lines become "GUEST.step.NAME MS" (spaces to _, commas dropped).
	sed -n 's/^vmm: debug: set-up: \(.*\) done at \([0-9.]*\) ms$/\1|\2/p' "$W/err" |
		while IFS='|' read -r name ms; do
			echo "$_g.step.$(printf '%s' "$name" | tr -d ',' | tr ' ' '_') $ms"
		done >>"$RAW"
	echo "$_g.status $st" >>"$RAW"
}

i=1
while [ "$i" -le "$RUNS" ]; do
	for g in $GUESTS; do
		one "$g" "$i"
	done
	i=$((i + 1))
done

SUM=$(bench_summary <"$RAW")
echo
echo "setup_us: exec (vmm's main) to the first KVM_RUN; target <= 3000"
printf '%-8s %4s %10s %10s %10s %10s\n' guest n min median p90 max
for g in $GUESTS; do
	printf '%s\n' "$SUM" | awk -v k="$g.setup_us" -v g="$g" \
		'$1 == k { printf "%-8s %4d %10.1f %10.1f %10.1f %10.1f\n", g, $2, $3, $4, $5, $6 }'
done
echo
echo "set-up steps (vmm -v): median ms since exec at which each step ended (+ gap from the line above)"
for g in $GUESTS; do
	echo "  $g:"
	# Steps in the order vmm logs them, then the first KVM_RUN, with the
	# median gap from the previous line: where the time goes.
	printf '%s\n' "$SUM" | awk -v p="$g.step." -v k="$g.setup_us" '
		index($1, p) == 1 { name = substr($1, length(p) + 1); gsub(/_/, " ", name)
			printf "    %-36s %8.3f  (+%7.3f)  p90 %8.3f\n", name, $4, $4 - prev, $5; prev = $4 }
		$1 == k { last = $4 / 1000; lastp = $5 / 1000 }
		END { printf "    %-36s %8.3f  (+%7.3f)  p90 %8.3f\n", "first KVM_RUN (setup_us)", last, last - prev, lastp }'
	printf '%s\n' "$SUM" | awk -v k="$g.status" '$1 == k { printf "    exit status: median %s (124 = --timeout; tiny exits 42)\n", $4 }'
done

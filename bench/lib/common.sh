# SPDX-License-Identifier: MIT
# Host-side helpers the bench/*.sh scripts source: build what they need, wait for a quiet machine, summarise numbers.
#
# POSIX sh. The caller sets REPO (the repository root) before sourcing.

bench_log() { echo "bench: $*" >&2; }
bench_die() { echo "bench: $*" >&2; exit 1; }

# The benchmarks' test host keeps two CPUs, as when docs/benchmarks.md was
# measured: vmm's I/O thread and the guest's vCPU each get one, like QEMU's
# threads. They boot one-vCPU guests only: the crashes that made the tests'
# test host one CPU were in guests with two vCPUs, and a rare hung boot is
# reported as bad and left out of the medians (docs/testing.md).
export VMM_ITEST_HOST_CPUS=${VMM_ITEST_HOST_CPUS:-2}

# bench_build BUILD_DIR TARGET...: configure BUILD_DIR if it is not yet a meson
# build directory, then build just the targets asked for (a full build of the
# tree is not needed and other engineers' half-done work elsewhere may not build).
bench_build() {
	_b=$1
	shift
	if [ ! -f "$_b/build.ninja" ]; then
		bench_log "meson setup $_b"
		(cd "$REPO" && meson setup "$_b") >&2 || bench_die "meson setup $_b failed"
	fi
	ninja -C "$_b" "$@" >&2 || bench_die "ninja -C $_b $* failed"
}

# bench_wait_quiet: the emulated test host takes both cores, so a second one
# (someone's integration run) would make both slow and the figures noise.
# Wait until no other qemu-system-x86_64 runs (BENCH_NO_WAIT=1 skips this).
bench_wait_quiet() {
	[ "${BENCH_NO_WAIT:-0}" = 1 ] && return 0
	_n=0
	while pgrep -f qemu-system-x86_64 >/dev/null 2>&1; do
		[ "$_n" = 0 ] && bench_log "another qemu-system-x86_64 is running (pid $(pgrep -f qemu-system-x86_64 | tr '\n' ' ')); waiting for it to finish"
		_n=$((_n + 1))
		sleep 10
	done
	[ "$_n" = 0 ] || bench_log "machine quiet again after about $((_n * 10))s"
}

# bench_summary: read "KEY VALUE" lines on stdin, print for each KEY (in order
# of first appearance) n, min, median, p90 and max. The median of an even
# count is the mean of the two middle values; p90 is the nearest-rank value.
bench_summary() {
	awk '
	function isort(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) {
			t = a[i]
			for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
			a[j + 1] = t
		}
	}
	NF >= 2 {
		if (!($1 in cnt)) { keys[++nk] = $1; cnt[$1] = 0 }
		v[$1, ++cnt[$1]] = $2 + 0
	}
	END {
		for (k = 1; k <= nk; k++) {
			key = keys[k]; n = cnt[key]
			for (i = 1; i <= n; i++) s[i] = v[key, i]
			isort(s, n)
			med = (n % 2) ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
			r = int(0.9 * n + 0.999999); if (r < 1) r = 1
			printf "%s %d %s %s %s %s\n", key, n, s[1], med, s[r], s[n]
		}
	}'
}

# bench_median KEY SUMMARY: the median column of KEY in bench_summary output.
bench_median() { printf '%s\n' "$2" | awk -v k="$1" '$1 == k { print $4 }'; }

# bench_fmt PRINTF-FORMAT VALUE: VALUE formatted, or "-" when it is empty.
bench_fmt() { awk -v f="$1" -v v="$2" 'BEGIN { if (v == "") print "-"; else printf f "\n", v }'; }

# bench_ratio A B: A / B with three decimals, or "n/a".
bench_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.3f\n", a / b }'
}

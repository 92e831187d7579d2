# SPDX-License-Identifier: MIT
# Helpers sourced by integration scenarios: boot the test guest with vmm and assert on the outcome.
#
# POSIX sh: runs under busybox sh in the test host and dash on a hardware-KVM
# machine. A scenario sources it with
#     . "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"
# and ends with `finish` (exit 0 when every expectation held, 1 otherwise).
# Environment given by the runner: VMM, GUEST_VMLINUX, GUEST_BZIMAGE,
# GUEST_INITRD, GUEST_INITRD_FIO (may be empty), SCRATCH, HOST_BLOCK_STAT (may
# be empty), QEMU (may be empty), ITEST_MODE (testhost or direct).

: "${VMM:?VMM is not set: run scenarios through tests/integration/run.py}"
: "${SCRATCH:?SCRATCH is not set}"
# Kernel command line before " -- " for guest boots; vmm appends
# "reboot=k panic=-1" itself. quiet: every console byte is a VM exit, and
# in the emulated test host a full boot log costs seconds.
GUEST_CMDLINE_BASE=${GUEST_CMDLINE_BASE:-console=ttyS0 quiet}
# vmm's own --timeout for guest boots, so a hung guest fails in this time and
# not at the runner's per-scenario limit.
GUEST_TIMEOUT=${GUEST_TIMEOUT:-60}
GUEST_MEMORY=${GUEST_MEMORY:-256M}

ITEST_FAILED=0
ITEST_CHECKS=0
ITEST_TAB=$(printf '\t')
ITEST_NL='
'
OUT=$SCRATCH/vmm.stdout
ERR=$SCRATCH/vmm.stderr
STATUS=

fail() { echo "FAIL: $*"; ITEST_FAILED=$((ITEST_FAILED + 1)); }
ok() { echo "ok: $*"; }
skip() { echo "SKIP: $*"; exit 77; }

# finish: the scenario's verdict. A scenario that checked nothing fails, so a
# scenario can never pass by accident.
finish() {
	if [ "$ITEST_CHECKS" = 0 ]; then
		echo "FAIL: scenario made no checks"
		exit 1
	fi
	if [ "$ITEST_FAILED" != 0 ]; then
		echo "$ITEST_FAILED of $ITEST_CHECKS checks failed"
		exit 1
	fi
	echo "all $ITEST_CHECKS checks passed"
	exit 0
}

now_s() { date +%s; }

# run_vmm ARG...: run vmm as given; stdout to $OUT (with the serial console's
# \r removed), stderr to $ERR, exit status in $STATUS and seconds in $ELAPSED.
# Prints the command and what vmm printed, so a failure log shows everything,
# and after a timeout or reset (124, 123) the --stats file, if one was named.
run_vmm() {
	echo "+ vmm $*"
	_t0=$(now_s)
	"$VMM" "$@" >"$OUT.raw" 2>"$ERR"
	STATUS=$?
	ELAPSED=$(($(now_s) - _t0))
	tr -d '\r' <"$OUT.raw" >"$OUT"
	echo "+ exit status $STATUS after ${ELAPSED}s"
	sed 's/^/| /' "$OUT"
	sed 's/^/! /' "$ERR"
	# A guest that timed out or crashed: its drives' counters tell a guest
	# stuck on I/O from one stuck elsewhere.
	case $STATUS in
	123 | 124)
		_prev=
		for _a in "$@"; do
			if [ "$_prev" = --stats ] && [ -f "$_a" ]; then
				echo "+ its --stats:"
				sed 's/^/: /' "$_a"
			fi
			_prev=$_a
		done
		;;
	esac
	return 0
}

# boot_guest [VMM-ARG...] -- COMMAND: boot the test guest (vmlinux, the test
# initrd, $GUEST_MEMORY) and have its /init run COMMAND with sh -c; vmm's exit
# status is then COMMAND's. Extra VMM-ARGs come after the defaults, so
# e.g. `--kernel "$GUEST_BZIMAGE"` or `--memory 4G` override them for vmm's
# last-one-wins options; --timeout $GUEST_TIMEOUT is added unless given.
boot_guest() {
	_args=
	_tmo=1
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		[ "$1" = --timeout ] && _tmo=0
		_args="$_args $(quote "$1")"
		shift
	done
	[ "${1:-}" = -- ] && shift
	_cmd="$*"
	# The kernel passes init at most 31 words (more panics the guest: "Too
	# many boot init vars") and parses double quotes itself. Such commands,
	# and any with tabs, newlines or runs of spaces, go base64-encoded as one
	# word, which the guest's /init decodes.
	_words=$(printf '%s\n' "$_cmd" | wc -w | tr -d ' ')
	case $_cmd in
	*\"* | *"  "* | *"$ITEST_TAB"* | *"$ITEST_NL"*) _words=999 ;;
	esac
	if [ "$_words" -gt 24 ]; then
		echo "+ guest command (sent base64-encoded): $_cmd"
		_cmd="vmm-b64:$(printf '%s' "$_cmd" | base64 | tr -d '\n')"
	fi
	if [ "${#_cmd}" -gt 1700 ]; then
		# x86's command line holds 2048 bytes, vmm's additions included.
		ITEST_CHECKS=$((ITEST_CHECKS + 1))
		fail "guest command too long for the kernel command line (${#_cmd} bytes); put it in a drive image"
	fi
	[ "$_tmo" = 1 ] && _args="--timeout $GUEST_TIMEOUT$_args"
	eval "run_vmm --kernel \"\$GUEST_VMLINUX\" --initrd \"\$GUEST_INITRD\" \
		--memory \"\$GUEST_MEMORY\" $_args --cmdline \"\$GUEST_CMDLINE_BASE -- \$_cmd\""
}

# quote WORD: WORD as one single-quoted shell word (for eval).
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

expect_status() {
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	if [ "$STATUS" = "$1" ]; then ok "exit status $1"; else fail "exit status $STATUS, expected $1${2:+ ($2)}"; fi
}

# expect_output ERE: some line of vmm's stdout (the guest console) matches.
expect_output() {
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	if grep -Eq -- "$1" "$OUT"; then ok "stdout has /$1/"; else fail "no stdout line matches /$1/"; fi
}

expect_no_output() {
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	if grep -Eq -- "$1" "$OUT"; then fail "stdout unexpectedly matches /$1/: $(grep -E -- "$1" "$OUT" | head -n1)"; else ok "stdout lacks /$1/"; fi
}

expect_stderr() {
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	if grep -Eq -- "$1" "$ERR"; then ok "stderr has /$1/"; else fail "no stderr line matches /$1/"; fi
}

# expect_stderr_lines N: stderr has exactly N lines.
expect_stderr_lines() {
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	_n=$(wc -l <"$ERR" | tr -d ' ')
	# A last line without its newline still counts as a line.
	[ -s "$ERR" ] && [ "$(tail -c 1 "$ERR" | od -An -c | tr -d ' ')" != '\n' ] && _n=$((_n + 1))
	if [ "$_n" = "$1" ]; then ok "stderr has $1 line(s)"; else fail "stderr has $_n line(s), expected $1"; fi
}

# expect_true DESCRIPTION COMMAND...: COMMAND succeeds.
expect_true() {
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	_d=$1
	shift
	if "$@"; then ok "$_d"; else fail "$_d"; fi
}

# output_value KEY: the value from the last stdout line "KEY=VALUE".
output_value() { sed -n "s/^$1=//p" "$OUT" | tail -n1; }

# host_flushes: flush requests that reached the test host's disk so far
# (field 16 of the block stat file); empty when not available.
host_flushes() {
	[ -n "${HOST_BLOCK_STAT:-}" ] && [ -r "$HOST_BLOCK_STAT" ] || return 0
	awk '{ print $16 }' "$HOST_BLOCK_STAT"
}

# ---- drives (virtio-blk) ----

# make_image PATH MIB: a fully allocated, synced image of zeros. Writing into
# it later allocates no blocks, so the test host's ext4 has no journal commit
# (and so no flush of its own) to make while a guest writes.
make_image() {
	dd if=/dev/zero of="$1" bs=1M count="$2" conv=fsync 2>/dev/null
}

# drive_stat STATS_JSON DRIVE_ID KEY: a per-drive counter from vmm --stats.
drive_stat() {
	awk -v id="\"id\": \"$2\"" -v key="\"$3\": " '
		index($0, id) { found = 1 }
		found && index($0, key) {
			s = substr($0, index($0, key) + length(key)); sub(/[^0-9].*/, "", s); print s; exit
		}' "$1"
}

# expect_stat STATS_JSON DRIVE_ID KEY OP VALUE: e.g. expect_stat s.json d0 host_flushes -gt 0
expect_stat() {
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	_v=$(drive_stat "$1" "$2" "$3")
	if [ -n "$_v" ] && [ "$_v" "$4" "$5" ]; then ok "$2 $3 = $_v ($4 $5)"; else fail "$2 $3 = '${_v}', expected $4 $5"; fi
}

# The 1 MiB test pattern for a tag, made the same way in the guest and here.
# GUEST_PATTERN is the guest-side shell text that writes it to /tmp/p.
pattern_file() { yes "vmm-pattern-$1" | head -c 1048576 >"$2"; }
guest_pattern() { echo "yes vmm-pattern-$1 | head -c 1048576 >/tmp/p"; }

# expect_image_region IMAGE OFFSET_MIB PATTERN_FILE: the host sees the pattern there.
expect_image_region() {
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	if dd if="$1" bs=1M skip="$2" count=1 2>/dev/null | cmp -s - "$3"; then
		ok "image holds the pattern at ${2} MiB"
	else
		fail "image does not hold the pattern at ${2} MiB"
	fi
}

# drive_mode_scenario MODE: the per-cache-mode check. The guest writes the
# pattern at 0 MiB with O_DIRECT and at 2 MiB through its page cache with
# fsync, drops its caches, reads both back with O_DIRECT and compares; then
# the host compares the image file, and the counters show where durability
# came from:
#   writeback, none: the guest sees a write cache, so its fsync sends FLUSH,
#     and each FLUSH became an fdatasync that reached the host disk;
#   writethrough, directsync: the guest sees no write cache and sends no
#     FLUSH; every write was made durable (RWF_DSYNC) before it completed,
#     which reaches the host disk as flushes too (more than vmm's one at exit);
#   unsafe: the guest sends FLUSH, each completes with no syscall, and not
#     one flush reaches the host disk.
drive_mode_scenario() {
	_mode=$1
	_img=$SCRATCH/disk.img
	make_image "$_img" 16
	pattern_file "$_mode" "$SCRATCH/p"
	# Only the image may touch the measured disk while the guest runs: vmm's
	# console, stderr and stats go to tmpfs, and sync first commits the
	# journal for the files made above, which would otherwise flush mid-run.
	_keep_out=$OUT _keep_err=$ERR
	_tmp=$(mktemp -d)
	OUT=$_tmp/vmm.stdout ERR=$_tmp/vmm.stderr _st=$_tmp/stats.json
	sync
	_f0=$(host_flushes)
	boot_guest --drive "file=$_img,cache=$_mode,id=d0" --stats "$_st" -- \
		"$(guest_pattern "$_mode");" \
		'echo guest-wce=$(cat /sys/block/vda/queue/write_cache);' \
		'dd if=/tmp/p of=/dev/vda bs=64k oflag=direct 2>/dev/null &&' \
		'dd if=/tmp/p of=/dev/vda bs=64k seek=32 conv=fsync 2>/dev/null &&' \
		'echo 3 >/proc/sys/vm/drop_caches &&' \
		'dd if=/dev/vda bs=64k count=16 iflag=direct 2>/dev/null | cmp - /tmp/p &&' \
		'dd if=/dev/vda bs=64k skip=32 count=16 iflag=direct 2>/dev/null | cmp - /tmp/p &&' \
		'echo guest-verify=ok'
	_f1=$(host_flushes)
	cp "$OUT" "$_keep_out"; cp "$ERR" "$_keep_err"; cp "$_st" "$SCRATCH/stats.json"
	OUT=$_keep_out ERR=$_keep_err
	expect_status 0
	expect_output '^guest-verify=ok$'
	expect_image_region "$_img" 0 "$SCRATCH/p"
	expect_image_region "$_img" 2 "$SCRATCH/p"
	expect_stat "$_st" d0 writes -gt 0
	expect_stat "$_st" d0 errors -eq 0
	expect_stat "$_st" d0 kicks -gt 0
	expect_stat "$_st" d0 interrupts -gt 0
	case $_mode in
	writeback|none)
		expect_output '^guest-wce=write back$'
		expect_stat "$_st" d0 flushes -gt 0
		_n=$(drive_stat "$_st" d0 flushes)
		expect_stat "$_st" d0 host_flushes -eq "${_n:-x}"
		expect_stat "$_st" d0 flushes_skipped -eq 0
		expect_stat "$_st" d0 exit_flushes -eq 1
		;;
	writethrough|directsync)
		expect_output '^guest-wce=write through$'
		expect_stat "$_st" d0 flushes -eq 0
		_n=$(drive_stat "$_st" d0 writes)
		expect_stat "$_st" d0 durable_writes -eq "${_n:-x}"
		expect_stat "$_st" d0 exit_flushes -eq 1
		;;
	unsafe)
		expect_output '^guest-wce=write back$'
		expect_stat "$_st" d0 flushes -gt 0
		expect_stat "$_st" d0 host_flushes -eq 0
		_n=$(drive_stat "$_st" d0 flushes)
		expect_stat "$_st" d0 flushes_skipped -eq "${_n:-x}"
		expect_stat "$_st" d0 durable_writes -eq 0
		expect_stat "$_st" d0 exit_flushes -eq 0
		;;
	esac
	if [ -n "$_f0" ] && [ -n "$_f1" ]; then
		ITEST_CHECKS=$((ITEST_CHECKS + 1))
		_d=$((_f1 - _f0))
		# vmm's own fdatasync at exit (exit_flushes; none under unsafe) is one
		# of them: on ext4 every fdatasync flushes the disk once, so a guest
		# FLUSH or a durable write that skipped its sync would leave the
		# exit's alone.
		_e=$(drive_stat "$_st" d0 exit_flushes)
		_min=$((${_e:-1} + 1))
		case $_mode in
		writeback|none) _n=$(drive_stat "$_st" d0 host_flushes); _min=$((${_n:-1} + ${_e:-1})) ;;
		esac
		if [ "$_mode" = unsafe ]; then
			[ "$_d" -eq 0 ] && ok "no flush reached the test host's disk" || fail "$_d flushes reached the test host's disk under unsafe"
		else
			[ "$_d" -ge "$_min" ] && ok "$_d flushes reached the test host's disk (at least $_min: the guest's and the one at exit)" ||
				fail "$_d flushes reached the test host's disk, expected at least $_min (the guest's and the one at exit)"
		fi
	fi
	rm -rf "$_tmp"
}

# ---- snapshot drives ----

# snapshot_tmpdir: a fresh, empty TMPDIR for snapshot overlays under SCRATCH (on the test host's disk),
# exported; its path in $SNAP_TMP.
snapshot_tmpdir() {
	SNAP_TMP=$SCRATCH/overlays
	rm -rf "$SNAP_TMP"
	mkdir -p "$SNAP_TMP"
	export TMPDIR="$SNAP_TMP"
}

# expect_no_files DIR: DIR holds nothing (an overlay never leaves a name behind).
expect_no_files() {
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	_l=$(ls -A "$1" 2>&1)
	if [ -z "$_l" ]; then ok "nothing in $1"; else fail "$1 holds: $(echo "$_l" | tr '\n' ' ')"; fi
}

# expect_sum FILE SUM: FILE's md5 is SUM (taken with md5sum before the run).
expect_sum() {
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	_s=$(md5sum <"$1" | cut -d' ' -f1)
	if [ "$_s" = "$2" ]; then ok "$1 unchanged (md5 $_s)"; else fail "$1 changed: md5 $_s, was $2"; fi
}

# expect_snapshot_stats STATS_JSON DRIVE_ID: a snapshot drive whose overlay holds something, and whose
# FLUSHes (if any) all completed without the host.
expect_snapshot_stats() {
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	if grep -A1 "\"id\": \"$2\"" "$1" | grep -q '"snapshot": true, "overlay": "sparse"'; then
		ok "$2 is a sparse snapshot drive in the stats"
	else
		fail "$2 is not a sparse snapshot drive in the stats"
	fi
	expect_stat "$1" "$2" overlay_bytes -gt 0
	expect_stat "$1" "$2" host_flushes -eq 0
	expect_stat "$1" "$2" durable_writes -eq 0
	expect_stat "$1" "$2" exit_flushes -eq 0
	_n=$(drive_stat "$1" "$2" flushes)
	expect_stat "$1" "$2" flushes_skipped -eq "${_n:-x}"
	expect_stat "$1" "$2" errors -eq 0
}

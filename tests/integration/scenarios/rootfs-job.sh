#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: the project's Debian rootfs (scripts/make-rootfs.sh) boots with systemd under vmm and runs CI jobs:
# a gcc build from a workspace drive (vmm exits with the job's status, unpack finds the artifact), `vmm-exit 3`, `poweroff`.
# The root drive is the image itself with snapshot=on, never copied: afterwards its size, blocks, mtime and ctime
# are what they were (any write(2) to it would move both times; snapshot-rootfs checks a smaller base to the byte,
# which here would cost two passes of about 80 s over 4 GiB in the test host), and TMPDIR, where the overlays
# were, holds nothing.
# needs: rootfs
# timeout: 600
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

if [ -z "${ROOTFS_DIR:-}" ] || [ ! -f "$ROOTFS_DIR/rootfs.img" ]; then
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	fail "no rootfs (ROOTFS_DIR=${ROOTFS_DIR:-}): run.py builds it for scenarios with '# needs: rootfs'"
	finish
fi
W="sh $WORKSPACE_SH"
ROOT=$ROOTFS_DIR/rootfs.img
snapshot_tmpdir
root_stat() { stat -c '%s bytes, %b blocks, mtime %Y, ctime %Z' "$ROOT"; }
root_before=$(root_stat)

# boot_rootfs [VMM-ARGS...] -- JOB: the rootfs under vmm, root on /dev/vda
# (the image itself, snapshot=on), Debian's own vmlinuz (KERNEL=vmlinux: the
# same kernel, uncompressed).
boot_rootfs() {
	_a=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do _a="$_a $(quote "$1")"; shift; done
	[ "${1:-}" = -- ] && shift
	_j=${1:+ -- $*}
	eval "run_vmm --kernel \"\$ROOTFS_DIR/\${KERNEL:-vmlinuz}\" --initrd \"\$ROOTFS_DIR/initrd.img\" --memory 512M \
		--timeout 150 --drive \"file=\$ROOT,snapshot=on,id=root\" $_a \
		--cmdline \"console=ttyS0 root=/dev/vda rw quiet\$_j\""
}
stat_field() { sed -n "s/^ *\"$1\": \"*\\([^\",]*\\)\"*,*\$/\\1/p" "$SCRATCH/stats.json"; }

# 1. A job from the workspace drive: build with gcc, run the program, write
#    artifacts, exit with a status of its own.
mkdir -p "$SCRATCH/ws/job" "$SCRATCH/ws/src"
cat >"$SCRATCH/ws/src/hello.c" <<'C'
#include <stdio.h>
int main(void) { printf("hello from gcc in the guest\n"); return 0; }
C
cat >"$SCRATCH/ws/job/run" <<'JOB'
#!/bin/sh
set -e
echo "job: running in $(pwd) on $(uname -r)"
mkdir -p out
gcc -O2 -Wall -o out/hello src/hello.c
./out/hello >out/result.txt
echo "job: built and ran out/hello"
exit 7
JOB
chmod 755 "$SCRATCH/ws/job/run"
$W pack "$SCRATCH/ws" "$SCRATCH/ws.img" 256M
expect_true "workspace.sh pack makes the workspace image" [ -f "$SCRATCH/ws.img" ]
boot_rootfs --drive "file=$SCRATCH/ws.img,cache=unsafe,id=workspace" --stats "$SCRATCH/stats.json"
expect_status 7 "the job's own exit status"
expect_output '^job: running in /workspace '
expect_output '^job: built and ran out/hello$'
expect_true "--stats says the status came through the exit port" [ "$(stat_field exit)" = exit-port ]
expect_true "--stats has a boot_ms: the guest started the job ($(stat_field boot_ms) ms)" \
	sh -c "[ -n \"$(stat_field boot_ms)\" ] && [ \"$(stat_field boot_ms)\" != null ]"
expect_true "the workspace is clean after vmm-exit (e2fsck -fn)" /usr/sbin/e2fsck -fn "$SCRATCH/ws.img"
rm -rf "$SCRATCH/art"
$W unpack "$SCRATCH/ws.img" out "$SCRATCH/art"
expect_true "unpack finds the artifact the job wrote" grep -qx 'hello from gcc in the guest' "$SCRATCH/art/out/result.txt"
expect_true "and the program gcc built (an ELF)" sh -c "head -c 4 '$SCRATCH/art/out/hello' | grep -q ELF"
# The guest wrote to its root (systemd's journal, the job's gcc temporaries):
# into its overlay, none of it flushed to the host.
expect_snapshot_stats "$SCRATCH/stats.json" root

# 2. A job on the kernel command line that reports its own status; the
#    uncompressed vmlinux from make-rootfs.sh (seconds faster here) from now
#    on. The job goes base64-encoded (vmm-job's vmm-b64:), as a job must whose
#    words systemd would take for a runlevel: "single" and "1" here.
KERNEL=vmlinux
rm -f "$SCRATCH/stats.json"
boot_rootfs --stats "$SCRATCH/stats.json" -- \
	"vmm-b64:$(printf '%s' 'echo "job: single 1 are my words"; vmm-exit 3' | base64 | tr -d '\n')"
expect_status 3 "vmm-exit 3"
expect_output '^job: single 1 are my words$'
expect_true "--stats: exit-port" [ "$(stat_field exit)" = exit-port ]

# 3. A job that powers the VM off.
rm -f "$SCRATCH/stats.json"
boot_rootfs --stats "$SCRATCH/stats.json" -- poweroff
expect_status 0 "poweroff"
expect_true "--stats: poweroff" [ "$(stat_field exit)" = poweroff ]

# 4. Three guests wrote to their root file system on the image; nothing
#    wrote the file, and their overlays left nothing behind.
expect_true "the rootfs image was not written ($(root_stat))" [ "$(root_stat)" = "$root_before" ]
expect_no_files "$SNAP_TMP"
finish

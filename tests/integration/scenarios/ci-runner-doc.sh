#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: every command in docs/ci-runner.md runs as written (its sh blocks, in order) and does what the page says.
# The golden-image block is run by run.py, which builds the rootfs with it; N=1 runs the parallel block with one job
# (two systemd guests at once in one emulated test host are slow and were seen to fail, see docs/testing.md).
# The page boots the golden image itself with snapshot=on: the image file is not written (its size, blocks, mtime
# and ctime are as before; rootfs-job checks its md5) and the overlays leave nothing in TMPDIR.
# needs: rootfs
# timeout: 600
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

if [ -z "${ROOTFS_DIR:-}" ] || [ ! -f "$ROOTFS_DIR/rootfs.img" ]; then
	ITEST_CHECKS=$((ITEST_CHECKS + 1))
	fail "no rootfs (ROOTFS_DIR=${ROOTFS_DIR:-}): run.py builds it for scenarios with '# needs: rootfs'"
	finish
fi
# The page's commands run from the top of a checkout with vmm on PATH.
top=$SCRATCH/top
mkdir -p "$top/build" "$top/scripts"
ln -s "$ROOTFS_DIR" "$top/build/rootfs"
ln -s "$WORKSPACE_SH" "$top/scripts/workspace.sh"
mkdir -p "$SCRATCH/bin"
ln -s "$VMM" "$SCRATCH/bin/vmm"
# /usr/bin first: GNU tools, as on the Debian host the page is written for.
PATH=$SCRATCH/bin:/usr/bin:$PATH
export PATH N=1
# The page's TMPDIR, where vmm puts the snapshot overlays: empty, to see that they leave nothing.
snapshot_tmpdir
golden_stat() { stat -c '%s bytes, %b blocks, mtime %Y, ctime %Z' "$ROOTFS_DIR/rootfs.img"; }
golden_before=$(golden_stat)

awk '/^```sh *$/ { on = 1; n++; print "echo \"+ --- docs/ci-runner.md, block " n " ---\""; next }
	/^```/ { on = 0; next }
	on' "$CI_RUNNER_DOC" >"$SCRATCH/doc.sh"
nblocks=$(grep -c '^echo "+ --- docs' "$SCRATCH/doc.sh")
echo "+ $nblocks sh blocks from $CI_RUNNER_DOC"
# Streamed as it runs, so a run cut short by the time limit still shows how far it got.
{
	(cd "$top" && sh -x "$SCRATCH/doc.sh") 2>"$ERR"
	echo $? >"$SCRATCH/doc.status"
} | tee "$OUT.raw" | sed 's/^/| /'
STATUS=$(cat "$SCRATCH/doc.status" 2>/dev/null)
tr -d '\r' <"$OUT.raw" >"$OUT"
sed 's/^/! /' "$ERR"

expect_true "the page has its sh blocks ($nblocks)" [ "$nblocks" -ge 4 ]
expect_status 0 "the page's commands, run as one script"
expect_output '^job: built out/hello$'
expect_output "^the job's status: 0$"
expect_output '^hello from the VM$'
expect_true "unpack brought the artifact out" grep -qx 'hello from the VM' "$top/job1-result/out/hello.txt"
expect_output '^job 1: status 0$'
expect_true "the parallel job's console log has its output" grep -q '^job-1 on 1 vCPU' "$top/par1.log"
for s in job1 par1; do
	expect_true "$s.json: the root drive is the golden image, a snapshot drive" \
		grep -q "\"id\": \"root\", \"file\": \"build/rootfs/rootfs.img\", .*\"snapshot\": true" "$top/$s.json"
	expect_stat "$top/$s.json" root overlay_bytes -gt 0
done
expect_true "the golden image was not written ($(golden_stat))" [ "$(golden_stat)" = "$golden_before" ]
expect_true "no image file beside the page's own (no copy of the golden image)" \
	sh -c "[ -z \"\$(find '$top' -maxdepth 1 -name '*.img' ! -name job1.img)\" ]"
expect_no_files "$SNAP_TMP"
finish

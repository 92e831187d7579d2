#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: every command in docs/ci-runner.md runs as written (its sh blocks, in order) and does what the page says.
# The golden-image block is run by run.py, which builds the rootfs with it; N=1 runs the parallel block with one job
# (two systemd guests at once in one emulated test host are slow and were seen to fail, see docs/testing.md).
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
# /usr/bin first: GNU cp (busybox's has no --reflink) in the test host.
PATH=$SCRATCH/bin:/usr/bin:$PATH
export PATH N=1

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
expect_true "the job's root copies were removed" sh -c "! ls '$top'/*-root.img 2>/dev/null | grep -q ."
finish

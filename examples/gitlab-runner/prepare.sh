#!/bin/sh
# SPDX-License-Identifier: MIT
# prepare_exec of the vmm custom executor: the job's own copy of the golden image and its directories.
. "$(dirname "$0")/base.sh"
command -v "$VMM_CI_VMM" >/dev/null 2>&1 || system_failure "vmm ($VMM_CI_VMM) is not installed"
for f in rootfs.img vmlinuz initrd.img; do
	[ -f "$VMM_CI_GOLDEN/$f" ] || system_failure "$VMM_CI_GOLDEN/$f is missing: build the golden image (scripts/make-rootfs.sh $VMM_CI_GOLDEN)"
done
[ -x "$VMM_CI_WORKSPACE_SH" ] || system_failure "$VMM_CI_WORKSPACE_SH is missing: put scripts/workspace.sh from vmm's sources there"
rm -rf "$JOB"
mkdir -p "$WS/builds" "$JOB/cache" || system_failure "cannot make $JOB"
# The job writes to its root file system, never to the golden image: it gets
# a copy (a reflink clone where the file system can, else a sparse copy).
cp --reflink=auto --sparse=always "$VMM_CI_GOLDEN/rootfs.img" "$JOB/root.img" ||
	system_failure "cannot copy the golden image to $JOB/root.img"
echo "vmm-executor: job $CUSTOM_ENV_CI_JOB_ID: $VMM_CI_CPUS vCPUs, $VMM_CI_MEMORY, image $VMM_CI_GOLDEN"

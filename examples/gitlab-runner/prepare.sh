#!/bin/sh
# SPDX-License-Identifier: MIT
# prepare_exec of the vmm custom executor: checks the golden image is there and makes the job's directories (no copy: the VMs boot it with snapshot=on).
. "$(dirname "$0")/base.sh"
command -v "$VMM_CI_VMM" >/dev/null 2>&1 || system_failure "vmm ($VMM_CI_VMM) is not installed"
for f in rootfs.img vmlinuz initrd.img; do
	[ -f "$VMM_CI_GOLDEN/$f" ] || system_failure "$VMM_CI_GOLDEN/$f is missing: build the golden image (scripts/make-rootfs.sh $VMM_CI_GOLDEN)"
done
[ -x "$VMM_CI_WORKSPACE_SH" ] || system_failure "$VMM_CI_WORKSPACE_SH is missing: put scripts/workspace.sh from vmm's sources there"
[ -r "$VMM_CI_GOLDEN/rootfs.img" ] || system_failure "$VMM_CI_GOLDEN/rootfs.img cannot be read by $(id -un)"
# No copy of the golden image: run.sh boots it with snapshot=on, and the
# job's writes to its root go to a throwaway overlay in VMM_CI_TMPDIR.
if ! [ -d "$VMM_CI_TMPDIR" ] || ! [ -w "$VMM_CI_TMPDIR" ]; then
	system_failure "VMM_CI_TMPDIR=$VMM_CI_TMPDIR is not a writable directory (the VMs' overlays go there)"
fi
rm -rf "$JOB"
mkdir -p "$WS/builds" "$JOB/cache" || system_failure "cannot make $JOB"
echo "vmm-executor: job $CUSTOM_ENV_CI_JOB_ID: $VMM_CI_CPUS vCPUs, $VMM_CI_MEMORY, image $VMM_CI_GOLDEN"

#!/bin/sh
# SPDX-License-Identifier: MIT
# run_exec of the vmm custom executor: run.sh SCRIPT STAGE. The job's own stages boot a vmm VM; GitLab's plumbing runs here.
#
# GitLab Runner calls this once per stage, in order, with the path of a bash
# script it generated and the stage's name. The stages that run the user's
# commands (step_*, build_script, after_script) run inside a VM booted from
# the golden image itself with snapshot=on: the guest may write its root file
# system, but the writes go to a throwaway overlay in VMM_CI_TMPDIR and the
# image never changes, so every VM stage starts from the image as built and
# only the builds directory carries over. The others (git, caches, artifacts) need
# the network and GitLab's helper, which the VM does not have, and run here in
# the job's builds directory, as the shell executor would run them.
#
# A VM stage: the builds directory and a wrapper job/run go into a workspace
# image (scripts/workspace.sh pack); the guest's vmm-job mounts it on
# /workspace, links the builds directory's host path to it (GitLab's scripts
# cd there) and runs the stage script; vmm exits with the script's status and
# the builds directory comes back out (workspace.sh unpack), artifacts and all.
# The exit status says whose fault a failure was (docs/ci-runner.md):
#   0                         the stage passed;
#   BUILD_FAILURE_EXIT_CODE   the guest started the job (vmm's --stats has a
#                             boot_ms) and the job failed, hung past its
#                             timeout or crashed the guest;
#   SYSTEM_FAILURE_EXIT_CODE  the VM never started the job (no boot_ms), or
#                             vmm failed (no --stats, an error, a signal).
. "$(dirname "$0")/base.sh"
[ $# -ge 2 ] || system_failure "run.sh needs SCRIPT STAGE (GitLab Runner's run_exec arguments)"
script=$1 stage=$2
[ -f "$script" ] || system_failure "stage $stage: no script $script"

case $stage in
step_* | build_script | after_script) ;;
*)
	bash "$script" || build_failure "stage $stage failed"
	exit 0
	;;
esac

[ -d "$WS/builds" ] || system_failure "stage $stage: $WS/builds is missing (did prepare.sh run?)"
mkdir -p "$WS/job" || system_failure "cannot write $WS/job"
cp "$script" "$WS/job/stage" || system_failure "cannot copy $script"
cat >"$WS/job/run" <<WRAPPER
#!/bin/sh
# GitLab stage $stage of job $CUSTOM_ENV_CI_JOB_ID, run by vmm-job in the VM.
ws=\$(cd "\$(dirname "\$0")/.." && pwd)
mkdir -p "$WS" && ln -sfn "\$ws/builds" "$WS/builds" || exit 126
exec bash "\$ws/job/stage"
WRAPPER
chmod 755 "$WS/job/run"

"$VMM_CI_WORKSPACE_SH" pack "$WS" "$JOB/ws.img" || system_failure "stage $stage: cannot pack $WS into $JOB/ws.img"
# Out of the way while the VM has the tree: it comes back from the image,
# or, if the VM never ran the job, from here.
rm -rf "$JOB/builds.host"
mv "$WS/builds" "$JOB/builds.host" || system_failure "cannot move $WS/builds aside"
restore() { rm -rf "$WS/builds"; mv "$JOB/builds.host" "$WS/builds"; }

timeout=${CUSTOM_ENV_CI_JOB_TIMEOUT:-$VMM_CI_TIMEOUT}
case $timeout in '' | *[!0-9]*) timeout=$VMM_CI_TIMEOUT ;; esac
rm -f "$JOB/stats.json"
TMPDIR=$VMM_CI_TMPDIR "$VMM_CI_VMM" --kernel "$VMM_CI_GOLDEN/vmlinuz" --initrd "$VMM_CI_GOLDEN/initrd.img" \
	--memory "$VMM_CI_MEMORY" --cpus "$VMM_CI_CPUS" --timeout "$timeout" \
	--drive "file=$VMM_CI_GOLDEN/rootfs.img,snapshot=on,id=root" \
	--drive "file=$JOB/ws.img,cache=unsafe,id=workspace" \
	--cmdline "console=ttyS0 root=/dev/vda rw quiet" --stats "$JOB/stats.json" </dev/null &
pid=$!
# GitLab stops a cancelled job with SIGTERM: vmm then stops the guest and exits 143.
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT
while :; do
	wait "$pid"
	st=$?
	kill -0 "$pid" 2>/dev/null || break
done
trap - TERM INT

kind= boot=
if [ -f "$JOB/stats.json" ]; then
	kind=$(sed -n 's/^ *"exit": "\([a-z-]*\)",*$/\1/p' "$JOB/stats.json")
	boot=$(sed -n 's/^ *"boot_ms": \([0-9.]*\),*$/\1/p' "$JOB/stats.json")
fi
case $kind in
exit-port | poweroff | timeout | reset | triple-fault) [ -n "$boot" ] || {
	restore
	system_failure "stage $stage: the VM did not boot far enough to start the job (vmm status $st, $kind)"
} ;;
*)
	restore
	system_failure "stage $stage: vmm failed (status $st${kind:+, $kind}; see its message above)"
	;;
esac
rm -rf "$WS/builds"
if ! "$VMM_CI_WORKSPACE_SH" unpack "$JOB/ws.img" builds "$WS"; then
	restore
	system_failure "stage $stage: cannot unpack the builds directory from $JOB/ws.img"
fi
rm -rf "$JOB/builds.host"
[ "$st" = 0 ] && exit 0
[ -z "${BUILD_EXIT_CODE_FILE:-}" ] || echo "$st" >"$BUILD_EXIT_CODE_FILE"
case $kind in
timeout) build_failure "stage $stage: the job ran past its time limit of ${timeout}s" ;;
reset | triple-fault) build_failure "stage $stage: the guest crashed or rebooted during the job ($kind)" ;;
esac
build_failure "stage $stage: the job exited with status $st"

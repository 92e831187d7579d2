#!/bin/sh
# SPDX-License-Identifier: MIT
# Drives examples/gitlab-runner as GitLab Runner's custom executor would (stages in order, its variables), with a fake vmm.
# usage: gitlab-executor.sh REPO
#
# No KVM: tests/ci/fake-vmm stands in for vmm on PATH and plays the guest
# (it runs the workspace's job/run on the host). Checks that a passing job
# passes every stage and its artifact reaches the host's upload stage, that a
# failing job maps to BUILD_FAILURE_EXIT_CODE (and its own status to
# BUILD_EXIT_CODE_FILE), a job that hangs too, and that a VM that never starts
# the job or a vmm that fails maps to SYSTEM_FAILURE_EXIT_CODE. The VM
# stages boot the golden image itself with snapshot=on, and no stage script
# ever copies it.
set -u
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$1" && pwd)
EX=$REPO/examples/gitlab-runner
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT

# The executor's installation: the four scripts, its settings and
# workspace.sh beside them, as config.toml says.
mkdir -p "$T/opt" "$T/bin" "$T/golden" "$T/jobs" "$T/overlays"
cp "$EX"/*.sh "$EX/vmm-executor.conf" "$T/opt/"
cp "$REPO/scripts/workspace.sh" "$T/opt/workspace.sh"
cp "$REPO/tests/ci/fake-vmm" "$T/bin/vmm"
head -c 1048576 /dev/urandom >"$T/golden/rootfs.img"
echo kernel >"$T/golden/vmlinuz"
echo initrd >"$T/golden/initrd.img"
golden_sum=$(md5sum <"$T/golden/rootfs.img")
export PATH="$T/bin:$PATH" VMM_CI_GOLDEN=$T/golden VMM_CI_JOBS=$T/jobs VMM_CI_TMPDIR="$T/overlays"
export FAKE_VMM_LOG=$T/vmm.log FAKE_WORKSPACE_SH=$REPO/scripts/workspace.sh FAKE_JOBS=$T/jobs
export FAKE_SCAN_DIR="$T" FAKE_GOLDEN="$T/golden/rootfs.img" FAKE_GOLDEN_SUM="$golden_sum"
# golden_copies: the files under $T, besides the golden image, that are copies of it
# (the same size, then the same md5: the workspace images are large and sparse).
golden_copies() {
	find "$T" -type f -size 1048576c ! -path "$T/golden/rootfs.img" | while IFS= read -r f; do
		[ "$(md5sum <"$f")" = "$golden_sum" ] && echo "$f"
	done
}
# What GitLab Runner sets for every stage script: its failure codes (not the
# usual 1 and 2 here, so a script that hard-codes those fails the test) and
# the job's variables with the CUSTOM_ENV_ prefix.
export BUILD_FAILURE_EXIT_CODE=37 SYSTEM_FAILURE_EXIT_CODE=38
export CUSTOM_ENV_CI_JOB_ID=4242 CUSTOM_ENV_CI_JOB_TIMEOUT=600 CUSTOM_ENV_CI_PROJECT_NAME=demo

# stage NAME BODY: write GitLab's generated script for a stage into a fresh
# temporary directory and call run_exec with its path and the stage name, from
# another temporary directory, as the runner does. Sets $rc.
stage() {
	_d=$(mktemp -d "$T/stage.XXXXXX")
	{
		echo '#!/usr/bin/env bash'
		echo 'set -eo pipefail'
		echo "export CI_JOB_ID=$CUSTOM_ENV_CI_JOB_ID CI_PROJECT_DIR='$PROJECT' CI_BUILDS_DIR='$BUILDS'"
		printf '%s\n' "$2"
	} >"$_d/script."
	(cd "$_d" && "$T/opt/run.sh" "$_d/script." "$1") >"$T/out.$1" 2>&1
	rc=$?
	echo "+ run.sh $1 -> $rc"
	sed 's/^/  | /' "$T/out.$1"
}

# job USER_STATUS: config, prepare, then the stages in GitLab's order; the
# job's step_script builds an artifact and exits USER_STATUS. Stops at a
# system failure, as GitLab does; the caller runs cleanup.
job() {
	: >"$FAKE_VMM_LOG"
	rm -f "$T/exit-code"
	export BUILD_EXIT_CODE_FILE=$T/exit-code
	cfg=$(cd "$T" && "$T/opt/config.sh")
	echo "+ config.sh -> $cfg"
	BUILDS=$(printf '%s' "$cfg" | sed -n 's/.*"builds_dir": "\([^"]*\)".*/\1/p')
	PROJECT=$BUILDS/t0ken/0/group/demo
	(cd "$T" && "$T/opt/prepare.sh") >"$T/out.prepare" 2>&1
	prep=$?
	echo "+ prepare.sh -> $prep"
	sed 's/^/  | /' "$T/out.prepare"
	copies_after_prepare=$(golden_copies)
	[ "$prep" = 0 ] || return 0
	st_prepare_script= st_step= st_after= st_upload=
	stage prepare_script 'echo "Running on $(hostname)"'
	stage get_sources 'mkdir -p "$CI_PROJECT_DIR" && cd "$CI_PROJECT_DIR" && echo "int main(void) { return 0; }" >main.c'
	stage restore_cache 'cd "$CI_PROJECT_DIR"'
	stage download_artifacts 'cd "$CI_PROJECT_DIR"'
	stage step_script "cd \"\$CI_PROJECT_DIR\" && echo \"built from \$(cat main.c)\" >artifact.txt && echo step-ran && exit $1"
	st_step=$rc
	[ "$rc" = "$SYSTEM_FAILURE_EXIT_CODE" ] && return 0
	stage after_script 'cd "$CI_PROJECT_DIR" && echo after >>artifact.txt'
	st_after=$rc
	[ "$rc" = "$SYSTEM_FAILURE_EXIT_CODE" ] && return 0
	if [ "$st_step" = 0 ]; then
		stage archive_cache 'cd "$CI_PROJECT_DIR"'
		stage upload_artifacts_on_success 'cd "$CI_PROJECT_DIR" && cat artifact.txt >"'"$T"'/uploaded"'
	else
		stage archive_cache_on_failure 'cd "$CI_PROJECT_DIR"'
		stage upload_artifacts_on_failure 'cd "$CI_PROJECT_DIR" && cat artifact.txt >"'"$T"'/uploaded"'
	fi
	st_upload=$rc
	stage cleanup_file_variables 'true'
}
cleanup() {
	(cd "$T" && "$T/opt/cleanup.sh")
	echo "+ cleanup.sh -> $?"
}

echo "=== a job that passes"
rm -f "$T/uploaded"
job 0
check "prepare passes" [ "$prep" = 0 ]
check "prepare made no copy of the golden image" [ -z "$copies_after_prepare" ]
check "config.sh gives a builds_dir of this job's own" [ "$BUILDS" = "$T/jobs/4242/ws/builds" ]
check "step_script passes" [ "$st_step" = 0 ]
check "the step ran in the VM and its output reached the job log" grep -q '^step-ran$' "$T/out.step_script"
check "after_script passes" [ "$st_after" = 0 ]
check "upload_artifacts_on_success passes" [ "$st_upload" = 0 ]
check "the artifact the VM built (and after_script extended) reached the host's upload stage" \
	[ "$(cat "$T/uploaded" 2>/dev/null)" = "built from int main(void) { return 0; }
after" ]
check "vmm ran once per VM stage (step_script, after_script), and only for those" [ "$(grep -c '^vmm --kernel ' "$FAKE_VMM_LOG")" = 2 ]
drives="--drive file=$T/golden/rootfs.img,snapshot=on,id=root --drive file=$T/jobs/4242/ws.img,cache=unsafe,id=workspace --cmdline"
check "each VM stage's vmm got the golden image itself, snapshot=on, as root and the workspace as its drives" \
	[ "$(grep -c -e "$drives" "$FAKE_VMM_LOG")" = 2 ]
check "vmm's snapshot overlays go to VMM_CI_TMPDIR" [ "$(grep -c "^tmpdir $T/overlays\$" "$FAKE_VMM_LOG")" = 2 ]
check "no copy of the golden image existed while a VM ran" sh -c "! grep '^golden-copy ' '$FAKE_VMM_LOG'"
check "nor after the job's last stage" [ -z "$(golden_copies)" ]
check "vmm got CI_JOB_TIMEOUT as --timeout, the golden kernel and --stats" \
	grep -q -- "--kernel $T/golden/vmlinuz --initrd $T/golden/initrd.img .*--timeout 600 .*--stats $T/jobs/4242/stats.json" "$FAKE_VMM_LOG"
check "the root file system is /dev/vda, read-write" grep -q -- "--cmdline console=ttyS0 root=/dev/vda rw quiet" "$FAKE_VMM_LOG"
cleanup
check "cleanup leaves nothing of the job" [ ! -e "$T/jobs/4242" ]
check "the golden image is unchanged" [ "$(md5sum <"$T/golden/rootfs.img")" = "$golden_sum" ]

echo "=== a job whose script fails with status 3"
rm -f "$T/uploaded"
job 3
check "step_script gives BUILD_FAILURE_EXIT_CODE" [ "$st_step" = 37 ]
check "the job's own status goes to BUILD_EXIT_CODE_FILE" [ "$(cat "$T/exit-code" 2>/dev/null)" = 3 ]
check "after_script still runs in a VM and passes" [ "$st_after" = 0 ]
check "upload_artifacts_on_failure gets what the failed job wrote" \
	[ "$(head -n1 "$T/uploaded" 2>/dev/null)" = "built from int main(void) { return 0; }" ]
cleanup

echo "=== a job that hangs until vmm's --timeout"
FAKE_VMM_MODE=hang job 0
check "step_script gives BUILD_FAILURE_EXIT_CODE" [ "$st_step" = 37 ]
check "and says the job ran out of time" grep -q 'past its time limit of 600s' "$T/out.step_script"
cleanup

echo "=== a VM that never starts the job"
FAKE_VMM_MODE=no-boot job 0
check "step_script gives SYSTEM_FAILURE_EXIT_CODE" [ "$st_step" = 38 ]
check "and says the VM did not boot" grep -q 'did not boot far enough' "$T/out.step_script"
check "the host's builds directory is back as it was" [ -f "$PROJECT/main.c" ] && [ ! -e "$PROJECT/artifact.txt" ]
cleanup

echo "=== a vmm that fails before the VM runs"
FAKE_VMM_MODE=crash job 0
check "step_script gives SYSTEM_FAILURE_EXIT_CODE" [ "$st_step" = 38 ]
check "the host's builds directory is back as it was" [ -f "$PROJECT/main.c" ]
cleanup

echo "=== a runner whose VMM_CI_TMPDIR does not exist"
VMM_CI_TMPDIR=$T/no-such-dir job 0
check "prepare gives SYSTEM_FAILURE_EXIT_CODE" [ "$prep" = 38 ]
check "and names VMM_CI_TMPDIR" grep -q "VMM_CI_TMPDIR=$T/no-such-dir is not a writable directory" "$T/out.prepare"
cleanup

echo "=== a golden image whose path has a comma (vmm's --drive could not take it)"
VMM_CI_GOLDEN=$T/gold,en job 0
check "prepare gives SYSTEM_FAILURE_EXIT_CODE" [ "$prep" = 38 ]
check "and says why" grep -q "VMM_CI_GOLDEN=$T/gold,en: a path with a comma" "$T/out.prepare"
cleanup

echo "=== a runner without its golden image"
mv "$T/golden" "$T/golden.away"
job 0
check "prepare gives SYSTEM_FAILURE_EXIT_CODE" [ "$prep" = 38 ]
check "and names the missing image" grep -q 'rootfs.img is missing' "$T/out.prepare"
mv "$T/golden.away" "$T/golden"
cleanup

ci_finish

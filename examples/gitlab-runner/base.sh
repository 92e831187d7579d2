# SPDX-License-Identifier: MIT
# Sourced by the vmm custom executor's stage scripts: settings, the job's directory, the failure exits.
#
# GitLab Runner sets BUILD_FAILURE_EXIT_CODE and SYSTEM_FAILURE_EXIT_CODE for
# every stage script and passes the job's variables as CUSTOM_ENV_*; the job
# directory is named after CUSTOM_ENV_CI_JOB_ID, unique among running jobs.
VMM_CI_HERE=$(cd "$(dirname "$0")" && pwd)
. "$VMM_CI_HERE/vmm-executor.conf"

say() { echo "vmm-executor: $*" >&2; }
# The runner's fault (a broken VM, a missing image): GitLab may retry the job.
system_failure() { say "$*"; exit "${SYSTEM_FAILURE_EXIT_CODE:-2}"; }
# The job's own fault (its script failed or hung).
build_failure() { say "$*"; exit "${BUILD_FAILURE_EXIT_CODE:-1}"; }

[ -n "${CUSTOM_ENV_CI_JOB_ID:-}" ] || system_failure "CUSTOM_ENV_CI_JOB_ID is not set: run this through GitLab Runner's custom executor"
case $CUSTOM_ENV_CI_JOB_ID in *[!0-9]*) system_failure "CUSTOM_ENV_CI_JOB_ID $CUSTOM_ENV_CI_JOB_ID is not a job id" ;; esac
JOB=$VMM_CI_JOBS/$CUSTOM_ENV_CI_JOB_ID
# The tree the VM stages see as /workspace: builds/ is GitLab's builds_dir
# for this job, job/run is written per stage.
WS=$JOB/ws
# The job directory's path is written into the guest's stage wrapper.
case $JOB in *[!A-Za-z0-9/._-]*) system_failure "VMM_CI_JOBS=$VMM_CI_JOBS: use a path of letters, digits and / . _ - only" ;; esac
# The golden image's path goes into vmm's --drive, where a comma separates keys.
case $VMM_CI_GOLDEN in *,*) system_failure "VMM_CI_GOLDEN=$VMM_CI_GOLDEN: a path with a comma cannot go into vmm's --drive file=" ;; esac

#!/bin/sh
# SPDX-License-Identifier: MIT
# cleanup_exec of the vmm custom executor: nothing of the job is left behind.
. "$(dirname "$0")/base.sh"
rm -rf "$JOB"

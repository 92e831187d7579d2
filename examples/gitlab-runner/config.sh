#!/bin/sh
# SPDX-License-Identifier: MIT
# config_exec of the vmm custom executor: per-job builds and cache directories, as JSON on stdout.
. "$(dirname "$0")/base.sh"
printf '{"builds_dir": "%s", "cache_dir": "%s", "builds_dir_is_shared": false, "hostname": "%s", "driver": {"name": "vmm", "version": "%s"}}\n' \
	"$WS/builds" "$JOB/cache" "$(hostname)" "$("$VMM_CI_VMM" --version 2>/dev/null | head -n1 | tr -d '"\\')"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Coverage-guided fuzzing of vmm's fuzz targets (tests/fuzz) with libFuzzer, under ASan+UBSan.
#
#   scripts/fuzz.sh [-t SECONDS] [TARGET...]      default: every target, 300 s each, one after another
#
# Builds build-fuzz with clang (-Dfuzz=true), copies each target's committed corpus to
# build-fuzz/corpus/NAME (libFuzzer adds the inputs that reach new code there) and runs the target.
# A crash, hang (10 s) or leak is saved under build-fuzz/crashes/NAME and makes the script exit 1. Minimise it
# (build-fuzz/tests/fuzz/fuzz_NAME -minimize_crash=1 -runs=10000 CRASH), fix the bug, and commit the
# minimised input into the target's corpus with the fix, so `meson test --suite fuzz` replays it.
# `meson test --suite fuzz` (part of scripts/test.sh) only replays the corpus plus seeded mutations;
# this script is the long, coverage-guided search.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=300
while getopts t:h opt; do
	case $opt in
	t) secs=$OPTARG ;;
	*) sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
case $secs in
'' | *[!0-9]*) echo "fuzz.sh: -t $secs: give whole seconds, e.g. -t 600" >&2; exit 2 ;;
esac

scripts/deps.sh clang-14 libclang-rt-14-dev

[ -f build-fuzz/build.ninja ] ||
	CC=clang-14 meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
meson compile -C build-fuzz >/dev/null

# name, executable and committed corpus of every target, as tests/fuzz/meson.build registered them
mapfile -t targets < <(python3 - build-fuzz <<'PY'
import json, sys, os
for t in json.load(open(os.path.join(sys.argv[1], "meson-info", "intro-tests.json"))):
    if any(s.split(":")[-1] == "fuzz" for s in t["suite"]):
        print(t["name"][len("fuzz_"):], t["cmd"][0], t["cmd"][-1])
PY
)
[ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh: no fuzz targets were built" >&2; exit 1; }

want=("$@")
status=0
ran=0
for line in "${targets[@]}"; do
	read -r name exe seeds <<<"$line"
	if [ ${#want[@]} -gt 0 ] && ! printf '%s\n' "${want[@]}" | grep -qx "$name"; then
		continue
	fi
	ran=$((ran + 1))
	corpus=$PWD/build-fuzz/corpus/$name
	crashes=$PWD/build-fuzz/crashes/$name
	mkdir -p "$corpus" "$crashes"
	cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
	log=build-fuzz/fuzz_$name.log
	echo "== fuzz_$name for ${secs}s (corpus $corpus, log $log)"
	rc=0
	"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1 || rc=$?
	grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|SUMMARY)' "$log" || true
	if [ "$rc" -ne 0 ]; then
		echo "fuzz.sh: fuzz_$name failed (status $rc); see $log, inputs in $crashes" >&2
		status=1
	fi
done
[ "$ran" -gt 0 ] || { echo "fuzz.sh: no target named ${want[*]}; the targets are: ${targets[*]%% *}" >&2; exit 2; }
exit $status

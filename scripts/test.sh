#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run every test: unit, kvm-smoke, cli, bench-smoke, fuzz, integration and integration-arm64 on the normal build;
# all but the integration suites on ASan+UBSan; unit, kvm-smoke and bench-smoke on ThreadSanitizer (its build
# without -Werror: GCC warns that TSan ignores the virtqueue's fences). The arm64 vmm is cross-built (static) in
# build-arm64, which integration-arm64 boots in the emulated arm64 test host.
# Installs what it needs; builds the guest and test-host images on first use (cached under build/).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --arm64

[ -f build/build.ninja ] || meson setup build
meson compile -C build
[ -f build-arm64/build.ninja ] || meson setup build-arm64 --cross-file cross/aarch64-linux-gnu.ini
meson compile -C build-arm64
export VMM_ITEST_ARM64_BUILD=$PWD/build-arm64
[ -f build-san/build.ninja ] || meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-san
[ -f build-tsan/build.ninja ] || meson setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dwerror=false
meson compile -C build-tsan

status=0
meson test -C build --print-errorlogs --num-processes 2 || status=1
meson test -C build-san --suite unit --suite kvm-smoke --suite cli --suite bench-smoke --suite fuzz --print-errorlogs || status=1
meson test -C build-tsan --suite unit --suite kvm-smoke --suite bench-smoke --print-errorlogs || status=1

# One closing line over all three runs, in the plain form CI reads.
python3 - build/meson-logs/testlog.json build-san/meson-logs/testlog.json build-tsan/meson-logs/testlog.json <<'PY'
import json, sys
count = {"OK": 0, "FAIL": 0, "SKIP": 0}
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)["result"]
        key = {"OK": "OK", "EXPECTEDFAIL": "OK", "SKIP": "SKIP"}.get(r, "FAIL")
        count[key] += 1
print(f"{count['OK']} passed, {count['FAIL']} failed, {count['SKIP']} skipped")
PY
exit $status

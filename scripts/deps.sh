#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages vmm's build, tests, guest image and benchmarks need (idempotent).
# usage: scripts/deps.sh [EXTRA_PACKAGE...]   (e.g. scripts/fuzz.sh adds clang's)
set -euo pipefail

pkgs=(
	# build
	gcc meson ninja-build pkg-config liburing-dev libinih-dev libcmocka-dev
	# guest image and emulated test host (tests/guest, tests/host)
	busybox-static cpio kmod xz-utils e2fsprogs qemu-system-x86 python3
	# the Debian rootfs (scripts/make-rootfs.sh) and the man page test
	mmdebstrap man-db groff-base
	# unit tests (iasl decompiles our ACPI tables), cli tests (qemu-img makes images vmm must refuse), benchmarks
	acpica-tools qemu-utils fio util-linux
	"$@"
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

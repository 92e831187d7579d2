#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages vmm's build, tests, guest image and benchmarks need (idempotent).
# usage: scripts/deps.sh [--arm64] [EXTRA_PACKAGE...]   (e.g. scripts/fuzz.sh adds clang's)
#   --arm64  also what the arm64 cross build (cross/aarch64-linux-gnu.ini) and the arm64 test
#            host (tests/host-arm64) need
set -euo pipefail

arm64=0
if [ "${1:-}" = --arm64 ]; then
	arm64=1
	shift
fi

pkgs=(
	# build
	gcc meson ninja-build pkg-config liburing-dev libinih-dev libcmocka-dev libfdt-dev zlib1g-dev liblzma-dev libzstd-dev libseccomp-dev
	# guest image and emulated test host (tests/guest, tests/host)
	busybox-static cpio kmod xz-utils e2fsprogs qemu-system-x86 python3
	# the Debian rootfs (scripts/make-rootfs.sh) and the man page test
	mmdebstrap man-db groff-base
	# unit tests (iasl decompiles our ACPI tables, dtc our device trees, mkfs.xfs makes the XFS the
	# snapshot overlay's reflink path runs on), cli tests (qemu-img makes images vmm must refuse), benchmarks
	acpica-tools device-tree-compiler xfsprogs qemu-utils fio util-linux
	"$@"
)
if [ "$arm64" = 1 ]; then
	# The cross compiler and the static libraries the arm64 vmm links, and the emulated arm64 test host.
	pkgs+=(gcc-aarch64-linux-gnu liburing-dev:arm64 libinih-dev:arm64 zlib1g-dev:arm64 liblzma-dev:arm64 libzstd-dev:arm64 libseccomp-dev:arm64 qemu-system-arm)
fi

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
if [ "$arm64" = 1 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
	echo "deps: dpkg --add-architecture arm64"
	"${sudo[@]}" dpkg --add-architecture arm64
	"${sudo[@]}" apt-get update -qq
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libfdt-dev is not Multi-Arch: its arm64 package would replace the amd64 one. Its libfdt.a
# alone goes where Debian's cross packages put arm64 libraries, which the cross gcc searches;
# the headers are the amd64 package's (they are the same for both).
fdt_a=/usr/aarch64-linux-gnu/lib/libfdt.a
if [ "$arm64" = 1 ] && [ ! -f "$fdt_a" ]; then
	echo "deps: libfdt.a for arm64 into $fdt_a"
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -qq libfdt-dev:arm64 2>/dev/null && dpkg -x libfdt-dev_*_arm64.deb x)
	"${sudo[@]}" install -D -m 644 "$tmp/x/usr/lib/aarch64-linux-gnu/libfdt.a" "$fdt_a"
	rm -rf "$tmp"
fi
exit 0

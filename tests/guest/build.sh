#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the integration-test guest (kernel, vmlinux, busybox initramfs) from Debian packages only.
#
# usage: tests/guest/build.sh OUTDIR [--with-fio]
#
# Outputs: OUTDIR/vmlinuz (bzImage), OUTDIR/vmlinux (uncompressed ELF taken from
# the bzImage payload), OUTDIR/initrd.img (gzip newc cpio), OUTDIR/kernel-version,
# and with --with-fio also OUTDIR/initrd-fio.img (the same plus fio and its libs;
# fio comes from the installed Debian package `fio`, installed when missing).
# The base image has util-linux's fallocate (installed, with its libraries) as
# /usr/bin/fallocate.util-linux: busybox's has no -z or -p, which a scenario
# needs to make the guest send WRITE_ZEROES.
# A second run with unchanged inputs (this script, /init, the resolved package
# versions) does nothing; downloaded .debs stay in OUTDIR/debs.
set -eu
LOG_TAG=guest-build
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/debian.sh"

[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [--with-fio]" >&2; exit 2; }
OUT=$1
shift
WITH_FIO=0
for a in "$@"; do
	case $a in
	--with-fio) WITH_FIO=1 ;;
	*) echo "$0: unknown option $a" >&2; exit 2 ;;
	esac
done

# The modules the guest loads at boot, dependencies resolved from modules.dep.
GUEST_MODULES="virtio_mmio virtio_blk"
# Present in the image (for `modprobe` by a scenario) but not loaded at boot.
GUEST_EXTRA_MODULES="ext4 crc32c_generic"

need_cmd apt-get apt
need_cmd dpkg-deb dpkg
need_cmd cpio cpio
need_cmd depmod kmod
need_cmd xz xz-utils
need_cmd gzip gzip
need_cmd od coreutils

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
KPKG=$(kernel_pkg)
KPKG_V=$(pkg_version "$KPKG")
BB_V=$(pkg_version busybox-static)
need_pkg util-linux
UL_V=$(dpkg-query -W -f='${Version}' util-linux)
LIBC_V=$(dpkg-query -W -f='${Version}' libc6)

# Everything that decides the output goes into the stamp.
inputs=$(
	cat "$HERE/build.sh" "$HERE/debian.sh" "$HERE/init"
	echo "$KPKG=$KPKG_V busybox-static=$BB_V util-linux=$UL_V libc6=$LIBC_V"
	echo "modules: $GUEST_MODULES / $GUEST_EXTRA_MODULES"
)
stamp=$(printf '%s' "$inputs" | sha256sum | cut -d' ' -f1)
# build_fio: OUTDIR/initrd-fio.img = initrd.img followed by a second gzip'd
# cpio holding fio and its libraries. The kernel unpacks concatenated
# archives in order, so the fio part builds on its own (and has its own stamp)
# without redoing the base image.
build_fio() {
	need_pkg fio
	FIO_V=$(dpkg-query -W -f='${Version}' fio)
	fstamp=$(printf '%s fio=%s' "$stamp" "$FIO_V" | sha256sum | cut -d' ' -f1)
	if [ -f "$OUT/fio-stamp" ] && [ "$(cat "$OUT/fio-stamp")" = "$fstamp" ] && [ -f "$OUT/initrd-fio.img" ]; then
		log "fio initrd up to date"
		return 0
	fi
	rm -f "$OUT/fio-stamp"
	FROOT=$OUT/work-fio
	rm -rf "$FROOT"
	mkdir -p "$FROOT/usr/bin"
	# fio's many optional engines (rbd, rados, gluster, rdma...) are shared
	# libraries it links against; installing the package lets ldd resolve
	# them all, and they are copied with the binary.
	copy_with_libs "$FROOT" /usr/bin/fio
	cp /usr/bin/fio "$FROOT/usr/bin/fio"
	mkcpio "$FROOT" "$OUT/fio.cpio.gz"
	cat "$OUT/initrd.img" "$OUT/fio.cpio.gz" >"$OUT/initrd-fio.img.tmp"
	mv "$OUT/initrd-fio.img.tmp" "$OUT/initrd-fio.img"
	rm -rf "$FROOT" "$OUT/fio.cpio.gz"
	echo "$fstamp" >"$OUT/fio-stamp"
	log "fio initrd built (fio $FIO_V)"
}
mkcpio() { (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -6 >"$2"; }

if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$stamp" ] &&
	[ -f "$OUT/vmlinuz" ] && [ -f "$OUT/vmlinux" ] && [ -f "$OUT/initrd.img" ]; then
	log "up to date ($OUT)"
	[ "$WITH_FIO" = 0 ] || build_fio
	exit 0
fi
# A fio initrd made from an older base image must not outlive it.
rm -f "$OUT/stamp" "$OUT/fio-stamp" "$OUT/initrd-fio.img"

DEBS=${ITEST_DEB_CACHE:-$OUT/debs}
WORK=$OUT/work
rm -rf "$WORK"
mkdir -p "$WORK/kernel" "$WORK/busybox"

log "kernel package $KPKG $KPKG_V"
dpkg -x "$(fetch_deb "$KPKG" "$DEBS")" "$WORK/kernel"
dpkg -x "$(fetch_deb busybox-static "$DEBS")" "$WORK/busybox"
KVER=$(ls "$WORK/kernel/lib/modules")
[ -n "$KVER" ] && [ -f "$WORK/kernel/boot/vmlinuz-$KVER" ] || die "unexpected layout of $KPKG"

# What the guest relies on being built in (=y) or modular (=m). Noted in
# docs/testing.md; checked here so a Debian config change fails the build,
# not a boot an hour later.
check_config "$WORK/kernel/boot/config-$KVER" \
	SERIAL_8250=y SERIAL_8250_CONSOLE=y DEVTMPFS=y DEVPORT=y BLK_DEV_INITRD=y RD_GZIP=y \
	ACPI=y PVH=y BINFMT_SCRIPT=y TMPFS=y PROC_FS=y SYSFS=y IO_URING=y \
	VIRTIO=m VIRTIO_MMIO=m VIRTIO_BLK=m

depmod -b "$WORK/kernel" "$KVER"

# --- kernel images -----------------------------------------------------------
cp "$WORK/kernel/boot/vmlinuz-$KVER" "$OUT/vmlinuz.tmp"
extract_vmlinux "$OUT/vmlinuz.tmp" "$OUT/vmlinux.tmp"
mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
mv "$OUT/vmlinux.tmp" "$OUT/vmlinux"
echo "$KVER" >"$OUT/kernel-version"
cp "$WORK/kernel/boot/config-$KVER" "$OUT/config"

# --- initramfs ---------------------------------------------------------------
ROOT=$WORK/root
mkdir -p "$ROOT/bin" "$ROOT/sbin" "$ROOT/etc/vmm-guest" "$ROOT/proc" "$ROOT/sys" \
	"$ROOT/dev" "$ROOT/tmp" "$ROOT/root" "$ROOT/mnt" "$ROOT/usr/bin" "$ROOT/usr/sbin"
busybox_root "$ROOT" "$WORK/busybox/bin/busybox" "$HERE/init"
copy_with_libs "$ROOT" /usr/bin/fallocate
cp /usr/bin/fallocate "$ROOT/usr/bin/fallocate.util-linux"

module_order "$WORK/kernel" "$KVER" $GUEST_MODULES >"$ROOT/etc/vmm-guest/modules.load"
module_order "$WORK/kernel" "$KVER" $GUEST_MODULES $GUEST_EXTRA_MODULES >"$WORK/modules.all"
copy_modules "$WORK/kernel" "$KVER" "$ROOT" "$WORK/modules.all"
log "modules loaded at boot: $(tr '\n' ' ' <"$ROOT/etc/vmm-guest/modules.load")"
echo "root:x:0:0:root:/root:/bin/sh" >"$ROOT/etc/passwd"
echo "root:x:0:" >"$ROOT/etc/group"

mkcpio "$ROOT" "$OUT/initrd.img.tmp"
mv "$OUT/initrd.img.tmp" "$OUT/initrd.img"

rm -rf "$WORK"
echo "$stamp" >"$OUT/stamp"
[ "$WITH_FIO" = 0 ] || build_fio
log "done: $(ls -s "$OUT" | tr '\n' ' ')"

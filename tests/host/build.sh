#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the emulated test host (Debian kernel + KVM modules + runner initramfs) and its ext4 disk.
#
# usage: tests/host/build.sh OUTDIR
#            builds OUTDIR/vmlinuz, OUTDIR/vmlinux (ELF, for a PVH boot) and OUTDIR/initrd.img (cached by stamp)
#        tests/host/build.sh OUTDIR --disk FILE --vmm PATH --guest DIR --job DIR
#                            [--with-qemu] [--size SIZE] [--rootfs DIR]
#            also writes FILE, a sparse ext4 image (default 3G) laid out as
#              /root/...      shared libraries of vmm (and qemu) at their host paths
#              /vmm/vmm       the vmm binary
#              /guest/        vmlinuz, vmlinux, initrd*.img of the guest
#              /job/          list, env, lib.sh, scenarios/ (from --job DIR)
#              /scratch/      empty: per-scenario drive images go here
#              /rootfs/       with --rootfs: rootfs.img, vmlinuz, initrd.img from scripts/make-rootfs.sh
#            The test host's /init mounts it on /t and runs /t/job/list.
set -eu
LOG_TAG=host-build
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest/debian.sh"

usage() { echo "usage: $0 OUTDIR [--disk FILE --vmm PATH --guest DIR --job DIR [--with-qemu] [--size SIZE] [--rootfs DIR]]" >&2; exit 2; }
[ $# -ge 1 ] || usage
OUT=$1
shift
DISK= VMM= GUEST= JOB= WITH_QEMU=0 SIZE=3G ROOTFS=
while [ $# -gt 0 ]; do
	case $1 in
	--disk) DISK=$2; shift ;;
	--vmm) VMM=$2; shift ;;
	--guest) GUEST=$2; shift ;;
	--job) JOB=$2; shift ;;
	--size) SIZE=$2; shift ;;
	--rootfs) ROOTFS=$2; shift ;;
	--with-qemu) WITH_QEMU=1 ;;
	*) usage ;;
	esac
	shift
done

# Test-host modules: KVM for AMD (the emulated CPU is an EPYC with SVM), the
# virtio-pci disk, and ext4 (crc32c_generic stands in for ext4's soft
# dependency on crypto-crc32c, which modules.dep does not list); loop for the
# scenarios that give vmm a block device (snapshot-blockdev).
HOST_MODULES="kvm_amd virtio_pci virtio_blk crc32c_generic ext4 loop"

need_cmd apt-get apt
need_cmd dpkg-deb dpkg
need_cmd cpio cpio
need_cmd depmod kmod
need_cmd xz xz-utils
need_cmd mkfs.ext4 e2fsprogs

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

build_boot() {
	KPKG=$(kernel_pkg)
	KPKG_V=$(pkg_version "$KPKG")
	BB_V=$(pkg_version busybox-static)
	inputs=$(
		cat "$HERE/build.sh" "$HERE/init" "$HERE/../guest/debian.sh"
		echo "$KPKG=$KPKG_V busybox-static=$BB_V modules: $HOST_MODULES"
	)
	stamp=$(printf '%s' "$inputs" | sha256sum | cut -d' ' -f1)
	if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$stamp" ] &&
		[ -f "$OUT/vmlinuz" ] && [ -f "$OUT/vmlinux" ] && [ -f "$OUT/initrd.img" ]; then
		log "boot images up to date ($OUT)"
		return 0
	fi
	rm -f "$OUT/stamp"
	WORK=$OUT/work
	rm -rf "$WORK"
	mkdir -p "$WORK/kernel" "$WORK/busybox"
	log "kernel package $KPKG $KPKG_V"
	dpkg -x "$(fetch_deb "$KPKG" "${ITEST_DEB_CACHE:-$OUT/debs}")" "$WORK/kernel"
	dpkg -x "$(fetch_deb busybox-static "${ITEST_DEB_CACHE:-$OUT/debs}")" "$WORK/busybox"
	KVER=$(ls "$WORK/kernel/lib/modules")
	check_config "$WORK/kernel/boot/config-$KVER" \
		SERIAL_8250=y SERIAL_8250_CONSOLE=y DEVTMPFS=y BLK_DEV_INITRD=y RD_GZIP=y ACPI=y \
		KVM=m KVM_AMD=m VIRTIO_PCI=m VIRTIO_BLK=m EXT4_FS=m
	depmod -b "$WORK/kernel" "$KVER"

	ROOT=$WORK/root
	mkdir -p "$ROOT/bin" "$ROOT/sbin" "$ROOT/etc" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" \
		"$ROOT/tmp" "$ROOT/t" "$ROOT/root"
	# /usr is a link into the disk (for vmm's and qemu's libraries), so
	# busybox applets all live in /bin and /sbin here.
	busybox_root "$ROOT" "$WORK/busybox/bin/busybox" "$HERE/init" flat
	# Modules live in /modules, not /lib/modules: /lib becomes a link into the
	# disk's library tree once it is mounted.
	module_order "$WORK/kernel" "$KVER" $HOST_MODULES >"$WORK/modules.load"
	mkdir -p "$ROOT/modules"
	while read -r m; do
		cp "$WORK/kernel/lib/modules/$KVER/$m" "$ROOT/modules/"
		basename "$m"
	done <"$WORK/modules.load" >"$ROOT/etc/modules.load"
	log "modules: $(tr '\n' ' ' <"$ROOT/etc/modules.load")"
	(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -6 >"$OUT/initrd.img.tmp"
	mv "$OUT/initrd.img.tmp" "$OUT/initrd.img"
	cp "$WORK/kernel/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
	# QEMU boots an ELF vmlinux through PVH, which skips the test host's
	# in-kernel decompression (several seconds under TCG).
	extract_vmlinux "$OUT/vmlinuz" "$OUT/vmlinux.tmp"
	mv "$OUT/vmlinux.tmp" "$OUT/vmlinux"
	echo "$KVER" >"$OUT/kernel-version"
	rm -rf "$WORK"
	echo "$stamp" >"$OUT/stamp"
	log "boot images built"
}

build_disk() {
	[ -n "$VMM" ] && [ -n "$GUEST" ] && [ -n "$JOB" ] || usage
	[ -x "$VMM" ] || die "vmm binary $VMM is missing"
	STAGE=$OUT/disk-stage
	rm -rf "$STAGE"
	mkdir -p "$STAGE/root" "$STAGE/vmm" "$STAGE/guest" "$STAGE/scratch"
	copy_with_libs "$STAGE/root" "$VMM"
	cp "$VMM" "$STAGE/vmm/vmm"
	for f in vmlinuz vmlinux initrd.img initrd-fio.img kernel-version; do
		[ -f "$GUEST/$f" ] && ln "$GUEST/$f" "$STAGE/guest/$f" 2>/dev/null || cp "$GUEST/$f" "$STAGE/guest/$f" 2>/dev/null || :
	done
	[ -f "$STAGE/guest/vmlinux" ] && [ -f "$STAGE/guest/initrd.img" ] || die "guest images missing in $GUEST"
	cp -R "$JOB" "$STAGE/job"
	# e2fsprogs, for the scenario that gives a guest an ext4 image and checks it after.
	mkdir -p "$STAGE/root/usr/sbin"
	for t in mke2fs e2fsck debugfs; do
		copy_with_libs "$STAGE/root" "/usr/sbin/$t"
		cp "/usr/sbin/$t" "$STAGE/root/usr/sbin/$t"
	done
	# GNU cp (busybox's writes a sparse file's holes out as zeros, and has no
	# --reflink), for the scenarios that copy the rootfs as docs/ci-runner.md does.
	mkdir -p "$STAGE/root/usr/bin"
	copy_with_libs "$STAGE/root" /usr/bin/cp
	cp /usr/bin/cp "$STAGE/root/usr/bin/cp"
	if [ -n "$ROOTFS" ]; then
		mkdir -p "$STAGE/rootfs"
		for f in rootfs.img vmlinuz vmlinux initrd.img kernel-version; do
			[ -f "$ROOTFS/$f" ] || die "rootfs file $ROOTFS/$f missing (scripts/make-rootfs.sh)"
			ln "$ROOTFS/$f" "$STAGE/rootfs/$f" 2>/dev/null || cp --sparse=always "$ROOTFS/$f" "$STAGE/rootfs/$f"
		done
	fi
	if [ "$WITH_QEMU" = 1 ]; then
		# The outer QEMU is also the one put inside: qemu-system-x86 is needed
		# on this machine anyway. microvm boots from qboot/SeaBIOS's
		# bios-microvm.bin and needs no other ROM for -kernel boots.
		need_pkg qemu-system-x86
		copy_with_libs "$STAGE/root" /usr/bin/qemu-system-x86_64
		mkdir -p "$STAGE/root/usr/bin" "$STAGE/root/usr/share/qemu"
		cp /usr/bin/qemu-system-x86_64 "$STAGE/root/usr/bin/"
		for f in bios-microvm.bin linuxboot_dma.bin pvh.bin kvmvapic.bin; do
			[ -e "/usr/share/qemu/$f" ] && cp -L "/usr/share/qemu/$f" "$STAGE/root/usr/share/qemu/$f"
		done
	fi
	rm -f "$DISK.tmp"
	truncate -s "$SIZE" "$DISK.tmp"
	# Inode tables and journal written now, so no ext4lazyinit thread writes
	# (and flushes) in the test host while scenarios count flushes.
	mkfs.ext4 -q -F -L itest -E lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0 \
		-d "$STAGE" "$DISK.tmp" || die "mkfs.ext4 -d failed"
	mv "$DISK.tmp" "$DISK"
	rm -rf "$STAGE"
	log "disk $DISK: $(du -h "$DISK" | cut -f1) used of $SIZE"
}

build_boot
[ -z "$DISK" ] || build_disk

#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the emulated arm64 test host and the arm64 guest from Debian arm64 packages, and the test host's disk.
#
# usage: tests/host-arm64/build.sh OUTDIR [--boot-check]
#        tests/host-arm64/build.sh OUTDIR --disk FILE --vmm PATH --job DIR [--size SIZE]
#   OUTDIR/host/   Image, initrd.img, kernel-version: the test host, for
#                  qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu max -accel tcg
#                  (Debian's arm64 kernel has KVM built in; /init loads the virtio-pci disk, ext4 and
#                  virtio_console, whose /dev/hvc0 carries the results)
#   OUTDIR/guest/  Image, Image.gz, initrd.img, kernel-version: the guest vmm boots inside it
#                  (virtio_mmio and virtio_blk loaded; /init reports through the exit device)
#   OUTDIR/debs/   the downloaded :arm64 packages, so a rebuild is offline
#   --boot-check   then boot the test host once (about 10-20 s of TCG), and succeed only if it comes
#                  up with /dev/kvm; prints its boot time
#   --with-qemu    also unpack Debian's arm64 QEMU (qemu-system-arm:arm64 and the libraries of its NEEDED
#                  closure) into OUTDIR/qemu/, and with --disk put it on the disk as /qemu/ (the
#                  peer bench/boot-arm64.sh measures; the test host's /init sets QEMU to /t/qemu/qemu)
#   --disk FILE    also write FILE, a sparse ext4 image (default 2G) laid out as tests/host/build.sh's:
#                  /vmm/vmm (the static arm64 vmm, --vmm), /guest/ (OUTDIR/guest), /job/ (list, env,
#                  lib.sh, scenarios/, from --job DIR; tests/integration/run.py --arch arm64 makes it),
#                  /scratch/. The test host's /init mounts it on /t and runs /t/job/list.
# Everything comes from `apt-get download PKG:arm64` and `dpkg -x`. An arm64 busybox cannot run
# here, so its applet list comes from the amd64 busybox-static of the same Debian release. A second
# run with unchanged inputs (these scripts, the resolved package versions) rebuilds nothing.
set -eu
LOG_TAG=host-arm64-build
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest/debian.sh"

usage() { echo "usage: $0 OUTDIR [--boot-check] [--with-qemu] [--disk FILE --vmm PATH --job DIR [--size SIZE]]" >&2; exit 2; }
[ $# -ge 1 ] || usage
OUT=$1
shift
BOOT_CHECK=0 WITH_QEMU=0 DISK= VMM= JOB= SIZE=2G
while [ $# -gt 0 ]; do
	case $1 in
	--boot-check) BOOT_CHECK=1 ;;
	--with-qemu) WITH_QEMU=1 ;;
	--disk) DISK=$2; shift ;;
	--vmm) VMM=$2; shift ;;
	--job) JOB=$2; shift ;;
	--size) SIZE=$2; shift ;;
	*) usage ;;
	esac
	shift
done

# The test host's modules (the virt machine's -drive if=virtio is virtio-blk-pci) and the guest's.
HOST_MODULES="virtio_pci virtio_blk crc32c_generic ext4 virtio_console"
GUEST_MODULES="virtio_mmio virtio_blk"
GUEST_EXTRA_MODULES="ext4 crc32c_generic"

need_cmd apt-get apt
need_cmd dpkg-deb dpkg
need_cmd cpio cpio
need_cmd depmod kmod
need_cmd gzip gzip

# The arm64 packages are reachable once dpkg knows the architecture.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	[ "$(id -u)" = 0 ] || die "dpkg has no arm64 architecture and we are not root to add it"
	log "dpkg --add-architecture arm64"
	dpkg --add-architecture arm64
	APT_UPDATED=0
	apt_update_once
fi

# arm64_kernel_pkg: the kernel package linux-image-arm64 points at today (linux-image-6.1.0-N-arm64).
arm64_kernel_pkg() {
	_k=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*-arm64\)\(:arm64\)\{0,1\}$/\1/p' | head -n1)
	if [ -z "$_k" ]; then
		apt_update_once
		_k=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*-arm64\)\(:arm64\)\{0,1\}$/\1/p' | head -n1)
	fi
	[ -n "$_k" ] || die "cannot resolve linux-image-arm64 to a kernel package"
	echo "$_k"
}

# fetch_deb_arm64 PACKAGE DEBDIR: download PACKAGE:arm64's candidate .deb once and print its path.
fetch_deb_arm64() {
	_p=$1 _d=$2
	_v=$(pkg_version "$_p:arm64")
	_vf=$(echo "$_v" | sed 's/:/%3a/')
	_f="$_d/${_p}_${_vf}_arm64.deb"
	if [ ! -f "$_f" ]; then
		mkdir -p "$_d"
		log "apt-get download $_p:arm64=$_v"
		(cd "$_d" && apt-get download -qq "$_p:arm64=$_v" >&2 2>/dev/null) ||
			{ apt_update_once; (cd "$_d" && apt-get download -qq "$_p:arm64=$_v" >&2); } ||
			die "apt-get download $_p:arm64 failed"
	fi
	[ -f "$_f" ] || die "downloaded $_p:arm64 but cannot find $_f"
	echo "$_f"
}

# busybox_root_arm64 ROOT ARM64_BUSYBOX LIST_BUSYBOX INIT: busybox_root for a busybox this
# machine cannot run: the links come from LIST_BUSYBOX (amd64, same applets).
busybox_root_arm64() {
	bb_root=$1
	mkdir -p "$bb_root/bin" "$bb_root/sbin" "$bb_root/usr/bin" "$bb_root/usr/sbin" "$bb_root/dev"
	cp "$2" "$bb_root/bin/busybox"
	"$3" --list-full | while read -r app; do
		[ -e "$bb_root/$app" ] || ln -s /bin/busybox "$bb_root/$app"
	done
	mknod -m 600 "$bb_root/dev/console" c 5 1 || die "mknod /dev/console needs root"
	mknod -m 666 "$bb_root/dev/null" c 1 3
	cp "$4" "$bb_root/init"
	chmod 755 "$bb_root/init"
}

mkcpio() { (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -6 >"$2"; }

# initramfs KERNELDIR KVER ROOTDIR INIT LOADLIST MODULES...: a busybox root with MODULES (and
# their dependencies) under /lib/modules and LOADLIST's names, in load order, in /etc/modules.load.
initramfs() {
	# Names of our own: debian.sh's helpers set _root, _kver and the like as globals.
	ir_kdir=$1 ir_kver=$2 ir_root=$3 ir_init=$4 ir_load=$5
	shift 5
	mkdir -p "$ir_root/etc" "$ir_root/proc" "$ir_root/sys" "$ir_root/tmp" "$ir_root/root" "$ir_root/mnt"
	busybox_root_arm64 "$ir_root" "$WORK/busybox/bin/busybox" "$WORK/busybox-amd64/bin/busybox" "$ir_init"
	module_order "$ir_kdir" "$ir_kver" $ir_load >"$ir_root/etc/modules.load"
	module_order "$ir_kdir" "$ir_kver" "$@" >"$WORK/modules.all"
	copy_modules "$ir_kdir" "$ir_kver" "$ir_root" "$WORK/modules.all"
	echo "root:x:0:0:root:/root:/bin/sh" >"$ir_root/etc/passwd"
	echo "root:x:0:" >"$ir_root/etc/group"
}

build() {
	KPKG=$(arm64_kernel_pkg)
	KPKG_V=$(pkg_version "$KPKG:arm64")
	BB_V=$(pkg_version busybox-static:arm64)
	BB64_V=$(pkg_version busybox-static)
	inputs=$(
		cat "$HERE/build.sh" "$HERE/init" "$HERE/guest-init" "$HERE/../guest/debian.sh"
		echo "$KPKG=$KPKG_V busybox-static:arm64=$BB_V busybox-static=$BB64_V"
		echo "modules: $HOST_MODULES / $GUEST_MODULES / $GUEST_EXTRA_MODULES"
	)
	stamp=$(printf '%s' "$inputs" | sha256sum | cut -d' ' -f1)
	if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$stamp" ] &&
		[ -f "$OUT/host/Image" ] && [ -f "$OUT/host/initrd.img" ] &&
		[ -f "$OUT/guest/Image" ] && [ -f "$OUT/guest/initrd.img" ]; then
		log "up to date ($OUT)"
		return 0
	fi
	rm -f "$OUT/stamp"
	DEBS=${ITEST_DEB_CACHE:-$OUT/debs}
	WORK=$OUT/work
	rm -rf "$WORK"
	mkdir -p "$WORK/kernel" "$WORK/busybox" "$WORK/busybox-amd64" "$OUT/host" "$OUT/guest"
	log "kernel package $KPKG:arm64 $KPKG_V"
	dpkg -x "$(fetch_deb_arm64 "$KPKG" "$DEBS")" "$WORK/kernel"
	dpkg -x "$(fetch_deb_arm64 busybox-static "$DEBS")" "$WORK/busybox"
	dpkg -x "$(fetch_deb busybox-static "$DEBS")" "$WORK/busybox-amd64"
	KVER=$(ls "$WORK/kernel/lib/modules")
	[ -n "$KVER" ] && [ -f "$WORK/kernel/boot/vmlinuz-$KVER" ] || die "unexpected layout of $KPKG"
	# What the test host and the guest rely on; a Debian config change fails here, not in a boot.
	check_config "$WORK/kernel/boot/config-$KVER" \
		KVM=y OF=y ARM_GIC_V3=y ARM_PSCI_FW=y SERIAL_8250=y SERIAL_8250_CONSOLE=y SERIAL_OF_PLATFORM=y \
		SERIAL_AMBA_PL011=y SERIAL_AMBA_PL011_CONSOLE=y DEVMEM=y DEVTMPFS=y BLK_DEV_INITRD=y RD_GZIP=y \
		BINFMT_SCRIPT=y TMPFS=y IO_URING=y PCI_HOST_GENERIC=y \
		VIRTIO=y VIRTIO_MMIO=m VIRTIO_PCI=m VIRTIO_BLK=m EXT4_FS=m VIRTIO_CONSOLE=m
	depmod -b "$WORK/kernel" "$KVER"

	# The Debian arm64 vmlinuz is an uncompressed Image; the guest also gets it gzip'd, the form
	# other distributions ship, for vmm's Image.gz path.
	cp "$WORK/kernel/boot/vmlinuz-$KVER" "$OUT/host/Image"
	cp "$WORK/kernel/boot/vmlinuz-$KVER" "$OUT/guest/Image"
	gzip -9c "$OUT/guest/Image" >"$OUT/guest/Image.gz"
	echo "$KVER" >"$OUT/host/kernel-version"
	echo "$KVER" >"$OUT/guest/kernel-version"

	initramfs "$WORK/kernel" "$KVER" "$WORK/host-root" "$HERE/init" "$HOST_MODULES" $HOST_MODULES
	mkdir -p "$WORK/host-root/t"
	mkcpio "$WORK/host-root" "$OUT/host/initrd.img"
	rm -f "$WORK/modules.all"
	initramfs "$WORK/kernel" "$KVER" "$WORK/guest-root" "$HERE/guest-init" "$GUEST_MODULES" \
		$GUEST_MODULES $GUEST_EXTRA_MODULES
	mkcpio "$WORK/guest-root" "$OUT/guest/initrd.img"
	rm -rf "$WORK"
	echo "$stamp" >"$OUT/stamp"
	log "built: host $(du -h "$OUT/host/initrd.img" | cut -f1) initrd, guest $(du -h "$OUT/guest/initrd.img" | cut -f1) initrd"
}

# host_boot LOG [DISK]: boot the test host (TCG), console to LOG; prints seconds from QEMU start to power-off.
host_boot() {
	need_pkg qemu-system-arm
	_disk=
	[ -z "${2:-}" ] || _disk="-drive file=$2,if=virtio,format=raw,cache=unsafe"
	_t0=$(date +%s.%N)
	# shellcheck disable=SC2086 # _disk is empty or one -drive option
	timeout 900 qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu max -accel tcg \
		-m 2048 -smp 1 -nographic -no-reboot -nodefaults -serial stdio $_disk \
		-kernel "$OUT/host/Image" -initrd "$OUT/host/initrd.img" \
		-append "console=ttyAMA0 panic=-1 quiet" </dev/null >"$1" 2>&1 ||
		log "qemu exited with status $?"
	_t1=$(date +%s.%N)
	awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.1f", b - a }'
}

# host_up LOG: the test host's host-up line, or fail.
host_up() {
	_line=$(grep -a '@@vmm-itest host-up' "$1" | tr -d '\r' | head -n1)
	[ -n "$_line" ] || { tail -n 20 "$1" >&2; die "the test host did not come up (log: $1)"; }
	case $_line in
	*kvm=yes*) ;;
	*) die "the test host has no /dev/kvm (log: $1)" ;;
	esac
	echo "${_line#@@vmm-itest }"
}

# Boot the test host once with nothing to do: its /init reports whether /dev/kvm is there and powers off.
boot_check() {
	log "booting the test host (TCG)"
	_s=$(host_boot "$OUT/boot-check.log")
	log "$(host_up "$OUT/boot-check.log"); QEMU start to power-off $_s s"
}

# Debian's arm64 QEMU in OUT/qemu: the binary, the dynamic loader and the libraries its NEEDED
# closure names (about 50), run as `ld-linux-aarch64.so.1 --library-path DIR DIR/qemu-system-aarch64`
# through the wrapper OUT/qemu/qemu. No firmware: the virt machine boots -kernel without any.
build_qemu() {
	need_cmd aarch64-linux-gnu-readelf binutils-aarch64-linux-gnu
	_v=$(pkg_version qemu-system-arm:arm64)
	_stamp="qemu-system-arm:arm64=$_v $(sha256sum "$HERE/build.sh" | cut -d' ' -f1)"
	if [ -f "$OUT/qemu/stamp" ] && [ "$(cat "$OUT/qemu/stamp")" = "$_stamp" ]; then
		log "qemu up to date ($OUT/qemu)"
		return 0
	fi
	DEBS=${ITEST_DEB_CACHE:-$OUT/debs}
	_x=$OUT/qemu-work
	rm -rf "$_x" "$OUT/qemu"
	mkdir -p "$_x" "$OUT/qemu"
	# The libraries among its recursive dependencies (the rest, data and tools, it does not need to
	# boot -kernel); the NEEDED walk below keeps only what the binary loads.
	apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
		--no-enhances qemu-system-arm:arm64 2>/dev/null | sed -n 's/^\(lib[^ <]*\|zlib1g\):arm64$/\1/p' |
		sort -u >"$_x/pkgs"
	for p in qemu-system-arm $(cat "$_x/pkgs"); do
		dpkg -x "$(fetch_deb_arm64 "$p" "$DEBS")" "$_x/root"
	done
	cp "$_x/root/usr/bin/qemu-system-aarch64" "$OUT/qemu/"
	cp -L "$_x/root/lib/ld-linux-aarch64.so.1" "$OUT/qemu/" 2>/dev/null ||
		cp -L "$_x/root/usr/lib/ld-linux-aarch64.so.1" "$OUT/qemu/" || die "no ld-linux-aarch64.so.1 in libc6:arm64"
	# The NEEDED closure, breadth first.
	echo qemu-system-aarch64 >"$_x/todo"
	while [ -s "$_x/todo" ]; do
		_f=$(head -n1 "$_x/todo")
		sed -i 1d "$_x/todo"
		for n in $(aarch64-linux-gnu-readelf -d "$OUT/qemu/$_f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			[ -e "$OUT/qemu/$n" ] && continue
			_l=
			for d in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu; do
				[ -e "$_x/root/$d/$n" ] && _l=$_x/root/$d/$n && break
			done
			[ -n "$_l" ] || die "qemu needs $n, which no unpacked package has"
			cp -L "$_l" "$OUT/qemu/$n"
			echo "$n" >>"$_x/todo"
		done
	done
	cat >"$OUT/qemu/qemu" <<'SH'
#!/bin/sh
d=$(dirname "$0")
exec "$d/ld-linux-aarch64.so.1" --library-path "$d" "$d/qemu-system-aarch64" "$@"
SH
	chmod 755 "$OUT/qemu/qemu"
	rm -rf "$_x"
	echo "$_stamp" >"$OUT/qemu/stamp"
	log "qemu $_v: $(ls "$OUT/qemu" | wc -l) files, $(du -sh "$OUT/qemu" | cut -f1)"
}

# The test host's disk: vmm, the guest, the job (see the usage above).
build_disk() {
	[ -n "$VMM" ] && [ -n "$JOB" ] || usage
	[ -x "$VMM" ] || die "vmm binary $VMM is missing"
	need_cmd mkfs.ext4 e2fsprogs
	STAGE=$OUT/disk-stage
	rm -rf "$STAGE"
	mkdir -p "$STAGE/vmm" "$STAGE/guest" "$STAGE/scratch"
	# Static: the test host has nothing but busybox.
	cp "$VMM" "$STAGE/vmm/vmm"
	for f in Image Image.gz initrd.img kernel-version; do
		ln "$OUT/guest/$f" "$STAGE/guest/$f" 2>/dev/null || cp "$OUT/guest/$f" "$STAGE/guest/$f"
	done
	cp -R "$JOB" "$STAGE/job"
	[ "$WITH_QEMU" = 0 ] || cp -R "$OUT/qemu" "$STAGE/qemu"
	rm -f "$DISK.tmp"
	truncate -s "$SIZE" "$DISK.tmp"
	# Inode tables and journal written now, so no ext4lazyinit thread writes (and flushes) in the
	# test host while scenarios count flushes.
	mkfs.ext4 -q -F -L itest -E lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0 \
		-d "$STAGE" "$DISK.tmp" || die "mkfs.ext4 -d failed"
	mv "$DISK.tmp" "$DISK"
	rm -rf "$STAGE"
	log "disk $DISK: $(du -h "$DISK" | cut -f1) used of $SIZE"
}

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
build
[ "$WITH_QEMU" = 0 ] || build_qemu
[ "$BOOT_CHECK" = 0 ] || boot_check
[ -z "$DISK" ] || build_disk

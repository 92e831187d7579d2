#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds a Debian bookworm rootfs for vmm: a raw ext4 image with systemd and the job convention, plus Debian's vmlinuz and initrd.img.
#
# usage: scripts/make-rootfs.sh [--include PKG[,PKG...]]... [--size SIZE] [--mirror URL] [--rebuild] OUTDIR
#
# Writes OUTDIR/rootfs.img (raw ext4, label vmm-root, sparse), OUTDIR/vmlinuz
# and OUTDIR/initrd.img (Debian's own, from the image's linux-image-amd64),
# OUTDIR/vmlinux (the same kernel uncompressed: vmm boots it without the
# kernel's own decompression), OUTDIR/kernel-version, OUTDIR/packages (what is
# installed) and OUTDIR/stamp. The initrd is made by Debian's initramfs-tools
# with MODULES=list: only what root on vmm's disks needs (virtio_mmio,
# virtio_blk, ext4), about 9 MB instead of MODULES=most's 36 MB, which the
# kernel unpacks at every boot.
# The image is mmdebstrap's minbase variant plus systemd-sysv, udev, the
# kernel and initramfs-tools, with guest/ (vmm-job.service, vmm-job, vmm-exit)
# installed; --include adds packages (e.g. --include gcc,make,libc6-dev).
# Boot it with root=/dev/vda rw (docs/ci-runner.md).
#
# Cached: OUTDIR/stamp holds a hash of the inputs (this script, guest/, the
# options). A second run with the same inputs does nothing. The archive's
# current package versions are not an input: --rebuild builds again anyway.
# Needs no root where user namespaces are allowed (mmdebstrap's unshare mode),
# no loop device and no mount: mkfs.ext4 -d makes the image from the tree.
# Status 2 and one line for a usage error; status 1 and one line when the
# package archive cannot be reached or the build fails (its log is kept).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd -P)
REPO=$(dirname "$HERE")
ME=make-rootfs

usage() {
	echo "$ME: $1 (usage: scripts/make-rootfs.sh [--include PKG,...] [--size SIZE] [--mirror URL] [--rebuild] OUTDIR)" >&2
	exit 2
}
die() { echo "$ME: $*" >&2; exit 1; }
log() { echo "$ME: $*" >&2; }

SUITE=bookworm
BASE_PKGS=systemd-sysv,udev,linux-image-amd64,initramfs-tools
INCLUDE=
SIZE=4G
MIRROR=
REBUILD=0
OUT=
while [ $# -gt 0 ]; do
	case $1 in
	--include | --size | --mirror)
		[ $# -ge 2 ] && [ -n "$2" ] || usage "$1 needs a value"
		case $1 in
		--include)
			case $2 in *[!A-Za-z0-9.+,:=~-]*) usage "--include $2: not a comma-separated list of package names" ;; esac
			INCLUDE=$INCLUDE,$2 ;;
		--size)
			case $2 in [1-9]*[0-9][MG] | [1-9][MG]) SIZE=$2 ;; *) usage "--size $2: expected a size like 1536M or 4G" ;; esac ;;
		--mirror) MIRROR=$2 ;;
		esac
		shift 2 ;;
	--include=* | --size=* | --mirror=*)
		o=${1%%=*}
		v=${1#*=}
		shift
		set -- "$o" "$v" "$@" ;;
	--rebuild) REBUILD=1; shift ;;
	-h | --help) sed -n '3,23s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) usage "unknown option $1" ;;
	*)
		[ -z "$OUT" ] || usage "one OUTDIR only (got $OUT and $1)"
		OUT=$1
		shift ;;
	esac
done
[ -n "$OUT" ] || usage "no OUTDIR given"
[ ! -e "$OUT" ] || [ -d "$OUT" ] || usage "$OUT exists and is not a directory"
# Sorted, de-duplicated package list: the same set in another order is the same input.
PKGS=$(printf '%s' "$BASE_PKGS$INCLUDE" | tr ',' '\n' | sed '/^$/d' | LC_ALL=C sort -u | paste -sd, -)

command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap is not installed (apt-get install mmdebstrap, or scripts/deps.sh)"
command -v mkfs.ext4 >/dev/null 2>&1 || [ -x /usr/sbin/mkfs.ext4 ] || die "mkfs.ext4 is not installed (apt-get install e2fsprogs)"
PATH=$PATH:/usr/sbin:/sbin

# extract_vmlinux BZIMAGE OUT: the ELF vmlinux inside a bzImage. The setup
# header gives the protected-mode code's offset (setup_sects at 0x1f1, 0 means
# 4) and, in it, the compressed payload's (payload_offset at 0x248, its length
# at 0x24c); Debian's is xz, followed by the uncompressed size (le32).
extract_vmlinux() {
	u32() { od -An -tu4 -j "$2" -N4 --endian=little "$1" | tr -d ' '; }
	sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$1" | tr -d ' ')
	[ "$sects" != 0 ] || sects=4
	start=$(((sects + 1) * 512 + $(u32 "$1" $((0x248)))))
	len=$(u32 "$1" $((0x24c)))
	size=$(u32 "$1" $((start + len - 4)))
	dd if="$1" bs=4096 iflag=skip_bytes,count_bytes skip="$start" count=$((len - 4)) 2>/dev/null |
		xz -dc >"$2" 2>/dev/null &&
		[ "$(dd if="$2" bs=1 skip=1 count=3 2>/dev/null)" = ELF ] && [ "$(stat -c %s "$2")" = "$size" ]
}

key=$(
	cat "$0" "$REPO"/guest/vmm-exit "$REPO"/guest/vmm-job "$REPO"/guest/vmm-job.service \
		"$REPO"/guest/install.sh "$REPO"/guest/README
	echo "suite=$SUITE packages=$PKGS size=$SIZE mirror=$MIRROR"
) || die "cannot read the job convention's files in $REPO/guest"
key=$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ "$REBUILD" = 0 ] && [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$key" ] &&
	[ -f "$OUT/rootfs.img" ] && [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/vmlinux" ] && [ -f "$OUT/initrd.img" ]; then
	log "up to date ($OUT)"
	exit 0
fi
rm -f "$OUT/stamp"
t0=$(date +%s)
LOG=$OUT/mmdebstrap.log

# The tree is made as a directory first: mkfs.ext4 -d copies it into the image
# once mmdebstrap has unmounted /proc, /sys and /dev from it. As root the
# owners in the tree are right as they are; otherwise mmdebstrap's unshare
# mode made it, and its --unshare-helper lets mkfs (and rm) see it through the
# same user namespace, with the owners the image must have.
TREE=$OUT/tree.tmp
as_owner() {
	if [ "$(id -u)" = 0 ]; then "$@"; else mmdebstrap --unshare-helper "$@"; fi
}
[ ! -e "$TREE" ] || as_owner rm -rf "$TREE"
rm -f "$OUT/rootfs.img.tmp" "$OUT/vmlinuz.tmp" "$OUT/vmlinux.tmp" "$OUT/initrd.img.tmp"
mmdebstrap --variant=minbase --include="$PKGS" \
	--customize-hook="sh '$REPO/guest/install.sh' \"\$1\"" \
	--customize-hook='echo vmm-guest >"$1/etc/hostname"' \
	--customize-hook='printf "%s\n" "/dev/vda / ext4 rw,lazytime,errors=remount-ro 0 1" >"$1/etc/fstab"' \
	--customize-hook='chroot "$1" passwd -d root >/dev/null' \
	--customize-hook='rm -f "$1/var/lib/dbus/machine-id"; : >"$1/etc/machine-id"' \
	--customize-hook='printf "%s\n" virtio_mmio virtio_blk ext4 crc32c_generic >>"$1/etc/initramfs-tools/modules"' \
	--customize-hook='echo MODULES=list >"$1/etc/initramfs-tools/conf.d/vmm.conf"' \
	--customize-hook='chroot "$1" update-initramfs -u -k all >/dev/null 2>&1' \
	--customize-hook="cp \"\$1\"/boot/vmlinuz-* '$OUT/vmlinuz.tmp' && cp \"\$1\"/boot/initrd.img-* '$OUT/initrd.img.tmp' && ls \"\$1/lib/modules\" >'$OUT/kernel-version'" \
	--customize-hook='rm -f "$1"/boot/vmlinuz-* "$1"/boot/initrd.img-* "$1"/vmlinuz* "$1"/initrd.img*' \
	--customize-hook="chroot \"\$1\" dpkg-query -W >'$OUT/packages'" \
	--format=directory "$SUITE" "$TREE" ${MIRROR:+"$MIRROR"} >"$LOG" 2>&1 || {
	rm -f "$OUT/vmlinuz.tmp" "$OUT/initrd.img.tmp"
	[ ! -e "$TREE" ] || as_owner rm -rf "$TREE"
	if grep -Eq 'Could not resolve|Temporary failure resolving|Failed to fetch|Unable to connect|Connection (refused|timed out)|Network is unreachable|No route to host|Could not connect' "$LOG"; then
		die "no network access to the Debian package archive (${MIRROR:-the mirror apt is configured with}): mmdebstrap could not download from it (log: $LOG)"
	fi
	die "mmdebstrap failed: $(grep -E '^E: ' "$LOG" | head -n1 | cut -c1-200) (log: $LOG)"
}
truncate -s "$SIZE" "$OUT/rootfs.img.tmp"
[ "$(id -u)" = 0 ] || chmod 666 "$OUT/rootfs.img.tmp"
as_owner mkfs.ext4 -q -F -L vmm-root -d "$TREE" "$OUT/rootfs.img.tmp" >>"$LOG" 2>&1 || {
	as_owner rm -rf "$TREE"
	rm -f "$OUT/rootfs.img.tmp"
	die "mkfs.ext4 -d could not make the image (too small for the tree? raise --size; log: $LOG)"
}
as_owner rm -rf "$TREE"
[ "$(id -u)" = 0 ] || chmod 644 "$OUT/rootfs.img.tmp"
extract_vmlinux "$OUT/vmlinuz.tmp" "$OUT/vmlinux.tmp" ||
	die "cannot take the uncompressed kernel out of $OUT/vmlinuz.tmp (xz and od are needed)"
mv "$OUT/vmlinux.tmp" "$OUT/vmlinux"
mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
mv "$OUT/initrd.img.tmp" "$OUT/initrd.img"
mv "$OUT/rootfs.img.tmp" "$OUT/rootfs.img"
echo "$key" >"$OUT/stamp"
log "built $OUT/rootfs.img ($(du -h "$OUT/rootfs.img" | cut -f1) used of $SIZE) with kernel $(cat "$OUT/kernel-version") in $(($(date +%s) - t0))s"

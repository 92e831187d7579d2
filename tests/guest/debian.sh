# SPDX-License-Identifier: MIT
# Shell helpers shared by tests/guest/build.sh and tests/host/build.sh: Debian packages, kernel, modules.
#
# Sourced, not run. Everything comes from Debian packages fetched with apt-get
# download and unpacked with dpkg -x, so the images are reproducible from the
# archive alone and CI needs no other network access.

log() { printf '%s: %s\n' "${LOG_TAG:-build}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

APT_UPDATED=0
apt_update_once() {
	[ "$APT_UPDATED" = 1 ] && return 0
	log "apt-get update"
	apt-get update -qq >&2 || die "apt-get update failed"
	APT_UPDATED=1
}

# need_cmd CMD PACKAGE: install PACKAGE when CMD is missing. CI starts on a
# fresh machine as root, so the scripts carry their own tool installs.
need_cmd() {
	command -v "$1" >/dev/null 2>&1 && return 0
	[ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] && return 0
	need_pkg "$2"
}

# need_pkg PACKAGE: make sure a Debian package is installed.
need_pkg() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' && return 0
	[ "$(id -u)" = 0 ] || die "package $1 is missing and we are not root to install it"
	log "apt-get install $1"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >&2; then
		apt_update_once
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >&2 ||
			die "cannot install $1"
	fi
}

# apt look-ups cost about a second each; with ITEST_APT_CACHE set, answers are
# kept there, keyed by the modification times of apt's package lists and of
# dpkg's status, which change whenever an answer could.
_apt_cached() { # KEY COMMAND...
	if [ -z "${ITEST_APT_CACHE:-}" ]; then
		shift
		"$@"
		return
	fi
	_ak=$(stat -c %Y /var/lib/apt/lists /var/lib/dpkg/status 2>/dev/null | tr '\n' .)
	_cf="$ITEST_APT_CACHE/$_ak$1"
	if [ -s "$_cf" ]; then
		cat "$_cf"
		return 0
	fi
	shift
	_ans=$("$@") || return 1
	mkdir -p "$ITEST_APT_CACHE"
	printf '%s\n' "$_ans" >"$_cf.tmp" && mv "$_cf.tmp" "$_cf"
	printf '%s\n' "$_ans"
}

# kernel_pkg: print the concrete bookworm kernel package that linux-image-amd64
# points at today (linux-image-6.1.0-N-amd64).
kernel_pkg() { _apt_cached kernel-pkg _kernel_pkg; }
_kernel_pkg() {
	_k=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1)
	if [ -z "$_k" ]; then
		apt_update_once
		_k=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1)
	fi
	[ -n "$_k" ] || die "cannot resolve linux-image-amd64 to a kernel package"
	echo "$_k"
}

# pkg_version PACKAGE: the candidate version apt would download.
pkg_version() { _apt_cached "version-$1" _pkg_version "$1"; }
_pkg_version() {
	_v=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	if [ -z "$_v" ] || [ "$_v" = "(none)" ]; then
		apt_update_once
		_v=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	fi
	[ -n "$_v" ] && [ "$_v" != "(none)" ] || die "no candidate version for $1"
	echo "$_v"
}

# fetch_deb PACKAGE DEBDIR: download PACKAGE's candidate .deb into DEBDIR once
# and print its path. The .debs stay in the build dir so a rebuild is offline.
fetch_deb() {
	_p=$1 _d=$2
	_v=$(pkg_version "$_p")
	# apt-get download names files with the epoch's ':' escaped as %3a.
	_vf=$(echo "$_v" | sed 's/:/%3a/')
	_f="$_d/${_p}_${_vf}_amd64.deb"
	[ -f "$_f" ] || _f="$_d/${_p}_${_vf}_all.deb"
	if [ ! -f "$_f" ]; then
		mkdir -p "$_d"
		log "apt-get download $_p=$_v"
		(cd "$_d" && apt-get download -qq "$_p=$_v" >&2 2>/dev/null) ||
			{ apt_update_once; (cd "$_d" && apt-get download -qq "$_p=$_v" >&2); } ||
			die "apt-get download $_p failed"
		_f=$(ls "$_d/${_p}_${_vf}_"*.deb 2>/dev/null | head -n1)
	fi
	[ -f "$_f" ] || die "downloaded $_p but cannot find its .deb in $_d"
	echo "$_f"
}

# module_order ROOT KVER NAME...: print, one per line and dependencies first,
# the module files (relative to ROOT/lib/modules/KVER) needed to load NAMEs.
# ROOT must hold a modules.dep made by `depmod -b ROOT KVER` (Debian's package
# ships none). Names match with '-' and '_' treated alike, as modprobe does.
module_order() {
	_root=$1 _kver=$2
	shift 2
	awk -v want="$*" '
		function norm(s) { sub(/.*\//, "", s); sub(/\.ko(\.[a-z]+)?$/, "", s); gsub(/-/, "_", s); return s }
		function visit(m,   i, n, d) {
			if (m in seen) return
			seen[m] = 1
			if (!(m in path)) { missing = missing " " m; return }
			n = split(deps[m], d, " ")
			for (i = 1; i <= n; i++) visit(norm(d[i]))
			print path[m]
		}
		{
			f = $1; sub(/:$/, "", f)
			m = norm(f); path[m] = f
			$1 = ""; deps[m] = $0
		}
		END {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++) { x = w[i]; gsub(/-/, "_", x); visit(x) }
			if (missing != "") { print "missing modules:" missing > "/dev/stderr"; exit 1 }
		}' "$_root/lib/modules/$_kver/modules.dep"
}

# copy_modules SRCROOT KVER DSTROOT LISTFILE: copy the module files named in
# LISTFILE to the same paths under DSTROOT and write a modules.dep for just
# them, so busybox modprobe works there too.
copy_modules() {
	_src=$1 _kver=$2 _dst=$3 _list=$4
	mkdir -p "$_dst/lib/modules/$_kver"
	# Lets modprobe tell built-in modules from missing ones.
	for _f in modules.order modules.builtin modules.builtin.modinfo; do
		[ -f "$_src/lib/modules/$_kver/$_f" ] && cp "$_src/lib/modules/$_kver/$_f" "$_dst/lib/modules/$_kver/"
	done
	while read -r _m; do
		mkdir -p "$_dst/lib/modules/$_kver/$(dirname "$_m")"
		cp "$_src/lib/modules/$_kver/$_m" "$_dst/lib/modules/$_kver/$_m"
	done <"$_list"
	depmod -b "$_dst" "$_kver" || die "depmod for the image failed"
}

# check_config CONFIGFILE SYM=VAL...: the images rely on these kernel options;
# fail loudly (instead of booting into a silent hang) when Debian changes one.
check_config() {
	_cfg=$1
	shift
	for _want in "$@"; do
		grep -qx "CONFIG_$_want" "$_cfg" || die "kernel config: expected CONFIG_$_want in $_cfg"
	done
}

# copy_with_libs DSTROOT FILE...: copy executables and every shared library
# ldd lists for them to the same absolute paths under DSTROOT (symlinks
# resolved), plus libgcc_s.so.1, which glibc dlopens for pthread_cancel.
copy_with_libs() {
	_dst=$1
	shift
	for _bin in "$@"; do
		ldd "$_bin" 2>/dev/null | grep -q 'not found' && die "ldd $_bin: a library is not found"
		ldd "$_bin" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'
	done | sort -u | while read -r _lib; do
		_put "$_dst" "$_lib"
	done
	_gcc=$(ldconfig -p | awk '/libgcc_s.so.1 .*x86-64/ { print $NF; exit }')
	[ -n "$_gcc" ] && _put "$_dst" "$_gcc"
	return 0
}

_put() {
	mkdir -p "$1$(dirname "$2")"
	cp -L "$2" "$1$2"
}

# extract_vmlinux BZIMAGE OUT: write the uncompressed ELF vmlinux in BZIMAGE.
# The setup header says where the compressed payload is: setup_sects (byte
# 0x1f1; 0 means 4) counts the 512-byte sectors before the protected-mode
# code, and payload_offset (0x248) / payload_length (0x24c, both le32) locate
# the payload inside that code. Debian compresses it with xz; it decompresses
# to the ELF vmlinux (relocation data appended, which ELF loaders ignore). The
# kernel build appends the decompressed size as a le32 after the xz stream; xz
# would read that as a truncated second stream, so it is cut off here and used
# to check the result instead.
# busybox_root ROOT BUSYBOX INIT [flat]: what every initramfs here starts with.
# busybox with its applet links made now (so /init spends no boot time on
# --install), the two device nodes the kernel opens before devtmpfs exists, and
# /init. With "flat", applets busybox would put under /usr go to /bin and /sbin
# instead, for a root whose /usr is replaced once a disk is mounted. The caller
# makes any extra directories the links need.
busybox_root() {
	_root=$1 _flat=${4:-}
	mkdir -p "$_root/bin" "$_root/sbin" "$_root/dev"
	cp "$2" "$_root/bin/busybox"
	"$_root/bin/busybox" --list-full | while read -r app; do
		if [ "$_flat" = flat ]; then
			case $app in usr/sbin/*) app=sbin/${app#usr/sbin/} ;; usr/bin/*) app=bin/${app#usr/bin/} ;; esac
		fi
		[ -e "$_root/$app" ] || ln -s /bin/busybox "$_root/$app"
	done
	mknod -m 600 "$_root/dev/console" c 5 1 || die "mknod /dev/console needs root"
	mknod -m 666 "$_root/dev/null" c 1 3
	cp "$3" "$_root/init"
	chmod 755 "$_root/init"
}

extract_vmlinux() {
	_bz=$1 _out=$2
	[ "$(dd if="$_bz" bs=1 skip=514 count=4 2>/dev/null)" = HdrS ] || die "$_bz has no HdrS setup header"
	_sects=$(_u8 "$_bz" $((0x1f1)))
	[ "$_sects" = 0 ] && _sects=4
	_poff=$(_u32 "$_bz" $((0x248)))
	_plen=$(_u32 "$_bz" $((0x24c)))
	_start=$(((_sects + 1) * 512 + _poff))
	_usize=$(_u32 "$_bz" $((_start + _plen - 4)))
	log "bzImage payload at $_start, $_plen bytes, $_usize bytes decompressed"
	dd if="$_bz" bs=4096 iflag=skip_bytes,count_bytes skip="$_start" count=$((_plen - 4)) 2>/dev/null |
		xz -dc >"$_out" || die "xz could not decompress the bzImage payload"
	[ "$(dd if="$_out" bs=1 skip=1 count=3 2>/dev/null)" = ELF ] ||
		die "the bzImage payload did not decompress to an ELF"
	[ "$(stat -c %s "$_out")" = "$_usize" ] || die "vmlinux size differs from the size the bzImage records"
}
_u8() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
_u32() { od -An -tu4 -j "$2" -N4 --endian=little "$1" | tr -d ' '; }

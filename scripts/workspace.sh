#!/bin/sh
# SPDX-License-Identifier: MIT
# Moves a CI job's files into and out of a vmm VM: packs a directory into an ext4 image labelled "workspace", unpacks paths from one.
#
# usage: scripts/workspace.sh pack DIR IMAGE [SIZE]
#        scripts/workspace.sh unpack IMAGE PATH... DEST
#
# pack: IMAGE becomes a sparse raw ext4 image, label "workspace", holding
#   DIR's tree (owners, modes, symlinks as they are). The guest's vmm-job mounts
#   it on /workspace and runs /workspace/job/run if the kernel command line has
#   no job. SIZE (e.g. 512M, 4G) defaults to twice what DIR holds plus 1 GiB,
#   at least 1 GiB: room for the job's output, and free on the host's disk
#   until written. An existing IMAGE is replaced as a whole (a new file renamed
#   over it), never half-written.
# unpack: copies each PATH (a file or a directory, relative to the image's
#   root; "/" is everything) out of IMAGE into the directory DEST, made if
#   missing, as DEST/NAME. Read-only on IMAGE.
#
# Neither needs root, a loop device or a mount: e2fsprogs' mke2fs -d and
# debugfs rdump read and write the image file itself. Bad input (a missing
# DIR, an IMAGE too small for it, a PATH not in the image, a DEST/NAME that
# exists already) gives one line on stderr and status 2, with no file changed.
set -u
ME=workspace
NL='
'
OIFS=$IFS

usage() { echo "$ME: $1 (usage: workspace.sh pack DIR IMAGE [SIZE] | workspace.sh unpack IMAGE PATH... DEST)" >&2; exit 2; }
bad() { echo "$ME: $*" >&2; exit 2; }
die() { echo "$ME: $*" >&2; exit 1; }

# e2fsprogs' own tools: a busybox mke2fs earlier in PATH can make neither
# ext4 nor an image from a directory.
e2tool() {
	for _d in /usr/sbin /sbin $(printf '%s' "$PATH" | tr ':' ' '); do
		if [ -x "$_d/$1" ] && ! "$_d/$1" -V 2>&1 | grep -qi busybox; then
			echo "$_d/$1"
			return 0
		fi
	done
	die "$1 from e2fsprogs is not installed (apt-get install e2fsprogs)"
}

# to_kib SIZE: a size with a K, M or G suffix (a bare number is MiB) in KiB.
to_kib() {
	case $1 in
	*[!0-9KkMmGg]* | '' | [KkMmGg]* | *[KkMmGg]?*) return 1 ;;
	*[Kk]) _n=${1%?} _m=1 ;;
	*[Mm]) _n=${1%?} _m=1024 ;;
	*[Gg]) _n=${1%?} _m=1048576 ;;
	*) _n=$1 _m=1024 ;;
	esac
	[ ${#_n} -le 9 ] && [ "$_n" -gt 0 ] 2>/dev/null || return 1
	echo $((_n * _m))
}

# A path debugfs is asked about: its own parser splits on blanks and treats
# double quotes, so a name with a quote or a line break cannot be passed.
# dbg_check PATH WHAT: refuse such a path (in this shell, not a subshell).
dbg_check() {
	case $1 in
	*'"'* | *'
'*) bad "$2: a path with a double quote or a line break cannot be read by debugfs; rename it" ;;
	esac
}

pack() {
	[ $# -ge 2 ] && [ $# -le 3 ] || usage "pack takes DIR IMAGE [SIZE]"
	dir=$1 img=$2
	[ -e "$dir" ] || bad "pack: $dir does not exist (give the directory to put in the workspace)"
	[ -d "$dir" ] || bad "pack: $dir is not a directory (give the directory to put in the workspace)"
	[ -r "$dir" ] && [ -x "$dir" ] || bad "pack: $dir cannot be read (check its permissions)"
	[ ! -d "$img" ] || bad "pack: $img is a directory (give the image file's name, e.g. $img/workspace.img)"
	[ ! -e "$img" ] || [ -f "$img" ] || bad "pack: $img exists and is not a regular file (give a new image file's name)"
	imgdir=$(dirname "$img")
	[ -d "$imgdir" ] && [ -w "$imgdir" ] || bad "pack: cannot write in $imgdir (give IMAGE in an existing, writable directory)"
	used=$(du -sk "$dir" 2>/dev/null | cut -f1)
	[ -n "$used" ] || bad "pack: cannot read all of $dir (check its permissions)"
	files=$(find "$dir" 2>/dev/null | wc -l)
	if [ $# -eq 3 ]; then
		kib=$(to_kib "$3") || bad "pack: bad SIZE \"$3\" (expected e.g. 512M or 4G; a bare number is MiB)"
		[ "$kib" -ge 4096 ] || bad "pack: SIZE $3 is too small: a workspace image needs at least 4M"
	else
		kib=$((used * 2 + 1048576))
	fi
	mke2fs=$(e2tool mke2fs)
	tmp=$img.tmp.$$
	trap 'rm -f "$tmp"' EXIT
	trap 'exit 1' INT TERM HUP
	truncate -s $((kib * 1024)) "$tmp" 2>/dev/null || bad "pack: cannot make $tmp (check the disk and its permissions)"
	# -m 0: no blocks kept for root, the job is root anyway. -i 8192: an
	# inode per 8 KiB, twice ext4's default, for builds of many small files.
	# The file is new and sparse, so its inode tables and journal read as
	# zeros already: the lazy flags just skip writing them again.
	if ! "$mke2fs" -q -F -t ext4 -L workspace -m 0 -i 8192 -E lazy_itable_init=1,lazy_journal_init=1 -d "$dir" "$tmp" >"$tmp.log" 2>&1; then
		msg=$(grep -v '^mke2fs [0-9]' "$tmp.log" | head -n1)
		rm -f "$tmp.log"
		case $msg in
		*"No space left"* | *"Could not allocate"* | *"too many inodes"* | *"Not enough space"* | *"too small"*)
			bad "pack: ${3:-the default size} is too small for $dir ($((used / 1024 + 1)) MiB in $files files); give a larger SIZE" ;;
		esac
		die "pack: mke2fs -d $dir failed: $msg"
	fi
	rm -f "$tmp.log"
	mv "$tmp" "$img" || die "pack: cannot rename $tmp to $img"
	trap - EXIT
}

unpack() {
	[ $# -ge 3 ] || usage "unpack takes IMAGE PATH... DEST"
	img=$1
	shift
	[ -e "$img" ] || bad "unpack: $img does not exist (give the workspace image the VM ran with)"
	[ -f "$img" ] && [ -r "$img" ] || bad "unpack: $img is not a readable image file"
	debugfs=$(e2tool debugfs)
	# The last argument is DEST.
	for a; do dest=$a; done
	[ ! -e "$dest" ] || [ -d "$dest" ] || bad "unpack: $dest exists and is not a directory (give a directory to unpack into)"
	"$debugfs" -R "stats" "$img" 2>/dev/null | grep -q '^Filesystem magic number: *0xEF53' ||
		bad "unpack: $img is not an ext2/3/4 image (pack makes one: workspace.sh pack DIR IMAGE)"
	if "$debugfs" -R "stats" "$img" 2>/dev/null | grep -q '^Filesystem features:.*needs_recovery'; then
		echo "$ME: note: $img was not cleanly unmounted (the VM was stopped mid-job?): the last writes may be missing" >&2
	fi
	# Check every PATH before anything is written. "/" stands for the
	# entries of the image's root, less the file system's own lost+found.
	srcs=
	n=$#
	i=1
	for p; do
		[ "$i" -lt "$n" ] || break
		i=$((i + 1))
		dbg_check "$p" "unpack: $p"
		ip=$(printf '/%s' "$p" | sed 's://*:/:g; s:/$::')
		"$debugfs" -R "stat \"${ip:-/}\"" "$img" 2>&1 | grep -q '^Inode: ' ||
			bad "unpack: $p is not in $img (see what is: debugfs -R 'ls -l $(dirname "${ip:-/}")' $img)"
		if [ -z "$ip" ]; then
			names=$("$debugfs" -R "ls -p /" "$img" 2>/dev/null | awk -F/ 'NF >= 7 && $6 != "." && $6 != ".." && $6 != "lost+found" { print $6 }')
		else
			names=${ip##*/}
		fi
		IFS=$NL
		for name in $names; do
			dbg_check "$name" "unpack: $p"
			[ ! -e "$dest/$name" ] && [ ! -L "$dest/$name" ] ||
				bad "unpack: $dest/$name exists already (remove it, or unpack into another directory)"
			src=$ip
			[ -n "$ip" ] || src=/$name
			srcs="$srcs \"$src\""
		done
		IFS=$OIFS
	done
	dbg_check "$dest" "unpack: $dest"
	mkdir -p "$dest" 2>/dev/null || bad "unpack: cannot make the directory $dest (give a directory to unpack into)"
	[ -n "$srcs" ] || return 0
	out=$("$debugfs" -R "rdump$srcs \"$dest\"" "$img" 2>&1 | grep -v '^debugfs [0-9]')
	[ -z "$out" ] || die "unpack: debugfs rdump: $(printf '%s' "$out" | head -n1)"
}

[ $# -ge 1 ] || usage "no command"
cmd=$1
shift
case $cmd in
pack) pack "$@" ;;
unpack) unpack "$@" ;;
-h | --help) sed -n '3,24s/^# \{0,1\}//p' "$0" ;;
*) usage "unknown command \"$cmd\"" ;;
esac

#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/workspace.sh without a VM: pack and unpack round-trip a tree; bad input is one line, status 2, no file changed.
# usage: workspace.sh REPO
set -u
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$1" && pwd)
W=$REPO/scripts/workspace.sh
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
# bad LABEL PATTERN ARG...: status 2, one stderr line matching PATTERN.
bad() {
	_l=$1 _p=$2
	shift 2
	"$W" "$@" >out.txt 2>err.txt
	_st=$?
	echo "+ [$_l] workspace.sh $* -> $_st: $(cat err.txt)"
	CHECKS=$((CHECKS + 1))
	if [ "$_st" != 2 ]; then
		fail "$_l: status $_st, expected 2"
	elif [ "$(wc -l <err.txt)" != 1 ]; then
		fail "$_l: $(wc -l <err.txt) lines on stderr, expected 1"
	elif ! grep -Eq -- "$_p" err.txt; then
		fail "$_l: stderr does not match /$_p/"
	fi
}
tree_sum() { (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r f; do
	if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"
	elif [ -d "$f" ]; then echo "$f/ $(stat -c %a "$f")"
	else echo "$f $(stat -c '%a %s %Y' "$f") $(md5sum <"$f")"; fi
done); }

# A job tree: an executable job/run, nested directories, an empty one, a
# symlink, names with blanks, a 3 MiB file, a file with an old mtime.
mkdir -p src/job src/deep/er/still "src/with space" src/empty
printf '#!/bin/sh\necho job\n' >src/job/run
chmod 755 src/job/run
echo data >"src/with space/a file"
ln -s ../job/run src/deep/link
head -c 3145728 /dev/urandom >src/deep/er/still/blob
echo old >src/old
touch -d '2020-01-02 03:04:05' src/old
chmod 640 src/old

check "pack exits 0" "$W" pack src ws.img
check "the image is an ext4 file system labelled workspace" \
	sh -c "/sbin/blkid -o value -s LABEL ws.img 2>/dev/null | grep -qx workspace || /usr/sbin/dumpe2fs -h ws.img 2>/dev/null | grep -q 'volume name: *workspace'"
check "e2fsck -fn finds the image clean" /usr/sbin/e2fsck -fn ws.img
check "the default size is at least 1 GiB" [ "$(stat -c %s ws.img)" -ge 1073741824 ]
check "and the image is sparse (under 64 MiB used)" [ "$(du -k ws.img | cut -f1)" -lt 65536 ]
check "unpack / exits 0" "$W" unpack ws.img / all
check "unpack / gives back the same tree (modes, sizes, mtimes, contents, symlinks)" \
	[ "$(tree_sum src)" = "$(tree_sum all)" ]
check "unpack picks paths, each as DEST/NAME" "$W" unpack ws.img job/run /deep/er "with space/a file" some/new/dir
check "the picked file" cmp src/job/run some/new/dir/run
check "the picked directory" [ "$(tree_sum src/deep/er)" = "$(tree_sum some/new/dir/er)" ]
check "the picked name with a blank" cmp "src/with space/a file" "some/new/dir/a file"
check "an empty directory packs (and 8M is enough for 3 MiB)" "$W" pack src/empty small.img 8M
check "unpack of an empty image's / makes DEST and nothing in it" "$W" unpack small.img / e
check "DEST is empty" [ -z "$(ls -A e)" ]
cp ws.img ws.keep
check "pack over an existing image replaces it" "$W" pack src/deep ws.img 64M
check "with the new tree" sh -c "'$W' unpack ws.img / re && [ -d re/er ] && [ ! -e re/job ]"
cp ws.keep ws.img

# Bad input: status 2, one line, and no file changed.
sum=$(md5sum <ws.img)
listing() { find . -path ./out.txt -prune -o -path ./err.txt -prune -o -print | LC_ALL=C sort | md5sum; }
before=$(listing)
bad missing-dir 'nosuch.*does not exist' pack nosuch new.img
bad not-a-dir 'src/old.*not a directory' pack src/old new.img
bad too-small 'too small for src' pack src new.img 4M
bad bad-size 'bad SIZE' pack src new.img 12X
bad image-is-dir 'is a directory' pack src all
bad into-missing-dir 'cannot write in' pack src nosuch/new.img
bad path-not-in-image 'nope is not in ws.img' unpack ws.img job/run nope out
bad one-missing-among-good 'job/nope is not in' unpack ws.img job/run job/nope out
bad dest-name-exists 'all/job exists already' unpack ws.img job all
bad slash-dest-exists 'exists already' unpack ws.img / all
bad image-missing 'nosuch.img does not exist' unpack nosuch.img job out
bad not-ext4 'not an ext2/3/4 image' unpack src/old job out
bad dest-is-file 'not a directory' unpack ws.img job src/old
bad no-command 'no command' 
bad unknown-command 'unknown command' frob
bad unpack-too-few 'unpack takes' unpack ws.img job
check "no bad input changed the image" [ "$(md5sum <ws.img)" = "$sum" ]
check "no bad input made or changed a file" [ "$(listing)" = "$before" ]

ci_finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: what a CI job does with its disk. Two ext4 images made on the host,
# one per drive: cache=none (O_DIRECT) and cache=unsafe mounted with -o discard.
# The guest mounts both, writes a large random file, a few hundred small ones,
# copies and deletes some, hashes the tree and unmounts. After vmm exits, the
# host finds each image clean (e2fsck -fn) and holding exactly the tree the
# guest hashed (read back with debugfs, not through a mount).
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

# e2fsprogs' own tools, by path: the test host's busybox has an mke2fs applet
# earlier in PATH that cannot make ext4.
E2=/usr/sbin
for t in mke2fs e2fsck debugfs; do
	[ -x "$E2/$t" ] || { ITEST_CHECKS=$((ITEST_CHECKS + 1)); fail "$E2/$t is missing (e2fsprogs)"; finish; }
done
export LC_ALL=C
for d in a b; do
	make_image "$SCRATCH/$d.img" 64
	"$E2/mke2fs" -q -t ext4 -F -E lazy_itable_init=0,lazy_journal_init=0 "$SCRATCH/$d.img" ||
		{ ITEST_CHECKS=$((ITEST_CHECKS + 1)); fail "mke2fs $d.img"; finish; }
done

# The guest's job, as a function of the mount point and drive id: write, copy,
# delete, then print the file count and one hash over the sorted per-file hashes.
# The sync before the rm makes ext4 allocate the small files' blocks first: with
# delayed allocation, files deleted before writeback free no blocks, and b's
# -o discard then sends no DISCARD at all, depending on how fast the guest ran.
job='j() { mkdir -p $1/job/src && dd if=/dev/urandom of=$1/job/big bs=1M count=8 2>/dev/null &&
i=0; while [ $i -lt 300 ]; do echo "file $i on $1" >$1/job/src/f$i; i=$((i + 1)); done &&
cp $1/job/big $1/job/copy && sync && rm $1/job/src/f1* && sync &&
echo guest-files-$2=$(($(find $1/job -type f | wc -l))) &&
echo guest-tree-$2=$(cd $1/job && find . -type f | sort | xargs sha256sum | sha256sum | cut -d" " -f1); }'
boot_guest --drive "file=$SCRATCH/a.img,cache=none,id=a" --drive "file=$SCRATCH/b.img,cache=unsafe,id=b" \
	--stats "$SCRATCH/stats.json" -- \
	"$job; modprobe ext4 && mkdir -p /a /b && mount -t ext4 /dev/vda /a && mount -t ext4 -o discard /dev/vdb /b &&
j /a a && j /b b && umount /a && umount /b && echo guest-job=ok"
expect_status 0
expect_output '^guest-job=ok$'
expect_output '^guest-files-a=191$'
expect_output '^guest-files-b=191$'
expect_stat "$SCRATCH/stats.json" a errors -eq 0
expect_stat "$SCRATCH/stats.json" b errors -eq 0
expect_stat "$SCRATCH/stats.json" a host_flushes -gt 0
expect_stat "$SCRATCH/stats.json" b host_flushes -eq 0
expect_stat "$SCRATCH/stats.json" b flushes_skipped -gt 0
expect_stat "$SCRATCH/stats.json" b discards -gt 0

for d in a b; do
	"$E2/e2fsck" -fn "$SCRATCH/$d.img" >"$SCRATCH/fsck-$d" 2>&1
	st=$?
	expect_true "e2fsck -fn finds $d.img clean (status $st: $(tail -n1 "$SCRATCH/fsck-$d"))" [ "$st" -eq 0 ]
	rm -rf "$SCRATCH/out-$d"
	mkdir -p "$SCRATCH/out-$d"
	"$E2/debugfs" -R "rdump /job $SCRATCH/out-$d" "$SCRATCH/$d.img" >/dev/null 2>&1
	tree=$(cd "$SCRATCH/out-$d/job" 2>/dev/null && find . -type f | sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
	want=$(output_value "guest-tree-$d")
	expect_true "$d.img holds the tree the guest wrote (guest ${want:-none}, image $tree)" \
		[ "${want:-none}" = "$tree" ]
done
finish

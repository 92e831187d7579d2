#!/bin/sh
# SPDX-License-Identifier: MIT
# Inner part of bench/guest-fio.sh: runs in the test host, in-guest fio on one image under vmm and QEMU microvm in turn.
# timeout: 1500   (run.py reads this from the first 20 lines)
#
# Run through tests/integration/run.py --script --with-fio --with-qemu (bench/guest-fio.sh
# does that); self-contained because only this file reaches the test host.
# Env: VMM, QEMU, GUEST_VMLINUX, GUEST_INITRD_FIO, SCRATCH (runner);
#      ROUNDS (default 3), MODES (default "none writeback"), JOBS (default
#      "randread randwrite"), IODEPTH (32), RUNTIME (10 s), RAMP (2 s),
#      IMAGE_MIB (256), QEMU_IOTHREAD (0: QEMU serves the disk from its main
#      loop, its default; 1: from an iothread), VMM_POLLS ("": vmm with its
#      default drive settings only; else a list of poll= values, one vmm runner
#      "vmm-pollN" each, e.g. "64 0").
# Both runners boot the same vmlinux + fio initrd (MEMORY, default 512M, 1 vCPU) with the
# same kernel command line and one virtio-blk drive on the same image file
# with the same cache mode: vmm --drive file=IMG,cache=MODE; QEMU
# -drive ...,aio=io_uring,cache=MODE + -device virtio-blk-device. The guest
# runs each job (4k, QD IODEPTH, io_uring, direct=1) on /dev/vda in one boot.
# The runner that goes first alternates from round to round. Per job it prints
#   bench-fio: runner=R mode=M job=J round=N iops=X
# and per boot a line with status, ok|bad.
ROUNDS=${ROUNDS:-3}
MODES=${MODES:-none writeback}
JOBS=${JOBS:-randread randwrite}
IODEPTH=${IODEPTH:-32}
RUNTIME=${RUNTIME:-10}
RAMP=${RAMP:-2}
IMAGE_MIB=${IMAGE_MIB:-256}
QEMU_IOTHREAD=${QEMU_IOTHREAD:-0}
VMM_POLLS=${VMM_POLLS:-}
# 256 MiB is too little to unpack the fio initrd ("Initramfs unpacking failed: write error").
MEMORY=${MEMORY:-512M}
BASE="console=ttyS0 quiet"

[ -n "${QEMU:-}" ] || { echo "bench-fio: no QEMU in this test host (run.py --with-qemu)"; exit 77; }
[ -n "${GUEST_INITRD_FIO:-}" ] || { echo "bench-fio: no fio initrd (run.py --with-fio)"; exit 77; }
[ -c /dev/kvm ] || { echo "bench-fio: no /dev/kvm"; exit 77; }

IMG=$SCRATCH/disk.img
# Fully written and synced: no block allocation (and so no ext4 journal work in
# the test host) while a guest writes, and reads really come from the disk.
dd if=/dev/zero of="$IMG" bs=1M count="$IMAGE_MIB" conv=fsync 2>/dev/null
cat "$VMM" "$QEMU" "$GUEST_VMLINUX" "$GUEST_INITRD_FIO" >/dev/null

# The guest's command: each job in turn, one "fio-iops:NAME;READ;WRITE" line
# each (terse v3 fields 3, 8 and 49).
FIO_CMD=
for j in $JOBS; do
	FIO_CMD="$FIO_CMD echo fio-iops:\$(fio --name=$j --filename=/dev/vda --rw=$j --bs=4k"
	FIO_CMD="$FIO_CMD --iodepth=$IODEPTH --ioengine=io_uring --direct=1 --runtime=$RUNTIME"
	FIO_CMD="$FIO_CMD --ramp_time=$RAMP --time_based --output-format=terse --terse-version=3 | cut -d';' -f3,8,49);"
done
FIO_CMD="$FIO_CMD exit 0"
# The kernel hands init at most 31 words; the guest's /init decodes one
# "vmm-b64:" word into the command (tests/guest/init).
GUEST_ARG="vmm-b64:$(printf '%s' "$FIO_CMD" | base64 | tr -d '\n')"

one() { # runner mode round
	rm -f "$SCRATCH/out.raw"
	if [ "${1%%-*}" = vmm ]; then
		# vmm-pollN: the drive gets poll=N.
		extra=
		case $1 in vmm-poll*) extra=",poll=${1#vmm-poll}" ;; esac
		"$VMM" --kernel "$GUEST_VMLINUX" --initrd "$GUEST_INITRD_FIO" --memory "$MEMORY" --cpus 1 \
			--timeout 300 --drive "file=$IMG,cache=$2,id=d0$extra" \
			--cmdline "$BASE -- $GUEST_ARG" >"$SCRATCH/out.raw" 2>"$SCRATCH/err"
		st=$?
		want=0
	else
		dev=virtio-blk-device,drive=d0
		io=
		if [ "$QEMU_IOTHREAD" = 1 ]; then
			io="-object iothread,id=io0"
			dev=$dev,iothread=io0
		fi
		# shellcheck disable=SC2086 # $io is two words or none
		# The same 300 s bound vmm's --timeout gives: a stuck run costs one round, not the whole batch.
		timeout 300 "$QEMU" -M microvm,acpi=on -accel kvm -cpu host -m "$MEMORY" -smp 1 -nodefaults -no-user-config \
			-display none -serial stdio -no-reboot -device isa-debug-exit,iobase=0x501,iosize=1 \
			-kernel "$GUEST_VMLINUX" -initrd "$GUEST_INITRD_FIO" $io \
			-drive "id=d0,if=none,format=raw,file=$IMG,aio=io_uring,cache=$2" -device "$dev" \
			-append "$BASE reboot=k panic=-1 pci=off -- $GUEST_ARG" >"$SCRATCH/out.raw" 2>"$SCRATCH/err"
		st=$?
		# isa-debug-exit: status (0 << 1) | 1.
		want=1
	fi
	tr -d '\r' <"$SCRATCH/out.raw" >"$SCRATCH/out"
	n=0
	for j in $JOBS; do
		# READ IOPS for read jobs, WRITE IOPS for write jobs.
		iops=$(awk -F';' -v j="fio-iops:$j" '$1 == j { v = ($2 + 0 > 0) ? $2 : $3 } END { print v }' "$SCRATCH/out")
		[ -n "$iops" ] && [ "$iops" != 0 ] || iops=-
		[ "$iops" != - ] && n=$((n + 1))
		echo "bench-fio: runner=$1 mode=$2 job=$j round=$3 iops=$iops"
	done
	v=bad
	[ "$st" = "$want" ] && [ "$n" = "$(echo $JOBS | wc -w)" ] && v=ok
	echo "bench-fio: boot runner=$1 mode=$2 round=$3 status=$st $v"
	if [ "$v" = bad ]; then
		tail -n 8 "$SCRATCH/out" | sed 's/^/| /'
		tail -n 5 "$SCRATCH/err" | sed 's/^/! /'
	fi
}

VMMS=vmm
if [ -n "$VMM_POLLS" ]; then
	VMMS=
	for p in $VMM_POLLS; do VMMS="$VMMS vmm-poll$p"; done
fi
echo "bench-fio: rounds=$ROUNDS modes=$MODES jobs=$JOBS iodepth=$IODEPTH runtime=${RUNTIME}s ramp=${RAMP}s image=${IMAGE_MIB}MiB qemu_iothread=$QEMU_IOTHREAD vmm_runners=$(echo $VMMS)"
echo "bench-fio: guest command: $FIO_CMD"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	order="$VMMS qemu"
	[ $((r % 2)) = 0 ] && order="qemu $VMMS"
	for m in $MODES; do
		for runner in $order; do
			one "$runner" "$m" "$r"
		done
	done
	r=$((r + 1))
done
exit 0

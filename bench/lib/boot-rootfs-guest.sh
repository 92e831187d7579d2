#!/bin/sh
# SPDX-License-Identifier: MIT
# Inner part of bench/boot-rootfs.sh: in the test host, boots the project's Debian rootfs under vmm and QEMU microvm in turn.
#
# Run through tests/integration/run.py --script (bench/boot-rootfs.sh does
# that); self-contained because only this file reaches the test host.
# Env: VMM, QEMU, ROOTFS_DIR, SCRATCH (runner); ROUNDS (default 3);
#      ANALYZE=1 boots once under vmm without "quiet" and prints where the
#      time went (systemd-analyze, the kernel's printk times) instead.
# Both runners get the same kernel, initrd and image (each its own copy of
# rootfs.img, made once), cache=unsafe, 512 MiB, 1 vCPU, and the same kernel
# command line; the guest's vmm-job runs the job "echo bench-job-start" and
# reports status 0 through port 0x501 (QEMU: isa-debug-exit at 0x501, which
# exits with (0 << 1) | 1). Per boot it prints
#   bench-rootfs: runner=R round=N job_s=S exit_s=S status=N ok|bad
# job_s: exec to the job's console line reaching us; exit_s: exec to the
# process's exit (the job's end and power-off). Clock: /proc/uptime.
# needs: rootfs
# timeout: 1500
ROUNDS=${ROUNDS:-3}
# vmm keeps its kernel cache in $SCRATCH/kernels: its first boot (runner
# vmmcold, round 0, before the rounds) unpacks vmlinuz there, a miss; the
# rounds' vmm boots are hits, as every boot after a kernel's first is.
BASE="console=ttyS0 root=/dev/vda rw quiet"
JOB="echo bench-job-start"

[ -n "${ROOTFS_DIR:-}" ] && [ -f "$ROOTFS_DIR/rootfs.img" ] || { echo "bench-rootfs: no rootfs"; exit 1; }
[ -c /dev/kvm ] || { echo "bench-rootfs: no /dev/kvm"; exit 77; }
K=$ROOTFS_DIR/vmlinuz
I=$ROOTFS_DIR/initrd.img
for r in vmm qemu; do
	/usr/bin/cp --sparse=always "$ROOTFS_DIR/rootfs.img" "$SCRATCH/root-$r.img" || exit 1
done
cat "$VMM" "$K" "$I" >/dev/null

if [ "${ANALYZE:-0}" = 1 ]; then
	# printk times for the kernel's part; systemd's own account for the rest.
	# The job is too long for the command line (the kernel gives init at most
	# 31 words), so it goes in a workspace.
	mkdir -p "$SCRATCH/an/job"
	cat >"$SCRATCH/an/job/run" <<'JOB'
#!/bin/sh
echo "==analyze== uptime at the job: $(cut -d' ' -f1 /proc/uptime) s"
echo "==kernel== (printk times, s)"
dmesg | grep -E 'Command line|clocksource: Switched|Trying to unpack|Freeing initrd|Freeing unused kernel image \(initmem|Run /init|virtio_blk virtio0|EXT4-fs \(vda\): mounted|systemd\[1\]: systemd 2|EXT4-fs \(vda\): re-mounted|EXT4-fs \(vdb\)|kvm: |Serial: 8250|i8042|rtc_cmos|input:' | cut -c1-110
echo "==systemd== (journal, monotonic s)"
journalctl -b -o short-monotonic --no-pager 2>/dev/null | grep -E 'systemd\[1\]: (Started|Finished|Reached target|Mounted|Starting|Listening)' | grep -vE 'Listening on|Starting' | cut -c1-110 | head -n 80
echo "==memory=="
grep -E '^(MemTotal|MemFree|MemAvailable|Buffers|Cached):' /proc/meminfo
echo "==modules=="
cut -d' ' -f1 /proc/modules | tr '\n' ' '; echo
JOB
	chmod 755 "$SCRATCH/an/job/run"
	sh "$WORKSPACE_SH" pack "$SCRATCH/an" "$SCRATCH/an.img" 64M || exit 1
	"$VMM" --kernel "$K" --initrd "$I" --memory 512M --cpus 1 --timeout 200 \
		--drive "file=$SCRATCH/root-vmm.img,cache=unsafe" --drive "file=$SCRATCH/an.img,cache=unsafe" \
		--stats "$SCRATCH/stats.json" --cmdline "$BASE" \
		2>&1 | tr -d '\r' | sed 's/^/bench-rootfs-analyze: /'
	sed 's/^/bench-rootfs-analyze: /' "$SCRATCH/stats.json"
	exit 0
fi
stamp() {
	awk -v t0="$1" -v out="$SCRATCH/out" '
		!m && /bench-job-start/ {
			getline u < "/proc/uptime"; close("/proc/uptime")
			split(u, a, " "); m = sprintf("%.2f", a[1] - t0)
		}
		{ print > out }
		END { print (m == "" ? "-" : m) }'
}
one() { # runner round
	rm -f "$SCRATCH/st" "$SCRATCH/out"
	read -r t0 _ </proc/uptime
	if [ "$1" != qemu ]; then
		m=$({
			"$VMM" --kernel "$K" --kernel-cache "$SCRATCH/kernels" --initrd "$I" --memory 512M --cpus 1 --timeout 200 \
				--drive "file=$SCRATCH/root-vmm.img,cache=unsafe" \
				--cmdline "$BASE -- $JOB" 2>"$SCRATCH/err"
			echo $? >"$SCRATCH/st"
		} | stamp "$t0")
		want=0
	else
		m=$({
			"$QEMU" -M microvm,acpi=on -accel kvm -cpu host -m 512M -smp 1 -nodefaults -no-user-config \
				-display none -serial stdio -no-reboot -device isa-debug-exit,iobase=0x501,iosize=1 \
				-drive "file=$SCRATCH/root-qemu.img,if=none,id=root,format=raw,cache=unsafe" \
				-device virtio-blk-device,drive=root \
				-kernel "$K" -initrd "$I" -append "$BASE reboot=k panic=-1 pci=off -- $JOB" 2>"$SCRATCH/err"
			echo $? >"$SCRATCH/st"
		} | stamp "$t0")
		want=1
	fi
	read -r t1 _ </proc/uptime
	st=$(cat "$SCRATCH/st" 2>/dev/null)
	v=bad
	[ "$st" = "$want" ] && [ "$m" != - ] && v=ok
	echo "bench-rootfs: runner=$1 round=$2 job_s=$m exit_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') status=$st $v"
	if [ "$v" = bad ]; then
		tr -d '\r' <"$SCRATCH/out" | tail -n 8 | sed 's/^/| /'
		tail -n 5 "$SCRATCH/err" | sed 's/^/! /'
	fi
}
[ -n "${QEMU:-}" ] || { echo "bench-rootfs: no QEMU in this test host (run.py --with-qemu)"; exit 77; }
echo "bench-rootfs: rounds=$ROUNDS cmdline='$BASE -- $JOB'"
rm -rf "$SCRATCH/kernels"
one vmmcold 0
r=1
while [ "$r" -le "$ROUNDS" ]; do
	order="vmm qemu"
	[ $((r % 2)) = 0 ] && order="qemu vmm"
	for runner in $order; do one "$runner" "$r"; done
	r=$((r + 1))
done
rm -f "$SCRATCH"/root-*.img
exit 0

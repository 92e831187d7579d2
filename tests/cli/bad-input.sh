#!/bin/sh
# SPDX-License-Identifier: MIT
# Bad kernel, initrd and command line: status 2 and one line naming the option (or INI file:line), found
# before /dev/kvm is opened. Every run has -v, whose set-up log would add lines once vm_create starts, so
# "exactly one line" also proves the input was judged first. usage: bad-input.sh VMM GOOD_ELF
set -u
VMM=$1
. "$(dirname "$0")/lib.sh"
elf=$(abspath "$2")
cli_scratch

: >empty
mkfifo fifo
printf 'not a kernel\n' >notkernel
truncate -s 100M big.initrd
truncate -s 2200M huge.initrd
echo initrd >small.initrd
long=$(head -c 3000 /dev/zero | tr '\0' x)
# A bzImage header with boot protocol 2.11 (one below the oldest we take): boot flag, "HdrS", version.
python3 - <<'PY'
import struct
img = bytearray(8192)
img[0x1F1] = 4
img[0x201] = 0x6A
struct.pack_into('<H', img, 0x1FE, 0xAA55)
img[0x202:0x206] = b'HdrS'
struct.pack_into('<H', img, 0x206, 0x020B)
open('oldbz', 'wb').write(img)
# The same header at 2.15, 64-bit, whose payload runs 4096 bytes past the end of the file: a cut-short copy.
struct.pack_into('<H', img, 0x206, 0x020F)
img[0x211] = 0x01                                          # loadflags: LOADED_HIGH
struct.pack_into('<H', img, 0x236, 0x0001)                 # xloadflags: XLF_KERNEL_64
struct.pack_into('<II', img, 0x248, 0x100, 8192 - 2560 - 0x100 + 4096)   # payload_offset, payload_length
open('cutbz', 'wb').write(img)
PY
# An arm64 Image's header (its magic at 0x38, text_offset 0, image_size 2 MiB): not for the x86 vmm.
python3 - <<'PY'
import struct
img = bytearray(8192)
struct.pack_into('<QQ', img, 8, 0, 2 << 20)
img[0x38:0x3C] = b'ARM\x64'
open('Image.arm64', 'wb').write(img)
PY
# The good ELF cut inside its program headers, compressed, and told to be an object file or an arm64 one.
head -c 100 "$elf" >cutelf
gzip -c "$elf" >elf.gz
python3 - "$elf" <<'PY'
import struct, sys
img = bytearray(open(sys.argv[1], 'rb').read())
struct.pack_into('<H', img, 16, 1)     # e_type = ET_REL
open('elf.o', 'wb').write(img)
struct.pack_into('<H', img, 16, 2)     # ET_EXEC again
struct.pack_into('<H', img, 18, 183)   # e_machine = EM_AARCH64
open('elf.arm64', 'wb').write(img)
struct.pack_into('<H', img, 18, 0x7777)   # a machine without a name
open('elf.nameless', 'wb').write(img)
struct.pack_into('<H', img, 18, 62)    # EM_X86_64 again
def variant(name, off, fmt, value):
    v = bytearray(img)
    struct.pack_into(fmt, v, off, value)
    open(name, 'wb').write(v)
variant('elf.class32', 4, 'B', 1)                # EI_CLASS = ELFCLASS32
variant('elf.phentsize', 54, '<H', 8)            # program headers smaller than Elf64_Phdr
PADDR = 64 + 24                                  # the one program header's p_paddr
variant('elf.low', PADDR, '<Q', 0x7000)
variant('elf.high', PADDR, '<Q', 5 << 30)
variant('elf.hole', PADDR, '<Q', 0xD0000000)
variant('elf.past-ram', PADDR, '<Q', (64 << 20) - 0x10)
PY

usage kernel-missing '^vmm: --kernel nokernel: No such file or directory \(check the path\)$' -v --kernel nokernel
usage kernel-empty '^vmm: --kernel empty: is empty \(give the kernel image' -v --kernel empty
usage kernel-fifo '^vmm: --kernel fifo: is not a regular file \(give the file itself' -v --kernel fifo
usage kernel-dev-zero '--kernel /dev/zero: is not a regular file' -v --kernel /dev/zero
usage kernel-dir '--kernel \.: is a directory' -v --kernel .
usage kernel-not-kernel '^vmm: --kernel notkernel: not a Linux bzImage or ELF vmlinux' -v --kernel notkernel
# A path with a line break is quoted as \n, so the message stays one line.
usage kernel-path-line-break '^vmm: --kernel no\\nkernel: No such file or directory' -v --kernel "$(printf 'no\nkernel')"
# sysfs says 4096 bytes and gives a few: read as a file that shrank while vmm read it.
if [ -r /sys/kernel/uevent_seqnum ]; then
	usage kernel-shrank '^vmm: --kernel /sys/kernel/uevent_seqnum: the file got shorter while vmm read it' \
		-v --kernel /sys/kernel/uevent_seqnum
fi
usage kernel-old-protocol '^vmm: --kernel oldbz: uses boot protocol 2\.11, older than the 2\.12 vmm needs \(use a kernel from Linux 3\.8 or later\)$' \
	-v --kernel oldbz
usage kernel-cut-bzimage '^vmm: --kernel cutbz: is cut short: its headers need at least 12288 bytes and the file has 8192 \(copy the kernel again\)$' \
	-v --kernel cutbz
usage kernel-cut-elf '^vmm: --kernel cutelf: is cut short: its headers need at least [0-9]+ bytes and the file has 100 \(copy' \
	-v --kernel cutelf
usage kernel-gzip '^vmm: --kernel elf\.gz: is gzip-compressed, not a kernel image \(decompress it, or give the kernel image' \
	-v --kernel elf.gz
usage kernel-object '^vmm: --kernel elf\.o: is an ELF relocatable object \(a \.o or \.ko\), not a linked vmlinux' \
	-v --kernel elf.o
usage kernel-arm64 '^vmm: --kernel elf\.arm64: is an ELF file for arm64, and vmm boots x86-64 kernels \(give an x86-64' \
	-v --kernel elf.arm64
usage kernel-arm64-image '^vmm: --kernel Image\.arm64: is an arm64 Image, and vmm boots x86-64 kernels \(give an x86-64 bzImage or vmlinux\)$' \
	-v --kernel Image.arm64
usage kernel-nameless-machine '^vmm: --kernel elf\.nameless: is an ELF file for machine 30583, and vmm boots x86-64 kernels' \
	-v --kernel elf.nameless
usage kernel-32bit '^vmm: --kernel elf\.class32: cannot boot in 64-bit mode: it is a 32-bit ELF file \(use a 64-bit x86 kernel\)$' \
	-v --kernel elf.class32
usage kernel-malformed '^vmm: --kernel elf\.phentsize: malformed kernel image: it has no usable program header table \(give' \
	-v --kernel elf.phentsize
usage kernel-low '^vmm: --kernel elf\.low: loads at 0x7000, below 1 MiB, where vmm keeps the boot data \(give a kernel' \
	-v --kernel elf.low
usage kernel-above-4g '^vmm: --kernel elf\.high: reaches 0x14000[0-9a-f]{4}, past the 4 GiB that vmm.s boot page tables map' \
	-v --kernel elf.high
usage kernel-in-hole '^vmm: --kernel elf\.hole: reaches 0xd000[0-9a-f]{4}, past the 3 GiB where guest RAM below 4 GiB ends \(give' \
	-v --kernel elf.hole --memory 8G
usage kernel-past-ram '^vmm: --kernel elf\.past-ram: does not fit in 64 MiB of guest memory: it needs RAM up to 65 MiB \(raise --memory\)$' \
	-v --kernel elf.past-ram --memory 64M
usage initrd-empty '^vmm: --initrd empty: is empty' -v --kernel "$elf" --initrd empty
usage initrd-dev-zero '--initrd /dev/zero: is not a regular file' -v --kernel "$elf" --initrd /dev/zero
usage initrd-fifo '--initrd fifo: is not a regular file' -v --kernel "$elf" --initrd fifo
usage initrd-too-big-ram '--initrd big\.initrd: 100 MiB does not fit in 64 MiB .*\(raise --memory\)$' \
	-v --kernel "$elf" --memory 64M --initrd big.initrd
usage initrd-too-big-kernel-limit '--initrd huge\.initrd: 2200 MiB .*initrd limit at 2048 MiB .*more --memory cannot help' \
	-v --kernel "$elf" --memory 3G --initrd huge.initrd
usage cmdline-too-long '^vmm: --cmdline: too long .*shorten it' -v --kernel "$elf" --cmdline "$long"

# The same from an INI file: the message names file:line and key, not a command-line option.
ini() { printf '%s\n' "$@" >vm.ini; }
ini '[boot]' 'kernel = nokernel'
usage ini-kernel-missing '^vmm: vm\.ini:2: kernel: /.*/nokernel: No such file or directory \(check the path\)$' -v --config vm.ini
ini '[boot]' 'kernel = "../k"'
usage ini-kernel-quoted 'vm\.ini:2: kernel: .*remove the quotes' -v --config vm.ini
ini '[boot]' "kernel = $elf" 'initrd = empty'
usage ini-initrd-empty '^vmm: vm\.ini:3: initrd: /.*/empty: is empty' -v --config vm.ini
ini '[machine]' 'memory = 64M' '[boot]' "kernel = $elf" 'initrd = big.initrd'
usage ini-initrd-too-big '^vmm: vm\.ini:5: initrd: /.*/big\.initrd: 100 MiB does not fit' -v --config vm.ini
ini '[boot]' "kernel = $elf" "cmdline = $long"
usage ini-cmdline-too-long '^vmm: vm\.ini:3: cmdline: too long' -v --config vm.ini
ini '[boot]' 'kernel = notkernel'
usage ini-kernel-not-kernel '^vmm: vm\.ini:2: kernel: /.*/notkernel: not a Linux bzImage' -v --config vm.ini
# Files that are not INI text: a NUL byte, more than 1 MiB (a disk image or /dev/zero given by mistake).
# A UTF-8 byte order mark before the first header: still read, and a bad header still refused as without it.
printf '\357\273\277[boot]\nkernel = %s\n' "$elf" >bom.ini
run ini-bom-good --config bom.ini --print-config
CLI_CHECKS=$((CLI_CHECKS + 1))
[ "$st" = 0 ] && grep -q "^kernel = $elf\$" out || cli_fail "ini-bom-good: status $st, or no kernel in --print-config"
printf '\357\273\277[machin]\n[boot]\nkernel = %s\n' "$elf" >bom.ini
usage ini-bom-unknown-section '^vmm: bom\.ini:1: unknown section \[machin\] \(expected \[machine\]' -v --config bom.ini
printf '\357\273\277[boot] junk\nkernel = %s\n' "$elf" >bom.ini
usage ini-bom-text-after-header '^vmm: bom\.ini:1: text after the section header \[boot\]; put it on a line of its own' \
	-v --config bom.ini
printf '[boot]\nkernel = %s\0\n' "$elf" >nul.ini
usage ini-nul-byte '^vmm: --config nul\.ini: it contains a NUL byte; is it a text file\?$' -v --config nul.ini
head -c 1048577 /dev/zero | tr '\0' '\n' >big.ini
usage ini-too-large '^vmm: --config big\.ini: larger than 1048576 bytes; is it the right file\?$' -v --config big.ini
usage ini-dev-zero '^vmm: --config /dev/zero: larger than 1048576 bytes' -v --config /dev/zero
cli_finish

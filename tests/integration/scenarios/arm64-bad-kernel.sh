#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: the arm64 vmm refuses an x86 kernel and lying Image headers: status 2, one line, before /dev/kvm.
# arch: arm64
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

# put FILE OFFSET OCTAL-ESCAPES: write bytes into FILE at OFFSET.
put() { printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null; }
# header FILE TEXT_OFFSET IMAGE_SIZE (each 8 little-endian bytes as octal escapes): an Image header.
header() {
	dd if=/dev/zero of="$1" bs=4096 count=16 2>/dev/null
	put "$1" 8 "$2"
	put "$1" 16 "$3"
	put "$1" 56 'ARM\144'
}
# An x86 bzImage's setup header: the boot flag at 0x1fe and "HdrS" at 0x202.
dd if=/dev/zero of=bz bs=4096 count=4 2>/dev/null
put bz 510 '\125\252'
put bz 514 'HdrS'
# image_size 1 GiB: more than the guest's 256 MiB; 16 GiB: no kernel's size; text_offset 0x1234:
# not 4 KiB aligned.
header huge '\0\0\0\0\0\0\0\0' '\0\0\0\100\0\0\0\0'
header liar '\0\0\0\0\0\0\0\0' '\0\0\0\0\4\0\0\0'
header odd '\064\022\0\0\0\0\0\0' '\0\0\040\0\0\0\0\0'

# -v logs every set-up step once vm_create starts: one line proves the refusal came first.
run_vmm -v --kernel bz --initrd "$GUEST_INITRD" --timeout 10
expect_status 2
expect_stderr_lines 1
expect_stderr '^vmm: --kernel bz: is an x86 bzImage; expected an arm64 Image \(give an arm64 Image'
run_vmm -v --kernel huge --initrd "$GUEST_INITRD" --memory 256M --timeout 10
expect_status 2
expect_stderr_lines 1
expect_stderr '^vmm: --kernel huge: needs 1024 MiB of guest memory for itself, more than the 256 MiB'
run_vmm -v --kernel liar --initrd "$GUEST_INITRD" --timeout 10
expect_status 2
expect_stderr_lines 1
expect_stderr '^vmm: --kernel liar: malformed arm64 Image: its image_size 0x400000000 is no kernel'
run_vmm -v --kernel odd --initrd "$GUEST_INITRD" --timeout 10
expect_status 2
expect_stderr_lines 1
expect_stderr '^vmm: --kernel odd: .*text_offset'
finish

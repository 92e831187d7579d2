#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: the guest boots from Debian's compressed bzImage both ways: through its own
# decompressor (the real-mode setup header path, --kernel-cache off), and through vmm's kernel
# cache, which unpacks the xz payload on the host once (a miss) and then boots what it kept (a hit).
# timeout: 240
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

# The in-guest decompression costs 5-7 s in the emulated test host; so does the cache's miss.
GUEST_TIMEOUT=120
cache_state() { sed -n 's/^ *"kernel_cache": "\([a-z]*\)",*$/\1/p' "$SCRATCH/stats.json"; }

boot_guest --kernel "$GUEST_BZIMAGE" --kernel-cache off --stats "$SCRATCH/stats.json" -- 'echo bz-$(uname -r); exit 3'
expect_output '^vmm-guest: init ok$'
expect_output '^bz-[0-9]'
expect_status 3 "guest command's status through port 0x501 (the guest's own decompressor)"
expect_true "--stats: kernel_cache off ($(cache_state))" [ "$(cache_state)" = off ]

for want in miss hit; do
	rm -f "$SCRATCH/stats.json"
	boot_guest --kernel "$GUEST_BZIMAGE" --kernel-cache "$SCRATCH/kernels" --stats "$SCRATCH/stats.json" \
		-- 'echo bz-$(uname -r); exit 4'
	expect_output '^bz-[0-9]'
	expect_status 4 "status through the kernel cache's $want"
	expect_true "--stats: kernel_cache $want ($(cache_state))" [ "$(cache_state)" = "$want" ]
done
expect_true "the cache holds one unpacked kernel, an ELF" \
	sh -c '[ "$(ls "$1"/kernels | wc -l)" = 1 ] && [ "$(head -c 4 "$1"/kernels/* | od -An -c | tr -d " ")" = 177ELF ]' \
	sh "$SCRATCH"
finish

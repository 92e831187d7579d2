#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario: a drive's serial= reaches the guest through VIRTIO_BLK_T_GET_ID (/sys/block/vda/serial).
# arch: x86_64 arm64
. "${ITEST_LIB:-$(dirname "$0")/../lib.sh}"

make_image "$SCRATCH/s.img" 4
boot_guest --drive "file=$SCRATCH/s.img,serial=ci-disk-42" -- 'echo guest-serial=$(cat /sys/block/vda/serial)'
expect_status 0
expect_output '^guest-serial=ci-disk-42$'
finish

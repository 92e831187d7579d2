#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed inputs of fuzz_overlay into corpus/overlay/ (the input format is in fuzz_overlay.c).

Each seed is a 6-byte header and batches of 8-byte operations. It rewrites the seeds it knows and
leaves other files (minimised crashes named bug-*) alone.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
READ, WRITE, ZEROES, DISCARD, END = 0, 3, 5, 6, 7
SPC = 8   # sectors per 4 KiB cluster


def header(sectors, real=False, fail=False, eagain=0, seed=1, depth=16, shuffle_depth=16):
    flags = (1 if real else 0) | (2 if fail else 0)
    return struct.pack('<HBBBB', sectors - 1, flags, eagain, seed, ((shuffle_depth - 1) << 4) | (depth - 1))


def op(kind, sector, count, split=0, tag=0):
    return struct.pack('<B', kind | (tag << 3)) + struct.pack('<I', sector)[:3] + struct.pack('<HH', count - 1, split)


def end():
    return op(END, 0, 1)


def hot_cluster(c):
    """Two writes and a read inside one unwritten cluster, none overlapping: copy-ups side by side."""
    s = c * SPC
    return op(WRITE, s + 1, 2, 100, 1) + op(WRITE, s + 5, 1, 7, 2) + op(READ, s + 3, 2, 300) + \
        op(READ, s + 6, 2)


SEEDS = {
    'read-write': header(512) + op(WRITE, 0, 8) + op(WRITE, 16, 16, 0x1234) + op(READ, 40, 8) + end() +
    op(READ, 0, 40, 0x0200) + end(),
    'copy-up-hot': header(256) + hot_cluster(3) + end() + op(READ, 3 * SPC, SPC) + end() + hot_cluster(7),
    'zeroes-mixed': header(512) + op(WRITE, 8, 16) + end() + op(ZEROES, 3, 40) + op(READ, 60, 4) + end() +
    op(DISCARD, 5, 50) + end() + op(READ, 0, 80, 0x3001) + end(),
    'odd-size': header(8 * 30 + 3) + op(WRITE, 8 * 30, 1) + op(ZEROES, 8 * 29 + 2, 3) + end() +
    op(READ, 8 * 28, 8 * 2 + 3) + end(),
    'shuffled-eagain': header(1024, eagain=40, depth=3, shuffle_depth=2) + hot_cluster(1) + hot_cluster(2) +
    op(DISCARD, 2 * SPC + 7, 12) + op(WRITE, 40, 64, 0x4444) + end() + op(READ, 0, 128, 0x55) + end(),
    'failures': header(512, fail=True, seed=9) + hot_cluster(2) + op(WRITE, 100, 30) + end() +
    op(ZEROES, 1, 200) + end() + op(READ, 0, 256) + end(),
    'real-engines': header(768, real=True) + hot_cluster(4) + op(ZEROES, 60, 9) + end() +
    op(DISCARD, 0, 33) + op(READ, 40, 8) + end(),
}


def main():
    out = os.path.join(HERE, 'corpus', 'overlay')
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()

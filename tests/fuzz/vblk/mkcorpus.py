#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed inputs of fuzz_vblk into corpus/vblk/ (see the input format in fuzz_vblk.c).

Each seed is a small script of a guest: a 6-byte header (drive and device parameters), then
operations. Run it from anywhere; it rewrites the seeds it knows and leaves other files (minimised
crashes named after the bugs they found) alone.
"""
import os
import struct

RAM = 0x100000
RAM_SIZE = 0x10000
RA_SIZE = 0xC000

(OP_POKE, OP_MMIO_WRITE, OP_MMIO_READ, OP_SETUP, OP_DESC, OP_AVAIL, OP_KICK, OP_FINISH, OP_REAP,
 OP_BACKEND, OP_AVAIL_IDX, OP_EVENTS, OP_POLL, OP_STOP, OP_PARK_TIMER) = range(15)

F_WRITE, F_NEXT, F_INDIRECT = 2, 1, 4
T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WZ = 0, 1, 4, 8, 11, 13

VERSION_1, EVENT_IDX, INDIRECT = 32, 29, 28
FLUSH, CONFIG_WCE, SEG_MAX, SIZE_MAX, BLK_SIZE, DISCARD, WZ, RO = 9, 11, 2, 1, 6, 13, 14, 5


def bits(*b):
    return sum(1 << x for x in b)


BASE_FEATS = bits(VERSION_1, INDIRECT, FLUSH, CONFIG_WCE, SEG_MAX, SIZE_MAX, BLK_SIZE)
RW_FEATS = BASE_FEATS | bits(DISCARD, WZ)


def header(readonly=False, cache=0, lb4k=False, no_poll=False, serial=True, qsize_log2=4, odd_size=False,
           drain_shorts=False, sectors=2048, real=False, align=0, uring=False):
    """real: the synchronous backend over a memfd (uring: io_uring's, where the host has it); align: its
    O_DIRECT rules (0 none, 1 512, 2 4096, 3 memory 4096 and offsets 512)."""
    cfg = (int(readonly) | (cache << 1) | (16 if lb4k else 0) | (32 if no_poll else 0) | (64 if serial else 0) |
           (128 if real else 0))
    extra = int(odd_size) | (align << 1) | (8 if uring else 0)
    return struct.pack('<BBBBH', cfg, qsize_log2, extra, int(drain_shorts), sectors)


class Guest:
    """Builds the operation list; a simple layout: rings at the start of RAM, buffers after them."""

    def __init__(self, qsize=16):
        self.ops = b''
        self.q = qsize
        self.desc = RAM
        self.avail = RAM + 16 * qsize
        self.used = (self.avail + 6 + 2 * qsize + 3) & ~3
        self.next = (self.used + 6 + 8 * qsize + 15) & ~15
        self.slot = 0

    def alloc(self, n):
        a = self.next
        self.next = (a + n + 15) & ~15
        return a

    def poke(self, gpa, data):
        while data:
            part, data = data[:255], data[255:]
            self.ops += struct.pack('<BHB', OP_POKE, (gpa - RAM) & 0xFFFF, len(part)) + part
            gpa += len(part)

    def setup(self, feats, flags=0, num=None, desc=None, avail=None, used=None):
        self.ops += struct.pack('<BBQHQQQ', OP_SETUP, flags, feats, self.q if num is None else num,
                                self.desc if desc is None else desc, self.avail if avail is None else avail,
                                self.used if used is None else used)

    def desc_set(self, idx, addr, ln, flags, nxt=0, table=None):
        t = 0xFFFF if table is None else table - RAM
        self.ops += struct.pack('<BHHQIHH', OP_DESC, t, idx, addr, ln, flags, nxt)

    def chain(self, segs):
        """segs: (gpa, len, writable); builds a chain in the next free slots and returns its head."""
        head = self.slot
        for k, (a, n, w) in enumerate(segs):
            i = (head + k) % self.q
            last = k + 1 == len(segs)
            self.desc_set(i, a, n, (F_WRITE if w else 0) | (0 if last else F_NEXT), 0 if last else (i + 1) % self.q)
        self.slot = (head + len(segs)) % self.q
        return head

    def indirect(self, segs):
        table = self.alloc(16 * len(segs))
        for k, (a, n, w) in enumerate(segs):
            last = k + 1 == len(segs)
            self.desc_set(k, a, n, (F_WRITE if w else 0) | (0 if last else F_NEXT), 0 if last else k + 1, table=table)
        head = self.slot
        self.desc_set(head, table, 16 * len(segs), F_INDIRECT)
        self.slot = (head + 1) % self.q
        return head

    def hdr(self, typ, sector=0):
        a = self.alloc(16)
        self.poke(a, struct.pack('<IIQ', typ, 0, sector))
        return a

    def request(self, typ, sector=0, data=0, data_writable=None):
        """header, optional data buffer, status byte; returns the head."""
        if data_writable is None:
            data_writable = typ in (T_IN, T_GET_ID)
        segs = [(self.hdr(typ, sector), 16, False)]
        if data:
            segs.append((self.alloc(data), data, data_writable))
        segs.append((self.alloc(1), 1, True))
        return self.chain(segs)

    def dwz(self, typ, sector, num, flags=0):
        seg = self.alloc(16)
        self.poke(seg, struct.pack('<QII', sector, num, flags))
        return self.chain([(self.hdr(typ), 16, False), (seg, 16, False), (self.alloc(1), 1, True)])

    def avail_push(self, *heads):
        self.ops += struct.pack('<BB', OP_AVAIL, len(heads)) + b''.join(struct.pack('<H', h) for h in heads)

    def op(self, code, fmt='', *args):
        self.ops += struct.pack('<B' + fmt, code, *args)

    def kick(self):
        self.op(OP_KICK)

    def finish(self, i=0, kind=0, arg=0):
        self.op(OP_FINISH, 'BBI', i, kind, arg)

    def reap(self):
        self.op(OP_REAP)

    def mmio_w(self, off, val, ln=4):
        self.op(OP_MMIO_WRITE, 'HBQ', off, ln, val)

    def mmio_r(self, off, ln=4):
        self.op(OP_MMIO_READ, 'HB', off, ln)


def seeds():
    s = {}

    g = Guest()
    g.setup(RW_FEATS | bits(EVENT_IDX))
    g.avail_push(g.request(T_IN, 3, 1024))
    g.finish(); g.reap()
    s['read'] = header() + g.ops

    g = Guest()
    g.setup(RW_FEATS)
    g.avail_push(g.request(T_OUT, 7, 2048))
    g.finish(); g.reap()
    s['write'] = header(cache=1) + g.ops

    g = Guest()
    g.setup(RW_FEATS | bits(EVENT_IDX))
    g.avail_push(g.request(T_OUT, 0, 512), g.request(T_FLUSH))
    g.finish(0); g.reap(); g.finish(0, 1); g.reap()
    s['write-flush-error'] = header(cache=0) + g.ops

    g = Guest()
    g.setup(RW_FEATS)
    g.avail_push(g.request(T_FLUSH))
    s['flush-unsafe'] = header(cache=4) + g.ops

    g = Guest()
    g.setup(RW_FEATS)
    g.avail_push(g.request(T_GET_ID, 0, 20), g.request(T_GET_ID, 0, 8))
    s['get-id'] = header(serial=True) + g.ops

    g = Guest()
    g.setup(RW_FEATS | bits(EVENT_IDX))
    g.avail_push(g.dwz(T_DISCARD, 8, 16), g.dwz(T_WZ, 100, 8, 1), g.dwz(T_WZ, 2040, 16), g.dwz(T_DISCARD, 0, 1, 1))
    g.finish(1); g.finish(0, 5, 1); g.reap()
    s['discard-write-zeroes'] = header(cache=2) + g.ops

    g = Guest()
    g.setup(RW_FEATS | bits(EVENT_IDX))
    d1, d2, st = g.alloc(512), g.alloc(1024), g.alloc(1)
    g.avail_push(g.indirect([(g.hdr(T_IN, 1), 16, False), (d1, 512, True), (d2, 1024, True), (st, 1, True)]))
    g.finish(0, 2, 700); g.reap(); g.finish(); g.reap()
    s['indirect-short-read'] = header() + g.ops

    # Indirect descriptors without the feature, nested, and a table with a loop.
    g = Guest()
    g.setup(BASE_FEATS & ~bits(INDIRECT))
    g.avail_push(g.indirect([(g.hdr(T_IN), 16, False), (g.alloc(1), 1, True)]))
    g.kick()
    s['indirect-not-negotiated'] = header() + g.ops

    g = Guest()
    g.setup(RW_FEATS)
    table = g.alloc(64)
    g.desc_set(0, g.hdr(T_IN), 16, F_NEXT, 1, table=table)
    g.desc_set(1, table, 64, F_INDIRECT, 0, table=table)
    g.desc_set(2, g.alloc(16), 16, F_NEXT, 3, table=table)
    g.desc_set(3, g.alloc(16), 16, F_NEXT, 2, table=table)
    g.desc_set(0, table, 64, F_INDIRECT)
    g.desc_set(1, table + 32, 32, F_INDIRECT)
    g.avail_push(0, 1)
    s['indirect-nested-loop'] = header() + g.ops

    # Event index over a tiny ring: the ring indices wrap many times; used_event moves along.
    g = Guest(qsize=4)
    g.setup(RW_FEATS | bits(EVENT_IDX))
    for i in range(12):
        h = g.request(T_IN if i % 2 else T_OUT, i, 512)
        g.avail_push(h)
        g.op(OP_EVENTS, 'HH', 0, i)
        g.finish(); g.reap()
    s['event-idx-wrap'] = header(qsize_log2=2) + g.ops

    g = Guest(qsize=4)
    g.setup(RW_FEATS)
    g.op(OP_EVENTS, 'HH', 1, 0)   # VIRTQ_AVAIL_F_NO_INTERRUPT
    for i in range(6):
        g.avail_push(g.request(T_IN, i, 512))
        g.finish(); g.reap()
    g.op(OP_EVENTS, 'HH', 0, 0)
    g.avail_push(g.request(T_IN, 0, 512))
    s['no-interrupt-flag'] = header(qsize_log2=2) + g.ops

    g = Guest()
    g.setup(RW_FEATS)
    hdr = g.hdr(T_IN)
    g.desc_set(0, hdr, 16, F_NEXT, 1)
    g.desc_set(1, g.alloc(512), 512, F_WRITE | F_NEXT, 0)
    g.desc_set(2, hdr, 16, F_NEXT, 2)
    g.avail_push(0, 2)
    g.avail_push(g.request(T_IN, 0, 512))
    s['chain-loop'] = header() + g.ops

    # Buffers past the end of RAM, straddling the two regions, and at the very last byte.
    g = Guest()
    g.setup(RW_FEATS)
    g.avail_push(g.chain([(g.hdr(T_IN), 16, False), (RAM + RAM_SIZE - 256, 512, True)]),
                 g.chain([(g.hdr(T_IN), 16, False), (RAM + RA_SIZE - 256, 512, True), (g.alloc(1), 1, True)]),
                 g.chain([(g.hdr(T_IN), 16, False), (RAM + RAM_SIZE - 512, 512, True), (RAM + RAM_SIZE - 1, 1, True)]),
                 g.chain([(0xFFFFFFFFFFFFFF00, 0x200, False), (g.alloc(1), 1, True)]),
                 g.chain([(g.hdr(T_OUT), 16, False), (RAM - 16, 512, False), (g.alloc(1), 1, True)]))
    g.finish(); g.reap()
    s['buffer-past-ram'] = header() + g.ops

    # Rings that do not fit: used ring over the end of RAM, across the region boundary, a bad size.
    g = Guest()
    g.setup(RW_FEATS, used=RAM + RAM_SIZE - 8)
    g.kick()
    g.setup(RW_FEATS, avail=RAM + RA_SIZE - 16)
    g.kick()
    g.setup(RW_FEATS, num=3)
    g.setup(RW_FEATS, num=64)
    g.setup(RW_FEATS, desc=RAM + 8)
    g.setup(RW_FEATS)
    g.avail_push(g.request(T_IN, 0, 512))
    g.mmio_r(0x70)
    s['ring-past-ram'] = header() + g.ops

    # Rings at the very end of RAM, exactly fitting.
    g = Guest(qsize=8)
    g.desc = RAM + RAM_SIZE - 128
    g.avail = RAM + RAM_SIZE - 0x100
    g.used = RAM + RAM_SIZE - 0x100 + 32
    g.setup(RW_FEATS | bits(EVENT_IDX))
    g.avail_push(g.request(T_IN, 1, 512), g.request(T_GET_ID, 0, 20))
    g.finish(); g.reap()
    s['ring-at-end-of-ram'] = header(qsize_log2=3) + g.ops

    # The descriptor table ends where region A does: in gpa region B follows, on the host a guard page.
    # Chains of several descriptors, direct and indirect, so there are many next fields to get wrong.
    g = Guest()
    g.desc = RAM + RA_SIZE - 16 * 16
    g.setup(RW_FEATS | bits(EVENT_IDX))
    heads = []
    for i in range(3):
        h = g.hdr(T_IN if i % 2 else T_OUT, i * 8)
        segs = [(h, 8, False), (h + 8, 8, False)] + [(g.alloc(512), 512, bool(i % 2)) for _ in range(2)]
        heads.append(g.chain(segs + [(g.alloc(1), 1, True)]))
    heads.append(g.indirect([(g.hdr(T_IN, 3), 16, False), (g.alloc(512), 512, True), (g.alloc(1), 1, True)]))
    g.avail_push(*heads)
    g.finish(1); g.finish(0); g.reap()
    s['desc-table-at-region-end'] = header() + g.ops

    g = Guest()
    g.setup(RW_FEATS)
    g.op(OP_AVAIL_IDX, 'H', 40)
    g.kick()
    g.setup(RW_FEATS)
    g.avail_push(20)
    g.kick()
    s['corrupt-avail'] = header() + g.ops

    g = Guest()
    g.setup(RW_FEATS | bits(EVENT_IDX))
    g.op(OP_BACKEND, 'BB', 1, 0)
    g.avail_push(*[g.request(T_IN, i, 512) for i in range(4)])
    g.finish(0, 2, 100); g.reap(); g.finish(); g.reap()
    s['backpressure-short'] = header(drain_shorts=True) + g.ops

    g = Guest()
    g.setup(RW_FEATS)
    g.op(OP_BACKEND, 'BB', 0, 1 + 2 * 2)   # the next submit: -EAGAIN with nothing in flight
    g.avail_push(g.request(T_IN, 0, 512), g.request(T_OUT, 1, 512))
    g.op(OP_BACKEND, 'BB', 0, 1 + 2 * 4)   # -ENOMEM
    g.avail_push(g.request(T_OUT, 2, 512))
    s['submit-errors'] = header() + g.ops

    g = Guest()
    g.setup(RW_FEATS)
    g.avail_push(*[g.request(T_IN, i * 10, 1024) for i in range(3)])
    g.finish(2, 2, 512); g.finish(0, 4); g.finish(0, 3); g.reap()
    g.finish(0); g.reap()
    s['out-of-order-results'] = header() + g.ops

    g = Guest()
    g.setup(RW_FEATS)
    g.avail_push(g.request(T_IN, 0, 512), g.request(T_OUT, 1, 512))
    g.finish(0, 2, 100); g.reap()
    g.setup(RW_FEATS)
    g.finish(); g.reap()
    g.avail_push(g.request(T_IN, 0, 512))
    s['reset-inflight'] = header() + g.ops

    # A read the backend has moved part of (a short transfer it resumes) when the guest resets, and a
    # submit refused after: the reset drops the read's result.
    g = Guest()
    g.setup(RW_FEATS)
    g.avail_push(g.request(T_IN, 0, 1024), g.request(T_IN, 8, 512))
    g.finish(0, 2, 300)
    g.op(OP_BACKEND, 'BB', 0, 1 + 2 * 2)   # the next submit: -EAGAIN, with B still in flight
    g.reap()
    g.setup(RW_FEATS)
    g.finish(); g.reap()
    g.avail_push(g.request(T_IN, 0, 512))
    s['reset-with-partial-in-backend'] = header() + g.ops

    g = Guest()
    g.setup(BASE_FEATS | bits(RO))
    g.avail_push(g.request(T_OUT, 0, 512), g.request(T_IN, 0, 512), g.dwz(T_DISCARD, 0, 8))
    s['readonly'] = header(readonly=True) + g.ops

    # Streaming into a busy backend: kicks get parked, the park timer and the poll look at the ring.
    g = Guest()
    g.setup(RW_FEATS | bits(EVENT_IDX))
    g.avail_push(g.request(T_IN, 0, 512))
    for i in range(4):
        g.avail_push(g.request(T_IN, i + 1, 512))
        g.finish(); g.reap()
    g.op(OP_PARK_TIMER)
    g.avail_push(g.request(T_OUT, 9, 512))
    g.op(OP_POLL)
    s['streaming-parked'] = header(cache=3) + g.ops

    g = Guest()
    g.setup(RW_FEATS)
    g.avail_push(g.request(T_OUT, 2040, 4096), g.request(T_IN, 2046, 512), g.request(T_IN, 1 << 40, 512))
    s['block-4k-partial'] = header(lb4k=True, odd_size=False, sectors=2051) + g.ops

    g = Guest()
    g.mmio_r(0x0); g.mmio_r(0x100 + 32, 1); g.mmio_r(0x100, 8); g.mmio_r(0x100 + 58, 4)
    g.setup(RW_FEATS | bits(EVENT_IDX))
    g.mmio_w(0x100 + 32, 0, 1)
    g.avail_push(g.request(T_OUT, 0, 512))
    g.mmio_w(0x100 + 32, 1, 1)
    g.avail_push(g.request(T_OUT, 1, 512))
    g.mmio_w(0x44, 0); g.mmio_w(0x44, 1)
    g.mmio_w(0x64, 3)
    s['config-wce'] = header() + g.ops

    g = Guest()
    g.setup(RW_FEATS, flags=4)
    g.avail_push(g.request(T_IN, 0, 512))
    g.op(OP_STOP)
    g.avail_push(g.request(T_IN, 1, 512))
    s['ready-late-stop'] = header(no_poll=True) + g.ops

    g = Guest()
    g.setup(RW_FEATS)
    g.avail_push(g.chain([(g.hdr(T_IN), 8, False), (g.alloc(1), 1, True)]),
                 g.chain([(g.hdr(T_FLUSH), 16, False)]),
                 g.request(T_IN, 0, 700),
                 g.request(T_OUT, 0, 512, data_writable=True),
                 g.request(99),
                 g.dwz(T_DISCARD, 0, 0),
                 g.chain([(g.alloc(1), 1, True), (g.hdr(T_IN), 16, False)]))
    s['malformed-requests'] = header() + g.ops

    # The header split across descriptors, zero-length descriptors, data and status in one buffer.
    g = Guest()
    g.setup(RW_FEATS)
    h = g.hdr(T_IN, 5)
    buf = g.alloc(513)
    g.avail_push(g.chain([(h, 4, False), (h + 4, 0, False), (h + 4, 12, False), (buf, 513, True)]))
    g.finish(); g.reap()
    s['split-header'] = header() + g.ops

    # Requests that end at once, nearly a ring's worth per kick.
    g = Guest(qsize=64)
    g.setup(RW_FEATS | bits(EVENT_IDX))
    h = g.request(T_GET_ID, 0, 20)
    g.avail_push(*([h] * 63))
    g.avail_push(*([h] * 63))
    s['get-id-flood'] = header(qsize_log2=6) + g.ops

    # The synchronous backend over a memfd: data really moves; then with O_DIRECT's rules, through
    # bounce buffers (unaligned sectors, buffers at odd addresses, a write in the last block).
    g = Guest()
    g.setup(RW_FEATS | bits(EVENT_IDX))
    g.avail_push(g.request(T_OUT, 5, 1024), g.request(T_FLUSH))
    g.reap()
    g.avail_push(g.request(T_IN, 5, 1024), g.dwz(T_WZ, 6, 1), g.dwz(T_DISCARD, 0, 8))
    g.reap()
    s['sync-read-write'] = header(real=True) + g.ops
    s['uring-read-write'] = header(real=True, uring=True) + g.ops

    for name, cache, align in (('sync-bounce-4k', 1, 2), ('sync-bounce-mem-align', 3, 3)):
        g = Guest()
        g.setup(RW_FEATS)
        h = g.hdr(T_OUT, 3)
        d1, d2 = g.alloc(1024) + 8, g.alloc(1024)
        g.poke(d1, bytes(range(1, 256)) + bytes(range(255, 0, -1)) + b'\x5a\xa5')
        g.poke(d2 + 1000, b'tail of the write')
        g.avail_push(g.chain([(h, 16, False), (d1, 512, False), (d2, 1024, False), (g.alloc(1), 1, True)]))
        g.reap()
        g.avail_push(g.chain([(g.hdr(T_IN, 7), 16, False), (g.alloc(600) + 4, 512, True), (g.alloc(1), 1, True)]),
                     g.request(T_OUT, 2047, 512), g.request(T_IN, 2040, 4096), g.dwz(T_WZ, 1, 3))
        g.reap()
        s[name] = header(real=True, cache=cache, align=align, sectors=2049) + g.ops
        s[name.replace('sync', 'uring')] = header(real=True, cache=cache, align=align, sectors=2049, uring=True) + g.ops

    return s


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'vblk')
    os.makedirs(out, exist_ok=True)
    for name, data in seeds().items():
        assert len(data) <= 4096, (name, len(data))
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()

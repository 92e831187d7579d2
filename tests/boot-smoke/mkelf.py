#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write tiny ELF64 'kernels' that exercise vmm end to end without Linux.

Each is one PT_LOAD at 16 MiB holding a few hand-assembled long-mode
instructions; vmm enters them like a vmlinux (64-bit boot protocol).
"""
import struct
import sys

LOAD = 0x1000000


def out_dx_al(port, value):
    # mov dx, port ; mov al, value ; out dx, al
    return bytes([0x66, 0xBA]) + struct.pack('<H', port) + bytes([0xB0, value, 0xEE])


def hang():
    return bytes([0xFA, 0xF4, 0xEB, 0xFC])  # cli ; hlt ; jmp back to hlt


def mmio_w32(off, value):
    # movl $value, off(%rbx)
    if off < 0x80:
        return bytes([0xC7, 0x43, off]) + struct.pack('<I', value)
    return bytes([0xC7, 0x83]) + struct.pack('<II', off, value)


# blkflood: the guest drives virtio-blk drive 0 (virtio-mmio at 0xD0000000) and keeps its queue full of
# large WRITEs. Its tables sit in the loaded image after the code: 240 request heads, each a 16-byte
# header (OUT, sector 0), the same 8 x 1 MiB data buffers at 32 MiB (so 8 MiB a request, 1.9 GiB queued)
# and one status byte, all heads sharing the data and status descriptors (a driver may; the device
# must cope). Interrupts are suppressed (VIRTQ_AVAIL_F_NO_INTERRUPT): the guest polls the used ring and
# puts every finished head straight back.
FLOOD_QSIZE, FLOOD_HEADS, FLOOD_SEGS, FLOOD_SEG = 256, 240, 8, 1 << 20
FLOOD_DESC, FLOOD_AVAIL, FLOOD_USED = LOAD + 0x1000, LOAD + 0x2000, LOAD + 0x3000
FLOOD_HDR, FLOOD_STATUS, FLOOD_DATA = LOAD + 0x4000, LOAD + 0x4010, 0x2000000


def blkflood():
    code = (bytes([0xBB]) + struct.pack('<I', 0xD0000000)   # mov ebx, 0xd0000000
            + mmio_w32(0x70, 1) + mmio_w32(0x70, 3)            # status: ACKNOWLEDGE, DRIVER
            + mmio_w32(0x24, 0) + mmio_w32(0x20, 1 << 9)      # features 0-31: VIRTIO_BLK_F_FLUSH
            + mmio_w32(0x24, 1) + mmio_w32(0x20, 1)           # features 32-63: VIRTIO_F_VERSION_1
            + mmio_w32(0x70, 11)                              # FEATURES_OK
            + mmio_w32(0x30, 0) + mmio_w32(0x38, FLOOD_QSIZE)   # queue 0, its size
            + mmio_w32(0x80, FLOOD_DESC) + mmio_w32(0x84, 0)
            + mmio_w32(0x90, FLOOD_AVAIL) + mmio_w32(0x94, 0)
            + mmio_w32(0xA0, FLOOD_USED) + mmio_w32(0xA4, 0)
            + mmio_w32(0x44, 1) + mmio_w32(0x70, 15)          # queue ready; DRIVER_OK
            + out_dx_al(0x3F8, ord('F')) + bytes([0xB0, 0x0A, 0xEE])   # 'F\n' on COM1: flooding now
            + mmio_w32(0x50, 0)                               # QueueNotify
            + bytes.fromhex('31f6')                           # xor esi, esi (used entries taken)
            # l: movzx eax, word [USED+2]; cmp ax, si; je l
            + bytes.fromhex('0fb704250230000166 39f0 74f3'.replace(' ', ''))
            # movzx ecx, si; and ecx, 255; mov edx, [USED+4+rcx*8] (the finished head)
            + bytes.fromhex('0fb7ce 81e1ff000000 8b14cd04300001'.replace(' ', ''))
            # lea ecx, [rsi+240]; and ecx, 255; mov [AVAIL+4+rcx*2], dx (offered again)
            + bytes.fromhex('8d8ef0000000 81e1ff000000 6689144d04200001'.replace(' ', ''))
            # inc esi; lea eax, [rsi+240]; mov [AVAIL+2], ax (avail idx = used idx + 240)
            + bytes.fromhex('ffc6 8d86f0000000 6689042502200001'.replace(' ', ''))
            + mmio_w32(0x50, 0) + bytes.fromhex('ebb6'))     # QueueNotify; jmp l
    desc = b''
    for _ in range(FLOOD_HEADS):   # addr, len, flags (NEXT), next
        desc += struct.pack('<QIHH', FLOOD_HDR, 16, 1, FLOOD_HEADS)
    for i in range(FLOOD_SEGS):
        desc += struct.pack('<QIHH', FLOOD_DATA, FLOOD_SEG, 1, FLOOD_HEADS + i + 1)
    desc += struct.pack('<QIHH', FLOOD_STATUS, 1, 2, 0)   # WRITE (device-writable)
    avail = struct.pack('<HH', 1, FLOOD_HEADS) + struct.pack(f'<{FLOOD_HEADS}H', *range(FLOOD_HEADS))
    hdr = struct.pack('<IIQ', 1, 0, 0)                    # VIRTIO_BLK_T_OUT, sector 0
    image = code.ljust(FLOOD_DESC - LOAD, b'\0') + desc
    image = image.ljust(FLOOD_AVAIL - LOAD, b'\0') + avail
    return image.ljust(FLOOD_HDR - LOAD, b'\0') + hdr + b'\0'


PROGRAMS = {
    # exit port: vmm exits with 42
    'exit42': out_dx_al(0x501, 42) + hang(),
    # serial: print a line on COM1, then exit 0 through the exit port
    'hello': b''.join(out_dx_al(0x3F8, c) for c in b'hello from a tiny guest\n')
             + out_dx_al(0x501, 0) + hang(),
    # ACPI hardware-reduced sleep control: SLP_TYP=5 << 2 | SLP_EN -> poweroff, exit 0
    'poweroff': out_dx_al(0x504, (5 << 2) | 0x20) + hang(),
    # i8042 reset (reboot=k) -> exit 123
    'reset': out_dx_al(0x64, 0xFE) + hang(),
    # lidt with a zero limit, then int3: the fault cannot be delivered -> triple fault -> 123
    'triplefault': bytes([0x48, 0x31, 0xC0, 0x50, 0x50,        # xor rax,rax; push rax; push rax
                          0x0F, 0x01, 0x1C, 0x24,              # lidt [rsp]
                          0xCC]) + hang(),                     # int3
    # boot marker, then spin forever with interrupts off: only --timeout ends it (124)
    'spin': out_dx_al(0x502, 1) + bytes([0xFA, 0xEB, 0xFE]),
    # reads an unclaimed MMIO address and port (must not be fatal), then reports
    # the low byte it read from the port (0xff expected) through the exit port
    'unclaimed': bytes([0x48, 0xB8]) + struct.pack('<Q', 0xC0001000)   # mov rax, imm64
                 + bytes([0x8B, 0x00])                                 # mov eax, [rax]
                 + bytes([0x66, 0xBA, 0x34, 0x12, 0xEC])               # mov dx,0x1234; in al,dx
                 + bytes([0x66, 0xBA, 0x01, 0x05, 0xEE]) + hang(),     # mov dx,0x501; out dx,al
    # boot marker, then read a port nobody serves for ever: -v must not log every read
    'probe': out_dx_al(0x502, 1) + bytes([0x66, 0xBA, 0x34, 0x12,   # mov dx,0x1234
                                          0xEC, 0xEB, 0xFD]),      # l: in al,dx; jmp l
    # print 'A' on COM1 for ever, never looking at LSR: only --timeout or a signal ends it
    'flood': bytes([0x66, 0xBA, 0xF8, 0x03, 0xB0, 0x41,   # mov dx,0x3f8; mov al,'A'
                    0xEE, 0xEB, 0xFD]),                  # l: out dx,al; jmp l
    # keep virtio-blk's queue full of 8 MiB WRITEs for ever (blkflood above)
    'blkflood': blkflood(),
}


def elf(code):
    ehdr_size, phdr_size = 64, 56
    off = 0x1000
    ehdr = struct.pack('<4sBBBBB7xHHIQQQIHHHHHH',
                       b'\x7fELF', 2, 1, 1, 0, 0,            # ELF64, LE, v1, SYSV
                       2, 0x3E, 1,                            # ET_EXEC, x86-64, version
                       LOAD, ehdr_size, 0, 0,                 # entry, phoff, shoff, flags
                       ehdr_size, phdr_size, 1, 64, 0, 0)
    phdr = struct.pack('<IIQQQQQQ', 1, 7, off, LOAD, LOAD,   # PT_LOAD, RWX, offset, vaddr, paddr
                       len(code), len(code), 0x1000)
    return (ehdr + phdr).ljust(off, b'\0') + code


def main():
    outdir = sys.argv[1]
    for name, code in PROGRAMS.items():
        with open(f'{outdir}/{name}.elf', 'wb') as f:
            f.write(elf(code))


if __name__ == '__main__':
    main()

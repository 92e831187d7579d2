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

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of the input fuzz targets (tests/fuzz/input/corpus/*).

    tests/fuzz/input/mkcorpus.py [OUTDIR]     (default: corpus/ next to this script)

kernel/: small synthesized bzImages and ELF64 vmlinux files. A real bzImage is megabytes; these
keep only the setup header, one setup sector and a short protected-mode part (past the 0x200
entry offset), so most mutations land in the fields the loader reads. ELF files are one or a few
PT_LOAD segments in the style of tests/boot-smoke/mkelf.py.
ini/: the shipped config/*.ini plus small hand-made files: every section and key, both drive
section spellings, and typical mistakes.
cli/: command lines as NUL-separated arguments (argv[0] "vmm" is added by the target), from
README.md, docs/ and tests/cli.

Files named bug-* are inputs that once broke an invariant; they are kept, not generated.
"""
import os
import shutil
import struct
import sys

MiB = 1 << 20
HERE = os.path.dirname(os.path.abspath(__file__))

# ---- bzImage ----

# The setup header from 0x1F1 to 0x26C (boot protocol 2.15), as struct x86_setup_header.
HDR_FMT = '<BHIHHHHHIHIHHBBHIIIIHBBIIIBBHIIQIIQQIII'
HDR_FIELDS = ('setup_sects root_flags syssize ram_size vid_mode root_dev boot_flag jump header version '
              'realmode_swtch start_sys_seg kernel_version type_of_loader loadflags setup_move_size '
              'code32_start ramdisk_image ramdisk_size bootsect_kludge heap_end_ptr ext_loader_ver '
              'ext_loader_type cmd_line_ptr initrd_addr_max kernel_alignment relocatable_kernel '
              'min_alignment xloadflags cmdline_size hardware_subarch hardware_subarch_data '
              'payload_offset payload_length setup_data pref_address init_size handover_offset '
              'kernel_info_offset').split()
assert struct.calcsize(HDR_FMT) == 0x26C - 0x1F1


def bzimage(setup_sects=1, hdr_end=0x26C, pm_size=0x400, **fields):
    h = dict.fromkeys(HDR_FIELDS, 0)
    h.update(setup_sects=setup_sects, boot_flag=0xAA55, jump=0xEB | ((hdr_end - 0x202) << 8),
             header=0x53726448, version=0x020F, loadflags=0x01, xloadflags=0x03,
             kernel_alignment=0x200000, relocatable_kernel=1, initrd_addr_max=0x7FFFFFFF,
             cmdline_size=0x7FF, pref_address=0x1000000, init_size=0x10000,
             payload_offset=0x100, payload_length=0x100, kernel_version=0x200)
    h.update(fields)
    setup = bytearray(((setup_sects or 4) + 1) * 512)
    hdr = struct.pack(HDR_FMT, *(h[f] for f in HDR_FIELDS))
    setup[0x1F1:0x1F1 + len(hdr)] = hdr
    # Past the file's own header end the bytes are the setup code's, not header fields.
    for i in range(hdr_end, 0x26C):
        setup[i] = 0xCC
    pm = bytes((i * 7 + 3) & 0xFF for i in range(pm_size))
    return bytes(setup) + pm


KERNELS = {
    'bz-min': bzimage(),
    'bz-default-addr': bzimage(pref_address=0),
    'bz-setup-sects-0': bzimage(setup_sects=0),
    'bz-proto-2.12': bzimage(version=0x020C, hdr_end=0x264),
    'bz-big-init-size': bzimage(init_size=0x1000000),
    'bz-seam': bzimage(pref_address=16 * MiB - 0x1000, init_size=0x1000),
    'bz-ram-end-40m': bzimage(pref_address=40 * MiB - 0x1000, init_size=0x1000),
    'bz-ram-end-64m': bzimage(pref_address=64 * MiB - 0x1000, init_size=0x1000),
    'bz-cmdline-16': bzimage(cmdline_size=16),
    'bz-initrd-max-low': bzimage(initrd_addr_max=0x01FFFFFF),
    'bz-no-64bit': bzimage(xloadflags=0),
    'bz-old-protocol': bzimage(version=0x020A),
}

# ---- ELF64 ----


def elf(segments, entry, phentsize=56, extra_phdrs=(), ehdr_type=2, machine=0x3E, cls=2):
    """segments: (paddr, vaddr, data, memsz); extra_phdrs: raw (type, offset, vaddr, paddr, filesz, memsz)."""
    phnum = len(segments) + len(extra_phdrs)
    phoff = 64
    off = phoff + phnum * phentsize
    phdrs, body = b'', b''
    for paddr, vaddr, data, memsz in segments:
        phdrs += struct.pack('<IIQQQQQQ', 1, 7, off + len(body), vaddr, paddr, len(data), memsz, 0x1000)
        phdrs += bytes(phentsize - 56)
        body += data
    for ptype, o, vaddr, paddr, filesz, memsz in extra_phdrs:
        phdrs += struct.pack('<IIQQQQQQ', ptype, 4, o, vaddr, paddr, filesz, memsz, 4)
        phdrs += bytes(phentsize - 56)
    ehdr = struct.pack('<4sBBBBB7xHHIQQQIHHHHHH', b'\x7fELF', cls, 1, 1, 0, 0,
                       ehdr_type, machine, 1, entry, phoff, 0, 0, 64, phentsize, phnum, 64, 0, 0)
    return ehdr + phdrs + body


def elf_phdrs_at(img, phoff):
    """img with its program-header table copied to file offset phoff (zeros between) and e_phoff
    pointing there. vmm reads headers from the first 64 KiB only (BOOT_FILE_HEAD_MAX)."""
    phentsize, phnum = struct.unpack_from('<HH', img, 0x36)
    table = img[64:64 + phentsize * phnum]
    out = bytearray(img.ljust(phoff, b'\0')[:phoff] + table)
    struct.pack_into('<Q', out, 0x20, phoff)
    return bytes(out)


HEAD_MAX = 64 * 1024
CODE = bytes([0x66, 0xBA, 0x01, 0x05, 0xB0, 0x2A, 0xEE, 0xFA, 0xF4, 0xEB, 0xFC]) + bytes(range(64))
K = 0xFFFFFFFF80000000

KERNELS.update({
    'elf-min': elf([(16 * MiB, 16 * MiB, CODE, len(CODE))], 16 * MiB),
    'elf-bss': elf([(16 * MiB, 16 * MiB, CODE, 0x3000)], 16 * MiB + 4),
    'elf-two': elf([(2 * MiB, 2 * MiB, CODE, 0x1000), (18 * MiB, 18 * MiB, CODE[::-1], 0x2000)], 2 * MiB),
    'elf-vaddr-entry': elf([(16 * MiB, K + 16 * MiB, CODE, 0x1000)], K + 16 * MiB),
    'elf-phentsize-64': elf([(16 * MiB, 16 * MiB, CODE, len(CODE))], 16 * MiB, phentsize=64),
    'elf-seam': elf([(16 * MiB - 0x80, 16 * MiB - 0x80, CODE, 0x80)], 16 * MiB - 0x80),
    'elf-note': elf([(16 * MiB, 16 * MiB, CODE, len(CODE))], 16 * MiB,
                    extra_phdrs=[(4, 64, 0, 0, 16, 16)]),
    'elf-low': elf([(0x8000, 0x8000, CODE, len(CODE))], 0x8000),
    'elf-rel': elf([(16 * MiB, 16 * MiB, CODE, len(CODE))], 16 * MiB, ehdr_type=1),
    'elf32': elf([(16 * MiB, 16 * MiB, CODE, len(CODE))], 16 * MiB, cls=1),
    'not-a-kernel': b'#!/bin/sh\necho this is not a kernel\n',
    # Files given in a kernel's place that the loader names: a gzip'd one, an arm64 Image, an aarch64 ELF.
    'gzip': b'\x1f\x8b\x08\x00' + bytes(60),
    'arm64-image': bytes(0x38) + b'ARM\x64' + bytes(0x40),
    'elf-aarch64': elf([(16 * MiB, 16 * MiB, CODE, len(CODE))], 16 * MiB, machine=183),
})
_elf = KERNELS['elf-min']
KERNELS.update({
    # The table's last byte is the head's last byte: accepted. One byte on, it lies past the head.
    'elf-phdrs-end-of-head': elf_phdrs_at(_elf, HEAD_MAX - 56) + bytes(4096),
    'elf-phdrs-past-head': elf_phdrs_at(_elf, HEAD_MAX - 55) + bytes(4096),
})

# ---- INI ----

INIS = {
    'every-key.ini': '''; every section and key
[machine]
memory = 512M
cpus = 2
timeout = 30

[boot]
kernel = bzImage
initrd = initrd.img
cmdline = console=ttyS0 root=/dev/vda rw -- init-arg

[drive "root"]
file = root.img
cache = none
readonly = off
serial = ROOT-01
poll = 0
format = raw
snapshot = on

[drive.data]
file = /abs/data.img
cache = writethrough
readonly = yes

[output]
serial = file:console.log
stats = stats.json
''',
    'minimal-abs.ini': '[boot]\nkernel = /boot/vmlinuz\n',
    'empty-cmdline.ini': '[boot]\nkernel = k\ncmdline =\n',
    'serial-none.ini': '[boot]\nkernel = k\n[output]\nserial = none\n[machine]\nmemory = 1G\n',
    'comments.ini': '# hash comment\n; semicolon\n\n  [machine]  ; trailing comment\n'
                    'memory=2G ; inline\n[boot]\r\nkernel=k\r\n',
    'eight-drives.ini': '[boot]\nkernel = k\n' + ''.join(
        '[drive "d%d"]\nfile = d%d.img\n' % (i, i) for i in range(8)),
    'bad-unknown-section.ini': '[machin]\nmemory = 1G\n',
    'bad-empty-drive.ini': '[boot]\nkernel = k\n[drive "x"]\n',
    'bad-no-bracket.ini': '[boot\nkernel = k\n',
    'bad-dup-key.ini': '[machine]\ncpus = 1\ncpus = 2\n',
    'bad-values.ini': '[machine]\nmemory = 12Q\n',
    'bad-outside.ini': 'kernel = k\n[boot]\n',
    'bad-header-junk.ini': '[boot] junk\nkernel = k\n',
    'bad-drive-id.ini': '[drive "a b"]\nfile = x\n',
    'bad-no-equals.ini': '[boot]\nkernel\n',
    'bad-dup-drive.ini': '[drive.a]\nfile = x\n[drive "a"]\nfile = y\n',
    'bad-key-home.ini': '[boot]\nmemory = 1G\n',
    'bad-cache.ini': '[drive.a]\nfile = x\ncache = fast\n',
    'bad-snapshot.ini': '[boot]\nkernel = k\n[drive.a]\nfile = x\nsnapshot = yes\n[drive.b]\nfile = y\n'
                        'readonly = on\nsnapshot = on\n',
    # inih's line buffer is 4096 bytes here: the longest line that fits, and one that does not.
    'long-cmdline.ini': '[boot]\nkernel = k\ncmdline = ' + 'x=1 ' * 1020 + '-- a\n',
    'bad-line-too-long.ini': '[boot]\nkernel = k\ncmdline = ' + 'y' * 5000 + '\n',
}

# ---- command lines ----

CLIS = {
    'kernel-only': ['--kernel', 'bzImage'],
    'readme': ['--kernel', 'bzImage', '--initrd', 'initrd.img', '--memory', '512M', '--cpus', '2',
               '--cmdline', 'console=ttyS0 quiet -- /bin/sh -c true'],
    'drives': ['--kernel', 'k', '--drive', 'file=root.img,cache=none,id=root,serial=R1',
               '--drive', 'file=data.img,readonly=on,poll=0,format=raw', '--drive', 'file=x.img,cache=unsafe'],
    'equals-form': ['--kernel=k', '--memory=1G', '--timeout=10', '--serial=none', '-v', '-v'],
    'outputs': ['--kernel', 'k', '--serial', 'file:console.log', '--stats', 'stats.json'],
    'print-config': ['--kernel', 'k', '--print-config', '--drive', 'file=d.img,id=d'],
    'config': ['--config', 'a.ini', '--memory', '1G', '--drive', 'file=z.img,id=root'],
    'config-twice': ['--config', 'a.ini', '--config', 'b.ini', '--cpus', '4'],
    'help': ['--help'],
    'version': ['--version'],
    'snapshot': ['--kernel', 'k', '--snapshot', '--drive', 'file=a.img,snapshot=off', '--drive', 'file=b.img',
                 '--drive', 'file=c.img,readonly=on', '--print-config'],
    'bad-snapshot': ['--kernel', 'k', '--drive', 'file=a.img,snapshot=maybe,readonly=on'],
    'bad-missing-value': ['--kernel'],
    'bad-option-as-value': ['--initrd', '--kernel', 'k'],
    'bad-ambiguous': ['--c', 'x'],
    'bad-drive': ['--kernel', 'k', '--drive', 'cache=none'],
    'bad-stray': ['--kernel', 'k', 'extra'],
    'bad-memory': ['--kernel', 'k', '--memory', '1000000T'],
    'bad-short': ['-x'],
    'bad-flag-value': ['--help=yes'],
    # Longer than the 2048 bytes the kernel command line may take.
    'long-cmdline': ['--kernel', 'k', '--cmdline', 'console=ttyS0 ' + 'a=b ' * 600 + '-- init'],
}


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, 'corpus')
    for sub, items in (('kernel', KERNELS), ('ini', INIS), ('cli', CLIS)):
        d = os.path.join(out, sub)
        os.makedirs(d, exist_ok=True)
        for name, v in items.items():
            if isinstance(v, str):
                v = v.encode()
            elif isinstance(v, list):
                v = b'\0'.join(a.encode() for a in v)
            write(os.path.join(d, name), v)
    for name in sorted(os.listdir(os.path.join(HERE, '..', '..', '..', 'config'))):
        if name.endswith('.ini'):
            shutil.copyfile(os.path.join(HERE, '..', '..', '..', 'config', name),
                            os.path.join(out, 'ini', 'config-' + name))


if __name__ == '__main__':
    main()

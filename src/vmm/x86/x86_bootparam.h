/* SPDX-License-Identifier: MIT */
/* Linux x86 boot protocol structures (setup header, zero page, e820), laid out from boot.rst and zero-page.rst. */
#ifndef VMM_X86_BOOTPARAM_H
#define VMM_X86_BOOTPARAM_H

#include <stddef.h>
#include <stdint.h>

/* setup_header.header: "HdrS" read as a little-endian u32. */
#define X86_SETUP_MAGIC          0x53726448u
#define X86_BOOT_FLAG            0xAA55u

/* setup_header.loadflags */
#define X86_LOADED_HIGH          0x01u   /* protected-mode code at 0x100000 (bzImage) */
#define X86_KASLR_FLAG           0x02u
#define X86_QUIET_FLAG           0x20u
#define X86_KEEP_SEGMENTS        0x40u
#define X86_CAN_USE_HEAP         0x80u   /* heap_end_ptr is valid */

/* setup_header.xloadflags (protocol 2.12+) */
#define X86_XLF_KERNEL_64                 0x01u  /* 64-bit entry at load address + 0x200 */
#define X86_XLF_CAN_BE_LOADED_ABOVE_4G    0x02u
#define X86_XLF_EFI_HANDOVER_32           0x04u
#define X86_XLF_EFI_HANDOVER_64           0x08u
#define X86_XLF_EFI_KEXEC                 0x10u

/* e820 entry types */
#define X86_E820_RAM             1u
#define X86_E820_RESERVED        2u
#define X86_E820_ACPI            3u
#define X86_E820_NVS             4u

#define X86_E820_MAX_ENTRIES_ZEROPAGE 128u

/* Offset of the setup header in both a bzImage file and the zero page. */
#define X86_SETUP_HDR_OFFSET     0x1F1u

struct x86_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* The real-mode kernel header ("setup header"), starting at 0x1F1. */
struct x86_setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;          /* the second byte + 0x202 is the end of the header */
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

/* The zero page handed to the kernel in %rsi. */
struct x86_boot_params {
	uint8_t screen_info[0x40];                 /* 0x000 */
	uint8_t apm_bios_info[0x14];               /* 0x040 */
	uint8_t pad2[4];                           /* 0x054 */
	uint64_t tboot_addr;                       /* 0x058 */
	uint8_t ist_info[0x10];                    /* 0x060 */
	uint64_t acpi_rsdp_addr;                   /* 0x070 */
	uint8_t pad3[8];                           /* 0x078 */
	uint8_t hd0_info[0x10];                    /* 0x080 */
	uint8_t hd1_info[0x10];                    /* 0x090 */
	uint8_t sys_desc_table[0x10];              /* 0x0A0 */
	uint8_t olpc_ofw_header[0x10];             /* 0x0B0 */
	uint32_t ext_ramdisk_image;                /* 0x0C0 */
	uint32_t ext_ramdisk_size;                 /* 0x0C4 */
	uint32_t ext_cmd_line_ptr;                 /* 0x0C8 */
	uint8_t pad4[0x70];                        /* 0x0CC */
	uint32_t cc_blob_address;                  /* 0x13C */
	uint8_t edid_info[0x80];                   /* 0x140 */
	uint8_t efi_info[0x20];                    /* 0x1C0 */
	uint32_t alt_mem_k;                        /* 0x1E0 */
	uint32_t scratch;                          /* 0x1E4 */
	uint8_t e820_entries;                      /* 0x1E8 */
	uint8_t eddbuf_entries;                    /* 0x1E9 */
	uint8_t edd_mbr_sig_buf_entries;           /* 0x1EA */
	uint8_t kbd_status;                        /* 0x1EB */
	uint8_t secure_boot;                       /* 0x1EC */
	uint8_t pad5[2];                           /* 0x1ED */
	uint8_t sentinel;                          /* 0x1EF */
	uint8_t pad6[1];                           /* 0x1F0 */
	struct x86_setup_header hdr;               /* 0x1F1 */
	uint8_t pad7[0x290 - 0x1F1 - sizeof(struct x86_setup_header)];
	uint32_t edd_mbr_sig_buffer[16];           /* 0x290 */
	struct x86_e820_entry e820_table[X86_E820_MAX_ENTRIES_ZEROPAGE]; /* 0x2D0 */
	uint8_t pad8[0x30];                        /* 0xCD0 */
	uint8_t eddbuf[0x1EC];                     /* 0xD00 */
	uint8_t pad9[0x114];                       /* 0xEEC */
} __attribute__((packed));

_Static_assert(sizeof(struct x86_e820_entry) == 20, "e820 entry is 20 bytes");
_Static_assert(sizeof(struct x86_setup_header) == 0x26C - 0x1F1, "setup header ends at 0x26C");
_Static_assert(sizeof(struct x86_boot_params) == 4096, "zero page is one page");
_Static_assert(offsetof(struct x86_boot_params, acpi_rsdp_addr) == 0x070, "acpi_rsdp_addr");
_Static_assert(offsetof(struct x86_boot_params, ext_ramdisk_image) == 0x0C0, "ext_ramdisk_image");
_Static_assert(offsetof(struct x86_boot_params, ext_cmd_line_ptr) == 0x0C8, "ext_cmd_line_ptr");
_Static_assert(offsetof(struct x86_boot_params, cc_blob_address) == 0x13C, "cc_blob_address");
_Static_assert(offsetof(struct x86_boot_params, e820_entries) == 0x1E8, "e820_entries");
_Static_assert(offsetof(struct x86_boot_params, sentinel) == 0x1EF, "sentinel");
_Static_assert(offsetof(struct x86_boot_params, hdr) == X86_SETUP_HDR_OFFSET, "hdr");
_Static_assert(offsetof(struct x86_boot_params, edd_mbr_sig_buffer) == 0x290, "edd_mbr_sig_buffer");
_Static_assert(offsetof(struct x86_boot_params, e820_table) == 0x2D0, "e820_table");
_Static_assert(offsetof(struct x86_boot_params, eddbuf) == 0xD00, "eddbuf");
/* Offsets inside the file/zero page, as boot.rst lists them. */
_Static_assert(X86_SETUP_HDR_OFFSET + offsetof(struct x86_setup_header, boot_flag) == 0x1FE, "boot_flag");
_Static_assert(X86_SETUP_HDR_OFFSET + offsetof(struct x86_setup_header, header) == 0x202, "header");
_Static_assert(X86_SETUP_HDR_OFFSET + offsetof(struct x86_setup_header, type_of_loader) == 0x210, "type_of_loader");
_Static_assert(X86_SETUP_HDR_OFFSET + offsetof(struct x86_setup_header, ramdisk_image) == 0x218, "ramdisk_image");
_Static_assert(X86_SETUP_HDR_OFFSET + offsetof(struct x86_setup_header, heap_end_ptr) == 0x224, "heap_end_ptr");
_Static_assert(X86_SETUP_HDR_OFFSET + offsetof(struct x86_setup_header, cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(X86_SETUP_HDR_OFFSET + offsetof(struct x86_setup_header, xloadflags) == 0x236, "xloadflags");
_Static_assert(X86_SETUP_HDR_OFFSET + offsetof(struct x86_setup_header, cmdline_size) == 0x238, "cmdline_size");
_Static_assert(X86_SETUP_HDR_OFFSET + offsetof(struct x86_setup_header, payload_offset) == 0x248, "payload_offset");
_Static_assert(X86_SETUP_HDR_OFFSET + offsetof(struct x86_setup_header, pref_address) == 0x258, "pref_address");
_Static_assert(X86_SETUP_HDR_OFFSET + offsetof(struct x86_setup_header, init_size) == 0x260, "init_size");

#endif

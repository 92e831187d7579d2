/* SPDX-License-Identifier: MIT */
/* What one configuration value may be, and the one-line message buffer: the part of vm_config.h below struct vm_config. */
#ifndef VMM_VM_CONFIG_VALUE_H
#define VMM_VM_CONFIG_VALUE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The accepted ranges. vm_config.h includes this header, so users of the
 * module see them there; the value parsers (config_value.c) see only these.
 */
#define VM_MAX_CPUS 64
/* Accepted guest RAM: 64 MiB .. 1 TiB, a whole number of MiB. */
#define VM_MIN_MEMORY (64ull << 20)
#define VM_MAX_MEMORY (1ull << 40)
/* --timeout upper bound: one day. */
#define VM_MAX_TIMEOUT 86400u
/* virtio-blk's GET_ID string is at most 20 bytes. */
#define VM_DRIVE_SERIAL_MAX 20
/* Drive ids are [A-Za-z0-9_-]{1,32}; short enough to fit inih's section-name buffer. */
#define VM_DRIVE_ID_MAX 32
/* poll=: the largest busy-poll cap of a drive's I/O thread, microseconds. */
#define VM_DRIVE_POLL_US_MAX 1000u
/* --user USER[:GROUP]: the longest value taken, in bytes (names are short; NSS allows up to 255 each). */
#define VM_USER_MAX 256

/*
 * A drive's snapshot= setting. Unset lets --snapshot decide (which turns it
 * on for every drive that is not read-only); on keeps the image as it is and
 * sends the guest's writes to a throwaway overlay.
 */
enum vm_drive_snapshot {
	VM_SNAPSHOT_UNSET = 0,
	VM_SNAPSHOT_OFF,
	VM_SNAPSHOT_ON,
};

enum vm_serial_mode {
	VM_SERIAL_STDIO = 0,
	VM_SERIAL_FILE,
	VM_SERIAL_NONE,
};

/* One line, no trailing newline, ready for main.c to print after "vmm: ". */
struct vm_config_error {
	char msg[512];
};

/*
 * Parse SIZE: "512M", "2G", "1024K", "1T", "4096" (bare number = MiB, QEMU's
 * convention; suffixes are binary and either case). 0 and *bytes set, or
 * -EINVAL (bad syntax) / -ERANGE (overflow, zero). Range limits such as
 * VM_MIN_MEMORY are the caller's business.
 */
int vm_config_parse_size(const char *s, uint64_t *bytes);

/*
 * Byte c as it goes into a one-line message: itself, or a C escape (\n, \r,
 * \t, \x1b) if it is a control character, which would break the line or
 * rewrite the terminal. Returns the length written to out (1 to 4; no NUL).
 */
size_t vm_config_msg_char(unsigned char c, char out[5]);

#endif

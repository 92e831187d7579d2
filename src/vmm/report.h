/* SPDX-License-Identifier: MIT */
/* main's voice: the only code below main() that prints. Its lines, exit statuses and the words for each failure. */
#ifndef VMM_REPORT_H
#define VMM_REPORT_H

#include <stdarg.h>
#include <stddef.h>

#include "blk_backend.h"
#include "vm.h"
#include "vm_config.h"

/* Exit statuses (docs/exit-status.md); the guest's own status (exit port) can be any byte. */
enum {
	EXIT_OK = 0,
	EXIT_VMM_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_GUEST_RESET = 123,
	EXIT_TIMEOUT = 124,
	EXIT_KVM_INTERNAL = 125,
	EXIT_SIGNAL_BASE = 128,
};

/* One line on stderr, "vmm: " first: a path or argument quoted in it cannot break it (control characters are escaped). */
__attribute__((format(printf, 1, 2))) void report_line(const char *fmt, ...);

/*
 * vmm's own report of several lines (an exit reason, then the vCPU's
 * registers): "vmm: HEAD: " and the first line of detail, then the rest as
 * real lines, indented. Nothing in it comes from the user; a control
 * character other than a line break is still escaped.
 */
void report_lines(const char *head, const char *detail);

/* -v: what the kernel cache did for this boot (docs/guest.md), one line. */
void report_kernel_cache(const struct vm_config *cfg, const struct kcache_note *note);

/* The core's -v hook (struct vm_log's fn): "vmm: debug: " and the line, whole even from vCPU threads. */
void report_debug(void *ctx, const char *fmt, va_list ap);

/* Where the user gave a setting, to start a message: "--cmdline", or "vm.ini:3: cmdline". Returns buf. */
const char *report_origin(char *buf, size_t n, const struct vm_config_origin *o, const char *key);

/*
 * How the user gave a path setting, to start a message: "--kernel k" from the
 * command line, "vm.ini:2: kernel: /abs/k" from an INI file (paths there are
 * already joined to the file's directory). prefix is "file:" for --serial.
 * Returns buf.
 */
const char *report_setting(char *buf, size_t n, const struct vm_config_origin *o, const char *key,
			   const char *prefix, const char *path);

/* INI values are taken literally: for a path that looks quoted there, a hint that starts with "; "; else "". */
const char *report_quote_hint(const struct vm_config_origin *o, const char *path);

/*
 * How a drive was given, to start its messages: "--drive file=a.img", or
 * "vm.ini:6: drive \"a\"" with the line of the key at fault (at: the drive's
 * file_origin or cache_origin; its "file =" line if that key was not set).
 * Returns buf.
 */
const char *report_drive_origin(char *buf, size_t n, const struct vm_drive_config *d,
				const struct vm_config_origin *at);

/* A drive setting spelt as the user writes it where the drive was given: readonly=on, or "readonly = on". */
const char *report_drive_setting(char *buf, size_t n, const struct vm_drive_config *d, const char *key,
				 const char *value);

/* The line for a failed vm_boot_check or vm_create; returns the exit status (EXIT_USAGE for the user's input). */
int report_vm_error(const struct vm_config *cfg, const struct vm_error *e);

/* The exit status for how the VM ended; prints nothing (the stop's deadline needs it before the stop ends). */
int report_exit_status(const struct vm_exit *ex);

/* report_exit_status, with a line for the endings that need one (timeout, crash, error). */
int report_exit(const struct vm_config *cfg, const struct vm_exit *ex);

/* ---- report_input.c: the user's files, before anything runs ---- */

/*
 * Every user file checked before /dev/kvm is opened or guest memory exists:
 * kernel and initrd readable, non-empty regular files; --stats and --serial
 * file: writable where they go, and overwriting no input nor each other.
 * 0, or -1 with the one line printed.
 */
int report_inputs_check(const struct vm_config *cfg);

/* The line for drive d's image that blk_image_open refused with -errno r. */
void report_drive_open(const struct vm_drive_config *d, int r);

/* The line for snapshot drive d, whose overlay blk_image_snapshot could not make (-errno r): names TMPDIR. */
void report_drive_snapshot(const struct vm_drive_config *d, int r);

/*
 * A drive image that holds another format's header (qcow2, vmdk, ...) is
 * refused unless format=raw says it is a raw disk: the guest would see the
 * container's metadata, and its writes would corrupt the image. 0, or -errno
 * with the line printed.
 */
int report_drive_format(const struct vm_drive_config *d, const struct blk_image *img);

#endif

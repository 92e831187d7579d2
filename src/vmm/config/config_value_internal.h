/* SPDX-License-Identifier: MIT */
/* The config module's leaf: value checkers and one-line error messages, shared by every other room of the module. */
#ifndef VMM_CONFIG_VALUE_INTERNAL_H
#define VMM_CONFIG_VALUE_INTERNAL_H

#ifndef VMM_MODULE_CONFIG
#error "config_value_internal.h is private to src/vmm/config: include vm_config.h"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "blk_backend.h"
#include "vm_config_value.h"

/*
 * Value checkers shared by the command line and the INI reader, so both say
 * the same thing. Each returns 0 (and sets *out), or -EINVAL with a phrase
 * in why (no location, no key name) such as
 * `unknown cache mode "x" (expected writeback, ...)`.
 */
int config_memory_parse(const char *s, uint64_t *out, char *why, size_t n);
int config_uint_parse(const char *s, unsigned int min, unsigned int max, unsigned int *out,
		      char *why, size_t n);
int config_bool_parse(const char *s, bool *out, char *why, size_t n);
int config_cache_parse(const char *s, enum blk_cache_mode *out, char *why, size_t n);
/* snapshot=: on or off, nothing else (QEMU's spelling; no yes/no). */
int config_snapshot_parse(const char *s, enum vm_drive_snapshot *out, char *why, size_t n);
/* A drive's format: only "raw" exists (sets *raw); anything else says how to get a raw image. */
int config_format_parse(const char *s, bool *raw, char *why, size_t n);
/* Serial console mode: stdio, none or file:PATH; *path points into s (file:) or is NULL. */
int config_serial_parse(const char *s, enum vm_serial_mode *mode, const char **path,
			char *why, size_t n);
int config_id_check(const char *s, char *why, size_t n);
/* --sandbox: on or off, and nothing else (no yes/no: a switch that guards vmm is spelt one way). */
int config_sandbox_parse(const char *s, bool *on, char *why, size_t n);
/*
 * --user: the form USER or USER:GROUP, each part a name or a number of
 * printable ASCII without blanks or ';', at most VM_USER_MAX bytes in all;
 * whether they exist is vm_config_user_resolve's business.
 */
int config_user_check(const char *s, char *why, size_t n);
int config_drive_serial_check(const char *s, char *why, size_t n);

/*
 * A value the user gave, quoted in a message: "%.*s%s" takes CONFIG_QUOTE(s),
 * which is s, or its first CONFIG_QUOTE_MAX bytes and "...". So a long value
 * leaves room for the rest of the message, the fix at its end above all.
 */
#define CONFIG_QUOTE_MAX 64
#define CONFIG_QUOTE(s) \
	(int)(strlen(s) > CONFIG_QUOTE_MAX ? CONFIG_QUOTE_MAX : strlen(s)), (s), \
	(strlen(s) > CONFIG_QUOTE_MAX ? "..." : "")

/*
 * printf into err->msg (if err), as one line: control characters are escaped
 * (\n, \x1b), and a message too long for err->msg loses its middle, not the
 * start (what and where) or the end (the fix).
 */
void config_err_set(struct vm_config_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif

/* SPDX-License-Identifier: MIT */
/* Helpers shared by the config module's CLI, INI and validation code; not part of its interface. */
#ifndef VMM_CONFIG_INTERNAL_H
#define VMM_CONFIG_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "vm_config.h"

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
/* A drive's format: only "raw" exists (sets *raw); anything else says how to get a raw image. */
int config_format_parse(const char *s, bool *raw, char *why, size_t n);
/* Serial console mode: stdio, none or file:PATH; *path points into s (file:) or is NULL. */
int config_serial_parse(const char *s, enum vm_serial_mode *mode, const char **path,
			char *why, size_t n);
int config_id_check(const char *s, char *why, size_t n);
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

/* Replace *slot with a copy of s (NULL s: clear). 0 or -ENOMEM. */
int config_str_set(char **slot, const char *s);

/* Drive with this id, or -1. */
int config_drive_find(const struct vm_config *cfg, const char *id);
/* Free a drive's strings and reset it to the defaults. */
void config_drive_clear(struct vm_drive_config *d);

/*
 * Read and merge one INI file. opt names the option it came from for
 * messages ("--config": "--config PATH: No such file or directory (check the
 * path)"), or NULL ("PATH: cannot read: ..."). Returns as vm_config_load_file,
 * and -EINVAL for an empty path.
 */
int config_file_load(struct vm_config *cfg, const char *opt, const char *path, struct vm_config_error *err);

/* The longest line (newline not counted) the INI reader takes; longer ones are refused. */
size_t config_ini_line_max(void);

/* Remember an INI name in cfg->sources; returns the stored copy or NULL (-ENOMEM). */
const char *config_source_add(struct vm_config *cfg, const char *name);

#endif

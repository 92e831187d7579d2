/* SPDX-License-Identifier: MIT */
/* The INI reader's state, shared by its line reader (config_ini.c) and its sections and keys (config_ini_keys.c). */
#ifndef VMM_CONFIG_INI_CTX_INTERNAL_H
#define VMM_CONFIG_INI_CTX_INTERNAL_H

#ifndef VMM_MODULE_CONFIG
#error "config_ini_ctx_internal.h is private to src/vmm/config: include vm_config.h"
#endif

#include <stdbool.h>
#include <stddef.h>

#include "vm_config.h"

struct ini_seen_key {
	char *section;
	char *key;
	int line;
};

struct ini_seen_section {
	char *name;       /* "machine", or the drive id for drive sections */
	bool drive;
	int line;         /* header line */
	int slot;         /* drives: index in cfg->drives */
	bool has_file;
};

struct ini_ctx {
	struct vm_config *cfg;
	struct vm_config_error *err;
	const char *name;         /* as given, owned by cfg->sources */
	char *dir;                /* absolute directory relative paths start from */

	/* Our reader's view of the text, so each handler call knows its line. */
	const char *text;
	size_t pos;
	int lineno;               /* line most recently handed to inih */
	int header_line;          /* last line that starts with '[' */
	const char *header_text;  /* that line, from its '[' (not NUL-terminated) */
	int last_key_line;

	/* First error wins; the reader stops feeding inih once it is set. */
	int err_line;             /* line the message names */
	int err_seen_at;          /* line being read when it was found (a key can blame its header) */
	int err_code;

	/* The section instance keys currently go to. */
	char *cur_section;
	struct ini_seen_section *cur;

	struct ini_seen_key *keys;
	size_t nkeys;
	struct ini_seen_section *sections;
	size_t nsections;
};

/*
 * Record the first error: "NAME:LINE: " and the printf message in c->err,
 * code for vm_config_load_string to return. Later calls do nothing, so the
 * first error found is the one reported.
 */
void ini_fail(struct ini_ctx *c, int line, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Keys arrive in a section instance (named as inih gives it, "" before any
 * header) whose header is at line: check its name, refuse a repeat, and make
 * it current (a drive section takes its slot in cfg->drives). 0, or
 * -EINVAL/-ENOMEM after ini_fail.
 */
int ini_section_begin(struct ini_ctx *c, const char *section, int line);

/*
 * One "key = value" at line of the current section (begun with
 * ini_section_begin): refuse a repeat or an empty value, then set what it
 * means in c->cfg. 0, or -EINVAL/-ENOMEM after ini_fail.
 */
int ini_key_set(struct ini_ctx *c, const char *section, const char *key, const char *value, int line);

#endif

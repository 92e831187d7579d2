/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: an INI file given with --config, as vm_config_load_string reads it (the input up to
 * its first NUL byte, which the file reader refuses anyway), then vm_config_validate.
 *
 * Each input is read into a fresh config as "fuzz.ini", and then once more on top of it as
 * "again.ini" (a second --config of the same text: drives of the same id are replaced).
 *
 * Invariants:
 *  - the reader and validate return 0 or -EINVAL (nothing here can run out of memory);
 *  - every error message is one non-empty line and names the place: the reader's start with
 *    "NAME:LINE: " and LINE is a line of the text; validate's name the file;
 *  - an accepted config that validates prints as INI that reads back to the same settings and
 *    prints the same again, or vm_config_printable says in one line why it cannot be written;
 *  - vm_config_free leaves nothing behind (ASan's leak check at exit).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_config.h"

/* The reader's message names NAME and a line of the text: "NAME:LINE: ...". */
static void check_reader_place(const struct vm_config_error *err, const char *name, const char *text)
{
	size_t nl = strlen(name), lines = 1;
	char *end;
	long line;

	for (const char *p = text; *p; p++)
		lines += *p == '\n' && p[1] != '\0';
	FUZZ_CHECK(strncmp(err->msg, name, nl) == 0 && err->msg[nl] == ':',
		   "the message does not start with \"%s:\": \"%s\"", name, err->msg);
	line = strtol(err->msg + nl + 1, &end, 10);
	FUZZ_CHECK(end != err->msg + nl + 1 && *end == ':' && line >= 1 && (size_t)line <= lines,
		   "the message names no line of the %zu-line text: \"%s\"", lines, err->msg);
}

static int load(struct vm_config *cfg, const char *text, const char *name)
{
	struct vm_config_error err = { .msg = "" };
	int r = vm_config_load_string(cfg, text, name, &err);

	FUZZ_CHECK(r == 0 || r == -EINVAL, "vm_config_load_string returned %d: %s", r, err.msg);
	if (r < 0) {
		fuzz_check_message(&err, r, "vm_config_load_string");
		check_reader_place(&err, name, text);
		return r;
	}
	FUZZ_CHECK(cfg->nsources >= 1 && strcmp(cfg->sources[cfg->nsources - 1], name) == 0,
		   "%s is not the last source", name);
	FUZZ_CHECK(cfg->ndrives <= VM_MAX_DRIVES, "%u drives", cfg->ndrives);
	for (unsigned int i = 0; i < cfg->ndrives; i++)
		FUZZ_CHECK(cfg->drives[i].id && cfg->drives[i].file && cfg->drives[i].origin.file &&
			   cfg->drives[i].origin.line >= 1, "drive %u lacks its id, file or origin", i);

	r = vm_config_validate(cfg, &err);
	FUZZ_CHECK(r == 0 || r == -EINVAL, "vm_config_validate returned %d", r);
	if (r < 0) {
		fuzz_check_message(&err, r, "vm_config_validate");
		FUZZ_CHECK(strstr(err.msg, "fuzz.ini") || strstr(err.msg, "again.ini"),
			   "validate's message does not name the INI file: \"%s\"", err.msg);
		return 0;
	}
	fuzz_check_roundtrip(cfg, name);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_config cfg;
	char *text = strndup((const char *)data, size);

	FUZZ_CHECK(text != NULL, "out of memory");
	vm_config_init(&cfg);
	if (load(&cfg, text, "fuzz.ini") == 0)
		load(&cfg, text, "again.ini");
	vm_config_free(&cfg);
	free(text);
	return 0;
}

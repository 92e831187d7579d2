/* SPDX-License-Identifier: MIT */
/* Shared by the INI and command-line fuzz targets: what every error message and every accepted config must satisfy. */
#ifndef VMM_FUZZ_CONFIG_H
#define VMM_FUZZ_CONFIG_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "vm_config.h"

/*
 * One line main.c can print after "vmm: ": not empty, no line break or other control character, and
 * whole: config_err_set shortens a long one to one byte less than the buffer, so a message that fills
 * it was cut somewhere, losing its end (the fix).
 */
static inline void fuzz_check_message(const struct vm_config_error *err, int rc, const char *what)
{
	size_t len = strnlen(err->msg, sizeof(err->msg));

	FUZZ_CHECK(len < sizeof(err->msg), "%s: %d: message not terminated", what, rc);
	FUZZ_CHECK(len > 0, "%s failed with %d and an empty message", what, rc);
	FUZZ_CHECK(len < sizeof(err->msg) - 1, "%s: message cut at %zu bytes: \"%s\"", what, len, err->msg);
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK((unsigned char)err->msg[i] >= 0x20 && err->msg[i] != 0x7f,
			   "%s: message has control character 0x%02x at %zu, so it is not one line: \"%s\"", what,
			   (unsigned char)err->msg[i], i, err->msg);
}

/* vm_config_print into a malloc'd string; returns its return, *text NULL unless 0. */
static inline int fuzz_config_print(const struct vm_config *cfg, char **text)
{
	size_t len = 0;
	FILE *f = open_memstream(text, &len);
	int r;

	FUZZ_CHECK(f != NULL, "open_memstream failed");
	r = vm_config_print(cfg, f);
	fclose(f);
	if (r < 0) {
		free(*text);
		*text = NULL;
	}
	return r;
}

static inline int fuzz_streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/*
 * cfg passed vm_config_validate. It must be printable or say in one line why
 * not; what is printed must read back (as print.ini) to the same settings and
 * print the same again.
 */
static inline void fuzz_check_roundtrip(const struct vm_config *cfg, const char *what)
{
	struct vm_config back;
	struct vm_config_error err = { .msg = "" };
	char *text = NULL, *again = NULL;
	int r = vm_config_printable(cfg, &err);

	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL, "%s: vm_config_printable returned %d", what, r);
		fuzz_check_message(&err, r, "vm_config_printable");
		FUZZ_CHECK(fuzz_config_print(cfg, &text) == r, "%s: vm_config_print disagrees with printable", what);
		return;
	}
	r = fuzz_config_print(cfg, &text);
	FUZZ_CHECK(r == 0, "%s: printable, but vm_config_print returned %d", what, r);

	vm_config_init(&back);
	r = vm_config_load_string(&back, text, "print.ini", &err);
	FUZZ_CHECK(r == 0, "%s: the printed config does not read back: %s\n--- printed:\n%s---", what, err.msg, text);
	r = vm_config_validate(&back, &err);
	FUZZ_CHECK(r == 0, "%s: the printed config reads back invalid: %s\n--- printed:\n%s---", what, err.msg, text);
	FUZZ_CHECK(back.memory == cfg->memory && back.cpus == cfg->cpus && back.timeout == cfg->timeout &&
		   back.serial == cfg->serial && back.ndrives == cfg->ndrives && fuzz_streq(back.cmdline, cfg->cmdline),
		   "%s: machine, serial, drive count or cmdline changed in the round trip\n--- printed:\n%s---",
		   what, text);
	for (unsigned int i = 0; i < cfg->ndrives; i++) {
		const struct vm_drive_config *a = &cfg->drives[i], *b = &back.drives[i];

		FUZZ_CHECK(fuzz_streq(a->id, b->id) && a->cache == b->cache && a->readonly == b->readonly &&
			   fuzz_streq(a->serial, b->serial) && a->poll_us == b->poll_us &&
			   a->format_raw == b->format_raw && a->snapshot == b->snapshot,
			   "%s: drive %u changed in the round trip\n--- printed:\n%s---", what, i, text);
	}
	r = fuzz_config_print(&back, &again);
	FUZZ_CHECK(r == 0 && strcmp(text, again) == 0,
		   "%s: printing what was read back gives something else\n--- first:\n%s--- second:\n%s---", what,
		   text, again ? again : "(error)\n");
	free(text);
	free(again);
	vm_config_free(&back);
}

#endif

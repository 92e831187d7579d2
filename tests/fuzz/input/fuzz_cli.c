/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the command line, as vm_config_from_args parses it. The input is split at NUL bytes
 * into arguments after argv[0] = "vmm".
 *
 * The parser opens no file but the --config ones, and those only for reading (--stats and
 * --serial file: are stored, opened later by main.c and the core). So that it reads nothing else, every
 * '/' in the arguments becomes '_' (no /dev/stdin, no FIFO elsewhere), and the target works in a
 * directory of its own, made at start, that holds only a.ini, b.ini and bad.ini for --config to
 * find. Crash inputs are saved there too (its path is printed at start); it is removed at a normal
 * exit.
 *
 * Invariants:
 *  - vm_config_from_args returns 0 or -EINVAL, or -ENOENT/-EISDIR/... for a --config name that is
 *    not a readable file;
 *  - every error message is one non-empty line naming the option ("--..." or "-X") or the INI file;
 *  - an accepted configuration (not --help/--version) passes vm_config_validate, has an id and a
 *    file for every drive, and prints as INI that reads back the same (see fuzz_config.h);
 *  - the kernel command line boot_cmdline_build makes of it (with the parameters x86 adds, in
 *    buffers from 1 byte to BOOT_CMDLINE_MAX) fits its buffer, is NUL-terminated, holds those
 *    parameters, has no blank at either end, and once it fits a buffer it fits every larger one
 *    the same; when it does not fit, the buffer holds "";
 *  - the working directory still holds exactly its three files, unchanged: parsing created,
 *    truncated or wrote nothing;
 *  - vm_config_free leaves nothing behind (ASan's leak check at exit).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_config.h"
#include "boot.h"

#define FUZZ_CLI_MAX_ARGS 256

static const struct {
	const char *name, *text;
} fixtures[] = {
	{ "a.ini", "[machine]\nmemory = 512M\ncpus = 2\n[boot]\nkernel = bzImage\ncmdline = console=ttyS0 -- x\n"
		   "[drive \"root\"]\nfile = root.img\ncache = none\nserial = R1\n[output]\nserial = file:log\n" },
	{ "b.ini", "[boot]\nkernel = /abs/vmlinux\ninitrd = i.img\n[drive.data]\nfile = d.img\nreadonly = on\n"
		   "[output]\nstats = s.json\nserial = none\n" },
	{ "bad.ini", "[machine]\nmemory = lots\n" },
};
#define NFIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

static char workdir[] = "/tmp/vmm-fuzz-cli-XXXXXX";
static off_t fixture_size[NFIXTURES];

static void workdir_remove(void)
{
	for (size_t i = 0; i < NFIXTURES; i++)
		unlink(fixtures[i].name);
	if (chdir("/") == 0)
		rmdir(workdir);
}

static void workdir_make(void)
{
	FUZZ_CHECK(mkdtemp(workdir) != NULL, "mkdtemp failed");
	FUZZ_CHECK(chdir(workdir) == 0, "cannot enter %s", workdir);
	for (size_t i = 0; i < NFIXTURES; i++) {
		FILE *f = fopen(fixtures[i].name, "w");

		FUZZ_CHECK(f && fputs(fixtures[i].text, f) >= 0 && fclose(f) == 0, "cannot write %s",
			   fixtures[i].name);
		fixture_size[i] = (off_t)strlen(fixtures[i].text);
	}
	fprintf(stderr, "fuzz_cli: working in %s (crash inputs are saved there)\n", workdir);
	atexit(workdir_remove);
}

/* The working directory holds the fixtures and nothing else, each as written. */
static void check_workdir(void)
{
	DIR *d = opendir(".");
	struct dirent *e;
	size_t n = 0;

	FUZZ_CHECK(d != NULL, "cannot read the working directory");
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (strncmp(e->d_name, "crash-", 6) == 0)
			continue;
		n++;
	}
	closedir(d);
	for (size_t i = 0; i < NFIXTURES; i++) {
		struct stat st;

		FUZZ_CHECK(stat(fixtures[i].name, &st) == 0 && st.st_size == fixture_size[i],
			   "%s was removed or changed", fixtures[i].name);
	}
	FUZZ_CHECK(n == NFIXTURES, "the working directory has %zu entries, so parsing created a file", n);
}

/* The kernel command line for the user's part (NULL: none), as the core builds it. */
static void check_cmdline(const char *user)
{
	static const char params[] = "reboot=k panic=-1 pci=off";
	static const size_t caps[] = { 1, 2, 27, 64, 512, BOOT_CMDLINE_MAX };
	char out[BOOT_CMDLINE_MAX], first[BOOT_CMDLINE_MAX] = "";
	bool fitted = false;

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		size_t cap = caps[i];
		int r;

		memset(out, 0x55, sizeof(out));
		r = boot_cmdline_build(out, cap, user, params);
		if (r < 0) {
			FUZZ_CHECK(r == -ENAMETOOLONG && out[0] == '\0', "boot_cmdline_build(cap %zu): %d", cap, r);
			FUZZ_CHECK(!fitted, "the command line fits %zu bytes but not %zu", strlen(first) + 1, cap);
			continue;
		}
		FUZZ_CHECK((size_t)r < cap && strlen(out) == (size_t)r, "boot_cmdline_build(cap %zu) gave %d "
			   "for a string of %zu", cap, r, strnlen(out, sizeof(out)));
		FUZZ_CHECK(strstr(out, params) != NULL, "the command line \"%s\" lacks vmm's parameters", out);
		FUZZ_CHECK(out[0] != ' ' && out[r - 1] != ' ', "the command line \"%s\" has a blank at an end",
			   out);
		if (fitted)
			FUZZ_CHECK(strcmp(out, first) == 0, "a larger buffer gives another command line");
		else
			memcpy(first, out, (size_t)r + 1);
		fitted = true;
	}
}

/* Names the option or the INI file the trouble is in. */
static void check_place(const struct vm_config_error *err)
{
	const char *m = err->msg;
	bool named = strstr(m, "--") != NULL;

	for (size_t i = 0; !named && i < NFIXTURES; i++)
		named = strstr(m, fixtures[i].name) != NULL;
	for (const char *p = m; !named && (p = strchr(p, '-')); p++)
		named = p[1] && p[1] != ' ';
	FUZZ_CHECK(named, "the message names neither an option nor a file: \"%s\"", m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	char *argv[FUZZ_CLI_MAX_ARGS + 2];
	char *buf;
	int argc = 0, r;
	struct vm_config cfg;
	struct vm_config_error err = { .msg = "" };

	if (!ready) {
		workdir_make();
		ready = true;
	}
	/* argv strings are NUL-terminated: one more byte than the input. */
	buf = malloc(size + 1);
	FUZZ_CHECK(buf != NULL, "out of memory");
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i < size; i++)
		if (buf[i] == '/')
			buf[i] = '_';
	argv[argc++] = "vmm";
	for (size_t i = 0; i <= size && argc <= FUZZ_CLI_MAX_ARGS; i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;

	vm_config_init(&cfg);
	r = vm_config_from_args(&cfg, argc, argv, &err);
	check_workdir();
	FUZZ_CHECK(r <= 0 && r != -ENOMEM, "vm_config_from_args returned %d: %s", r, err.msg);
	if (r < 0) {
		fuzz_check_message(&err, r, "vm_config_from_args");
		check_place(&err);
	} else if (!cfg.help && !cfg.version) {
		r = vm_config_validate(&cfg, &err);
		FUZZ_CHECK(r == 0, "accepted, but vm_config_validate says: %s", err.msg);
		for (unsigned int i = 0; i < cfg.ndrives; i++)
			FUZZ_CHECK(cfg.drives[i].id && cfg.drives[i].file, "drive %u lacks its id or file", i);
		fuzz_check_roundtrip(&cfg, "command line");
		check_cmdline(cfg.cmdline);
	}
	vm_config_free(&cfg);
	free(buf);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Unit tests of --config INI reading: values into the struct, relative paths, one test per error class. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vm_config.h"

/* Loads text as if from file "vm.ini" in /etc/vmm; returns what vm_config_load_string returned. */
static int load(struct vm_config *cfg, const char *text, struct vm_config_error *err)
{
	vm_config_init(cfg);
	memset(err->msg, 0, sizeof(err->msg));
	return vm_config_load_string(cfg, text, "/etc/vmm/vm.ini", err);
}

/* Loads text expecting failure with exactly msg. */
static void expect_error(const char *text, const char *msg)
{
	struct vm_config cfg;
	struct vm_config_error err;

	assert_int_equal(load(&cfg, text, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
	vm_config_free(&cfg);
}

static void test_full_file(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;
	const char *text =
		"; a comment\n"
		"# another\n"
		"[machine]\n"
		"memory = 1G\n"
		"cpus = 2\n"
		"timeout = 600\n"
		"\n"
		"[boot]\n"
		"kernel = guest/vmlinuz\n"
		"initrd = /abs/initrd.img\n"
		"cmdline = console=ttyS0 quiet -- echo hi\n"
		"[drive \"root\"]          ; the section name is the id\n"
		"file = rootfs.img\n"
		"cache = unsafe\n"
		"readonly = on\n"
		"serial = root-disk\n"
		"poll = 0\n"
		"format = raw\n"
		"[drive.scratch]\n"
		"  file = ../scratch.img\n"
		"[output]\n"
		"serial = file:console.log\n"
		"stats = stats.json\n";

	(void)state;
	assert_int_equal(load(&cfg, text, &err), 0);
	assert_int_equal(cfg.memory, 1ull << 30);
	assert_int_equal(cfg.cpus, 2);
	assert_int_equal(cfg.timeout, 600);
	assert_string_equal(cfg.kernel, "/etc/vmm/guest/vmlinuz");
	assert_string_equal(cfg.initrd, "/abs/initrd.img");
	assert_string_equal(cfg.cmdline, "console=ttyS0 quiet -- echo hi");
	assert_int_equal(cfg.ndrives, 2);
	assert_string_equal(cfg.drives[0].id, "root");
	assert_string_equal(cfg.drives[0].file, "/etc/vmm/rootfs.img");
	assert_int_equal(cfg.drives[0].cache, BLK_CACHE_UNSAFE);
	assert_true(cfg.drives[0].readonly);
	assert_string_equal(cfg.drives[0].serial, "root-disk");
	assert_int_equal(cfg.drives[0].poll_us, 0);
	assert_true(cfg.drives[0].format_raw);
	assert_string_equal(cfg.drives[0].origin.file, "/etc/vmm/vm.ini");
	assert_int_equal(cfg.drives[0].origin.line, 12);
	/* Messages about the image or its cache mode cite the line of that key. */
	assert_string_equal(cfg.drives[0].file_origin.file, "/etc/vmm/vm.ini");
	assert_int_equal(cfg.drives[0].file_origin.line, 13);
	assert_string_equal(cfg.drives[0].cache_origin.file, "/etc/vmm/vm.ini");
	assert_int_equal(cfg.drives[0].cache_origin.line, 14);
	assert_int_equal(cfg.drives[1].file_origin.line, 20);
	assert_null(cfg.drives[1].cache_origin.file);
	assert_string_equal(cfg.drives[1].id, "scratch");
	assert_string_equal(cfg.drives[1].file, "/etc/vmm/../scratch.img");
	assert_int_equal(cfg.drives[1].cache, BLK_CACHE_WRITEBACK);
	assert_false(cfg.drives[1].readonly);
	assert_null(cfg.drives[1].serial);
	assert_int_equal(cfg.drives[1].poll_us, VM_DRIVE_POLL_US_DEFAULT);
	assert_false(cfg.drives[1].format_raw);
	assert_int_equal(cfg.serial, VM_SERIAL_FILE);
	assert_string_equal(cfg.serial_path, "/etc/vmm/console.log");
	assert_string_equal(cfg.stats_path, "/etc/vmm/stats.json");
	assert_int_equal(cfg.where.cpus.line, 5);
	assert_int_equal(cfg.where.kernel.line, 9);
	assert_int_equal(vm_config_validate(&cfg, &err), 0);
	vm_config_free(&cfg);
}

/* A drive may be called like a plain section: its keys are its own, not that section's. */
static void test_drive_id_named_like_section(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;

	(void)state;
	assert_int_equal(load(&cfg, "[output]\nserial = stdio\n\n[drive \"output\"]\nfile = /x\nserial = ABC\n"
			      "[machine]\ncpus = 2\n[drive.machine]\nfile = /y\n[boot]\nkernel = /k\n", &err), 0);
	assert_int_equal(cfg.serial, VM_SERIAL_STDIO);
	assert_int_equal(cfg.cpus, 2);
	assert_int_equal(cfg.ndrives, 2);
	assert_string_equal(cfg.drives[0].id, "output");
	assert_string_equal(cfg.drives[0].serial, "ABC");
	assert_string_equal(cfg.drives[1].id, "machine");
	assert_string_equal(cfg.drives[1].file, "/y");
	vm_config_free(&cfg);
	/* A key set twice in the drive is still refused. */
	expect_error("[drive \"output\"]\nfile = /x\nfile = /y\n",
		     "/etc/vmm/vm.ini:3: file: set twice in this section (first at line 2); keep one");
}

static void test_defaults_kept(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;

	(void)state;
	assert_int_equal(load(&cfg, "[boot]\nkernel = /k\n", &err), 0);
	assert_int_equal(cfg.memory, VM_DEFAULT_MEMORY);
	assert_int_equal(cfg.cpus, 1);
	assert_int_equal(cfg.timeout, 0);
	assert_null(cfg.initrd);
	assert_null(cfg.cmdline);
	assert_int_equal(cfg.ndrives, 0);
	assert_int_equal(cfg.serial, VM_SERIAL_STDIO);
	assert_null(cfg.stats_path);
	vm_config_free(&cfg);
}

static void test_relative_paths(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;
	char cwd[PATH_MAX], want[PATH_MAX + 64];

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));

	/* A relative INI name: its directory is joined to the cwd. */
	vm_config_init(&cfg);
	assert_int_equal(vm_config_load_string(&cfg, "[boot]\nkernel = k/vmlinux\n",
					       "sub/dir/vm.ini", &err), 0);
	snprintf(want, sizeof(want), "%s/sub/dir/k/vmlinux", cwd);
	assert_string_equal(cfg.kernel, want);
	vm_config_free(&cfg);

	/* No directory at all: the cwd. */
	assert_int_equal(vm_config_load_string(&cfg, "[drive.a]\nfile = a.img\n", "vm.ini", &err), 0);
	snprintf(want, sizeof(want), "%s/a.img", cwd);
	assert_string_equal(cfg.drives[0].file, want);
	vm_config_free(&cfg);

	/* A file in /: no doubled slash. Absolute values stay as they are. */
	assert_int_equal(vm_config_load_string(&cfg, "[boot]\nkernel = k\ninitrd = /x/i\n",
					       "/vm.ini", &err), 0);
	assert_string_equal(cfg.kernel, "/k");
	assert_string_equal(cfg.initrd, "/x/i");
	vm_config_free(&cfg);
}

static void test_bool_spellings(void **state)
{
	static const struct {
		const char *text;
		bool value;
	} cases[] = {
		{ "on", true }, { "off", false }, { "yes", true }, { "no", false },
		{ "true", true }, { "FALSE", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm_config cfg;
		struct vm_config_error err;
		char text[128];

		snprintf(text, sizeof(text), "[drive.d]\nfile = /d\nreadonly = %s\n", cases[i].text);
		assert_int_equal(load(&cfg, text, &err), 0);
		assert_int_equal(cfg.drives[0].readonly, cases[i].value);
		vm_config_free(&cfg);
	}
}

static void test_later_file_overrides(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;

	(void)state;
	assert_int_equal(load(&cfg, "[machine]\ncpus = 2\n[drive.a]\nfile = /a\ncache = none\n"
			      "[drive.b]\nfile = /b\n", &err), 0);
	assert_int_equal(vm_config_load_string(&cfg, "[machine]\ncpus = 4\n[drive \"a\"]\nfile = /a2\n",
					       "/second.ini", &err), 0);
	assert_int_equal(cfg.cpus, 4);
	assert_int_equal(cfg.ndrives, 2);
	/* Replaced in place and whole: cache falls back to the default. */
	assert_string_equal(cfg.drives[0].file, "/a2");
	assert_int_equal(cfg.drives[0].cache, BLK_CACHE_WRITEBACK);
	assert_string_equal(cfg.drives[0].origin.file, "/second.ini");
	assert_string_equal(cfg.drives[1].file, "/b");
	vm_config_free(&cfg);
}

static void test_long_cmdline(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;
	char text[1200], arg[1001];

	(void)state;
	memset(arg, 'x', 1000);
	arg[1000] = '\0';
	snprintf(text, sizeof(text), "[boot]\ncmdline = %s\n", arg);
	if (load(&cfg, text, &err) == 0) {
		assert_string_equal(cfg.cmdline, arg);
	} else {
		/* An inih with a fixed 200-byte line buffer: a clear message, not a silent cut. */
		assert_string_equal(err.msg, "/etc/vmm/vm.ini:2: line is longer than 198 characters; "
				    "shorten it (a long cmdline can be given with --cmdline)");
	}
	vm_config_free(&cfg);
}

/* ---- one test per error class, exact messages ---- */

static void test_err_syntax(void **state)
{
	(void)state;
	expect_error("[machine]\ncpus = 1\njunk\n",
		     "/etc/vmm/vm.ini:3: expected \"key = value\", a [section] or a ; comment");
}

static void test_err_section_header(void **state)
{
	(void)state;
	expect_error("[machine]\ncpus = 1\n[boot\nkernel = /k\n",
		     "/etc/vmm/vm.ini:3: bad section header: write [name] with the closing ']'");
	/* inih takes the name up to ']' and drops the rest: both slipped through. */
	expect_error("[machine]\ncpus = 1\n[]\nmemory = 1G\n",
		     "/etc/vmm/vm.ini:3: empty section name []: write [machine], [boot], [drive \"ID\"], [output] or [security]");
	expect_error("[]\n",
		     "/etc/vmm/vm.ini:1: empty section name []: write [machine], [boot], [drive \"ID\"], [output] or [security]");
	expect_error("[machine] junk\ncpus = 1\n",
		     "/etc/vmm/vm.ini:1: text after the section header [machine]; put it on a line of its own, "
		     "or after ';' as a comment");
	{
		struct vm_config cfg;
		struct vm_config_error err;

		/* A comment after the header is fine. */
		assert_int_equal(load(&cfg, "[machine]  ; the box\ncpus = 2\n[boot] # k\nkernel = /k\n", &err), 0);
		assert_int_equal(cfg.cpus, 2);
		vm_config_free(&cfg);
	}
}

static void test_err_unknown_section(void **state)
{
	(void)state;
	expect_error("[boot]\nkernel = /k\n\n[network]\nmode = tap\n",
		     "/etc/vmm/vm.ini:4: unknown section [network] (expected [machine], [boot], "
		     "[drive \"ID\"], [output] or [security])");
}

/* What the file holds is quoted with its control characters escaped, so the message stays one line. */
static void test_err_control_characters(void **state)
{
	(void)state;
	expect_error("[drive\x10.a]\nfile = x\n",
		     "/etc/vmm/vm.ini:1: unknown section [drive\\x10.a] (expected [machine], [boot], "
		     "[drive \"ID\"], [output] or [security])");
	expect_error("[machine]\nmemory = 1\r2G\n",
		     "/etc/vmm/vm.ini:2: memory: bad size \"1\\r2G\" (expected a number with an optional K, M, G "
		     "or T suffix, e.g. 512M or 2G; a bare number is MiB)");
}

static void test_err_unknown_key(void **state)
{
	(void)state;
	expect_error("[machine]\nmemroy = 1G\n",
		     "/etc/vmm/vm.ini:2: unknown key \"memroy\" in [machine] (expected memory, cpus or timeout)");
}

static void test_err_key_in_wrong_section(void **state)
{
	(void)state;
	expect_error("[machine]\nkernel = /k\n",
		     "/etc/vmm/vm.ini:2: kernel: not a [machine] setting; put it under [boot]");
}

static void test_err_key_outside_section(void **state)
{
	(void)state;
	expect_error("memory = 1G\n[boot]\nkernel = /k\n",
		     "/etc/vmm/vm.ini:1: memory: setting outside a section; put it under [machine]");
}

static void test_err_duplicate_key(void **state)
{
	(void)state;
	expect_error("[machine]\ncpus = 1\nmemory = 1G\ncpus = 2\n",
		     "/etc/vmm/vm.ini:4: cpus: set twice in this section (first at line 2); keep one");
}

static void test_err_duplicate_section(void **state)
{
	(void)state;
	expect_error("[machine]\ncpus = 1\n[boot]\nkernel = /k\n[machine]\nmemory = 1G\n",
		     "/etc/vmm/vm.ini:5: duplicate section [machine] (first at line 1); merge them into one");
}

static void test_err_duplicate_drive_section(void **state)
{
	(void)state;
	/* Both spellings name the same id. */
	expect_error("[drive \"root\"]\nfile = a\n\n[drive.root]\nfile = b\n",
		     "/etc/vmm/vm.ini:4: duplicate drive section for id \"root\" (first at line 1); "
		     "give each drive its own id");
}

static void test_err_bad_cache(void **state)
{
	(void)state;
	expect_error("[drive \"root\"]\nfile = a\ncache = unsafee\n",
		     "/etc/vmm/vm.ini:3: cache: unknown cache mode \"unsafee\" (expected writeback, none, "
		     "writethrough, directsync or unsafe)");
}

static void test_err_bad_size(void **state)
{
	(void)state;
	expect_error("[machine]\nmemory = 12X\n",
		     "/etc/vmm/vm.ini:2: memory: bad size \"12X\" (expected a number with an optional K, M, "
		     "G or T suffix, e.g. 512M or 2G; a bare number is MiB)");
	expect_error("[machine]\nmemory = 32M\n",
		     "/etc/vmm/vm.ini:2: memory: 32M is out of range (expected 64M to 1T)");
}

static void test_err_out_of_range(void **state)
{
	(void)state;
	expect_error("[machine]\ncpus = 65\n",
		     "/etc/vmm/vm.ini:2: cpus: 65 is out of range (expected 1 to 64)");
	expect_error("[machine]\ntimeout = -1\n",
		     "/etc/vmm/vm.ini:2: timeout: \"-1\" is not a whole number (expected 0 to 86400)");
}

static void test_err_bad_bool(void **state)
{
	(void)state;
	expect_error("[drive.d]\nfile = a\nreadonly = maybe\n",
		     "/etc/vmm/vm.ini:3: readonly: \"maybe\" is not on or off (yes/no and true/false work too)");
}

static void test_err_serial_too_long(void **state)
{
	(void)state;
	expect_error("[drive.d]\nfile = a\nserial = 123456789012345678901\n",
		     "/etc/vmm/vm.ini:3: serial: serial \"123456789012345678901\" is 21 bytes; "
		     "virtio-blk allows at most 20 (shorten it)");
}

static void test_err_poll(void **state)
{
	(void)state;
	expect_error("[drive.d]\nfile = a\npoll = -1\n",
		     "/etc/vmm/vm.ini:3: poll: \"-1\" is not a whole number (expected 0 to 1000)");
	expect_error("[machine]\npoll = 10\n",
		     "/etc/vmm/vm.ini:2: poll: not a [machine] setting; put it under [drive \"ID\"]");
	expect_error("[drive.d]\nfile = a\nformat = vmdk\n",
		     "/etc/vmm/vm.ini:3: format: \"vmdk\" is not a format vmm takes: it takes raw images only (convert "
		     "one with qemu-img convert -O raw IMAGE DISK.img, and set format to raw or leave it out)");
	expect_error("[drive.d]\nfile = a\nsnapshot = true\n",
		     "/etc/vmm/vm.ini:3: snapshot: \"true\" is not on or off (on: the guest's writes go to a throwaway "
		     "overlay and the image is never written)");
	expect_error("[boot]\nsnapshot = on\n",
		     "/etc/vmm/vm.ini:2: snapshot: not a [boot] setting; put it under [drive \"ID\"]");
}

static void test_err_serial_mode(void **state)
{
	(void)state;
	expect_error("[output]\nserial = tty\n",
		     "/etc/vmm/vm.ini:2: serial: unknown serial mode \"tty\" (expected stdio, none or file:PATH)");
}

static void test_err_empty_value(void **state)
{
	(void)state;
	expect_error("[boot]\nkernel =\n",
		     "/etc/vmm/vm.ini:2: kernel: empty value; give one or remove the line");
}

static void test_err_drive_without_file(void **state)
{
	(void)state;
	expect_error("[drive \"data\"]\ncache = none\n[boot]\nkernel = /k\n",
		     "/etc/vmm/vm.ini:1: [drive \"data\"] has no file; add \"file = PATH\"");
}

/* inih reports no keys for an empty section; the checks must still see it. */
static void test_err_empty_unknown_section(void **state)
{
	(void)state;
	expect_error("[boot]\nkernel = /k\n[machin]\n[output]\nserial = stdio\n",
		     "/etc/vmm/vm.ini:3: unknown section [machin] (expected [machine], [boot], "
		     "[drive \"ID\"], [output] or [security])");
	/* Last in the file, so found at the end rather than at the next header. */
	expect_error("[boot]\nkernel = /k\n\n[netwrok]\n; nothing yet\n",
		     "/etc/vmm/vm.ini:4: unknown section [netwrok] (expected [machine], [boot], "
		     "[drive \"ID\"], [output] or [security])");
}

static void test_err_empty_drive_section(void **state)
{
	(void)state;
	expect_error("[boot]\nkernel = /k\n[drive \"data\"]\n[machine]\ncpus = 1\n",
		     "/etc/vmm/vm.ini:3: [drive \"data\"] has no file; add \"file = PATH\"");
	expect_error("[boot]\nkernel = /k\n[drive.data]\n",
		     "/etc/vmm/vm.ini:3: [drive \"data\"] has no file; add \"file = PATH\"");
}

static void test_err_empty_duplicate_section(void **state)
{
	(void)state;
	/* The empty one second ... */
	expect_error("[machine]\ncpus = 1\n[boot]\nkernel = /k\n[machine]\n",
		     "/etc/vmm/vm.ini:5: duplicate section [machine] (first at line 1); merge them into one");
	/* ... and first: the later keys must not be taken as the empty section's. */
	expect_error("[machine]\n[boot]\nkernel = /k\n[machine]\ncpus = 1\n",
		     "/etc/vmm/vm.ini:4: duplicate section [machine] (first at line 1); merge them into one");
}

/*
 * A UTF-8 byte order mark on the first line is skipped (inih drops it), and
 * the header checks still see the header after it: the same messages as
 * without the mark.
 */
static void test_bom(void **state)
{
	static const char bom[] = "\xef\xbb\xbf";
	static const char *const bad[][2] = {
		{ "[machin]\n[boot]\nkernel = /k\n",
		  "/etc/vmm/vm.ini:1: unknown section [machin] (expected [machine], [boot], [drive \"ID\"], [output] or [security])" },
		{ "[boot] junk\nkernel = /k\n",
		  "/etc/vmm/vm.ini:1: text after the section header [boot]; put it on a line of its own, "
		  "or after ';' as a comment" },
		{ "  []\n", "/etc/vmm/vm.ini:1: empty section name []: write [machine], [boot], [drive \"ID\"], [output] or [security]" },
		{ "[drive \"d\"]\n[boot]\nkernel = /k\n", "/etc/vmm/vm.ini:1: [drive \"d\"] has no file; add \"file = PATH\"" },
	};
	struct vm_config cfg;
	struct vm_config_error err;
	char text[256];

	(void)state;
	snprintf(text, sizeof(text), "%s[machine]\ncpus = 3\n[boot]\nkernel = /k\n", bom);
	assert_int_equal(load(&cfg, text, &err), 0);
	assert_int_equal(cfg.cpus, 3);
	assert_string_equal(cfg.kernel, "/k");
	vm_config_free(&cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_error(bad[i][0], bad[i][1]);
		snprintf(text, sizeof(text), "%s%s", bom, bad[i][0]);
		expect_error(text, bad[i][1]);
	}
}

/* Empty known sections are harmless and stay accepted. */
static void test_empty_known_sections(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;

	(void)state;
	assert_int_equal(load(&cfg, "[machine]\n; defaults\n[output]\n[boot]\nkernel = /k\n", &err), 0);
	assert_string_equal(cfg.kernel, "/k");
	assert_int_equal(cfg.ndrives, 0);
	vm_config_free(&cfg);
}

static void test_err_drive_id(void **state)
{
	(void)state;
	expect_error("[drive \"my disk\"]\nfile = a\n",
		     "/etc/vmm/vm.ini:1: drive id \"my disk\" has a ' ' (use only letters, digits, '_' and '-')");
	expect_error("[drive]\nfile = a\n",
		     "/etc/vmm/vm.ini:1: [drive] needs an id: write [drive \"NAME\"] or [drive.NAME]");
	expect_error("[drive.a]\nfile = a\nid = b\n",
		     "/etc/vmm/vm.ini:3: id: the section name is the drive's id; write [drive \"NAME\"] instead");
}

static void test_err_too_many_drives(void **state)
{
	char text[1024] = "";

	(void)state;
	for (int i = 0; i <= VM_MAX_DRIVES; i++) {
		size_t used = strlen(text);

		snprintf(text + used, sizeof(text) - used, "[drive.d%d]\nfile = f%d\n", i, i);
	}
	expect_error(text, "/etc/vmm/vm.ini:17: too many drives (at most 8)");
}

static void test_err_missing_file(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;

	(void)state;
	vm_config_init(&cfg);
	assert_int_equal(vm_config_load_file(&cfg, "/nonexistent/vm.ini", &err), -ENOENT);
	assert_string_equal(err.msg, "/nonexistent/vm.ini: cannot read: No such file or directory (check the path)");
	assert_int_equal(vm_config_load_file(&cfg, "/", &err), -EISDIR);
	assert_string_equal(err.msg, "/: cannot read: is a directory (give the INI file itself)");
	vm_config_free(&cfg);
}

static void test_err_no_kernel(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;

	(void)state;
	assert_int_equal(load(&cfg, "[machine]\ncpus = 2\n", &err), 0);
	assert_int_equal(vm_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "no kernel in /etc/vmm/vm.ini: add \"kernel = PATH\" under [boot], "
			    "or pass --kernel PATH");
	vm_config_free(&cfg);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/vmm-config-test-XXXXXX";
	struct vm_config cfg;
	struct vm_config_error err;
	const char *text = "[boot]\nkernel = vmlinuz\n[machine]\ncpus = 3\n";
	int fd = mkstemp(path);
	char want[64];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	vm_config_init(&cfg);
	assert_int_equal(vm_config_load_file(&cfg, path, &err), 0);
	assert_string_equal(cfg.kernel, "/tmp/vmlinuz");
	assert_int_equal(cfg.cpus, 3);
	assert_string_equal(cfg.where.cpus.file, path);
	assert_int_equal(cfg.where.cpus.line, 4);
	assert_int_equal(vm_config_origin_format(&cfg.where.cpus, want, sizeof(want)) > 0, 1);
	assert_non_null(strstr(want, ":4"));
	vm_config_free(&cfg);
	unlink(path);
}

/* Every shipped example in config/ parses and validates. */
static void test_shipped_examples(void **state)
{
	static const char *const files[] = { "minimal.ini", "ci-runner.ini", "durable.ini" };

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct vm_config cfg;
		struct vm_config_error err = { "" };
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", CONFIG_EXAMPLES_DIR, files[i]);
		vm_config_init(&cfg);
		if (vm_config_load_file(&cfg, path, &err) < 0 || vm_config_validate(&cfg, &err) < 0)
			fail_msg("%s", err.msg);
		assert_non_null(cfg.kernel);
		assert_non_null(strstr(cfg.kernel, "/build/guest/"));
		vm_config_free(&cfg);
	}
}

/* [security]: sandbox = on|off, user = USER[:GROUP], with the same words as the options. */
static void test_security_section(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;

	(void)state;
	assert_int_equal(load(&cfg, "[security]\nsandbox = off\nuser = nobody:nogroup\n", &err), 0);
	assert_false(cfg.sandbox);
	assert_string_equal(cfg.user, "nobody:nogroup");
	assert_string_equal(cfg.where.user.file, "/etc/vmm/vm.ini");
	assert_int_equal(cfg.where.user.line, 3);
	assert_int_equal(cfg.where.sandbox.line, 2);
	vm_config_free(&cfg);
	expect_error("[security]\nsandbox = maybe\n", "/etc/vmm/vm.ini:2: sandbox: \"maybe\" is neither on nor off "
		     "(the sandbox is on by default; off is for debugging a filter, see docs/security.md)");
	expect_error("[security]\nuser = a b\n", "/etc/vmm/vm.ini:2: user: user \"a b\" has a character other than "
		     "printable ASCII without blanks or ';'");
	expect_error("[security]\nuser = nobody:\n", "/etc/vmm/vm.ini:2: user: \"nobody:\" is not USER or "
		     "USER:GROUP (each a name or a number)");
	expect_error("[security]\ncpus = 2\n", "/etc/vmm/vm.ini:2: cpus: not a [security] setting; put it under "
		     "[machine]");
	expect_error("[security]\nseccomp = on\n", "/etc/vmm/vm.ini:2: unknown key \"seccomp\" in [security] "
		     "(expected sandbox or user)");
	expect_error("[machine]\nuser = nobody\n", "/etc/vmm/vm.ini:2: user: not a [machine] setting; put it under "
		     "[security]");
	expect_error("sandbox = off\n", "/etc/vmm/vm.ini:1: sandbox: setting outside a section; put it under "
		     "[security]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_security_section),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_defaults_kept),
		cmocka_unit_test(test_drive_id_named_like_section),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_bool_spellings),
		cmocka_unit_test(test_later_file_overrides),
		cmocka_unit_test(test_long_cmdline),
		cmocka_unit_test(test_err_syntax),
		cmocka_unit_test(test_err_section_header),
		cmocka_unit_test(test_err_unknown_section),
		cmocka_unit_test(test_err_control_characters),
		cmocka_unit_test(test_err_unknown_key),
		cmocka_unit_test(test_err_key_in_wrong_section),
		cmocka_unit_test(test_err_key_outside_section),
		cmocka_unit_test(test_err_duplicate_key),
		cmocka_unit_test(test_err_duplicate_section),
		cmocka_unit_test(test_err_duplicate_drive_section),
		cmocka_unit_test(test_err_bad_cache),
		cmocka_unit_test(test_err_bad_size),
		cmocka_unit_test(test_err_out_of_range),
		cmocka_unit_test(test_err_bad_bool),
		cmocka_unit_test(test_err_serial_too_long),
		cmocka_unit_test(test_err_poll),
		cmocka_unit_test(test_err_serial_mode),
		cmocka_unit_test(test_err_empty_value),
		cmocka_unit_test(test_err_drive_without_file),
		cmocka_unit_test(test_err_empty_unknown_section),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_err_empty_drive_section),
		cmocka_unit_test(test_err_empty_duplicate_section),
		cmocka_unit_test(test_empty_known_sections),
		cmocka_unit_test(test_err_drive_id),
		cmocka_unit_test(test_err_too_many_drives),
		cmocka_unit_test(test_err_missing_file),
		cmocka_unit_test(test_err_no_kernel),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_shipped_examples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Unit tests of the command line: options, errors, merging over INI files, --print-config and --help. */
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

#define MAX_ARGS 40

/* vm_config_from_args over "vmm" and the NULL-terminated arguments; cfg is initialised here. */
static int run(struct vm_config *cfg, struct vm_config_error *err, ...)
{
	char *argv[MAX_ARGS + 2] = { "vmm" };
	int argc = 1;
	va_list ap;

	va_start(ap, err);
	for (char *a; (a = va_arg(ap, char *)) != NULL && argc <= MAX_ARGS;)
		argv[argc++] = a;
	va_end(ap);
	vm_config_init(cfg);
	memset(err->msg, 0, sizeof(err->msg));
	return vm_config_from_args(cfg, argc, argv, err);
}

#define RUN(cfg, err, ...) run(cfg, err, __VA_ARGS__, (char *)NULL)

/* Expects the command line to be refused with exactly msg. */
#define EXPECT_CLI_ERROR(want, ...)                                         \
	do {                                                                \
		struct vm_config cfg_;                                      \
		struct vm_config_error err_;                                \
		assert_int_equal(RUN(&cfg_, &err_, __VA_ARGS__), -EINVAL);  \
		assert_string_equal(err_.msg, want);                        \
		vm_config_free(&cfg_);                                      \
	} while (0)

#define UNIT_TMPDIR_NAME "vmm-cli-test"
#include "../unit_tmpdir.h"

/* Writes text to tmpdir/name and returns the path (static buffer per call site is enough here). */
static const char *write_ini(const char *name, const char *text, char *path, size_t n)
{
	FILE *f;

	snprintf(path, n, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void test_all_options(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;

	(void)state;
	assert_int_equal(RUN(&cfg, &err, "--kernel", "k", "--initrd=i", "--cmdline", "console=ttyS0 -- true",
			     "--memory", "2G", "--cpus=4", "--timeout", "30",
			     "--drive", "file=a.img,cache=none,readonly=yes,id=root,serial=SN1,poll=0,format=raw",
			     "--drive=file=b.img", "--serial", "file:con.log", "--stats", "s.json",
			     "-v", "--verbose", "--print-config"), 0);
	assert_string_equal(cfg.kernel, "k");
	assert_string_equal(cfg.initrd, "i");
	assert_string_equal(cfg.cmdline, "console=ttyS0 -- true");
	assert_int_equal(cfg.memory, 2ull << 30);
	assert_int_equal(cfg.cpus, 4);
	assert_int_equal(cfg.timeout, 30);
	assert_int_equal(cfg.ndrives, 2);
	assert_string_equal(cfg.drives[0].id, "root");
	assert_string_equal(cfg.drives[0].file, "a.img");
	assert_int_equal(cfg.drives[0].cache, BLK_CACHE_NONE);
	assert_true(cfg.drives[0].readonly);
	assert_string_equal(cfg.drives[0].serial, "SN1");
	assert_int_equal(cfg.drives[0].poll_us, 0);
	assert_true(cfg.drives[0].format_raw);
	assert_null(cfg.drives[0].origin.file);
	/* No id=: drive<index>. */
	assert_string_equal(cfg.drives[1].id, "drive1");
	assert_int_equal(cfg.drives[1].cache, BLK_CACHE_WRITEBACK);
	assert_false(cfg.drives[1].readonly);
	assert_int_equal(cfg.drives[1].poll_us, VM_DRIVE_POLL_US_DEFAULT);
	assert_false(cfg.drives[1].format_raw);
	assert_int_equal(cfg.serial, VM_SERIAL_FILE);
	assert_string_equal(cfg.serial_path, "con.log");
	assert_string_equal(cfg.stats_path, "s.json");
	assert_int_equal(cfg.verbose, 2);
	assert_true(cfg.print_config);
	assert_false(cfg.help);
	vm_config_free(&cfg);
}

static void test_defaults(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;

	(void)state;
	assert_int_equal(RUN(&cfg, &err, "--kernel", "k"), 0);
	assert_int_equal(cfg.memory, VM_DEFAULT_MEMORY);
	assert_int_equal(cfg.cpus, 1);
	assert_int_equal(cfg.timeout, 0);
	assert_null(cfg.cmdline);
	assert_int_equal(cfg.serial, VM_SERIAL_STDIO);
	assert_int_equal(cfg.ndrives, 0);
	vm_config_free(&cfg);
}

static void test_help_version_skip_checks(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;

	(void)state;
	/* No kernel and a missing --config: --help still works. */
	assert_int_equal(RUN(&cfg, &err, "--config", "/nonexistent.ini", "--help"), 0);
	assert_true(cfg.help);
	vm_config_free(&cfg);
	assert_int_equal(RUN(&cfg, &err, "--version"), 0);
	assert_true(cfg.version);
	vm_config_free(&cfg);
	assert_int_equal(RUN(&cfg, &err, "-h"), 0);
	assert_true(cfg.help);
	vm_config_free(&cfg);
}

static void test_auto_ids_skip_used(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;

	(void)state;
	assert_int_equal(RUN(&cfg, &err, "--kernel", "k", "--drive", "file=a", "--drive", "file=b,id=drive0"), 0);
	assert_string_equal(cfg.drives[0].id, "drive1");
	assert_string_equal(cfg.drives[1].id, "drive0");
	vm_config_free(&cfg);
}

/* ---- command-line errors, exact messages ---- */

static void test_err_unknown_option(void **state)
{
	(void)state;
	EXPECT_CLI_ERROR("unknown option \"--kernal\"; see vmm --help for the options", "--kernal=k");
	EXPECT_CLI_ERROR("unknown option \"-x\"; see vmm --help for the options", "--kernel", "k", "-x");
	EXPECT_CLI_ERROR("ambiguous option \"--c\" (could be --cmdline, --cpus, --config); spell it out",
			 "--c", "1");
	EXPECT_CLI_ERROR("unexpected argument \"vmlinux\": options look like --kernel PATH (see vmm --help)",
			 "vmlinux");
}

static void test_err_missing_argument(void **state)
{
	(void)state;
	EXPECT_CLI_ERROR("--memory needs a value, e.g. --memory SIZE (e.g. 512M or 2G)", "--kernel", "k",
			 "--memory");
	EXPECT_CLI_ERROR("--print-config does not take a value; see vmm --help", "--print-config=yes");
	/* A forgotten value: getopt takes the next option as it. */
	EXPECT_CLI_ERROR("--initrd took \"--kernel\" as its value; give --initrd a PATH", "--initrd", "--kernel",
			 "k.elf");
	EXPECT_CLI_ERROR("--stats took \"--serial=none\" as its value; give --stats a FILE", "--kernel", "k",
			 "--stats", "--serial=none");
	EXPECT_CLI_ERROR("--config took \"--drive\" as its value; give --config a FILE", "--config", "--drive",
			 "file=a");
}

static void test_config_file_errors(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;

	(void)state;
	EXPECT_CLI_ERROR("--config: empty path (give an INI file, e.g. --config vm.ini)", "--config", "");
	assert_int_equal(RUN(&cfg, &err, "--kernel", "k", "--config", "/nonexistent/vm.ini"), -ENOENT);
	assert_string_equal(err.msg, "--config /nonexistent/vm.ini: No such file or directory (check the path)");
	vm_config_free(&cfg);
	assert_int_equal(RUN(&cfg, &err, "--kernel", "k", "--config", "/"), -EISDIR);
	assert_string_equal(err.msg, "--config /: is a directory (give the INI file itself)");
	vm_config_free(&cfg);
}

static void test_err_bad_drive(void **state)
{
	(void)state;
	EXPECT_CLI_ERROR("--drive file=x,cache=unsafee: unknown cache mode \"unsafee\" (expected writeback, "
			 "none, writethrough, directsync or unsafe)",
			 "--kernel", "k", "--drive", "file=x,cache=unsafee");
	EXPECT_CLI_ERROR("--drive file=x,size=1G: unknown key \"size\" (expected file, cache, readonly, id, "
			 "serial, poll, format or snapshot)", "--kernel", "k", "--drive", "file=x,size=1G");
	EXPECT_CLI_ERROR("--drive file=x,format=qcow2: \"qcow2\" is not a format vmm takes: it takes raw images only "
			 "(convert one with qemu-img convert -O raw IMAGE DISK.img, and set format to raw or leave it "
			 "out)", "--kernel", "k", "--drive", "file=x,format=qcow2");
	EXPECT_CLI_ERROR("--drive file=x,poll=1001: 1001 is out of range (expected 0 to 1000)",
			 "--kernel", "k", "--drive", "file=x,poll=1001");
	EXPECT_CLI_ERROR("--drive file=x,poll=64us: \"64us\" is not a whole number (expected 0 to 1000)",
			 "--kernel", "k", "--drive", "file=x,poll=64us");
	EXPECT_CLI_ERROR("--drive disk.img: \"disk.img\" is not key=value (did you mean file=disk.img?)",
			 "--kernel", "k", "--drive", "disk.img");
	EXPECT_CLI_ERROR("--drive cache=none: file= is missing (e.g. --drive file=disk.img,cache=none)",
			 "--kernel", "k", "--drive", "cache=none");
	EXPECT_CLI_ERROR("--drive file=a,file=b: file= given twice; keep one",
			 "--kernel", "k", "--drive", "file=a,file=b");
	EXPECT_CLI_ERROR("--drive file=a,readonly=1: \"1\" is not on or off (yes/no and true/false work too)",
			 "--kernel", "k", "--drive", "file=a,readonly=1");
	EXPECT_CLI_ERROR("--drive file=a,id=a.b: drive id \"a.b\" has a '.' (use only letters, digits, '_' "
			 "and '-')", "--kernel", "k", "--drive", "file=a,id=a.b");
	/* Not one byte of the 'é', which is no character on its own. */
	EXPECT_CLI_ERROR("--drive file=a,id=d\xc3\xa9: drive id \"d\xc3\xa9\" has a character that is not ASCII "
			 "(use only letters, digits, '_' and '-')", "--kernel", "k", "--drive", "file=a,id=d\xc3\xa9");
	EXPECT_CLI_ERROR("--drive file=a,serial=123456789012345678901: serial \"123456789012345678901\" is "
			 "21 bytes; virtio-blk allows at most 20 (shorten it)",
			 "--kernel", "k", "--drive", "file=a,serial=123456789012345678901");
	EXPECT_CLI_ERROR("--drive file=a,id=abcdefghijklmnopqrstuvwxyz0123456: drive id "
			 "\"abcdefghijklmnopqrstuvwxyz0123456\" is longer than 32 characters (shorten it)",
			 "--kernel", "k", "--drive", "file=a,id=abcdefghijklmnopqrstuvwxyz0123456");
	EXPECT_CLI_ERROR("--drive file=b,id=x: id \"x\" is already used by an earlier --drive; give each "
			 "drive its own id", "--kernel", "k", "--drive", "file=a,id=x", "--drive", "file=b,id=x");
}

static void test_err_too_many_drives(void **state)
{
	(void)state;
	EXPECT_CLI_ERROR("--drive file=9: too many drives (at most 8)", "--kernel", "k",
			 "--drive", "file=1", "--drive", "file=2", "--drive", "file=3", "--drive", "file=4",
			 "--drive", "file=5", "--drive", "file=6", "--drive", "file=7", "--drive", "file=8",
			 "--drive", "file=9");
}

static void test_err_bad_values(void **state)
{
	(void)state;
	EXPECT_CLI_ERROR("--memory 12X: bad size \"12X\" (expected a number with an optional K, M, G or T "
			 "suffix, e.g. 512M or 2G; a bare number is MiB)", "--kernel", "k", "--memory", "12X");
	EXPECT_CLI_ERROR("--memory 2T: 2T is out of range (expected 64M to 1T)",
			 "--kernel", "k", "--memory", "2T");
	EXPECT_CLI_ERROR("--memory 65537K: 65537K is not a whole number of MiB (e.g. use 65M)",
			 "--kernel", "k", "--memory", "65537K");
	EXPECT_CLI_ERROR("--cpus 0: 0 is out of range (expected 1 to 64)", "--kernel", "k", "--cpus", "0");
	EXPECT_CLI_ERROR("--timeout 1h: \"1h\" is not a whole number (expected 0 to 86400)",
			 "--kernel", "k", "--timeout", "1h");
	EXPECT_CLI_ERROR("--serial tty: unknown serial mode \"tty\" (expected stdio, none or file:PATH)",
			 "--kernel", "k", "--serial", "tty");
	EXPECT_CLI_ERROR("--kernel: empty path (give --kernel PATH, or leave --kernel out)", "--kernel", "");
	EXPECT_CLI_ERROR("--stats: empty path (give --stats PATH, or leave --stats out)", "--kernel", "k", "--stats", "");
	EXPECT_CLI_ERROR("--drive: empty value (e.g. --drive file=disk.img)", "--kernel", "k", "--drive", "");
	EXPECT_CLI_ERROR("--drive file=: file= is empty (give the image, e.g. file=disk.img)", "--kernel", "k",
			 "--drive", "file=");
	EXPECT_CLI_ERROR("--drive file=a,id=: id= is empty (give a value or leave id= out)", "--kernel", "k",
			 "--drive", "file=a,id=");
	EXPECT_CLI_ERROR("no kernel given: pass --kernel PATH (see vmm --help)", "--cpus", "2");
}

/* A value quoted in a message keeps the message one line: control characters are escaped. */
static void test_err_control_characters(void **state)
{
	(void)state;
	EXPECT_CLI_ERROR("--memory 1\\n2G: bad size \"1\\n2G\" (expected a number with an optional K, M, G "
			 "or T suffix, e.g. 512M or 2G; a bare number is MiB)", "--kernel", "k", "--memory", "1\n2G");
	EXPECT_CLI_ERROR("unexpected argument \"\\x1d\\t\\r\\x7f\": options look like --kernel PATH (see vmm --help)",
			 "--kernel", "k", "\x1d\t\r\x7f");
	EXPECT_CLI_ERROR("--drive file=a,\\x1b[2J: \"\\x1b[2J\" is not key=value (keys: file, cache, readonly, id, "
			 "serial, poll, format, snapshot)", "--kernel", "k", "--drive", "file=a,\x1b[2J");
}

/*
 * A message too long for the buffer loses its middle: it still starts with what is wrong and
 * ends with the fix, and never cuts an escape in half.
 */
static void test_err_long_value_keeps_fix(void **state)
{
	static const char fix[] = "\": options look like --kernel PATH (see vmm --help)";
	struct vm_config cfg;
	struct vm_config_error err;
	char arg[600];
	size_t len;

	(void)state;
	memset(arg, '\n', sizeof(arg) - 1);
	arg[sizeof(arg) - 1] = '\0';
	assert_int_equal(RUN(&cfg, &err, "--kernel", "k", arg), -EINVAL);
	len = strlen(err.msg);
	assert_true(len < sizeof(err.msg) - 1);
	assert_null(strchr(err.msg, '\n'));
	assert_memory_equal(err.msg, "unexpected argument \"\\n\\n", 24);
	assert_non_null(strstr(err.msg, "\\n ... \\n"));
	assert_string_equal(err.msg + len - strlen(fix), fix);
	vm_config_free(&cfg);
	/* "--cpus V: V is out of range": the V in the phrase is cut to 64 bytes and "...". */
	memset(arg, '7', sizeof(arg) - 1);
	assert_int_equal(RUN(&cfg, &err, "--kernel", "k", "--cpus", arg), -EINVAL);
	len = strlen(err.msg);
	assert_true(len < sizeof(err.msg) - 1);
	assert_memory_equal(err.msg, "--cpus 7777", 11);
	assert_non_null(strstr(err.msg, "7 ... 7"));
	assert_string_equal(err.msg + len - 104, ": 7777777777777777777777777777777777777777777777777777777777777777... "
			    "is out of range (expected 1 to 64)");
	vm_config_free(&cfg);
}

/* ---- merging over --config files ---- */

static void test_merge_override(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;
	char path[128], want[160];

	(void)state;
	write_ini("base.ini", "[machine]\nmemory = 1G\ncpus = 2\ntimeout = 60\n[boot]\nkernel = vmlinux\n"
		  "cmdline = console=ttyS0\n", path, sizeof(path));
	assert_int_equal(RUN(&cfg, &err, "--cpus", "8", "--config", path, "--kernel", "/other/bzImage"), 0);
	/* The command line wins wherever it appears in argv; the rest comes from the file. */
	assert_int_equal(cfg.cpus, 8);
	assert_null(cfg.where.cpus.file);
	assert_string_equal(cfg.kernel, "/other/bzImage");
	assert_int_equal(cfg.memory, 1ull << 30);
	assert_int_equal(cfg.timeout, 60);
	assert_string_equal(cfg.where.timeout.file, path);
	assert_int_equal(cfg.where.timeout.line, 4);
	vm_config_free(&cfg);

	assert_int_equal(RUN(&cfg, &err, "--config", path), 0);
	snprintf(want, sizeof(want), "%s/vmlinux", tmpdir);
	assert_string_equal(cfg.kernel, want);
	vm_config_free(&cfg);
}

static void test_merge_drives(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;
	char path[128], want[160];

	(void)state;
	write_ini("drives.ini", "[boot]\nkernel = /k\n[drive \"root\"]\nfile = root.img\nreadonly = on\n"
		  "serial = ROOT\n[drive.scratch]\nfile = scratch.img\ncache = unsafe\n", path, sizeof(path));
	assert_int_equal(RUN(&cfg, &err, "--drive", "file=extra.img", "--config", path,
			     "--drive", "file=new-root.img,id=root,cache=directsync"), 0);
	assert_int_equal(cfg.ndrives, 3);
	/* Replaced in place (keeps its position, so its guest name) and whole: no readonly, no serial. */
	assert_string_equal(cfg.drives[0].id, "root");
	assert_string_equal(cfg.drives[0].file, "new-root.img");
	assert_int_equal(cfg.drives[0].cache, BLK_CACHE_DIRECTSYNC);
	assert_false(cfg.drives[0].readonly);
	assert_null(cfg.drives[0].serial);
	assert_null(cfg.drives[0].origin.file);
	/* The file's other drive is untouched. */
	assert_string_equal(cfg.drives[1].id, "scratch");
	snprintf(want, sizeof(want), "%s/scratch.img", tmpdir);
	assert_string_equal(cfg.drives[1].file, want);
	assert_int_equal(cfg.drives[1].cache, BLK_CACHE_UNSAFE);
	/* --drive without a matching id is appended after the file's. */
	assert_string_equal(cfg.drives[2].file, "extra.img");
	assert_string_equal(cfg.drives[2].id, "drive2");
	vm_config_free(&cfg);
}

static void test_merge_errors(void **state)
{
	char path[128], msg[400];

	(void)state;
	write_ini("bad.ini", "[boot]\nkernel = /k\n[drive.d]\nfile = d.img\ncache = unsafee\n",
		  path, sizeof(path));
	snprintf(msg, sizeof(msg), "%s:5: cache: unknown cache mode \"unsafee\" (expected writeback, none, "
		 "writethrough, directsync or unsafe)", path);
	EXPECT_CLI_ERROR(msg, "--config", path);
	{
		struct vm_config cfg;
		struct vm_config_error err;

		assert_int_equal(RUN(&cfg, &err, "--kernel", "k", "--config", "/nonexistent/vm.ini"), -ENOENT);
		assert_string_equal(err.msg, "--config /nonexistent/vm.ini: No such file or directory (check the path)");
		vm_config_free(&cfg);
	}
}

/* ---- --print-config ---- */

static void assert_same_vm(const struct vm_config *a, const struct vm_config *b)
{
	assert_string_equal(a->kernel, b->kernel);
	if (a->initrd || b->initrd)
		assert_string_equal(a->initrd, b->initrd);
	if (a->cmdline || b->cmdline)
		assert_string_equal(a->cmdline, b->cmdline);
	assert_int_equal(a->memory, b->memory);
	assert_int_equal(a->cpus, b->cpus);
	assert_int_equal(a->timeout, b->timeout);
	assert_int_equal(a->serial, b->serial);
	assert_int_equal(a->sandbox, b->sandbox);
	if (a->user || b->user)
		assert_string_equal(a->user, b->user);
	if (a->serial_path || b->serial_path)
		assert_string_equal(a->serial_path, b->serial_path);
	if (a->stats_path || b->stats_path)
		assert_string_equal(a->stats_path, b->stats_path);
	assert_int_equal(a->ndrives, b->ndrives);
	for (unsigned int i = 0; i < a->ndrives; i++) {
		assert_string_equal(a->drives[i].id, b->drives[i].id);
		assert_string_equal(a->drives[i].file, b->drives[i].file);
		assert_int_equal(a->drives[i].cache, b->drives[i].cache);
		assert_int_equal(a->drives[i].readonly, b->drives[i].readonly);
		assert_int_equal(a->drives[i].poll_us, b->drives[i].poll_us);
		assert_int_equal(a->drives[i].format_raw, b->drives[i].format_raw);
		assert_int_equal(a->drives[i].snapshot, b->drives[i].snapshot);
		if (a->drives[i].serial || b->drives[i].serial)
			assert_string_equal(a->drives[i].serial, b->drives[i].serial);
	}
}

static char *print_to_string(const struct vm_config *cfg, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*ret = vm_config_print(cfg, f);
	fclose(f);
	return buf;
}

static void test_print_round_trip(void **state)
{
	struct vm_config cfg, back;
	struct vm_config_error err;
	char path[128], cwd[PATH_MAX], want[PATH_MAX + 32];
	char *text, *again;
	int ret;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	write_ini("rt.ini", "[machine]\nmemory = 1536M\n[boot]\nkernel = vmlinux\ninitrd = initrd.img\n"
		  "[drive \"base\"]\nfile = base.img\nreadonly = on\nserial = BASE-1\npoll = 200\n"
		  "[output]\nserial = none\n",
		  path, sizeof(path));
	assert_int_equal(RUN(&cfg, &err, "--config", path, "--cpus", "3", "--timeout", "600",
			     "--cmdline", "console=ttyS0 quiet -- echo a;echo b",
			     "--drive", "file=rel/scratch.img,cache=unsafe,format=raw", "--stats", "stats.json",
			     "--sandbox", "off", "--user", "nobody", "--print-config"), 0);

	text = print_to_string(&cfg, &ret);
	assert_int_equal(ret, 0);
	/* The user as given, by name: numbers differ from host to host. */
	assert_non_null(strstr(text, "\n[security]\nsandbox = off\nuser = nobody\n"));
	assert_non_null(strstr(text, "memory = 1536M\n"));
	assert_non_null(strstr(text, "\nformat = raw\n"));
	assert_null(strstr(strstr(text, "\nformat = raw\n") + 1, "\nformat = raw\n"));   /* only the drive that has it */
	assert_non_null(strstr(text, "poll = 200\n"));
	assert_non_null(strstr(text, "poll = 64\n"));
	vm_config_init(&back);
	ret = vm_config_load_string(&back, text, "/printed.ini", &err);
	if (ret < 0)
		fail_msg("%s\n%s", err.msg, text);
	assert_int_equal(vm_config_validate(&back, &err), 0);

	/* Command-line paths come back absolute; everything else as it was. */
	snprintf(want, sizeof(want), "%s/rel/scratch.img", cwd);
	assert_string_equal(back.drives[1].file, want);
	snprintf(want, sizeof(want), "%s/stats.json", cwd);
	assert_string_equal(back.stats_path, want);
	free(cfg.drives[1].file);
	cfg.drives[1].file = strdup(back.drives[1].file);
	free(cfg.stats_path);
	cfg.stats_path = strdup(back.stats_path);
	assert_same_vm(&cfg, &back);

	/* Printing what was read back gives the same text. */
	again = print_to_string(&back, &ret);
	assert_int_equal(ret, 0);
	assert_string_equal(text, again);
	free(text);
	free(again);
	vm_config_free(&back);
	vm_config_free(&cfg);
}

static void test_print_unrepresentable(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;
	char *text;
	int ret;

	(void)state;
	/* inih would take " ; echo b" as a comment, so the text would not read back the same. */
	assert_int_equal(RUN(&cfg, &err, "--kernel", "/k", "--cmdline", "-- echo a ; echo b"), 0);
	text = print_to_string(&cfg, &ret);
	assert_int_equal(ret, -EINVAL);
	/* Checked before the first line: no half a file. */
	assert_string_equal(text, "");
	free(text);
	assert_int_equal(vm_config_printable(&cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "--print-config: the cmdline \"-- echo a ; echo b\" cannot be written as an "
			    "INI value (blanks at either end, a line break, or ';' first or after a blank, which starts a "
			    "comment); give it with --cmdline instead of a config file");
	vm_config_free(&cfg);
	/* A path is checked the same way (it used to fail after [machine] and [boot] were written). */
	assert_int_equal(RUN(&cfg, &err, "--kernel", "/k", "--drive", "file=/d/sp ;x"), 0);
	text = print_to_string(&cfg, &ret);
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(text, "");
	free(text);
	assert_int_equal(vm_config_printable(&cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "drive file \"/d/sp ;x\""));
	vm_config_free(&cfg);
	/* A line --config would refuse as too long. */
	{
		static char long_cmdline[5001];

		memset(long_cmdline, 'x', sizeof(long_cmdline) - 1);
		assert_int_equal(RUN(&cfg, &err, "--kernel", "/k", "--cmdline", long_cmdline), 0);
		text = print_to_string(&cfg, &ret);
		assert_int_equal(ret, -EINVAL);
		assert_string_equal(text, "");
		free(text);
		assert_int_equal(vm_config_printable(&cfg, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "x...\" is 5000 bytes, too long for an INI line (at most "));
		assert_non_null(strstr(err.msg, " after \"cmdline = \"); give it with --cmdline instead of a "
					     "config file"));
		vm_config_free(&cfg);
	}
	/* "cmdline = ;x" is a comment too: the ';' follows the blank after '='. */
	assert_int_equal(RUN(&cfg, &err, "--kernel", "/k", "--cmdline", ";x"), 0);
	text = print_to_string(&cfg, &ret);
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(text, "");
	free(text);
	assert_int_equal(vm_config_printable(&cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "the cmdline \";x\" cannot be written"));
	vm_config_free(&cfg);
	assert_int_equal(RUN(&cfg, &err, "--kernel", "/k", "--cmdline", "console=ttyS0"), 0);
	assert_int_equal(vm_config_printable(&cfg, &err), 0);
	vm_config_free(&cfg);
}

/* ---- snapshot drives ---- */

/* snapshot=on|off per drive; --snapshot turns it on where a drive says nothing and is not read-only. */
static void test_snapshot(void **state)
{
	struct vm_config cfg, back;
	struct vm_config_error err;
	char path[128];
	char *text;
	int ret;

	(void)state;
	assert_int_equal(RUN(&cfg, &err, "--kernel", "k", "--drive", "file=a.img,snapshot=on",
			     "--drive", "file=b.img,snapshot=off", "--drive", "file=c.img"), 0);
	assert_int_equal(cfg.drives[0].snapshot, VM_SNAPSHOT_ON);
	assert_int_equal(cfg.drives[1].snapshot, VM_SNAPSHOT_OFF);
	assert_int_equal(cfg.drives[2].snapshot, VM_SNAPSHOT_UNSET);
	vm_config_free(&cfg);

	write_ini("snap.ini", "[drive \"ro\"]\nfile = ro.img\nreadonly = on\n[drive \"off\"]\nfile = off.img\n"
		  "snapshot = off\n[drive \"on\"]\nfile = on.img\nsnapshot = on\n", path, sizeof(path));
	assert_int_equal(RUN(&cfg, &err, "--kernel", "/k", "--config", path, "--snapshot", "--drive", "file=/d.img"), 0);
	assert_int_equal(cfg.drives[0].snapshot, VM_SNAPSHOT_UNSET);   /* read-only: left as it is */
	assert_true(cfg.drives[0].readonly);
	assert_int_equal(cfg.drives[1].snapshot, VM_SNAPSHOT_OFF);     /* said off: off */
	assert_int_equal(cfg.drives[2].snapshot, VM_SNAPSHOT_ON);
	assert_int_equal(cfg.drives[3].snapshot, VM_SNAPSHOT_ON);      /* said nothing: on */

	/* Printed per drive, so the INI alone gives the same VM. */
	text = print_to_string(&cfg, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(text, "[drive \"drive3\"]\n"));
	assert_non_null(strstr(strstr(text, "[drive \"drive3\"]\n"), "snapshot = on\n"));
	assert_non_null(strstr(text, "snapshot = off\n"));
	write_ini("snap-rt.ini", text, path, sizeof(path));
	assert_int_equal(RUN(&back, &err, "--config", path), 0);
	assert_same_vm(&cfg, &back);
	free(text);
	vm_config_free(&back);
	vm_config_free(&cfg);
}

static void test_snapshot_errors(void **state)
{
	char path[128], want[256];

	(void)state;
	EXPECT_CLI_ERROR("--drive file=a.img,snapshot=yes: \"yes\" is not on or off (on: the guest's "
			 "writes go to a throwaway overlay and the image is never written)",
			 "--kernel", "k", "--drive", "file=a.img,snapshot=yes");
	EXPECT_CLI_ERROR("--drive file=a.img,snapshot=: snapshot= is empty (give a value or leave snapshot= out)",
			 "--kernel", "k", "--drive", "file=a.img,snapshot=");
	EXPECT_CLI_ERROR("--drive id=drive0: snapshot and readonly are both on: a read-only drive has no writes "
			 "to throw away (turn one of them off)",
			 "--kernel", "k", "--drive", "file=a.img,snapshot=on,readonly=on");
	EXPECT_CLI_ERROR("--snapshot does not take a value; see vmm --help", "--kernel", "k", "--snapshot=on");
	write_ini("snap-bad.ini", "[boot]\nkernel = k\n[drive \"x\"]\nfile = x.img\nreadonly = on\nsnapshot = on\n",
		  path, sizeof(path));
	snprintf(want, sizeof(want), "%s:3: [drive \"x\"]: snapshot and readonly are both on: a read-only drive "
		 "has no writes to throw away (turn one of them off)", path);
	EXPECT_CLI_ERROR(want, "--config", path);
	/* --snapshot does not make an explicit read-only drive an error. */
	{
		struct vm_config cfg;
		struct vm_config_error err;

		assert_int_equal(RUN(&cfg, &err, "--kernel", "k", "--snapshot", "--drive", "file=a.img,readonly=on"), 0);
		assert_int_equal(cfg.drives[0].snapshot, VM_SNAPSHOT_UNSET);
		vm_config_free(&cfg);
	}
}

static void test_usage(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	vm_config_usage(f);
	fclose(f);
	assert_non_null(strstr(buf, "--kernel PATH"));
	assert_non_null(strstr(buf, "reboot=k panic=-1"));
	assert_non_null(strstr(buf, "0x501"));
	assert_non_null(strstr(buf, "  124  --timeout expired"));
	assert_non_null(strstr(buf, "  125  KVM internal error"));
	assert_non_null(strstr(buf, "130  stopped by SIGINT, 143 by SIGTERM"));
	assert_non_null(strstr(buf, "  --sandbox on|off "));
	assert_non_null(strstr(buf, "  --user USER[:GROUP] "));
	assert_non_null(strstr(buf, "  159  the sandbox stopped vmm"));
	free(buf);
}

/* --sandbox on|off and --user USER[:GROUP]: parsed, checked, and --user looked up for whoever runs the test. */
static void test_security_options(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;
	char want[300];

	(void)state;
	assert_int_equal(RUN(&cfg, &err, "--kernel", "k"), 0);
	assert_true(cfg.sandbox);
	assert_null(cfg.user);
	vm_config_free(&cfg);
	assert_int_equal(RUN(&cfg, &err, "--kernel", "k", "--sandbox=off", "--sandbox", "on"), 0);
	assert_true(cfg.sandbox);
	vm_config_free(&cfg);
	assert_int_equal(RUN(&cfg, &err, "--kernel", "k", "--sandbox", "off"), 0);
	assert_false(cfg.sandbox);
	vm_config_free(&cfg);

	EXPECT_CLI_ERROR("--sandbox maybe: \"maybe\" is neither on nor off (the sandbox is on by default; off is for "
			 "debugging a filter, see docs/security.md)", "--kernel", "k", "--sandbox", "maybe");
	EXPECT_CLI_ERROR("--sandbox yes: \"yes\" is neither on nor off (the sandbox is on by default; off is for "
			 "debugging a filter, see docs/security.md)", "--kernel", "k", "--sandbox=yes");
	EXPECT_CLI_ERROR("--sandbox needs a value, e.g. --sandbox on|off", "--kernel", "k", "--sandbox");
	EXPECT_CLI_ERROR("--user : user is empty (give USER or USER:GROUP, by name or number)", "--kernel", "k",
			 "--user", "");
	EXPECT_CLI_ERROR("--user a:b:c: \"a:b:c\" is not USER or USER:GROUP (each a name or a number)", "--kernel", "k",
			 "--user", "a:b:c");
	EXPECT_CLI_ERROR("--user took \"--kernel\" as its value; give --user a USER[:GROUP]", "--user", "--kernel",
			 "k");
	/* --print-config looks names up whoever runs it (its file may be run by root later). */
	EXPECT_CLI_ERROR("--user vmm-no-such-user-x: no user \"vmm-no-such-user-x\" on this host (give an existing "
			 "user's name or a uid)", "--kernel", "k", "--user", "vmm-no-such-user-x", "--print-config");
	assert_int_equal(RUN(&cfg, &err, "--kernel", "k", "--user", "nobody", "--print-config"), 0);
	assert_string_equal(cfg.user, "nobody");
	vm_config_free(&cfg);
	/* To run, only root may switch. */
	if (geteuid() == 0) {
		assert_int_equal(RUN(&cfg, &err, "--kernel", "k", "--user", "nobody"), 0);
		assert_true(cfg.user_uid != 0 && cfg.user_gid != 0);
		vm_config_free(&cfg);
	} else {
		snprintf(want, sizeof(want), "--user nobody: switching to another user needs root, and vmm runs as uid %u "
			 "(start vmm as root, or leave --user out; docs/security.md shows how to run vmm without root)",
			 (unsigned int)geteuid());
		EXPECT_CLI_ERROR(want, "--kernel", "k", "--user", "nobody");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_help_version_skip_checks),
		cmocka_unit_test(test_auto_ids_skip_used),
		cmocka_unit_test(test_err_unknown_option),
		cmocka_unit_test(test_err_missing_argument),
		cmocka_unit_test(test_config_file_errors),
		cmocka_unit_test(test_err_bad_drive),
		cmocka_unit_test(test_err_too_many_drives),
		cmocka_unit_test(test_err_bad_values),
		cmocka_unit_test(test_err_control_characters),
		cmocka_unit_test(test_err_long_value_keeps_fix),
		cmocka_unit_test(test_merge_override),
		cmocka_unit_test(test_merge_drives),
		cmocka_unit_test(test_merge_errors),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_print_unrepresentable),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_snapshot_errors),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_security_options),
	};

	return cmocka_run_group_tests(tests, tmpdir_make, tmpdir_remove);
}

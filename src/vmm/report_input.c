/* SPDX-License-Identifier: MIT */
/* main's voice on the user's files: inputs that cannot be read, outputs that would overwrite them, drive images refused. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outputs.h"
#include "report.h"

/*
 * A readable, non-empty regular file, or one line saying what is wrong with
 * it. Anything else is refused before it is opened: a FIFO would block the
 * open, and a pipe or /dev/zero has no size to load.
 */
static int check_input_file(const struct vm_config_origin *o, const char *key, const char *path,
			    const char *empty_fix)
{
	char name[PATH_MAX + 64];
	struct stat st;

	report_setting(name, sizeof(name), o, key, "", path);
	if (stat(path, &st) < 0) {
		report_line("%s: %s (check the path%s)", name, strerror(errno), report_quote_hint(o, path));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		report_line("%s: is a directory (give the file itself)", name);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		report_line("%s: is not a regular file (give the file itself, not a pipe or device)", name);
		return -1;
	}
	if (st.st_size == 0) {
		report_line("%s: is empty (%s)", name, empty_fix);
		return -1;
	}
	if (access(path, R_OK) < 0) {
		report_line("%s: %s (make it readable)", name, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * An output path vmm will write (--stats, --serial file:), checked before
 * anything runs: not a directory, writable if it exists, and a writable
 * directory to create it in. --stats is written to a temporary name and
 * renamed over the target, so its directory must be writable and an
 * existing target must be a regular file (rename would replace a device
 * node). A console file may be a device (/dev/null) or a FIFO.
 */
static int check_output(const struct vm_config_origin *o, const char *key, const char *prefix,
			const char *path, bool replaced)
{
	char name[PATH_MAX + 64], buf[PATH_MAX];
	size_t len = strlen(path);
	const char *dir;
	struct stat st;
	bool exists;

	report_setting(name, sizeof(name), o, key, prefix, path);
	exists = stat(path, &st) == 0;
	if ((exists && S_ISDIR(st.st_mode)) || (len && path[len - 1] == '/')) {
		report_line("%s: is a directory (give a file name, e.g. %s%s%s)", name, path,
			 len && path[len - 1] == '/' ? "" : "/", replaced ? "stats.json" : "console.log");
		return -1;
	}
	if (exists && replaced && !S_ISREG(st.st_mode)) {
		report_line("%s: is not a regular file, and %s replaces its target (give a file path)",
			 name, o->file ? key : "--stats");
		return -1;
	}
	if (exists && access(path, W_OK) < 0) {
		report_line("%s: %s (make it writable or choose another path)", name, strerror(errno));
		return -1;
	}
	if (exists && !replaced)
		return 0;
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		report_line("%s: path too long", name);
		return -1;
	}
	dir = dirname(buf);
	if (access(dir, W_OK) < 0) {
		if (errno == ENOENT)
			report_line("%s: directory %s does not exist (create it or choose another path)", name, dir);
		else
			report_line("%s: directory %s is not writable: %s (choose another path)",
				 name, dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* The line for an output that would overwrite another file. -1. */
static int check_outputs_distinct(const struct vm_config *cfg)
{
	struct output_clash c;
	char name[PATH_MAX + 64];

	if (!outputs_clash_find(cfg, &c))
		return 0;
	report_setting(name, sizeof(name), c.out.o, c.out.key, c.out.prefix, c.out.path);
	report_line("%s: is the same file as %s, which it would overwrite (choose another path for %s)", name, c.other,
		    c.out.o->file ? c.out.key : c.out.flag);
	return -1;
}

/*
 * --kernel-cache DIR: a directory, or a path to make one at. A path through
 * or to something else is the user's mistake; one vmm may not write is not
 * (the kernel then boots as given, and -v says why).
 */
static int check_kernel_cache(const struct vm_config *cfg)
{
	char name[PATH_MAX + 64];
	struct stat st;

	if (!cfg->kernel_cache)
		return 0;
	report_setting(name, sizeof(name), &cfg->where.kernel_cache, "kernel-cache", "", cfg->kernel_cache);
	if (stat(cfg->kernel_cache, &st) == 0 ? S_ISDIR(st.st_mode) : errno != ENOTDIR)
		return 0;
	report_line("%s: is not a directory (give a directory for the kernel cache, or off)", name);
	return -1;
}

int report_inputs_check(const struct vm_config *cfg)
{
	if (check_input_file(&cfg->where.kernel, "kernel", cfg->kernel,
			     "give the kernel image, e.g. /boot/vmlinuz-*") < 0 ||
	    (cfg->initrd && check_input_file(&cfg->where.initrd, "initrd", cfg->initrd,
					     "give a cpio initramfs, or leave the initrd out") < 0) ||
	    (cfg->stats_path && check_output(&cfg->where.stats, "stats", "", cfg->stats_path, true) < 0) ||
	    (cfg->serial == VM_SERIAL_FILE &&
	     check_output(&cfg->where.serial, "serial", "file:", cfg->serial_path, false) < 0) ||
	    check_outputs_distinct(cfg) < 0 || check_kernel_cache(cfg) < 0)
		return -1;
	return 0;
}

void report_drive_open(const struct vm_drive_config *d, int r)
{
	const char *quotes = report_quote_hint(&d->file_origin, d->file);
	char loc[PATH_MAX + 32], ro[32], snap[32];
	struct stat st;

	report_drive_origin(loc, sizeof(loc), d, &d->file_origin);
	report_drive_setting(ro, sizeof(ro), d, "readonly", "on");
	switch (r) {
	case -ENOENT:
		if (*quotes)
			report_line("%s: %s does not exist (check the path%s)", loc, d->file, quotes);
		else
			report_line("%s: %s does not exist (create the image first, e.g. truncate -s 1G %s)", loc,
				 d->file, d->file);
		break;
	case -EISDIR:
		report_line("%s: %s is a directory (give a disk image file)", loc, d->file);
		break;
	case -EACCES:
	case -EROFS:
	case -EPERM:
		report_line("%s: %s is not writable (%s); add %s to use it read-only", loc, d->file, strerror(-r), ro);
		break;
	case -EINVAL:
		report_line("%s: %s size is not a non-zero multiple of 512 bytes (resize it, e.g. truncate -s 1G)", loc, d->file);
		break;
	case -ENOTBLK:
		report_line("%s: %s is not a regular file or block device (give a disk image file)", loc, d->file);
		break;
	case -EBUSY:
		if (d->snapshot == VM_SNAPSHOT_ON)
			report_line("%s: %s is open for writing by another drive or process, and a snapshot drive's "
				    "image must not change under it (stop the writer first)", loc, d->file);
		else if (!d->readonly && stat(d->file, &st) == 0 && S_ISBLK(st.st_mode))
			report_line("%s: %s is in use on the host: mounted, or held by another drive or program (unmount "
				 "it or stop its user first; %s only reads it)", loc, d->file, ro);
		else
			report_line("%s: %s is in use by another drive or process (stop the other user, give each drive "
				 "its own image, or make every user of it %s or %s)", loc, d->file,
				 report_drive_setting(snap, sizeof(snap), d, "snapshot", "on"), ro);
		break;
	case -ENOTSUP:
		report_drive_origin(loc, sizeof(loc), d, &d->cache_origin);
		report_line("%s: %s: the filesystem does not support O_DIRECT, which cache=%s needs (use cache=writeback or writethrough, or move the image)",
			 loc, d->file, blk_cache_mode_name(d->cache));
		break;
	default:
		report_line("%s: cannot open %s: %s", loc, d->file, strerror(-r));
	}
}

void report_drive_snapshot(const struct vm_drive_config *d, int r)
{
	const char *env = getenv("TMPDIR");
	char loc[PATH_MAX + 32], dir[PATH_MAX + 32];
	const char *fix = "set TMPDIR to a writable directory on a filesystem with room";

	report_drive_origin(loc, sizeof(loc), d, &d->file_origin);
	if (env && env[0])
		snprintf(dir, sizeof(dir), "TMPDIR=%s", env);
	else
		snprintf(dir, sizeof(dir), "%s (TMPDIR is not set)", blk_overlay_dir());
	switch (r) {
	case -ENOENT:
		report_line("%s: snapshot=on: %s does not exist, and the drive's overlay goes there (create it, or %s)",
			    loc, dir, fix);
		break;
	case -ENOTDIR:
		report_line("%s: snapshot=on: %s is not a directory, and the drive's overlay goes there (%s)", loc,
			    dir, fix);
		break;
	case -EACCES:
	case -EPERM:
	case -EROFS:
		report_line("%s: snapshot=on: %s cannot be written (%s), and the drive's overlay goes there (%s)", loc,
			    dir, strerror(-r), fix);
		break;
	default:
		report_line("%s: snapshot=on: cannot make the drive's overlay in %s: %s (%s)", loc, dir, strerror(-r),
			    fix);
	}
}

int report_drive_format(const struct vm_drive_config *d, const struct blk_image *img)
{
	char loc[PATH_MAX + 32], raw[32];
	const char *format;
	int r = blk_image_probe(img, &format);

	if (r < 0) {
		report_line("%s: cannot read the start of %s to check its format: %s",
			 report_drive_origin(loc, sizeof(loc), d, &d->file_origin), d->file, strerror(-r));
		return r;
	}
	if (!format)
		return 0;
	report_line("%s: %s is a %s image, and vmm takes raw disk images only (convert it: qemu-img convert "
		 "-O raw %s DISK.img; if it is a raw disk that only starts like one, add %s)",
		 report_drive_origin(loc, sizeof(loc), d, &d->file_origin), d->file, format, d->file,
		 report_drive_setting(raw, sizeof(raw), d, "format", "raw"));
	return -EMEDIUMTYPE;
}

// SPDX-License-Identifier: MIT
/* vmm entry point: the only place that prints errors and chooses exit statuses (docs/exit-status.md). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "blk_backend.h"
#include "vm.h"
#include "vm_config.h"

/* Exit statuses; the guest's own status (exit port) can be any byte. */
enum {
	EXIT_OK = 0,
	EXIT_VMM_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_GUEST_RESET = 123,
	EXIT_TIMEOUT = 124,
	EXIT_KVM_INTERNAL = 125,
	EXIT_SIGNAL_BASE = 128,
};

static struct termios saved_tty;
static bool tty_raw;

static void tty_restore(void)
{
	if (tty_raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
		tty_raw = false;
	}
}

/* Raw input so the guest's line discipline does the editing; ISIG stays on so Ctrl-C stops vmm. */
static void tty_make_raw(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return;
	t = saved_tty;
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
		tty_raw = true;
		atexit(tty_restore);
	}
}

/* One line on stderr: a path or argument quoted in it cannot break it (control characters are escaped). */
static void err_line(const char *fmt, ...)
{
	char *msg, esc[5];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	fputs("vmm: ", stderr);
	if (n < 0) {
		fputs("out of memory\n", stderr);
		return;
	}
	for (const char *c = msg; *c; c++)
		fwrite(esc, 1, vm_config_msg_char((unsigned char)*c, esc), stderr);
	fputc('\n', stderr);
	free(msg);
}

/*
 * vmm's own report of several lines (an exit reason, then the vCPU's
 * registers): "vmm: HEAD: " and the first line of detail, then the rest as
 * real lines, indented. Nothing in it comes from the user; a control
 * character other than a line break is still escaped.
 */
static void err_report(const char *head, const char *detail)
{
	char esc[5];

	fprintf(stderr, "vmm: %s: ", head);
	for (const char *c = detail; *c; c++) {
		if (*c == '\n') {
			if (c[1])
				fputs("\n  ", stderr);
			continue;
		}
		fwrite(esc, 1, vm_config_msg_char((unsigned char)*c, esc), stderr);
	}
	fputc('\n', stderr);
}

static void log_debug(void *ctx, const char *fmt, va_list ap)
{
	(void)ctx;
	/* vCPU threads log too: hold the stream so each line comes out whole. */
	flockfile(stderr);
	fputs("vmm: debug: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Where the user gave a setting, to start a message: "--cmdline", or "vm.ini:3: cmdline". */
static const char *origin(char *buf, size_t n, const struct vm_config_origin *o, const char *key)
{
	if (o->file)
		snprintf(buf, n, "%s:%d: %s", o->file, o->line, key);
	else
		snprintf(buf, n, "--%s", key);
	return buf;
}

/*
 * How the user gave a path setting, to start a message: "--kernel k" from the
 * command line, "vm.ini:2: kernel: /abs/k" from an INI file (paths there are
 * already joined to the file's directory). prefix is "file:" for --serial.
 */
static const char *setting(char *buf, size_t n, const struct vm_config_origin *o, const char *key,
			   const char *prefix, const char *path)
{
	size_t len = strlen(origin(buf, n, o, key));

	snprintf(buf + len, n - len, "%s%s%s", o->file ? ": " : " ", prefix, path);
	return buf;
}

/* INI values are taken literally: kernel = "../k" names a file whose name has quotes in it. */
static const char *quote_hint(const struct vm_config_origin *o, const char *path)
{
	size_t len = strlen(path);

	if (!o->file || !len)
		return "";
	if (path[len - 1] == '"' || path[len - 1] == '\'' || strstr(path, "/\"") || strstr(path, "/'"))
		return "; remove the quotes, INI values are used as written";
	return "";
}

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

	setting(name, sizeof(name), o, key, "", path);
	if (stat(path, &st) < 0) {
		err_line("%s: %s (check the path%s)", name, strerror(errno), quote_hint(o, path));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		err_line("%s: is a directory (give the file itself)", name);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		err_line("%s: is not a regular file (give the file itself, not a pipe or device)", name);
		return -1;
	}
	if (st.st_size == 0) {
		err_line("%s: is empty (%s)", name, empty_fix);
		return -1;
	}
	if (access(path, R_OK) < 0) {
		err_line("%s: %s (make it readable)", name, strerror(errno));
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

	setting(name, sizeof(name), o, key, prefix, path);
	exists = stat(path, &st) == 0;
	if ((exists && S_ISDIR(st.st_mode)) || (len && path[len - 1] == '/')) {
		err_line("%s: is a directory (give a file name, e.g. %s%s%s)", name, path,
			 len && path[len - 1] == '/' ? "" : "/", replaced ? "stats.json" : "console.log");
		return -1;
	}
	if (exists && replaced && !S_ISREG(st.st_mode)) {
		err_line("%s: is not a regular file, and %s replaces its target (give a file path)",
			 name, o->file ? key : "--stats");
		return -1;
	}
	if (exists && access(path, W_OK) < 0) {
		err_line("%s: %s (make it writable or choose another path)", name, strerror(errno));
		return -1;
	}
	if (exists && !replaced)
		return 0;
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		err_line("%s: path too long", name);
		return -1;
	}
	dir = dirname(buf);
	if (access(dir, W_OK) < 0) {
		if (errno == ENOENT)
			err_line("%s: directory %s does not exist (create it or choose another path)", name, dir);
		else
			err_line("%s: directory %s is not writable: %s (choose another path)",
				 name, dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* An input file an output must not overwrite, and how to name it in a message. */
struct input_file {
	struct stat st;
	char name[PATH_MAX + 64];
};

/* "--kernel k" on the command line, "kernel (vm.ini:2)" from an INI file. */
static void input_name(char *buf, size_t n, const struct vm_config_origin *o, const char *key,
		       const char *prefix, const char *path)
{
	if (o && o->file)
		snprintf(buf, n, "%s (%s:%d)", key, o->file, o->line);
	else
		snprintf(buf, n, "--%s %s%s", key, prefix, path);
}

static void input_add(struct input_file *in, unsigned int *n, const struct vm_config_origin *o,
		      const char *key, const char *prefix, const char *path)
{
	if (!path || stat(path, &in[*n].st) < 0)
		return;   /* a missing input is reported on its own */
	input_name(in[*n].name, sizeof(in[*n].name), o, key, prefix, path);
	(*n)++;
}

/*
 * In out: path, or, when path is a symlink to something that does not exist
 * yet, the path its chain of links (up to 8) ends at. NULL if that does not
 * fit in n bytes.
 */
static const char *new_file_target(const char *path, char *out, size_t n)
{
	char link[PATH_MAX], dir[PATH_MAX];
	struct stat st;

	if (snprintf(out, n, "%s", path) >= (int)n)
		return NULL;
	for (int hops = 0; hops < 8 && lstat(out, &st) == 0 && S_ISLNK(st.st_mode); hops++) {
		ssize_t len = readlink(out, link, sizeof(link) - 1);

		if (len < 0)
			break;
		link[len] = '\0';
		snprintf(dir, sizeof(dir), "%s", out);
		if ((link[0] == '/' ? snprintf(out, n, "%s", link) : snprintf(out, n, "%s/%s", dirname(dir), link)) >=
		    (int)n)
			return NULL;
	}
	return out;
}

/*
 * Whether two paths, neither of which exists yet, name the same file to be
 * (for a dangling symlink, the file it points to, see new_file_target):
 * the same directory (by device and inode, so "x" and "./x" match) and the
 * same last component. check_output has made sure each directory exists.
 */
static bool same_new_file(const char *a, const char *b)
{
	char da[PATH_MAX], db[PATH_MAX], ba[PATH_MAX], bb[PATH_MAX];
	struct stat sa, sb;

	if (stat(a, &sa) == 0 || errno != ENOENT || stat(b, &sb) == 0 || errno != ENOENT)
		return false;
	/* A dangling symlink is where open(O_CREAT) makes the file its chain of links ends at. */
	if (!new_file_target(a, da, sizeof(da)) || !new_file_target(b, db, sizeof(db)))
		return false;
	memcpy(ba, da, sizeof(ba));
	memcpy(bb, db, sizeof(bb));
	if (strcmp(basename(ba), basename(bb)) != 0)
		return false;
	if (stat(dirname(da), &sa) < 0 || stat(dirname(db), &sb) < 0)
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* An output file (--serial file:, --stats), as check_outputs_distinct names it. */
struct output_file {
	const char *path, *key, *prefix, *flag;
	const struct vm_config_origin *o;
};

/* The line for an output that is the same file as other, which it would overwrite. -1. */
static int output_clash(const struct output_file *out, const char *other)
{
	char name[PATH_MAX + 64];

	setting(name, sizeof(name), out->o, out->key, out->prefix, out->path);
	err_line("%s: is the same file as %s, which it would overwrite (choose another path for %s)", name, other,
		 out->o->file ? out->key : out->flag);
	return -1;
}

/*
 * --stats and --serial file: must not name an input: both truncate or replace
 * their file, which would destroy a drive image, the kernel or a config file.
 * Compared by device and inode, so another spelling of the path is caught.
 */
static int check_outputs_distinct(const struct vm_config *cfg)
{
	struct input_file in[4 + VM_MAX_DRIVES + 16];
	unsigned int n = 0;
	const struct output_file outs[2] = {
		{ cfg->serial == VM_SERIAL_FILE ? cfg->serial_path : NULL, "serial", "file:", "--serial",
		  &cfg->where.serial },
		{ cfg->stats_path, "stats", "", "--stats", &cfg->where.stats },
	};

	input_add(in, &n, &cfg->where.kernel, "kernel", "", cfg->kernel);
	input_add(in, &n, &cfg->where.initrd, "initrd", "", cfg->initrd);
	for (unsigned int i = 0; i < cfg->ndrives; i++) {
		const struct vm_drive_config *d = &cfg->drives[i];
		struct vm_config_origin o = d->origin;
		char key[64];

		snprintf(key, sizeof(key), o.file ? "drive \"%s\"" : "drive", d->id ? d->id : "");
		if (o.file)
			input_add(in, &n, &d->file_origin, key, "", d->file);
		else
			input_add(in, &n, NULL, "drive", "file=", d->file);
	}
	for (unsigned int i = 0; i < cfg->nsources && n < sizeof(in) / sizeof(in[0]) - 1; i++)
		input_add(in, &n, NULL, "config", "", cfg->sources[i]);
	/* --serial is checked against --stats too: the stats rename would replace the console log. */
	input_add(in, &n, outs[0].o, "serial", "file:", outs[0].path);

	/* Neither output exists yet: the stats rename would replace the console log all the same. */
	if (outs[0].path && outs[1].path && same_new_file(outs[0].path, outs[1].path)) {
		char other[PATH_MAX + 64];

		input_name(other, sizeof(other), outs[0].o, outs[0].key, outs[0].prefix, outs[0].path);
		return output_clash(&outs[1], other);
	}
	for (unsigned int k = 0; k < 2; k++) {
		struct stat st;

		if (!outs[k].path || stat(outs[k].path, &st) < 0)
			continue;
		for (unsigned int i = 0; i < n; i++) {
			if (in[i].st.st_dev != st.st_dev || in[i].st.st_ino != st.st_ino)
				continue;
			if (k == 0 && i == n - 1 && outs[0].path)
				break;   /* the console file itself */
			return output_clash(&outs[k], in[i].name);
		}
	}
	return 0;
}

/*
 * How a drive was given, to start its messages: "--drive file=a.img", or
 * "vm.ini:6: drive \"a\"" with the line of the key at fault (at: the drive's
 * file_origin or cache_origin; its "file =" line if that key was not set).
 */
static const char *drive_origin(char *buf, size_t n, const struct vm_drive_config *d,
				 const struct vm_config_origin *at)
{
	if (!at->file)
		at = &d->file_origin;
	if (!at->file)
		at = &d->origin;
	if (at->file)
		snprintf(buf, n, "%s:%d: drive \"%s\"", at->file, at->line, d->id ? d->id : "");
	else
		snprintf(buf, n, "--drive file=%s", d->file);
	return buf;
}

/* A drive setting spelt as the user writes it where the drive was given: readonly=on, or "readonly = on". */
static const char *drive_setting(char *buf, size_t n, const struct vm_drive_config *d, const char *key,
				 const char *value)
{
	snprintf(buf, n, d->origin.file ? "\"%s = %s\"" : "%s=%s", key, value);
	return buf;
}

static void drive_error(const struct vm_drive_config *d, int r)
{
	const char *quotes = quote_hint(&d->file_origin, d->file);
	char loc[PATH_MAX + 32], ro[32];
	struct stat st;

	drive_origin(loc, sizeof(loc), d, &d->file_origin);
	drive_setting(ro, sizeof(ro), d, "readonly", "on");
	switch (r) {
	case -ENOENT:
		if (*quotes)
			err_line("%s: %s does not exist (check the path%s)", loc, d->file, quotes);
		else
			err_line("%s: %s does not exist (create the image first, e.g. truncate -s 1G %s)", loc,
				 d->file, d->file);
		break;
	case -EISDIR:
		err_line("%s: %s is a directory (give a disk image file)", loc, d->file);
		break;
	case -EACCES:
	case -EROFS:
	case -EPERM:
		err_line("%s: %s is not writable (%s); add %s to use it read-only", loc, d->file, strerror(-r), ro);
		break;
	case -EINVAL:
		err_line("%s: %s size is not a non-zero multiple of 512 bytes (resize it, e.g. truncate -s 1G)", loc, d->file);
		break;
	case -ENOTBLK:
		err_line("%s: %s is not a regular file or block device (give a disk image file)", loc, d->file);
		break;
	case -EBUSY:
		if (!d->readonly && stat(d->file, &st) == 0 && S_ISBLK(st.st_mode))
			err_line("%s: %s is in use on the host: mounted, or held by another drive or program (unmount "
				 "it or stop its user first; %s only reads it)", loc, d->file, ro);
		else
			err_line("%s: %s is in use by another drive or process (stop the other user, give each drive "
				 "its own image, or make every user of it %s)", loc, d->file, ro);
		break;
	case -ENOTSUP:
		drive_origin(loc, sizeof(loc), d, &d->cache_origin);
		err_line("%s: %s: the filesystem does not support O_DIRECT, which cache=%s needs (use cache=writeback or writethrough, or move the image)",
			 loc, d->file, blk_cache_mode_name(d->cache));
		break;
	default:
		err_line("%s: cannot open %s: %s", loc, d->file, strerror(-r));
	}
}

static void initrd_error(const struct vm_config *cfg, const char *name, const struct vm_error *e)
{
	unsigned long long mib = (e->size + (1u << 20) - 1) >> 20, lim = e->limit >> 20;

	switch (e->bound) {
	case VM_INITRD_BOUND_KERNEL:
		err_line("%s: %llu MiB does not fit below the kernel's initrd limit at %llu MiB "
			 "(initrd_addr_max); more --memory cannot help, use a smaller initrd", name, mib, lim);
		break;
	case VM_INITRD_BOUND_LOWMEM:
		err_line("%s: %llu MiB does not fit below %llu MiB next to the kernel, where vmm places "
			 "the initrd; more --memory cannot help, use a smaller initrd", name, mib, lim);
		break;
	default:
		err_line("%s: %llu MiB does not fit in %llu MiB of guest memory next to the kernel "
			 "(raise --memory)", name, mib, (unsigned long long)(cfg->memory >> 20));
	}
}

/* An input file vm.c could not read: err is -errno, -ENODATA when it got shorter while vmm read it. */
static void file_error(const char *name, int err)
{
	if (err == -ENODATA)
		err_line("%s: the file got shorter while vmm read it (let whatever writes it finish first)", name);
	else
		err_line("%s: %s", name, strerror(-err));
}

/*
 * A drive image that holds another format's header (qcow2, vmdk, ...) is
 * refused unless format=raw says it is a raw disk: the guest would see the
 * container's metadata, and its writes would corrupt the image. 0 or -errno,
 * with the line printed.
 */
static int drive_format_check(const struct vm_drive_config *d, const struct blk_image *img)
{
	char loc[PATH_MAX + 32], raw[32];
	const char *format;
	int r = blk_image_probe(img, &format);

	if (r < 0) {
		err_line("%s: cannot read the start of %s to check its format: %s",
			 drive_origin(loc, sizeof(loc), d, &d->file_origin), d->file, strerror(-r));
		return r;
	}
	if (!format)
		return 0;
	err_line("%s: %s is a %s image, and vmm takes raw disk images only (convert it: qemu-img convert "
		 "-O raw %s DISK.img; if it is a raw disk that only starts like one, add %s)",
		 drive_origin(loc, sizeof(loc), d, &d->file_origin), d->file, format, d->file,
		 drive_setting(raw, sizeof(raw), d, "format", "raw"));
	return -EMEDIUMTYPE;
}

/* The line for a kernel file that could not be read, or that the arch's loader refused (e->kernel_why says why). */
static void kernel_error(const char *name, const struct vm_error *e)
{
	if (e->kernel_why[0])
		err_line("%s: %s", name, e->kernel_why);
	else
		file_error(name, e->err);
}

/* Returns the exit status for a failed vm_create or vm_boot_check. */
static int create_error(const struct vm_config *cfg, const struct vm_error *e)
{
	const char *subj = e->subject ? e->subject : "";
	char name[PATH_MAX + 64];

	switch (e->stage) {
	case VM_STAGE_KVM:
		if (e->err == -ENOENT)
			err_line("/dev/kvm does not exist: load kvm_intel or kvm_amd (and enable virtualization in firmware)");
		else if (e->err == -EACCES || e->err == -EPERM)
			err_line("/dev/kvm: permission denied (add yourself to the kvm group or run as root)");
		else if (e->err == -ENOSYS)
			err_line("/dev/kvm lacks a required capability: %s (a newer kernel is needed)", e->cap ? e->cap : "?");
		else if (e->err == -EPROTO)
			err_line("/dev/kvm: unsupported KVM API version");
		else
			err_line("KVM set-up failed at %s: %s", subj, strerror(-e->err));
		return EXIT_VMM_ERROR;
	case VM_STAGE_MEMORY:
		err_line("cannot allocate %llu MiB of guest memory: %s (lower --memory)",
			 (unsigned long long)(cfg->memory >> 20), strerror(-e->err));
		return EXIT_VMM_ERROR;
	case VM_STAGE_KERNEL:
		setting(name, sizeof(name), &cfg->where.kernel, "kernel", "", subj);
		kernel_error(name, e);
		return EXIT_USAGE;
	case VM_STAGE_INITRD:
		setting(name, sizeof(name), &cfg->where.initrd, "initrd", "", subj);
		if (e->err == -ENOMEM)
			initrd_error(cfg, name, e);
		else
			file_error(name, e->err);
		return EXIT_USAGE;
	case VM_STAGE_CMDLINE:
		origin(name, sizeof(name), &cfg->where.cmdline, "cmdline");
		err_line("%s: too long once vmm adds its parameters (the kernel takes %zu bytes; shorten it)",
			 name, e->cmdline_max);
		return EXIT_USAGE;
	case VM_STAGE_SERIAL:
		setting(name, sizeof(name), &cfg->where.serial, "serial", "file:", subj);
		if (e->err == -ENXIO)
			err_line("%s: a FIFO that no process reads (start its reader first)", name);
		else
			err_line("%s: %s", name, strerror(-e->err));
		return EXIT_USAGE;
	case VM_STAGE_DRIVE:
		err_line("drive %s: cannot create the virtio-blk device: %s", subj, strerror(-e->err));
		return EXIT_VMM_ERROR;
	case VM_STAGE_BOOT:
		err_line("building boot structures (%s): %s", subj, strerror(-e->err));
		return EXIT_VMM_ERROR;
	case VM_STAGE_VCPU:
		err_line("vCPU set-up failed%s%s: %s", e->subject ? " at " : "", subj, strerror(-e->err));
		return EXIT_VMM_ERROR;
	}
	return EXIT_VMM_ERROR;
}

static int exit_status(const struct vm_config *cfg, const struct vm_exit *ex)
{
	switch (ex->kind) {
	case VM_EXIT_POWEROFF:
		return EXIT_OK;
	case VM_EXIT_PORT:
		return ex->status & 0xff;
	case VM_EXIT_RESET:
		return EXIT_GUEST_RESET;
	case VM_EXIT_TRIPLE_FAULT:
		err_report("the guest triple-faulted and was reset", ex->detail);
		return EXIT_GUEST_RESET;
	case VM_EXIT_TIMEOUT:
		err_line("guest still running after --timeout %u s: stopped", cfg->timeout);
		return EXIT_TIMEOUT;
	case VM_EXIT_SIGNAL:
		return EXIT_SIGNAL_BASE + ex->status;
	case VM_EXIT_INTERNAL:
		err_report(ex->what ? ex->what : "KVM error", ex->detail);
		return EXIT_KVM_INTERNAL;
	case VM_EXIT_ERROR:
		err_line("%s: %s", ex->what ? ex->what : "error", strerror(-ex->err));
		return EXIT_VMM_ERROR;
	}
	return EXIT_VMM_ERROR;
}

int main(int argc, char **argv)
{
	uint64_t t_start = now_ns();
	struct vm_config cfg;
	struct vm_config_error cerr;
	struct blk_image images[VM_MAX_DRIVES];
	struct vm_drive drives[VM_MAX_DRIVES];
	struct vm_log log = { .fn = log_debug };
	unsigned int nopen = 0;
	struct vm_error verr;
	struct vm_kernel_image kernel = VM_KERNEL_IMAGE_INIT;
	struct vm_exit ex;
	struct vm *vm = NULL;
	int status = EXIT_USAGE, r;

	/*
	 * Started with stdin, stdout or stderr closed, the next file vmm opens
	 * would take that number, and console output or vmm's own messages
	 * would land in it: a drive image, say. /dev/null takes their place.
	 */
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", O_RDWR) != fd)
			return EXIT_VMM_ERROR;
	}
	/* A console piped into a reader that quits (| head) must not kill the VM. */
	signal(SIGPIPE, SIG_IGN);
	vm_config_init(&cfg);
	if (vm_config_from_args(&cfg, argc, argv, &cerr) < 0) {
		err_line("%s", cerr.msg);
		goto free_cfg;
	}
	if (cfg.help) {
		vm_config_usage(stdout);
		status = EXIT_OK;
		goto free_cfg;
	}
	if (cfg.version) {
		printf("vmm %s\n", VMM_VERSION);
		status = EXIT_OK;
		goto free_cfg;
	}
	if (cfg.print_config) {
		/* A value INI cannot hold is the user's input: say which, print nothing. */
		if (vm_config_printable(&cfg, &cerr) < 0) {
			err_line("%s", cerr.msg);
			goto free_cfg;
		}
		r = vm_config_print(&cfg, stdout);
		if (r < 0) {
			err_line("--print-config: cannot write the configuration: %s", strerror(-r));
			status = EXIT_VMM_ERROR;
		} else {
			status = EXIT_OK;
		}
		goto free_cfg;
	}

	/*
	 * Every user-supplied file is checked before /dev/kvm is opened or any
	 * guest memory exists, so bad input is reported as such (status 2)
	 * even where /dev/kvm is not usable.
	 */
	if (check_input_file(&cfg.where.kernel, "kernel", cfg.kernel,
			     "give the kernel image, e.g. /boot/vmlinuz-*") < 0 ||
	    (cfg.initrd && check_input_file(&cfg.where.initrd, "initrd", cfg.initrd,
					    "give a cpio initramfs, or leave the initrd out") < 0) ||
	    (cfg.stats_path && check_output(&cfg.where.stats, "stats", "", cfg.stats_path, true) < 0) ||
	    (cfg.serial == VM_SERIAL_FILE &&
	     check_output(&cfg.where.serial, "serial", "file:", cfg.serial_path, false) < 0) ||
	    check_outputs_distinct(&cfg) < 0)
		goto free_cfg;
	r = vm_boot_check(&cfg, &kernel, &verr);
	if (r < 0) {
		status = create_error(&cfg, &verr);
		goto free_cfg;
	}
	for (; nopen < cfg.ndrives; nopen++) {
		const struct vm_drive_config *d = &cfg.drives[nopen];

		r = blk_image_open(d->file, d->cache, d->readonly, &images[nopen]);
		if (r < 0) {
			drive_error(d, r);
			goto close_images;
		}
		if (!d->format_raw) {
			r = drive_format_check(d, &images[nopen]);
			if (r < 0) {
				blk_image_close(&images[nopen]);
				goto close_images;
			}
		}
		drives[nopen].cfg = d;
		drives[nopen].image = &images[nopen];
	}

	log.verbose = cfg.verbose;
	r = vm_create(&cfg, &kernel, drives, cfg.ndrives, &log, t_start, &vm, &verr);
	vm_kernel_image_free(&kernel);
	if (r < 0) {
		status = create_error(&cfg, &verr);
		goto close_images;
	}
	if (cfg.serial == VM_SERIAL_STDIO)
		tty_make_raw();
	r = vm_run(vm, &ex);
	tty_restore();
	if (r < 0) {
		err_line("running the VM: %s", strerror(-r));
		status = EXIT_VMM_ERROR;
		goto destroy;
	}
	status = exit_status(&cfg, &ex);
	if (cfg.stats_path) {
		r = vm_stats_write(vm, &ex, cfg.stats_path);
		if (r < 0) {
			err_line("--stats %s: cannot write: %s", cfg.stats_path, strerror(-r));
			if (status == EXIT_OK)
				status = EXIT_VMM_ERROR;
		}
	}
destroy:
	vm_destroy(vm);
close_images:
	while (nopen > 0)
		blk_image_close(&images[--nopen]);
	vm_kernel_image_free(&kernel);
free_cfg:
	vm_config_free(&cfg);
	fflush(stdout);
	return status;
}

/* SPDX-License-Identifier: MIT */
/* main's voice: the lines vmm prints, how they name the user's settings, and the words for a failed VM and its exit. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

void report_line(const char *fmt, ...)
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

void report_lines(const char *head, const char *detail)
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

void report_debug(void *ctx, const char *fmt, va_list ap)
{
	(void)ctx;
	/* vCPU threads log too: hold the stream so each line comes out whole. */
	flockfile(stderr);
	fputs("vmm: debug: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void report_kernel_cache(const struct vm_config *cfg, const struct kcache_note *note)
{
	const char *kind = boot_pack_name(note->kind);

	if (!cfg->verbose)
		return;
	switch (note->state) {
	case KCACHE_OFF:
		report_line("debug: kernel cache: off (--kernel-cache off): the kernel boots as given");
		break;
	case KCACHE_NONE:
		if (note->kind == BOOT_PACK_OTHER)
			report_line("debug: kernel cache: not used: the payload is %s, which vmm does not unpack", kind);
		break;
	case KCACHE_HIT:
		report_line("debug: kernel cache: hit: booting %s (the %s payload unpacked)", note->path, kind);
		break;
	case KCACHE_MISS:
		report_line("debug: kernel cache: miss: unpacked the %s payload to %s, booting it", kind, note->path);
		break;
	case KCACHE_FALLBACK:
		report_line("debug: kernel cache: not used, the kernel boots as given: %s%s%s%s%s%s", note->why,
			    note->err ? ": " : "", note->err ? strerror(-note->err) : "", note->path[0] ? " (" : "",
			    note->path, note->path[0] ? ")" : "");
		break;
	}
}

const char *report_origin(char *buf, size_t n, const struct vm_config_origin *o, const char *key)
{
	if (o->file)
		snprintf(buf, n, "%s:%d: %s", o->file, o->line, key);
	else
		snprintf(buf, n, "--%s", key);
	return buf;
}

const char *report_setting(char *buf, size_t n, const struct vm_config_origin *o, const char *key,
			   const char *prefix, const char *path)
{
	size_t len = strlen(report_origin(buf, n, o, key));

	snprintf(buf + len, n - len, "%s%s%s", o->file ? ": " : " ", prefix, path);
	return buf;
}

const char *report_quote_hint(const struct vm_config_origin *o, const char *path)
{
	size_t len = strlen(path);

	if (!o->file || !len)
		return "";
	if (path[len - 1] == '"' || path[len - 1] == '\'' || strstr(path, "/\"") || strstr(path, "/'"))
		return "; remove the quotes, INI values are used as written";
	return "";
}

const char *report_drive_origin(char *buf, size_t n, const struct vm_drive_config *d,
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

const char *report_drive_setting(char *buf, size_t n, const struct vm_drive_config *d, const char *key,
				 const char *value)
{
	snprintf(buf, n, d->origin.file ? "\"%s = %s\"" : "%s=%s", key, value);
	return buf;
}

static void initrd_error(const struct vm_config *cfg, const char *name, const struct vm_error *e)
{
	unsigned long long mib = (e->size + (1u << 20) - 1) >> 20, lim = e->limit >> 20;

	switch (e->bound) {
	case VM_INITRD_BOUND_KERNEL:
		report_line("%s: %llu MiB does not fit below the kernel's initrd limit at %llu MiB "
			 "(initrd_addr_max); more --memory cannot help, use a smaller initrd", name, mib, lim);
		break;
	case VM_INITRD_BOUND_LOWMEM:
		report_line("%s: %llu MiB does not fit below %llu MiB next to the kernel, where vmm places "
			 "the initrd; more --memory cannot help, use a smaller initrd", name, mib, lim);
		break;
	default:
		report_line("%s: %llu MiB does not fit in %llu MiB of guest memory next to the kernel "
			 "(raise --memory)", name, mib, (unsigned long long)(cfg->memory >> 20));
	}
}

/* An input file the core could not read: err is -errno, -ENODATA when it got shorter while vmm read it. */
static void file_error(const char *name, int err)
{
	if (err == -ENODATA)
		report_line("%s: the file got shorter while vmm read it (let whatever writes it finish first)", name);
	else
		report_line("%s: %s", name, strerror(-err));
}

/* The line for a kernel file that could not be read, or that the arch's loader refused (e->kernel_why says why). */
static void kernel_error(const char *name, const struct vm_error *e)
{
	if (e->kernel_why[0])
		report_line("%s: %s", name, e->kernel_why);
	else
		file_error(name, e->err);
}

int report_vm_error(const struct vm_config *cfg, const struct vm_error *e)
{
	const char *subj = e->subject ? e->subject : "";
	char name[PATH_MAX + 64];

	switch (e->stage) {
	case VM_STAGE_KVM:
		if (e->err == -ENOENT)
			report_line("/dev/kvm does not exist: load kvm_intel or kvm_amd (and enable virtualization in firmware)");
		else if (e->err == -EACCES || e->err == -EPERM)
			report_line("/dev/kvm: permission denied (add yourself to the kvm group or run as root)");
		else if (e->err == -ENOSYS)
			report_line("/dev/kvm lacks a required capability: %s (a newer kernel is needed)", e->cap ? e->cap : "?");
		else if (e->err == -EPROTO)
			report_line("/dev/kvm: unsupported KVM API version");
		else
			report_line("KVM set-up failed at %s: %s", subj, strerror(-e->err));
		return EXIT_VMM_ERROR;
	case VM_STAGE_MEMORY:
		report_line("cannot allocate %llu MiB of guest memory: %s (lower --memory)",
			 (unsigned long long)(cfg->memory >> 20), strerror(-e->err));
		return EXIT_VMM_ERROR;
	case VM_STAGE_KERNEL:
		report_setting(name, sizeof(name), &cfg->where.kernel, "kernel", "", subj);
		kernel_error(name, e);
		return EXIT_USAGE;
	case VM_STAGE_INITRD:
		report_setting(name, sizeof(name), &cfg->where.initrd, "initrd", "", subj);
		if (e->err == -ENOMEM)
			initrd_error(cfg, name, e);
		else
			file_error(name, e->err);
		return EXIT_USAGE;
	case VM_STAGE_CMDLINE:
		report_origin(name, sizeof(name), &cfg->where.cmdline, "cmdline");
		report_line("%s: too long once vmm adds its parameters (the kernel takes %zu bytes; shorten it)",
			 name, e->cmdline_max);
		return EXIT_USAGE;
	case VM_STAGE_SERIAL:
		report_setting(name, sizeof(name), &cfg->where.serial, "serial", "file:", subj);
		if (e->err == -ENXIO)
			report_line("%s: a FIFO that no process reads (start its reader first)", name);
		else
			report_line("%s: %s", name, strerror(-e->err));
		return EXIT_USAGE;
	case VM_STAGE_DRIVE:
		report_line("drive %s: cannot create the virtio-blk device: %s", subj, strerror(-e->err));
		return EXIT_VMM_ERROR;
	case VM_STAGE_BOOT:
		report_line("building boot structures (%s): %s", subj, strerror(-e->err));
		return EXIT_VMM_ERROR;
	case VM_STAGE_VCPU:
		report_line("vCPU set-up failed%s%s: %s", e->subject ? " at " : "", subj, strerror(-e->err));
		return EXIT_VMM_ERROR;
	}
	return EXIT_VMM_ERROR;
}

int report_exit_status(const struct vm_exit *ex)
{
	switch (ex->kind) {
	case VM_EXIT_POWEROFF:
		return EXIT_OK;
	case VM_EXIT_PORT:
		return ex->status & 0xff;
	case VM_EXIT_RESET:
	case VM_EXIT_TRIPLE_FAULT:
		return EXIT_GUEST_RESET;
	case VM_EXIT_TIMEOUT:
		return EXIT_TIMEOUT;
	case VM_EXIT_SIGNAL:
		return EXIT_SIGNAL_BASE + ex->status;
	case VM_EXIT_INTERNAL:
		return EXIT_KVM_INTERNAL;
	case VM_EXIT_ERROR:
		break;
	}
	return EXIT_VMM_ERROR;
}

int report_exit(const struct vm_config *cfg, const struct vm_exit *ex)
{
	switch (ex->kind) {
	case VM_EXIT_TRIPLE_FAULT:
		report_lines("the guest triple-faulted and was reset", ex->detail);
		break;
	case VM_EXIT_TIMEOUT:
		report_line("guest still running after --timeout %u s: stopped", cfg->timeout);
		break;
	case VM_EXIT_INTERNAL:
		report_lines(ex->what ? ex->what : "KVM error", ex->detail);
		break;
	case VM_EXIT_ERROR:
		report_line("%s: %s", ex->what ? ex->what : "error", strerror(-ex->err));
		break;
	default:
		break;
	}
	return report_exit_status(ex);
}

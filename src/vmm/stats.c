/* SPDX-License-Identifier: MIT */
/* Run statistics: the --stats JSON (how the VM ended, boot and set-up times, per-drive counters), written atomically. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "virtio_blk.h"
#include "vm_internal.h"

static const char *vm_exit_name(enum vm_exit_kind kind)
{
	static const char *const names[] = {
		[VM_EXIT_POWEROFF] = "poweroff", [VM_EXIT_PORT] = "exit-port",
		[VM_EXIT_RESET] = "reset",       [VM_EXIT_TRIPLE_FAULT] = "triple-fault",
		[VM_EXIT_TIMEOUT] = "timeout",
		[VM_EXIT_SIGNAL] = "signal",     [VM_EXIT_INTERNAL] = "kvm-internal-error",
		[VM_EXIT_ERROR] = "vmm-error",
	};

	return names[kind];
}

/*
 * A snapshot drive's overlay at exit: its kind and the bytes it holds of its
 * own (blk_image_snapshot_info; null when the host would not say).
 */
static void vm_stats_snapshot(FILE *f, const struct blk_image *img)
{
	struct blk_snapshot_info info;

	fprintf(f, "\"snapshot\": %s", img->overlay ? "true" : "false");
	if (!img->overlay)
		return;
	if (blk_image_snapshot_info(img, &info) < 0) {
		fprintf(f, ", \"overlay\": null, \"overlay_bytes\": null");
		return;
	}
	fprintf(f, ", \"overlay\": \"%s\", \"overlay_bytes\": %llu", info.reflink ? "reflink" : "sparse",
		(unsigned long long)info.overlay_bytes);
	if (!info.reflink)
		fprintf(f, ", \"copy_ups\": %llu", (unsigned long long)info.copy_ups);
}

/* One drive's object in "drives": what it is, then its counters. */
static void vm_stats_drive(FILE *f, const struct vm_drive *drive, const struct vblk_stats *s)
{
	const struct vm_drive_config *d = drive->cfg;

	fprintf(f, "\n    {\"id\": ");
	json_write_string(f, d->id);
	fprintf(f, ", \"file\": ");
	json_write_string(f, d->file);
	fprintf(f, ", \"cache\": ");
	json_write_string(f, blk_cache_mode_name(d->cache));
	fprintf(f, ", \"readonly\": %s, ", d->readonly ? "true" : "false");
	vm_stats_snapshot(f, drive->image);
	fprintf(f, ",\n     ");
	fprintf(f, "\"requests\": %llu, \"reads\": %llu, \"writes\": %llu, \"durable_writes\": %llu, "
		"\"read_bytes\": %llu, \"write_bytes\": %llu,\n     "
		"\"flushes\": %llu, \"host_flushes\": %llu, \"flushes_skipped\": %llu, \"exit_flushes\": %llu,\n     "
		"\"discards\": %llu, \"write_zeroes\": %llu, \"discards_ignored\": %llu, \"zeroes_written\": %llu,\n     "
		"\"errors\": %llu, \"kicks\": %llu, \"interrupts\": %llu}",
		(unsigned long long)s->requests, (unsigned long long)s->reads,
		(unsigned long long)s->writes, (unsigned long long)s->durable_writes,
		(unsigned long long)s->read_bytes,
		(unsigned long long)s->write_bytes, (unsigned long long)s->flushes,
		(unsigned long long)s->host_flushes, (unsigned long long)s->flushes_skipped,
		(unsigned long long)s->exit_flushes, (unsigned long long)s->discards,
		(unsigned long long)s->write_zeroes, (unsigned long long)s->discards_ignored,
		(unsigned long long)s->zeroes_written, (unsigned long long)s->errors, (unsigned long long)s->kicks,
		(unsigned long long)s->interrupts);
}

static void vm_stats_print(struct vm *vm, const struct vm_exit *ex, FILE *f)
{
	uint64_t marker = atomic_load(&vm->t_boot_marker_ns);
	uint64_t first = atomic_load(&vm->t_first_run_ns);

	fprintf(f, "{\n  \"exit\": ");
	json_write_string(f, vm_exit_name(ex->kind));
	fprintf(f, ",\n");
	if (ex->kind == VM_EXIT_PORT)
		fprintf(f, "  \"exit_port_status\": %d,\n", ex->status);
	if (marker)
		fprintf(f, "  \"boot_ms\": %.3f,\n", (marker - vm->t_start_ns) / 1e6);
	else
		fprintf(f, "  \"boot_ms\": null,\n");
	if (first)
		fprintf(f, "  \"setup_us\": %.1f,\n", (first - vm->t_start_ns) / 1e3);
	else
		fprintf(f, "  \"setup_us\": null,\n");
	fprintf(f, "  \"kernel_cache\": \"%s\",\n", kcache_state_name(vm->kcache));
	fprintf(f, "  \"drives\": [");
	for (unsigned int i = 0; i < vm->ndrives; i++) {
		struct vblk_stats s;

		vblk_get_stats(vm->drives[i], &s);
		if (i)
			fputc(',', f);
		vm_stats_drive(f, &vm->drive_in[i], &s);
	}
	fprintf(f, "%s]\n}\n", vm->ndrives ? "\n  " : "");
}

/*
 * A new file with a short temporary name tmp (64 bytes) in directory dfd, as
 * a stream: or NULL with errno set, nothing left behind.
 */
static FILE *vm_stats_tmp_open(int dfd, char *tmp)
{
	int fd = -1;
	FILE *f;

	for (unsigned int i = 0; fd < 0 && i < 100; i++) {
		snprintf(tmp, 64, ".vmm-stats.%d.%u", (int)getpid(), i);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f) {
		int e = errno;

		close(fd);
		unlinkat(dfd, tmp, 0);
		errno = e;
	}
	return f;
}

/* The directory part of path ("." for none, "/" for the root). 0, or -ENAMETOOLONG. */
static int vm_stats_dir(const char *path, char dir[4096])
{
	const char *slash = strrchr(path, '/');

	if (snprintf(dir, 4096, "%.*s", slash ? (int)(slash - path) + 1 : 1, slash ? path : ".") >= 4096)
		return -ENAMETOOLONG;
	return 0;
}

int vm_stats_dir_open(const char *path)
{
	char dir[4096];
	int r = vm_stats_dir(path, dir);

	if (r < 0)
		return r;
	r = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return r < 0 ? -errno : r;
}

int vm_stats_write(struct vm *vm, const struct vm_exit *ex, int dfd, const char *path)
{
	const char *base = strrchr(path, '/');
	char tmp[64];
	FILE *f;
	int r = 0;

	/*
	 * Write to a temporary name and rename, so a reader never sees half a
	 * file. The temporary name is short and in the target's directory
	 * (opened once, so neither name is joined to the directory path): any
	 * name the target may have, up to NAME_MAX, works.
	 */
	base = base ? base + 1 : path;
	f = vm_stats_tmp_open(dfd, tmp);
	if (!f)
		return -errno;
	vm_stats_print(vm, ex, f);
	if (ferror(f))
		r = -EIO;
	if (fclose(f) != 0 && !r)
		r = -errno;
	if (!r && renameat(dfd, tmp, dfd, base) < 0)
		r = -errno;
	if (r)
		unlinkat(dfd, tmp, 0);
	return r;
}

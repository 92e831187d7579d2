/* SPDX-License-Identifier: MIT */
/* --print-config: the configuration written as INI that --config reads back to the same VM. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_ini_internal.h"
#include "config_value_internal.h"
#include "vm_config.h"

/*
 * Whether inih gives s back unchanged as a value: it strips surrounding
 * blanks and cuts at ';' preceded by a blank (an inline comment), and that
 * includes a ';' first in the value, after the blank of "key = ".
 */
static bool ini_value_ok(const char *s)
{
	size_t len = strlen(s);

	if (len && (isspace((unsigned char)s[0]) || isspace((unsigned char)s[len - 1])))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' || s[i] == '\r')
			return false;
		if (s[i] == ';' && (i == 0 || isspace((unsigned char)s[i - 1])))
			return false;
	}
	return true;
}

/* Absolute form of path (joined to the cwd, not normalised), or NULL with errno. */
static char *path_absolute(const char *path)
{
	char *cwd, *abs;

	if (path[0] == '/')
		return strdup(path);
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return NULL;
	if (asprintf(&abs, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", path) < 0)
		abs = NULL;
	free(cwd);
	return abs;
}

/*
 * One value for vm_config_printable, printed after key (e.g. "cmdline = "): 0,
 * or -EINVAL with a message, -errno of getcwd.
 */
static int printable_value(const char *what, const char *key, const char *value, bool path,
			   struct vm_config_error *err)
{
	char *abs = path ? path_absolute(value) : strdup(value);
	const char *fix = path ? "rename the file" : "give it with --cmdline instead of a config file";
	size_t line_max = config_ini_line_max();
	int ret = 0;

	if (!abs) {
		ret = -errno;
		config_err_set(err, "--print-config: %s: %s", what, strerror(-ret));
		return ret;
	}
	if (!ini_value_ok(abs)) {
		config_err_set(err, "--print-config: the %s \"%s\" cannot be written as an INI value (blanks at "
			       "either end, a line break, or ';' first or after a blank, which starts a comment); %s",
			       what, abs, fix);
		ret = -EINVAL;
	} else if (strlen(key) + strlen(abs) > line_max) {
		/* --config would refuse the line as too long. */
		config_err_set(err, "--print-config: the %s \"%.*s%s\" is %zu bytes, too long for an INI line "
			       "(at most %zu after \"%s\"); %s", what, CONFIG_QUOTE(abs), strlen(abs),
			       line_max - strlen(key), key, path ? "use a shorter path" : fix);
		ret = -EINVAL;
	}
	free(abs);
	return ret;
}

int vm_config_printable(const struct vm_config *cfg, struct vm_config_error *err)
{
	int ret = 0;

	/* The keys as vm_config_print writes them. */
	if (cfg->cmdline)
		ret = printable_value("cmdline", "cmdline = ", cfg->cmdline, false, err);
	if (!ret && cfg->kernel)
		ret = printable_value("kernel path", "kernel = ", cfg->kernel, true, err);
	if (!ret && cfg->initrd)
		ret = printable_value("initrd path", "initrd = ", cfg->initrd, true, err);
	if (!ret && cfg->kernel_cache)
		ret = printable_value("kernel cache directory", "kernel-cache = ", cfg->kernel_cache, true, err);
	for (unsigned int i = 0; !ret && i < cfg->ndrives; i++) {
		if (cfg->drives[i].file)
			ret = printable_value("drive file", "file = ", cfg->drives[i].file, true, err);
	}
	if (!ret && cfg->serial == VM_SERIAL_FILE && cfg->serial_path)
		ret = printable_value("serial file", "serial = file:", cfg->serial_path, true, err);
	if (!ret && cfg->stats_path)
		ret = printable_value("stats file", "stats = ", cfg->stats_path, true, err);
	return ret;
}

static int print_path(FILE *out, const char *key, const char *prefix, const char *path)
{
	char *abs = path_absolute(path);
	int ret = 0;

	if (!abs)
		return -errno;
	if (!ini_value_ok(abs))
		ret = -EINVAL;
	else
		fprintf(out, "%s = %s%s\n", key, prefix, abs);
	free(abs);
	return ret;
}

static void print_size(FILE *out, uint64_t bytes)
{
	if (bytes % (1ull << 40) == 0)
		fprintf(out, "memory = %" PRIu64 "T\n", bytes >> 40);
	else if (bytes % (1ull << 30) == 0)
		fprintf(out, "memory = %" PRIu64 "G\n", bytes >> 30);
	else if (bytes % (1ull << 20) == 0)
		fprintf(out, "memory = %" PRIu64 "M\n", bytes >> 20);
	else
		fprintf(out, "memory = %" PRIu64 "K\n", bytes >> 10);
}

/* One [drive "ID"] section. 0, or -EINVAL (a drive vm_config_validate would refuse) / -errno. */
static int print_drive(FILE *out, const struct vm_drive_config *d)
{
	const char *cache = blk_cache_mode_name(d->cache);
	int ret;

	if (!d->id || !d->file || !cache)
		return -EINVAL;
	fprintf(out, "\n[drive \"%s\"]\n", d->id);
	ret = print_path(out, "file", "", d->file);
	if (ret < 0)
		return ret;
	fprintf(out, "cache = %s\n", cache);
	fprintf(out, "readonly = %s\n", d->readonly ? "on" : "off");
	if (d->serial)
		fprintf(out, "serial = %s\n", d->serial);
	fprintf(out, "poll = %u\n", d->poll_us);
	if (d->format_raw)
		fprintf(out, "format = raw\n");
	if (d->snapshot != VM_SNAPSHOT_UNSET)
		fprintf(out, "snapshot = %s\n", d->snapshot == VM_SNAPSHOT_ON ? "on" : "off");
	return 0;
}

int vm_config_print(const struct vm_config *cfg, FILE *out)
{
	int ret;

	/* Nothing is written unless all of it can be. */
	ret = vm_config_printable(cfg, NULL);
	if (ret < 0)
		return ret;
	fprintf(out, "; vmm configuration (vmm --print-config); read it back with --config FILE\n");
	fprintf(out, "[machine]\n");
	print_size(out, cfg->memory);
	fprintf(out, "cpus = %u\n", cfg->cpus);
	fprintf(out, "timeout = %u\n", cfg->timeout);

	fprintf(out, "\n[boot]\n");
	if (cfg->kernel) {
		ret = print_path(out, "kernel", "", cfg->kernel);
		if (ret < 0)
			return ret;
	}
	if (cfg->initrd) {
		ret = print_path(out, "initrd", "", cfg->initrd);
		if (ret < 0)
			return ret;
	}
	if (cfg->cmdline)
		fprintf(out, "cmdline = %s\n", cfg->cmdline);
	if (cfg->kernel_cache_off)
		fprintf(out, "kernel-cache = off\n");
	if (cfg->kernel_cache) {
		ret = print_path(out, "kernel-cache", "", cfg->kernel_cache);
		if (ret < 0)
			return ret;
	}

	for (unsigned int i = 0; i < cfg->ndrives; i++) {
		ret = print_drive(out, &cfg->drives[i]);
		if (ret < 0)
			return ret;
	}

	fprintf(out, "\n[output]\n");
	switch (cfg->serial) {
	case VM_SERIAL_STDIO:
		fprintf(out, "serial = stdio\n");
		break;
	case VM_SERIAL_NONE:
		fprintf(out, "serial = none\n");
		break;
	case VM_SERIAL_FILE:
		if (!cfg->serial_path)
			return -EINVAL;
		ret = print_path(out, "serial", "file:", cfg->serial_path);
		if (ret < 0)
			return ret;
		break;
	default:
		return -EINVAL;
	}
	if (cfg->stats_path) {
		ret = print_path(out, "stats", "", cfg->stats_path);
		if (ret < 0)
			return ret;
	}

	fprintf(out, "\n[security]\n");
	fprintf(out, "sandbox = %s\n", cfg->sandbox ? "on" : "off");
	/* As given, by name: the printed file may run on another host, where the numbers differ. */
	if (cfg->user)
		fprintf(out, "user = %s\n", cfg->user);
	if (fflush(out) == EOF || ferror(out))
		return -EIO;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* The configuration struct's lifetime, value parsing shared by CLI and INI, validation and --print-config. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_internal.h"
#include "vm_config.h"

size_t vm_config_msg_char(unsigned char c, char out[5])
{
	if (c >= 0x20 && c != 0x7f) {
		out[0] = (char)c;
		return 1;
	}
	if (c == '\n' || c == '\r' || c == '\t') {
		out[0] = '\\';
		out[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		return 2;
	}
	return (size_t)snprintf(out, 5, "\\x%02x", c);
}

/* How many bytes byte c takes in a message (vm_config_msg_char). */
static size_t msg_width(char c)
{
	char esc[5];

	return vm_config_msg_char((unsigned char)c, esc);
}

/* Append the escaped form of raw[from, to) to out at *o. */
static void err_put(char *out, size_t *o, const char *raw, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		*o += vm_config_msg_char((unsigned char)raw[i], out + *o);
}

void config_err_set(struct vm_config_error *err, const char *fmt, ...)
{
	/* The longest message, one short of the buffer: one that fills it was cut somewhere. */
	const size_t max = sizeof(err->msg) - 2;
	const size_t head_max = max * 2 / 5;
	static const char elided[] = " ... ";
	char *raw;
	size_t len, width = 0, head = 0, head_w = 0, tail, tail_w = 0, o = 0, w;
	va_list ap;
	int n;

	if (!err)
		return;
	va_start(ap, fmt);
	n = vasprintf(&raw, fmt, ap);
	va_end(ap);
	if (n < 0) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return;
	}
	/*
	 * Messages quote what the user typed, and an argument or INI value can
	 * hold a line break or another control character: written as such it
	 * would split the one line main.c prints, or rewrite the terminal. So
	 * they are spelt as C escapes (\n, \t, \x1b).
	 */
	len = (size_t)n;
	for (size_t i = 0; i < len; i++)
		width += msg_width(raw[i]);
	if (width <= max) {
		err_put(err->msg, &o, raw, 0, len);
		err->msg[o] = '\0';
		free(raw);
		return;
	}
	/*
	 * Too long (a long path or argument in it): keep the start, which says
	 * what and where, and the end, which says how to fix it. Cut between
	 * escapes and between the bytes of a UTF-8 character, never inside one.
	 */
	while (head < len && head_w + (w = msg_width(raw[head])) <= head_max) {
		head_w += w;
		head++;
	}
	while (head > 0 && ((unsigned char)raw[head] & 0xC0) == 0x80)
		head_w -= msg_width(raw[--head]);
	tail = len;
	while (tail > head && head_w + sizeof(elided) - 1 + tail_w + (w = msg_width(raw[tail - 1])) <= max) {
		tail_w += w;
		tail--;
	}
	while (tail < len && ((unsigned char)raw[tail] & 0xC0) == 0x80)
		tail_w -= msg_width(raw[tail++]);
	err_put(err->msg, &o, raw, 0, head);
	memcpy(err->msg + o, elided, sizeof(elided) - 1);
	o += sizeof(elided) - 1;
	err_put(err->msg, &o, raw, tail, len);
	err->msg[o] = '\0';
	free(raw);
}

int config_str_set(char **slot, const char *s)
{
	char *copy = NULL;

	if (s) {
		copy = strdup(s);
		if (!copy)
			return -ENOMEM;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

void config_drive_clear(struct vm_drive_config *d)
{
	free(d->id);
	free(d->file);
	free(d->serial);
	memset(d, 0, sizeof(*d));
	d->cache = BLK_CACHE_WRITEBACK;
	d->poll_us = VM_DRIVE_POLL_US_DEFAULT;
}

int config_drive_find(const struct vm_config *cfg, const char *id)
{
	for (unsigned int i = 0; i < cfg->ndrives; i++) {
		if (cfg->drives[i].id && strcmp(cfg->drives[i].id, id) == 0)
			return (int)i;
	}
	return -1;
}

const char *config_source_add(struct vm_config *cfg, const char *name)
{
	char **grown;
	char *copy = strdup(name);

	if (!copy)
		return NULL;
	grown = realloc(cfg->sources, (cfg->nsources + 1) * sizeof(*grown));
	if (!grown) {
		free(copy);
		return NULL;
	}
	cfg->sources = grown;
	cfg->sources[cfg->nsources++] = copy;
	return copy;
}

void vm_config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memory = VM_DEFAULT_MEMORY;
	cfg->cpus = 1;
	cfg->timeout = 0;
	cfg->serial = VM_SERIAL_STDIO;
	for (unsigned int i = 0; i < VM_MAX_DRIVES; i++)
		cfg->drives[i].cache = BLK_CACHE_WRITEBACK;
}

void vm_config_free(struct vm_config *cfg)
{
	free(cfg->kernel);
	free(cfg->initrd);
	free(cfg->cmdline);
	free(cfg->serial_path);
	free(cfg->stats_path);
	for (unsigned int i = 0; i < VM_MAX_DRIVES; i++)
		config_drive_clear(&cfg->drives[i]);
	for (unsigned int i = 0; i < cfg->nsources; i++)
		free(cfg->sources[i]);
	free(cfg->sources);
	vm_config_init(cfg);
}

int vm_config_parse_size(const char *s, uint64_t *bytes)
{
	uint64_t v = 0, mult = 1ull << 20;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	switch (*p) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1ull << 10;
		p++;
		break;
	case 'm': case 'M':
		mult = 1ull << 20;
		p++;
		break;
	case 'g': case 'G':
		mult = 1ull << 30;
		p++;
		break;
	case 't': case 'T':
		mult = 1ull << 40;
		p++;
		break;
	default:
		return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;
	if (v == 0 || v > UINT64_MAX / mult)
		return -ERANGE;
	*bytes = v * mult;
	return 0;
}

int config_memory_parse(const char *s, uint64_t *out, char *why, size_t n)
{
	uint64_t bytes;
	int ret = vm_config_parse_size(s, &bytes);

	if (ret == -EINVAL) {
		snprintf(why, n, "bad size \"%.*s%s\" (expected a number with an optional K, M, G or T suffix, "
			 "e.g. 512M or 2G; a bare number is MiB)", CONFIG_QUOTE(s));
		return -EINVAL;
	}
	if (ret < 0 || bytes < VM_MIN_MEMORY || bytes > VM_MAX_MEMORY) {
		snprintf(why, n, "%.*s%s is out of range (expected 64M to 1T)", CONFIG_QUOTE(s));
		return -EINVAL;
	}
	if (bytes % (1ull << 20)) {
		snprintf(why, n, "%.*s%s is not a whole number of MiB (e.g. use %" PRIu64 "M)",
			 CONFIG_QUOTE(s), (uint64_t)((bytes + (1ull << 20) - 1) >> 20));
		return -EINVAL;
	}
	*out = bytes;
	return 0;
}

int config_uint_parse(const char *s, unsigned int min, unsigned int max, unsigned int *out,
		      char *why, size_t n)
{
	unsigned long long v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned int)(*p - '0');
		if (v > UINT_MAX)
			goto range;
	}
	if (*p != '\0')
		goto bad;
	if (v < min || v > max)
		goto range;
	*out = (unsigned int)v;
	return 0;
bad:
	snprintf(why, n, "\"%.*s%s\" is not a whole number (expected %u to %u)", CONFIG_QUOTE(s), min, max);
	return -EINVAL;
range:
	snprintf(why, n, "%.*s%s is out of range (expected %u to %u)", CONFIG_QUOTE(s), min, max);
	return -EINVAL;
}

int config_bool_parse(const char *s, bool *out, char *why, size_t n)
{
	static const char *const yes[] = { "on", "yes", "true" };
	static const char *const no[] = { "off", "no", "false" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	snprintf(why, n, "\"%.*s%s\" is not on or off (yes/no and true/false work too)", CONFIG_QUOTE(s));
	return -EINVAL;
}

int config_cache_parse(const char *s, enum blk_cache_mode *out, char *why, size_t n)
{
	if (blk_cache_mode_parse(s, out) == 0)
		return 0;
	snprintf(why, n, "unknown cache mode \"%.*s%s\" (expected %s, %s, %s, %s or %s)", CONFIG_QUOTE(s),
		 blk_cache_mode_name(BLK_CACHE_WRITEBACK), blk_cache_mode_name(BLK_CACHE_NONE),
		 blk_cache_mode_name(BLK_CACHE_WRITETHROUGH), blk_cache_mode_name(BLK_CACHE_DIRECTSYNC),
		 blk_cache_mode_name(BLK_CACHE_UNSAFE));
	return -EINVAL;
}

int config_format_parse(const char *s, bool *raw, char *why, size_t n)
{
	if (strcmp(s, "raw") == 0) {
		*raw = true;
		return 0;
	}
	snprintf(why, n, "\"%.*s%s\" is not a format vmm takes: it takes raw images only (convert one with "
		 "qemu-img convert -O raw IMAGE DISK.img, and set format to raw or leave it out)", CONFIG_QUOTE(s));
	return -EINVAL;
}

int config_serial_parse(const char *s, enum vm_serial_mode *mode, const char **path,
			char *why, size_t n)
{
	if (strcmp(s, "stdio") == 0) {
		*mode = VM_SERIAL_STDIO;
		*path = NULL;
		return 0;
	}
	if (strcmp(s, "none") == 0) {
		*mode = VM_SERIAL_NONE;
		*path = NULL;
		return 0;
	}
	if (strncmp(s, "file:", 5) == 0) {
		if (s[5] == '\0') {
			snprintf(why, n, "file: needs a path (e.g. file:console.log)");
			return -EINVAL;
		}
		*mode = VM_SERIAL_FILE;
		*path = s + 5;
		return 0;
	}
	snprintf(why, n, "unknown serial mode \"%.*s%s\" (expected stdio, none or file:PATH)", CONFIG_QUOTE(s));
	return -EINVAL;
}

int config_id_check(const char *s, char *why, size_t n)
{
	size_t len = strlen(s);

	if (len == 0) {
		snprintf(why, n, "drive id is empty (use letters, digits, '_' and '-')");
		return -EINVAL;
	}
	if (len > VM_DRIVE_ID_MAX) {
		snprintf(why, n, "drive id \"%.*s%s\" is longer than %d characters (shorten it)", CONFIG_QUOTE(s),
			 VM_DRIVE_ID_MAX);
		return -EINVAL;
	}
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p >= 0x80) {
			/* One byte of a multi-byte character would be no character at all in the message. */
			snprintf(why, n, "drive id \"%s\" has a character that is not ASCII (use only letters, "
				 "digits, '_' and '-')", s);
			return -EINVAL;
		}
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') {
			snprintf(why, n, "drive id \"%s\" has a '%c' (use only letters, digits, '_' and '-')",
				 s, *p);
			return -EINVAL;
		}
	}
	return 0;
}

int config_drive_serial_check(const char *s, char *why, size_t n)
{
	size_t len = strlen(s);

	if (len == 0) {
		snprintf(why, n, "serial is empty (leave it out for no serial)");
		return -EINVAL;
	}
	if (len > VM_DRIVE_SERIAL_MAX) {
		snprintf(why, n, "serial \"%.*s%s\" is %zu bytes; virtio-blk allows at most %d (shorten it)",
			 CONFIG_QUOTE(s), len, VM_DRIVE_SERIAL_MAX);
		return -EINVAL;
	}
	/* Printable, no blanks, and nothing --drive or INI would split on, so it round-trips. */
	for (const char *p = s; *p; p++) {
		if (!isgraph((unsigned char)*p) || *p == ',' || *p == ';') {
			snprintf(why, n, "serial \"%.*s%s\" has a character other than printable ASCII "
				 "without blanks, ',' or ';'", CONFIG_QUOTE(s));
			return -EINVAL;
		}
	}
	return 0;
}

int vm_config_origin_format(const struct vm_config_origin *o, char *buf, size_t size)
{
	if (!o->file)
		return snprintf(buf, size, "%s", "");
	return snprintf(buf, size, "%s:%d", o->file, o->line);
}

/* "vm.ini:12: key: " for an INI setting, "--opt: " for the command line or a default. */
static void where_prefix(const struct vm_config_origin *o, const char *key, const char *opt,
			 char *buf, size_t n)
{
	if (o->file)
		snprintf(buf, n, "%s:%d: %s: ", o->file, o->line, key);
	else
		snprintf(buf, n, "--%s: ", opt);
}

static int validate_drive(const struct vm_config *cfg, unsigned int i, struct vm_config_error *err)
{
	const struct vm_drive_config *d = &cfg->drives[i];
	char pre[PATH_MAX + 128], why[300];

	if (d->origin.file)
		snprintf(pre, sizeof(pre), "%s:%d: [drive \"%s\"]: ", d->origin.file, d->origin.line,
			 d->id ? d->id : "?");
	else
		snprintf(pre, sizeof(pre), "--drive %s%s: ", d->id ? "id=" : "#",
			 d->id ? d->id : "");
	if (!d->file || !d->file[0]) {
		config_err_set(err, "%sno file given (add file=PATH)", pre);
		return -EINVAL;
	}
	if (d->id && config_id_check(d->id, why, sizeof(why)) < 0) {
		config_err_set(err, "%s%s", pre, why);
		return -EINVAL;
	}
	if (!blk_cache_mode_name(d->cache)) {
		config_err_set(err, "%sinvalid cache mode %d", pre, (int)d->cache);
		return -EINVAL;
	}
	if (d->serial && config_drive_serial_check(d->serial, why, sizeof(why)) < 0) {
		config_err_set(err, "%s%s", pre, why);
		return -EINVAL;
	}
	for (unsigned int j = 0; d->id && j < i; j++) {
		const struct vm_drive_config *e = &cfg->drives[j];
		char at[PATH_MAX + 32];

		if (!e->id || strcmp(e->id, d->id) != 0)
			continue;
		if (e->origin.file)
			snprintf(at, sizeof(at), "%s:%d", e->origin.file, e->origin.line);
		else
			snprintf(at, sizeof(at), "an earlier --drive");
		config_err_set(err, "%sdrive id \"%s\" is also used by %s; give each drive its own id",
			       pre, d->id, at);
		return -EINVAL;
	}
	return 0;
}

int vm_config_validate(const struct vm_config *cfg, struct vm_config_error *err)
{
	char pre[PATH_MAX + 64];

	if (!cfg->kernel || !cfg->kernel[0]) {
		if (cfg->nsources)
			config_err_set(err, "no kernel in %s: add \"kernel = PATH\" under [boot], "
				       "or pass --kernel PATH", cfg->sources[cfg->nsources - 1]);
		else
			config_err_set(err, "no kernel given: pass --kernel PATH (see vmm --help)");
		return -EINVAL;
	}
	if (cfg->initrd && !cfg->initrd[0]) {
		where_prefix(&cfg->where.initrd, "initrd", "initrd", pre, sizeof(pre));
		config_err_set(err, "%sempty path", pre);
		return -EINVAL;
	}
	if (cfg->memory < VM_MIN_MEMORY || cfg->memory > VM_MAX_MEMORY ||
	    cfg->memory % (1ull << 20)) {
		where_prefix(&cfg->where.memory, "memory", "memory", pre, sizeof(pre));
		config_err_set(err, "%s%" PRIu64 " bytes is out of range (expected a whole number "
			       "of MiB from 64M to 1T)", pre, cfg->memory);
		return -EINVAL;
	}
	if (cfg->cpus < 1 || cfg->cpus > VM_MAX_CPUS) {
		where_prefix(&cfg->where.cpus, "cpus", "cpus", pre, sizeof(pre));
		config_err_set(err, "%s%u is out of range (expected 1 to %d)", pre, cfg->cpus,
			       VM_MAX_CPUS);
		return -EINVAL;
	}
	if (cfg->timeout > VM_MAX_TIMEOUT) {
		where_prefix(&cfg->where.timeout, "timeout", "timeout", pre, sizeof(pre));
		config_err_set(err, "%s%u is out of range (expected 0 to %u seconds)", pre,
			       cfg->timeout, VM_MAX_TIMEOUT);
		return -EINVAL;
	}
	if (cfg->serial != VM_SERIAL_STDIO && cfg->serial != VM_SERIAL_FILE &&
	    cfg->serial != VM_SERIAL_NONE) {
		config_err_set(err, "invalid serial mode %d", (int)cfg->serial);
		return -EINVAL;
	}
	if (cfg->serial == VM_SERIAL_FILE && (!cfg->serial_path || !cfg->serial_path[0])) {
		where_prefix(&cfg->where.serial, "serial", "serial", pre, sizeof(pre));
		config_err_set(err, "%sfile: needs a path (e.g. file:console.log)", pre);
		return -EINVAL;
	}
	if (cfg->stats_path && !cfg->stats_path[0]) {
		where_prefix(&cfg->where.stats, "stats", "stats", pre, sizeof(pre));
		config_err_set(err, "%sempty path", pre);
		return -EINVAL;
	}
	if (cfg->ndrives > VM_MAX_DRIVES) {
		config_err_set(err, "too many drives: %u (at most %d)", cfg->ndrives, VM_MAX_DRIVES);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->ndrives; i++) {
		int ret = validate_drive(cfg, i, err);

		if (ret < 0)
			return ret;
	}
	return 0;
}

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

	for (unsigned int i = 0; i < cfg->ndrives; i++) {
		const struct vm_drive_config *d = &cfg->drives[i];
		const char *cache = blk_cache_mode_name(d->cache);

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
	if (fflush(out) == EOF || ferror(out))
		return -EIO;
	return 0;
}

void vm_config_usage(FILE *out)
{
	fputs(
"Usage: vmm --kernel PATH [options]\n"
"       vmm --config FILE [options]\n"
"Run one throwaway KVM microVM; vmm exits when the guest powers off.\n"
"\n"
"Boot:\n"
"  --kernel PATH        Linux kernel: bzImage or ELF vmlinux (required)\n"
"  --initrd PATH        initramfs to load\n"
"  --cmdline STRING     kernel command line (default \"" VM_DEFAULT_CMDLINE "\").\n"
"                       vmm appends \"reboot=k panic=-1 pci=off\" to the kernel's part\n"
"                       (before any \" -- \"); words after \" -- \" go to the\n"
"                       guest's init.\n"
"Machine:\n"
"  --memory SIZE        guest RAM, 64M to 1T (default 256M); K, M, G or T\n"
"                       suffix, a bare number is MiB\n"
"  --cpus N             vCPUs, 1 to 64 (default 1)\n"
"  --timeout SECONDS    stop the guest after this long, 0 to 86400 (default 0: none)\n"
"Drives (virtio-blk, repeatable, at most 8, in order):\n"
"  --drive file=PATH[,cache=MODE][,readonly=on|off][,id=NAME][,serial=STR][,poll=US]\n"
"        [,format=raw]\n"
"                       cache: writeback (default), none, writethrough,\n"
"                       directsync or unsafe; readonly also takes yes/no,\n"
"                       true/false (default off); id: letters, digits, _ and -\n"
"                       (default drive<N>; replaces a --config drive of that id);\n"
"                       serial: up to 20 bytes, the guest's disk ID; poll: how\n"
"                       long the drive's I/O thread may busy-poll for work\n"
"                       before sleeping, 0 to 1000 us (default 64; 0: never);\n"
"                       images are raw: one that starts with another format's\n"
"                       header (qcow2, vmdk, vhdx, vhd, vdi, ...) is refused\n"
"                       unless format=raw says it is a raw disk\n"
"Configuration:\n"
"  --config FILE        read settings from an INI file (repeatable, in order);\n"
"                       the other options override it, see docs/configuration.md\n"
"  --print-config       print the merged configuration as INI and exit\n"
"Output:\n"
"  --serial MODE        guest console: stdio (default), none or file:PATH\n"
"  --stats FILE         write run statistics (block I/O counters etc.) at exit\n"
"  -v, --verbose        log set-up steps and the first 256 unhandled\n"
"                       guest accesses\n"
"  -h, --help           show this help and exit\n"
"      --version        show the version and exit\n"
"\n"
"Exit status:\n"
"    0  the guest powered off\n"
"    N  the byte the guest wrote to I/O port 0x501\n"
"    1  vmm error\n"
"    2  usage or configuration error\n"
"  123  guest reset, reboot, panic or triple fault without reporting a\n"
"       status (a triple fault is reported on stderr)\n"
"  124  --timeout expired\n"
"  125  KVM internal error or failed VM entry (registers printed)\n"
"  130  stopped by SIGINT, 143 by SIGTERM (drives are flushed per their cache\n"
"       mode first)\n",
	      out);
}

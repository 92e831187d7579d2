/* SPDX-License-Identifier: MIT */
/* Value parsers shared by the command line and the INI reader: sizes, numbers, switches, modes, ids and serials. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config_value_internal.h"

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

int config_snapshot_parse(const char *s, enum vm_drive_snapshot *out, char *why, size_t n)
{
	if (strcmp(s, "on") == 0 || strcmp(s, "off") == 0) {
		*out = s[1] == 'n' ? VM_SNAPSHOT_ON : VM_SNAPSHOT_OFF;
		return 0;
	}
	snprintf(why, n, "\"%.*s%s\" is not on or off (on: the guest's writes go to a throwaway overlay and "
		 "the image is never written)", CONFIG_QUOTE(s));
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

int config_sandbox_parse(const char *s, bool *on, char *why, size_t n)
{
	if (strcmp(s, "on") == 0 || strcmp(s, "off") == 0) {
		*on = s[1] == 'n';
		return 0;
	}
	snprintf(why, n, "\"%.*s%s\" is neither on nor off (the sandbox is on by default; off is for debugging a "
		 "filter, see docs/security.md)", CONFIG_QUOTE(s));
	return -EINVAL;
}

int config_user_check(const char *s, char *why, size_t n)
{
	const char *colon = strchr(s, ':');
	size_t len = strlen(s);

	if (len == 0) {
		snprintf(why, n, "user is empty (give USER or USER:GROUP, by name or number)");
		return -EINVAL;
	}
	if (len > VM_USER_MAX) {
		snprintf(why, n, "user \"%.*s%s\" is %zu bytes, longer than the %d vmm takes", CONFIG_QUOTE(s), len,
			 VM_USER_MAX);
		return -EINVAL;
	}
	for (const char *p = s; *p; p++) {
		if (!isgraph((unsigned char)*p) || *p == ';') {
			snprintf(why, n, "user \"%.*s%s\" has a character other than printable ASCII without blanks or ';'",
				 CONFIG_QUOTE(s));
			return -EINVAL;
		}
	}
	if (colon == s || (colon && (!colon[1] || strchr(colon + 1, ':')))) {
		snprintf(why, n, "\"%.*s%s\" is not USER or USER:GROUP (each a name or a number)", CONFIG_QUOTE(s));
		return -EINVAL;
	}
	return 0;
}

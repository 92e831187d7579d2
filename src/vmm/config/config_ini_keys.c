/* SPDX-License-Identifier: MIT */
/* What an INI file's sections and keys mean: each checked and set in struct vm_config, the first error kept with its line. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_ini_ctx_internal.h"
#include "config_internal.h"
#include "config_value_internal.h"
#include "vm_config.h"

void ini_fail(struct ini_ctx *c, int line, int code, const char *fmt, ...)
{
	char *body;
	va_list ap;
	int n;

	if (c->err_line)
		return;
	va_start(ap, fmt);
	n = vasprintf(&body, fmt, ap);
	va_end(ap);
	/* Whole, however long a value it quotes: config_err_set shortens it to fit. */
	config_err_set(c->err, "%s:%d: %s", c->name, line, n < 0 ? "out of memory" : body);
	if (n >= 0)
		free(body);
	c->err_line = line;
	c->err_seen_at = c->lineno;
	c->err_code = code;
}

/* Joins a possibly relative INI value to the INI's directory. NULL on ENOMEM. */
static char *ini_path_resolve(const struct ini_ctx *c, const char *value)
{
	char *out;
	size_t dl;

	if (value[0] == '/')
		return strdup(value);
	dl = strlen(c->dir);
	if (asprintf(&out, "%s%s%s", c->dir, dl && c->dir[dl - 1] == '/' ? "" : "/", value) < 0)
		return NULL;
	return out;
}

static int ini_path_set(struct ini_ctx *c, char **slot, const char *value)
{
	char *p = ini_path_resolve(c, value);

	if (!p)
		return -ENOMEM;
	free(*slot);
	*slot = p;
	return 0;
}

/* Which section a known key belongs in, for "put it under [...]" hints. */
static const char *ini_key_home(const char *key)
{
	static const struct {
		const char *key, *section;
	} homes[] = {
		{ "memory", "[machine]" }, { "cpus", "[machine]" }, { "timeout", "[machine]" },
		{ "kernel", "[boot]" }, { "initrd", "[boot]" }, { "cmdline", "[boot]" },
		{ "kernel-cache", "[boot]" },
		{ "file", "[drive \"ID\"]" }, { "cache", "[drive \"ID\"]" },
		{ "readonly", "[drive \"ID\"]" }, { "poll", "[drive \"ID\"]" }, { "format", "[drive \"ID\"]" },
		{ "snapshot", "[drive \"ID\"]" },
		{ "stats", "[output]" },
		{ "sandbox", "[security]" }, { "user", "[security]" },
	};

	for (size_t i = 0; i < sizeof(homes) / sizeof(homes[0]); i++) {
		if (strcmp(key, homes[i].key) == 0)
			return homes[i].section;
	}
	return NULL;
}

/*
 * Splits a drive section name: `drive "ID"` or `drive.ID`. 1 and *id (a
 * checked copy the caller frees) for drive sections, 0 for other sections,
 * -EINVAL/-ENOMEM (message set) for a malformed drive section.
 */
static int ini_drive_section(struct ini_ctx *c, const char *section, int line, char **id)
{
	const char *p, *end;
	char why[200];

	*id = NULL;
	if (strncmp(section, "drive", 5) != 0)
		return 0;
	p = section + 5;
	if (*p == '\0') {
		ini_fail(c, line, -EINVAL, "[drive] needs an id: write [drive \"NAME\"] or [drive.NAME]");
		return -EINVAL;
	}
	if (*p == '.') {
		p++;
		end = p + strlen(p);
	} else if (isspace((unsigned char)*p)) {
		while (isspace((unsigned char)*p))
			p++;
		end = p + strlen(p);
		if (*p != '"' || end - p < 2 || end[-1] != '"') {
			ini_fail(c, line, -EINVAL, "bad section [%s]: write [drive \"NAME\"] or [drive.NAME]",
				 section);
			return -EINVAL;
		}
		p++;
		end--;
	} else {
		return 0;
	}
	*id = strndup(p, (size_t)(end - p));
	if (!*id) {
		ini_fail(c, line, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	if (config_id_check(*id, why, sizeof(why)) < 0) {
		ini_fail(c, line, -EINVAL, "%s", why);
		free(*id);
		*id = NULL;
		return -EINVAL;
	}
	return 1;
}

/*
 * The drive section s (its name the id) takes its slot in cfg->drives: the
 * slot of a drive with that id from an earlier file, which it replaces, or a
 * new one. 0, or -EINVAL/-ENOMEM after ini_fail.
 */
static int ini_drive_slot_take(struct ini_ctx *c, struct ini_seen_section *s)
{
	struct vm_config *cfg = c->cfg;
	int slot = config_drive_find(cfg, s->name);

	if (slot < 0) {
		if (cfg->ndrives >= VM_MAX_DRIVES) {
			ini_fail(c, s->line, -EINVAL, "too many drives (at most %d)", VM_MAX_DRIVES);
			return -EINVAL;
		}
		slot = (int)cfg->ndrives++;
	}
	/* A drive of the same id from an earlier file is replaced, not merged. */
	config_drive_clear(&cfg->drives[slot]);
	cfg->drives[slot].id = strdup(s->name);
	if (!cfg->drives[slot].id) {
		ini_fail(c, s->line, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	cfg->drives[slot].origin.file = c->name;
	cfg->drives[slot].origin.line = s->line;
	s->slot = slot;
	return 0;
}

int ini_section_begin(struct ini_ctx *c, const char *section, int line)
{
	static const char *const plain[] = { "machine", "boot", "output", "security" };
	struct ini_seen_section *grown, *s;
	char *id = NULL;
	bool known = false;
	int ret;

	if (section[0] == '\0')
		return 0;   /* keys before any header: reported per key */
	ret = ini_drive_section(c, section, line, &id);
	if (ret < 0)
		return ret;
	for (size_t i = 0; !id && i < sizeof(plain) / sizeof(plain[0]); i++)
		known |= strcmp(section, plain[i]) == 0;
	if (!id && !known) {
		ini_fail(c, line, -EINVAL, "unknown section [%s] (expected [machine], [boot], "
			 "[drive \"ID\"], [output] or [security])", section);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->nsections; i++) {
		s = &c->sections[i];
		if (s->drive != (id != NULL) || strcmp(s->name, id ? id : section) != 0)
			continue;
		if (id)
			ini_fail(c, line, -EINVAL, "duplicate drive section for id \"%s\" (first at line %d); "
				 "give each drive its own id", id, s->line);
		else
			ini_fail(c, line, -EINVAL, "duplicate section [%s] (first at line %d); merge them "
				 "into one", section, s->line);
		free(id);
		return -EINVAL;
	}

	grown = realloc(c->sections, (c->nsections + 1) * sizeof(*grown));
	if (!grown) {
		free(id);
		ini_fail(c, line, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	c->sections = grown;
	s = &c->sections[c->nsections];
	memset(s, 0, sizeof(*s));
	s->name = id ? id : strdup(section);
	if (!s->name) {
		ini_fail(c, line, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	s->drive = id != NULL;
	s->line = line;
	s->slot = -1;
	c->nsections++;

	if (s->drive) {
		ret = ini_drive_slot_take(c, s);
		if (ret < 0)
			return ret;
	}
	c->cur = s;
	return 0;
}

static int ini_key_remember(struct ini_ctx *c, const char *section, const char *key, int line)
{
	struct ini_seen_key *grown;

	for (size_t i = 0; i < c->nkeys; i++) {
		if (strcmp(c->keys[i].section, section) == 0 && strcmp(c->keys[i].key, key) == 0) {
			ini_fail(c, line, -EINVAL, "%s: set twice in this section (first at line %d); "
				 "keep one", key, c->keys[i].line);
			return -EINVAL;
		}
	}
	grown = realloc(c->keys, (c->nkeys + 1) * sizeof(*grown));
	if (!grown)
		goto nomem;
	c->keys = grown;
	c->keys[c->nkeys].section = strdup(section);
	c->keys[c->nkeys].key = strdup(key);
	c->keys[c->nkeys].line = line;
	c->nkeys++;
	if (!c->keys[c->nkeys - 1].section || !c->keys[c->nkeys - 1].key)
		goto nomem;
	return 0;
nomem:
	ini_fail(c, line, -ENOMEM, "out of memory");
	return -ENOMEM;
}

static int ini_unknown_key(struct ini_ctx *c, const char *where, const char *key,
			   const char *expected, int line)
{
	const char *home = ini_key_home(key);

	if (home && strcmp(where, home) != 0)
		ini_fail(c, line, -EINVAL, "%s: not a %s setting; put it under %s", key, where, home);
	else
		ini_fail(c, line, -EINVAL, "unknown key \"%s\" in %s (expected %s)", key, where,
			 expected);
	return -EINVAL;
}

static int ini_machine_key(struct ini_ctx *c, const char *key, const char *value, int line)
{
	struct vm_config *cfg = c->cfg;
	struct vm_config_origin here = { c->name, line };
	char why[300];

	if (strcmp(key, "memory") == 0) {
		if (config_memory_parse(value, &cfg->memory, why, sizeof(why)) < 0)
			goto bad;
		cfg->where.memory = here;
	} else if (strcmp(key, "cpus") == 0) {
		if (config_uint_parse(value, 1, VM_MAX_CPUS, &cfg->cpus, why, sizeof(why)) < 0)
			goto bad;
		cfg->where.cpus = here;
	} else if (strcmp(key, "timeout") == 0) {
		if (config_uint_parse(value, 0, VM_MAX_TIMEOUT, &cfg->timeout, why, sizeof(why)) < 0)
			goto bad;
		cfg->where.timeout = here;
	} else {
		return ini_unknown_key(c, "[machine]", key, "memory, cpus or timeout", line);
	}
	return 0;
bad:
	ini_fail(c, line, -EINVAL, "%s: %s", key, why);
	return -EINVAL;
}

static int ini_boot_key(struct ini_ctx *c, const char *key, const char *value, int line)
{
	struct vm_config *cfg = c->cfg;
	struct vm_config_origin here = { c->name, line };
	int ret;

	if (strcmp(key, "kernel") == 0) {
		ret = ini_path_set(c, &cfg->kernel, value);
		cfg->where.kernel = here;
	} else if (strcmp(key, "initrd") == 0) {
		ret = ini_path_set(c, &cfg->initrd, value);
		cfg->where.initrd = here;
	} else if (strcmp(key, "cmdline") == 0) {
		ret = config_str_set(&cfg->cmdline, value);
		cfg->where.cmdline = here;
	} else if (strcmp(key, "kernel-cache") == 0) {
		cfg->kernel_cache_off = strcmp(value, "off") == 0;
		ret = cfg->kernel_cache_off ? config_str_set(&cfg->kernel_cache, NULL)
					    : ini_path_set(c, &cfg->kernel_cache, value);
		cfg->where.kernel_cache = here;
	} else {
		return ini_unknown_key(c, "[boot]", key, "kernel, initrd, cmdline or kernel-cache", line);
	}
	if (ret < 0)
		ini_fail(c, line, ret, "out of memory");
	return ret;
}

static int ini_drive_key(struct ini_ctx *c, const char *key, const char *value, int line)
{
	struct vm_drive_config *d = &c->cfg->drives[c->cur->slot];
	char why[300];
	int ret = 0;

	if (strcmp(key, "file") == 0) {
		ret = ini_path_set(c, &d->file, value);
		d->file_origin = (struct vm_config_origin){ c->name, line };
		c->cur->has_file = true;
	} else if (strcmp(key, "cache") == 0) {
		if (config_cache_parse(value, &d->cache, why, sizeof(why)) < 0)
			goto bad;
		d->cache_origin = (struct vm_config_origin){ c->name, line };
	} else if (strcmp(key, "readonly") == 0) {
		if (config_bool_parse(value, &d->readonly, why, sizeof(why)) < 0)
			goto bad;
	} else if (strcmp(key, "serial") == 0) {
		if (config_drive_serial_check(value, why, sizeof(why)) < 0)
			goto bad;
		ret = config_str_set(&d->serial, value);
	} else if (strcmp(key, "poll") == 0) {
		if (config_uint_parse(value, 0, VM_DRIVE_POLL_US_MAX, &d->poll_us, why, sizeof(why)) < 0)
			goto bad;
	} else if (strcmp(key, "format") == 0) {
		if (config_format_parse(value, &d->format_raw, why, sizeof(why)) < 0)
			goto bad;
	} else if (strcmp(key, "snapshot") == 0) {
		if (config_snapshot_parse(value, &d->snapshot, why, sizeof(why)) < 0)
			goto bad;
	} else if (strcmp(key, "id") == 0) {
		ini_fail(c, line, -EINVAL, "id: the section name is the drive's id; write "
			 "[drive \"NAME\"] instead");
		return -EINVAL;
	} else {
		return ini_unknown_key(c, "[drive \"ID\"]", key, "file, cache, readonly, serial, poll, format or snapshot",
				       line);
	}
	if (ret < 0)
		ini_fail(c, line, ret, "out of memory");
	return ret;
bad:
	ini_fail(c, line, -EINVAL, "%s: %s", key, why);
	return -EINVAL;
}

static int ini_output_key(struct ini_ctx *c, const char *key, const char *value, int line)
{
	struct vm_config *cfg = c->cfg;
	struct vm_config_origin here = { c->name, line };
	enum vm_serial_mode mode;
	const char *path;
	char why[300];
	int ret = 0;

	if (strcmp(key, "serial") == 0) {
		if (config_serial_parse(value, &mode, &path, why, sizeof(why)) < 0) {
			ini_fail(c, line, -EINVAL, "serial: %s", why);
			return -EINVAL;
		}
		cfg->serial = mode;
		if (path)
			ret = ini_path_set(c, &cfg->serial_path, path);
		else
			ret = config_str_set(&cfg->serial_path, NULL);
		cfg->where.serial = here;
	} else if (strcmp(key, "stats") == 0) {
		ret = ini_path_set(c, &cfg->stats_path, value);
		cfg->where.stats = here;
	} else {
		return ini_unknown_key(c, "[output]", key, "serial or stats", line);
	}
	if (ret < 0)
		ini_fail(c, line, ret, "out of memory");
	return ret;
}

static int ini_security_key(struct ini_ctx *c, const char *key, const char *value, int line)
{
	struct vm_config *cfg = c->cfg;
	struct vm_config_origin here = { c->name, line };
	char why[300];

	if (strcmp(key, "sandbox") == 0) {
		if (config_sandbox_parse(value, &cfg->sandbox, why, sizeof(why)) < 0)
			goto bad;
		cfg->where.sandbox = here;
	} else if (strcmp(key, "user") == 0) {
		if (config_user_check(value, why, sizeof(why)) < 0)
			goto bad;
		if (config_str_set(&cfg->user, value) < 0) {
			ini_fail(c, line, -ENOMEM, "out of memory");
			return -ENOMEM;
		}
		cfg->where.user = here;
	} else {
		return ini_unknown_key(c, "[security]", key, "sandbox or user", line);
	}
	return 0;
bad:
	ini_fail(c, line, -EINVAL, "%s: %s", key, why);
	return -EINVAL;
}

int ini_key_set(struct ini_ctx *c, const char *section, const char *key, const char *value, int line)
{
	int ret;

	if (section[0] == '\0') {
		const char *home = ini_key_home(key);

		if (home)
			ini_fail(c, line, -EINVAL, "%s: setting outside a section; put it under %s", key, home);
		else
			ini_fail(c, line, -EINVAL, "\"%s\" is outside a section (sections are [machine], "
				 "[boot], [drive \"ID\"], [output] and [security])", key);
		return -EINVAL;
	}
	/*
	 * By the section as written: a drive's id alone would make [drive "output"]'s
	 * serial clash with [output]'s. Each instance has its own name (a repeat is refused).
	 */
	ret = ini_key_remember(c, section, key, line);
	if (ret < 0)
		return ret;
	if (value[0] == '\0' && strcmp(key, "cmdline") != 0) {
		ini_fail(c, line, -EINVAL, "%s: empty value; give one or remove the line", key);
		return -EINVAL;
	}
	if (c->cur->drive)
		return ini_drive_key(c, key, value, line);
	if (strcmp(section, "machine") == 0)
		return ini_machine_key(c, key, value, line);
	if (strcmp(section, "boot") == 0)
		return ini_boot_key(c, key, value, line);
	if (strcmp(section, "security") == 0)
		return ini_security_key(c, key, value, line);
	return ini_output_key(c, key, value, line);
}

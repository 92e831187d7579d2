/* SPDX-License-Identifier: MIT */
/* Reading --config INI files with inih into struct vm_config, with file:line in every message. */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_ini_internal.h"
#include "config_internal.h"
#include "config_value_internal.h"
#include "vm_config.h"

/* Big enough for any sane config; stops a mistaken --config /dev/zero. */
#define INI_FILE_MAX (1u << 20)
/* Longest line we ask inih to accept where its line buffer is tunable (long kernel command lines). */
#define INI_LINE_MAX 4096

struct ini_seen_key {
	char *section;
	char *key;
	int line;
};

struct ini_seen_section {
	char *name;       /* "machine", or the drive id for drive sections */
	bool drive;
	int line;         /* header line */
	int slot;         /* drives: index in cfg->drives */
	bool has_file;
};

struct ini_ctx {
	struct vm_config *cfg;
	struct vm_config_error *err;
	const char *name;         /* as given, owned by cfg->sources */
	char *dir;                /* absolute directory relative paths start from */

	/* Our reader's view of the text, so each handler call knows its line. */
	const char *text;
	size_t pos;
	int lineno;               /* line most recently handed to inih */
	int header_line;          /* last line that starts with '[' */
	const char *header_text;  /* that line, from its '[' (not NUL-terminated) */
	int last_key_line;

	/* First error wins; the reader stops feeding inih once it is set. */
	int err_line;             /* line the message names */
	int err_seen_at;          /* line being read when it was found (a key can blame its header) */
	int err_code;

	/* The section instance keys currently go to. */
	char *cur_section;
	struct ini_seen_section *cur;

	struct ini_seen_key *keys;
	size_t nkeys;
	struct ini_seen_section *sections;
	size_t nsections;
};

static void ini_fail(struct ini_ctx *c, int line, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void ini_fail(struct ini_ctx *c, int line, int code, const char *fmt, ...)
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

static int ini_section_begin(struct ini_ctx *c, const char *section, int line);

/*
 * inih calls the handler only for keys, so a section with none would pass
 * unseen: a misspelt [machin] or a [drive "data"] whose keys were forgotten
 * would be silently dropped. The reader calls this when the section after
 * header_line has ended (at the next header or at the end), and an empty
 * section goes through the same checks as one with keys: its name must be
 * known and not repeated, and a drive section then lacks its file. The name
 * is cut out as inih cuts it: everything between '[' and the first ']'. A
 * header without ']' is left to inih, which rejects the line.
 */
static void ini_empty_section_check(struct ini_ctx *c)
{
	size_t end;
	char *name;

	if (!c->header_line || c->header_line < c->last_key_line)
		return;
	end = strcspn(c->header_text, "]\n");
	if (c->header_text[end] != ']')
		return;
	name = strndup(c->header_text + 1, end - 1);
	if (!name) {
		ini_fail(c, c->header_line, -ENOMEM, "out of memory");
		return;
	}
	/* The next key begins its own section anyway: the handler sees a header after the last key. */
	(void)ini_section_begin(c, name, c->header_line);
	free(name);
}

/*
 * What inih lets through in a header line [p, end): it takes the name up to
 * the first ']' and ignores the rest of the line, so "[]" (no name: keys
 * would land outside any section) and "[machine] junk" passed silently.
 * A header without ']' is left to inih, which rejects it.
 */
static int ini_header_check(struct ini_ctx *c, const char *p, const char *end)
{
	const char *close = memchr(p, ']', (size_t)(end - p));
	const char *q;

	if (!close)
		return 0;
	if (close == p + 1) {
		ini_fail(c, c->lineno, -EINVAL, "empty section name []: write [machine], [boot], "
			 "[drive \"ID\"] or [output]");
		return -EINVAL;
	}
	for (q = close + 1; q < end && isspace((unsigned char)*q); q++)
		;
	if (q < end && *q != ';' && *q != '#') {
		ini_fail(c, c->lineno, -EINVAL, "text after the section header [%.*s]; put it on a line "
			 "of its own, or after ';' as a comment", (int)(close - p - 1), p + 1);
		return -EINVAL;
	}
	return 0;
}

/*
 * inih's handler is not given the line number unless the library was built
 * with INI_HANDLER_LINENO, which Debian's is not. So we feed inih through
 * ini_parse_stream with this reader, which hands over exactly one line per
 * call and counts them: when the handler runs, lineno is its line. A line
 * too long for inih's buffer is reported here rather than silently split.
 */
static char *ini_ctx_read_line(char *str, int num, void *stream)
{
	struct ini_ctx *c = stream;
	const char *start = c->text + c->pos;
	const char *nl, *p;
	size_t len;

	if (c->err_line)
		return NULL;
	if (*start == '\0') {
		ini_empty_section_check(c);
		return NULL;
	}
	nl = strchr(start, '\n');
	len = nl ? (size_t)(nl - start) + 1 : strlen(start);
	c->lineno++;
	/* The line, its newline and the terminating NUL must fit in inih's buffer. */
	if (num < 3 || len + 1 > (size_t)num) {
		ini_fail(c, c->lineno, -EINVAL, "line is longer than %d characters; shorten it "
			 "(a long cmdline can be given with --cmdline)", num - 2);
		return NULL;
	}
	memcpy(str, start, len);
	str[len] = '\0';
	c->pos += len;
	p = start;
	/* inih skips a UTF-8 byte order mark on the first line: so must the header checks. */
	if (c->lineno == 1 && len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	for (; p < start + len && *p != '\n'; p++) {
		if (isspace((unsigned char)*p))
			continue;
		if (*p == '[') {
			/* The section before this header is complete: did it get any keys? */
			ini_empty_section_check(c);
			if (c->err_line)
				return NULL;
			c->header_line = c->lineno;
			c->header_text = p;
			if (ini_header_check(c, p, start + len) < 0)
				return NULL;
		}
		break;
	}
	return str;
}

size_t config_ini_line_max(void)
{
	/* inih's buffer holds the line, its newline and a NUL (see ini_ctx_read_line). */
#ifdef VM_CONFIG_INIH_RUNTIME_OPTIONS
	return INI_LINE_MAX - 2;
#else
	return INI_MAX_LINE - 2;
#endif
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
		{ "file", "[drive \"ID\"]" }, { "cache", "[drive \"ID\"]" },
		{ "readonly", "[drive \"ID\"]" }, { "poll", "[drive \"ID\"]" }, { "format", "[drive \"ID\"]" },
		{ "stats", "[output]" },
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

/* A key arrives in a section instance we have not seen keys from yet. */
static int ini_section_begin(struct ini_ctx *c, const char *section, int line)
{
	static const char *const plain[] = { "machine", "boot", "output" };
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
			 "[drive \"ID\"] or [output])", section);
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
		struct vm_config *cfg = c->cfg;
		int slot = config_drive_find(cfg, id);

		if (slot < 0) {
			if (cfg->ndrives >= VM_MAX_DRIVES) {
				ini_fail(c, line, -EINVAL, "too many drives (at most %d)", VM_MAX_DRIVES);
				return -EINVAL;
			}
			slot = (int)cfg->ndrives++;
		}
		/* A drive of the same id from an earlier file is replaced, not merged. */
		config_drive_clear(&cfg->drives[slot]);
		cfg->drives[slot].id = strdup(id);
		if (!cfg->drives[slot].id) {
			ini_fail(c, line, -ENOMEM, "out of memory");
			return -ENOMEM;
		}
		cfg->drives[slot].origin.file = c->name;
		cfg->drives[slot].origin.line = line;
		s->slot = slot;
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
	} else {
		return ini_unknown_key(c, "[boot]", key, "kernel, initrd or cmdline", line);
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
	} else if (strcmp(key, "id") == 0) {
		ini_fail(c, line, -EINVAL, "id: the section name is the drive's id; write "
			 "[drive \"NAME\"] instead");
		return -EINVAL;
	} else {
		return ini_unknown_key(c, "[drive \"ID\"]", key, "file, cache, readonly, serial, poll or format", line);
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

/* inih handler: nonzero to go on. After the first error the reader stops, so only one message. */
static int ini_ctx_handle(void *user, const char *section, const char *key, const char *value)
{
	struct ini_ctx *c = user;
	int line = c->lineno;

	if (c->err_line)
		return 0;
	if (!c->cur_section || strcmp(section, c->cur_section) != 0 ||
	    c->header_line > c->last_key_line) {
		int hline = c->header_line > c->last_key_line ? c->header_line : line;

		free(c->cur_section);
		c->cur_section = strdup(section);
		c->cur = NULL;
		if (!c->cur_section) {
			ini_fail(c, line, -ENOMEM, "out of memory");
			return 0;
		}
		if (ini_section_begin(c, section, hline) < 0)
			return 0;
	}
	c->last_key_line = line;

	if (section[0] == '\0') {
		const char *home = ini_key_home(key);

		if (home)
			ini_fail(c, line, -EINVAL, "%s: setting outside a section; put it under %s", key, home);
		else
			ini_fail(c, line, -EINVAL, "\"%s\" is outside a section (sections are [machine], "
				 "[boot], [drive \"ID\"] and [output])", key);
		return 0;
	}
	/*
	 * By the section as written: a drive's id alone would make [drive "output"]'s
	 * serial clash with [output]'s. Each instance has its own name (a repeat is refused).
	 */
	if (ini_key_remember(c, section, key, line) < 0)
		return 0;
	if (value[0] == '\0' && strcmp(key, "cmdline") != 0) {
		ini_fail(c, line, -EINVAL, "%s: empty value; give one or remove the line", key);
		return 0;
	}
	if (c->cur->drive)
		return ini_drive_key(c, key, value, line) == 0;
	if (strcmp(section, "machine") == 0)
		return ini_machine_key(c, key, value, line) == 0;
	if (strcmp(section, "boot") == 0)
		return ini_boot_key(c, key, value, line) == 0;
	return ini_output_key(c, key, value, line) == 0;
}

/* The text of line n (1-based) begins with '[' after blanks. */
static bool ini_line_is_header(const char *text, int n)
{
	const char *p = text;

	for (int i = 1; i < n && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p)
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '[';
}

static void ini_ctx_free(struct ini_ctx *c)
{
	for (size_t i = 0; i < c->nkeys; i++) {
		free(c->keys[i].section);
		free(c->keys[i].key);
	}
	free(c->keys);
	for (size_t i = 0; i < c->nsections; i++)
		free(c->sections[i].name);
	free(c->sections);
	free(c->cur_section);
	free(c->dir);
}

/* Absolute directory of the INI file name, for resolving relative paths. NULL with errno. */
static char *ini_dir_of(const char *name)
{
	const char *slash = strrchr(name, '/');
	char *dir, *cwd, *abs;

	if (slash == name)
		return strdup("/");
	dir = slash ? strndup(name, (size_t)(slash - name)) : strdup(".");
	if (!dir || dir[0] == '/')
		return dir;
	cwd = getcwd(NULL, 0);
	if (!cwd) {
		free(dir);
		return NULL;
	}
	if (strcmp(dir, ".") == 0)
		abs = strdup(cwd);
	else if (asprintf(&abs, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", dir) < 0)
		abs = NULL;
	free(cwd);
	free(dir);
	return abs;
}

int vm_config_load_string(struct vm_config *cfg, const char *text, const char *name,
			  struct vm_config_error *err)
{
	struct ini_ctx c = { .cfg = cfg, .err = err, .text = text };
	int ret;

	c.name = config_source_add(cfg, name);
	if (!c.name) {
		config_err_set(err, "%s: out of memory", name);
		return -ENOMEM;
	}
	c.dir = ini_dir_of(name);
	if (!c.dir) {
		ret = -errno;
		config_err_set(err, "%s: cannot find its directory: %s", name, strerror(-ret));
		return ret;
	}

#ifdef VM_CONFIG_INIH_RUNTIME_OPTIONS
	/*
	 * Debian's libinih exposes its compile-time knobs as globals. Allow long
	 * lines (kernel command lines) and take an indented line as an ordinary
	 * key rather than a continuation of the previous value, which would
	 * otherwise surface as a confusing "set twice". Saved and restored
	 * around the call; like the rest of config, not for concurrent use.
	 */
	int saved_max_line = ini_max_line;
	bool saved_multiline = ini_allow_multiline;

	ini_max_line = INI_LINE_MAX;
	ini_allow_multiline = false;
#endif
	ret = ini_parse_stream(ini_ctx_read_line, &c, ini_ctx_handle, &c);
#ifdef VM_CONFIG_INIH_RUNTIME_OPTIONS
	ini_max_line = saved_max_line;
	ini_allow_multiline = saved_multiline;
#endif

	if (ret == -2) {
		config_err_set(err, "%s: out of memory", name);
		ret = -ENOMEM;
		goto free_ctx;
	}
	/*
	 * inih returns the first line its parser rejected or our handler failed
	 * on; anything but the line our error was found on is a syntax error,
	 * which came first (the reader stops at our first error).
	 */
	if (ret > 0 && (!c.err_line || ret != c.err_seen_at)) {
		if (ini_line_is_header(text, ret))
			config_err_set(err, "%s:%d: bad section header: write [name] with the closing ']'",
				       name, ret);
		else
			config_err_set(err, "%s:%d: expected \"key = value\", a [section] or a ; comment",
				       name, ret);
		ret = -EINVAL;
		goto free_ctx;
	}
	if (c.err_line) {
		ret = c.err_code;
		goto free_ctx;
	}
	for (size_t i = 0; i < c.nsections; i++) {
		const struct ini_seen_section *s = &c.sections[i];

		if (s->drive && !s->has_file) {
			config_err_set(err, "%s:%d: [drive \"%s\"] has no file; add \"file = PATH\"",
				       name, s->line, s->name);
			ret = -EINVAL;
			goto free_ctx;
		}
	}
	ret = 0;
free_ctx:
	ini_ctx_free(&c);
	return ret;
}

/* Whole file into a NUL-terminated buffer. 0 or -errno (-EFBIG if over INI_FILE_MAX, -EINVAL on a NUL byte). */
static int ini_file_slurp(const char *path, char **out)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t len;
	int ret = 0;

	if (!f)
		return -errno;
	buf = malloc(INI_FILE_MAX + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto close_file;
	}
	len = fread(buf, 1, INI_FILE_MAX + 1, f);
	if (ferror(f)) {
		ret = errno ? -errno : -EIO;
		goto free_buf;
	}
	if (len > INI_FILE_MAX) {
		ret = -EFBIG;
		goto free_buf;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		ret = -EINVAL;
		goto free_buf;
	}
	*out = buf;
	fclose(f);
	return 0;
free_buf:
	free(buf);
close_file:
	fclose(f);
	return ret;
}

/* Why an INI file could not be read (ret from reading it), with the fix. */
static void config_read_why(int ret, char *why, size_t n)
{
	switch (ret) {
	case -ENOENT:
		snprintf(why, n, "%s (check the path)", strerror(-ret));
		break;
	case -EACCES:
	case -EPERM:
		snprintf(why, n, "%s (make it readable)", strerror(-ret));
		break;
	case -EISDIR:
		snprintf(why, n, "is a directory (give the INI file itself)");
		break;
	case -EFBIG:
		snprintf(why, n, "larger than %u bytes; is it the right file?", INI_FILE_MAX);
		break;
	case -EINVAL:
		snprintf(why, n, "it contains a NUL byte; is it a text file?");
		break;
	default:
		snprintf(why, n, "%s", strerror(-ret));
	}
}

int config_file_load(struct vm_config *cfg, const char *opt, const char *path, struct vm_config_error *err)
{
	char *text = NULL, why[200];
	int ret;

	if (path[0] == '\0') {
		config_err_set(err, "%s: empty path (give an INI file, e.g. %s vm.ini)",
			       opt ? opt : "config", opt ? opt : "--config");
		return -EINVAL;
	}
	ret = ini_file_slurp(path, &text);
	if (ret < 0) {
		config_read_why(ret, why, sizeof(why));
		if (opt)
			config_err_set(err, "%s %s: %s", opt, path, why);
		else
			config_err_set(err, "%s: cannot read: %s", path, why);
		return ret;
	}
	ret = vm_config_load_string(cfg, text, path, err);
	free(text);
	return ret;
}

int vm_config_load_file(struct vm_config *cfg, const char *path, struct vm_config_error *err)
{
	return config_file_load(cfg, NULL, path, err);
}

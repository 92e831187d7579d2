/* SPDX-License-Identifier: MIT */
/* Reading --config INI files with inih into struct vm_config: the text line by line, so every message has its file:line. */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_ini_ctx_internal.h"
#include "config_ini_internal.h"
#include "config_internal.h"
#include "config_value_internal.h"
#include "vm_config.h"

/* Big enough for any sane config; stops a mistaken --config /dev/zero. */
#define INI_FILE_MAX (1u << 20)
/* Longest line we ask inih to accept where its line buffer is tunable (long kernel command lines). */
#define INI_LINE_MAX 4096

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
			 "[drive \"ID\"], [output] or [security]");
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
	return ini_key_set(c, section, key, value, line) == 0;
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

/* inih over c's text, line by line: what ini_parse_stream returns. */
static int ini_ctx_parse(struct ini_ctx *c)
{
	int ret;

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
	ret = ini_parse_stream(ini_ctx_read_line, c, ini_ctx_handle, c);
#ifdef VM_CONFIG_INIH_RUNTIME_OPTIONS
	ini_max_line = saved_max_line;
	ini_allow_multiline = saved_multiline;
#endif
	return ret;
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

	ret = ini_ctx_parse(&c);
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

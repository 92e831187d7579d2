/* SPDX-License-Identifier: MIT */
/* Kernel command line assembly: user parameters, VMM parameters, then init's arguments after "--". */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "boot.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/*
 * Offset of the first "--" token in s, or strlen(s) if there is none. Tokens
 * split at whitespace outside double quotes, as the kernel's parser does, so
 * a quoted value like foo="a -- b" is not mistaken for the separator.
 */
static size_t cmdline_find_separator(const char *s)
{
	size_t i = 0, len = strlen(s);

	while (i < len) {
		bool quoted = false;
		size_t start;

		while (i < len && is_space(s[i]))
			i++;
		start = i;
		while (i < len && (quoted || !is_space(s[i]))) {
			if (s[i] == '"')
				quoted = !quoted;
			i++;
		}
		if (i - start == 2 && s[start] == '-' && s[start + 1] == '-')
			return start;
	}
	return len;
}

/* Append n bytes of s to out at *pos, preceded by one space unless out is empty. */
static int cmdline_append(char *out, size_t cap, size_t *pos, const char *s, size_t n)
{
	size_t need;

	/* Trim so that joining never produces runs of blanks or a trailing one. */
	while (n > 0 && is_space(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_space(s[n - 1]))
		n--;
	if (n == 0)
		return 0;
	need = n + (*pos ? 1 : 0);
	if (need >= cap - *pos)   /* keep room for the NUL */
		return -ENAMETOOLONG;
	if (*pos)
		out[(*pos)++] = ' ';
	memcpy(out + *pos, s, n);
	*pos += n;
	out[*pos] = '\0';
	return 0;
}

int boot_cmdline_build(char *out, size_t cap, const char *user, const char *vmm_params)
{
	size_t pos = 0, sep;
	int ret;

	if (cap == 0)
		return -ENAMETOOLONG;
	out[0] = '\0';
	if (!user)
		user = "";
	if (!vmm_params)
		vmm_params = "";

	sep = cmdline_find_separator(user);
	ret = cmdline_append(out, cap, &pos, user, sep);
	if (ret)
		goto clear_out;
	ret = cmdline_append(out, cap, &pos, vmm_params, strlen(vmm_params));
	if (ret)
		goto clear_out;
	ret = cmdline_append(out, cap, &pos, user + sep, strlen(user + sep));
	if (ret)
		goto clear_out;
	if (pos > (size_t)INT32_MAX)
		return -ENAMETOOLONG;
	return (int)pos;
clear_out:
	out[0] = '\0';
	return ret;
}

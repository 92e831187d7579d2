/* SPDX-License-Identifier: MIT */
/* JSON output helpers for --stats. */
#include <stdint.h>

#include "json.h"

/*
 * Length of the valid UTF-8 sequence at s (1-4), or 0 when s[0] does not
 * start one (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF). Stops at a NUL, which is never a continuation byte.
 */
static unsigned int utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned int n;
	unsigned char lo = 0x80, hi = 0xbf;   /* the second byte's range */

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;   /* overlong */
	else if (c == 0xed)
		hi = 0x9f;   /* surrogates */
	else if (c == 0xf0)
		lo = 0x90;   /* overlong */
	else if (c == 0xf4)
		hi = 0x8f;   /* above U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (unsigned int i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return n;
}

void json_write_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");

	fputc('"', f);
	while (*s) {
		unsigned int n = utf8_seq_len(s);

		if (n == 0) {
			fputs("\\ufffd", f);
			s++;
		} else if (*s == '"' || *s == '\\') {
			fprintf(f, "\\%c", *s);
			s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\u%04x", *s);
			s++;
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
	fputc('"', f);
}

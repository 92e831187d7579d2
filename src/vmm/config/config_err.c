/* SPDX-License-Identifier: MIT */
/* One-line error messages: control characters escaped, a long message cut in its middle. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_value_internal.h"

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

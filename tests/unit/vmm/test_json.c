/* SPDX-License-Identifier: MIT */
/* Unit tests for the --stats JSON string writer: escapes, and bytes that are not UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

/* What json_write_string makes of s. */
static char *json_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	json_write_string(f, s);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void expect_json(const char *in, const char *want)
{
	char *got = json_of(in);

	assert_string_equal(got, want);
	free(got);
}

static void test_plain_and_escapes(void **state)
{
	(void)state;
	expect_json("disk.img", "\"disk.img\"");
	expect_json(NULL, "\"\"");
	expect_json("a\"b\\c", "\"a\\\"b\\\\c\"");
	expect_json("tab\there\n\x7f", "\"tab\\u0009here\\u000a\\u007f\"");
}

static void test_utf8_kept(void **state)
{
	(void)state;
	/* 2, 3 and 4 byte sequences, at the edges of what is valid. */
	expect_json("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	expect_json("\xe2\x82\xac \xed\x9f\xbf \xef\xbf\xbd", "\"\xe2\x82\xac \xed\x9f\xbf \xef\xbf\xbd\"");
	expect_json("\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf", "\"\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"");
}

static void test_invalid_bytes_replaced(void **state)
{
	(void)state;
	/* A Latin-1 file name, a lone continuation byte, a truncated sequence at the end. */
	expect_json("d\xe9j\xe0.img", "\"d\\ufffdj\\ufffd.img\"");
	expect_json("\x80x", "\"\\ufffdx\"");
	expect_json("x\xe2\x82", "\"x\\ufffd\\ufffd\"");
	/* Overlong forms, a surrogate, past U+10FFFF, bytes never used. */
	expect_json("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	expect_json("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
	expect_json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	expect_json("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	expect_json("\xff\xfe", "\"\\ufffd\\ufffd\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_escapes),
		cmocka_unit_test(test_utf8_kept),
		cmocka_unit_test(test_invalid_bytes_replaced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* JSON output helpers for --stats. */
#ifndef VMM_JSON_H
#define VMM_JSON_H

#include <stdio.h>

/*
 * Write s as a JSON string, quotes included (NULL: ""). JSON text is UTF-8,
 * and s is often a file name, which may be any bytes: valid UTF-8 passes
 * through, each byte that is not part of a valid sequence becomes U+FFFD,
 * control characters, '"' and '\' are escaped.
 */
void json_write_string(FILE *f, const char *s);

#endif

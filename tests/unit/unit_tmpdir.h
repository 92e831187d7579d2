/* SPDX-License-Identifier: MIT */
/* A scratch directory for a unit test file: made before its tests, removed after (cmocka group fixtures). */
/* Define UNIT_TMPDIR_NAME (e.g. "vmm-cli-test") before including it to name the directory. */
#ifndef VMM_UNIT_TMPDIR_H
#define VMM_UNIT_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char tmpdir[64];

static int tmpdir_make(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/" UNIT_TMPDIR_NAME "-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int tmpdir_remove(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif

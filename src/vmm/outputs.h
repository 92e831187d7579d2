/* SPDX-License-Identifier: MIT */
/* Whether an output vmm writes (--serial file:, --stats) would overwrite an input or the other output. Prints nothing. */
#ifndef VMM_OUTPUTS_H
#define VMM_OUTPUTS_H

#include <limits.h>

#include "vm_config.h"

/* An output file (--serial file:, --stats) and how to name it in a message. */
struct output_file {
	const char *path;       /* NULL: not asked for */
	const char *key;        /* "serial", "stats" */
	const char *prefix;     /* "file:" for --serial */
	const char *flag;       /* "--serial", "--stats" */
	const struct vm_config_origin *o;
};

/* An output that would overwrite another file, and that file's name as a message gives it. */
struct output_clash {
	struct output_file out;
	char other[PATH_MAX + 64];   /* "--kernel k" from the command line, "kernel (vm.ini:2)" from an INI file */
};

/*
 * --stats and --serial file: must not name an input (kernel, initrd, a drive
 * image, a config file): both truncate or replace their file. Nor may --stats
 * name the console file, existing or not: its rename would replace the log.
 * Compared by device and inode (for files still to be made: by directory and
 * name, through dangling symlinks), so another spelling of a path is caught.
 * The outputs' directories must exist (check them first). 1 with *clash
 * filled when an output would overwrite another file, else 0.
 */
int outputs_clash_find(const struct vm_config *cfg, struct output_clash *clash);

#endif

/* SPDX-License-Identifier: MIT */
/* The VM's configuration: one plain struct filled from INI files and the command line, then validated. */
#ifndef VMM_VM_CONFIG_H
#define VMM_VM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "blk_backend.h"

#define VM_MAX_DRIVES 8
#define VM_MAX_CPUS 64
#define VM_DEFAULT_MEMORY (256ull << 20)
#define VM_DEFAULT_CMDLINE "console=ttyS0"

/* Where a setting came from, for messages of the form "vm.ini:12: ...". */
struct vm_config_origin {
	const char *file;   /* INI path, or NULL for the command line */
	int line;           /* 1-based, 0 for the command line */
};

struct vm_drive_config {
	char *id;               /* INI section name or id=; may be NULL on the CLI (then "drive<N>") */
	char *file;             /* absolute or relative to the cwd (INI paths are resolved against the INI's dir) */
	enum blk_cache_mode cache;
	bool readonly;
	char *serial;           /* NULL: none */
	struct vm_config_origin origin;
};

enum vm_serial_mode {
	VM_SERIAL_STDIO = 0,
	VM_SERIAL_FILE,
	VM_SERIAL_NONE,
};

struct vm_config {
	char *kernel;           /* required */
	char *initrd;           /* NULL: none */
	char *cmdline;          /* NULL: VM_DEFAULT_CMDLINE */
	uint64_t memory;        /* bytes */
	unsigned int cpus;
	unsigned int timeout;   /* seconds, 0: none */
	struct vm_drive_config drives[VM_MAX_DRIVES];
	unsigned int ndrives;
	enum vm_serial_mode serial;
	char *serial_path;      /* VM_SERIAL_FILE */
	char *stats_path;       /* NULL: no --stats */
	int verbose;            /* -v: debug logging of unhandled accesses etc. */

	/* Actions rather than settings. */
	bool print_config;
	bool help;
	bool version;
};

/* One line, no trailing newline, ready for main.c to print after "vmm: ". */
struct vm_config_error {
	char msg[512];
};

/* Defaults: 256 MiB, 1 vCPU, no timeout, stdio serial. */
void vm_config_init(struct vm_config *cfg);
void vm_config_free(struct vm_config *cfg);

/*
 * Parse SIZE: "512M", "2G", "1024K", "4096" (bare number = MiB, QEMU's
 * convention). 0 and *bytes set, or -EINVAL (bad syntax) / -ERANGE (overflow, zero).
 */
int vm_config_parse_size(const char *s, uint64_t *bytes);

/*
 * Build the effective configuration from argv: INI files named by --config
 * are loaded first (in order), then the other options override them, and
 * --drive adds drives after the files' (or replaces the file drive with the
 * same id=). Then validated. 0, or -EINVAL with err->msg set.
 */
int vm_config_from_args(struct vm_config *cfg, int argc, char **argv, struct vm_config_error *err);

/* Pure check of a filled struct (required settings, ranges, duplicate ids). 0 or -EINVAL with err. */
int vm_config_validate(const struct vm_config *cfg, struct vm_config_error *err);

/* Write cfg as INI that --config reads back to the same VM. 0 or -errno. */
int vm_config_print(const struct vm_config *cfg, FILE *out);

/* The --help text. */
void vm_config_usage(FILE *out);

#endif

/* SPDX-License-Identifier: MIT */
/* The VM's configuration: one plain struct filled from INI files and the command line, then validated. */
#ifndef VMM_VM_CONFIG_H
#define VMM_VM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "blk_backend.h"
/*
 * What one value may be: the accepted ranges (VM_MAX_CPUS, VM_MIN_MEMORY, ...),
 * enum vm_serial_mode, struct vm_config_error, vm_config_parse_size and
 * vm_config_msg_char.
 */
#include "vm_config_value.h"

#define VM_MAX_DRIVES 8
#define VM_DEFAULT_MEMORY (256ull << 20)
#define VM_DEFAULT_CMDLINE "console=ttyS0"
/* poll=: the cap of a drive's adaptive I/O-thread busy-poll window, microseconds (0: never poll). */
#define VM_DRIVE_POLL_US_DEFAULT 64u

/* Where a setting came from, for messages of the form "vm.ini:12: ...". */
struct vm_config_origin {
	const char *file;   /* INI path as given (owned by vm_config.sources), or NULL for the command line/default */
	int line;           /* 1-based, 0 for the command line */
};

struct vm_drive_config {
	/*
	 * INI section name or id=. After vm_config_from_args never NULL: a
	 * --drive without id= gets "drive<N>" (N its index, bumped past ids in use).
	 */
	char *id;
	char *file;             /* absolute or relative to the cwd (INI paths are resolved against the INI's dir) */
	enum blk_cache_mode cache;
	bool readonly;
	char *serial;           /* NULL: none */
	unsigned int poll_us;   /* busy-poll cap, us; 0: off (VM_DRIVE_POLL_US_DEFAULT unless set) */
	bool format_raw;        /* format=raw: take the image as raw without checking for another format's header */
	/*
	 * snapshot=. After vm_config_from_args, --snapshot has turned UNSET into
	 * ON for every drive that is not read-only. ON with readonly is refused.
	 */
	enum vm_drive_snapshot snapshot;
	struct vm_config_origin origin;  /* INI: the [drive] header line; CLI: file NULL */
	struct vm_config_origin file_origin;   /* INI: the "file =" line; CLI: file NULL */
	struct vm_config_origin cache_origin;  /* INI: the "cache =" line; file NULL if not set there */
};

/* Where each scalar setting was last set (file NULL and line 0: default or command line). */
struct vm_config_origins {
	struct vm_config_origin kernel;
	struct vm_config_origin initrd;
	struct vm_config_origin cmdline;
	struct vm_config_origin kernel_cache;
	struct vm_config_origin memory;
	struct vm_config_origin cpus;
	struct vm_config_origin timeout;
	struct vm_config_origin serial;
	struct vm_config_origin stats;
	struct vm_config_origin sandbox;
	struct vm_config_origin user;
};

struct vm_config {
	char *kernel;           /* required */
	char *initrd;           /* NULL: none */
	char *cmdline;          /* NULL: VM_DEFAULT_CMDLINE ("" is a valid, empty command line) */
	/*
	 * --kernel-cache: where a compressed kernel's unpacked payload is kept
	 * (docs/guest.md); NULL: $XDG_CACHE_HOME/vmm/kernels or ~/.cache/vmm/kernels.
	 */
	char *kernel_cache;
	bool kernel_cache_off;  /* --kernel-cache off: boot the kernel file as given */
	uint64_t memory;        /* bytes */
	unsigned int cpus;
	unsigned int timeout;   /* seconds, 0: none */
	struct vm_drive_config drives[VM_MAX_DRIVES];
	unsigned int ndrives;
	enum vm_serial_mode serial;
	char *serial_path;      /* VM_SERIAL_FILE */
	char *stats_path;       /* NULL: no --stats */
	int verbose;            /* -v: debug logging of unhandled accesses etc. */
	bool sandbox;           /* --sandbox: seccomp filters, no_new_privs and Landlock once set up (default on) */
	char *user;             /* --user as given (USER[:GROUP]), or NULL: stay who vmm was started as */
	uid_t user_uid;         /* user, looked up by vm_config_user_resolve */
	gid_t user_gid;

	/* Actions rather than settings. */
	bool print_config;
	bool help;
	bool version;

	/* Bookkeeping for messages: where settings came from, and the INI files read (as given). */
	struct vm_config_origins where;
	char **sources;
	unsigned int nsources;
};

/* Defaults: 256 MiB, 1 vCPU, no timeout, stdio serial, the sandbox on. */
void vm_config_init(struct vm_config *cfg);
/* Frees everything cfg owns and leaves it as after vm_config_init. */
void vm_config_free(struct vm_config *cfg);

/*
 * Build the effective configuration from argv: INI files named by --config
 * are loaded first (in order), then the other options override them, and
 * --drive adds drives after the files' (or replaces, in place, the file drive
 * with the same id=). Then validated. 0, or with err->msg set: -EINVAL
 * (bad option or value), -errno from reading a --config file (-ENOENT,
 * -EACCES, ...: also the user's mistake), or -ENOMEM / -errno of getcwd.
 * Last, --user is looked up: vm_config_user_resolve with geteuid(), or as
 * if root under --print-config (the file it prints may well be run by root).
 * With --help or --version the rest is neither read nor validated: 0 with
 * cfg->help / cfg->version set. cfg must come from vm_config_init.
 */
int vm_config_from_args(struct vm_config *cfg, int argc, char **argv, struct vm_config_error *err);

/*
 * Merge one INI file into cfg (what --config does): its settings override
 * cfg's; a [drive] whose id matches an existing drive replaces it in place.
 * Relative paths resolve against the file's directory. 0, or -EINVAL
 * (bad content: "path:line: ...") / -errno (cannot read: "path: cannot
 * read: ...") with err->msg set.
 */
int vm_config_load_file(struct vm_config *cfg, const char *path, struct vm_config_error *err);
/*
 * The same for INI text in memory; name is used in messages and its
 * directory as the base for relative paths. 0 or -errno with err->msg set.
 */
int vm_config_load_string(struct vm_config *cfg, const char *text, const char *name,
			  struct vm_config_error *err);

/* Pure check of a filled struct (required settings, ranges, duplicate ids). 0 or -EINVAL with err. */
int vm_config_validate(const struct vm_config *cfg, struct vm_config_error *err);

/*
 * Look cfg->user up in the host's user and group databases for a process
 * whose effective uid is euid (only root may switch users; a parameter so
 * tests can say who they are): 0 with cfg->user_uid and cfg->user_gid set
 * (nothing to do without --user), or -EINVAL with one line in err saying
 * what is wrong and where (not root, no such user or group, a uid with no
 * entry to take a group from, root itself), or -ENOMEM / -errno of a failed
 * lookup (also with err set).
 */
int vm_config_user_resolve(struct vm_config *cfg, uid_t euid, struct vm_config_error *err);

/*
 * Write cfg as INI that --config reads back to the same VM, with absolute
 * paths (relative ones are joined to the cwd). Actions, -v and the default
 * command line (cmdline NULL) are not written. 0, -EINVAL if a value cannot
 * be represented in INI (leading/trailing blanks, a line break, a ';' first
 * or after a blank, which inih takes as a comment, or a line longer than the
 * INI reader takes; then nothing is written, see vm_config_printable), -EIO on
 * a write error, or -errno.
 */
int vm_config_print(const struct vm_config *cfg, FILE *out);

/*
 * Whether vm_config_print can write cfg: 0, or -EINVAL with one line in err
 * (err may be NULL) naming the value INI cannot hold and what to do, or
 * -errno of getcwd. vm_config_print checks this first and writes nothing
 * when it fails.
 */
int vm_config_printable(const struct vm_config *cfg, struct vm_config_error *err);

/* The --help text. */
void vm_config_usage(FILE *out);

/*
 * "vm.ini:12" for an INI origin, "" for the command line; for prefixing
 * messages about a setting (e.g. a drive file that cannot be opened).
 * Returns what snprintf returns.
 */
int vm_config_origin_format(const struct vm_config_origin *o, char *buf, size_t size);

#endif

/* SPDX-License-Identifier: MIT */
/* The command line: getopt_long into struct vm_config, merged over the --config files and validated. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_ini_internal.h"
#include "config_internal.h"
#include "config_value_internal.h"
#include "vm_config.h"

enum cli_opt {
	OPT_KERNEL = 256,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_KERNEL_CACHE,
	OPT_MEMORY,
	OPT_CPUS,
	OPT_TIMEOUT,
	OPT_DRIVE,
	OPT_CONFIG,
	OPT_SERIAL,
	OPT_STATS,
	OPT_SANDBOX,
	OPT_USER,
	OPT_PRINT_CONFIG,
	OPT_SNAPSHOT,
	OPT_VERSION,
	OPT_VERBOSE = 'v',
	OPT_HELP = 'h',
};

static const struct option cli_options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "kernel-cache", required_argument, NULL, OPT_KERNEL_CACHE },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "drive", required_argument, NULL, OPT_DRIVE },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "sandbox", required_argument, NULL, OPT_SANDBOX },
	{ "user", required_argument, NULL, OPT_USER },
	{ "print-config", no_argument, NULL, OPT_PRINT_CONFIG },
	{ "snapshot", no_argument, NULL, OPT_SNAPSHOT },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* What each option's value looks like, for "needs a value" messages. */
static const char *cli_metavar(int val)
{
	switch (val) {
	case OPT_KERNEL: case OPT_INITRD: return "PATH";
	case OPT_CMDLINE: return "STRING";
	case OPT_KERNEL_CACHE: return "DIR|off";
	case OPT_MEMORY: return "SIZE (e.g. 512M or 2G)";
	case OPT_CPUS: return "N";
	case OPT_TIMEOUT: return "SECONDS";
	case OPT_DRIVE: return "file=PATH[,cache=MODE][,readonly=on|off][,id=NAME][,serial=STR][,poll=US]"
			       "[,snapshot=on|off]";
	case OPT_CONFIG: case OPT_STATS: return "FILE";
	case OPT_SERIAL: return "stdio|none|file:PATH";
	case OPT_SANDBOX: return "on|off";
	case OPT_USER: return "USER[:GROUP]";
	default: return "VALUE";
	}
}

static const char *cli_name(int val)
{
	for (const struct option *o = cli_options; o->name; o++) {
		if (o->val == val)
			return o->name;
	}
	return "?";
}

/* Raw option values, before any is interpreted; argv owns the strings. */
struct cli_args {
	const char *kernel, *initrd, *cmdline, *kernel_cache, *memory, *cpus, *timeout, *serial, *stats, *sandbox, *user;
	const char **drives;
	unsigned int ndrives;
	const char **configs;
	unsigned int nconfigs;
	bool print_config, help, version, snapshot;
	int verbose;
};

/* "--c": say which options it could mean, as getopt_long only says '?'. */
static void cli_unknown(const char *arg, struct vm_config_error *err)
{
	char name[64], matches[256] = "";
	const char *eq;
	size_t len;
	int n = 0;

	eq = strchr(arg, '=');
	len = eq ? (size_t)(eq - arg) : strlen(arg);
	snprintf(name, sizeof(name), "%.*s", (int)len, arg);
	if (strncmp(name, "--", 2) == 0 && name[2]) {
		for (const struct option *o = cli_options; o->name; o++) {
			if (strncmp(o->name, name + 2, strlen(name + 2)) != 0)
				continue;
			size_t used = strlen(matches);

			snprintf(matches + used, sizeof(matches) - used, "%s--%s", n ? ", " : "", o->name);
			n++;
		}
	}
	if (n > 1)
		config_err_set(err, "ambiguous option \"%s\" (could be %s); spell it out", name, matches);
	else
		config_err_set(err, "unknown option \"%s\"; see vmm --help for the options", name);
}

/*
 * Whether v is spelt like one of our long options ("--kernel", "--kernel=k"):
 * the value of an option given without one, so getopt took the next option
 * as it (--initrd --kernel k).
 */
static bool cli_is_option(const char *v)
{
	size_t len;

	if (strncmp(v, "--", 2) != 0)
		return false;
	len = strcspn(v + 2, "=");
	for (const struct option *o = cli_options; o->name; o++) {
		if (strlen(o->name) == len && strncmp(o->name, v + 2, len) == 0)
			return true;
	}
	return false;
}

static bool cli_takes_value(int val)
{
	for (const struct option *o = cli_options; o->name; o++) {
		if (o->val == val)
			return o->has_arg == required_argument;
	}
	return false;
}

static int cli_scan(struct cli_args *a, int argc, char **argv, struct vm_config_error *err)
{
	int c;

	/* Fresh getopt state each call (GNU: optind 0), and no printing from getopt itself. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hv", cli_options, NULL)) != -1) {
		if (cli_takes_value(c) && optarg && cli_is_option(optarg)) {
			config_err_set(err, "--%s took \"%s\" as its value; give --%s a %s", cli_name(c),
				       optarg, cli_name(c), cli_metavar(c));
			return -EINVAL;
		}
		switch (c) {
		case OPT_KERNEL: a->kernel = optarg; break;
		case OPT_INITRD: a->initrd = optarg; break;
		case OPT_CMDLINE: a->cmdline = optarg; break;
		case OPT_MEMORY: a->memory = optarg; break;
		case OPT_CPUS: a->cpus = optarg; break;
		case OPT_TIMEOUT: a->timeout = optarg; break;
		case OPT_SERIAL: a->serial = optarg; break;
		case OPT_KERNEL_CACHE: a->kernel_cache = optarg; break;
		case OPT_STATS: a->stats = optarg; break;
		case OPT_SANDBOX: a->sandbox = optarg; break;
		case OPT_USER: a->user = optarg; break;
		case OPT_DRIVE: a->drives[a->ndrives++] = optarg; break;
		case OPT_CONFIG: a->configs[a->nconfigs++] = optarg; break;
		case OPT_PRINT_CONFIG: a->print_config = true; break;
		case OPT_SNAPSHOT: a->snapshot = true; break;
		case OPT_VERBOSE: a->verbose++; break;
		case OPT_HELP: a->help = true; break;
		case OPT_VERSION: a->version = true; break;
		case ':':
			if (optopt >= 256)
				config_err_set(err, "--%s needs a value, e.g. --%s %s", cli_name(optopt),
					       cli_name(optopt), cli_metavar(optopt));
			else
				config_err_set(err, "-%c needs a value", optopt);
			return -EINVAL;
		default:
			if (optopt >= 256 || optopt == 'h' || optopt == 'v')
				config_err_set(err, "--%s does not take a value; see vmm --help",
					       cli_name(optopt));
			else if (optopt)
				config_err_set(err, "unknown option \"-%c\"; see vmm --help for the options",
					       optopt);
			else
				cli_unknown(argv[optind - 1], err);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		config_err_set(err, "unexpected argument \"%s\": options look like --kernel PATH "
			       "(see vmm --help)", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* The keys of --drive, in the order of cli_drive_keys. */
enum cli_drive_key {
	DRIVE_FILE,
	DRIVE_CACHE,
	DRIVE_READONLY,
	DRIVE_ID,
	DRIVE_SERIAL,
	DRIVE_POLL,
	DRIVE_FORMAT,
	DRIVE_SNAPSHOT,
	DRIVE_NKEYS,
};

static const char *const cli_drive_keys[DRIVE_NKEYS] = {
	"file", "cache", "readonly", "id", "serial", "poll", "format", "snapshot",
};

/* Set key k of d to value: 0, -EINVAL with a phrase in why, or -ENOMEM. */
static int cli_drive_key_set(struct vm_drive_config *d, enum cli_drive_key k, const char *value,
			     char *why, size_t n)
{
	switch (k) {
	case DRIVE_FILE:
		return config_str_set(&d->file, value);
	case DRIVE_CACHE:
		return config_cache_parse(value, &d->cache, why, n);
	case DRIVE_READONLY:
		return config_bool_parse(value, &d->readonly, why, n);
	case DRIVE_ID:
		if (config_id_check(value, why, n) < 0)
			return -EINVAL;
		return config_str_set(&d->id, value);
	case DRIVE_SERIAL:
		if (config_drive_serial_check(value, why, n) < 0)
			return -EINVAL;
		return config_str_set(&d->serial, value);
	case DRIVE_POLL:
		return config_uint_parse(value, 0, VM_DRIVE_POLL_US_MAX, &d->poll_us, why, n);
	case DRIVE_FORMAT:
		return config_format_parse(value, &d->format_raw, why, n);
	case DRIVE_SNAPSHOT:
		return config_snapshot_parse(value, &d->snapshot, why, n);
	case DRIVE_NKEYS:
		break;
	}
	return 0;
}

/*
 * Parse one --drive value into d (strings owned by d). 0 or -EINVAL/-ENOMEM
 * with "--drive ARG: ..." in err.
 */
static int cli_drive_parse(const char *arg, struct vm_drive_config *d, struct vm_config_error *err)
{
	bool seen[DRIVE_NKEYS] = { false };
	char why[300];
	char *copy, *tok, *save = NULL;
	int ret = 0;

	copy = strdup(arg);
	if (!copy) {
		config_err_set(err, "out of memory");
		return -ENOMEM;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *value = strchr(tok, '=');
		enum cli_drive_key k;

		if (!value) {
			if (!seen[DRIVE_FILE] && tok == copy)
				config_err_set(err, "--drive %s: \"%s\" is not key=value (did you mean "
					       "file=%s?)", arg, tok, tok);
			else
				config_err_set(err, "--drive %s: \"%s\" is not key=value (keys: file, cache, "
					       "readonly, id, serial, poll, format, snapshot)", arg, tok);
			goto invalid;
		}
		*value++ = '\0';
		for (k = 0; k < DRIVE_NKEYS && strcmp(tok, cli_drive_keys[k]) != 0; k++)
			;
		if (k == DRIVE_NKEYS) {
			config_err_set(err, "--drive %s: unknown key \"%s\" (expected file, cache, readonly, "
				       "id, serial, poll, format or snapshot)", arg, tok);
			goto invalid;
		}
		if (seen[k]) {
			config_err_set(err, "--drive %s: %s= given twice; keep one", arg, tok);
			goto invalid;
		}
		seen[k] = true;
		if (value[0] == '\0') {
			if (k == DRIVE_FILE)
				config_err_set(err, "--drive %s: file= is empty (give the image, e.g. file=disk.img)", arg);
			else
				config_err_set(err, "--drive %s: %s= is empty (give a value or leave %s= out)", arg, tok, tok);
			goto invalid;
		}
		ret = cli_drive_key_set(d, k, value, why, sizeof(why));
		if (ret == -EINVAL)
			goto bad_value;
		if (ret < 0) {
			config_err_set(err, "out of memory");
			goto free_copy;
		}
	}
	if (!seen[DRIVE_FILE] && arg[0] == '\0') {
		config_err_set(err, "--drive: empty value (e.g. --drive file=disk.img)");
		goto invalid;
	}
	if (!seen[DRIVE_FILE]) {
		config_err_set(err, "--drive %s: file= is missing (e.g. --drive file=disk.img,%s)",
			       arg, arg);
		goto invalid;
	}
	free(copy);
	return 0;
bad_value:
	config_err_set(err, "--drive %s: %s", arg, why);
invalid:
	ret = -EINVAL;
free_copy:
	free(copy);
	return ret;
}

/* Empty strings are not paths; say so rather than failing later with ENOENT. */
static int cli_path_set(char **slot, struct vm_config_origin *where, const char *opt,
			const char *value, struct vm_config_error *err)
{
	if (value[0] == '\0') {
		config_err_set(err, "--%s: empty path (give --%s PATH, or leave --%s out)", opt, opt, opt);
		return -EINVAL;
	}
	if (config_str_set(slot, value) < 0) {
		config_err_set(err, "out of memory");
		return -ENOMEM;
	}
	*where = (struct vm_config_origin){ 0 };
	return 0;
}

/* --sandbox and --user. */
static int cli_security_apply(struct vm_config *cfg, const struct cli_args *a, struct vm_config_error *err)
{
	char why[400];

	if (a->sandbox) {
		if (config_sandbox_parse(a->sandbox, &cfg->sandbox, why, sizeof(why)) < 0) {
			config_err_set(err, "--sandbox %s: %s", a->sandbox, why);
			return -EINVAL;
		}
		cfg->where.sandbox = (struct vm_config_origin){ 0 };
	}
	if (a->user) {
		if (config_user_check(a->user, why, sizeof(why)) < 0) {
			config_err_set(err, "--user %s: %s", a->user, why);
			return -EINVAL;
		}
		if (config_str_set(&cfg->user, a->user) < 0) {
			config_err_set(err, "out of memory");
			return -ENOMEM;
		}
		cfg->where.user = (struct vm_config_origin){ 0 };
	}
	return 0;
}

static int cli_scalars_apply(struct vm_config *cfg, const struct cli_args *a,
			     struct vm_config_error *err)
{
	static const struct vm_config_origin cli = { 0 };
	char why[300];
	int ret;

	if (a->kernel && (ret = cli_path_set(&cfg->kernel, &cfg->where.kernel, "kernel", a->kernel, err)) < 0)
		return ret;
	if (a->initrd && (ret = cli_path_set(&cfg->initrd, &cfg->where.initrd, "initrd", a->initrd, err)) < 0)
		return ret;
	if (a->stats && (ret = cli_path_set(&cfg->stats_path, &cfg->where.stats, "stats", a->stats, err)) < 0)
		return ret;
	/* "off" is the switch; a directory of that name is ./off. */
	if (a->kernel_cache) {
		cfg->kernel_cache_off = strcmp(a->kernel_cache, "off") == 0;
		if (cfg->kernel_cache_off)
			config_str_set(&cfg->kernel_cache, NULL);   /* only frees: cannot fail */
		else if ((ret = cli_path_set(&cfg->kernel_cache, &cfg->where.kernel_cache, "kernel-cache",
					     a->kernel_cache, err)) < 0)
			return ret;
		cfg->where.kernel_cache = cli;
	}
	if (a->cmdline) {
		if (config_str_set(&cfg->cmdline, a->cmdline) < 0)
			goto nomem;
		cfg->where.cmdline = cli;
	}
	if (a->memory) {
		if (config_memory_parse(a->memory, &cfg->memory, why, sizeof(why)) < 0) {
			config_err_set(err, "--memory %s: %s", a->memory, why);
			return -EINVAL;
		}
		cfg->where.memory = cli;
	}
	if (a->cpus) {
		if (config_uint_parse(a->cpus, 1, VM_MAX_CPUS, &cfg->cpus, why, sizeof(why)) < 0) {
			config_err_set(err, "--cpus %s: %s", a->cpus, why);
			return -EINVAL;
		}
		cfg->where.cpus = cli;
	}
	if (a->timeout) {
		if (config_uint_parse(a->timeout, 0, VM_MAX_TIMEOUT, &cfg->timeout, why, sizeof(why)) < 0) {
			config_err_set(err, "--timeout %s: %s", a->timeout, why);
			return -EINVAL;
		}
		cfg->where.timeout = cli;
	}
	if (a->serial) {
		enum vm_serial_mode mode;
		const char *path;

		if (config_serial_parse(a->serial, &mode, &path, why, sizeof(why)) < 0) {
			config_err_set(err, "--serial %s: %s", a->serial, why);
			return -EINVAL;
		}
		cfg->serial = mode;
		if (config_str_set(&cfg->serial_path, path) < 0)
			goto nomem;
		cfg->where.serial = cli;
	}
	return cli_security_apply(cfg, a, err);
nomem:
	config_err_set(err, "out of memory");
	return -ENOMEM;
}

/* Parse all --drive values first, then place them: append, or replace a file drive of the same id. */
static int cli_drives_apply(struct vm_config *cfg, const struct cli_args *a,
			    struct vm_config_error *err)
{
	unsigned int nfile = cfg->ndrives;
	bool from_cli[VM_MAX_DRIVES] = { false };

	for (unsigned int i = 0; i < a->ndrives; i++) {
		struct vm_drive_config d = { 0 };
		int slot = -1, ret;

		config_drive_clear(&d);   /* the drive defaults, kept in one place */
		ret = cli_drive_parse(a->drives[i], &d, err);
		if (ret < 0) {
			config_drive_clear(&d);
			return ret;
		}
		if (d.id) {
			slot = config_drive_find(cfg, d.id);
			if (slot >= 0 && from_cli[slot]) {
				config_err_set(err, "--drive %s: id \"%s\" is already used by an earlier "
					       "--drive; give each drive its own id", a->drives[i], d.id);
				config_drive_clear(&d);
				return -EINVAL;
			}
		}
		if (slot < 0) {
			if (cfg->ndrives >= VM_MAX_DRIVES) {
				config_err_set(err, "--drive %s: too many drives (at most %d%s)", a->drives[i],
					       VM_MAX_DRIVES, nfile ? ", counting those from --config" : "");
				config_drive_clear(&d);
				return -EINVAL;
			}
			slot = (int)cfg->ndrives++;
		}
		config_drive_clear(&cfg->drives[slot]);
		cfg->drives[slot] = d;
		from_cli[slot] = true;
	}
	return 0;
}

/* --snapshot: every drive that does not say snapshot= and is not read-only becomes a snapshot drive (as QEMU's -snapshot). */
static void cli_snapshot_apply(struct vm_config *cfg)
{
	for (unsigned int i = 0; i < cfg->ndrives; i++) {
		struct vm_drive_config *d = &cfg->drives[i];

		if (d->snapshot == VM_SNAPSHOT_UNSET && !d->readonly)
			d->snapshot = VM_SNAPSHOT_ON;
	}
}

/* Give id-less drives "drive<N>", N from their index upwards, skipping ids in use. */
static int cli_drive_ids_assign(struct vm_config *cfg, struct vm_config_error *err)
{
	for (unsigned int i = 0; i < cfg->ndrives; i++) {
		char id[32];

		if (cfg->drives[i].id)
			continue;
		for (unsigned int n = i;; n++) {
			snprintf(id, sizeof(id), "drive%u", n);
			if (config_drive_find(cfg, id) < 0)
				break;
		}
		if (config_str_set(&cfg->drives[i].id, id) < 0) {
			config_err_set(err, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

int vm_config_from_args(struct vm_config *cfg, int argc, char **argv, struct vm_config_error *err)
{
	struct cli_args a = { 0 };
	int ret;

	/* Each list is at most argc long, so one allocation up front suffices. */
	a.drives = calloc((size_t)argc + 1, sizeof(*a.drives));
	a.configs = calloc((size_t)argc + 1, sizeof(*a.configs));
	if (!a.drives || !a.configs) {
		config_err_set(err, "out of memory");
		ret = -ENOMEM;
		goto free_lists;
	}
	ret = cli_scan(&a, argc, argv, err);
	if (ret < 0)
		goto free_lists;
	cfg->help = a.help;
	cfg->version = a.version;
	cfg->print_config = a.print_config;
	cfg->verbose = a.verbose;
	if (a.help || a.version)
		goto free_lists;

	for (unsigned int i = 0; i < a.nconfigs; i++) {
		ret = config_file_load(cfg, "--config", a.configs[i], err);
		if (ret < 0)
			goto free_lists;
	}
	ret = cli_scalars_apply(cfg, &a, err);
	if (ret < 0)
		goto free_lists;
	ret = cli_drives_apply(cfg, &a, err);
	if (ret < 0)
		goto free_lists;
	ret = cli_drive_ids_assign(cfg, err);
	if (ret < 0)
		goto free_lists;
	if (a.snapshot)
		cli_snapshot_apply(cfg);
	ret = vm_config_validate(cfg, err);
	if (ret < 0)
		goto free_lists;
	/* --print-config's file may well be run by root: only whether the names exist is checked then. */
	ret = vm_config_user_resolve(cfg, cfg->print_config ? 0 : geteuid(), err);
free_lists:
	free(a.drives);
	free(a.configs);
	return ret;
}

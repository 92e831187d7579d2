/* SPDX-License-Identifier: MIT */
/* The configuration struct: its defaults, its lifetime, the helpers that fill it, and validation. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "config_value_internal.h"
#include "sandbox.h"
#include "vm_config.h"

int config_str_set(char **slot, const char *s)
{
	char *copy = NULL;

	if (s) {
		copy = strdup(s);
		if (!copy)
			return -ENOMEM;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

void config_drive_clear(struct vm_drive_config *d)
{
	free(d->id);
	free(d->file);
	free(d->serial);
	memset(d, 0, sizeof(*d));
	d->cache = BLK_CACHE_WRITEBACK;
	d->poll_us = VM_DRIVE_POLL_US_DEFAULT;
}

int config_drive_find(const struct vm_config *cfg, const char *id)
{
	for (unsigned int i = 0; i < cfg->ndrives; i++) {
		if (cfg->drives[i].id && strcmp(cfg->drives[i].id, id) == 0)
			return (int)i;
	}
	return -1;
}

const char *config_source_add(struct vm_config *cfg, const char *name)
{
	char **grown;
	char *copy = strdup(name);

	if (!copy)
		return NULL;
	grown = realloc(cfg->sources, (cfg->nsources + 1) * sizeof(*grown));
	if (!grown) {
		free(copy);
		return NULL;
	}
	cfg->sources = grown;
	cfg->sources[cfg->nsources++] = copy;
	return copy;
}

void vm_config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memory = VM_DEFAULT_MEMORY;
	cfg->cpus = 1;
	cfg->timeout = 0;
	cfg->serial = VM_SERIAL_STDIO;
	cfg->sandbox = true;
	for (unsigned int i = 0; i < VM_MAX_DRIVES; i++)
		cfg->drives[i].cache = BLK_CACHE_WRITEBACK;
}

void vm_config_free(struct vm_config *cfg)
{
	free(cfg->kernel);
	free(cfg->initrd);
	free(cfg->cmdline);
	free(cfg->kernel_cache);
	free(cfg->serial_path);
	free(cfg->stats_path);
	free(cfg->user);
	for (unsigned int i = 0; i < VM_MAX_DRIVES; i++)
		config_drive_clear(&cfg->drives[i]);
	for (unsigned int i = 0; i < cfg->nsources; i++)
		free(cfg->sources[i]);
	free(cfg->sources);
	vm_config_init(cfg);
}

int vm_config_origin_format(const struct vm_config_origin *o, char *buf, size_t size)
{
	if (!o->file)
		return snprintf(buf, size, "%s", "");
	return snprintf(buf, size, "%s:%d", o->file, o->line);
}

/* "vm.ini:12: key: " for an INI setting, "--opt: " for the command line or a default. */
static void where_prefix(const struct vm_config_origin *o, const char *key, const char *opt,
			 char *buf, size_t n)
{
	if (o->file)
		snprintf(buf, n, "%s:%d: %s: ", o->file, o->line, key);
	else
		snprintf(buf, n, "--%s: ", opt);
}

static int validate_drive(const struct vm_config *cfg, unsigned int i, struct vm_config_error *err)
{
	const struct vm_drive_config *d = &cfg->drives[i];
	char pre[PATH_MAX + 128], why[300];

	if (d->origin.file)
		snprintf(pre, sizeof(pre), "%s:%d: [drive \"%s\"]: ", d->origin.file, d->origin.line,
			 d->id ? d->id : "?");
	else
		snprintf(pre, sizeof(pre), "--drive %s%s: ", d->id ? "id=" : "#",
			 d->id ? d->id : "");
	if (!d->file || !d->file[0]) {
		config_err_set(err, "%sno file given (add file=PATH)", pre);
		return -EINVAL;
	}
	if (d->id && config_id_check(d->id, why, sizeof(why)) < 0) {
		config_err_set(err, "%s%s", pre, why);
		return -EINVAL;
	}
	if (!blk_cache_mode_name(d->cache)) {
		config_err_set(err, "%sinvalid cache mode %d", pre, (int)d->cache);
		return -EINVAL;
	}
	if (d->serial && config_drive_serial_check(d->serial, why, sizeof(why)) < 0) {
		config_err_set(err, "%s%s", pre, why);
		return -EINVAL;
	}
	if (d->snapshot == VM_SNAPSHOT_ON && d->readonly) {
		config_err_set(err, "%ssnapshot and readonly are both on: a read-only drive has no writes to throw "
			       "away (turn one of them off)", pre);
		return -EINVAL;
	}
	for (unsigned int j = 0; d->id && j < i; j++) {
		const struct vm_drive_config *e = &cfg->drives[j];
		char at[PATH_MAX + 32];

		if (!e->id || strcmp(e->id, d->id) != 0)
			continue;
		if (e->origin.file)
			snprintf(at, sizeof(at), "%s:%d", e->origin.file, e->origin.line);
		else
			snprintf(at, sizeof(at), "an earlier --drive");
		config_err_set(err, "%sdrive id \"%s\" is also used by %s; give each drive its own id",
			       pre, d->id, at);
		return -EINVAL;
	}
	return 0;
}

int vm_config_validate(const struct vm_config *cfg, struct vm_config_error *err)
{
	char pre[PATH_MAX + 64], why[400];

	if (!cfg->kernel || !cfg->kernel[0]) {
		if (cfg->nsources)
			config_err_set(err, "no kernel in %s: add \"kernel = PATH\" under [boot], "
				       "or pass --kernel PATH", cfg->sources[cfg->nsources - 1]);
		else
			config_err_set(err, "no kernel given: pass --kernel PATH (see vmm --help)");
		return -EINVAL;
	}
	if (cfg->initrd && !cfg->initrd[0]) {
		where_prefix(&cfg->where.initrd, "initrd", "initrd", pre, sizeof(pre));
		config_err_set(err, "%sempty path", pre);
		return -EINVAL;
	}
	if (cfg->memory < VM_MIN_MEMORY || cfg->memory > VM_MAX_MEMORY ||
	    cfg->memory % (1ull << 20)) {
		where_prefix(&cfg->where.memory, "memory", "memory", pre, sizeof(pre));
		config_err_set(err, "%s%" PRIu64 " bytes is out of range (expected a whole number "
			       "of MiB from 64M to 1T)", pre, cfg->memory);
		return -EINVAL;
	}
	if (cfg->cpus < 1 || cfg->cpus > VM_MAX_CPUS) {
		where_prefix(&cfg->where.cpus, "cpus", "cpus", pre, sizeof(pre));
		config_err_set(err, "%s%u is out of range (expected 1 to %d)", pre, cfg->cpus,
			       VM_MAX_CPUS);
		return -EINVAL;
	}
	if (cfg->timeout > VM_MAX_TIMEOUT) {
		where_prefix(&cfg->where.timeout, "timeout", "timeout", pre, sizeof(pre));
		config_err_set(err, "%s%u is out of range (expected 0 to %u seconds)", pre,
			       cfg->timeout, VM_MAX_TIMEOUT);
		return -EINVAL;
	}
	if (cfg->serial != VM_SERIAL_STDIO && cfg->serial != VM_SERIAL_FILE &&
	    cfg->serial != VM_SERIAL_NONE) {
		config_err_set(err, "invalid serial mode %d", (int)cfg->serial);
		return -EINVAL;
	}
	if (cfg->serial == VM_SERIAL_FILE && (!cfg->serial_path || !cfg->serial_path[0])) {
		where_prefix(&cfg->where.serial, "serial", "serial", pre, sizeof(pre));
		config_err_set(err, "%sfile: needs a path (e.g. file:console.log)", pre);
		return -EINVAL;
	}
	if (cfg->stats_path && !cfg->stats_path[0]) {
		where_prefix(&cfg->where.stats, "stats", "stats", pre, sizeof(pre));
		config_err_set(err, "%sempty path", pre);
		return -EINVAL;
	}
	if (cfg->user && config_user_check(cfg->user, why, sizeof(why)) < 0) {
		where_prefix(&cfg->where.user, "user", "user", pre, sizeof(pre));
		config_err_set(err, "%s%s", pre, why);
		return -EINVAL;
	}
	if (cfg->ndrives > VM_MAX_DRIVES) {
		config_err_set(err, "too many drives: %u (at most %d)", cfg->ndrives, VM_MAX_DRIVES);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->ndrives; i++) {
		int ret = validate_drive(cfg, i, err);

		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * The line for a --user that sandbox_user_resolve refused with r; pre is
 * where it was given ("--user SPEC: " or "vm.ini:4: user: "). Returns
 * -EINVAL for the user's mistakes, r for a lookup that failed.
 */
static int user_error(const struct vm_config *cfg, const char *pre, uid_t euid, int r, struct vm_config_error *err)
{
	const char *spec = cfg->user, *colon = strchr(spec, ':');
	int ulen = colon ? (int)(colon - spec) : (int)strlen(spec);

	switch (r) {
	case SANDBOX_USER_NOT_ROOT:
		config_err_set(err, "%sswitching to another user needs root, and vmm runs as uid %u (start vmm as root, "
			       "or %s; docs/security.md shows how to run vmm without root)", pre, (unsigned int)euid,
			       cfg->where.user.file ? "remove the user line" : "leave --user out");
		return -EINVAL;
	case SANDBOX_USER_UNKNOWN:
		config_err_set(err, "%sno user \"%.*s\" on this host (give an existing user's name or a uid)", pre,
			       ulen, spec);
		return -EINVAL;
	case SANDBOX_GROUP_UNKNOWN:
		config_err_set(err, "%sno group \"%s\" on this host (give an existing group's name or a gid)", pre,
			       colon + 1);
		return -EINVAL;
	case SANDBOX_USER_NO_GROUP:
		config_err_set(err, "%suid %.*s has no user entry to take a group from (give one: %.*s:GROUP)", pre,
			       ulen, spec, ulen, spec);
		return -EINVAL;
	case SANDBOX_USER_IS_ROOT:
		config_err_set(err, "%s\"%s\" is root's user or group (0), which would drop nothing (name an "
			       "unprivileged user, e.g. nobody)", pre, spec);
		return -EINVAL;
	case SANDBOX_USER_MALFORMED:
		config_err_set(err, "%s\"%s\" is not USER or USER:GROUP (names, or numbers below 4294967295)", pre,
			       spec);
		return -EINVAL;
	default:
		config_err_set(err, "%scannot look \"%s\" up in the user database: %s", pre, spec, strerror(-r));
		return r;
	}
}

int vm_config_user_resolve(struct vm_config *cfg, uid_t euid, struct vm_config_error *err)
{
	struct sandbox_ids ids;
	char pre[PATH_MAX + VM_USER_MAX + 64];
	int r;

	if (!cfg->user)
		return 0;
	r = sandbox_user_resolve(cfg->user, euid, &ids);
	if (r == 0) {
		cfg->user_uid = ids.uid;
		cfg->user_gid = ids.gid;
		return 0;
	}
	if (cfg->where.user.file)
		snprintf(pre, sizeof(pre), "%s:%d: user: ", cfg->where.user.file, cfg->where.user.line);
	else
		snprintf(pre, sizeof(pre), "--user %s: ", cfg->user);
	return user_error(cfg, pre, euid, r, err);
}

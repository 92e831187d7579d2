/* SPDX-License-Identifier: MIT */
/* Unit tests of struct vm_config alone: defaults, the fill helpers, origins and validation (linked without INI and CLI). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_internal.h"
#include "vm_config.h"

static void test_defaults(void **state)
{
	struct vm_config cfg;

	(void)state;
	vm_config_init(&cfg);
	assert_int_equal(cfg.memory, VM_DEFAULT_MEMORY);
	assert_int_equal(cfg.cpus, 1);
	assert_int_equal(cfg.timeout, 0);
	assert_int_equal(cfg.serial, VM_SERIAL_STDIO);
	assert_true(cfg.sandbox);
	assert_null(cfg.user);
	assert_null(cfg.kernel);
	assert_null(cfg.cmdline);
	assert_int_equal(cfg.ndrives, 0);
	for (unsigned int i = 0; i < VM_MAX_DRIVES; i++)
		assert_int_equal(cfg.drives[i].cache, BLK_CACHE_WRITEBACK);

	/* vm_config_free leaves it as vm_config_init does. */
	assert_int_equal(config_str_set(&cfg.kernel, "/k"), 0);
	assert_non_null(config_source_add(&cfg, "vm.ini"));
	cfg.cpus = 4;
	vm_config_free(&cfg);
	assert_null(cfg.kernel);
	assert_null(cfg.sources);
	assert_int_equal(cfg.nsources, 0);
	assert_int_equal(cfg.cpus, 1);
}

static void test_fill_helpers(void **state)
{
	struct vm_config cfg;
	const char *name;

	(void)state;
	vm_config_init(&cfg);
	assert_int_equal(config_str_set(&cfg.cmdline, "a"), 0);
	assert_int_equal(config_str_set(&cfg.cmdline, "b"), 0);
	assert_string_equal(cfg.cmdline, "b");
	assert_int_equal(config_str_set(&cfg.cmdline, NULL), 0);
	assert_null(cfg.cmdline);

	cfg.ndrives = 2;
	assert_int_equal(config_str_set(&cfg.drives[1].id, "data"), 0);
	assert_int_equal(config_drive_find(&cfg, "data"), 1);
	assert_int_equal(config_drive_find(&cfg, "root"), -1);
	cfg.drives[1].cache = BLK_CACHE_UNSAFE;
	cfg.drives[1].poll_us = 0;
	config_drive_clear(&cfg.drives[1]);
	assert_null(cfg.drives[1].id);
	assert_int_equal(cfg.drives[1].cache, BLK_CACHE_WRITEBACK);
	assert_int_equal(cfg.drives[1].poll_us, VM_DRIVE_POLL_US_DEFAULT);

	name = config_source_add(&cfg, "a.ini");
	assert_string_equal(name, "a.ini");
	assert_ptr_equal(cfg.sources[0], name);
	assert_int_equal(cfg.nsources, 1);
	vm_config_free(&cfg);
}

static void test_origin_format(void **state)
{
	const struct vm_config_origin ini = { "vm.ini", 12 }, cli = { NULL, 0 };
	char buf[32];

	(void)state;
	assert_int_equal(vm_config_origin_format(&ini, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "vm.ini:12");
	assert_int_equal(vm_config_origin_format(&cli, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

/* vm_config_validate over hand-filled structs. */
static void test_validate(void **state)
{
	struct vm_config cfg;
	struct vm_config_error err;

	(void)state;
	vm_config_init(&cfg);
	cfg.kernel = strdup("/k");
	assert_int_equal(vm_config_validate(&cfg, &err), 0);

	cfg.memory = 16ull << 20;
	assert_int_equal(vm_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "--memory: 16777216 bytes is out of range (expected a whole number of "
			    "MiB from 64M to 1T)");
	cfg.memory = VM_DEFAULT_MEMORY;

	cfg.cpus = VM_MAX_CPUS + 1;
	cfg.where.cpus = (struct vm_config_origin){ "vm.ini", 7 };
	assert_int_equal(vm_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "vm.ini:7: cpus: 65 is out of range (expected 1 to 64)");
	cfg.cpus = 1;

	cfg.ndrives = 2;
	cfg.drives[0].id = strdup("a");
	cfg.drives[0].file = strdup("/a");
	cfg.drives[0].origin = (struct vm_config_origin){ "vm.ini", 3 };
	cfg.drives[1].id = strdup("a");
	cfg.drives[1].file = strdup("/b");
	assert_int_equal(vm_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "--drive id=a: drive id \"a\" is also used by vm.ini:3; give each "
			    "drive its own id");
	cfg.drives[1].id[0] = 'b';
	assert_int_equal(vm_config_validate(&cfg, &err), 0);

	cfg.drives[1].cache = (enum blk_cache_mode)42;
	assert_int_equal(vm_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "--drive id=b: invalid cache mode 42");
	cfg.drives[1].cache = BLK_CACHE_NONE;

	cfg.serial = VM_SERIAL_FILE;
	assert_int_equal(vm_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "--serial: file: needs a path (e.g. file:console.log)");
	cfg.serial = VM_SERIAL_STDIO;

	cfg.user = strdup("a:b:c");
	cfg.where.user = (struct vm_config_origin){ "vm.ini", 9 };
	assert_int_equal(vm_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "vm.ini:9: user: \"a:b:c\" is not USER or USER:GROUP (each a name or a number)");
	vm_config_free(&cfg);
}

/* vm_config_user_resolve with cfg->user = spec given at where, as a process of effective uid euid. */
static int user_resolve(const char *spec, const struct vm_config_origin *where, uid_t euid, struct vm_config *cfg,
			struct vm_config_error *err)
{
	vm_config_init(cfg);
	if (spec)
		cfg->user = strdup(spec);
	if (where)
		cfg->where.user = *where;
	memset(err->msg, 0, sizeof(err->msg));
	return vm_config_user_resolve(cfg, euid, err);
}

/* Expects spec to be refused with -EINVAL and exactly msg, as root unless euid says otherwise. */
static void expect_user_error(const char *spec, const struct vm_config_origin *where, uid_t euid, const char *msg)
{
	struct vm_config cfg;
	struct vm_config_error err;

	assert_int_equal(user_resolve(spec, where, euid, &cfg, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
	vm_config_free(&cfg);
}

/* --user is looked up for the euid the caller gives: each refusal says what, where, and the fix. */
static void test_user_resolve(void **state)
{
	const struct vm_config_origin ini = { "vm.ini", 4 };
	struct vm_config_error err;
	struct vm_config cfg;

	(void)state;
	/* Nothing to do without --user, whoever runs vmm. */
	assert_int_equal(user_resolve(NULL, NULL, 1000, &cfg, &err), 0);
	vm_config_free(&cfg);
	assert_int_equal(user_resolve("4000000000:4000000001", NULL, 0, &cfg, &err), 0);
	assert_int_equal(cfg.user_uid, 4000000000u);
	assert_int_equal(cfg.user_gid, 4000000001u);
	vm_config_free(&cfg);

	expect_user_error("nobody", NULL, 1000, "--user nobody: switching to another user needs root, and vmm runs as "
			  "uid 1000 (start vmm as root, or leave --user out; docs/security.md shows how to run vmm "
			  "without root)");
	expect_user_error("nobody", &ini, 1000, "vm.ini:4: user: switching to another user needs root, and vmm runs "
			  "as uid 1000 (start vmm as root, or remove the user line; docs/security.md shows how to run "
			  "vmm without root)");
	expect_user_error("vmm-no-such-user-x:nogroup", NULL, 0, "--user vmm-no-such-user-x:nogroup: no user "
			  "\"vmm-no-such-user-x\" on this host (give an existing user's name or a uid)");
	expect_user_error("nobody:vmm-no-such-group-x", &ini, 0, "vm.ini:4: user: no group \"vmm-no-such-group-x\" on "
			  "this host (give an existing group's name or a gid)");
	expect_user_error("4000000000", NULL, 0, "--user 4000000000: uid 4000000000 has no user entry to take a group "
			  "from (give one: 4000000000:GROUP)");
	expect_user_error("root", NULL, 0, "--user root: \"root\" is root's user or group (0), which would drop "
			  "nothing (name an unprivileged user, e.g. nobody)");
	expect_user_error("nobody:0", NULL, 0, "--user nobody:0: \"nobody:0\" is root's user or group (0), which "
			  "would drop nothing (name an unprivileged user, e.g. nobody)");
	expect_user_error("4294967295:1", NULL, 0, "--user 4294967295:1: \"4294967295:1\" is not USER or USER:GROUP "
			  "(names, or numbers below 4294967295)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_fill_helpers),
		cmocka_unit_test(test_origin_format),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_user_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

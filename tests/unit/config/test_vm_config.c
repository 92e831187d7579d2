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
	vm_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_fill_helpers),
		cmocka_unit_test(test_origin_format),
		cmocka_unit_test(test_validate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

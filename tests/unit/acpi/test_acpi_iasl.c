/* SPDX-License-Identifier: MIT */
/* Cross-checks the tables with ACPICA's iasl: disassemble, inspect, recompile. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "acpi.h"
#include "acpi_test_util.h"

#define NVIRTIO 3

static char iasl_path[4096];
static char tmp_dir[4096];
static struct acpi_machine machine;

/* Finds iasl: $IASL (set by meson when it found it), else $PATH. */
static int iasl_find(void)
{
	const char *env = getenv("IASL");
	const char *path = getenv("PATH");

	if (env && *env && access(env, X_OK) == 0) {
		snprintf(iasl_path, sizeof(iasl_path), "%s", env);
		return 0;
	}
	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(iasl_path, sizeof(iasl_path), "%.*s/iasl", (int)n, path);
		if (n && access(iasl_path, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	return -ENOENT;
}

/* Runs iasl with args in tmp_dir, output to log; returns its exit status. */
static int iasl_run(const char *log, const char *a1, const char *a2)
{
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { iasl_path, (char *)a1, (char *)a2, NULL };
		int fd;

		if (!a2)
			argv[2] = NULL;
		if (chdir(tmp_dir) < 0)
			_exit(126);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execv(iasl_path, argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Reads tmp_dir/name into a NUL-terminated malloc'd buffer. */
static char *slurp(const char *name, size_t *len)
{
	char path[8192];
	struct stat st;
	char *data;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fstat(fileno(f), &st), 0);
	data = malloc((size_t)st.st_size + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	data[st.st_size] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)st.st_size;
	return data;
}

static void spill(const char *name, const uint8_t *p, size_t n)
{
	char path[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static int setup_tables(void **state)
{
	static const char *const sigs[] = { "XSDT", "FACP", "APIC", "DSDT" };
	static uint8_t buf[TEST_ACPI_CAP];
	const char *tmp = getenv("TMPDIR");
	uint64_t rsdp;
	int used;

	(void)state;
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/vmm-acpi-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmp_dir))
		return -1;
	test_machine_init(&machine, 2, NVIRTIO);
	machine.virtio[1].base = 0xC0FFE000;
	machine.virtio[2].gsi = 23;
	used = acpi_tables_build(&machine, buf, sizeof(buf), TEST_ACPI_GPA, &rsdp);
	if (used <= 0)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		const uint8_t *t = test_find_table(buf, (size_t)used, TEST_ACPI_GPA, rsdp, sigs[i]);
		char name[16];

		if (!t)
			return -1;
		snprintf(name, sizeof(name), "%.4s.dat", sigs[i]);
		spill(name, t, test_get32(t + 4));
	}
	return 0;
}

static int teardown_tables(void **state)
{
	DIR *d = opendir(tmp_dir);
	struct dirent *e;

	(void)state;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[8192];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp_dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(tmp_dir);
	return 0;
}

/* The disassembler reports bad checksums and odd fields as warnings or errors. */
static void assert_disasm_clean(const char *log)
{
	char *text = slurp(log, NULL);

	if (strstr(text, "Warning") || strstr(text, "Error") || strstr(text, "Invalid"))
		fail_msg("iasl -d complained in %s:\n%s", log, text);
	free(text);
}

/* The compiler always prints a summary; it must count nothing bad. */
static void assert_compile_clean(const char *log)
{
	char *text = slurp(log, NULL);

	if (!strstr(text, "Compilation successful. 0 Errors, 0 Warnings,"))
		fail_msg("iasl complained in %s:\n%s", log, text);
	free(text);
}

static void test_dsdt_disassembles(void **state)
{
	char *dsl;

	(void)state;
	assert_int_equal(iasl_run("DSDT.dis.log", "-d", "DSDT.dat"), 0);
	assert_disasm_clean("DSDT.dis.log");
	dsl = slurp("DSDT.dsl", NULL);
	assert_non_null(strstr(dsl, "Name (\\_S5, Package (0x04)"));
	assert_non_null(strstr(dsl, "_S5_"));
	assert_non_null(strstr(dsl, "Scope (\\_SB)"));
	assert_non_null(strstr(dsl, "EisaId (\"PNP0501\")"));
	for (unsigned int i = 0; i < NVIRTIO; i++) {
		char want[64];
		const char *dev;

		snprintf(want, sizeof(want), "Device (VRT%u)", i);
		dev = strstr(dsl, want);
		assert_non_null(dev);
		/* Look inside this device only: up to the next one. */
		const char *next = strstr(dev + 1, "Device (");
		size_t span = next ? (size_t)(next - dev) : strlen(dev);
		char *body = strndup(dev, span);

		assert_non_null(body);
		assert_non_null(strstr(body, "Name (_HID, \"LNRO0005\")"));
		snprintf(want, sizeof(want), "0x%08X,         // Address Base",
			 (unsigned int)machine.virtio[i].base);
		assert_non_null(strstr(body, want));
		snprintf(want, sizeof(want), "0x%08X,         // Address Length",
			 machine.virtio[i].size);
		assert_non_null(strstr(body, want));
		assert_non_null(strstr(body, "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive"));
		snprintf(want, sizeof(want), "0x%08X,", machine.virtio[i].gsi);
		assert_non_null(strstr(body, want));
		free(body);
	}
	assert_null(strstr(dsl, "Device (VRT3)"));
	free(dsl);

	/* The disassembly is valid ASL: it compiles without complaint. */
	assert_int_equal(iasl_run("DSDT.asl.log", "DSDT.dsl", NULL), 0);
	assert_compile_clean("DSDT.asl.log");
}

/*
 * Disassembles a data table, then compiles the result back: the bytes must
 * match ours except the checksum and the creator id/revision, which iasl
 * replaces with its own.
 */
static void check_data_table(const char *sig)
{
	char dat[16], dsl[16], aml[16], log[32];
	uint8_t *ours, *back;
	size_t n_ours, n_back;

	snprintf(dat, sizeof(dat), "%s.dat", sig);
	snprintf(dsl, sizeof(dsl), "%s.dsl", sig);
	snprintf(aml, sizeof(aml), "%s.aml", sig);
	snprintf(log, sizeof(log), "%s.dis.log", sig);
	assert_int_equal(iasl_run(log, "-d", dat), 0);
	assert_disasm_clean(log);
	char *text = slurp(dsl, NULL);
	assert_null(strstr(text, "Incorrect"));
	free(text);

	snprintf(log, sizeof(log), "%s.asl.log", sig);
	assert_int_equal(iasl_run(log, dsl, NULL), 0);
	assert_compile_clean(log);
	ours = (uint8_t *)slurp(dat, &n_ours);
	back = (uint8_t *)slurp(aml, &n_back);
	assert_int_equal(n_back, n_ours);
	for (size_t i = 0; i < n_ours; i++) {
		if (i == 9 || (i >= 28 && i < 36))
			continue;
		if (ours[i] != back[i])
			fail_msg("%s byte %zu: ours 0x%02x, iasl 0x%02x", sig, i, ours[i], back[i]);
	}
	free(ours);
	free(back);
}

static void test_fadt_round_trip(void **state)
{
	(void)state;
	check_data_table("FACP");
}

static void test_madt_round_trip(void **state)
{
	(void)state;
	check_data_table("APIC");
}

static void test_xsdt_round_trip(void **state)
{
	(void)state;
	check_data_table("XSDT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dsdt_disassembles),
		cmocka_unit_test(test_fadt_round_trip),
		cmocka_unit_test(test_madt_round_trip),
		cmocka_unit_test(test_xsdt_round_trip),
	};

	if (iasl_find() < 0) {
		printf("SKIP: iasl not found ($IASL unset, not on $PATH); install acpica-tools\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup_tables, teardown_tables);
}

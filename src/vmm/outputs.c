/* SPDX-License-Identifier: MIT */
/* Output files against inputs and each other: by inode, and for files still to be made by directory and name. */
#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outputs.h"

/* An input file an output must not overwrite, and how to name it in a message. */
struct input_file {
	struct stat st;
	char name[PATH_MAX + 64];
};

/* "--kernel k" on the command line, "kernel (vm.ini:2)" from an INI file. */
static void input_name(char *buf, size_t n, const struct vm_config_origin *o, const char *key,
		       const char *prefix, const char *path)
{
	if (o && o->file)
		snprintf(buf, n, "%s (%s:%d)", key, o->file, o->line);
	else
		snprintf(buf, n, "--%s %s%s", key, prefix, path);
}

static void input_add(struct input_file *in, unsigned int *n, const struct vm_config_origin *o,
		      const char *key, const char *prefix, const char *path)
{
	if (!path || stat(path, &in[*n].st) < 0)
		return;   /* a missing input is reported on its own */
	input_name(in[*n].name, sizeof(in[*n].name), o, key, prefix, path);
	(*n)++;
}

/*
 * In out: path, or, when path is a symlink to something that does not exist
 * yet, the path its chain of links (up to 8) ends at. NULL if that does not
 * fit in n bytes.
 */
static const char *new_file_target(const char *path, char *out, size_t n)
{
	char link[PATH_MAX], dir[PATH_MAX];
	struct stat st;

	if (snprintf(out, n, "%s", path) >= (int)n)
		return NULL;
	for (int hops = 0; hops < 8 && lstat(out, &st) == 0 && S_ISLNK(st.st_mode); hops++) {
		ssize_t len = readlink(out, link, sizeof(link) - 1);

		if (len < 0)
			break;
		link[len] = '\0';
		snprintf(dir, sizeof(dir), "%s", out);
		if ((link[0] == '/' ? snprintf(out, n, "%s", link) : snprintf(out, n, "%s/%s", dirname(dir), link)) >=
		    (int)n)
			return NULL;
	}
	return out;
}

/*
 * Whether two paths, neither of which exists yet, name the same file to be
 * (for a dangling symlink, the file it points to, see new_file_target):
 * the same directory (by device and inode, so "x" and "./x" match) and the
 * same last component. check_output has made sure each directory exists.
 */
static bool same_new_file(const char *a, const char *b)
{
	char da[PATH_MAX], db[PATH_MAX], ba[PATH_MAX], bb[PATH_MAX];
	struct stat sa, sb;

	if (stat(a, &sa) == 0 || errno != ENOENT || stat(b, &sb) == 0 || errno != ENOENT)
		return false;
	/* A dangling symlink is where open(O_CREAT) makes the file its chain of links ends at. */
	if (!new_file_target(a, da, sizeof(da)) || !new_file_target(b, db, sizeof(db)))
		return false;
	memcpy(ba, da, sizeof(ba));
	memcpy(bb, db, sizeof(bb));
	if (strcmp(basename(ba), basename(bb)) != 0)
		return false;
	if (stat(dirname(da), &sa) < 0 || stat(dirname(db), &sb) < 0)
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The inputs an output must not overwrite, into in[] (room for 4 + VM_MAX_DRIVES + 16); the console file last. */
static unsigned int inputs_list(const struct vm_config *cfg, const struct output_file *console, struct input_file *in,
				unsigned int max)
{
	unsigned int n = 0;

	input_add(in, &n, &cfg->where.kernel, "kernel", "", cfg->kernel);
	input_add(in, &n, &cfg->where.initrd, "initrd", "", cfg->initrd);
	for (unsigned int i = 0; i < cfg->ndrives; i++) {
		const struct vm_drive_config *d = &cfg->drives[i];
		struct vm_config_origin o = d->origin;
		char key[64];

		snprintf(key, sizeof(key), o.file ? "drive \"%s\"" : "drive", d->id ? d->id : "");
		if (o.file)
			input_add(in, &n, &d->file_origin, key, "", d->file);
		else
			input_add(in, &n, NULL, "drive", "file=", d->file);
	}
	for (unsigned int i = 0; i < cfg->nsources && n < max - 1; i++)
		input_add(in, &n, NULL, "config", "", cfg->sources[i]);
	/* --serial is checked against --stats too: the stats rename would replace the console log. */
	input_add(in, &n, console->o, "serial", "file:", console->path);
	return n;
}

int outputs_clash_find(const struct vm_config *cfg, struct output_clash *clash)
{
	struct input_file in[4 + VM_MAX_DRIVES + 16];
	const struct output_file outs[2] = {
		{ cfg->serial == VM_SERIAL_FILE ? cfg->serial_path : NULL, "serial", "file:", "--serial",
		  &cfg->where.serial },
		{ cfg->stats_path, "stats", "", "--stats", &cfg->where.stats },
	};
	unsigned int n = inputs_list(cfg, &outs[0], in, sizeof(in) / sizeof(in[0]));

	/* Neither output exists yet: the stats rename would replace the console log all the same. */
	if (outs[0].path && outs[1].path && same_new_file(outs[0].path, outs[1].path)) {
		clash->out = outs[1];
		input_name(clash->other, sizeof(clash->other), outs[0].o, outs[0].key, outs[0].prefix, outs[0].path);
		return 1;
	}
	for (unsigned int k = 0; k < 2; k++) {
		struct stat st;

		if (!outs[k].path || stat(outs[k].path, &st) < 0)
			continue;
		for (unsigned int i = 0; i < n; i++) {
			if (in[i].st.st_dev != st.st_dev || in[i].st.st_ino != st.st_ino)
				continue;
			if (k == 0 && i == n - 1 && outs[0].path)
				break;   /* the console file itself */
			clash->out = outs[k];
			memcpy(clash->other, in[i].name, sizeof(clash->other));
			return 1;
		}
	}
	return 0;
}

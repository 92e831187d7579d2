/* SPDX-License-Identifier: MIT */
/* --user: a USER[:GROUP] looked up at configuration time, and the drop to it after set-up, checked to have stuck. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"

/* The user database's entries are small; a name service with huge ones gets up to this much room. */
#define USER_BUF_MAX (1u << 20)

/*
 * s[0..len) as a uid or gid: all digits, below (id_t)-1, which set*id(2)
 * take as "unchanged". 1 and *out if it is a number, 0 if it is a name,
 * SANDBOX_USER_MALFORMED for a number out of range.
 */
static int user_number(const char *s, size_t len, unsigned int *out)
{
	unsigned long long v = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned int)(s[i] - '0');
		if (v >= UINT_MAX)
			return SANDBOX_USER_MALFORMED;
	}
	*out = (unsigned int)v;
	return 1;
}

/* Whether a getpwnam_r/getgrnam_r result code means "no such entry" (see their man pages). */
static bool user_not_found(int e)
{
	return e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM;
}

/* A failed lookup's -errno, kept apart from the refusals sandbox.h names. */
static int user_lookup_error(int e)
{
	int r = -e;

	if (r == SANDBOX_USER_NOT_ROOT || r == SANDBOX_USER_UNKNOWN || r == SANDBOX_GROUP_UNKNOWN ||
	    r == SANDBOX_USER_NO_GROUP || r == SANDBOX_USER_IS_ROOT || r == SANDBOX_USER_MALFORMED)
		return -EIO;
	return r;
}

/* One reentrant lookup: getpwnam_r and the like into buf, setting *found and the query's answer. */
typedef int user_db_get_fn(void *query, char *buf, size_t size, bool *found);

/*
 * Run get, growing its buffer while it says ERANGE: 0 if found, 1 if there
 * is no such entry, -errno if the lookup failed.
 */
static int user_db_lookup(user_db_get_fn *get, void *query)
{
	size_t size = 4096;
	bool found = false;
	int e;

	for (;;) {
		char *buf = malloc(size);

		if (!buf)
			return -ENOMEM;
		e = get(query, buf, size, &found);
		free(buf);
		if (e != ERANGE || size >= USER_BUF_MAX)
			break;
		size *= 2;
	}
	if (found)
		return 0;
	return user_not_found(e) ? 1 : user_lookup_error(e);
}

/* A user entry by name, or (name NULL) by uid: its uid and primary group. */
struct user_query {
	const char *name;
	uid_t uid;
	gid_t gid;
};

static int user_get(void *query, char *buf, size_t size, bool *found)
{
	struct user_query *q = query;
	struct passwd pw, *res = NULL;
	int e = q->name ? getpwnam_r(q->name, &pw, buf, size, &res) : getpwuid_r(q->uid, &pw, buf, size, &res);

	if (res) {
		q->uid = pw.pw_uid;
		q->gid = pw.pw_gid;
		*found = true;
	}
	return e;
}

/* A group entry by name: its gid. */
struct group_query {
	const char *name;
	gid_t gid;
};

static int group_get(void *query, char *buf, size_t size, bool *found)
{
	struct group_query *q = query;
	struct group gr, *res = NULL;
	int e = getgrnam_r(q->name, &gr, buf, size, &res);

	if (res) {
		q->gid = gr.gr_gid;
		*found = true;
	}
	return e;
}

/*
 * The USER part of spec (len bytes): *uid, and in *gid the group of its user
 * entry if it has one (*has_gid). A number needs no entry; a name does.
 */
static int user_part(const char *spec, size_t len, uid_t *uid, gid_t *gid, bool *has_gid)
{
	struct user_query q = { 0 };
	char *name = NULL;
	unsigned int num;
	int r = user_number(spec, len, &num);
	bool by_name = r == 0;

	if (r < 0)
		return r;
	if (!by_name) {
		q.uid = num;
	} else {
		name = strndup(spec, len);
		if (!name)
			return -ENOMEM;
		q.name = name;
	}
	r = user_db_lookup(user_get, &q);
	free(name);
	if (r < 0)
		return r;
	if (r == 1 && by_name)
		return SANDBOX_USER_UNKNOWN;
	*uid = q.uid;
	*gid = q.gid;
	*has_gid = r == 0;
	return 0;
}

/* The GROUP part (a NUL-terminated name or number): *gid. */
static int group_part(const char *s, gid_t *gid)
{
	unsigned int num;
	int r = user_number(s, strlen(s), &num);

	if (r < 0)
		return r;
	if (r == 1) {
		*gid = num;
		return 0;
	}
	struct group_query q = { .name = s };

	r = user_db_lookup(group_get, &q);
	if (r == 0)
		*gid = q.gid;
	return r == 1 ? SANDBOX_GROUP_UNKNOWN : r;
}

int sandbox_user_resolve(const char *spec, uid_t euid, struct sandbox_ids *out)
{
	const char *colon;
	size_t ulen;
	uid_t uid = 0;
	gid_t gid = 0;
	bool has_gid;
	int r;

	if (!spec || !out)
		return SANDBOX_USER_MALFORMED;
	if (euid != 0)
		return SANDBOX_USER_NOT_ROOT;
	colon = strchr(spec, ':');
	ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	if (ulen == 0 || (colon && (colon[1] == '\0' || strchr(colon + 1, ':'))))
		return SANDBOX_USER_MALFORMED;
	r = user_part(spec, ulen, &uid, &gid, &has_gid);
	if (r < 0)
		return r;
	if (colon)
		r = group_part(colon + 1, &gid);
	else if (!has_gid)
		r = SANDBOX_USER_NO_GROUP;
	if (r < 0)
		return r;
	if (uid == 0 || gid == 0)
		return SANDBOX_USER_IS_ROOT;
	*out = (struct sandbox_ids){ .uid = uid, .gid = gid };
	return 0;
}

int sandbox_ids_drop(const struct sandbox_ids *ids)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	if (!ids || ids->uid == 0 || ids->gid == 0)
		return -EINVAL;
	/* Groups first: once the uid is not 0, nothing else may change. */
	if (setgroups(0, NULL) < 0)
		return -errno;
	if (setresgid(ids->gid, ids->gid, ids->gid) < 0)
		return -errno;
	if (setresuid(ids->uid, ids->uid, ids->uid) < 0)
		return -errno;
	/* Trust nothing: every id as asked, no group left over, and no way back to root. */
	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0)
		return -errno;
	if (ruid != ids->uid || euid != ids->uid || suid != ids->uid ||
	    rgid != ids->gid || egid != ids->gid || sgid != ids->gid)
		return -EPERM;
	if (getgroups(0, NULL) != 0)
		return -EPERM;
	if (setgid(0) == 0 || setuid(0) == 0)
		return -EPERM;
	return 0;
}

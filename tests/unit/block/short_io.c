/* SPDX-License-Identifier: MIT */
/* The preadv/pwritev2 wrappers behind short_io.h (linked with -Wl,--wrap=preadv64,--wrap=pwritev64v2). */
#include "short_io.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>

/* The symbols glibc's preadv and pwritev2 resolve to with a 64-bit off_t. */
ssize_t __real_preadv64(int fd, const struct iovec *iov, int cnt, off_t off);
ssize_t __real_pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags);
ssize_t __wrap_preadv64(int fd, const struct iovec *iov, int cnt, off_t off);
ssize_t __wrap_pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags);

static long caps[SHORT_IO_MAX];
static unsigned int ncaps, next, calls;

void short_io_script(const long *c, unsigned int n)
{
	memcpy(caps, c, n * sizeof(caps[0]));
	ncaps = n;
	next = 0;
	calls = 0;
}

unsigned int short_io_calls(void)
{
	return calls;
}

/*
 * The iovecs of the call cut to its cap: *cnt entries of out, or -1 with
 * errno set when the call is to fail, or 0 entries when it is to move nothing.
 * Calls past the script keep iov as it is.
 */
static const struct iovec *cut(const struct iovec *iov, int *cnt, struct iovec *out)
{
	uint64_t left;
	long cap;
	int n = 0;

	calls++;
	if (next >= ncaps)
		return iov;
	cap = caps[next++];
	if (cap < 0) {
		errno = (int)-cap;
		*cnt = -1;
		return NULL;
	}
	left = (uint64_t)cap;
	for (int i = 0; i < *cnt && left > 0 && n < IOV_MAX; i++) {
		out[n].iov_base = iov[i].iov_base;
		out[n].iov_len = iov[i].iov_len < left ? iov[i].iov_len : left;
		left -= out[n].iov_len;
		n++;
	}
	*cnt = n;
	return out;
}

ssize_t __wrap_preadv64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	struct iovec out[IOV_MAX];
	const struct iovec *v = cut(iov, &cnt, out);

	if (cnt < 0)
		return -1;
	return cnt ? __real_preadv64(fd, v, cnt, off) : 0;
}

ssize_t __wrap_pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	struct iovec out[IOV_MAX];
	const struct iovec *v = cut(iov, &cnt, out);

	if (cnt < 0)
		return -1;
	return cnt ? __real_pwritev64v2(fd, v, cnt, off, flags) : 0;
}

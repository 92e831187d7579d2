/* SPDX-License-Identifier: MIT */
/* The liburing wrappers behind uring_fault.h (linked with -Wl,--wrap=io_uring_submit,--wrap=__io_uring_get_cqe). */
#include "uring_fault.h"

#include <errno.h>
#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>

int __real_io_uring_submit(struct io_uring *ring);
int __real___io_uring_get_cqe(struct io_uring *ring, struct io_uring_cqe **cqe_ptr, unsigned submit,
			      unsigned wait_nr, sigset_t *sigmask);
int __wrap_io_uring_submit(struct io_uring *ring);
int __wrap___io_uring_get_cqe(struct io_uring *ring, struct io_uring_cqe **cqe_ptr, unsigned submit,
			      unsigned wait_nr, sigset_t *sigmask);

/* One script: values[next..n) are still to be used. */
struct script {
	int values[URING_FAULT_MAX];
	unsigned int n, next;
};

static struct script submit_script, cqe_script, wait_script;
/* The ring whose CQ index (free-running, as the kernel's head and tail) cq_rewritten is: past the last rewrite. */
static struct io_uring *cq_ring;
static unsigned int cq_rewritten;

static void script_set(struct script *s, const int *v, unsigned int n)
{
	if (n > URING_FAULT_MAX)
		n = URING_FAULT_MAX;
	__atomic_store_n(&s->n, 0, __ATOMIC_SEQ_CST);
	for (unsigned int i = 0; i < n; i++)
		__atomic_store_n(&s->values[i], v[i], __ATOMIC_RELAXED);
	__atomic_store_n(&s->next, 0, __ATOMIC_SEQ_CST);
	/* Seq-cst after the values and next: a reader that sees n sees them too. */
	__atomic_store_n(&s->n, n, __ATOMIC_SEQ_CST);
}

/* The next value of s into *v: true, or false when s is used up. One thread takes at a time. */
static bool script_take(struct script *s, int *v)
{
	unsigned int n = __atomic_load_n(&s->n, __ATOMIC_SEQ_CST);
	unsigned int next = __atomic_load_n(&s->next, __ATOMIC_SEQ_CST);

	if (next >= n)
		return false;
	*v = __atomic_load_n(&s->values[next], __ATOMIC_RELAXED);
	__atomic_store_n(&s->next, next + 1, __ATOMIC_SEQ_CST);
	return true;
}

static bool script_left(struct script *s)
{
	return __atomic_load_n(&s->next, __ATOMIC_SEQ_CST) < __atomic_load_n(&s->n, __ATOMIC_SEQ_CST);
}

void uring_fault_submit(const int *rets, unsigned int n)
{
	script_set(&submit_script, rets, n);
}

void uring_fault_cqe(const int *res, unsigned int n)
{
	script_set(&cqe_script, res, n);
}

void uring_fault_wait(const int *rets, unsigned int n)
{
	script_set(&wait_script, rets, n);
}

void uring_fault_clear(void)
{
	script_set(&submit_script, NULL, 0);
	script_set(&cqe_script, NULL, 0);
	script_set(&wait_script, NULL, 0);
	/* The next ring may have the last one's address. */
	cq_ring = NULL;
}

unsigned int uring_fault_submit_used(void)
{
	return __atomic_load_n(&submit_script.next, __ATOMIC_SEQ_CST);
}

unsigned int uring_fault_cqe_used(void)
{
	return __atomic_load_n(&cqe_script.next, __ATOMIC_SEQ_CST);
}

unsigned int uring_fault_wait_used(void)
{
	return __atomic_load_n(&wait_script.next, __ATOMIC_SEQ_CST);
}

/*
 * Wait (10 s at most: a test that went wrong fails rather than hangs) for the
 * completion after the last one rewritten, or the oldest unread one, and give
 * it the script's next res. 0 or -errno. Only the thread that submits calls it.
 */
static int cq_rewrite_next(struct io_uring *ring)
{
	unsigned int head = __atomic_load_n(ring->cq.khead, __ATOMIC_ACQUIRE);
	unsigned int want = cq_ring == ring && (int)(cq_rewritten - head) > 0 ? cq_rewritten : head;
	struct __kernel_timespec ts = { .tv_nsec = 100000000 };
	struct io_uring_cqe *cqe;
	int res, ret;

	for (int tries = 0; (int)(__atomic_load_n(ring->cq.ktail, __ATOMIC_ACQUIRE) - want) <= 0; tries++) {
		if (tries == 100)
			return -ETIME;
		/* wait_nr counts from the head: enough to cover the one we want (100 ms a try). */
		ret = io_uring_wait_cqes(ring, &cqe, want - head + 1, &ts, NULL);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -ETIME)
			return ret;
	}
	if (!script_take(&cqe_script, &res))
		return 0;
	/* The CQ ring is mapped writable; the kernel never reads a posted CQE back. */
	ring->cq.cqes[want & ring->cq.ring_mask].res = res;
	cq_ring = ring;
	cq_rewritten = want + 1;
	return 0;
}

int __wrap_io_uring_submit(struct io_uring *ring)
{
	int ret, v;

	if (script_take(&submit_script, &v) && v < 0)
		return v;
	ret = __real_io_uring_submit(ring);
	if (ret > 0 && script_left(&cqe_script)) {
		int r = cq_rewrite_next(ring);

		if (r < 0)
			return r;
	}
	return ret;
}

int __wrap___io_uring_get_cqe(struct io_uring *ring, struct io_uring_cqe **cqe_ptr, unsigned submit,
			      unsigned wait_nr, sigset_t *sigmask)
{
	int v;

	if (wait_nr > 0 && script_take(&wait_script, &v) && v < 0)
		return v;
	return __real___io_uring_get_cqe(ring, cqe_ptr, submit, wait_nr, sigmask);
}

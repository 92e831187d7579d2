/* SPDX-License-Identifier: MIT */
/* Faults on demand in the io_uring engine's calls into liburing (wrapped at link time): failed submits, rewritten completions, interrupted waits. */
#ifndef VMM_BLK_URING_FAULT_H
#define VMM_BLK_URING_FAULT_H

/*
 * Link with -Wl,--wrap=io_uring_submit,--wrap=__io_uring_get_cqe. Each
 * script is copied (n <= URING_FAULT_MAX) and replaces the last one of its
 * kind; the scripts are read and written atomically, so a test may set them
 * while another thread (a device's I/O thread) drives the ring.
 *
 * uring_fault_submit: the next n calls to io_uring_submit return rets[i]
 * without submitting anything when rets[i] < 0 (the SQEs stay queued, as
 * after a failed io_uring_enter), and submit normally when it is 0.
 *
 * uring_fault_cqe: the next n completions the engine reads carry res[i]
 * instead of what the kernel posted. A real submit, while this script has
 * entries left, waits for the completion that comes next in the CQ and
 * rewrites its res in the ring (the CQ is shared memory the application may
 * write), before the engine can look at it. So call it with one request in
 * flight at a time, and only for requests that complete by themselves.
 *
 * A wait for a completion that does not come within 10 s makes that submit
 * return -ETIME.
 *
 * uring_fault_wait: the next n waits (__io_uring_get_cqe with wait_nr > 0,
 * as io_uring_wait_cqe makes when the CQ is empty) return rets[i] at once.
 */
#define URING_FAULT_MAX 32
void uring_fault_submit(const int *rets, unsigned int n);
void uring_fault_cqe(const int *res, unsigned int n);
void uring_fault_wait(const int *rets, unsigned int n);
/* Empty every script (a test's teardown: what a failed test left must not reach the next). */
void uring_fault_clear(void);

/* How many entries of each script were used since it was set. */
unsigned int uring_fault_submit_used(void);
unsigned int uring_fault_cqe_used(void);
unsigned int uring_fault_wait_used(void);

#endif

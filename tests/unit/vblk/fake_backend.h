/* SPDX-License-Identifier: MIT */
/* A fake block backend for the virtio-blk tests: records every call, completes only when the test says, over an in-memory disk, under the backend contract. */
#ifndef VMM_FAKE_BACKEND_H
#define VMM_FAKE_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "blk_backend.h"

#define FAKE_MAX_CALLS 256
#define FAKE_MAX_PENDING 64

struct fake_call {
	enum blk_op op;
	uint64_t offset;
	uint64_t len;
	unsigned int iovcnt;
	bool durable;
	bool unmap;
};

struct fake_backend {
	struct blk_backend be;
	int efd;
	uint8_t *disk;
	uint64_t disk_size;
	struct fake_call calls[FAKE_MAX_CALLS];   /* accepted submits, in order */
	unsigned int ncalls;
	unsigned int submit_attempts;
	unsigned int kicks;           /* kick calls, failed ones included */
	unsigned int fail_kicks;      /* the next this many kicks return -EAGAIN (as io_uring_submit can) */
	unsigned int kicked;          /* of the calls, how many a successful kick handed over */
	int poll_fails;               /* nonzero: the next poll completes what is done, then returns this (as
	                               * io_uring's does when its kick of a request's next step fails) */
	unsigned int capacity;        /* submit returns -EAGAIN at this many pending; 0: unlimited */
	int fail_next_submit;         /* nonzero: the next submit returns this */
	struct blk_req *pending[FAKE_MAX_PENDING];   /* submitted, not yet finished */
	uint64_t moved[FAKE_MAX_PENDING];            /* READ/WRITE: bytes of pending[i] moved so far */
	unsigned int npending;
	struct blk_req *done[FAKE_MAX_PENDING];      /* finished, waiting for poll */
	int done_res[FAKE_MAX_PENDING];
	unsigned int ndone;
	bool destroyed_with_pending;
	/*
	 * Broadcast after every submit, kick and poll. The I/O thread makes those
	 * calls with the device lock held, so a test waits on this with that lock
	 * (fx_wait_more) and sees each call's effects whole.
	 */
	pthread_cond_t changed;
};

/* A fake over a zeroed disk of disk_size bytes; NULL on allocation failure. Freed by blk_backend_destroy. */
struct fake_backend *fake_backend_new(uint64_t disk_size);

/*
 * Let pending request i (0 = oldest) progress by res, as a real backend
 * would under the contract of blk_complete_fn: complete() sees all of a
 * READ/WRITE's bytes or -errno. For a READ/WRITE, res > 0 moves that many
 * more bytes between the disk and the iov; while bytes are left the request
 * stays pending (a short transfer, resumed), and once none are it completes
 * with its length. res < 0 completes it with that error (after whatever was
 * moved). For the other ops res is 0 or -errno. A completion is delivered by
 * the next poll. Returns the blk_req. A res that breaks the contract (0 or
 * more than what is left of a READ/WRITE) fails the test.
 */
struct blk_req *fake_backend_finish(struct fake_backend *fb, unsigned int i, int res);
/* Finish every pending request in full (in submission order). */
void fake_backend_finish_all(struct fake_backend *fb);

#endif

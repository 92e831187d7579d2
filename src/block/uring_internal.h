/* SPDX-License-Identifier: MIT */
/* The io_uring engine's state, shared by its two sources: uring.c runs requests, uring_setup.c makes and frees the ring. Not for other modules. */
#ifndef VMM_URING_INTERNAL_H
#define VMM_URING_INTERNAL_H

#ifndef VMM_MODULE_BLOCK
#error "uring_internal.h is private to src/block: include blk_backend.h"
#endif

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "blk_internal.h"

/* The most requests a ring is made for (blk_uring_create). */
#define URING_MAX_DEPTH 4096u
/* How many times a request whose completion says -EAGAIN or -EINTR goes back on the SQ before that result stands. */
#define URING_RETRY_MAX 16
/* Index of the image in the registered file table (the only file registered). */
#define URING_FILE_INDEX 0

/* One request in flight: preallocated, so the fast path never allocates. */
struct uring_slot {
	struct blk_req *req;
	uint64_t total;         /* READ/WRITE: the request's byte count */
	uint64_t done;          /* bytes transferred so far (short reads/writes are resubmitted; WRITE_ZEROES' WRITE step too) */
	uint64_t need;          /* bytes that must be transferred before it is complete */
	struct blk_bounce bounce;
	struct iovec bounce_iov;
	struct iovec *rest;     /* remainder iovecs after a short transfer (slow path, kept) */
	unsigned int rest_cap;
	bool bounced;
	bool rmw;
	uint8_t retries;        /* -EAGAIN / -EINTR completions put back on the SQ (<= URING_RETRY_MAX) */               /* holds the read-modify-write barrier */
	enum blk_zero_step zero_step;  /* WRITE_ZEROES: the step on the SQ */
	int inline_res;         /* an inline write's result, until poll() reaps it */
	struct uring_slot *next_inline;  /* on inline_q (to write in kick) or done_q (written, to reap) */
};

/* A FIFO of slots chained through next_inline. */
struct uring_slot_list {
	struct uring_slot *head, *tail;
};

struct blk_uring {
	struct blk_backend be;  /* first: the ops receive &be */
	struct io_uring ring;
	struct blk_geom geom;
	int efd;
	bool need_enable;       /* created IORING_SETUP_R_DISABLED: enable on the first kick */
	struct blk_zero_host zero_host;  /* what the filesystem's fallocate has refused */
	bool rmw_barrier;       /* an unaligned O_DIRECT write is in flight: admit nothing else */
	bool taskrun_flag;      /* created TASKRUN_FLAG: the kernel says in the SQ flags when task work waits */
	unsigned int depth;
	unsigned int inflight;
	uint64_t bounce_bytes;  /* in the bounce buffers of the slots in flight */
	unsigned int nfree;
	unsigned int *free_slots;
	struct uring_slot *slots;
	struct uring_slot_list inline_q;  /* buffered writes kick() does itself */
	struct uring_slot_list done_q;    /* inline writes done, for poll() to reap */
};

/* What the backend's ops point to (uring.c). */
extern const struct blk_backend_ops uring_ops;

/* Free u's memory: its slots (bounce buffers, remainder iovecs), the slot tables, u. The ring is not touched. */
void uring_free(struct blk_uring *u);

#endif

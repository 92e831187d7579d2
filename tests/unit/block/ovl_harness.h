/* SPDX-License-Identifier: MIT */
/*
 * What the overlay engine's unit tests and its fuzz target share: the
 * reference model (a plain in-memory disk), a shuffling inner engine that
 * finishes requests in a chosen order, and a runner that drives a batch of
 * requests through a backend and checks it against the model.
 */
#ifndef VMM_OVL_HARNESS_H
#define VMM_OVL_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "blk_backend.h"

/*
 * The model: the disk as a plain file would hold it. known[i] is 0 where a
 * failed write left byte i undefined (a plain file promises nothing there).
 * DISCARD and WRITE_ZEROES both leave zeros, the engine's rule.
 */
struct ovl_model {
	uint64_t size;
	uint8_t *bytes;
	uint8_t *known;
};

/* A model of size bytes holding blk_test_pattern(seed) (seed 0: zeros). 0 or -ENOMEM. */
int ovl_model_init(struct ovl_model *m, uint64_t size, unsigned int seed);
void ovl_model_free(struct ovl_model *m);

/*
 * How the shuffling engine behaves. While on, every inner engine the overlay
 * engine makes (blk_file_backend_create, wrapped at link time) is one: it
 * holds what it is given, and each poll() does a random number of the held
 * requests, in a random order, with plain syscalls on the file, and completes
 * them. So requests in flight land and complete out of order.
 */
struct ovl_shuffle_ctl {
	bool on;
	uint64_t rng;              /* xorshift state; not 0 */
	unsigned int eagain_pct;   /* submit refuses with -EAGAIN, when it holds a request */
	unsigned int fail_pct;     /* a request fails: a WRITE moves part of its bytes, then -ENOSPC */
	unsigned int depth;        /* most requests held (0: the depth asked for) */
};
extern struct ovl_shuffle_ctl ovl_shuffle;

/* The next random number of the shuffling engine's source. */
uint64_t ovl_rand(void);

/* One request of a batch, with its buffer. */
struct ovl_op {
	enum blk_op op;
	uint64_t off, len;
	uint8_t *buf;               /* READ/WRITE: len bytes */
	struct iovec iov[3];
	struct blk_req req;
	int res;
	unsigned int calls;         /* complete() calls seen */
};

/* Fill op (buf from malloc) as a request of off/len; iovs split at up to two points chosen by split. 0 or -ENOMEM. */
int ovl_op_make(struct ovl_op *op, enum blk_op kind, uint64_t off, uint64_t len, uint32_t split, unsigned int seed);
void ovl_op_free(struct ovl_op *op);

/* Whether [off, off + len) overlaps any op of ops[0..n). */
bool ovl_ops_overlap(const struct ovl_op *ops, unsigned int n, uint64_t off, uint64_t len);

/* A backend and what its complete() saw. */
struct ovl_runner {
	struct blk_backend *be;
	unsigned int completed;
	bool bad;                   /* complete() got a request twice, or one it did not know */
};

/* The complete() of backends a runner drives (ctx: the runner). */
void ovl_runner_complete(void *ctx, struct blk_req *req, int res);

/*
 * Run ops[0..n) (pairwise apart: no byte in two of them) through r's backend
 * all at once, as far as it takes them, and wait for all. Then check each
 * against the model and apply the writes to it: a READ must return its
 * bytes as the model holds them (where known); a failed request is allowed
 * only when allow_fail (its range becomes unknown). 0, or -1 with why.
 */
int ovl_batch_run(struct ovl_runner *r, struct ovl_model *m, struct ovl_op *ops, unsigned int n, bool allow_fail,
		  char *why, size_t whylen);

/* Read the whole disk through the backend and compare with the model. 0, or -1 with why. */
int ovl_check_all(struct ovl_runner *r, struct ovl_model *m, char *why, size_t whylen);

#endif

/* SPDX-License-Identifier: MIT */
/* Short transfers on demand for the block backend tests: the engines' preadv/pwritev2 calls, wrapped at link time. */
#ifndef VMM_BLK_SHORT_IO_H
#define VMM_BLK_SHORT_IO_H

/*
 * The next n calls the engines make to preadv or pwritev2 (counted
 * together, in order) each move at most caps[i] bytes: a cap of 0 returns 0
 * (no progress), a negative cap fails the call with errno -cap. Later calls
 * pass through whole. caps is copied (n <= SHORT_IO_MAX). Not thread-safe:
 * set it on the thread that kicks the backend.
 */
#define SHORT_IO_MAX 8
void short_io_script(const long *caps, unsigned int n);

/* Calls to preadv or pwritev2 since the last short_io_script, scripted or not. */
unsigned int short_io_calls(void);

#endif

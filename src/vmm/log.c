/* SPDX-License-Identifier: MIT */
/* The core's -v output, through main's hook: set-up times and the guest accesses nothing serves (capped). */
#include <stdarg.h>
#include <time.h>

#include "vm_internal.h"

/*
 * -v logs at most this many unhandled guest accesses, then says it stops: a
 * guest that polls a port nobody serves would otherwise flood stderr.
 */
#define VM_UNHANDLED_LOG_MAX 256u

uint64_t vm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vm_debug(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	if (!vm->log.verbose || !vm->log.fn)
		return;
	va_start(ap, fmt);
	vm->log.fn(vm->log.ctx, fmt, ap);
	va_end(ap);
}

void vm_debug_unhandled(struct vm *vm, const char *fmt, ...)
{
	uint64_t n;
	va_list ap;

	if (!vm->log.verbose || !vm->log.fn)
		return;
	n = atomic_fetch_add(&vm->unhandled, 1);
	if (n > VM_UNHANDLED_LOG_MAX)
		return;
	if (n == VM_UNHANDLED_LOG_MAX) {
		vm_debug(vm, "more than %u unhandled guest accesses: not logging any more of them",
			 VM_UNHANDLED_LOG_MAX);
		return;
	}
	va_start(ap, fmt);
	vm->log.fn(vm->log.ctx, fmt, ap);
	va_end(ap);
}

void vm_debug_step(struct vm *vm, const char *step)
{
	vm_debug(vm, "set-up: %s done at %.3f ms", step, (vm_now_ns() - vm->t_start_ns) / 1e6);
}

/* SPDX-License-Identifier: MIT */
/* Every thread vm_run starts enters its sandbox filter, and main its own, before a vCPU runs the guest. */
#include "sandbox.h"
#include "vm_internal.h"

/* Enter role's filter on this thread and count it, with its error. 0 or -errno. */
static int vm_confine_self(struct vm *vm, enum sandbox_role role)
{
	int r = sandbox_enter(vm->sb, role);

	pthread_mutex_lock(&vm->vcpu_lock);
	vm->confined++;
	if (r < 0 && !vm->confine_err)
		vm->confine_err = r;
	pthread_cond_broadcast(&vm->confine_cond);
	pthread_mutex_unlock(&vm->vcpu_lock);
	return r;
}

int vm_confine_io(void *ctx)
{
	return vm_confine_self(ctx, SANDBOX_ROLE_IO);
}

int vm_confine_vcpu(struct vm *vm)
{
	int r = vm_confine_self(vm, SANDBOX_ROLE_VCPU);

	pthread_mutex_lock(&vm->vcpu_lock);
	while (!vm->go)
		pthread_cond_wait(&vm->confine_cond, &vm->vcpu_lock);
	pthread_mutex_unlock(&vm->vcpu_lock);
	return r;
}

void vm_confine_all(struct vm *vm, unsigned int nthreads)
{
	int r;

	pthread_mutex_lock(&vm->vcpu_lock);
	while (vm->confined < nthreads)
		pthread_cond_wait(&vm->confine_cond, &vm->vcpu_lock);
	r = vm->confine_err;
	pthread_mutex_unlock(&vm->vcpu_lock);
	if (!r)
		r = sandbox_enter(vm->sb, SANDBOX_ROLE_MAIN);
	if (r < 0) {
		struct vm_exit e = { .kind = VM_EXIT_ERROR, .err = r, .what = "entering the sandbox" };

		vm_request_exit(vm, &e);
	}
	pthread_mutex_lock(&vm->vcpu_lock);
	vm->go = true;
	pthread_cond_broadcast(&vm->confine_cond);
	pthread_mutex_unlock(&vm->vcpu_lock);
}

void vm_sandbox_set(struct vm *vm, const struct sandbox *sb)
{
	vm->sb = sb;
}

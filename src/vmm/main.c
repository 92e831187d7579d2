// SPDX-License-Identifier: MIT
/* vmm entry point: the only place that prints errors and chooses exit statuses. */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "vmm: not yet implemented\n");
	return 1;
}

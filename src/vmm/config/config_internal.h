/* SPDX-License-Identifier: MIT */
/* What vm_config.c offers the INI and command-line rooms for filling struct vm_config; not part of the module's interface. */
#ifndef VMM_CONFIG_INTERNAL_H
#define VMM_CONFIG_INTERNAL_H

#ifndef VMM_MODULE_CONFIG
#error "config_internal.h is private to src/vmm/config: include vm_config.h"
#endif

#include "vm_config.h"

/* Replace *slot with a copy of s (NULL s: clear). 0 or -ENOMEM. */
int config_str_set(char **slot, const char *s);

/* Drive with this id, or -1. */
int config_drive_find(const struct vm_config *cfg, const char *id);
/* Free a drive's strings and reset it to the defaults. */
void config_drive_clear(struct vm_drive_config *d);

/* Remember an INI name in cfg->sources; returns the stored copy or NULL (-ENOMEM). */
const char *config_source_add(struct vm_config *cfg, const char *name);

#endif

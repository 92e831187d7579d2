/* SPDX-License-Identifier: MIT */
/* What the INI room offers the rest of the config module: reading a --config file, and inih's line limit. */
#ifndef VMM_CONFIG_INI_INTERNAL_H
#define VMM_CONFIG_INI_INTERNAL_H

#ifndef VMM_MODULE_CONFIG
#error "config_ini_internal.h is private to src/vmm/config: include vm_config.h"
#endif

#include <stddef.h>

#include "vm_config.h"

/*
 * Read and merge one INI file. opt names the option it came from for
 * messages ("--config": "--config PATH: No such file or directory (check the
 * path)"), or NULL ("PATH: cannot read: ..."). Returns as vm_config_load_file,
 * and -EINVAL for an empty path.
 */
int config_file_load(struct vm_config *cfg, const char *opt, const char *path, struct vm_config_error *err);

/* The longest line (newline not counted) the INI reader takes; longer ones are refused. */
size_t config_ini_line_max(void);

#endif

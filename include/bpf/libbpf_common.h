/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bpflink compatibility header: LIBBPF_API and the LIBBPF_OPTS macros.
 * Everything bpflink implements is declared in <bpflink.h>. */
#ifndef __BPFLINK_COMPAT_LIBBPF_COMMON_H
#define __BPFLINK_COMPAT_LIBBPF_COMMON_H

#include <string.h>
#include "libbpf_version.h"
#include "../bpflink.h"

#endif /* __BPFLINK_COMPAT_LIBBPF_COMMON_H */

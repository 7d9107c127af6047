/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bpflink compatibility header: sources written for libbpf's <bpf/libbpf.h> compile unchanged.
 * Everything bpflink implements is declared in <bpflink.h>. */
#ifndef __BPFLINK_COMPAT_LIBBPF_H
#define __BPFLINK_COMPAT_LIBBPF_H

/* What <bpf/libbpf.h> brings in, for sources that rely on it transitively. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include "libbpf_common.h"
#include "libbpf_version.h"
#include "../bpflink.h"

#endif /* __BPFLINK_COMPAT_LIBBPF_H */

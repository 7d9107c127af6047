/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bpflink compatibility header: the bpf(2) layer of libbpf's <bpf/bpf.h>.
 * Everything bpflink implements is declared in <bpflink.h>. */
#ifndef __BPFLINK_COMPAT_BPF_H
#define __BPFLINK_COMPAT_BPF_H

#include "libbpf_common.h"
#include "../bpflink.h"

#endif /* __BPFLINK_COMPAT_BPF_H */

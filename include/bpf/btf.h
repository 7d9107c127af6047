/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bpflink compatibility header: the BTF API of libbpf's <bpf/btf.h>.
 * Everything bpflink implements is declared in <bpflink.h>. */
#ifndef __BPFLINK_COMPAT_BTF_H
#define __BPFLINK_COMPAT_BTF_H

#include <stdarg.h>
#include <linux/types.h>
#include "libbpf_common.h"
#include "../bpflink.h"

#endif /* __BPFLINK_COMPAT_BTF_H */

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

/* Iterate over an object's programs and maps (libbpf.h's macros). */
#define bpf_object__for_each_program(pos, obj)			\
	for ((pos) = bpf_object__next_program((obj), NULL);	\
	     (pos) != NULL;					\
	     (pos) = bpf_object__next_program((obj), (pos)))

#define bpf_object__for_each_map(pos, obj)			\
	for ((pos) = bpf_object__next_map((obj), NULL);		\
	     (pos) != NULL;					\
	     (pos) = bpf_object__next_map((obj), (pos)))

/* Values of a map definition's `pinning` attribute. */
enum libbpf_pin_type {
	LIBBPF_PIN_NONE,
	/* pin maps by name (in /sys/fs/bpf by default) */
	LIBBPF_PIN_BY_NAME,
};

#endif /* __BPFLINK_COMPAT_LIBBPF_H */

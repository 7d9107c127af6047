/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bpflink compatibility header: the libbpf API version bpflink implements.
 * Must agree with libbpf_major_version()/libbpf_minor_version() (checked by capi-tests). */
#ifndef __BPFLINK_COMPAT_LIBBPF_VERSION_H
#define __BPFLINK_COMPAT_LIBBPF_VERSION_H

#ifndef LIBBPF_MAJOR_VERSION
#define LIBBPF_MAJOR_VERSION 1
#define LIBBPF_MINOR_VERSION 1
#endif

#endif /* __BPFLINK_COMPAT_LIBBPF_VERSION_H */

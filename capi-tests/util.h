/* Helpers shared by the C programs of capi-tests: the harness tests (test_*.c) and the
 * differential tools in diff/ (built against both libbpf and bpflink). */
#ifndef CAPI_UTIL_H
#define CAPI_UTIL_H

#include <bpf/libbpf.h>

#include <dirent.h>
#include <stdarg.h>

/* The number of open file descriptors of this process, or -1 without /proc; tests compare it
 * before and after a call to prove that the call leaked no fd. */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A libbpf print callback that drops every message (for output that must not vary). */
static inline int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

#endif

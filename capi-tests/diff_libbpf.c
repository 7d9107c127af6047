/* Built against the SYSTEM libbpf (<bpf/libbpf.h> from /usr/include, -lbpf, -z now) and run
 * twice by run.sh: once as is, once with LD_LIBRARY_PATH pointing at bpflink's compat
 * libbpf.so.1. The first line says which implementation was loaded; every other line must be
 * identical between the two runs.
 * usage: diff_libbpf */
#define _GNU_SOURCE
#include <bpf/libbpf.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void show_strerror(int err, size_t size)
{
	char buf[256];
	int rc;

	memset(buf, '#', sizeof(buf));
	buf[sizeof(buf) - 1] = '\0';
	errno = 12345;
	rc = libbpf_strerror(err, size ? buf : NULL, size);
	printf("strerror(%d, size %zu) = %d errno %d \"%.*s\" next-byte %d\n", err, size, rc, errno,
	       (int)(size < sizeof(buf) ? size : sizeof(buf)), buf,
	       size < sizeof(buf) ? buf[size] : -1);
}

static void show_get_error(const char *what, const void *ptr, int errno_before)
{
	long rc;

	errno = errno_before;
	rc = libbpf_get_error(ptr);
	printf("get_error(%s) = %ld errno %d\n", what, rc, errno);
}

int main(void)
{
	static const int codes[] = { 0, 1, -1, 2, -22, 133, 134, 200, 3999, 4000, -4001, 4004, 4006,
				     4013, 4014, -4014, 4095, 5000, 100000, -2147483647 };
	static const size_t sizes[] = { 0, 1, 4, 16, 255 };
	size_t i, j;
	int dummy;

	printf("implementation %s\n", dlsym(RTLD_DEFAULT, "bpflink_version") ? "bpflink" : "libbpf");
	printf("version %u.%u %s\n", libbpf_major_version(), libbpf_minor_version(),
	       libbpf_version_string());
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++)
			show_strerror(codes[i], sizes[j]);

	show_get_error("valid", &dummy, 0);
	show_get_error("ERR_PTR(-EINVAL)", (void *)(intptr_t)-EINVAL, 0);
	show_get_error("ERR_PTR(-4095)", (void *)(intptr_t)-4095, 0);
	show_get_error("-4096", (void *)(intptr_t)-4096, 0);
	show_get_error("NULL", NULL, EAGAIN);
	printf("set_strict_mode = %d %d\n", libbpf_set_strict_mode(LIBBPF_STRICT_ALL),
	       libbpf_set_strict_mode(LIBBPF_STRICT_NONE));
	printf("num_possible_cpus = %d %d\n", libbpf_num_possible_cpus(), libbpf_num_possible_cpus());
	printf("set_print returns a default printer: %d\n", libbpf_set_print(NULL) != NULL);
	return 0;
}

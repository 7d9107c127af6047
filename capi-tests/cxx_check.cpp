// The headers work from C++: extern "C" linkage (a mangled name would fail to link) and the
// libbpf_print_fn_t signature accepting a C++ callback.
#include <bpflink.h>
#include <bpf/libbpf.h>

#include <cstdio>
#include <cstring>

static int quiet(enum libbpf_print_level, const char *, va_list)
{
	return 0;
}

int main()
{
	libbpf_print_fn_t old = libbpf_set_print(quiet);
	char buf[64];
	int rc = libbpf_strerror(-LIBBPF_ERRNO__FORMAT, buf, sizeof(buf));

	libbpf_set_print(old);
	if (rc != 0 || std::strcmp(buf, "BPF object format invalid") != 0 ||
	    libbpf_major_version() != LIBBPF_MAJOR_VERSION) {
		std::printf("C++ program got rc %d \"%s\"\n", rc, buf);
		return 1;
	}
	return 0;
}

/* Sources written for libbpf compile unchanged against bpflink's compat headers.
 * Built with only `pkg-config --cflags bpflink`, so <bpf/...> must resolve to bpflink's
 * headers, not /usr/include/bpf. */
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf_common.h>
#include <bpf/libbpf_version.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "harness.h"

#ifndef __BPFLINK_COMPAT_LIBBPF_H
#error "<bpf/libbpf.h> did not resolve to bpflink's compat header"
#endif
#ifndef __BPFLINK_COMPAT_BPF_H
#error "<bpf/bpf.h> did not resolve to bpflink's compat header"
#endif

/* Shaped like a libbpf opts struct, with padding after a bool and a trailing size_t :0. */
struct demo_opts {
	size_t sz;
	bool flag;
	int count;
	long value;
	size_t :0;
};

static int all_bytes_zero(const void *p, size_t from, size_t to)
{
	const unsigned char *b = p;

	for (; from < to; from++)
		if (b[from])
			return 0;
	return 1;
}

static void test_opts_macro_sets_size_and_zeroes_everything_else(void)
{
	LIBBPF_OPTS(demo_opts, opts, .value = 42);

	CHECK_EQ_INT(opts.sz, sizeof(struct demo_opts));
	CHECK_EQ_INT(opts.flag, 0);
	CHECK_EQ_INT(opts.count, 0);
	CHECK_EQ_INT(opts.value, 42);
	/* The padding after `flag` must be zero too: bpflink checks unknown bytes. */
	CHECK(all_bytes_zero(&opts, offsetof(struct demo_opts, flag) + 1, offsetof(struct demo_opts, count)));
}

static void test_declare_opts_is_the_same_macro(void)
{
	DECLARE_LIBBPF_OPTS(demo_opts, opts, .count = 3);

	CHECK_EQ_INT(opts.sz, sizeof(struct demo_opts));
	CHECK_EQ_INT(opts.count, 3);
}

static void test_opts_reset_reinitialises(void)
{
	LIBBPF_OPTS(demo_opts, opts, .flag = true, .value = 9);

	opts.sz = 1;
	LIBBPF_OPTS_RESET(opts, .count = 5);
	CHECK_EQ_INT(opts.sz, sizeof(struct demo_opts));
	CHECK_EQ_INT(opts.flag, 0);
	CHECK_EQ_INT(opts.count, 5);
	CHECK_EQ_INT(opts.value, 0);
}

static void test_compat_version_macros_match_library(void)
{
	CHECK_EQ_INT(LIBBPF_MAJOR_VERSION, libbpf_major_version());
	CHECK_EQ_INT(LIBBPF_MINOR_VERSION, libbpf_minor_version());
}

static void test_kernel_enums_come_from_linux_bpf_h(void)
{
	enum bpf_prog_type type = BPF_PROG_TYPE_XDP;
	char buf[64];

	CHECK_EQ_INT(type, 6);
	CHECK_EQ_INT(libbpf_strerror(-LIBBPF_ERRNO__RELOC, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "Relocation failed");
}

static const struct capi_test tests[] = {
	TEST_ENTRY(test_opts_macro_sets_size_and_zeroes_everything_else),
	TEST_ENTRY(test_declare_opts_is_the_same_macro),
	TEST_ENTRY(test_opts_reset_reinitialises),
	TEST_ENTRY(test_compat_version_macros_match_library),
	TEST_ENTRY(test_kernel_enums_come_from_linux_bpf_h),
};

int main(void)
{
	return RUN_TESTS("compat", tests);
}

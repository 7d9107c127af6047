/* Library-wide functions and bpflink_inspect_json, built against <bpflink.h>.
 * usage: test_foundation BPF_OBJECT EXPECTED_NAME...  (names the JSON report must mention)
 * BPFLINK_EXPECTED_VERSION is defined by run.sh from `pkg-config --modversion bpflink`. */
#include <bpflink.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static const char *bpf_object_path;
static char **expected_names;
static int expected_count;

/* Captures what the library prints. */
static char captured[4096];
static const char *captured_fmt;
static int captured_level = -1;
static int captured_calls;

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t used = strlen(captured);

	captured_fmt = fmt;
	captured_level = level;
	captured_calls++;
	if (used < sizeof(captured))
		vsnprintf(captured + used, sizeof(captured) - used, fmt, ap);
	return 0;
}

static void capture_start(void)
{
	captured[0] = '\0';
	captured_fmt = NULL;
	captured_level = -1;
	captured_calls = 0;
	libbpf_set_print(capture_print);
}

static void test_version_numbers_match_headers(void)
{
	char expected[32];

	CHECK_EQ_INT(libbpf_major_version(), LIBBPF_MAJOR_VERSION);
	CHECK_EQ_INT(libbpf_minor_version(), LIBBPF_MINOR_VERSION);
	snprintf(expected, sizeof(expected), "v%d.%d", LIBBPF_MAJOR_VERSION, LIBBPF_MINOR_VERSION);
	CHECK_EQ_STR(libbpf_version_string(), expected);
}

static void test_bpflink_version_matches_pkgconfig(void)
{
	CHECK_EQ_STR(bpflink_version(), BPFLINK_EXPECTED_VERSION);
}

static void test_strerror_describes_errno_like_libc(void)
{
	char buf[128];

	CHECK_EQ_INT(libbpf_strerror(-ENOENT, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, strerror(ENOENT));
	CHECK_EQ_INT(libbpf_strerror(EPERM, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, strerror(EPERM));
}

static void test_strerror_describes_libbpf_codes(void)
{
	char buf[128];

	CHECK_EQ_INT(libbpf_strerror(-LIBBPF_ERRNO__FORMAT, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "BPF object format invalid");
	CHECK_EQ_INT(libbpf_strerror(LIBBPF_ERRNO__INTERNAL, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "Internal error in libbpf");
	CHECK_EQ_INT(libbpf_strerror(__LIBBPF_ERRNO__END, buf, sizeof(buf)), -ENOENT);
	CHECK(strstr(buf, "Unknown libbpf error") == buf);
}

static void test_strerror_truncates_and_terminates(void)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	CHECK_EQ_INT(libbpf_strerror(-LIBBPF_ERRNO__VERIFY, buf, 5), -ERANGE);
	CHECK_EQ_STR(buf, "Kern");
	CHECK(buf[5] == 'x');
}

static void test_strerror_rejects_missing_buffer(void)
{
	char buf[4];

	errno = 0;
	CHECK_EQ_INT(libbpf_strerror(ENOENT, NULL, 10), -EINVAL);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK_EQ_INT(libbpf_strerror(ENOENT, buf, 0), -EINVAL);
}

static void test_get_error_decodes_pointers(void)
{
	int x = 0;

	CHECK_EQ_INT(libbpf_get_error(&x), 0);
	errno = 0;
	CHECK_EQ_INT(libbpf_get_error((void *)(intptr_t)-ENOENT), -ENOENT);
	CHECK_EQ_INT(errno, ENOENT);
	errno = EPERM;
	CHECK_EQ_INT(libbpf_get_error(NULL), -EPERM);
	/* The highest non-error address. */
	CHECK_EQ_INT(libbpf_get_error((void *)(intptr_t)-4096), 0);
}

static void test_strict_mode_is_accepted(void)
{
	CHECK_EQ_INT(libbpf_set_strict_mode(LIBBPF_STRICT_ALL), 0);
	CHECK_EQ_INT(libbpf_set_strict_mode(LIBBPF_STRICT_NONE), 0);
}

static void test_num_possible_cpus_matches_sysfs(void)
{
	/* Independent count: the highest CPU in the possible list + 1 (the list is contiguous
	 * from 0 on every x86 kernel). */
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	char line[256], *last;
	int highest;

	CHECK(f != NULL);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	fclose(f);
	last = strrchr(line, '-');
	if (!last)
		last = strrchr(line, ',');
	highest = atoi(last ? last + 1 : line);
	CHECK_EQ_INT(libbpf_num_possible_cpus(), highest + 1);
	CHECK_EQ_INT(libbpf_num_possible_cpus(), highest + 1); /* cached path */
}

static void test_set_print_returns_previous_callback(void)
{
	libbpf_print_fn_t original = libbpf_set_print(capture_print);

	CHECK(original != NULL); /* the default printer */
	CHECK(libbpf_set_print(NULL) == capture_print);
	CHECK(libbpf_set_print(original) == NULL);
	CHECK(libbpf_set_print(original) == original);
}

static void test_errors_are_logged_to_the_print_callback(void)
{
	libbpf_print_fn_t original = libbpf_set_print(NULL);
	char *json = NULL;
	int rc;

	capture_start();
	rc = bpflink_inspect_json(NULL, &json);
	libbpf_set_print(original);
	CHECK_EQ_INT(rc, -EINVAL);
	CHECK_EQ_INT(captured_level, LIBBPF_WARN);
	CHECK(strstr(captured, "bpflink_inspect_json") != NULL);
	CHECK(strstr(captured, "path is NULL") != NULL);
	CHECK(captured[strlen(captured) - 1] == '\n');
}

static void test_messages_are_not_format_strings(void)
{
	libbpf_print_fn_t original = libbpf_set_print(NULL);
	char *json = NULL;
	int rc;

	capture_start();
	rc = bpflink_inspect_json("/nonexistent/%s%n%x%p.o", &json);
	libbpf_set_print(original);
	CHECK_EQ_INT(rc, -ENOENT);
	CHECK_EQ_STR(captured_fmt, "%s");
	CHECK(strstr(captured, "/nonexistent/%s%n%x%p.o") != NULL);
}

static void test_null_print_callback_silences_output(void)
{
	libbpf_print_fn_t original = libbpf_set_print(NULL);
	char *json = NULL;

	CHECK_EQ_INT(bpflink_inspect_json(NULL, &json), -EINVAL);
	libbpf_set_print(original);
}

static void test_inspect_rejects_null_arguments(void)
{
	char *json = (char *)"untouched";

	errno = 0;
	CHECK_EQ_INT(bpflink_inspect_json(NULL, &json), -EINVAL);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK_EQ_STR(json, "untouched");
	errno = 0;
	CHECK_EQ_INT(bpflink_inspect_json(bpf_object_path, NULL), -EINVAL);
	CHECK_EQ_INT(errno, EINVAL);
}

static void test_inspect_missing_file_is_enoent(void)
{
	char *json = (char *)"untouched";

	errno = 0;
	CHECK_EQ_INT(bpflink_inspect_json("/nonexistent/dir/x.bpf.o", &json), -ENOENT);
	CHECK_EQ_INT(errno, ENOENT);
	CHECK_EQ_STR(json, "untouched");
}

static void test_inspect_non_elf_fails_cleanly(void)
{
	char *json = (char *)"untouched";
	int rc;

	errno = 0;
	rc = bpflink_inspect_json("/etc/hostname", &json);
	CHECK(rc < 0);
	CHECK_EQ_INT(errno, -rc);
	CHECK_EQ_STR(json, "untouched");
}

static void test_inspect_reports_a_real_object(void)
{
	char *json = NULL;
	int i, rc;

	rc = bpflink_inspect_json(bpf_object_path, &json);
	CHECK_EQ_INT(rc, 0);
	CHECK(json != NULL);
	CHECK(json[0] == '{');
	for (i = 0; i < expected_count; i++) {
		char quoted[256];

		snprintf(quoted, sizeof(quoted), "\"%s\"", expected_names[i]);
		if (!strstr(json, quoted))
			printf("     report lacks %s\n", quoted);
		CHECK(strstr(json, quoted) != NULL);
	}
	bpflink_free_string(json);
	bpflink_free_string(NULL);
}

static const struct capi_test tests[] = {
	TEST_ENTRY(test_version_numbers_match_headers),
	TEST_ENTRY(test_bpflink_version_matches_pkgconfig),
	TEST_ENTRY(test_strerror_describes_errno_like_libc),
	TEST_ENTRY(test_strerror_describes_libbpf_codes),
	TEST_ENTRY(test_strerror_truncates_and_terminates),
	TEST_ENTRY(test_strerror_rejects_missing_buffer),
	TEST_ENTRY(test_get_error_decodes_pointers),
	TEST_ENTRY(test_strict_mode_is_accepted),
	TEST_ENTRY(test_num_possible_cpus_matches_sysfs),
	TEST_ENTRY(test_set_print_returns_previous_callback),
	TEST_ENTRY(test_errors_are_logged_to_the_print_callback),
	TEST_ENTRY(test_messages_are_not_format_strings),
	TEST_ENTRY(test_null_print_callback_silences_output),
	TEST_ENTRY(test_inspect_rejects_null_arguments),
	TEST_ENTRY(test_inspect_missing_file_is_enoent),
	TEST_ENTRY(test_inspect_non_elf_fails_cleanly),
	TEST_ENTRY(test_inspect_reports_a_real_object),
};

int main(int argc, char **argv)
{
	const char *suite = argc > 0 && strstr(argv[0], "static") ? "foundation-static" : "foundation";

	if (argc < 2) {
		fprintf(stderr, "usage: %s BPF_OBJECT [EXPECTED_NAME...]\n", argv[0]);
		return 2;
	}
	bpf_object_path = argv[1];
	expected_names = argv + 2;
	expected_count = argc - 2;
	return RUN_TESTS(suite, tests);
}

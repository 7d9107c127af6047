/* A kernel failure injected through BPFLINK_FAULT_INJECT (src/sys/fault.rs) reaches a C
 * caller the libbpf way: bpf_object__load returns -errno with errno set (or succeeds where
 * libbpf falls back, e.g. without BTF), and closing the object leaves no fd behind.
 * run.sh / run-kernel.sh run it once per injected failure:
 *   BPFLINK_FAULT_INJECT=SPEC test_fault_env OBJ EXPECTED_RESULT
 * EXPECTED_RESULT is bpf_object__load's expected return value (0 or -errno). */
#include <bpf/libbpf.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "util.h"

static const char *obj_path;
static int expected;

static void load_result_is_the_expected_one_and_leaks_no_fd(void)
{
	int fds = count_fds(), rc, err;
	struct bpf_object *obj;

	obj = bpf_object__open_file(obj_path, NULL);
	CHECK(obj != NULL);
	errno = 0;
	rc = bpf_object__load(obj);
	err = errno;
	bpf_object__close(obj);
	CHECK_EQ_INT(rc, expected);
	if (expected < 0)
		CHECK_EQ_INT(err, -expected);
	CHECK_EQ_INT(count_fds(), fds);
}

int main(int argc, char **argv)
{
	static const struct capi_test tests[] = {
		TEST_ENTRY(load_result_is_the_expected_one_and_leaks_no_fd),
	};
	char suite[256];

	if (argc != 3 || !getenv("BPFLINK_FAULT_INJECT")) {
		fprintf(stderr, "usage: BPFLINK_FAULT_INJECT=SPEC %s OBJ EXPECTED_RESULT\n", argv[0]);
		return 2;
	}
	obj_path = argv[1];
	expected = atoi(argv[2]);
	libbpf_set_print(quiet);
	snprintf(suite, sizeof(suite), "fault-env[%s]", getenv("BPFLINK_FAULT_INJECT"));
	return RUN_TESTS(suite, tests);
}
